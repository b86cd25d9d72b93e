//! `/etc/ha.d/haresources` (docs/behaviour.md §5.1–5.2).
//!
//! The file is read the way `ResourceManager` normalises it, since that
//! script is what acts on it: `#` starts a comment anywhere, a line ending in
//! `\` is joined with the next one (the backslash and newline removed, no
//! blank inserted), runs of blanks and tabs collapse, empty lines vanish, and
//! the first field (the preferred node) is lower-cased. The daemon's own
//! check — the node must be a configured node — is applied to every logical
//! line, and all bad lines are reported rather than only the first.

use std::path::Path;

use crate::error::{ConfigError, ConfigErrorKind as K};

/// One resource of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Script name: the part before the first `::`, or `IPaddr` for the
    /// `a.b.c.d[/bits[/iface[/bcast]]]` shorthand.
    pub script: String,
    /// Arguments: the `::`-separated parts after the script name, or the
    /// whole text for the IP shorthand.
    pub args: Vec<String>,
    /// The resource as written (`192.168.85.3/27/eth0`,
    /// `Filesystem::/dev/sda1::/data1::ext2`).
    pub text: String,
}

impl Resource {
    /// Interpret one haresources word like `ResourceManager` does.
    pub fn parse(text: &str) -> Resource {
        let (script, args): (String, Vec<String>) = if looks_like_ip(text) {
            let args = match text.split_once("::") {
                Some((_, rest)) => split_args(rest),
                None => vec![text.to_string()],
            };
            ("IPaddr".to_string(), args)
        } else {
            match text.split_once("::") {
                Some((script, rest)) => (script.to_string(), split_args(rest)),
                None => (text.to_string(), Vec::new()),
            }
        };
        Resource {
            script,
            args,
            text: text.to_string(),
        }
    }
}

fn split_args(rest: &str) -> Vec<String> {
    rest.split("::")
        .filter(|a| !a.is_empty())
        .map(String::from)
        .collect()
}

/// The shell pattern `[0-9]*.[0-9]*.[0-9]*.[0-9]*` of `ResourceManager`:
/// starts with a digit and contains three further `.<digit>` in order.
fn looks_like_ip(text: &str) -> bool {
    let b = text.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut pos = 1;
    for _ in 0..3 {
        let found =
            (pos..b.len().saturating_sub(1)).find(|&i| b[i] == b'.' && b[i + 1].is_ascii_digit());
        match found {
            Some(i) => pos = i + 2,
            None => return false,
        }
    }
    true
}

/// One line of haresources: a preferred node and its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroup {
    /// Preferred node, lower-cased.
    pub node: String,
    /// Resources, started left to right.
    pub resources: Vec<Resource>,
    /// Line where the (possibly continued) line starts.
    pub line: usize,
    /// The normalised line as ResourceManager prints it (`node res1 res2`,
    /// single blanks, node lower-cased).
    pub text: String,
}

impl ResourceGroup {
    /// The group key: the first resource as written ("" for a line without
    /// resources).
    pub fn key(&self) -> &str {
        self.resources.first().map_or("", |r| r.text.as_str())
    }
}

