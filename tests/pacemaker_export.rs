//! `heartbeat --export-pacemaker` checked by Corosync's and Pacemaker's own tools (issue 16):
//! for the Debian samples, the project's test configurations, a 3-node cluster, ping + ipfail
//! and stonith_host, `crm_verify` accepts cib.xml, `crm_resource` finds every agent and
//! validates every OCF primitive's parameters inside a node, the cluster-glue plugins accept
//! the fencing parameters, and `corosync -t` accepts corosync.conf in every node's namespace.
//! Then `crm_simulate` runs the exported CIB: groups start on their home nodes, move when
//! their node fails, come back (auto_failback on) or stay (off), and move when the active
//! node loses its ping node (ipfail).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hb_tests::pacemaker::{
    cib_primitives, export_pacemaker, run_host, write_confdir, Exported, PcmkNode,
};
use hb_tests::{require_program, require_root, ConfigBuilder, Error, Lan, LanSpec, Result};

#[path = "pacemaker_export/cases.rs"]
mod cases;
use cases::{all_cases, from_builder, ping_ipfail, three_nodes, Case};

fn require_tools() -> Result<()> {
    require_root()?;
    for (program, package) in [
        ("crm_verify", "pacemaker-cli-utils"),
        ("crm_resource", "pacemaker-cli-utils"),
        ("crm_simulate", "pacemaker-cli-utils"),
        ("crm_attribute", "pacemaker-cli-utils"),
        ("corosync", "corosync"),
        ("pacemakerd", "pacemaker"),
        ("stonith", "cluster-glue"),
        ("zcat", "gzip"),
        ("crm", "crmsh"),
        ("cibadmin", "pacemaker-cli-utils"),
    ] {
        require_program(program, package)?;
    }
    Ok(())
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("hb-export-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Invalid(format!("{dir:?}: {e}")))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os(hb_tests::KEEP_ENV).is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn run(cmd: &mut Command) -> Result<std::process::Output> {
    run_host(cmd, Duration::from_secs(60))
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(what()))
    }
}

fn export(case: &Case, scratch: &Scratch) -> Result<Exported> {
    let conf = scratch.0.join(case.name).join("ha.d");
    write_confdir(&conf, &case.ha_cf, &case.authkeys, &case.haresources)?;
    export_pacemaker(&conf, &scratch.0.join(case.name).join("out"), &case.addrs)
}

/// The lsb/systemd agents MIGRATION.txt says are not installed on this host.
fn reported_missing(ex: &Exported, id: &str) -> bool {
    ex.migration
        .lines()
        .any(|l| l.contains(&format!(": {id} lsb:")) && l.contains("neither /etc/init.d/"))
}

