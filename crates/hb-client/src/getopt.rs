//! GNU `getopt(3)` as `cl_status` experiences it.
//!
//! `cl_status` hands `getopt` the arguments after the program name, so
//! the sub-command plays `argv[0]` and appears in the error messages
//! (`listnodes: invalid option -- 'x'`). GNU getopt permutes: options may
//! follow operands (`cl_status nodestatus vm -m`), `--` ends the options,
//! a lone `-` is an operand. Parsing returns every event in order, because
//! each sub-command of the C tool stops at a different point.

/// One getopt result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A known option, with its argument if it takes one.
    Opt(char, Option<String>),
    /// `?`: the message getopt printed to stderr (without newline).
    Error(String),
}

/// Everything getopt would produce for these arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Options and errors, in order.
    pub events: Vec<Event>,
    /// Operands, in order (after permutation).
    pub operands: Vec<String>,
}

/// Parses `args` (`args[0]` is the name used in messages) against a
/// getopt option string such as `"mp:"`.
pub fn getopt(args: &[String], optstring: &str) -> Parsed {
    let name = args.first().map(String::as_str).unwrap_or("");
    let takes = |c: char| -> Option<bool> {
        if c == ':' {
            return None;
        }
        let i = optstring.find(c)?;
        Some(optstring[i + c.len_utf8()..].starts_with(':'))
    };
    let mut events = Vec::new();
    let mut operands = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            operands.extend(args[i..].iter().cloned());
            break;
        }
        if !a.starts_with('-') || a == "-" {
            operands.push(a.clone());
            continue;
        }
        let chars: Vec<char> = a.chars().skip(1).collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            match takes(c) {
                None => events.push(Event::Error(format!("{name}: invalid option -- '{c}'"))),
                Some(false) => events.push(Event::Opt(c, None)),
                Some(true) => {
                    if j < chars.len() {
                        events.push(Event::Opt(c, Some(chars[j..].iter().collect())));
                    } else if i < args.len() {
                        events.push(Event::Opt(c, Some(args[i].clone())));
                        i += 1;
                    } else {
                        events.push(Event::Error(format!(
                            "{name}: option requires an argument -- '{c}'"
                        )));
                    }
                    break;
                }
            }
        }
    }
    Parsed { events, operands }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn permutes_and_clusters() {
        let p = getopt(&s(&["listnodes", "-mv", "x", "-p", "--", "-n"]), "mpnv");
        assert_eq!(
            p.events,
            vec![
                Event::Opt('m', None),
                Event::Opt('v', None),
                Event::Opt('p', None)
            ]
        );
        assert_eq!(p.operands, s(&["x", "-n"]));
    }

    #[test]
    fn arguments_and_errors() {
        let p = getopt(
            &s(&["hbparameter", "-pdeadtime", "-m", "-p", "keepalive"]),
            "mp:",
        );
        assert_eq!(
            p.events,
            vec![
                Event::Opt('p', Some("deadtime".into())),
                Event::Opt('m', None),
                Event::Opt('p', Some("keepalive".into()))
            ]
        );
        let p = getopt(&s(&["hbparameter", "-x", "-", "-p"]), "mp:");
        assert_eq!(
            p.events,
            vec![
                Event::Error("hbparameter: invalid option -- 'x'".into()),
                Event::Error("hbparameter: option requires an argument -- 'p'".into())
            ]
        );
        assert_eq!(p.operands, s(&["-"]));
        let p = getopt(&s(&["nodestatus", "--json"]), "m");
        // No long options: GNU getopt reads `--json` as the letters - j s o n.
        assert_eq!(p.events.len(), 5);
        assert_eq!(
            p.events[0],
            Event::Error("nodestatus: invalid option -- '-'".into())
        );
    }
}
