//! [`TableView`]: a [`ClusterView`] backed by plain data.
//!
//! Used by the unit tests, the client library's integration tests (a real
//! socket server in front of [`crate::ApiServer`]) and anyone who needs a
//! cluster snapshot without a cluster engine.

use crate::view::{ClusterView, LinkInfo, NodeInfo, NodeType, ResourceHolding};
use std::collections::BTreeMap;

/// A cluster described by a table.
#[derive(Debug, Clone)]
pub struct TableView {
    /// Our node name.
    pub local: String,
    /// deadtime, ms.
    pub deadtime_ms: u64,
    /// keepalive, ms.
    pub keepalive_ms: u64,
    /// Node table in daemon order.
    pub nodes: Vec<NodeInfo>,
    /// Links per node name.
    pub links: BTreeMap<String, Vec<LinkInfo>>,
    /// Parameters.
    pub params: BTreeMap<String, String>,
    /// Decorated sign-on version.
    pub hbversion_signon: String,
    /// `None` = not R1 mode.
    pub rsc: Option<ResourceHolding>,
    /// uuid per node name.
    pub uuids: BTreeMap<String, [u8; 16]>,
    /// Log facility code.
    pub log_facility: i32,
    /// When set, only these pids exist; otherwise `/proc/<pid>` decides.
    pub live_pids: Option<Vec<i32>>,
}

impl TableView {
    /// The cluster of the observed exchanges of docs/behaviour.md §7.10: node `vm`
    /// (active, link `lo` up), `ghost` (dead, `lo` dead) and ping node
    /// `127.0.0.1`, deadtime 5 s, keepalive 1 s, R1 mode in transition.
    pub fn observed() -> TableView {
        let node = |name: &str, t: NodeType, st: &str| NodeInfo {
            name: name.to_string(),
            node_type: t,
            status: st.to_string(),
            weight: 100,
            site: String::new(),
        };
        let link = |name: &str, st: &str| LinkInfo {
            name: name.to_string(),
            status: st.to_string(),
        };
        let mut links = BTreeMap::new();
        links.insert("127.0.0.1".to_string(), vec![link("127.0.0.1", "up")]);
        links.insert("vm".to_string(), vec![link("lo", "up")]);
        links.insert("ghost".to_string(), vec![link("lo", "dead")]);
        let mut params = BTreeMap::new();
        params.insert("hbversion".to_string(), "3.0.6".to_string());
        params.insert("pacemaker".to_string(), "false".to_string());
        params.insert("keepalive".to_string(), "1".to_string());
        params.insert("deadtime".to_string(), "5".to_string());
        params.insert("node".to_string(), "vm ghost".to_string());
        TableView {
            local: "vm".to_string(),
            deadtime_ms: 5000,
            keepalive_ms: 1000,
            nodes: vec![
                node("127.0.0.1", NodeType::Ping, "ping"),
                node("vm", NodeType::Normal, "active"),
                node("ghost", NodeType::Normal, "dead"),
            ],
            links,
            params,
            hbversion_signon: "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)".to_string(),
            rsc: Some(ResourceHolding::Transition),
            uuids: BTreeMap::new(),
            log_facility: -1,
            live_pids: None,
        }
    }
}

impl ClusterView for TableView {
    fn local_node(&self) -> String {
        self.local.clone()
    }
    fn deadtime_ms(&self) -> u64 {
        self.deadtime_ms
    }
    fn keepalive_ms(&self) -> u64 {
        self.keepalive_ms
    }
    fn nodes(&self) -> Vec<NodeInfo> {
        self.nodes.clone()
    }
    fn links(&self, node: &str) -> Vec<LinkInfo> {
        self.links.get(node).cloned().unwrap_or_default()
    }
    fn parameter(&self, name: &str) -> Option<String> {
        self.params.get(name).cloned()
    }
    fn hbversion_signon(&self) -> String {
        self.hbversion_signon.clone()
    }
    fn resource_holding(&self) -> Option<ResourceHolding> {
        self.rsc
    }
    fn uuid_of(&self, node: &str) -> Option<[u8; 16]> {
        self.uuids.get(node).copied()
    }
    fn name_of_uuid(&self, uuid: &[u8; 16]) -> Option<String> {
        self.uuids
            .iter()
            .find(|(_, u)| *u == uuid)
            .map(|(n, _)| n.clone())
    }
    fn log_facility(&self) -> i32 {
        self.log_facility
    }
    fn process_exists(&self, pid: i32) -> bool {
        match &self.live_pids {
            Some(p) => p.contains(&pid),
            None => pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists(),
        }
    }
}
