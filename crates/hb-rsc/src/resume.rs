//! Resuming after a quick restart (docs/behaviour.md §1.9.3): the re-exec'd
//! daemon (`-R -C <set>`) still holds the groups its previous image started.
//! Nothing is released or acquired; the state machine starts STABLE with
//! the groups of `<set>` marked held, and at comm up it only tells its peers
//! what it holds.

use crate::manager::{RState, ResourceManager};
use crate::set::RscSet;
use crate::{wire, Level};

impl ResourceManager {
    /// Takes over the resource state of the previous image: `held` is the
    /// `-C` value (`local` = the groups of this node's haresources lines,
    /// `foreign` = every other group) and `peer` what the previous image
    /// knew the peer to hold (nice_failback; its `local` = the peer's
    /// groups). Call before comm up.
    pub fn resume(&mut self, held: RscSet, peer: RscSet) {
        self.resumed = true;
        self.nice.i_hold = held;
        self.nice.other_holds = peer;
        self.nice.rstate = RState::Stable;
        // The previous image only re-execs when its resources were stable.
        self.nice.other_stable = true;
        self.nice.local_work_done = true;
        self.nice.foreign_work_done = true;
        self.nice.announced = true;
        for g in &mut self.groups {
            let bit = if g.local {
                RscSet::LOCAL
            } else {
                RscSet::FOREIGN
            };
            g.held = held.contains(bit);
        }
        self.log(
            Level::Info,
            format!("restart: keeping the resources held ({}).", held.as_str()),
        );
    }

    /// The `-C` value that describes the groups held now: what the next
    /// image is told to resume.
    pub fn held_set(&self) -> RscSet {
        self.groups
            .iter()
            .filter(|g| g.held)
            .fold(RscSet::NONE, |s, g| {
                s.union(if g.local {
                    RscSet::LOCAL
                } else {
                    RscSet::FOREIGN
                })
            })
    }

    /// What the peer holds, as far as we know (nice_failback), for the
    /// next image of a quick restart.
    pub fn peer_held(&self) -> RscSet {
        self.nice.other_holds
    }

    /// Comm up after [`ResourceManager::resume`]: nothing to acquire. With
    /// nice_failback the peers get a full, stable `resource` message (the C
    /// image sends `starting` instead, which makes every peer unstable until
    /// the exchange completes; the held set is all they need).
    pub(crate) fn comm_up_resumed(&mut self) {
        if self.nice() {
            self.emit_send(wire::resources_held(self.nice.i_hold, true, None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manager::{GroupSpec, Output, RscConfig};
    use hb_config::AutoFailback;

    fn manager(mode: AutoFailback) -> ResourceManager {
        ResourceManager::new(RscConfig {
            local: "nodea".into(),
            nodes: vec!["nodea".into(), "nodeb".into()],
            groups: vec![
                GroupSpec {
                    key: "IPaddr::198.18.0.100".into(),
                    node: "nodea".into(),
                },
                GroupSpec {
                    key: "IPaddr::198.18.0.101".into(),
                    node: "nodeb".into(),
                },
            ],
            mode,
        })
    }

    fn outputs(m: &mut ResourceManager) -> Vec<Output> {
        std::iter::from_fn(|| m.poll()).collect()
    }

    #[test]
    fn a_resumed_manager_keeps_its_groups_and_acquires_nothing() {
        for mode in [AutoFailback::On, AutoFailback::Off, AutoFailback::Legacy] {
            let mut m = manager(mode);
            m.resume(RscSet::LOCAL, RscSet::NONE);
            assert_eq!(m.held_groups(), vec!["IPaddr::198.18.0.100"]);
            assert_eq!(m.held_set(), RscSet::LOCAL);
            m.comm_up(10, &["nodeb".to_string()]);
            let out = outputs(&mut m);
            assert!(
                !out.iter()
                    .any(|o| matches!(o, Output::Acquire { .. } | Output::Release { .. })),
                "{mode:?}: {out:?}"
            );
            let sent: Vec<_> = out
                .iter()
                .filter_map(|o| match o {
                    Output::Send(msg) => msg.msg_type().map(str::to_string),
                    _ => None,
                })
                .collect();
            if mode == AutoFailback::Legacy {
                assert!(sent.is_empty(), "{sent:?}");
            } else {
                assert_eq!(sent, vec!["resource"]);
                assert_eq!(m.rsc_hold(), crate::RscStatus::Held(RscSet::LOCAL));
            }
        }
    }

    #[test]
    fn the_held_set_follows_the_groups() {
        let mut m = manager(AutoFailback::On);
        assert_eq!(m.held_set(), RscSet::NONE);
        m.resume(RscSet::ALL, RscSet::NONE);
        assert_eq!(m.held_set(), RscSet::ALL);
        m.resume(RscSet::FOREIGN, RscSet::FOREIGN);
        assert_eq!(m.peer_held(), RscSet::FOREIGN);
        assert_eq!(m.held_groups(), vec!["IPaddr::198.18.0.101"]);
    }
}
