//! `stonith <type> <configfile>` and `stonith_host <host|*> <type> <params...>`.
//!
//! Parsing checks the shape of a line. [`check_devices`] checks the device
//! types and parameters against what cluster-glue's `stonith` command reports
//! (the daemon hands in the lookups; this module does no I/O), and
//! [`effective_device`] picks the device the daemon uses: like the C, the
//! last `stonith` or applicable `stonith_host` line (docs/behaviour.md §3.3,
//! §5.5.2).

use std::path::Path;

use crate::error::{ConfigError, ConfigErrorKind, StonithProblem};

/// A `stonith` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stonith {
    /// Device type.
    pub stonith_type: String,
    /// Device configuration file.
    pub config_file: String,
    /// ha.cf line number.
    pub line: usize,
}

/// A `stonith_host` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StonithHost {
    /// Host the device is attached to, or `*` for any.
    pub host: String,
    /// Device type.
    pub stonith_type: String,
    /// Device parameters as written.
    pub params: String,
    /// ha.cf line number.
    pub line: usize,
}

impl StonithHost {
    /// Whether this line is for the local node (`*` or its name, any case);
    /// the C daemon ignores the others.
    pub fn applies_to(&self, local_node: &str) -> bool {
        self.host == "*" || self.host.eq_ignore_ascii_case(local_node)
    }
}

pub(crate) fn parse_stonith(rest: &str, line: usize) -> Result<Stonith, StonithProblem> {
    let mut words = rest.split_whitespace();
    let stonith_type = words.next().ok_or(StonithProblem::MissingType)?;
    let config_file = words.next().ok_or(StonithProblem::MissingConfigFile)?;
    Ok(Stonith {
        stonith_type: stonith_type.into(),
        config_file: config_file.into(),
        line,
    })
}

pub(crate) fn parse_stonith_host(rest: &str, line: usize) -> Result<StonithHost, StonithProblem> {
    let rest = rest.trim_start();
    let (host, rest) = split_word(rest).ok_or(StonithProblem::MissingHost)?;
    let (stonith_type, params) = split_word(rest).ok_or(StonithProblem::MissingType)?;
    Ok(StonithHost {
        host: host.into(),
        stonith_type: stonith_type.into(),
        params: params.trim().into(),
        line,
    })
}

/// How the device gets its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceConfig {
    /// `stonith_host`: the parameter string (`stonith -p`).
    Params(String),
    /// `stonith`: a configuration file (`stonith -F`).
    File(String),
}

/// The STONITH device this node uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Device type (`external/ssh`, `null`, ...).
    pub stonith_type: String,
    /// Its configuration.
    pub config: DeviceConfig,
    /// ha.cf line it comes from.
    pub line: usize,
}

/// The device the C daemon would use: the last `stonith` line or
/// `stonith_host` line for `*` or the local node (each such line replaces the
/// previous device), in file order.
pub fn effective_device(
    stonith: &[Stonith],
    stonith_host: &[StonithHost],
    local_node: &str,
) -> Option<Device> {
    let a = stonith.iter().map(|s| Device {
        stonith_type: s.stonith_type.clone(),
        config: DeviceConfig::File(s.config_file.clone()),
        line: s.line,
    });
    let b = stonith_host
        .iter()
        .filter(|h| h.applies_to(local_node))
        .map(|h| Device {
            stonith_type: h.stonith_type.clone(),
            config: DeviceConfig::Params(h.params.clone()),
            line: h.line,
        });
    a.chain(b).max_by_key(|d| d.line)
}

/// What [`check_devices`] needs to know about the host.
pub trait DeviceLookup {
    /// The configuration names of a device type (`stonith -t TYPE -n`);
    /// `None` when the type is unknown.
    fn config_names(&self, stonith_type: &str) -> Result<Option<Vec<String>>, StonithProblem>;
    /// Why a `stonith` configuration file cannot be read, if it cannot.
    fn unreadable(&self, path: &str) -> Option<String>;
}

