//! Two- and three-node runs of the resource state machine over the
//! in-memory bus of `sim`. Every run checks, at every acquisition, that no
//! group is active on two nodes (see `sim::Sim::check_invariant`).

mod sim;

use hb_rsc::{LocalCommand, Mode, RscSet, RscStatus, StandbyArg, RQSTDELAY_MS};
use sim::{group, Sim};

const VIP_A: &str = "198.18.99.1";
const FS_A: &str = "a_fs";
const VIP_B: &str = "198.18.99.2";

fn two_nodes(mode: Mode) -> Sim {
    Sim::new(
        mode,
        &["a", "b"],
        vec![group(VIP_A, "a"), group(VIP_B, "b"), group(FS_A, "a")],
    )
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// A and B boot within initdead (A's comm up first); both end with their
/// own groups.
fn started(mode: Mode) -> Sim {
    let mut s = two_nodes(mode);
    s.boot_pair("a", "b");
    s.run_until_quiet(30_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]), "{mode:?}");
    assert_eq!(s.holds("b"), sorted(&[VIP_B]), "{mode:?}");
    s
}

const MODES: [Mode; 3] = [Mode::Legacy, Mode::On, Mode::Off];

#[test]
fn startup_each_node_ends_with_its_own_groups() {
    for mode in MODES {
        let s = started(mode);
        for n in ["a", "b"] {
            assert!(
                s.logged(n, "Initial resource acquisition complete"),
                "{mode:?} {n}: {:?}",
                s.nodes[s.idx(n)].logs
            );
            assert!(
                s.errors(n).is_empty(),
                "{mode:?} {n}: {:?}\n{:#?}\n{:#?}",
                s.errors(n),
                s.nodes[s.idx(n)].logs,
                s.sent_rendered(n)
            );
        }
        if mode != Mode::Legacy {
            assert_eq!(s.nodes[0].rm.rsc_hold(), RscStatus::Held(RscSet::LOCAL));
            assert_eq!(s.nodes[1].rm.rsc_hold(), RscStatus::Held(RscSet::LOCAL));
            assert_eq!(s.sent_types("b")[0], "starting");
        } else {
            assert!(!s.sent_types("b").contains(&"starting".to_string()));
            // b asked a for its group; a answered that it does not own it
            assert!(s
                .sent_rendered("b")
                .contains(&format!("t=ip-request ipaddr={VIP_B}")));
            assert!(s.sent_rendered("a").contains(&format!(
                "t=ip-request-resp dest=b ipaddr={VIP_B} weown=no ok=OK"
            )));
        }
    }
}

#[test]
fn lone_node_takes_everything_without_rqstdelay() {
    for mode in [Mode::On, Mode::Off] {
        let mut s = two_nodes(mode);
        let t0 = s.now;
        // b never showed up: declared dead at initdead, then comm up alone
        s.start("a");
        s.run_until_quiet(30_000);
        assert_eq!(s.holds("a"), sorted(&[VIP_A, VIP_B, FS_A]));
        assert!(s.logged("a", "local resource transition completed."));
        assert!(s.logged("a", "Initial resource acquisition complete"));
        // three group operations of OP_DELAY_MS, far below the 10 s wait
        assert!(s.now - t0 < RQSTDELAY_MS, "took {} ms", s.now - t0);
        let sent = s.sent_rendered("a");
        assert_eq!(sent[..2], ["t=stonith node=b result=n_stnth", "t=starting"]);
        assert!(sent.contains(&format!(
            "t=ip-request-resp dest=a ipaddr={VIP_A} weown=yes ok=OK"
        )));
        assert_eq!(s.nodes[0].rm.rsc_hold(), RscStatus::Held(RscSet::ALL));
        assert!(s.errors("a").is_empty(), "{:?}", s.errors("a"));
    }
}

