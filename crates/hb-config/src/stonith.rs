//! `stonith <type> <configfile>` and `stonith_host <host|*> <type> <params...>`.
//!
//! Only the shape of the line is checked: the C daemon asks the STONITH
//! library whether the device type exists, which this implementation does
//! not link. The lines are kept so the daemon can report or use them.

use crate::error::StonithProblem;

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
        assert_eq!(h.stonith_type, "baytech");
        assert_eq!(h.params, "10.0.0.3 mylogin mysecretpassword");
        assert_eq!(parse_stonith_host("", 1), Err(StonithProblem::MissingHost));
        assert_eq!(
            parse_stonith_host("ken3", 1),
            Err(StonithProblem::MissingType)
        );
    }
}
