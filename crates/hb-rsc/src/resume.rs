//! The re-executed image of a quick restart (`heartbeat -R -C <held>`,
//! docs/behaviour.md §1.9.3): the groups named by `<held>` are still running
//! on this node (the old image stopped its children but released nothing),
//! so the new image neither acquires nor releases anything at comm up — it
//! reports what it holds as stable, as 3.0.6 goes straight to STABLE when it
//! is restarting.

use crate::manager::{RState, ResourceManager};
use crate::set::RscSet;
use crate::Level;

impl ResourceManager {
    /// Marks the groups of `held` (as seen from this node) as running here.
    /// Call before [`ResourceManager::comm_up`].
    pub fn resume(&mut self, held: RscSet) {
        for g in &mut self.groups {
            g.held = if g.local {
                held.contains(RscSet::LOCAL)
            } else {
                held.contains(RscSet::FOREIGN)
            };
        }
        self.nice.i_hold = held;
        self.resumed = true;
    }

    /// comm up of a resumed image: stable at once, holdings reported.
    pub(crate) fn comm_up_resumed(&mut self, now: u64) {
        self.nice.local_work_done = true;
        self.nice.foreign_work_done = true;
        self.log(
            Level::Info,
            format!(
                "Restarted with resources held: {} (nothing acquired or released).",
                self.nice.i_hold.as_str()
            ),
        );
        if self.nice() {
            self.nice.rstate = RState::Stable;
            self.nice.other_stable = true;
            self.send_resources_held(true, Some("restart"));
        }
        self.after_input(now);
    }
}

#[cfg(test)]
mod tests {
    use crate::{GroupSpec, Output, ResourceManager, RscConfig, RscSet, RscStatus};
    use hb_config::AutoFailback;

    fn manager(mode: AutoFailback) -> ResourceManager {
        let g = |key: &str, node: &str| GroupSpec {
            key: key.into(),
            node: node.into(),
        };
        ResourceManager::new(RscConfig {
            local: "nodea".into(),
            nodes: vec!["nodea".into(), "nodeb".into()],
            groups: vec![g("vip-a", "nodea"), g("vip-b", "nodeb")],
            mode,
        })
    }

    #[test]
    fn a_resumed_image_acquires_nothing_and_reports_its_holdings() {
        for mode in [AutoFailback::On, AutoFailback::Off, AutoFailback::Legacy] {
            let mut m = manager(mode);
            m.resume(RscSet::LOCAL);
            m.comm_up(0, &["nodeb".to_string()]);
            let out: Vec<Output> = std::iter::from_fn(|| m.poll()).collect();
            assert!(
                !out.iter()
                    .any(|o| matches!(o, Output::Acquire { .. } | Output::Release { .. })),
                "{mode:?}: {out:?}"
            );
            assert_eq!(m.held_groups(), vec!["vip-a"]);
            if mode != AutoFailback::Legacy {
                assert_eq!(m.rsc_hold(), RscStatus::Held(RscSet::LOCAL));
                assert!(out.iter().any(|o| matches!(o, Output::Send(msg)
                    if msg.get_str("t") == Some("resource")
                        && msg.get_str("rsc_hold") == Some("local"))));
            }
        }
    }
}
