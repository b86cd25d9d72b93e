//! The table of ha.cf directives: how each is lexed, its built-in default,
//! its one-line description, and whether its value is recorded as a
//! parameter (docs/behaviour.md §3.3, §3.5).
//!
//! One table drives the lexer (which words are directives and how the rest
//! of the line is split), the default installation after parsing, and the
//! `heartbeat -D` output, so the three can never disagree. The order of the
//! option directives is the order of the C daemon's table, which is the
//! order `-D` prints.

/// How the rest of a directive's line is handed to it (docs/behaviour.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Split on space, tab, comma, CR, LF, FF; applied once per token.
    Option,
    /// The rest of the line verbatim (`apiauth`, `respawn`, ...).
    WholeLine,
    /// A medium per token (`bcast`, `serial`, `ping`, `ping6`).
    TokenMedium,
    /// One medium from the whole line (`ucast`, `mcast`, `ping_group`, ...).
    LineMedium,
}

/// One row of the directive table.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// Name as written in ha.cf (case-sensitive).
    pub name: &'static str,
    /// Lexical class.
    pub class: Class,
    /// Value installed after parsing when the directive is absent.
    pub default: Option<&'static str>,
    /// Description shown by `heartbeat -D`.
    pub explanation: Option<&'static str>,
    /// Whether accepted values go into the parameter table.
    pub record: bool,
}

const fn opt(
    name: &'static str,
    default: Option<&'static str>,
    explanation: Option<&'static str>,
    record: bool,
) -> Directive {
    Directive {
        name,
        class: Class::Option,
        default,
        explanation,
        record,
    }
}

const fn other(name: &'static str, class: Class) -> Directive {
    Directive {
        name,
        class,
        default: None,
        explanation: None,
        record: false,
    }
}

/// Every directive the Debian build of Heartbeat 3.0.6 accepts.
pub const DIRECTIVES: &[Directive] = &[
    opt(
        "cluster",
        Some("linux-ha"),
        Some("the name of cluster"),
        true,
    ),
    opt("node", None, None, false),
    opt(
        "hopfudge",
        Some("1"),
        Some("# of hops above cluster size"),
        true,
    ),
    opt("keepalive", Some("1000ms"), Some("keepalive time"), true),
    opt("deadtime", Some("30000ms"), Some("node deadtime"), true),
    opt("deadping", None, Some("ping deadtime"), true),
    opt("initdead", None, Some("initial deadtime"), true),
    opt("warntime", None, Some("warning time"), true),
    opt("watchdog", None, Some("watchdog device"), true),
    opt("baud", Some("19200"), Some("baud rate"), true),
    opt("udpport", None, Some("UDP port number"), true),
    opt("logfacility", None, Some("syslog log facility"), true),
    opt("logfile", None, Some("log file"), true),
    opt("debugfile", None, Some("debug file"), true),
    opt("nice_failback", None, None, false),
    opt("auto_failback", Some("legacy"), Some("auto failback"), true),
    opt("rtprio", None, Some("realtime priority"), true),
    opt(
        "hbgenmethod",
        Some("file"),
        Some("protocol generation computation method"),
        true,
    ),
    opt(
        "realtime",
        Some("true"),
        Some("enable realtime behavior?"),
        true,
    ),
    opt("debug", None, Some("debug level"), true),
    opt(
        "msgfmt",
        Some("classic"),
        Some("message format in the wire"),
        true,
    ),
    opt("use_logd", None, Some("use logging daemon"), true),
    opt(
        "conn_logd_time",
        Some("60"),
        Some("the interval to reconnect to logd"),
        true,
    ),
    opt("use_apphbd", None, Some("register with apphbd"), false),
    opt(
        "log_badpack",
        Some("true"),
        Some("warn about bad packets"),
        true,
    ),
    opt(
        "syslogmsgfmt",
        Some("true"),
        Some("log to files in syslog format"),
        true,
    ),
    opt(
        "coredumps",
        Some("true"),
        Some("enable Linux-HA core dumps"),
        true,
    ),
    opt(
        "coreroot",
        None,
        Some("set root directory of core dump area"),
        true,
    ),
    opt(
        "crm_daemon_dir",
        None,
        Some("location for Pacemaker daemons"),
        true,
    ),
    opt(
        "crmd_spawns_pengine",
        None,
        Some("should pengine be spawned directly by heartbeat"),
        true,
    ),
    opt("crm", None, Some("historical alias for 'pacemaker'"), false),
    opt(
        "pacemaker",
        Some("false"),
        Some("enable Pacemaker resource management"),
        true,
    ),
    opt(
        "autojoin",
        Some("none"),
        Some("set automatic join mode/style"),
        true,
    ),
    opt(
        "uuidfrom",
        Some("file"),
        Some("set the source for uuid"),
        true,
    ),
    opt(
        "compression",
        Some("zlib"),
        Some("set compression module"),
        true,
    ),
    opt(
        "compression_threshold",
        Some("2"),
        Some("set compression threshold"),
        true,
    ),
    opt(
        "traditional_compression",
        Some("no"),
        Some("set traditional_compression"),
        true,
    ),
    opt(
        "env",
        None,
        Some("set environment variable for respawn clients"),
        false,
    ),
    opt(
        "max_rexmit_delay",
        Some("250"),
        Some("set the maximum rexmit delay time"),
        true,
    ),
    opt(
        "record_config_changes",
        Some("on"),
        Some("record changes to the cib (valid only with: pacemaker on)"),
        true,
    ),
    opt(
        "record_pengine_inputs",
        Some("on"),
        Some("record the input used by the policy engine (valid only with: pacemaker on)"),
        true,
    ),
    opt(
        "enable_config_writes",
        Some("on"),
        Some("write configuration changes to disk (valid only with: pacemaker on)"),
        true,
    ),
    opt(
        "memreserve",
        Some("6500"),
        Some("number of kbytes to preallocate in heartbeat"),
        true,
    ),
    opt(
        "quorum_server",
        None,
        Some("the name or ip of quorum server"),
        true,
    ),
    // heartbeat-rs only (Heartbeat 3.0.6 rejects it): where the daemon writes its Prometheus
    // metrics for node_exporter's textfile collector. No default, so `-D` is unchanged.
    opt("metrics_file", None, None, false),
    other("stonith", Class::WholeLine),
    other("stonith_host", Class::WholeLine),
    other("apiauth", Class::WholeLine),
    other("respawn", Class::WholeLine),
    other("failfast", Class::WholeLine),
    other("bcast", Class::TokenMedium),
    other("serial", Class::TokenMedium),
    other("ping", Class::TokenMedium),
    other("ping6", Class::TokenMedium),
    other("ucast", Class::LineMedium),
    other("ucast6", Class::LineMedium),
    other("mcast", Class::LineMedium),
    other("mcast6", Class::LineMedium),
    other("ping_group", Class::LineMedium),
];