/// Every check of the first "Done when" line for one exported configuration.
fn verify(case: &Case, ex: &Exported, lan: &Lan) -> Result<()> {
    let cib = ex.dir.join("cib.xml");
    let out = run(Command::new("crm_verify")
        .arg("--xml-file")
        .arg(&cib)
        .arg("-V"))?;
    // A CIB that enables fencing, checked before any node ever joined, gets two state
    // warnings from crm_verify (no quorum yet; unseen nodes would be fenced at start-up):
    // those and nothing else are allowed. The same CIB with its nodes online must be clean.
    let state_warning = |l: &str| {
        l.contains("due to lack of quorum")
            || l.contains("is unclean but cannot be fenced")
            || l.contains("Warnings found during check")
            || l.contains("-V may provide more details")
    };
    let fencing = ex.cib.contains("name=\"stonith-enabled\" value=\"true\"");
    let only_state = text(&out)
        .lines()
        .all(|l| l.trim().is_empty() || state_warning(l));
    check(out.status.success() || (fencing && only_state), || {
        format!(
            "{}: crm_verify rejects cib.xml:\n{}\n{}",
            case.name,
            text(&out),
            ex.cib
        )
    })?;
    let online = ex.dir.join("cib-online.xml");
    let mut sim = Command::new("crm_simulate");
    sim.arg("-x").arg(&cib).arg("-R").args(["--quorum", "1"]);
    for line in ex
        .cib
        .lines()
        .filter(|l| l.trim_start().starts_with("<node "))
    {
        let uname = line
            .split("uname=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("");
        sim.args(["--node-up", uname]);
    }
    let out = run(sim.arg("-O").arg(&online))?;
    check(out.status.success(), || {
        format!("{}: crm_simulate: {}", case.name, text(&out))
    })?;
    let out = run(Command::new("crm_verify")
        .arg("--xml-file")
        .arg(&online)
        .arg("-V"))?;
    check(out.status.success(), || {
        format!(
            "{}: crm_verify rejects cib.xml with its nodes online:\n{}",
            case.name,
            text(&out)
        )
    })?;
    let prims = ex.primitives();
    check(!prims.is_empty(), || {
        format!("{}: no primitive in\n{}", case.name, ex.cib)
    })?;
    let node = lan.node(0);
    for p in &prims {
        // Both command files configure this resource too.
        check(ex.pcs.contains(&format!("create {} ", p.id)), || {
            format!(
                "{}: {} missing in pcs-commands.sh:\n{}",
                case.name, p.id, ex.pcs
            )
        })?;
        check(
            ex.crm.contains(&format!("primitive {} {}", p.id, p.spec())),
            || {
                format!(
                    "{}: {} missing in crm-commands.txt:\n{}",
                    case.name, p.id, ex.crm
                )
            },
        )?;
        let meta = run(Command::new("crm_resource").args(["--show-metadata", &p.spec()]))?;
        if reported_missing(ex, &p.id) {
            // MIGRATION.txt says so; the agent must indeed be absent.
            check(!meta.status.success(), || {
                format!(
                    "{}: {} reported missing but crm_resource finds it",
                    case.name,
                    p.spec()
                )
            })?;
            continue;
        }
        check(meta.status.success(), || {
            format!(
                "{}: crm_resource --show-metadata {}: {}",
                case.name,
                p.spec(),
                text(&meta)
            )
        })?;
        match p.class.as_str() {
            "ocf" => {
                let mut args = vec![
                    "crm_resource".to_string(),
                    "--validate".into(),
                    "--class".into(),
                    "ocf".into(),
                    "--provider".into(),
                    p.provider.clone().unwrap_or_default(),
                    "--agent".into(),
                    p.agent.clone(),
                ];
                for (k, v) in &p.params {
                    args.push("--option".into());
                    args.push(format!("{k}={v}"));
                }
                // Inside a node: the agent checks the interfaces and tools it would use there.
                let out = node.exec(&args)?;
                check(out.status.success(), || {
                    format!(
                        "{}: {} rejected by the agent:\n{}",
                        case.name,
                        args.join(" "),
                        text(&out)
                    )
                })?;
            }
            "stonith" => {
                // crm_resource cannot run stonith agents by hand (Pacemaker 2.1.5: "Manual
                // execution of the stonith standard is unsupported") and fence_legacy has no
                // validate-all: check the names against the plugin, and run the device's
                // status through fence_legacy when it is the offline-capable null plugin.
                let plugin = p
                    .params
                    .iter()
                    .find(|(k, _)| k == "plugin")
                    .map(|(_, v)| v.clone());
                let plugin =
                    plugin.ok_or_else(|| Error::Invalid(format!("{}: no plugin", p.id)))?;
                let names = run(Command::new("stonith").args(["-t", &plugin, "-n"]))?;
                let want: Vec<String> = String::from_utf8_lossy(&names.stdout)
                    .split_whitespace()
                    .map(String::from)
                    .collect();
                let got: Vec<String> = p
                    .params
                    .iter()
                    .filter(|(k, _)| k != "plugin")
                    .map(|(k, _)| k.clone())
                    .collect();
                check(want == got, || {
                    format!(
                        "{}: {} has parameters {got:?}, plugin {plugin} wants {want:?}",
                        case.name, p.id
                    )
                })?;
                if plugin == "null" {
                    let mut stdin = String::new();
                    for (k, v) in &p.params {
                        stdin.push_str(&format!("{k}={v}\n"));
                    }
                    stdin.push_str("action=monitor\n");
                    let out =
                        node.exec(&["sh", "-c", &format!("printf '%s' '{stdin}' | fence_legacy")])?;
                    check(out.status.success(), || {
                        format!(
                            "{}: fence_legacy refuses {}:\n{}",
                            case.name,
                            p.id,
                            text(&out)
                        )
                    })?;
                }
            }
            // lsb/systemd agents take no parameters and have no validate action
            // (`crm_resource --validate --class lsb` answers "unimplemented feature"): the
            // meta-data lookup above is their check.
            _ => {}
        }
    }
    let nodes = ex.corosync_conf.matches("nodeid:").count();
    for i in 0..nodes {
        let pn = PcmkNode::new(lan.node(i))?;
        pn.install(ex)?;
        let out = pn.exec(&["corosync", "-t"], Duration::from_secs(20))?;
        check(out.status.success(), || {
            let addrs = pn
                .exec(&["ip", "-o", "addr"], Duration::from_secs(10))
                .map(|o| text(&o))
                .unwrap_or_default();
            format!(
                "{}: corosync -t on {} rejects corosync.conf:\n{}\n{}\naddresses:\n{addrs}",
                case.name,
                lan.node(i).name(),
                text(&out),
                ex.corosync_conf
            )
        })?;
    }
    Ok(())
}

/// The `rsc_location` ids and the `name="value"` of an nvpair of a CIB text.
fn locations(cib: &str) -> Vec<String> {
    let mut ids: Vec<String> = cib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<rsc_location id=\""))
        .filter_map(|r| r.split('"').next())
        .map(String::from)
        .collect();
    ids.sort();
    ids
}