/// Parse haresources text, checking every preferred node against `nodes`
/// (case-insensitively). `path` is only used in messages.
pub fn parse_haresources(
    text: &str,
    path: &Path,
    nodes: &[String],
) -> Result<Vec<ResourceGroup>, Vec<ConfigError>> {
    let known: Vec<String> = nodes.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut groups = Vec::new();
    let mut errors = Vec::new();
    for (line, logical) in logical_lines(text) {
        let fields: Vec<&str> = logical
            .split([' ', '\t'])
            .filter(|f| !f.is_empty())
            .collect();
        let Some((first, rest)) = fields.split_first() else {
            continue;
        };
        let node = first.to_ascii_lowercase();
        if !known.contains(&node) {
            errors.push(ConfigError::at(
                path,
                line,
                K::BadNodeName {
                    name: first.to_string(),
                    known: known.clone(),
                },
            ));
            continue;
        }
        let resources: Vec<Resource> = rest.iter().map(|r| Resource::parse(r)).collect();
        let text = std::iter::once(node.as_str())
            .chain(rest.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        groups.push(ResourceGroup {
            node,
            resources,
            line,
            text,
        });
    }
    if errors.is_empty() {
        Ok(groups)
    } else {
        Err(errors)
    }
}

/// Comment-stripped, continuation-joined lines with their first line number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let mut part = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(pos) = part.find('#') {
            part = &part[..pos];
        }
        let (start, mut acc) = pending.take().unwrap_or((idx + 1, String::new()));
        match part.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(part);
                out.push((start, acc));
            }
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Vec<String> {
        vec!["vm".into(), "ghost".into()]
    }

    #[test]
    fn resource_forms() {
        let r = Resource::parse("192.168.85.3/27/eth0");
        assert_eq!(
            (r.script.as_str(), r.args.clone()),
            ("IPaddr", vec!["192.168.85.3/27/eth0".to_string()])
        );
        let r = Resource::parse("135.9.216.3/28/eth0/135.9.216.12");
        assert_eq!(r.script, "IPaddr");
        assert_eq!(r.args, vec!["135.9.216.3/28/eth0/135.9.216.12"]);
        let r = Resource::parse("Filesystem::/dev/sda1::/data1::ext2");
        assert_eq!(r.script, "Filesystem");
        assert_eq!(r.args, vec!["/dev/sda1", "/data1", "ext2"]);
        assert_eq!(r.text, "Filesystem::/dev/sda1::/data1::ext2");
        let r = Resource::parse("httpd");
        assert_eq!((r.script.as_str(), r.args.len()), ("httpd", 0));
        let r = Resource::parse("IPaddr::10.0.0.1/24");
        assert_eq!(
            (r.script.as_str(), r.args.clone()),
            ("IPaddr", vec!["10.0.0.1/24".to_string()])
        );
        // Not four digit groups: a script name.
        assert_eq!(Resource::parse("1.2.3").script, "1.2.3");
        assert_eq!(Resource::parse("v1.2.3.4").script, "v1.2.3.4");
    }

    #[test]
    fn ip_glob() {
        assert!(looks_like_ip("10.0.0.170"));
        assert!(looks_like_ip("1a.2b.3c.4d"));
        assert!(!looks_like_ip("10.0.0."));
        assert!(!looks_like_ip("10..0.0"));
        assert!(!looks_like_ip("a.1.2.3"));
    }

    #[test]
    fn continuation_comments_and_case() {
        let text = "# header\nVM  10.0.0.170 \\\n\tFilesystem::/dev/sda1::/data1::ext2   # fs\n\n  ghost HBTestDummy::foreign\n";
        let g = parse_haresources(text, Path::new("haresources"), &nodes()).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].node, "vm");
        assert_eq!(g[0].line, 2);
        assert_eq!(g[0].key(), "10.0.0.170");
        assert_eq!(
            g[0].text,
            "vm 10.0.0.170 Filesystem::/dev/sda1::/data1::ext2"
        );
        assert_eq!(g[0].resources.len(), 2);
        assert_eq!(g[1].line, 5);
        assert_eq!(g[1].text, "ghost HBTestDummy::foreign");
    }

    #[test]
    fn join_without_blank() {
        let g = parse_haresources("vm a\\\nb\n", Path::new("h"), &nodes()).unwrap();
        assert_eq!(g[0].text, "vm ab");
    }

    #[test]
    fn node_only_line_has_empty_key() {
        let g = parse_haresources("ghost\n", Path::new("h"), &nodes()).unwrap();
        assert_eq!(g[0].key(), "");
    }

    #[test]
    fn bad_nodes_all_reported() {
        let errs = parse_haresources(
            "vm a\nnobody b\nalso c\n",
            Path::new("/etc/ha.d//haresources"),
            &nodes(),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, Some(2));
        assert_eq!(errs[1].line, Some(3));
        assert_eq!(
            errs[0].to_string(),
            "/etc/ha.d//haresources:2: bad node name [nobody]: expected one of the ha.cf nodes: vm, ghost"
        );
    }
}
