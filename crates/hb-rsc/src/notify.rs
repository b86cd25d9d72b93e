//! rc.d notifications (`notify_world`, docs/behaviour.md §5.6): which cluster
//! messages run `harc <type>`, with which environment, one at a time. Pure:
//! the daemon lists `rc.d` once, forks the runs and reports their end.

use std::collections::{BTreeSet, VecDeque};

use hb_proto::msg::Value;
use hb_proto::Message;

/// Message types a daemon handler claims (the C registers callbacks for
/// them): they never reach rc.d through the "unclaimed" path. `status` /
/// `NS_st`, `ip-request` and `ip-request-resp` have their own rules.
const CLAIMED: &[&str] = &[
    "rexmit",
    "NS_rexmit",
    "QCstatus",
    "ACKmsg",
    "addnode",
    "setweight",
    "setsite",
    "delnode",
    "reqnodes",
    "repnodes",
    "shutdone",
    "starting",
    "resource",
    "ask_resources",
];

/// Where a message comes from, as far as notifications care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The message is ours (looped back).
    pub from_self: bool,
    /// A graceful shutdown is under way.
    pub shutting_down: bool,
    /// Communication is up.
    pub comm_up: bool,
}

/// Whether a delivered message runs `harc <type>` (before the rc.d filter).
/// Status messages (`status`, `NS_st`) are delivered only when a peer's
/// status changed, which is exactly when the C notifies.
pub fn wants_notification(msg: &Message, ctx: Context) -> bool {
    let Some(t) = msg.msg_type() else {
        return false;
    };
    match t {
        "status" | "NS_st" => !ctx.from_self,
        "ip-request" => !ctx.from_self,
        "ip-request-resp" => !ctx.shutting_down,
        _ if CLAIMED.contains(&t) => false,
        _ => ctx.comm_up,
    }
}

/// The synthetic message queued when a dead node's groups are taken over
/// (`t=status seq=1 ts=<now> src=<node> st=dead`, plus `info=ping` for a
/// ping node); `wall_secs` is the wall clock.
pub fn dead_node_message(node: &str, wall_secs: u64, ping: bool) -> Message {
    let ts = format!("{wall_secs:x}");
    let mut m = Message::from_pairs([
        ("t", "status"),
        ("seq", "1"),
        ("ts", ts.as_str()),
        ("src", node),
        ("st", "dead"),
    ]);
    if ping {
        m.push_str("info", "ping");
    }
    m
}

/// The `harc` argument: the message type in lower case.
pub fn script_type(msg: &Message) -> Option<String> {
    msg.msg_type().map(str::to_ascii_lowercase)
}

/// What the run adds to the daemon's environment: `HA_<field>` for every
/// string field (binary and nested fields are left out), `HA_OSTATUS` (the
/// local node's status), `HA_NICEFAILBACK=yes` with nice_failback, `HA_LOGD`.
pub fn script_env(
    msg: &Message,
    local_status: &str,
    nice_failback: bool,
    logd: bool,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = msg
        .fields()
        .iter()
        .filter_map(|f| match &f.value {
            Value::String(v) => Some((
                format!("HA_{}", f.name),
                String::from_utf8_lossy(v).into_owned(),
            )),
            _ => None,
        })
        .collect();
    env.push(("HA_OSTATUS".into(), local_status.into()));
    if nice_failback {
        env.push(("HA_NICEFAILBACK".into(), "yes".into()));
    }
    env.push(("HA_LOGD".into(), if logd { "yes" } else { "no" }.into()));
    env
}

/// The rc.d filter and the one-at-a-time queue.
#[derive(Debug, Default)]
pub struct Notifier {
    /// Names in rc.d, listed once at the first event (`None` before).
    scripts: Option<BTreeSet<String>>,
    queue: VecDeque<Message>,
    running: bool,
}

impl Notifier {
    /// A notifier that has not listed rc.d yet.
    pub fn new() -> Notifier {
        Notifier::default()
    }

    /// Whether rc.d still has to be listed (the first event).
    pub fn needs_listing(&self) -> bool {
        self.scripts.is_none()
    }

    /// The rc.d listing (file names); later calls change nothing, like the
    /// C, which lists the directory once.
    pub fn set_listing(&mut self, names: impl IntoIterator<Item = String>) {
        if self.scripts.is_none() {
            self.scripts = Some(names.into_iter().collect());
        }
    }