fn nvpair_value(cib: &str, name: &str) -> Option<String> {
    let key = format!("name=\"{name}\" value=\"");
    let line = cib.lines().find(|l| l.contains(&key))?;
    line.split(&key).nth(1)?.split('"').next().map(String::from)
}

/// crm-commands.txt, run by the real crm shell against an empty CIB file, must build the
/// same primitives (ids, agents, parameters, order), constraints, stickiness and properties
/// as cib.xml.
fn crm_shell_builds_the_same_cib(case: &Case, ex: &Exported) -> Result<()> {
    let file = ex.dir.join("crm-built.xml");
    let empty = run(Command::new("cibadmin").arg("--empty"))?;
    check(empty.status.success(), || {
        format!("cibadmin --empty: {}", text(&empty))
    })?;
    std::fs::write(&file, &empty.stdout).map_err(|e| Error::Invalid(format!("{file:?}: {e}")))?;
    let out = run(Command::new("crm")
        .env("CIB_file", &file)
        .arg("-f")
        .arg(ex.dir.join("crm-commands.txt")))?;
    check(out.status.success(), || {
        format!(
            "{}: crm -f crm-commands.txt failed:\n{}\n{}",
            case.name,
            text(&out),
            ex.crm
        )
    })?;
    let built = std::fs::read_to_string(&file).map_err(|e| Error::Invalid(format!("{e}")))?;
    let (want, got) = (ex.primitives(), cib_primitives(&built));
    check(want == got, || {
        format!(
            "{}: crm shell built other primitives:\n{got:#?}\nexpected\n{want:#?}",
            case.name
        )
    })?;
    check(locations(&ex.cib) == locations(&built), || {
        format!("{}: crm shell built other constraints:\n{built}", case.name)
    })?;
    for name in ["resource-stickiness", "stonith-enabled", "dc-deadtime"] {
        check(
            nvpair_value(&ex.cib, name) == nvpair_value(&built, name),
            || {
                format!(
                    "{}: {name} differs in the crm shell's CIB:\n{built}",
                    case.name
                )
            },
        )?;
    }
    Ok(())
}

/// crm-commands.txt, run by the real crm shell, for every configuration (pcs is not among the
/// test prerequisites: it brings pcsd and its Ruby stack along).
#[test]
fn crm_shell_commands_build_the_same_cib() -> Result<()> {
    require_tools()?;
    let scratch = Scratch::new("crm")?;
    let names: Vec<String> = (1..=3).map(hb_tests::node_name).collect();
    for case in &all_cases(&names)? {
        let ex = export(case, &scratch)?;
        crm_shell_builds_the_same_cib(case, &ex)?;
        eprintln!("{}: crm-commands.txt builds the same CIB", case.name);
    }
    Ok(())
}

