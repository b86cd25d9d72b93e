//! Packaging: the .deb and .rpm built by `scripts/package.sh`, the maintainer scripts, the
//! systemd unit, the admin tools (`hb_standby`, `hb_takeover`) and the shell pieces shipped in
//! `/etc/ha.d` (harc, rc.d hooks, the OCF wrapper against the real IPaddr2 agent).
//!
//! The packages are built once per test binary with `package.sh --profile dev` (debug binaries,
//! brought up to date by cargo) into `target/packaging-test/`. Needs root:
//! `dpkg --root` installs into a throwaway root and the IPaddr2 test creates its own network
//! namespace (198.18.77.0/24 only). Nothing is installed on the host, except that package.sh
//! installs Debian's `rpm` (for rpmbuild) when it is missing.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Bound of every external command of these tests (package.sh may build and install rpm).
const CMD_TIMEOUT: Duration = Duration::from_secs(600);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `target/` of this build: the test executable is `target/debug/deps/packaging-HASH`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("target/debug/deps/<exe> layout")
        .to_path_buf()
}

fn debug_bin(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}

fn require_root() {
    hb_testutil::require_root("dpkg --root, network namespaces");
}

/// Runs `cmd` with a time bound; kills it (by PID) when the bound is exceeded.
fn run(cmd: &mut Command) -> Output {
    run_bounded(cmd, None)
}

fn run_bounded(cmd: &mut Command, timeout: Option<Duration>) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout.unwrap_or(CMD_TIMEOUT);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_ok(cmd: &mut Command) -> String {
    let what = format!("{cmd:?}");
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("hbp-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The packages, built once for all tests of this binary (in `target/packaging-test/`, which
/// each run empties first: a static is never dropped, so a temp dir would be left behind).
struct Packages {
    deb: PathBuf,
    rpm: PathBuf,
    /// `dpkg-deb -x` of the .deb.
    tree: PathBuf,
}

fn packages() -> &'static Packages {
    static PKGS: OnceLock<Packages> = OnceLock::new();
    PKGS.get_or_init(|| {
        require_root();
        let dir = target_dir().join("packaging-test");
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.join("packages");
        run_ok(
            Command::new(workspace_root().join("scripts/package.sh"))
                // Not --no-build: a stale binary must not be packaged; cargo's check is cheap.
                .args(["--profile", "dev", "--out"])
                .arg(&out)
                .env("CARGO_TARGET_DIR", target_dir()),
        );
        let version = version();
        let deb = out.join(format!("heartbeat-rs_{version}_amd64.deb"));
        let rpm = out.join(format!("heartbeat-rs-{version}-1.x86_64.rpm"));
        assert!(deb.is_file(), "{} not built", deb.display());
        assert!(rpm.is_file(), "{} not built", rpm.display());
        let tree = dir.join("tree");
        run_ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
        Packages { deb, rpm, tree }
    })
}

fn version() -> String {
    let toml = std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("Cargo.toml");
    let mut in_pkg = false;
    for line in toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_pkg = l == "[workspace.package]";
        } else if in_pkg && l.starts_with("version") {
            if let Some(v) = l.split('"').nth(1) {
                return v.to_string();
            }
        }
    }
    panic!("no [workspace.package] version in Cargo.toml");
}

/// One line of `dpkg-deb -c`: mode string, owner, path (without the leading `.`).
struct Entry {
    mode: String,
    owner: String,
    path: String,
}

fn deb_listing(deb: &Path) -> Vec<Entry> {
    run_ok(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // mode owner size date time path [-> target]
            (f.len() >= 6).then(|| Entry {
                mode: f[0].to_string(),
                owner: f[1].to_string(),
                path: f[5]
                    .trim_start_matches('.')
                    .trim_end_matches('/')
                    .to_string(),
            })
        })
        .filter(|e| !e.path.is_empty())
        .collect()
}

fn bins_present(name: &str) -> bool {
    debug_bin(name).is_file()
}