/// The table row for a directive name, if it is one.
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| d.name == name)
}

/// Why an accepted directive changes nothing in this daemon, or `None` when it
/// has an effect. Every directive listed here is accepted exactly as 3.0.6
/// accepts it, and `--check-config` and the start-up log say, for each line
/// that uses it, that it has no effect and why (docs/behaviour.md §3.3).
pub fn no_effect(name: &str) -> Option<&'static str> {
    Some(match name {
        "use_apphbd" => {
            "registration with apphbd is not implemented; the watchdog directive \
             covers the master control process"
        }
        "crm_daemon_dir"
        | "crmd_spawns_pengine"
        | "record_config_changes"
        | "record_pengine_inputs"
        | "enable_config_writes" => {
            "it is used only with pacemaker, which this heartbeat does not run \
             (3.0.6 ignores it too in haresources mode)"
        }
        "quorum_server" => {
            "the quorum server is used only with pacemaker; the value only \
             replaces the cluster name, as in 3.0.6"
        }
        _ => return None,
    })
}

/// The Heartbeat version the `-D -W` banner and the `hbversion` parameter name.
pub const HB_VERSION: &str = "3.0.6";

/// The text `heartbeat -D` prints (`wiki = false`) or `heartbeat -D -W`
/// prints (`wiki = true`): the directives that have a built-in default,
/// with that default and a description (docs/behaviour.md §2.1).
pub fn defaults_table(wiki: bool) -> String {
    let rows: Vec<(&str, &str, &str)> = DIRECTIVES
        .iter()
        .filter_map(|d| {
            d.default
                .map(|def| (d.name, def, d.explanation.unwrap_or("")))
        })
        .collect();
    let mut out = String::new();
    if wiki {
        out.push_str("##Put this output in the ha.cf/DefaultValues page\n");
        out.push_str(
            "The [wiki:ha.cf ha.cf] directives with default values are shown below \
             - along with a brief description.\n",
        );
        out.push_str(&format!(
            "This was produced by {{{{{{heartbeat -DW}}}}}} ''# (version {HB_VERSION})''\n\n"
        ));
        out.push_str("||''Directive''||''Default''||''Description''||\n");
        for (name, default, explanation) in rows {
            out.push_str(&format!(
                "||[wiki:ha.cf/{}Directive {name}]||{default}||{explanation}||\n",
                wiki_name(name)
            ));
        }
        return out;
    }
    let (lhdr, chdr, rhdr) = ("Directive", "Default", "Description");
    let lw = rows
        .iter()
        .map(|r| r.0.len())
        .chain([lhdr.len()])
        .max()
        .unwrap_or(0);
    let cw = rows
        .iter()
        .map(|r| r.1.len())
        .chain([chdr.len()])
        .max()
        .unwrap_or(0);
    let rw = rows
        .iter()
        .map(|r| r.2.len())
        .chain([rhdr.len()])
        .max()
        .unwrap_or(0);
    out.push_str(&format!("{lhdr:<lw$}  {chdr:<cw$}  {rhdr}\n"));
    // The C daemon's dash line is a fixed 80-character string cut to the
    // table width, so it never exceeds 80.
    out.push_str(&"-".repeat((lw + cw + rw + 4).min(80)));
    out.push('\n');
    for (name, default, explanation) in rows {
        out.push_str(&format!("{name:<lw$}  {default:<cw$}  {explanation}\n"));
    }
    out
}

/// Wiki page name: first letter capitalised, each `_x` becomes `X`.
fn wiki_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c == '_' {
            upper = true;
            continue;
        }
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiki_names() {
        assert_eq!(wiki_name("auto_failback"), "AutoFailback");
        assert_eq!(wiki_name("conn_logd_time"), "ConnLogdTime");
        assert_eq!(wiki_name("keepalive"), "Keepalive");
    }

    #[test]
    fn classes() {
        assert_eq!(lookup("node").map(|d| d.class), Some(Class::Option));
        assert_eq!(lookup("respawn").map(|d| d.class), Some(Class::WholeLine));
        assert_eq!(lookup("bcast").map(|d| d.class), Some(Class::TokenMedium));
        assert_eq!(lookup("mcast").map(|d| d.class), Some(Class::LineMedium));
        assert!(lookup("Node").is_none());
        assert!(lookup("hbaping").is_none());
        assert!(lookup("normalpoll").is_none());
    }
}