#[test]
fn tools_accept_every_export() -> Result<()> {
    require_tools()?;
    let scratch = Scratch::new("tools")?;
    let lan = Lan::with_spec(LanSpec {
        nodes: 3,
        second_lan: true,
    })?;
    let names = lan.node_names();
    let cases = all_cases(&names)?;
    for case in &cases {
        let ex = export(case, &scratch)?;
        verify(case, &ex, &lan)?;
        eprintln!(
            "{}: cib.xml, agents, parameters and corosync.conf accepted",
            case.name
        );
    }
    // What the cases must have exercised.
    let debian = export(&cases[0], &scratch)?;
    check(
        debian.cib.contains("type=\"Filesystem\"")
            && debian.cib.contains("stonith-enabled\" value=\"true\""),
        || {
            format!(
                "debian sample: expected a Filesystem and fencing:\n{}",
                debian.cib
            )
        },
    )?;
    check(
        debian.migration.contains("plugin=baytech") && debian.migration.contains("plugin=rps10"),
        || {
            format!(
                "debian sample: both stonith_host lines must be mapped:\n{}",
                debian.migration
            )
        },
    )?;
    let three = export(&cases[4], &scratch)?;
    check(
        three.corosync_conf.contains("ring1_addr: 198.19.0.13")
            && three.cib.contains("class=\"lsb\" type=\"procps\""),
        || {
            format!(
                "three nodes: expected two links and lsb:procps:\n{}\n{}",
                three.corosync_conf, three.cib
            )
        },
    )?;
    let demo = export(&cases[3], &scratch)?;
    check(
        demo.cib
            .contains("name=\"stonith-enabled\" value=\"false\"")
            && demo
                .migration
                .contains("stonith-enabled=false: ha.cf has no usable stonith_host"),
        || {
            format!(
                "demo: no stonith_host must give stonith-enabled=false and say so:\n{}",
                demo.migration
            )
        },
    )?;
    Ok(())
}

/// Addresses from this host's interface and the ucast peer: the export run inside nodea.
#[test]
fn ucast_addresses_inside_a_node() -> Result<()> {
    require_tools()?;
    let lan = Lan::new(2)?;
    let (a, b) = (lan.node(0), lan.node(1));
    let cfg = ConfigBuilder::new(&lan.node_names())
        .ucast("eth0", b.ip())
        .resource("nodea IPaddr2::198.18.0.100/24/eth0")
        .build();
    a.apply(&cfg)?;
    let ours = hb_tests::Daemon::ours()?;
    let bin = ours.binary().to_string_lossy().into_owned();
    let out = a.exec(&[bin.as_str(), "--export-pacemaker", "/tmp/export"])?;
    check(out.status.success(), || {
        format!("export inside nodea: {}", text(&out))
    })?;
    let ex = hb_tests::pacemaker::read_export(&a.host_path("/tmp/export")?)?;
    for want in [
        format!(
            "# eth0: address of this host's interface eth0\n        ring0_addr: {}",
            a.ip()
        ),
        format!(
            "ucast eth0 {}, the peer of this host (nodea)\n        ring0_addr: {}",
            b.ip(),
            b.ip()
        ),
    ] {
        check(ex.corosync_conf.contains(&want), || {
            format!("{want:?} not in\n{}", ex.corosync_conf)
        })?;
    }
    for node in [a, b] {
        let pn = PcmkNode::new(node)?;
        pn.install(&ex)?;
        let out = pn.exec(&["corosync", "-t"], Duration::from_secs(20))?;
        check(out.status.success(), || {
            format!("corosync -t on {}: {}", node.name(), text(&out))
        })?;
    }
    // Without an address for nodeb the export refuses and says what to add.
    let cfg = ConfigBuilder::new(&lan.node_names()).bcast("eth0").build();
    a.apply(&cfg)?;
    let out = a.exec(&[bin.as_str(), "--export-pacemaker", "/tmp/export2"])?;
    check(
        out.status.code() == Some(6)
            && text(&out).contains("no address for node nodeb on link 0 (eth0)")
            && text(&out).contains("give --addr nodeb:eth0=IP"),
        || {
            format!(
                "expected exit 6 naming --addr nodeb:eth0=IP, got {:?}: {}",
                out.status,
                text(&out)
            )
        },
    )
}

