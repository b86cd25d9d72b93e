//! Runtime membership messages (docs/behaviour.md §12): `addnode`,
//! `delnode`, `setweight`, `setsite` — sent by `hb_addnode`, `hb_delnode`,
//! `hb_setweight`, `hb_setsite` through the FIFO of any node (ours or a
//! 3.0.6 one) and processed by every node, the sender included.

use hb_core::membership::{AddNodeError, DelNodeError};
use hb_proto::Message;

use super::Master;
use crate::hb_log;
use crate::hostcache;
use crate::logging::Prio;

/// Message types handled here.
pub(super) const TYPES: [&str; 4] = ["addnode", "delnode", "setweight", "setsite"];

impl Master {
    pub(super) fn on_membership(&mut self, msg: &Message) {
        match msg.msg_type().unwrap_or("") {
            "addnode" => {
                let list = msg.get_str("nodelist").unwrap_or("").to_string();
                for name in list.split_whitespace() {
                    match self.core.add_node(name) {
                        Ok(()) => hb_log!(
                            Prio::Info,
                            "hb_add_one_node: Adding new node[{}] to configuration.",
                            name.to_ascii_lowercase()
                        ),
                        Err(e @ AddNodeError::Exists(_)) | Err(e @ AddNodeError::BadName(_)) => {
                            hb_log!(Prio::Error, "{e}");
                            hb_log!(Prio::Error, "Add node {name} failed");
                        }
                    }
                }
            }
            "delnode" => {
                let names: Vec<String> = msg
                    .get_str("nodelist")
                    .unwrap_or("")
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
                let before = self.core.nodes();
                match self.core.delete_nodes(&names) {
                    Ok(()) => {
                        for n in &names {
                            hb_log!(Prio::Info, "Removing node [{n}] from configuration.");
                            let note =
                                Message::from_pairs([("t", "delnode"), ("node", n.as_str())]);
                            self.deliver_to_clients(&note);
                        }
                        self.record_deleted(&names, &before);
                    }
                    Err(DelNodeError::Myself) => {
                        hb_log!(Prio::Error, "{}", DelNodeError::Myself);
                        self.begin_shutdown();
                    }
                    Err(e) => hb_log!(Prio::Error, "{e}"),
                }
            }
            "setweight" => {
                let node = msg.get_str("node").unwrap_or("");
                match msg
                    .get_str("weight")
                    .and_then(|w| w.trim().parse::<i32>().ok())
                {
                    Some(w) if self.core.set_weight(node, w) => {
                        hb_log!(Prio::Info, "weight of node {node} set to {w}")
                    }
                    _ => hb_log!(
                        Prio::Error,
                        "setweight: bad node [{node}] or weight [{}]",
                        msg.get_str("weight").unwrap_or("")
                    ),
                }
            }
            "setsite" => {
                let node = msg.get_str("node").unwrap_or("");
                let site = msg.get_str("site").unwrap_or("");
                if self.core.set_site(node, site) {
                    hb_log!(Prio::Info, "site of node {node} set to {site}");
                } else {
                    hb_log!(Prio::Error, "setsite: bad node [{node}]");
                }
            }
            _ => {}
        }
    }

    /// Adds `names` to `delhostcache` (all deleted nodes, one line each).
    fn record_deleted(&mut self, names: &[String], views: &[hb_core::NodeView]) {
        let path = self.paths.delhostcache();
        let mut entries = hostcache::read(&path);
        for n in names {
            entries.retain(|e| &e.name != n);
            let uuid = views
                .iter()
                .find(|v| &v.name == n)
                .and_then(|v| v.uuid)
                .unwrap_or([0; 16]);
            entries.push(hostcache::Entry {
                name: n.clone(),
                uuid,
                weight: self.core.node_weight(n),
                site: self.core.node_site(n).to_string(),
            });
        }
        if let Err(e) = hostcache::write(&path, &entries) {
            hb_log!(
                Prio::Error,
                "cannot write {}: {e} (the deletion is lost at restart)",
                path.display()
            );
        }
    }
}
