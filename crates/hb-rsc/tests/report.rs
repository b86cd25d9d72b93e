//! `ResourceManager::report` (what `cl_status explain` says per group) and the per-group
//! counters (`cl_status metrics`), over the two-node simulation of `sim`.

// Shared with cluster_sim.rs, which uses all of it.
#[allow(dead_code)]
mod sim;

use hb_rsc::report::{GroupReport, Reason};
use hb_rsc::{LocalCommand, Mode, StandbyArg};
use sim::{group, Sim};

const VIP_A: &str = "198.18.99.1";
const VIP_B: &str = "198.18.99.2";

fn started(mode: Mode) -> Sim {
    let mut s = Sim::new(
        mode,
        &["a", "b"],
        vec![group(VIP_A, "a"), group(VIP_B, "b")],
    );
    s.boot_pair("a", "b");
    s.run_until_quiet(30_000);
    s
}

fn group_of(s: &Sim, node: &str, key: &str) -> GroupReport {
    let report = s.nodes[s.idx(node)].rm.report();
    report
        .groups
        .into_iter()
        .find(|g| g.key == key)
        .expect("group in the report")
}

#[test]
fn each_node_holds_its_own_group_and_says_so() {
    let s = started(Mode::On);
    let a = group_of(&s, "a", VIP_A);
    assert!(a.held);
    assert_eq!(a.reason, Reason::HomeHere);
    assert_eq!(a.reason.to_string(), "this is its home node");
    assert_eq!((a.counters.starts, a.counters.takeovers), (1, 0));
    let b_view = group_of(&s, "a", VIP_B);
    assert!(!b_view.held);
    assert_eq!(b_view.reason, Reason::HomeRunsIt { home: "b".into() });
    let report = s.nodes[0].rm.report();
    assert_eq!(
        (report.mode, report.state, report.standby),
        ("on", "stable", None)
    );
}

#[test]
fn a_takeover_is_explained_and_counted_then_handed_back() {
    let mut s = started(Mode::On);
    s.crash("b");
    s.run_until_quiet(60_000);
    let b = group_of(&s, "a", VIP_B);
    assert!(b.held);
    assert_eq!(b.reason, Reason::HomeDead { home: "b".into() });
    assert_eq!(
        b.reason.to_string(),
        "its home node b is dead: this node took it over"
    );
    assert_eq!((b.counters.starts, b.counters.takeovers), (1, 1));
    s.start("b");
    s.run_until_quiet(60_000);
    let b = group_of(&s, "a", VIP_B);
    assert!(!b.held);
    assert_eq!(b.reason, Reason::HomeRunsIt { home: "b".into() });
    assert_eq!((b.counters.stops, b.counters.stop_failures), (1, 0));
}

#[test]
fn without_auto_failback_the_group_stays_and_the_owner_says_why() {
    let mut s = started(Mode::Off);
    s.crash("b");
    s.run_until_quiet(60_000);
    s.start("b");
    s.run_until_quiet(60_000);
    assert_eq!(
        group_of(&s, "a", VIP_B).reason,
        Reason::StaysNoFailback { home: "b".into() }
    );
    let home = group_of(&s, "b", VIP_B);
    assert!(!home.held);
    assert_eq!(home.reason, Reason::PeerHoldsOurs { peer: "a".into() });
    // hb_takeover on b brings it home.
    s.command("b", LocalCommand::Takeover(StandbyArg::Local));
    s.run_until_quiet(60_000);
    assert_eq!(group_of(&s, "b", VIP_B).reason, Reason::HomeHere);
}