/// Files every build of the package must contain, with their `dpkg-deb -c` modes.
const EXPECTED_FILES: &[(&str, &str)] = &[
    ("/usr/libexec/heartbeat/heartbeat", "-rwxr-xr-x"),
    ("/usr/libexec/heartbeat/dopd", "-rwxr-xr-x"),
    ("/usr/libexec/heartbeat/drbd-peer-outdater", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_standby", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_takeover", "-rwxr-xr-x"),
    ("/etc/ha.d/harc", "-rwxr-xr-x"),
    ("/etc/ha.d/rc.d/status", "-rwxr-xr-x"),
    ("/etc/ha.d/rc.d/ip-request", "-rwxr-xr-x"),
    ("/etc/ha.d/rc.d/ip-request-resp", "-rwxr-xr-x"),
    ("/etc/ha.d/rc.d/hb_takeover", "-rwxr-xr-x"),
    ("/etc/ha.d/rc.d/ask_resources", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/hb-ocf-wrapper", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/IPaddr", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/IPaddr2", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/IPv6addr", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/Filesystem", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/SendArp", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/apache", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/MailTo", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/Delay", "-rwxr-xr-x"),
    ("/etc/ha.d/resource.d/OCF", "-rwxr-xr-x"),
    ("/etc/ha.d/README.config", "-rw-r--r--"),
    ("/usr/share/heartbeat/ResourceManager", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/mach_down", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/req_resource", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_addnode", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_delnode", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_setweight", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/hb_setsite", "-rwxr-xr-x"),
    ("/usr/share/heartbeat/BasicSanityCheck", "-rwxr-xr-x"),
    ("/usr/bin/cl_respawn", "-rwxr-xr-x"),
    ("/etc/init.d/heartbeat", "-rwxr-xr-x"),
    ("/etc/logrotate.d/heartbeat", "-rw-r--r--"),
    ("/lib/systemd/system/heartbeat.service", "-rw-r--r--"),
    ("/usr/lib/tmpfiles.d/heartbeat.conf", "-rw-r--r--"),
    ("/usr/share/doc/heartbeat-rs/ha.cf", "-rw-r--r--"),
    ("/usr/share/doc/heartbeat-rs/haresources", "-rw-r--r--"),
    ("/usr/share/doc/heartbeat-rs/authkeys", "-rw-r--r--"),
    ("/usr/share/doc/heartbeat-rs/copyright", "-rw-r--r--"),
    ("/usr/share/man/man8/heartbeat.8.gz", "-rw-r--r--"),
    ("/usr/share/man/man1/hb_standby.1.gz", "-rw-r--r--"),
    ("/usr/share/man/man1/hb_takeover.1.gz", "-rw-r--r--"),
    ("/usr/share/man/man1/cl_status.1.gz", "-rw-r--r--"),
    ("/usr/share/man/man5/ha.cf.5.gz", "-rw-r--r--"),
    ("/usr/share/man/man5/authkeys.5.gz", "-rw-r--r--"),
    ("/usr/share/man/man5/haresources.5.gz", "-rw-r--r--"),
    ("/usr/share/man/man8/dopd.8.gz", "-rw-r--r--"),
    ("/usr/share/man/man8/drbd-peer-outdater.8.gz", "-rw-r--r--"),
    ("/var/lib/heartbeat", "drwxr-xr-x"),
    ("/var/lib/heartbeat/cores/root", "drwx------"),
    ("/var/lib/heartbeat/cores/hacluster", "drwx------"),
    ("/var/lib/heartbeat/cores/nobody", "drwx------"),
];

#[test]
fn deb_lists_the_heartbeat_layout() {
    let pkgs = packages();
    let entries = deb_listing(&pkgs.deb);
    for (path, mode) in EXPECTED_FILES {
        let e = entries
            .iter()
            .find(|e| e.path == *path)
            .unwrap_or_else(|| panic!("{path} missing from the .deb"));
        assert_eq!(e.mode, *mode, "mode of {path}");
        assert_eq!(e.owner, "root/root", "owner of {path}");
    }
    // The admin writes these; shipping them would overwrite a cluster's keys.
    for forbidden in [
        "/etc/ha.d/authkeys",
        "/etc/ha.d/ha.cf",
        "/etc/ha.d/haresources",
    ] {
        assert!(
            entries.iter().all(|e| e.path != forbidden),
            "{forbidden} must not be shipped"
        );
    }
    // Optional binaries: packaged exactly when built.
    for (bin, path) in [
        ("cl_status", "/usr/bin/cl_status"),
        ("ipfail", "/usr/libexec/heartbeat/ipfail"),
    ] {
        let shipped = entries.iter().any(|e| e.path == path);
        assert_eq!(
            shipped,
            bins_present(bin),
            "{path} shipped iff {bin} was built"
        );
    }
    // Build-only tool.
    assert!(entries.iter().all(|e| !e.path.ends_with("hb-mangen")));
}

/// Paths the README lists as deliberately not shipped (its "not shipped" table);
/// an entry ending in `/` stands for everything below it.
fn documented_absent() -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_root().join("packaging/README.md"))
        .expect("packaging/README.md");
    let section = readme
        .split("## Files of Debian's heartbeat 3.0.6 not shipped")
        .nth(1)
        .expect("packaging/README.md has the not-shipped section");
    let section = section.split("\n## ").next().unwrap_or(section);
    // The first cell of each table row names the paths.
    section
        .lines()
        .filter_map(|l| l.strip_prefix('|'))
        .filter_map(|l| l.split('|').next())
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .filter(|t| t.starts_with('/'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Packages named in our .deb's Depends.
fn declared_depends(pkgs: &Packages) -> Vec<String> {
    let info = run_ok(
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(&pkgs.deb)
            .arg("Depends"),
    );
    info.split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_file_of_debians_heartbeat_is_shipped_provided_or_explained() {
    let pkgs = packages();
    let listing = run(Command::new("dpkg").args(["-L", "heartbeat"]));
    assert!(
        listing.status.success(),
        "dpkg -L heartbeat: Debian's heartbeat must be installed (scripts/test.sh does it)"
    );
    let ours: Vec<String> = deb_listing(&pkgs.deb).into_iter().map(|e| e.path).collect();
    let absent = documented_absent();
    let depends = declared_depends(pkgs);
    let covered_by_doc = |p: &str| {
        absent
            .iter()
            .any(|a| a == p || (a.ends_with('/') && format!("{p}/").starts_with(a.as_str())))
    };
    let mut unexplained = Vec::new();
    for path in text(&listing.stdout).lines().map(str::trim) {
        if path.is_empty() || path == "/." {
            continue;
        }
        let host = Path::new(path);
        let is_dir = host.is_dir() && !host.is_symlink();
        let ours_has = ours.iter().any(|o| o == path);
        let ours_below = ours.iter().any(|o| o.starts_with(&format!("{path}/")));
        if ours_has || (is_dir && ours_below) || covered_by_doc(path) {
            continue;
        }
        // Owned by a package we depend on as well?
        let owners = run(Command::new("dpkg").args(["-S", path]));
        let provided = text(&owners.stdout).lines().any(|l| {
            l.split(':').next().is_some_and(|pkgs| {
                pkgs.split(',')
                    .map(str::trim)
                    .any(|p| depends.iter().any(|d| d == p))
            })
        });
        if !provided {
            unexplained.push(path.to_string());
        }
    }
    assert!(
        unexplained.is_empty(),
        "files of Debian's heartbeat neither in heartbeat-rs, nor in a dependency, nor listed \
         in packaging/README.md as not shipped:\n{}",
        unexplained.join("\n")
    );
    // The README must not excuse what we do ship.
    for a in &absent {
        assert!(
            !ours.iter().any(|o| o == a.trim_end_matches('/')),
            "{a} is listed as not shipped but is in the package"
        );
    }
}

#[test]
fn deb_control_replaces_heartbeat() {
    let pkgs = packages();
    let info = run_ok(Command::new("dpkg-deb").arg("-I").arg(&pkgs.deb));
    for field in [
        " Package: heartbeat-rs",
        " Provides: heartbeat",
        " Conflicts: heartbeat",
        " Replaces: heartbeat",
        " Architecture: amd64",
    ] {
        assert!(
            info.lines().any(|l| l == field),
            "{field:?} not in:\n{info}"
        );
    }
    assert!(info.contains(&format!(" Version: {}", version())));
    let depends = run_ok(
        Command::new("dpkg-deb")
            .args(["-f"])
            .arg(&pkgs.deb)
            .arg("Depends"),
    );
    assert!(depends.contains("resource-agents"), "Depends: {depends}");
    // Every file under /etc is a conffile, nothing else is.
    let conffiles = run_ok(
        Command::new("dpkg-deb")
            .arg("--info")
            .arg(&pkgs.deb)
            .arg("conffiles"),
    );
    let conf: BTreeSet<&str> = conffiles.lines().collect();
    let etc_files: BTreeSet<String> = deb_listing(&pkgs.deb)
        .into_iter()
        .filter(|e| e.path.starts_with("/etc/") && e.mode.starts_with('-'))
        .map(|e| e.path)
        .collect();
    let etc_ref: BTreeSet<&str> = etc_files.iter().map(String::as_str).collect();
    assert_eq!(conf, etc_ref, "conffiles");
    assert!(conf.contains("/etc/ha.d/harc"));
    assert!(conf.contains("/etc/init.d/heartbeat"));
}

/// Account files for a throwaway root: just root and nobody.
fn seed_root(root: &Path) {
    for d in ["etc", "var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    for f in ["var/lib/dpkg/status", "var/lib/dpkg/available"] {
        std::fs::write(root.join(f), b"").expect("dpkg db");
    }
    let files = [
        ("passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
        ("group", "root:x:0:\nnogroup:x:65534:\n"),
        ("shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"),
        ("gshadow", "root:*::\nnogroup:*::\n"),
    ];
    for (name, content) in files {
        std::fs::write(root.join("etc").join(name), content).expect("account file");
    }
}

fn account_id(root: &Path, file: &str, name: &str) -> Option<u32> {
    let content = std::fs::read_to_string(root.join("etc").join(file)).ok()?;
    content.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name))
            .then(|| f.get(2).and_then(|v| v.parse().ok()))
            .flatten()
    })
}