// ----- crm_simulate -----------------------------------------------------------------------

/// Steps of a simulated cluster: each step's output CIB is the next one's input.
struct Sim {
    dir: PathBuf,
    step: usize,
}

impl Sim {
    fn new(dir: &Path, ex: &Exported) -> Result<Sim> {
        std::fs::copy(ex.dir.join("cib.xml"), dir.join("step0.xml"))
            .map_err(|e| Error::Invalid(format!("copy cib.xml: {e}")))?;
        Ok(Sim {
            dir: dir.to_path_buf(),
            step: 0,
        })
    }

    fn current(&self) -> PathBuf {
        self.dir.join(format!("step{}.xml", self.step))
    }

    /// `crm_simulate -x CURRENT -S ARGS -O NEXT`.
    fn simulate(&mut self, args: &[&str]) -> Result<String> {
        let next = self.dir.join(format!("step{}.xml", self.step + 1));
        let out = run(Command::new("crm_simulate")
            .arg("-x")
            .arg(self.current())
            .arg("-S")
            .args(args)
            .arg("-O")
            .arg(&next))?;
        check(out.status.success(), || {
            format!("crm_simulate {args:?}: {}", text(&out))
        })?;
        self.step += 1;
        Ok(text(&out))
    }

    /// Sets a transient node attribute in the current CIB (what the ping agent does).
    fn attribute(&self, node: &str, name: &str, value: &str) -> Result<()> {
        let out = run(Command::new("crm_attribute")
            .env("CIB_file", self.current())
            .args([
                "--node",
                node,
                "--name",
                name,
                "--update",
                value,
                "--lifetime",
                "reboot",
            ]))?;
        check(out.status.success(), || {
            format!("crm_attribute: {}", text(&out))
        })
    }

    /// A node that comes back after a crash runs nothing and has no resource history (the DC
    /// erases its `lrm` status when it rejoins); `--node-up` alone would replay the history
    /// from before the failure.
    fn forget_history(&self, node: &str) -> Result<()> {
        let out = run(Command::new("cibadmin")
            .env("CIB_file", self.current())
            .args(["--delete-all", "--force", "--xpath"])
            .arg(format!("//node_state[@uname='{node}']/lrm")))?;
        check(out.status.success(), || {
            format!("cibadmin --delete-all: {}", text(&out))
        })
    }

    /// Where a resource runs (`crm_resource --locate`), or "" when stopped.
    fn location(&self, rsc: &str) -> Result<String> {
        let out = run(Command::new("crm_resource")
            .env("CIB_file", self.current())
            .args(["--locate", "--resource", rsc]))?;
        let t = text(&out);
        Ok(t.split("is running on: ")
            .nth(1)
            .map(|s| s.trim().to_string())
            .unwrap_or_default())
    }

    fn expect(&self, rsc: &str, node: &str, when: &str, log: &str) -> Result<()> {
        let at = self.location(rsc)?;
        check(at == node, || {
            format!("{when}: {rsc} runs on {at:?}, expected {node}\n{log}")
        })
    }
}

fn sim_case(name: &str, auto_failback: &str, scratch: &Scratch) -> Result<(Exported, PathBuf)> {
    let names = ["nodea", "nodeb"];
    let cfg = ConfigBuilder::new(&names)
        .bcast("eth0")
        .auto_failback(auto_failback)
        .resource("nodea IPaddr2::198.18.0.100/24/eth0 IPaddr2::198.18.0.101/24/eth0")
        .resource("nodeb IPaddr2::198.18.0.102/24/eth0")
        .build();
    let case = from_builder("sim", cfg, &names);
    let dir = scratch.0.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::Invalid(format!("{dir:?}: {e}")))?;
    let conf = dir.join("ha.d");
    write_confdir(&conf, &case.ha_cf, &case.authkeys, &case.haresources)?;
    Ok((export_pacemaker(&conf, &dir.join("out"), &case.addrs)?, dir))
}

