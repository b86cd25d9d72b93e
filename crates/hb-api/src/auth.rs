//! `apiauth` (docs/behaviour.md §7.5) and the peer credentials it is checked
//! against.
//!
//! Names in `apiauth` lines are resolved when ha.cf is read, so this module
//! only deals in numbers; the daemon passes the uid of `hacluster` and the
//! gid of `haclient` for the built-in entries.

use std::collections::BTreeMap;

/// `SO_PEERCRED` of a connection, taken by the daemon at `accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCred {
    /// Peer process id (0 or less when unknown: the pid check is skipped).
    pub pid: i32,
    /// Peer effective uid.
    pub uid: u32,
    /// Peer effective (primary) gid.
    pub gid: u32,
}

/// Who may sign on under one client id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthEntry {
    /// Permitted peer uids.
    pub uids: Vec<u32>,
    /// Permitted peer gids (primary, effective; supplementary groups do not
    /// count).
    pub gids: Vec<u32>,
}

impl AuthEntry {
    /// A peer passes when its uid is in the uid list **or** its gid is in
    /// the gid list.
    pub fn permits(&self, cred: &PeerCred) -> bool {
        self.uids.contains(&cred.uid) || self.gids.contains(&cred.gid)
    }
}

/// The authorization table: client id → entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthTable {
    entries: BTreeMap<String, AuthEntry>,
}

impl AuthTable {
    /// An empty table (every sign-on is refused).
    pub fn new() -> AuthTable {
        AuthTable::default()
    }

    /// The 3.0.6 built-in entries: `ipfail` and `ccm` → uid hacluster,
    /// `ping` → gid haclient, `lha-snmpagent` → uid root, `anon` → uid root
    /// or gid haclient. No `default` entry.
    pub fn with_builtins(hacluster_uid: u32, haclient_gid: u32) -> AuthTable {
        let mut t = AuthTable::new();
        t.set("ipfail", vec![hacluster_uid], vec![]);
        t.set("ccm", vec![hacluster_uid], vec![]);
        t.set("ping", vec![], vec![haclient_gid]);
        t.set("lha-snmpagent", vec![0], vec![]);
        t.set("anon", vec![0], vec![haclient_gid]);
        t
    }

    /// Sets (or overrides, as an ha.cf `apiauth` line does) an entry.
    pub fn set(&mut self, client: &str, uids: Vec<u32>, gids: Vec<u32>) {
        self.entries
            .insert(client.to_string(), AuthEntry { uids, gids });
    }

    /// The entry of a client id.
    pub fn get(&self, client: &str) -> Option<&AuthEntry> {
        self.entries.get(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_and_overrides() {
        let mut t = AuthTable::with_builtins(108, 105);
        let root = PeerCred {
            pid: 1,
            uid: 0,
            gid: 0,
        };
        let hac = PeerCred {
            pid: 1,
            uid: 108,
            gid: 105,
        };
        let user = PeerCred {
            pid: 1,
            uid: 1000,
            gid: 1000,
        };
        let user_hc = PeerCred {
            pid: 1,
            uid: 1000,
            gid: 105,
        };
        assert!(t.get("anon").unwrap().permits(&root));
        assert!(t.get("anon").unwrap().permits(&user_hc));
        assert!(!t.get("anon").unwrap().permits(&user));
        assert!(t.get("ipfail").unwrap().permits(&hac));
        assert!(!t.get("ipfail").unwrap().permits(&root));
        assert!(t.get("ping").unwrap().permits(&user_hc));
        assert!(t.get("lha-snmpagent").unwrap().permits(&root));
        assert!(t.get("default").is_none());
        t.set("ipfail", vec![1000], vec![]);
        assert!(t.get("ipfail").unwrap().permits(&user));
        assert!(!t.get("ipfail").unwrap().permits(&hac));
    }
}