fn dpkg_root(root: &Path) -> Command {
    let mut c = Command::new("dpkg");
    c.arg(format!("--root={}", root.display()))
        .args(["--force-all", "--force-script-chrootless"])
        // Never let a maintainer script reach the host's services.
        .env("DPKG_ROOT", root);
    c
}

#[test]
fn deb_installs_and_removes_in_a_throwaway_root() {
    let pkgs = packages();
    let tmp = TempDir::new("root");
    let root = tmp.path();
    seed_root(root);
    run_ok(dpkg_root(root).arg("-i").arg(&pkgs.deb));

    for (path, _) in EXPECTED_FILES {
        assert!(
            root.join(path.trim_start_matches('/')).exists(),
            "{path} not installed"
        );
    }
    let status = run_ok(dpkg_root(root).args(["-s", "heartbeat-rs"]));
    assert!(status.contains("Status: install ok installed"), "{status}");
    let conffiles = std::fs::read_to_string(root.join("var/lib/dpkg/info/heartbeat-rs.conffiles"))
        .expect("conffiles recorded");
    assert!(conffiles
        .lines()
        .any(|l| l == "/etc/ha.d/resource.d/IPaddr2"));

    // postinst: accounts and ownership.
    let gid = account_id(root, "group", "haclient").expect("postinst created group haclient");
    let uid = account_id(root, "passwd", "hacluster").expect("postinst created user hacluster");
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).expect("passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("hacluster:"))
        .expect("hacluster line");
    assert!(
        line.contains(&format!(":{uid}:{gid}:")),
        "hacluster in haclient: {line}"
    );
    assert!(
        line.ends_with(":/usr/sbin/nologin"),
        "no login shell: {line}"
    );
    let cores = root.join("var/lib/heartbeat/cores");
    let meta = |p: &str| std::fs::metadata(cores.join(p)).expect("core dir");
    assert_eq!(meta("hacluster").uid(), uid);
    assert_eq!(meta("nobody").uid(), 65534);
    assert_eq!(meta("root").uid(), 0);
    for d in ["root", "hacluster", "nobody"] {
        assert_eq!(meta(d).permissions().mode() & 0o7777, 0o700, "cores/{d}");
    }
    let cl_status = root.join("usr/bin/cl_status");
    if bins_present("cl_status") {
        let m = std::fs::metadata(&cl_status).expect("cl_status");
        assert_eq!(m.permissions().mode() & 0o7777, 0o2555, "cl_status setgid");
        assert_eq!(m.gid(), gid, "cl_status group haclient");
    } else {
        assert!(!cl_status.exists());
    }
    // A second configure (reinstall) must not create duplicate accounts.
    run_ok(dpkg_root(root).arg("-i").arg(&pkgs.deb));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).expect("passwd");
    assert_eq!(passwd.matches("hacluster:").count(), 1);

    // remove: program files and the FIFO go, conffiles and accounts stay.
    std::fs::create_dir_all(root.join("var/lib/heartbeat")).expect("state dir");
    nix::unistd::mkfifo(
        &root.join("var/lib/heartbeat/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .expect("mkfifo");
    run_ok(dpkg_root(root).args(["-r", "heartbeat-rs"]));
    assert!(!root.join("usr/libexec/heartbeat/heartbeat").exists());
    assert!(
        !root.join("var/lib/heartbeat/fifo").exists(),
        "postrm removes the FIFO"
    );
    assert!(
        root.join("etc/ha.d/harc").exists(),
        "conffiles kept on remove"
    );
    assert!(account_id(root, "passwd", "hacluster").is_some());
}

#[test]
fn rpm_has_the_same_layout() {
    let pkgs = packages();
    let rpm = |args: &[&str]| run_ok(Command::new("rpm").args(args).arg(&pkgs.rpm));
    let rpm_paths: BTreeSet<String> = rpm(&["-qlp"]).lines().map(str::to_string).collect();
    let deb = deb_listing(&pkgs.deb);
    let deb_files: BTreeSet<String> = deb
        .iter()
        .filter(|e| !e.mode.starts_with('d'))
        .map(|e| e.path.clone())
        .collect();
    let deb_all: BTreeSet<String> = deb.iter().map(|e| e.path.clone()).collect();
    let missing: Vec<_> = deb_files.difference(&rpm_paths).collect();
    assert!(
        missing.is_empty(),
        "in the .deb but not the .rpm: {missing:?}"
    );
    let extra: Vec<_> = rpm_paths.difference(&deb_all).collect();
    assert!(extra.is_empty(), "in the .rpm but not the .deb: {extra:?}");

    let provides = rpm(&["-qp", "--provides"]);
    assert!(
        provides.lines().any(|l| l.starts_with("heartbeat ")),
        "{provides}"
    );
    let conflicts = rpm(&["-qp", "--conflicts"]);
    assert!(
        conflicts.lines().any(|l| l.trim() == "heartbeat"),
        "{conflicts}"
    );
    let config: BTreeSet<String> = rpm(&["-qp", "--configfiles"])
        .lines()
        .map(str::to_string)
        .collect();
    // Configuration files: the regular files under /etc (not the /etc/heartbeat link).
    let etc: BTreeSet<String> = deb
        .iter()
        .filter(|e| e.mode.starts_with('-') && e.path.starts_with("/etc/"))
        .map(|e| e.path.clone())
        .collect();
    assert_eq!(config, etc, "%config files");

    let attrs = rpm(&[
        "-qp",
        "--queryformat",
        "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILENAMES}\n]",
    ]);
    let attr_of = |path: &str| {
        attrs
            .lines()
            .find(|l| l.ends_with(&format!(" {path}")))
            .unwrap_or_else(|| panic!("{path} not in rpm:\n{attrs}"))
            .to_string()
    };
    assert!(attr_of("/var/lib/heartbeat/cores/hacluster").starts_with("drwx------ hacluster root"));
    assert!(attr_of("/usr/libexec/heartbeat/heartbeat").starts_with("-rwxr-xr-x root root"));
    if bins_present("cl_status") {
        assert!(attr_of("/usr/bin/cl_status").starts_with("-r-xr-sr-x root haclient"));
    }
}

/// `key=value` settings of one section of a unit file (last assignment wins).
fn unit_section(unit: &str, section: &str) -> Vec<(String, String)> {
    let mut current = String::new();
    let mut out = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            current = line[1..line.len() - 1].to_string();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("unit line without '=': {line}"));
        if current == section {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

#[test]
fn systemd_unit_is_valid() {
    let pkgs = packages();
    let unit_path = pkgs.tree.join("lib/systemd/system/heartbeat.service");
    let unit = std::fs::read_to_string(&unit_path).expect("unit shipped");
    let service = unit_section(&unit, "Service");
    let get = |k: &str| {
        service
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("[Service] {k}= missing"))
    };
    assert_eq!(get("Type"), "notify");
    assert_eq!(get("NotifyAccess"), "main");
    assert_eq!(get("ExecStart"), "/usr/libexec/heartbeat/heartbeat -f");
    assert_eq!(get("ExecStop"), "/usr/libexec/heartbeat/heartbeat -k");
    assert_eq!(get("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(get("PIDFile"), "/run/heartbeat.pid");
    assert_eq!(get("Restart"), "on-failure");
    assert!(["process", "mixed"].contains(&get("KillMode")));
    assert_eq!(get("TimeoutStopSec"), "30min");
    let install = unit_section(&unit, "Install");
    assert!(install.contains(&("WantedBy".into(), "multi-user.target".into())));

    // systemd's own verdict. The Exec paths are pointed at the extracted package so the check
    // covers the binary we ship; man pages are not installed on the host, hence --man=no.
    // systemd-analyze only warns ("…, ignoring") on bad settings, so any output is a failure.
    let have_analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
        .iter()
        .any(|p| Path::new(p).is_file());
    assert!(
        have_analyze,
        "systemd-analyze missing: apt-get install systemd (only its tools are used; nothing is started)"
    );
    let tmp = TempDir::new("unit");
    let daemon = pkgs.tree.join("usr/libexec/heartbeat/heartbeat");
    // Quoted: the checkout (and so the extracted tree) may be in a path with spaces.
    let copy = unit.replace(
        "/usr/libexec/heartbeat/heartbeat",
        &format!("\"{}\"", daemon.display()),
    );
    let copy_path = tmp.path().join("heartbeat.service");
    std::fs::write(&copy_path, copy).expect("unit copy");
    let out = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&copy_path));
    let stderr = text(&out.stderr);
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("heartbeat.service"))
        .collect();
    assert!(
        out.status.success() && complaints.is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        out.status
    );

    // The tmpfiles entry the unit relies on.
    let tmpfiles = std::fs::read_to_string(pkgs.tree.join("usr/lib/tmpfiles.d/heartbeat.conf"))
        .expect("tmpfiles");
    assert!(tmpfiles
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["d", "/run/heartbeat", "0750", "hacluster", "haclient", "-"]));
    // dopd's socket directory, as Debian's tmpfiles entry makes it.
    assert!(tmpfiles
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>()
            == [
                "d",
                "/run/heartbeat/dopd",
                "0750",
                "hacluster",
                "haclient",
                "-"
            ]));
}

