//! The master's traffic: the engine's outputs (packets to every write
//! child, messages to local consumers, events), and the frames coming in
//! from the FIFO reader and the read children (docs/behaviour.md §1.8).

use hb_config::Medium;
use hb_core::{Event, Output};

use super::drops;
use super::resources::RESOURCE_TYPES;
use super::slots::{Inbound, Shutdown, API_AUDIT_MS};
use super::Master;
use crate::hb_log;
use crate::logging::{self, Prio};

/// The IPC frame of the classic rendering of a sealed netstring packet, as
/// a serial write child sends it; empty if the packet does not decode.
fn classic_frame(keys: &hb_proto::KeyRing, packet: &[u8]) -> Vec<u8> {
    match hb_proto::netstring::decode(packet) {
        Ok(mut msg) => {
            keys.add_inner_auth(&mut msg);
            hb_proto::ipc::encode_frame(&hb_proto::classic::encode(&msg))
        }
        Err(_) => Vec::new(),
    }
}

impl Master {
    pub(super) fn drain_core(&mut self) {
        while let Some(out) = self.core.poll_output() {
            match out {
                Output::Transmit(bytes) => {
                    // Our heartbeats, ACKs and retransmissions go ahead of
                    // client traffic (docs/reliability.md, hardening).
                    let urgent = self.core.last_transmit_urgent();
                    let frame = hb_proto::ipc::encode_frame(&bytes);
                    // Serial lines carry the classic text form, with the
                    // inner auth recomputed (docs/protocol.md §11.4): made once
                    // per packet, only when a serial medium exists.
                    let mut serial_frame: Option<Vec<u8>> = None;
                    let mut sent = false;
                    for m in &mut self.media {
                        let Some(ob) = m.outbox.as_mut() else {
                            continue;
                        };
                        if matches!(m.spec, Medium::Serial { .. }) {
                            let f = serial_frame.get_or_insert_with(|| {
                                classic_frame(&self.core.config().keys, &bytes)
                            });
                            if f.is_empty() {
                            } else if urgent {
                                ob.push_urgent(f);
                            } else {
                                ob.push(f);
                            }
                        } else if urgent {
                            ob.push_urgent(&frame);
                        } else {
                            ob.push(&frame);
                        }
                        sent |= !ob.broken;
                    }
                    if !sent && !self.media.is_empty() {
                        hb_log!(
                            Prio::Crit,
                            "send_to_all_media: No working comm channels to write to."
                        );
                    }
                }
                Output::Deliver(msg) => self.on_deliver(msg),
                Output::Event(ev) => self.on_event(ev),
            }
        }
    }

    pub(super) fn on_event(&mut self, ev: Event) {
        if self.drops.admit(&ev) && (self.hacf.log_badpack || !drops::is_bad_packet(&ev)) {
            for (level, text) in ev.log_lines() {
                logging::emit(level, &text);
            }
        }
        self.report.observe(&self.core);
        let now = self.now();
        match &ev {
            Event::NodeStatus { node, old, new } => {
                if let Some(r) = self.rsc.as_mut() {
                    r.node_status(node, new);
                }
                if old == "dead" && self.rsc.is_some() {
                    self.refresh_ip_announcements();
                }
            }
            Event::NodeDead { node } => {
                let ping = self.hacf.ping_nodes.contains(node);
                if !ping {
                    if let Some(r) = self.rsc.as_mut() {
                        r.node_dead(node, now);
                    }
                }
                // API clients (ipfail) get the C's synthetic death message.
                let mut m = hb_proto::Message::from_pairs([("t", "status"), ("seq", "1")]);
                m.set_str("ts", format!("{:x}", Self::wall()));
                m.set_str("src", node);
                m.set_str("st", "dead");
                if ping {
                    m.set_str("info", "ping");
                    // the C's takeover_from_node for a ping node: rc.d only
                    self.notify_world(hb_rsc::notify::dead_node_message(node, Self::wall(), true));
                }
                self.deliver_to_clients(&m);
            }
            Event::LinkStatus { node, medium, up } => {
                let m = hb_proto::Message::from_pairs([
                    ("t", "ifstat"),
                    ("node", node.as_str()),
                    ("ifname", medium.as_str()),
                    ("st", if *up { "up" } else { "dead" }),
                ]);
                self.deliver_to_clients(&m);
                self.notify_world(m);
            }
            _ => {}
        }
        self.drain_rsc();
        match ev {
            Event::CommUp => self.on_comm_up(),
            // Both end in a restart that gives up the resources first
            // (docs/behaviour.md §1.9.4, docs/protocol.md §6.7); after a healed partition
            // the C daemon waits 2 s so its status reaches the peer.
            Event::LocalHeartbeatLost => self.request_restart(0),
            Event::PartitionHealed { .. } if self.rsc.is_some() => self.request_restart(2_000),
            _ => {}
        }
    }

