//! ipfail's decision logic (docs/behaviour.md §9), separated from all I/O.
//!
//! ipfail compares how many ping nodes each side of a two-node cluster can
//! see and makes the side that sees fewer give its resources to the other
//! (`hb_standby`). Everything it reacts to arrives as an API message; this
//! module turns one message (or the firing of the delayed give-up timer)
//! into calls on a [`Heartbeat`] — the node walk, node messages to the
//! partner, the cluster message asking for standby — and log lines in the
//! C program's words. Time is passed in (milliseconds), so the whole
//! algorithm is unit-tested with a fake.

use hb_proto::Message;

pub use hb_log::Prio;

/// What ipfail needs from heartbeat and from its surroundings.
pub trait Heartbeat {
    /// Number of nodes whose status is `ping` (a fresh node walk).
    fn ping_count(&mut self) -> usize;
    /// Whether resource management is not in transition (`getrsc`): the C
    /// `is_stable`, where "no answer" also counts as stable.
    fn is_stable(&mut self) -> bool;
    /// Sends `msg` to ipfail on `node`.
    fn send_node(&mut self, msg: &Message, node: &str);
    /// Sends `msg` to the cluster.
    fn send_cluster(&mut self, msg: &Message);
    /// Writes one log line.
    fn log(&mut self, prio: Prio, text: &str);
    /// Blocks for `ms` milliseconds (the C program's `sleep(10)`).
    fn sleep_ms(&mut self, ms: u64);
}

/// The give-up timer's resource set.
const ALL: &str = "all";
const FOREIGN: &str = "foreign";
/// What the C program sleeps when the partner became stable while a
/// give-up was postponed (for the gratuitous ARPs to finish).
pub const POSTPONED_STANDBY_SLEEP_MS: u64 = 10_000;

/// A pending delayed give-up.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Giveup {
    /// When it fires (ms, the caller's clock).
    at: u64,
    /// Resource set to give up: `all` or `foreign`.
    what: &'static str,
    /// Timer id, shown in `Aborted delayed giveup (<id>)`.
    tag: u32,
}

/// ipfail's state.
#[derive(Debug)]
pub struct Ipfail {
    me: String,
    partner: String,
    auto_failback: bool,
    keepalive_ms: u64,
    /// Partner stable (from its `resource isstable=` messages).
    partner_stable: bool,
    /// A give-up fired while resources were in transition.
    need_standby: bool,
    giveup: Option<Giveup>,
    next_tag: u32,
}

/// cluster-glue's `cl_str_to_boolean`.
pub fn parse_boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "y" | "1" => Some(true),
        "false" | "off" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

impl Ipfail {
    /// ipfail on node `me` paired with `partner` (empty if none was found).
    pub fn new(me: &str, partner: &str, auto_failback: bool, keepalive_ms: u64) -> Ipfail {
        Ipfail {
            me: me.to_string(),
            partner: partner.to_string(),
            auto_failback,
            keepalive_ms,
            partner_stable: false,
            need_standby: false,
            giveup: None,
            // glib numbers its sources from 1; the C program's API channel
            // and poll timer take the first ids.
            next_tag: 3,
        }
    }

    /// When the give-up timer fires, if one is pending.
    pub fn next_deadline(&self) -> Option<u64> {
        self.giveup.as_ref().map(|g| g.at)
    }

