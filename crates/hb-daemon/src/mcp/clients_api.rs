//! Glue between the master and the API server: what clients see and how
//! the server's actions are carried out.

use hb_api::{Action, ResourceHolding};
use hb_config::HaCf;
use hb_core::Cluster;
use hb_rsc::{ResourceManager, RscSet, RscStatus};
use std::collections::VecDeque;

use super::Master;
use crate::logging;

/// What API clients see: the engine, the configuration, the resources.
fn api_view<'a>(
    core: &'a Cluster,
    hacf: &'a HaCf,
    rsc: Option<&ResourceManager>,
) -> crate::api::View<'a> {
    let resources = match rsc.map(ResourceManager::rsc_hold) {
        None => ResourceHolding::None,
        Some(RscStatus::Transition) => ResourceHolding::Transition,
        Some(RscStatus::Held(set)) => {
            if set == RscSet::ALL {
                ResourceHolding::All
            } else if set == RscSet::LOCAL {
                ResourceHolding::Local
            } else if set == RscSet::FOREIGN {
                ResourceHolding::Foreign
            } else {
                ResourceHolding::None
            }
        }
    };
    crate::api::View {
        core,
        hacf,
        resources,
        report: None,
    }
}

impl Master {
    /// A client connects to the registration socket.
    pub(super) fn on_api_listen(&mut self) {
        let actions = self.api.accept(self.poll.registry());
        self.api_actions(actions);
    }

    /// A client's connection has input.
    pub(super) fn on_api_readable(&mut self, id: hb_api::ConnId) {
        let (now_ms, api_clients) = (self.now(), self.api.connections());
        let actions = {
            let mut view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
            // Our extension requests (cl_status metrics / explain) need more.
            view.report = Some(crate::report::Sources {
                rsc: self.rsc.as_ref(),
                state: &self.report,
                api_clients,
                now_ms,
            });
            self.api.readable(id, &view)
        };
        self.api_actions(actions);
    }

    /// Rewrites the `metrics_file` (crate::report).
    pub(super) fn write_metrics_file(&mut self, path: &std::path::Path, now: u64) {
        let text = {
            let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
            let src = crate::report::Sources {
                rsc: self.rsc.as_ref(),
                state: &self.report,
                api_clients: self.api.connections(),
                now_ms: now,
            };
            let snapshot =
                crate::report::snapshot(&self.core, &self.hacf, &src, view.resources.as_str());
            hb_api::report::render_metrics(&snapshot)
        };
        if let Some((prio, line)) = self.report.write_metrics(path, &text) {
            logging::emit(prio, &line);
        }
    }

    /// Drops the clients whose process vanished (docs/behaviour.md §1.8).
    pub(super) fn api_audit(&mut self) {
        let actions = {
            let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
            self.api.server.audit(&view)
        };
        self.api_actions(actions);
    }

    /// docs/behaviour.md §7.9: stop reading from API clients while our messages
    /// are not acknowledged (more than 250 outstanding with a live peer) or
    /// a write child has a large backlog of client traffic; resume once
    /// both have cleared. A paused client is not disconnected: its bytes
    /// wait in its socket, and it blocks in its own send.
    pub(super) fn update_client_pause(&mut self) {
        let backlog = self
            .media
            .iter()
            .filter_map(|m| m.outbox.as_ref())
            .map(crate::outbox::Outbox::bulk_pending)
            .max()
            .unwrap_or(0);
        let congested = self.core.congested();
        if !self.api.paused() && (congested || backlog > crate::outbox::PAUSE_AT) {
            self.api.set_paused(true);
            logging::emit(
                logging::prio_of(log::Level::Info),
                "all clients are now paused",
            );
        } else if self.api.paused() && !congested && backlog < crate::outbox::RESUME_AT {
            self.api.set_paused(false);
            logging::emit(
                logging::prio_of(log::Level::Info),
                "all clients are now resumed",
            );
        }
    }

    pub(super) fn deliver_to_clients(&mut self, msg: &hb_proto::Message) {
        if !self.api.is_open() {
            return;
        }
        let actions = {
            let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
            if matches!(msg.msg_type(), Some("query-cstatus" | "respond-cstatus")) {
                self.api.server.on_cluster_message(msg, &view)
            } else {
                self.api.server.deliver(msg, &view)
            }
        };
        self.api_actions(actions);
    }

    /// Carries out what the API server asked for, in order.
    pub(super) fn api_actions(&mut self, actions: Vec<Action>) {
        let mut queue: VecDeque<Action> = actions.into();
        while let Some(a) = queue.pop_front() {
            match a {
                Action::Reply { conn, payload } => {
                    let more = {
                        let view = api_view(&self.core, &self.hacf, self.rsc.as_ref());
                        self.api.reply(conn, &payload, &view)
                    };
                    queue.extend(more);
                }
                Action::Close { conn } => self.api.close(conn, self.poll.registry()),
                Action::SendToCluster(msg) => self.send_cluster(msg),
                Action::Signal { conn, pid, signal } => {
                    if let Some(line) = self.api.signal(conn, pid, signal) {
                        logging::emit(logging::prio_of(log::Level::Warn), &line);
                    }
                }
                Action::Log { level, text } => {
                    logging::emit(logging::prio_of(level), &crate::api::escape_log(&text))
                }
            }
        }
    }
}