#[test]
fn sysv_script_parses_and_refuses_unknown_actions() {
    let pkgs = packages();
    let script = pkgs.tree.join("etc/init.d/heartbeat");
    run_ok(Command::new("sh").arg("-n").arg(&script));
    let out = run(Command::new(&script).arg("bogus"));
    assert_eq!(out.status.code(), Some(2), "LSB: invalid argument");
    assert!(text(&out.stderr).contains("start|stop|restart|reload|force-reload|status|standby"));
    // The standby action is back (3.0.6's script has it) and the pre-start idle
    // check runs ResourceManager verifyallidle.
    let out = run(Command::new(&script).arg("standby"));
    assert_eq!(out.status.code(), Some(1), "standby without a daemon");
    assert!(text(&out.stdout).contains("Heartbeat is not currently running."));
    let body = std::fs::read_to_string(&script).expect("init script");
    assert!(body.contains("standby) do_standby"));
    assert!(body.contains("\"$RESOURCE_MANAGER\" verifyallidle"));
}

// ------------------------------------------------------------------ admin tools

/// Opens the read end of a FIFO without blocking (so the writer finds a reader).
fn open_reader(fifo: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(fifo)
        .expect("open FIFO for reading")
}

fn read_available(f: &mut std::fs::File) -> String {
    let mut buf = vec![0u8; 8192];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if !got.is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("reading FIFO: {e}"),
        }
    }
    text(&got)
}