    /// The resource set of the pending give-up, if any.
    #[cfg(test)]
    pub fn giveup_pending(&self) -> Option<&'static str> {
        self.giveup.as_ref().map(|g| g.what)
    }

    /// Handles one message from heartbeat, as libhbclient dispatches it to
    /// ipfail's callbacks: node status, link status, then by type.
    pub fn on_message(&mut self, hb: &mut impl Heartbeat, msg: &Message, now: u64) {
        let Some(t) = msg.msg_type() else { return };
        let t = t.to_ascii_lowercase();
        let get = |f: &str| msg.get_str(f);
        match t.as_str() {
            "status" | "ns_st" => {
                if let (Some(node), Some(st)) = (get("src"), get("st")) {
                    self.node_status(hb, node, st);
                }
            }
            "ifstat" => {
                if let (Some(node), Some(link), Some(st)) = (get("node"), get("ifname"), get("st"))
                {
                    self.link_status(hb, node, link, st);
                }
            }
            "hbapi-clstat"
                if get("st") == Some("join")
                    && get("from_id") == Some("ipfail")
                    && get("src").is_some_and(|s| s != self.me) =>
            {
                hb.log(
                    Prio::Debug,
                    &format!(
                        "Got join message from another ipfail client. ({})",
                        get("src").unwrap_or_default()
                    ),
                );
                let n = hb.ping_count();
                self.ask_ping_nodes(hb, n);
            }
            "resource" => self.resources(hb, msg),
            "num_ping_nodes" => {
                hb.log(Prio::Debug, "Got asked for num_ping.");
                let theirs = i64::from(hb_proto::cnum::atoi(get("num_ping").unwrap_or("")));
                let ours = i64::try_from(hb.ping_count()).unwrap_or(i64::MAX);
                self.compare(hb, ours, theirs, now);
            }
            "abort_giveup" => self.abort_giveup(hb),
            "you_are_dead" => {
                hb.log(
                    Prio::Info,
                    "Giving up because we were told that we have less ping nodes.",
                );
                self.delay_giveup(hb, ALL, now);
            }
            _ => {}
        }
    }

    /// Fires the give-up timer if it is due.
    pub fn tick(&mut self, hb: &mut impl Heartbeat, now: u64) {
        let Some(g) = self.giveup.clone() else { return };
        if now < g.at {
            return;
        }
        hb.log(Prio::Info, "giveup() called (timeout worked)");
        if hb.is_stable() {
            let msg = Message::from_pairs([
                ("t", "ask_resources"),
                ("rsc_hold", g.what),
                ("src", self.me.as_str()),
                ("info", "me"),
            ]);
            hb.send_cluster(&msg);
            hb.log(Prio::Debug, "Message [ask_resources] sent.");
            self.need_standby = false;
        } else {
            self.need_standby = true;
        }
        self.remove_timer(hb);
    }

    fn node_status(&mut self, hb: &mut impl Heartbeat, node: &str, status: &str) {
        hb.log(
            Prio::Info,
            &format!("Status update: Node {node} now has status {status}"),
        );
        if status == "dead" {
            if hb.ping_count() > 0 {
                hb.log(Prio::Info, "NS: We are still alive!");
            } else {
                hb.log(Prio::Info, "NS: We are dead. :<");
            }
        } else if status == "ping" {
            hb.log(Prio::Info, "A ping node just came up.");
            let n = hb.ping_count();
            self.ask_ping_nodes(hb, n);
        }
    }

    fn link_status(&mut self, hb: &mut impl Heartbeat, node: &str, link: &str, status: &str) {
        hb.log(
            Prio::Info,
            &format!("Link Status update: Link {node}/{link} now has status {status}"),
        );
        if status == "dead" {
            let n = hb.ping_count();
            if n > 0 {
                self.ask_ping_nodes(hb, n);
                hb.log(Prio::Info, "Checking remote count of ping nodes.");
            } else {
                hb.log(Prio::Info, "We are dead. :<");
                self.ask_ping_nodes(hb, n);
            }
        }
    }

    fn resources(&mut self, hb: &mut impl Heartbeat, msg: &Message) {
        let (Some(orig), Some(stable)) = (msg.get_str("src"), msg.get_str("isstable")) else {
            return;
        };
        if orig != self.partner {
            return;
        }
        if msg.get_str("info").is_none() && stable == "1" {
            hb.log(Prio::Debug, "Other side is now stable.");
            self.partner_stable = true;
            if self.need_standby {
                hb.sleep_ms(POSTPONED_STANDBY_SLEEP_MS);
                let n = hb.ping_count();
                self.ask_ping_nodes(hb, n);
                self.need_standby = false;
            }
        } else if stable == "0" {
            hb.log(Prio::Debug, "Other side is unstable.");
            self.partner_stable = false;
        }
    }

    fn send_partner(&self, hb: &mut impl Heartbeat, msg: &Message) {
        if self.partner.is_empty() {
            hb.log(Prio::Debug, "No partner node: message not sent.");
            return;
        }
        hb.send_node(msg, &self.partner);
    }

    fn ask_ping_nodes(&mut self, hb: &mut impl Heartbeat, count: usize) {
        hb.log(Prio::Info, "Asking other side for ping node count.");
        let n = count.to_string();
        let msg = Message::from_pairs([
            ("t", "num_ping_nodes"),
            ("src", self.me.as_str()),
            ("num_ping", n.as_str()),
        ]);
        self.send_partner(hb, &msg);
        hb.log(Prio::Debug, "Message [num_ping] sent.");
    }

    fn compare(&mut self, hb: &mut impl Heartbeat, ours: i64, theirs: i64, now: u64) {
        if ours > theirs {
            hb.log(
                Prio::Info,
                "Telling other node that we have more visible ping nodes.",
            );
            hb.log(Prio::Debug, "Sending you_are_dead.");
            self.send_partner(hb, &Message::from_pairs([("t", "you_are_dead")]));
            hb.log(Prio::Debug, "Message [you_are_dead] sent.");
        } else if ours < theirs {
            hb.log(
                Prio::Info,
                "Giving up because we have less visible ping nodes.",
            );
            self.delay_giveup(hb, ALL, now);
        } else {
            hb.log(Prio::Info, "Ping node count is balanced.");
            let msg = Message::from_pairs([("t", "abort_giveup"), ("src", self.me.as_str())]);
            self.send_partner(hb, &msg);
            hb.log(Prio::Debug, "Abort message sent.");
            if self.giveup.is_some() {
                self.abort_giveup(hb);
            } else if self.auto_failback && hb.is_stable() {
                hb.log(Prio::Info, "Giving up foreign resources (auto_failback).");
                self.delay_giveup(hb, FOREIGN, now);
            }
        }
    }

    fn delay_giveup(&mut self, hb: &mut impl Heartbeat, what: &'static str, now: u64) {
        let ms = self.keepalive_ms.saturating_mul(2);
        hb.log(
            Prio::Info,
            &format!("Delayed giveup in {} seconds.", ms / 1000),
        );
        if self.giveup.is_some() {
            hb.log(Prio::Debug, "Detected existing delay timer, overriding");
            self.remove_timer(hb);
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1).max(3);
        self.giveup = Some(Giveup {
            at: now.saturating_add(ms),
            what,
            tag,
        });
    }

    fn remove_timer(&mut self, hb: &mut impl Heartbeat) {
        if self.giveup.take().is_some() {
            hb.log(Prio::Debug, "giveup timeout has been destroyed.");
        }
    }

    fn abort_giveup(&mut self, hb: &mut impl Heartbeat) {
        match self.giveup.as_ref().map(|g| g.tag) {
            Some(tag) => {
                hb.log(Prio::Info, &format!("Aborted delayed giveup ({tag})"));
                self.remove_timer(hb);
            }
            None => hb.log(Prio::Info, "No giveup timer to abort."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted heartbeat: fixed ping count and stability, records what
    /// ipfail does.
    #[derive(Default)]
    struct Fake {
        pings: usize,
        transition: bool,
        to_node: Vec<(String, Message)>,
        to_cluster: Vec<Message>,
        lines: Vec<(Prio, String)>,
        slept: u64,
    }

    impl Heartbeat for Fake {
        fn ping_count(&mut self) -> usize {
            self.pings
        }
        fn is_stable(&mut self) -> bool {
            !self.transition
        }
        fn send_node(&mut self, msg: &Message, node: &str) {
            self.to_node.push((node.to_string(), msg.clone()));
        }
        fn send_cluster(&mut self, msg: &Message) {
            self.to_cluster.push(msg.clone());
        }
        fn log(&mut self, prio: Prio, text: &str) {
            self.lines.push((prio, text.to_string()));
        }
        fn sleep_ms(&mut self, ms: u64) {
            self.slept += ms;
        }
    }

    impl Fake {
        fn info(&self) -> Vec<&str> {
            self.lines
                .iter()
                .filter(|(p, _)| *p == Prio::Info)
                .map(|(_, t)| t.as_str())
                .collect()
        }
        fn sent_types(&self) -> Vec<String> {
            self.to_node
                .iter()
                .map(|(n, m)| format!("{n}:{}", m.msg_type().unwrap_or("")))
                .collect()
        }
    }

    fn msg(pairs: &[(&str, &str)]) -> Message {
        Message::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn losing_the_ping_link_asks_the_partner_with_zero() {
        let mut hb = Fake::default();
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        ip.on_message(
            &mut hb,
            &msg(&[
                ("t", "ifstat"),
                ("node", "10.0.0.1"),
                ("ifname", "10.0.0.1"),
                ("st", "dead"),
            ]),
            0,
        );
        assert_eq!(
            hb.info(),
            vec![
                "Link Status update: Link 10.0.0.1/10.0.0.1 now has status dead",
                "We are dead. :<",
                "Asking other side for ping node count.",
            ]
        );
        let (to, m) = &hb.to_node[0];
        assert_eq!(to, "nodeb");
        assert_eq!(m.get_str("t"), Some("num_ping_nodes"));
        assert_eq!(m.get_str("src"), Some("nodea"));
        assert_eq!(m.get_str("num_ping"), Some("0"));
    }

    #[test]
    fn link_loss_with_pings_left_asks_then_says_checking() {
        let mut hb = Fake {
            pings: 2,
            ..Fake::default()
        };
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        ip.on_message(
            &mut hb,
            &msg(&[
                ("t", "ifstat"),
                ("node", "nodeb"),
                ("ifname", "eth1"),
                ("st", "dead"),
            ]),
            0,
        );
        assert_eq!(
            hb.info()[1..],
            [
                "Asking other side for ping node count.",
                "Checking remote count of ping nodes."
            ]
        );
        assert_eq!(hb.to_node[0].1.get_str("num_ping"), Some("2"));
    }

    #[test]
    fn the_side_with_more_pings_tells_the_other_it_is_dead() {
        let mut hb = Fake {
            pings: 1,
            ..Fake::default()
        };
        let mut ip = Ipfail::new("nodeb", "nodea", true, 1000);
        ip.on_message(
            &mut hb,
            &msg(&[("t", "num_ping_nodes"), ("src", "nodea"), ("num_ping", "0")]),
            0,
        );
        assert_eq!(
            hb.info(),
            vec!["Telling other node that we have more visible ping nodes."]
        );
        assert_eq!(hb.sent_types(), vec!["nodea:you_are_dead"]);
        assert_eq!(ip.next_deadline(), None);
    }

    #[test]
    fn told_dead_gives_up_all_after_two_keepalives() {
        let mut hb = Fake::default();
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        ip.on_message(&mut hb, &msg(&[("t", "you_are_dead")]), 5_000);
        assert_eq!(
            hb.info(),
            vec![
                "Giving up because we were told that we have less ping nodes.",
                "Delayed giveup in 2 seconds."
            ]
        );
        assert_eq!(ip.next_deadline(), Some(7_000));
        ip.tick(&mut hb, 6_999);
        assert!(hb.to_cluster.is_empty());
        ip.tick(&mut hb, 7_000);
        assert_eq!(hb.info().last(), Some(&"giveup() called (timeout worked)"));
        let m = &hb.to_cluster[0];
        let f: Vec<_> = ["t", "rsc_hold", "src", "info"]
            .iter()
            .map(|k| m.get_str(k).unwrap_or(""))
            .collect();
        assert_eq!(f, vec!["ask_resources", "all", "nodea", "me"]);
        assert_eq!(ip.next_deadline(), None);
    }

    #[test]
    fn fewer_pings_gives_up_and_a_giveup_in_transition_waits_for_a_stable_partner() {
        let mut hb = Fake {
            pings: 0,
            transition: true,
            ..Fake::default()
        };
        let mut ip = Ipfail::new("nodea", "nodeb", false, 2000);
        ip.on_message(
            &mut hb,
            &msg(&[("t", "num_ping_nodes"), ("src", "nodeb"), ("num_ping", "1")]),
            0,
        );
        assert_eq!(
            hb.info(),
            vec![
                "Giving up because we have less visible ping nodes.",
                "Delayed giveup in 4 seconds."
            ]
        );
        ip.tick(&mut hb, 4_000);
        assert!(hb.to_cluster.is_empty(), "postponed while in transition");
        // The partner's stability message (no info field) restarts the comparison.
        hb.transition = false;
        ip.on_message(
            &mut hb,
            &msg(&[
                ("t", "resource"),
                ("src", "nodeb"),
                ("isstable", "1"),
                ("info", "x"),
            ]),
            5_000,
        );
        assert_eq!(hb.slept, 0, "messages with info are ignored");
        ip.on_message(
            &mut hb,
            &msg(&[("t", "resource"), ("src", "nodeb"), ("isstable", "1")]),
            5_000,
        );
        assert_eq!(hb.slept, POSTPONED_STANDBY_SLEEP_MS);
        assert_eq!(hb.sent_types(), vec!["nodeb:num_ping_nodes"]);
    }

    #[test]
    fn balanced_counts_abort_a_pending_giveup_or_give_up_foreign() {
        let mut hb = Fake {
            pings: 1,
            ..Fake::default()
        };
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        ip.on_message(&mut hb, &msg(&[("t", "you_are_dead")]), 0);
        ip.on_message(
            &mut hb,
            &msg(&[("t", "num_ping_nodes"), ("src", "nodeb"), ("num_ping", "1")]),
            100,
        );
        let info = hb.info();
        assert_eq!(info[2], "Ping node count is balanced.");
        assert!(info[3].starts_with("Aborted delayed giveup ("), "{info:?}");
        assert_eq!(hb.sent_types(), vec!["nodeb:abort_giveup"]);
        assert_eq!(ip.next_deadline(), None);
        // Balanced again, no timer: auto_failback gives up foreign resources.
        ip.on_message(
            &mut hb,
            &msg(&[("t", "num_ping_nodes"), ("src", "nodeb"), ("num_ping", "1")]),
            200,
        );
        assert_eq!(
            hb.info()[4..],
            [
                "Ping node count is balanced.",
                "Giving up foreign resources (auto_failback).",
                "Delayed giveup in 2 seconds."
            ]
        );
        assert_eq!(ip.giveup_pending(), Some("foreign"));
        // The partner's abort cancels it.
        ip.on_message(
            &mut hb,
            &msg(&[("t", "abort_giveup"), ("src", "nodeb")]),
            300,
        );
        assert_eq!(ip.next_deadline(), None);
        ip.on_message(
            &mut hb,
            &msg(&[("t", "abort_giveup"), ("src", "nodeb")]),
            400,
        );
        assert_eq!(hb.info().last(), Some(&"No giveup timer to abort."));
    }

    #[test]
    fn node_status_lines_and_ping_return() {
        let mut hb = Fake {
            pings: 0,
            ..Fake::default()
        };
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        ip.on_message(
            &mut hb,
            &msg(&[
                ("t", "NS_st"),
                ("src", "10.0.0.1"),
                ("st", "dead"),
                ("info", "ping"),
            ]),
            0,
        );
        hb.pings = 1;
        ip.on_message(
            &mut hb,
            &msg(&[("t", "status"), ("src", "10.0.0.2"), ("st", "dead")]),
            0,
        );
        ip.on_message(
            &mut hb,
            &msg(&[("t", "NS_st"), ("src", "10.0.0.1"), ("st", "ping")]),
            0,
        );
        ip.on_message(
            &mut hb,
            &msg(&[("t", "status"), ("src", "nodeb"), ("st", "active")]),
            0,
        );
        assert_eq!(
            hb.info(),
            vec![
                "Status update: Node 10.0.0.1 now has status dead",
                "NS: We are dead. :<",
                "Status update: Node 10.0.0.2 now has status dead",
                "NS: We are still alive!",
                "Status update: Node 10.0.0.1 now has status ping",
                "A ping node just came up.",
                "Asking other side for ping node count.",
                "Status update: Node nodeb now has status active",
            ]
        );
    }

    #[test]
    fn join_of_the_remote_ipfail_only_triggers_a_count() {
        let mut hb = Fake::default();
        let mut ip = Ipfail::new("nodea", "nodeb", true, 1000);
        let join = |src: &str, id: &str| {
            msg(&[
                ("t", "hbapi-clstat"),
                ("src", src),
                ("from_id", id),
                ("st", "join"),
            ])
        };
        ip.on_message(&mut hb, &join("nodea", "ipfail"), 0);
        ip.on_message(&mut hb, &join("nodeb", "other"), 0);
        assert!(hb.to_node.is_empty());
        ip.on_message(&mut hb, &join("nodeb", "ipfail"), 0);
        assert_eq!(hb.sent_types(), vec!["nodeb:num_ping_nodes"]);
    }

    #[test]
    fn helpers_match_c() {
        assert_eq!(parse_boolean("On"), Some(true));
        assert_eq!(parse_boolean("0"), Some(false));
        assert_eq!(parse_boolean("legacy"), None);
    }
}
