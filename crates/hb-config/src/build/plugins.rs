//! What 3.0.6's media plugins do while ha.cf is parsed (docs/behaviour.md §3.1):
//! refuse a `bcast` interface or a `serial` device that does not exist, and
//! read `udpport` once, when the first medium of a UDP plugin is created.

use super::Builder;

impl Builder<'_> {
    /// What 3.0.6's plugins refuse while the file is parsed: a `bcast`
    /// interface that does not exist, a `serial` port that does not exist.
    pub(super) fn token_medium_problem(
        &self,
        name: &str,
        token: &str,
    ) -> Option<crate::error::MediumProblem> {
        use crate::error::MediumProblem as P;
        match name {
            "bcast" if !self.sys.interface_exists(token) => Some(P::NoSuchInterface {
                name: token.to_string(),
            }),
            "serial" if !self.sys.path_exists(token) => Some(P::NoSuchSerialPort {
                device: token.to_string(),
            }),
            _ => None,
        }
    }

    pub(super) fn plugin_port(&mut self, plugin: &'static str) -> u16 {
        *self.plugin_ports.entry(plugin).or_insert(self.cfg.udpport)
    }
}