fn admin(tool: &str, args: &[&str]) -> Output {
    packages(); // builds the binaries when they are missing
    run_bounded(
        Command::new(debug_bin(tool)).args(args),
        Some(Duration::from_secs(20)),
    )
}

#[test]
fn hb_standby_and_hb_takeover_write_one_message_to_the_fifo() {
    let tmp = TempDir::new("fifo");
    let fifo = tmp.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let mut reader = open_reader(&fifo);
    let dir = tmp.path().to_str().expect("utf-8 temp path");

    let out = admin("hb_standby", &["--statedir", dir, "failback"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        read_available(&mut reader),
        ">>>\nt=ask_resources\nrsc_hold=foreign\ninfo=me\n<<<\n"
    );
    assert!(text(&out.stderr).contains("Going standby [foreign]."));

    let out = admin("hb_standby", &["--statedir", dir]);
    assert!(out.status.success());
    assert_eq!(
        read_available(&mut reader),
        ">>>\nt=ask_resources\nrsc_hold=all\ninfo=me\n<<<\n"
    );

    let out = admin("hb_takeover", &["--statedir", dir, "local"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        read_available(&mut reader),
        ">>>\nt=hb_takeover\nrsc_hold=local\n<<<\n"
    );

    // No reader: a clear error instead of hanging like the shell script.
    drop(reader);
    let out = admin("hb_takeover", &["--statedir", dir]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!("heartbeat is not running (no reader on {})", fifo.display());
    assert!(
        text(&out.stderr).contains(&expected),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn admin_tools_print_the_script_usage_on_bad_arguments() {
    for tool in ["hb_standby", "hb_takeover"] {
        let out = admin(tool, &["--statedir", "/nonexistent", "sideways"]);
        assert_eq!(out.status.code(), Some(1));
        let stdout = text(&out.stdout);
        assert!(stdout.contains(": wrong resources(sideways)."), "{stdout}");
        assert!(stdout.contains("usage:"));
        assert!(text(&out.stderr).contains("[all|foreign|local|failback]"));

        let out = admin(tool, &["all", "local"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stdout).contains(": too many arguments"));

        let out = admin(tool, &["--help"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stdout).contains("usage:"));
    }
}

// ------------------------------------------------------------------ shell pieces

#[test]
fn harc_runs_the_rc_d_hook_and_hb_takeover_only_logs() {
    let pkgs = packages();
    let tmp = TempDir::new("harc");
    let hadir = tmp.path().join("ha.d");
    std::fs::create_dir_all(hadir.join("rc.d")).expect("rc.d");
    std::fs::copy(
        pkgs.tree.join("etc/ha.d/rc.d/hb_takeover"),
        hadir.join("rc.d/hb_takeover"),
    )
    .expect("copy hook");
    // A stand-in hb_standby that records its arguments.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let calls = tmp.path().join("calls");
    let fake = bin.join("hb_standby");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho \"[$*]\" >> '{}'\n", calls.display()),
    )
    .expect("fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let harc = pkgs.tree.join("etc/ha.d/harc");
    // heartbeat-rs goes standby itself on a peer's hb_takeover (docs/behaviour.md §5.6): the
    // packaged hook only logs the request and never runs hb_standby a second time.
    let cases = [
        ("all", "peer", ""),
        ("local", "peer", ""),
        ("foreign", "peer", ""),
        ("failback", "peer", ""),
        ("all", "me", ""), // our own request: ignored
    ];
    let debuglog = tmp.path().join("ha-debug");
    for (hold, src, want) in cases {
        let _ = std::fs::remove_file(&calls);
        let _ = std::fs::remove_file(&debuglog);
        let out = run(Command::new(&harc)
            .arg("hb_takeover")
            .env("HA_DIR", format!("{}/", hadir.display()))
            .env("HA_FUNCS", "/etc/ha.d/shellfuncs")
            .env("HA_NOARCHBIN", &bin)
            .env("HA_CURHOST", "me")
            .env("HA_src", src)
            .env("HA_rsc_hold", hold)
            .env("HA_DEBUGLOG", &debuglog)
            .env_remove("HA_LOGFILE")
            .env_remove("HA_LOGFACILITY"));
        assert!(out.status.success(), "harc: {}", text(&out.stderr));
        let got = std::fs::read_to_string(&calls).unwrap_or_default();
        assert_eq!(got.trim(), want, "rsc_hold={hold} src={src}");
        // harc logs what it runs to the debug log, the way 3.0.6's harc does.
        let log = std::fs::read_to_string(&debuglog).unwrap_or_default();
        assert_eq!(
            log.contains(&format!("peer asks to take over {hold} resources")),
            src == "peer",
            "debug log: {log}"
        );
        assert!(
            log.contains(&format!(
                "info: Running {}//rc.d/hb_takeover hb_takeover",
                hadir.display()
            )),
            "debug log: {log}"
        );
    }
    // Unknown type: logged error, exit 1. Path-like types are refused.
    for t in ["nosuchtype", "../bin/hb_standby"] {
        let out = run(Command::new(&harc)
            .arg(t)
            .env("HA_DIR", &hadir)
            .env("HA_NOARCHBIN", &bin));
        assert_eq!(out.status.code(), Some(1), "harc {t}");
        assert!(text(&out.stderr).contains("ERROR"));
    }
}

/// ResourceManager's reading of a status output (docs/behaviour.md §5.3).
fn status_means_running(out: &str) -> bool {
    let lower = out.to_lowercase();
    let not_running = lower
        .match_indices("not")
        .any(|(i, _)| lower[i + 3..].trim_start().starts_with("running"));
    !not_running && (lower.contains("running") || out.contains("OK"))
}

/// A network namespace of this test; dropped → its processes killed by PID, then deleted.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let name = format!("hbp-{}", std::process::id());
        let _ = run(Command::new("ip").args(["netns", "del", &name]));
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        Netns(name)
    }
    fn ip(&self, args: &[&str]) -> Output {
        run(Command::new("ip").arg("-n").arg(&self.0).args(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let pids = run(Command::new("ip").args(["netns", "pids", &self.0]));
        for pid in text(&pids.stdout).split_whitespace() {
            if let Ok(p) = pid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(p),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
        let _ = run(Command::new("ip").args(["netns", "del", &self.0]));
    }
}

#[test]
fn ipaddr2_wrapper_drives_the_real_ocf_agent() {
    let pkgs = packages();
    let agent = Path::new("/usr/lib/ocf/resource.d/heartbeat/IPaddr2");
    assert!(
        agent.is_file(),
        "{} missing: apt-get install resource-agents",
        agent.display()
    );
    let ns = Netns::new();
    // A dummy interface where the kernel has the module, else a veth pair (both ends inside).
    let iface = "hbp0";
    if !ns
        .ip(&["link", "add", iface, "type", "dummy"])
        .status
        .success()
    {
        let out = ns.ip(&["link", "add", iface, "type", "veth", "peer", "name", "hbp1"]);
        assert!(out.status.success(), "veth: {}", text(&out.stderr));
        assert!(ns.ip(&["link", "set", "hbp1", "up"]).status.success());
    }
    assert!(ns.ip(&["link", "set", iface, "up"]).status.success());
    assert!(ns.ip(&["link", "set", "lo", "up"]).status.success());
    assert!(ns
        .ip(&["addr", "add", "198.18.77.1/24", "dev", iface])
        .status
        .success());

    let rsctmp = TempDir::new("rsctmp");
    let wrapper = pkgs.tree.join("etc/ha.d/resource.d/IPaddr2");
    let spec = format!("198.18.77.10/24/{iface}");
    let op = |operation: &str| {
        run(Command::new("ip")
            .args(["netns", "exec", &ns.0])
            .arg(&wrapper)
            .args([spec.as_str(), operation])
            .env("HA_RSCTMP", rsctmp.path())
            .env_remove("HA_LOGFILE")
            .env_remove("HA_DEBUGLOG")
            .env_remove("HA_LOGFACILITY"))
    };
    let has_address =
        || text(&ns.ip(&["-4", "addr", "show", "dev", iface]).stdout).contains("198.18.77.10/24");

    assert!(!has_address());
    let status = op("status");
    assert_eq!(status.status.code(), Some(7), "{}", text(&status.stderr));
    assert!(!status_means_running(&text(&status.stdout)));

    let start = op("start");
    assert!(start.status.success(), "start: {}", text(&start.stderr));
    assert!(has_address(), "address added by start");
    let status = op("status");
    let out = text(&status.stdout);
    assert!(status.status.success(), "{out}{}", text(&status.stderr));
    assert!(out.contains("Running OK"), "{out}");
    assert!(status_means_running(&out), "{out}");

    let stop = op("stop");
    assert!(stop.status.success(), "stop: {}", text(&stop.stderr));
    assert!(!has_address(), "address removed by stop");
    let status = op("status");
    let out = text(&status.stdout);
    assert_eq!(status.status.code(), Some(7));
    assert!(out.contains("Resource is stopped"), "{out}");
    assert!(!out.to_lowercase().contains("running"), "{out}");
    assert!(!status_means_running(&out));

    // Stopping a stopped resource succeeds (ResourceManager relies on it).
    assert!(op("stop").status.success());
    // Bad arguments: usage, exit 1.
    let out = run(Command::new(&wrapper).arg("start"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("usage: IPaddr2"));
}

#[test]
fn status_reading_matches_resource_manager() {
    assert!(status_means_running("INFO: IPaddr2 Running OK"));
    assert!(status_means_running("OCF Resource Dummy::a is running"));
    assert!(!status_means_running("INFO: IPaddr2 Resource is stopped"));
    assert!(!status_means_running("apache2 is not running"));
}

/// Runs a shipped resource script against a fake OCF agent that records what it was given.
struct FakeOcf {
    dir: TempDir,
}

impl FakeOcf {
    fn new(agents: &[&str]) -> FakeOcf {
        let dir = TempDir::new("ocf");
        let provider = dir.path().join("resource.d/heartbeat");
        std::fs::create_dir_all(&provider).expect("provider dir");
        for agent in agents {
            let p = provider.join(agent);
            std::fs::write(
                &p,
                "#!/bin/sh\n{ echo \"op=$1\"; echo \"instance=$OCF_RESOURCE_INSTANCE\"; \
                 env | grep '^OCF_RESKEY_' | sort; } > \"$FAKE_OUT\"\nexit ${FAKE_RC:-0}\n",
            )
            .expect("fake agent");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        FakeOcf { dir }
    }

    /// Runs `script args…` with the agent exiting `rc`; returns (exit code, stdout, record).
    fn call(&self, script: &str, args: &[&str], rc: i32) -> (Option<i32>, String, Vec<String>) {
        let record = self.dir.path().join("record");
        let _ = std::fs::remove_file(&record);
        let out = run(
            Command::new(packages().tree.join("etc/ha.d/resource.d").join(script))
                .args(args)
                .env("OCF_ROOT", self.dir.path())
                .env("HA_FUNCS", "/nonexistent/shellfuncs")
                .env("FAKE_OUT", &record)
                .env("FAKE_RC", rc.to_string()),
        );
        let rec = std::fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        (out.status.code(), text(&out.stdout), rec)
    }
}

#[test]
fn ocf_wrapper_maps_heartbeat_arguments_to_ocf_parameters() {
    let agents = [
        "IPaddr",
        "IPaddr2",
        "IPv6addr",
        "SendArp",
        "Filesystem",
        "apache",
        "MailTo",
        "Delay",
        "Dummy",
    ];
    let fake = FakeOcf::new(&agents);
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "IPaddr",
            &["198.18.77.1/24/eth0/198.18.77.255", "start"],
            &[
                "op=start",
                "instance=IPaddr_198.18.77.1",
                "OCF_RESKEY_broadcast=198.18.77.255",
                "OCF_RESKEY_cidr_netmask=24",
                "OCF_RESKEY_ip=198.18.77.1",
                "OCF_RESKEY_lvs_support=0",
                "OCF_RESKEY_nic=eth0",
            ],
        ),
        (
            "IPaddr",
            &["198.18.1.2/24/198.18.1.255", "stop"],
            &[
                "op=stop",
                "instance=IPaddr_198.18.1.2",
                "OCF_RESKEY_broadcast=198.18.1.255",
                "OCF_RESKEY_cidr_netmask=24",
                "OCF_RESKEY_ip=198.18.1.2",
                "OCF_RESKEY_lvs_support=0",
            ],
        ),
        (
            "IPaddr2",
            &["198.18.1.2/24/eth0:web", "status"],
            &[
                "op=monitor",
                "instance=IPaddr2_198.18.1.2",
                "OCF_RESKEY_cidr_netmask=24",
                "OCF_RESKEY_ip=198.18.1.2",
                "OCF_RESKEY_lvs_support=1",
                "OCF_RESKEY_nic=eth0:web",
            ],
        ),
        (
            "IPaddr2",
            &["198.18.1.3", "monitor"],
            &[
                "op=monitor",
                "instance=IPaddr2_198.18.1.3",
                "OCF_RESKEY_ip=198.18.1.3",
                "OCF_RESKEY_lvs_support=1",
            ],
        ),
        (
            "IPv6addr",
            &["2001:db8::1/64/eth1", "start"],
            &[
                "op=start",
                "instance=IPv6addr_2001:db8::1/64/eth1",
                "OCF_RESKEY_cidr_netmask=64",
                "OCF_RESKEY_ipv6addr=2001:db8::1",
                "OCF_RESKEY_nic=eth1",
            ],
        ),
        (
            "SendArp",
            &["198.18.1.2/eth0", "start"],
            &[
                "op=start",
                "instance=SendArp_198.18.1.2",
                "OCF_RESKEY_ip=198.18.1.2",
                "OCF_RESKEY_nic=eth0",
            ],
        ),
        (
            "Filesystem",
            &["/dev/sdb1", "/data", "ext4", "noatime", "start"],
            &[
                "op=start",
                "instance=Filesystem_/dev/sdb1",
                "OCF_RESKEY_device=/dev/sdb1",
                "OCF_RESKEY_directory=/data",
                "OCF_RESKEY_fstype=ext4",
                "OCF_RESKEY_options=noatime",
            ],
        ),
        (
            "apache",
            &["/etc/apache2/apache2.conf", "stop"],
            &[
                "op=stop",
                "instance=apache_/etc/apache2/apache2.conf",
                "OCF_RESKEY_configfile=/etc/apache2/apache2.conf",
            ],
        ),
        (
            "MailTo",
            &["root@example.org", "failover", "start"],
            &[
                "op=start",
                "instance=MailTo",
                "OCF_RESKEY_email=root@example.org",
                "OCF_RESKEY_subject=failover",
            ],
        ),
        (
            "Delay",
            &["start"],
            &["op=start", "instance=Delay_10", "OCF_RESKEY_startdelay=10"],
        ),
        (
            "Delay",
            &["5", "3", "stop"],
            &[
                "op=stop",
                "instance=Delay_5",
                "OCF_RESKEY_startdelay=5",
                "OCF_RESKEY_stopdelay=3",
            ],
        ),
    ];
    for (script, args, want) in cases {
        let (code, _, rec) = fake.call(script, args, 0);
        assert_eq!(code, Some(0), "{script} {args:?}");
        assert_eq!(&rec, want, "{script} {args:?}");
    }
    // Any other agent through the generic wrapper: name=value parameters.
    let (code, _, rec) = fake.call("hb-ocf-wrapper", &["Dummy", "state=/run/x", "start"], 0);
    assert_eq!(code, Some(0));
    assert_eq!(
        rec,
        [
            "op=start",
            "instance=Dummy_/run/x",
            "OCF_RESKEY_state=/run/x"
        ]
    );

    // Verdict lines and exit codes.
    let (code, out, _) = fake.call("IPaddr2", &["198.18.1.2", "status"], 0);
    assert_eq!((code, out.trim()), (Some(0), "INFO: IPaddr2 Running OK"));
    let (code, out, _) = fake.call("IPaddr2", &["198.18.1.2", "status"], 7);
    assert_eq!(
        (code, out.trim()),
        (Some(7), "INFO: IPaddr2 Resource is stopped")
    );
    let (code, out, _) = fake.call("IPaddr2", &["198.18.1.2", "start"], 0);
    assert_eq!((code, out.trim()), (Some(0), "INFO: IPaddr2 Success"));
    let (code, out, _) = fake.call("IPaddr2", &["198.18.1.2", "start"], 1);
    assert_eq!(
        (code, out.trim()),
        (Some(1), "ERROR: IPaddr2 Generic error")
    );
    let (code, out, _) = fake.call("IPaddr2", &["198.18.1.2", "start"], 42);
    assert_eq!(code, Some(1));
    assert!(out.contains("Unknown error: 42"), "{out}");

    // Wrong argument counts and operations: usage, exit 1, agent not run.
    for (script, args) in [
        ("IPaddr2", &["start"][..]),
        ("IPaddr2", &["a", "b", "start"][..]),
        ("SendArp", &["198.18.1.2", "start"][..]),
        ("Filesystem", &["/dev/sdb1", "start"][..]),
        ("MailTo", &["start"][..]),
        ("IPaddr2", &["198.18.1.2", "explode"][..]),
        ("hb-ocf-wrapper", &["../../bin/sh", "start"][..]),
    ] {
        let (code, _, rec) = fake.call(script, args, 0);
        assert_eq!(code, Some(1), "{script} {args:?}");
        assert!(rec.is_empty(), "{script} {args:?} must not run the agent");
    }
    // A missing agent is reported, not run.
    let (code, out, _) = fake.call("hb-ocf-wrapper", &["NoSuchAgent", "start"], 0);
    assert_eq!(code, Some(1));
    assert!(out.contains("is not an executable file"), "{out}");
}

#[test]
fn ocf_script_runs_any_agent_with_instance_settings() {
    let pkgs = packages();
    let agent = Path::new("/usr/lib/ocf/resource.d/heartbeat/Dummy");
    assert!(
        agent.is_file(),
        "{} missing: apt-get install resource-agents",
        agent.display()
    );
    let tmp = TempDir::new("ocfdummy");
    let hadir = tmp.path().join("ha.d");
    let conf = hadir.join("conf/OCF/Dummy");
    std::fs::create_dir_all(&conf).expect("conf dir");
    let state = tmp.path().join("web.state");
    std::fs::write(
        conf.join("web"),
        format!("# instance settings\nstate={}\n", state.display()),
    )
    .expect("instance file");
    let ocf = pkgs.tree.join("etc/ha.d/resource.d/OCF");
    let op = |operation: &str| {
        let out = run(Command::new(&ocf)
            .args(["Dummy", "web", operation])
            .env("HA_DIR", &hadir)
            .env("HA_RSCTMP", tmp.path())
            .env_remove("HA_LOGFILE")
            .env_remove("HA_DEBUGLOG"));
        (out.status.code(), text(&out.stdout))
    };
    assert_eq!(
        op("status"),
        (Some(7), "OCF Resource Dummy::web is stopped\n".into())
    );
    assert_eq!(op("start").0, Some(0));
    assert!(
        state.exists(),
        "the agent got OCF_RESKEY_state from the instance file"
    );
    assert_eq!(
        op("status"),
        (Some(0), "OCF Resource Dummy::web is running\n".into())
    );
    assert_eq!(op("stop").0, Some(0));
    assert!(!state.exists());
    let (code, out) = op("status");
    assert_eq!(code, Some(7));
    assert!(!status_means_running(&out), "{out}");
    // Unknown instance: not configured.
    let out = run(Command::new(&ocf)
        .args(["Dummy", "nosuch", "status"])
        .env("HA_DIR", &hadir));
    assert_eq!(out.status.code(), Some(6));
}