    pub(super) fn on_comm_up(&mut self) {
        if self.comm_up {
            return;
        }
        self.comm_up = true;
        if self.shutdown == Shutdown::Deferred {
            self.shutdown = Shutdown::Running;
            self.begin_shutdown();
            return;
        }
        if let Err(e) = self
            .api
            .open(&self.paths.api_socket(), self.poll.registry())
        {
            hb_log!(
                Prio::Error,
                "Cannot open registration socket at {}: {e}",
                self.paths.api_socket().display()
            );
        }
        self.next_audit = self.now() + API_AUDIT_MS;
        // Media up, API socket open: ready as far as systemd is concerned.
        self.systemd.notify("READY=1");
        let active: Vec<String> = self
            .core
            .nodes()
            .into_iter()
            .filter(|n| n.kind != hb_core::NodeKind::Ping && n.status == "active")
            .map(|n| n.name)
            .collect();
        let now = self.now();
        if let Some(r) = self.rsc.as_mut() {
            r.comm_up(now, &active);
        }
        self.drain_rsc();
        for i in 0..self.clients.len() {
            self.start_client(i);
        }
    }

    /// Sends a message of ours to the cluster (processed locally too).
    pub(super) fn send_cluster(&mut self, msg: hb_proto::Message) {
        let now = self.now();
        if let Err(e) = self.core.on_local_message(now, Self::wall(), msg) {
            hb_log!(Prio::Error, "cannot send cluster message: {e}");
        }
        self.drain_core();
    }

    pub(super) fn on_deliver(&mut self, msg: hb_proto::Message) {
        let t = msg.msg_type().unwrap_or("");
        hb_log!(
            Prio::Debug,
            "received {t} message from {}",
            msg.get_str("src").unwrap_or("?")
        );
        if super::membership::TYPES.contains(&t) {
            self.on_membership(&msg);
        }
        if RESOURCE_TYPES.contains(&t) {
            let from_self = msg.get_str("src") == Some(self.node.as_str());
            let now = self.now();
            if let Some(r) = self.rsc.as_mut() {
                r.message(&msg, from_self, now);
            }
            self.drain_rsc();
        }
        self.notify_delivered(&msg);
        self.deliver_to_clients(&msg);
    }

    pub(super) fn on_fifo(&mut self) {
        let frames = match self.fifo_in.as_mut().map(Inbound::drain) {
            Some(Ok(f)) => f,
            Some(Err(())) => {
                if let Some(mut ib) = self.fifo_in.take() {
                    let _ = self.poll.registry().deregister(&mut ib.stream);
                }
                return;
            }
            None => return,
        };
        let now = self.now();
        for f in frames {
            match hb_proto::classic::decode(&f) {
                Ok(msg) => {
                    if let Err(e) = self.core.on_local_message(now, Self::wall(), msg) {
                        hb_log!(Prio::Error, "message from FIFO not sent: {e}");
                    }
                }
                Err(e) => {
                    if self.drops.fifo_bad() {
                        hb_log!(Prio::Error, "bad message from FIFO dropped: {e}");
                    }
                }
            }
        }
        self.drain_core();
    }

    pub(super) fn on_medium_input(&mut self, i: usize) {
        let frames = match self
            .media
            .get_mut(i)
            .and_then(|m| m.inbound.as_mut())
            .map(Inbound::drain)
        {
            Some(Ok(f)) => f,
            Some(Err(())) => {
                if let Some(mut ib) = self.media[i].inbound.take() {
                    let _ = self.poll.registry().deregister(&mut ib.stream);
                }
                return;
            }
            None => return,
        };
        let now = self.now();
        let wall = Self::wall();
        for f in frames {
            self.core.on_datagram(now, wall, i, &f);
        }
        self.drain_core();
    }
}