#[test]
fn both_starting_take_their_own_groups_at_once() {
    for mode in [Mode::On, Mode::Off] {
        let mut s = two_nodes(mode);
        let t0 = s.now;
        s.start_together(&["a", "b"]);
        s.run_until_quiet(30_000);
        assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]));
        assert_eq!(s.holds("b"), sorted(&[VIP_B]));
        // no RQSTDELAY: a starting peer holds nothing
        assert!(s.now - t0 < RQSTDELAY_MS, "took {} ms", s.now - t0);
        for n in ["a", "b"] {
            assert!(s.logged(n, "Initial resource acquisition complete"));
            assert!(s.logged(n, "local resource transition completed."));
            assert!(s.errors(n).is_empty(), "{mode:?} {n}: {:?}", s.errors(n));
        }
        assert!(["a", "b"].iter().any(|n| s.logged(
            n,
            "Both nodes starting: acquiring local resources without waiting."
        )));
    }
}

#[test]
fn peer_death_survivor_takes_everything_with_stonith_notice() {
    for mode in MODES {
        let mut s = started(mode);
        s.clear_records();
        s.crash("b");
        s.run_until_quiet(60_000);
        assert_eq!(s.holds("a"), sorted(&[VIP_A, VIP_B, FS_A]), "{mode:?}");
        assert!(s
            .sent_rendered("a")
            .contains(&"t=stonith node=b result=n_stnth".to_string()));
        assert!(s.logged("a", "No STONITH device configured."));
        assert!(s.logged("a", "Shared disks are not protected."));
        assert!(s.logged("a", "Resources being acquired from b."));
        assert!(s.logged("a", &format!("Taking over resource group {VIP_B}")));
        if mode != Mode::Legacy {
            assert!(s
                .sent_rendered("a")
                .contains(&"t=resource rsc_hold=foreign info=mach_down".to_string()));
            assert!(s.logged("a", "mach_down takeover complete."));
            assert_eq!(s.nodes[0].rm.rsc_hold(), RscStatus::Held(RscSet::ALL));
        }
        assert!(s.errors("a").is_empty(), "{mode:?}: {:?}", s.errors("a"));
    }
}

#[test]
fn returning_node_gets_groups_back_with_auto_failback_on_and_legacy() {
    for mode in [Mode::On, Mode::Legacy] {
        let mut s = started(mode);
        s.crash("b");
        s.run_until_quiet(60_000);
        s.clear_records();
        s.start("b");
        s.run_until_quiet(60_000);
        assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]), "{mode:?}");
        assert_eq!(s.holds("b"), sorted(&[VIP_B]), "{mode:?}");
        if mode == Mode::On {
            // a gives b's group back through the standby protocol
            let a = s.sent_rendered("a");
            assert!(
                a.contains(&"t=ask_resources rsc_hold=foreign info=me".to_string()),
                "{a:?}"
            );
            assert!(a.contains(
                &"t=resource rsc_hold=local rtype=full isstable=0 info=standby".to_string()
            ));
            assert!(a.contains(&"t=ask_resources rsc_hold=foreign info=done".to_string()));
            let b = s.sent_rendered("b");
            assert!(b.contains(&"t=ask_resources rsc_hold=foreign info=other".to_string()));
            assert!(b.contains(&"t=ask_resources rsc_hold=foreign info=done".to_string()));
            assert!(s.logged("b", "a wants to go standby [foreign]"));
            assert!(s.logged("b", "Standby resource acquisition done [foreign]."));
            assert!(s.logged(
                "a",
                "Other node completed standby takeover of foreign resources."
            ));
            assert!(s.logged("b", "Initial resource acquisition complete (auto_failback)"));
        } else {
            assert!(s.sent_rendered("a").contains(&format!(
                "t=ip-request-resp dest=b ipaddr={VIP_B} weown=yes ok=OK"
            )));
        }
        for n in ["a", "b"] {
            assert!(s.errors(n).is_empty(), "{mode:?} {n}: {:?}", s.errors(n));
        }
    }
}

#[test]
fn returning_node_stays_idle_with_auto_failback_off() {
    let mut s = started(Mode::Off);
    s.crash("b");
    s.run_until_quiet(60_000);
    s.start("b");
    s.run_until_quiet(60_000);
    s.run_for(5_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, VIP_B, FS_A]));
    assert!(s.holds("b").is_empty());
    assert!(s.logged("b", "Local Resource acquisition completed. (none)"));
    assert!(!s.sent_types("a").iter().any(|t| t == "ask_resources"));
    assert_eq!(s.nodes[1].rm.rsc_hold(), RscStatus::Held(RscSet::NONE));
    // hb_takeover brings b's group home on request
    s.command("b", LocalCommand::Takeover(StandbyArg::Local));
    s.run_until_quiet(60_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]));
    assert_eq!(s.holds("b"), sorted(&[VIP_B]));
}

