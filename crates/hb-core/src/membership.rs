//! Runtime changes of the node table (docs/behaviour.md §12): `hb_addnode`
//! and `hb_delnode`, carried by the `addnode` / `delnode` messages that every
//! node processes, its own included.

use crate::cluster::Cluster;
use crate::node::{status, NodeKind};
use crate::node_table::make_node;

/// Why a node could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddNodeError {
    /// Already in the node table.
    #[error("hb_add_one_node: node({0}) already exists")]
    Exists(String),
    /// Empty or otherwise unusable name.
    #[error("hb_add_one_node: invalid node name [{0}]")]
    BadName(String),
}

/// Why a node could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelNodeError {
    /// Not in the node table.
    #[error("deletion failed: node {0} is not a cluster node")]
    Unknown(String),
    /// The node to delete is still alive.
    #[error("deletion failed: node {0} is not dead")]
    NotDead(String),
    /// Another node that must vouch for the deletion is dead.
    #[error(
        "HBDoMsg_T_DELNODE: deletion failed. We don't have all required nodes alive ({0} is dead)"
    )]
    OtherDead(String),
    /// The local node was named.
    #[error("I am being deleted from the cluster. This should not happen")]
    Myself,
}

impl Cluster {
    /// Adds a normal node (status `init`, a link per medium); its packets are
    /// accepted from now on.
    pub fn add_node(&mut self, name: &str) -> Result<(), AddNodeError> {
        let name = name.to_ascii_lowercase();
        if name.is_empty() || name.len() > 99 || name.contains(char::is_whitespace) {
            return Err(AddNodeError::BadName(name));
        }
        if let Some(&i) = self.by_name.get(&name) {
            if !self.deleted.remove(&i) {
                return Err(AddNodeError::Exists(name));
            }
            // A deleted node comes back: fresh state in its old slot.
            let now = self.now;
            let node = make_node(&self.cfg, name, NodeKind::Normal, now, &mut self.rng);
            self.nodes[i] = node;
            return Ok(());
        }
        let now = self.now;
        let node = make_node(
            &self.cfg,
            name.clone(),
            NodeKind::Normal,
            now,
            &mut self.rng,
        );
        self.by_name.insert(name, self.nodes.len());
        self.nodes.push(node);
        Ok(())
    }

    /// Deletes the dead normal nodes `names`, provided every other normal node
    /// is alive (3.0.6's rule). All or nothing.
    pub fn delete_nodes(&mut self, names: &[String]) -> Result<(), DelNodeError> {
        let mut idx = Vec::new();
        for raw in names {
            let name = raw.to_ascii_lowercase();
            let i = *self
                .by_name
                .get(&name)
                .filter(|i| !self.deleted.contains(i))
                .ok_or_else(|| DelNodeError::Unknown(name.clone()))?;
            if i == self.me {
                return Err(DelNodeError::Myself);
            }
            if self.nodes[i].kind != NodeKind::Normal {
                return Err(DelNodeError::Unknown(name));
            }
            if self.nodes[i].status != status::DEAD {
                return Err(DelNodeError::NotDead(name));
            }
            idx.push(i);
        }
        if let Some(other) = self.nodes.iter().enumerate().find(|(i, n)| {
            n.kind == NodeKind::Normal
                && !idx.contains(i)
                && !self.deleted.contains(i)
                && n.status == status::DEAD
        }) {
            return Err(DelNodeError::OtherDead(other.1.name.clone()));
        }
        for i in idx {
            self.deleted.insert(i);
            let uuid = self.nodes[i].uuid;
            if self.by_uuid.get(&uuid) == Some(&i) {
                self.by_uuid.remove(&uuid);
            }
        }
        Ok(())
    }

    /// Sets a node's weight (`setweight`); the API's `nodeweight` reports it.
    pub fn set_weight(&mut self, name: &str, weight: i32) -> bool {
        let name = name.to_ascii_lowercase();
        let known = self.lookup(&name).is_some();
        if known {
            self.weights.insert(name, weight);
        }
        known
    }

    /// Sets a node's site (`setsite`); the API's `nodesite` reports it.
    pub fn set_site(&mut self, name: &str, site: &str) -> bool {
        let name = name.to_ascii_lowercase();
        let known = self.lookup(&name).is_some();
        if known {
            self.sites.insert(name, site.to_string());
        }
        known
    }

    /// A node's weight: 100 unless set.
    pub fn node_weight(&self, name: &str) -> i32 {
        self.weights.get(name).copied().unwrap_or(100)
    }

    /// A node's site: empty unless set.
    pub fn node_site(&self, name: &str) -> &str {
        self.sites.get(name).map_or("", String::as_str)
    }

    /// Whether `name` was deleted at run time.
    pub fn is_deleted(&self, name: &str) -> bool {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .is_some_and(|i| self.deleted.contains(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CoreConfig, MediumInfo};
    use hb_proto::auth::{KeyRing, Method};

    fn cluster() -> Cluster {
        let keys = KeyRing::new(1, vec![(1, Method::Sha1, b"k".to_vec())]).unwrap();
        let media = vec![MediumInfo {
            name: "eth0".into(),
            is_ping: false,
        }];
        let cfg =
            CoreConfig::with_defaults("a", [1; 16], 7, vec!["a".into(), "b".into()], media, keys);
        Cluster::new(cfg, 0, 1000)
    }

    #[test]
    fn add_delete_and_readd() {
        let mut c = cluster();
        assert_eq!(c.add_node("C"), Ok(()));
        assert_eq!(c.add_node("c"), Err(AddNodeError::Exists("c".into())));
        assert!(c
            .nodes()
            .iter()
            .any(|n| n.name == "c" && n.status == "init"));
        assert_eq!(c.links().iter().filter(|l| l.node == "c").count(), 1);
        // b and c were never heard: not dead yet.
        assert_eq!(
            c.delete_nodes(&["b".into()]),
            Err(DelNodeError::NotDead("b".into()))
        );
        assert_eq!(c.delete_nodes(&["a".into()]), Err(DelNodeError::Myself));
        // After the dead time both are dead; deleting b alone needs c alive.
        c.on_tick(60_000, 1060);
        assert_eq!(c.node_status("b"), Some("dead"));
        assert_eq!(
            c.delete_nodes(&["b".into()]),
            Err(DelNodeError::OtherDead("c".into()))
        );
        assert_eq!(c.delete_nodes(&["b".into(), "c".into()]), Ok(()));
        assert!(c.is_deleted("b"));
        assert!(c.nodes().iter().all(|n| n.name != "b" && n.name != "c"));
        assert_eq!(c.node_status("b"), None);
        assert_eq!(c.add_node("b"), Ok(()));
        assert_eq!(c.node_status("b"), Some("init"));
        assert!(c.set_weight("b", 7));
        assert!(c.set_site("b", "east"));
        assert!(!c.set_weight("zz", 1));
        assert_eq!((c.node_weight("b"), c.node_site("b")), (7, "east"));
        assert_eq!((c.node_weight("a"), c.node_site("a")), (100, ""));
    }
}