    /// Queues `msg` if rc.d has a script named exactly like its type.
    /// Returns whether it was queued.
    pub fn push(&mut self, msg: Message) -> bool {
        let Some(t) = msg.msg_type() else {
            return false;
        };
        if !self.scripts.as_ref().is_some_and(|s| s.contains(t)) {
            return false;
        }
        self.queue.push_back(msg);
        true
    }

    /// The next message to run, if none runs and `others_busy` (another
    /// resource helper running) is false; it counts as running until
    /// [`Notifier::done`].
    pub fn next(&mut self, others_busy: bool) -> Option<Message> {
        if self.running || others_busy {
            return None;
        }
        let m = self.queue.pop_front()?;
        self.running = true;
        Some(m)
    }

    /// Whether a run is in progress.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The running notification ended.
    pub fn done(&mut self) {
        self.running = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP: Context = Context {
        from_self: false,
        shutting_down: false,
        comm_up: true,
    };

    fn msg(t: &str) -> Message {
        Message::from_pairs([("t", t), ("src", "nodeb")])
    }

    #[test]
    fn which_messages_notify() {
        assert!(wants_notification(&msg("status"), UP));
        assert!(wants_notification(&msg("NS_st"), UP));
        assert!(!wants_notification(
            &msg("status"),
            Context {
                from_self: true,
                ..UP
            }
        ));
        assert!(wants_notification(&msg("ip-request"), UP));
        assert!(!wants_notification(
            &msg("ip-request"),
            Context {
                from_self: true,
                ..UP
            }
        ));
        assert!(wants_notification(
            &msg("ip-request-resp"),
            Context {
                from_self: true,
                ..UP
            }
        ));
        assert!(!wants_notification(
            &msg("ip-request-resp"),
            Context {
                shutting_down: true,
                ..UP
            }
        ));
        for claimed in ["starting", "resource", "ask_resources", "shutdone"] {
            assert!(!wants_notification(&msg(claimed), UP), "{claimed}");
        }
        for other in ["hb_takeover", "stonith", "num_ping_nodes", "envtest"] {
            assert!(wants_notification(&msg(other), UP), "{other}");
            assert!(
                !wants_notification(
                    &msg(other),
                    Context {
                        comm_up: false,
                        ..UP
                    }
                ),
                "{other} before comm up"
            );
        }
        assert!(!wants_notification(&Message::new(), UP));
    }

    #[test]
    fn environment_of_a_run() {
        let mut m = Message::from_pairs([("t", "envtest"), ("foo", "bar baz"), ("src", "vm")]);
        m.push("srcuuid", Value::Binary(vec![1, 2, 3]));
        let env = script_env(&m, "active", true, false);
        assert_eq!(
            env,
            [
                ("HA_t", "envtest"),
                ("HA_foo", "bar baz"),
                ("HA_src", "vm"),
                ("HA_OSTATUS", "active"),
                ("HA_NICEFAILBACK", "yes"),
                ("HA_LOGD", "no"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let env = script_env(&m, "active", false, true);
        assert!(!env.iter().any(|(k, _)| k == "HA_NICEFAILBACK"));
        assert!(env.contains(&("HA_LOGD".into(), "yes".into())));
        assert_eq!(script_type(&msg("NS_st")).as_deref(), Some("ns_st"));
    }

    #[test]
    fn listed_once_run_one_at_a_time() {
        let mut n = Notifier::new();
        assert!(n.needs_listing());
        assert!(!n.push(msg("status")), "nothing before the listing");
        n.set_listing(["status".to_string(), "hb_takeover".to_string()]);
        n.set_listing(["envtest".to_string()]);
        assert!(!n.needs_listing());
        assert!(!n.push(msg("envtest")), "scripts added later are ignored");
        assert!(n.push(msg("status")));
        assert!(n.push(msg("hb_takeover")));
        assert_eq!(n.next(true), None, "waits for other resource helpers");
        assert_eq!(n.next(false).unwrap().msg_type(), Some("status"));
        assert_eq!(n.next(false), None, "one at a time");
        n.done();
        assert_eq!(n.next(false).unwrap().msg_type(), Some("hb_takeover"));
        n.done();
        assert_eq!(n.next(false), None);
    }

    #[test]
    fn synthetic_death() {
        let m = dead_node_message("nodea", 0x6b02_6e77, true);
        assert_eq!(
            m.fields()
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["t", "seq", "ts", "src", "st", "info"]
        );
        assert_eq!(m.get_str("ts"), Some("6b026e77"));
    }
}