fn failover_then_return(auto_failback: &str, back_on: &str) -> Result<()> {
    require_tools()?;
    let scratch = Scratch::new(&format!("sim-{auto_failback}"))?;
    let (ex, dir) = sim_case("sim", auto_failback, &scratch)?;
    let mut sim = Sim::new(&dir, &ex)?;
    let log = sim.simulate(&["--node-up", "nodea", "--node-up", "nodeb", "--quorum", "1"])?;
    sim.expect("group_1", "nodea", "both nodes up", &log)?;
    sim.expect("group_2", "nodeb", "both nodes up", &log)?;
    let log = sim.simulate(&["--node-fail", "nodea"])?;
    sim.expect("group_1", "nodeb", "nodea failed", &log)?;
    sim.expect("group_2", "nodeb", "nodea failed", &log)?;
    sim.forget_history("nodea")?;
    let log = sim.simulate(&["--node-up", "nodea"])?;
    sim.expect(
        "group_1",
        back_on,
        &format!("nodea back, auto_failback {auto_failback}"),
        &log,
    )?;
    sim.expect("group_2", "nodeb", "nodea back", &log)
}

#[test]
fn simulate_failover_and_auto_failback_on() -> Result<()> {
    failover_then_return("on", "nodea")
}

#[test]
fn simulate_failover_and_auto_failback_off() -> Result<()> {
    failover_then_return("off", "nodeb")
}

#[test]
fn simulate_ping_node_loss_moves_groups_as_ipfail() -> Result<()> {
    require_tools()?;
    let scratch = Scratch::new("sim-ping")?;
    for (name, auto_failback) in [("ping-on", "on"), ("ping-off", "off")] {
        let base = ping_ipfail();
        let case = Case {
            name,
            ha_cf: base.ha_cf.replace(
                "auto_failback on",
                &format!("auto_failback {auto_failback}"),
            ),
            ..base
        };
        let ex = export(&case, &scratch)?;
        let multiplier = ex
            .primitives()
            .into_iter()
            .find(|p| p.agent == "ping")
            .and_then(|p| p.params.into_iter().find(|(k, _)| k == "multiplier"))
            .map(|(_, v)| v)
            .ok_or_else(|| Error::Invalid(format!("no ping multiplier in\n{}", ex.cib)))?;
        let mut sim = Sim::new(&scratch.0.join(name), &ex)?;
        let log = sim.simulate(&["--node-up", "nodea", "--node-up", "nodeb", "--quorum", "1"])?;
        // Both nodes reach the ping node: the ping agent sets pingd = multiplier x 1.
        for n in ["nodea", "nodeb"] {
            sim.attribute(n, "pingd", &multiplier)?;
        }
        let log2 = sim.simulate(&[])?;
        sim.expect(
            "group_1",
            "nodea",
            "both reach the ping node",
            &format!("{log}\n{log2}"),
        )?;
        // nodea loses its ping node.
        sim.attribute("nodea", "pingd", "0")?;
        let log = sim.simulate(&[])?;
        sim.expect(
            "group_1",
            "nodeb",
            &format!("nodea lost its ping node (auto_failback {auto_failback})"),
            &log,
        )?;
    }
    Ok(())
}

#[test]
fn simulate_three_nodes_home_and_failover() -> Result<()> {
    require_tools()?;
    let scratch = Scratch::new("sim-three")?;
    let ex = export(&three_nodes(), &scratch)?;
    let mut sim = Sim::new(&scratch.0, &ex)?;
    let log = sim.simulate(&[
        "--node-up",
        "nodea",
        "--node-up",
        "nodeb",
        "--node-up",
        "nodec",
        "--quorum",
        "1",
    ])?;
    sim.expect("group_1", "nodea", "all up", &log)?;
    sim.expect("group_2", "nodec", "all up", &log)?;
    let log = sim.simulate(&["--node-fail", "nodec"])?;
    let at = sim.location("group_2")?;
    check(at == "nodea" || at == "nodeb", || {
        format!("nodec failed: group_2 on {at:?}\n{log}")
    })?;
    sim.expect("group_1", "nodea", "nodec failed", &log)
}