#[test]
fn standby_and_takeover_move_exactly_the_requested_groups() {
    let all = sorted(&[VIP_A, VIP_B, FS_A]);
    let a_own = sorted(&[VIP_A, FS_A]);
    let b_own = sorted(&[VIP_B]);
    for mode in [Mode::On, Mode::Off] {
        // (command on a, holdings of a afterwards, holdings of b afterwards)
        let cases: Vec<(LocalCommand, Vec<String>, Vec<String>)> = vec![
            (LocalCommand::Standby(StandbyArg::All), vec![], all.clone()),
            (
                LocalCommand::Standby(StandbyArg::Local),
                vec![],
                all.clone(),
            ),
            (
                LocalCommand::Standby(StandbyArg::Foreign),
                a_own.clone(),
                b_own.clone(),
            ),
            (LocalCommand::Takeover(StandbyArg::All), all.clone(), vec![]),
            (
                LocalCommand::Takeover(StandbyArg::Foreign),
                all.clone(),
                vec![],
            ),
            (
                LocalCommand::Takeover(StandbyArg::Local),
                a_own.clone(),
                b_own.clone(),
            ),
            // quirk: the peer cannot map "failback" and gives up everything
            (
                LocalCommand::Takeover(StandbyArg::Failback),
                all.clone(),
                vec![],
            ),
        ];
        for (cmd, want_a, want_b) in cases {
            let mut s = started(mode);
            s.clear_records();
            s.command("a", cmd);
            s.run_until_quiet(60_000);
            assert_eq!(
                (s.holds("a"), s.holds("b")),
                (want_a.clone(), want_b.clone()),
                "{mode:?} {cmd:?}"
            );
            for n in ["a", "b"] {
                assert!(
                    s.errors(n).is_empty(),
                    "{mode:?} {cmd:?} {n}: {:?}",
                    s.errors(n)
                );
            }
            // and back: the other node's standby of the same kind
            if let LocalCommand::Standby(StandbyArg::All) = cmd {
                assert!(s.logged("b", "a wants to go standby [all]"));
                assert!(s.logged("b", "Standby resource acquisition done [all]."));
                assert!(s.logged(
                    "a",
                    "Other node completed standby takeover of all resources."
                ));
                assert_eq!(s.nodes[0].rm.rsc_hold(), RscStatus::Held(RscSet::NONE));
                assert_eq!(s.nodes[1].rm.rsc_hold(), RscStatus::Held(RscSet::ALL));
            }
        }
    }
}

#[test]
fn standby_foreign_returns_groups_held_for_the_peer() {
    let mut s = started(Mode::Off);
    s.command("b", LocalCommand::Standby(StandbyArg::All));
    s.run_until_quiet(60_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, VIP_B, FS_A]));
    s.command("a", LocalCommand::Standby(StandbyArg::Failback));
    s.run_until_quiet(60_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]));
    assert_eq!(s.holds("b"), sorted(&[VIP_B]));
}

#[test]
fn standby_is_refused_in_legacy_mode() {
    let mut s = started(Mode::Legacy);
    s.command("a", LocalCommand::Standby(StandbyArg::All));
    s.run_until_quiet(30_000);
    assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]));
    assert!(s.logged("a", "Standby mode only implemented when nice_failback on"));
    assert!(s.logged("b", "Standby mode only implemented when nice_failback on"));
}

#[test]
fn standby_without_reply_is_cancelled_after_10s() {
    let mut s = started(Mode::On);
    s.crash("b");
    // before b is declared dead, a asks to go standby: nobody answers
    s.command("a", LocalCommand::Standby(StandbyArg::All));
    s.run_for(1_000);
    assert_eq!(s.nodes[0].rm.rsc_hold(), RscStatus::Transition);
    s.run_until_quiet(60_000);
    assert!(
        s.logged(
            "a",
            "No reply to standby request.  Standby request cancelled."
        ) || s.logged("a", "Cancelling pending standby operation")
    );
    assert_eq!(s.holds("a"), sorted(&[VIP_A, VIP_B, FS_A]));
}