/// Checks every `stonith` / `stonith_host` line of `hacf_path`: the device
/// type must exist, a `stonith_host` line must give at least one word per
/// configuration name (cluster-glue gives the last name the rest of the line),
/// a `stonith` configuration file must be readable. Errors name FILE:LINE.
pub fn check_devices(
    hacf_path: &Path,
    stonith: &[Stonith],
    stonith_host: &[StonithHost],
    lookup: &dyn DeviceLookup,
) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut bad = |line: usize, directive: &str, problem: StonithProblem| {
        errors.push(ConfigError::at(
            hacf_path,
            line,
            ConfigErrorKind::BadStonith {
                directive: directive.to_string(),
                problem,
            },
        ))
    };
    for s in stonith {
        match lookup.config_names(&s.stonith_type) {
            Err(p) => bad(s.line, "stonith", p),
            Ok(None) => bad(
                s.line,
                "stonith",
                StonithProblem::UnknownType {
                    stonith_type: s.stonith_type.clone(),
                },
            ),
            Ok(Some(_)) => {
                if let Some(reason) = lookup.unreadable(&s.config_file) {
                    bad(
                        s.line,
                        "stonith",
                        StonithProblem::BadConfigFile {
                            detail: format!("[{}]: {reason}", s.config_file),
                        },
                    );
                }
            }
        }
    }
    for h in stonith_host {
        match lookup.config_names(&h.stonith_type) {
            Err(p) => bad(h.line, "stonith_host", p),
            Ok(None) => bad(
                h.line,
                "stonith_host",
                StonithProblem::UnknownType {
                    stonith_type: h.stonith_type.clone(),
                },
            ),
            Ok(Some(names)) => {
                if h.params.split_whitespace().count() < names.len() {
                    bad(
                        h.line,
                        "stonith_host",
                        StonithProblem::BadParameters {
                            detail: format!(
                                "[{}]: {t} expects {} (`stonith -t {t} -n`)",
                                h.params,
                                names.join(" "),
                                t = h.stonith_type
                            ),
                        },
                    );
                }
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    errors
}

fn split_word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lookup;
    impl DeviceLookup for Lookup {
        fn config_names(&self, t: &str) -> Result<Option<Vec<String>>, StonithProblem> {
            Ok(match t {
                "external/ssh" => Some(vec!["hostlist".into()]),
                "apcmaster" => Some(vec!["ipaddr".into(), "login".into(), "password".into()]),
                _ => None,
            })
        }
        fn unreadable(&self, path: &str) -> Option<String> {
            (path != "/etc/ha.d/ok.cfg").then(|| "No such file or directory".into())
        }
    }

    #[test]
    fn devices_are_checked_with_file_and_line() {
        let p = Path::new("/etc/ha.d/ha.cf");
        let st = vec![
            parse_stonith("apcmaster /etc/ha.d/ok.cfg", 2).unwrap(),
            parse_stonith("apcmaster /etc/ha.d/missing.cfg", 3).unwrap(),
            parse_stonith("bogus /etc/ha.d/ok.cfg", 4).unwrap(),
        ];
        let sh = vec![
            parse_stonith_host("* external/ssh nodea nodeb", 5).unwrap(),
            parse_stonith_host("nodea apcmaster 10.0.0.1 admin", 6).unwrap(),
            parse_stonith_host("* nosuch x", 7).unwrap(),
            parse_stonith_host("* external/ssh", 8).unwrap(),
        ];
        let errs: Vec<String> = check_devices(p, &st, &sh, &Lookup)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].starts_with(
                "/etc/ha.d/ha.cf:3: `stonith`: Invalid Stonith config file [/etc/ha.d/missing.cfg]"
            ),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].starts_with("/etc/ha.d/ha.cf:4: `stonith`: Invalid Stonith type [bogus]"),
            "{}",
            errs[1]
        );
        assert!(errs[2].starts_with("/etc/ha.d/ha.cf:6: `stonith_host`: Invalid Stonith configuration parameter [10.0.0.1 admin]: apcmaster expects ipaddr login password"), "{}", errs[2]);
        assert!(
            errs[3].contains(":7: ") && errs[3].contains("[nosuch]"),
            "{}",
            errs[3]
        );
        assert!(
            errs[4].contains(":8: ") && errs[4].contains("expects hostlist"),
            "{}",
            errs[4]
        );
    }

    #[test]
    fn the_last_applicable_line_is_the_device() {
        let st = vec![parse_stonith("apcmaster /etc/ha.d/ok.cfg", 2).unwrap()];
        let sh = vec![
            parse_stonith_host("* external/ssh nodea nodeb", 5).unwrap(),
            parse_stonith_host("nodeb null nodea", 6).unwrap(),
        ];
        let d = effective_device(&st, &sh, "NodeA").unwrap();
        assert_eq!(d.stonith_type, "external/ssh");
        assert_eq!(d.config, DeviceConfig::Params("nodea nodeb".into()));
        let d = effective_device(&st, &sh, "nodeb").unwrap();
        assert_eq!((d.stonith_type.as_str(), d.line), ("null", 6));
        let d = effective_device(&st, &[], "nodeb").unwrap();
        assert_eq!(d.config, DeviceConfig::File("/etc/ha.d/ok.cfg".into()));
        assert_eq!(effective_device(&[], &sh[1..], "nodea"), None);
    }

    #[test]
    fn stonith_lines() {
        let s = parse_stonith("baytech /etc/ha.d/conf/stonith.baytech", 3).unwrap();
        assert_eq!(
            (s.stonith_type.as_str(), s.config_file.as_str(), s.line),
            ("baytech", "/etc/ha.d/conf/stonith.baytech", 3)
        );
        assert_eq!(parse_stonith("", 1), Err(StonithProblem::MissingType));
        assert_eq!(
            parse_stonith("baytech", 1),
            Err(StonithProblem::MissingConfigFile)
        );
        let h = parse_stonith_host("*     baytech 10.0.0.3 mylogin mysecretpassword", 4).unwrap();
        assert_eq!(h.host, "*");
        assert!(h.applies_to("anything"));
        let k = parse_stonith_host("Ken3 rps10 /dev/ttyS1 kathy 0", 5).unwrap();
        assert!(k.applies_to("ken3") && !k.applies_to("kathy"));
        assert_eq!(h.stonith_type, "baytech");
        assert_eq!(h.params, "10.0.0.3 mylogin mysecretpassword");
        assert_eq!(parse_stonith_host("", 1), Err(StonithProblem::MissingHost));
        assert_eq!(
            parse_stonith_host("ken3", 1),
            Err(StonithProblem::MissingType)
        );
    }
}
