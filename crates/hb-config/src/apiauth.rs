//! `apiauth <client> [uid=list] [gid=list]` (docs/behaviour.md §7.5).
//!
//! Lists are comma-separated names or numbers (a word starting with a digit
//! is a number). Names are resolved through [`SystemLookup`] when the line
//! is read, as the C daemon does, so a typo fails the start instead of
//! silently locking a client out later.

use crate::error::ApiauthProblem;
use crate::system::SystemLookup;
use crate::value::atoi;

/// Longest API client id (the C `client_id[32]` including its NUL).
pub const MAX_CLIENT_ID: usize = 31;

/// Who may sign on to the API under one client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAuth {
    /// Client id (`ipfail`, `anon`, `default`, ...).
    pub client: String,
    /// Permitted peer uids.
    pub uids: Vec<u32>,
    /// Permitted peer (primary, effective) gids.
    pub gids: Vec<u32>,
    /// True for the entries Heartbeat adds when ha.cf does not configure them.
    pub builtin: bool,
}

impl ApiAuth {
    /// Whether a peer with these credentials passes this entry.
    pub fn permits(&self, uid: u32, gid: u32) -> bool {
        self.uids.contains(&uid) || self.gids.contains(&gid)
    }
}

/// Built-in entries, added after parsing for each client not configured.
pub const BUILTIN: &[(&str, &str)] = &[
    ("ipfail", "uid=hacluster"),
    ("ccm", "uid=hacluster"),
    ("ping", "gid=haclient"),
    ("lha-snmpagent", "uid=root"),
    ("anon", "uid=root gid=haclient"),
];

/// Parse the rest of an `apiauth` line.
pub(crate) fn parse(line: &str, sys: &dyn SystemLookup) -> Result<ApiAuth, ApiauthProblem> {
    let mut words = line.split_whitespace();
    let client = words.next().ok_or(ApiauthProblem::MissingClient)?;
    if client.len() > MAX_CLIENT_ID {
        return Err(ApiauthProblem::ClientTooLong {
            client: client.to_string(),
            max: MAX_CLIENT_ID,
        });
    }
    let mut uid_list: Option<&str> = None;
    let mut gid_list: Option<&str> = None;
    for word in words {
        if let Some(list) = word.strip_prefix("uid=") {
            if uid_list.replace(list).is_some() {
                return Err(ApiauthProblem::DuplicateUidList);
            }
        } else if let Some(list) = word.strip_prefix("gid=") {
            if gid_list.replace(list).is_some() {
                return Err(ApiauthProblem::DuplicateGidList);
            }
        } else {
            return Err(ApiauthProblem::UnexpectedWord {
                word: word.to_string(),
            });
        }
    }
    if uid_list.is_none() && gid_list.is_none() {
        return Err(ApiauthProblem::NoLists);
    }
    let uids = resolve(uid_list.unwrap_or(""), |n| sys.user(n).map(|(u, _)| u))
        .map_err(|name| ApiauthProblem::UnknownUser { name })?;
    let gids = resolve(gid_list.unwrap_or(""), |n| sys.group(n))
        .map_err(|name| ApiauthProblem::UnknownGroup { name })?;
    Ok(ApiAuth {
        client: client.to_string(),
        uids,
        gids,
        builtin: false,
    })
}

/// Map a comma-separated id list; the error is the first unknown name.
fn resolve(list: &str, lookup: impl Fn(&str) -> Option<u32>) -> Result<Vec<u32>, String> {
    let mut ids = Vec::new();
    for item in list.split(',').filter(|s| !s.is_empty()) {
        let id = if item.starts_with(|c: char| c.is_ascii_digit()) {
            // atoi semantics, like the C library; ids are 32-bit.
            u32::try_from(atoi(item)).unwrap_or(u32::MAX)
        } else {
            lookup(item).ok_or_else(|| item.to_string())?
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::FakeSystem;

    #[test]
    fn names_and_numbers() {
        let sys = FakeSystem::default();
        let a = parse("ipfail uid=hacluster,0 gid=haclient,7", &sys).unwrap();
        assert_eq!(a.client, "ipfail");
        assert_eq!(a.uids, vec![102, 0]);
        assert_eq!(a.gids, vec![105, 7]);
        assert!(a.permits(0, 999));
        assert!(a.permits(999, 7));
        assert!(!a.permits(999, 999));
        let g = parse("  default   gid=haclient", &sys).unwrap();
        assert!(g.uids.is_empty());
    }

    #[test]
    fn errors() {
        let sys = FakeSystem::default();
        assert_eq!(parse("", &sys), Err(ApiauthProblem::MissingClient));
        assert_eq!(parse("x", &sys), Err(ApiauthProblem::NoLists));
        assert_eq!(
            parse("x uid=0 uid=1", &sys),
            Err(ApiauthProblem::DuplicateUidList)
        );
        assert_eq!(
            parse("x gid=0 gid=1", &sys),
            Err(ApiauthProblem::DuplicateGidList)
        );
        assert_eq!(
            parse("x user=0", &sys),
            Err(ApiauthProblem::UnexpectedWord {
                word: "user=0".into()
            })
        );
        assert_eq!(
            parse("ipfail uid=nosuchuser", &sys),
            Err(ApiauthProblem::UnknownUser {
                name: "nosuchuser".into()
            })
        );
        assert_eq!(
            parse("ipfail gid=nosuchgroup", &sys),
            Err(ApiauthProblem::UnknownGroup {
                name: "nosuchgroup".into()
            })
        );
        assert!(matches!(
            parse(&format!("{} uid=0", "c".repeat(32)), &sys),
            Err(ApiauthProblem::ClientTooLong { .. })
        ));
    }
}
