//! Stage one of ha.cf parsing: text to raw directives (docs/behaviour.md §3.1).
//!
//! A line loses everything from the first `#` (anywhere: a `#` can never be
//! part of a value), leading white space and everything from the first CR
//! or LF. The first white-space-delimited word is the directive; the rest,
//! after skipping delimiters, is split according to the directive's class:
//! option directives and token media on space/tab/comma/CR/LF/FF, whole-line
//! media on white space only, whole-line directives not at all. Unknown words
//! are kept (class [`Class::Option`]) so stage two can report them with
//! their line number.

use crate::directives::{self, Class};
use crate::value::WHITESPACE;

/// Delimiters of option directives: white space and comma.
const DELIMS: &[char] = &[',', ' ', '\t', '\n', '\r', '\x0c'];

/// One directive as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDirective {
    /// 1-based line number.
    pub line: usize,
    /// Directive word as written (before the `udp` → `bcast` alias).
    pub key: String,
    /// Arguments, split according to the directive's class; a whole-line
    /// directive has exactly one argument (possibly empty).
    pub args: Vec<String>,
    /// Class used to split `args` (`Option` for unknown words).
    pub class: Class,
}

/// Split ha.cf text into raw directives, one per non-blank, non-comment line.
pub fn lex(text: &str) -> Vec<RawDirective> {
    let mut out = Vec::new();
    for (idx, raw_line) in text.split('\n').enumerate() {
        let mut bp = raw_line.trim_start_matches(WHITESPACE);
        if let Some(pos) = bp.find('#') {
            bp = &bp[..pos];
        }
        if let Some(pos) = bp.find(['\r', '\n']) {
            bp = &bp[..pos];
        }
        if bp.is_empty() {
            continue;
        }
        let key_len = bp.find(WHITESPACE).unwrap_or(bp.len());
        let key = &bp[..key_len];
        let rest = bp[key_len..].trim_start_matches(DELIMS);
        let lookup_key = if key == "udp" { "bcast" } else { key };
        let class = directives::lookup(lookup_key).map_or(Class::Option, |d| d.class);
        let args = match class {
            Class::Option | Class::TokenMedium => split_delims(rest),
            Class::LineMedium => rest
                .split(WHITESPACE)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            Class::WholeLine => vec![rest.to_string()],
        };
        out.push(RawDirective {
            line: idx + 1,
            key: key.to_string(),
            args,
            class,
        });
    }
    out
}

/// Tokens of an option directive.
pub(crate) fn split_delims(s: &str) -> Vec<String> {
    s.split(DELIMS)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_anywhere_and_blank_lines() {
        let raw = lex("# header\n\n   \t\nnode a b # trailing\nkeepalive 2#x\n");
        assert_eq!(raw.len(), 2);
        assert_eq!(raw[0].line, 4);
        assert_eq!(raw[0].args, vec!["a", "b"]);
        assert_eq!(raw[1].line, 5);
        assert_eq!(raw[1].args, vec!["2"]);
    }

    #[test]
    fn option_tokens_split_on_commas() {
        let raw = lex("ping 10.0.0.1,10.0.0.2\tx\r\nlogfile /x,y\n");
        assert_eq!(raw[0].args, vec!["10.0.0.1", "10.0.0.2", "x"]);
        assert_eq!(raw[0].class, Class::TokenMedium);
        assert_eq!(raw[1].args, vec!["/x", "y"]);
    }

    #[test]
    fn whole_line_and_line_media() {
        let raw = lex("respawn hacluster /usr/bin/x -a, b\nucast eth0,x 10.0.0.1\n");
        assert_eq!(raw[0].args, vec!["hacluster /usr/bin/x -a, b"]);
        assert_eq!(raw[1].args, vec!["eth0,x", "10.0.0.1"]);
    }

    #[test]
    fn directive_ends_at_whitespace_only() {
        let raw = lex("node,a b\n");
        assert_eq!(raw[0].key, "node,a");
        assert_eq!(raw[0].args, vec!["b"]);
    }

    #[test]
    fn udp_alias_lexed_like_bcast() {
        let raw = lex("udp eth0,eth1\n");
        assert_eq!(raw[0].key, "udp");
        assert_eq!(raw[0].class, Class::TokenMedium);
        assert_eq!(raw[0].args, vec!["eth0", "eth1"]);
    }
}