#[test]
fn shutdown_hands_everything_to_the_peer() {
    for mode in MODES {
        let mut s = started(mode);
        s.clear_records();
        s.stop("a");
        let a = s.sent_rendered("a");
        assert_eq!(
            a.last().map(String::as_str),
            Some("t=shutdone st=dead"),
            "{mode:?}"
        );
        if mode != Mode::Legacy {
            assert_eq!(
                a[0],
                "t=resource rsc_hold=none rtype=full isstable=0 info=shutdown"
            );
        }
        assert!(s.logged("a", "Giving up all HA resources."));
        assert!(s.logged("a", "All HA resources relinquished."));
        assert!(s.logged("b", "Received shutdown notice from 'a'."));
        s.run_until_quiet(60_000);
        assert_eq!(s.holds("b"), sorted(&[VIP_A, VIP_B, FS_A]), "{mode:?}");
        assert!(s.holds("a").is_empty());
        // declared dead later: no reset needed
        assert!(
            s.sent_rendered("b")
                .contains(&"t=stonith node=a result=unneeded".to_string()),
            "{mode:?}: {:?}",
            s.sent_rendered("b")
        );
        assert!(s.logged("b", "Dead node a gave up resources."));
        assert!(s.errors("b").is_empty(), "{mode:?}: {:?}", s.errors("b"));
    }
}

#[test]
fn shutdown_waits_for_running_resource_work() {
    let mut s = started(Mode::On);
    s.command("a", LocalCommand::Standby(StandbyArg::All));
    // immediately ask b (the acquirer) to stop
    s.run_for(100);
    let i = s.idx("b");
    let now = s.now;
    s.nodes[i].rm.shutdown_requested(now);
    s.run_until_quiet(120_000);
    assert!(s.logged(
        "b",
        "Shutdown delayed until current resource activity finishes."
    ));
    assert!(s.nodes[i].shutdown_complete);
    assert!(s.holds("b").is_empty());
}

#[test]
fn failed_start_offers_the_group_to_the_peer() {
    let mut s = started(Mode::Off);
    s.command("a", LocalCommand::Standby(StandbyArg::All));
    let ib = s.idx("b");
    s.nodes[ib].failing.insert(VIP_A.to_string());
    s.run_until_quiet(60_000);
    // b could not start a's VIP; 30 s later it offers its "foreign" set back
    s.nodes[ib].failing.clear();
    s.run_for(35_000);
    s.run_until_quiet(60_000);
    assert!(
        s.logged("b", "Going standby [foreign]."),
        "{:?}",
        s.nodes[ib].logs
    );
    assert_eq!(s.holds("a"), sorted(&[VIP_A, FS_A]));
    assert_eq!(s.holds("b"), sorted(&[VIP_B]));
}

fn three_nodes() -> Sim {
    Sim::new(
        Mode::Legacy,
        &["a", "b", "c"],
        vec![
            group(VIP_A, "a"),
            group(VIP_B, "b"),
            group("198.18.99.3", "c"),
        ],
    )
}

#[test]
fn three_nodes_legacy_death_and_return() {
    let mut s = three_nodes();
    for n in ["a", "b", "c"] {
        s.start(n);
        s.run_until_quiet(30_000);
    }
    assert_eq!(s.holds("a"), [VIP_A]);
    assert_eq!(s.holds("b"), [VIP_B]);
    assert_eq!(s.holds("c"), ["198.18.99.3"]);
    s.crash("c");
    s.run_until_quiet(60_000);
    // exactly one survivor took c's group
    assert_eq!(s.holds("a"), sorted(&[VIP_A, "198.18.99.3"]));
    assert_eq!(s.holds("b"), [VIP_B]);
    assert!(s.logged("b", "Resource groups of c are taken over by a."));
    s.start("c");
    s.run_until_quiet(60_000);
    assert_eq!(s.holds("a"), [VIP_A]);
    assert_eq!(s.holds("c"), ["198.18.99.3"]);
    // a graceful stop of b hands its group to the designated survivor
    s.stop("b");
    s.run_until_quiet(60_000);
    let mut total: Vec<String> = s.holds("a");
    total.extend(s.holds("c"));
    total.sort();
    assert_eq!(total, sorted(&[VIP_A, VIP_B, "198.18.99.3"]));
}
