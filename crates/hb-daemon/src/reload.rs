//! SIGHUP handling (docs/behaviour.md §1.10): notice which files changed and
//! validate them before anything is applied. Unlike the C daemon, a broken
//! file never takes the node down: it is refused and the running
//! configuration stays in force.

use std::path::Path;
use std::time::SystemTime;

use hb_proto::auth::KeyRing;

use crate::config_load::{load_config, read_keys};
use crate::paths::Paths;

/// What a SIGHUP leads to.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing changed on disk.
    Unchanged,
    /// authkeys changed and is valid: use these keys from now on.
    NewKeys(Box<KeyRing>),
    /// ha.cf changed and is valid: applied by a quick restart (re-exec with
    /// `-R -C <held>`, resources kept; docs/behaviour.md §1.9.3).
    NeedsRestart,
    /// A changed file is invalid: these errors, nothing applied.
    Rejected(Vec<String>),
}

/// Remembers the modification times seen at start.
#[derive(Debug, Clone)]
pub struct Watcher {
    hacf: Option<SystemTime>,
    authkeys: Option<SystemTime>,
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl Watcher {
    /// Records the current modification times.
    pub fn new(paths: &Paths) -> Watcher {
        Watcher {
            hacf: mtime(&paths.hacf()),
            authkeys: mtime(&paths.authkeys()),
        }
    }

    /// Decides what a SIGHUP does.
    pub fn check(&mut self, paths: &Paths) -> Outcome {
        let hacf_now = mtime(&paths.hacf());
        let keys_now = mtime(&paths.authkeys());
        if hacf_now != self.hacf {
            return match load_config(paths) {
                Ok(_) => {
                    self.hacf = hacf_now;
                    Outcome::NeedsRestart
                }
                Err(errors) => Outcome::Rejected(errors.iter().map(ToString::to_string).collect()),
            };
        }
        if keys_now != self.authkeys {
            return match read_keys(paths) {
                Ok(ring) => {
                    self.authkeys = keys_now;
                    Outcome::NewKeys(Box::new(ring))
                }
                Err(errors) => Outcome::Rejected(errors),
            };
        }
        Outcome::Unchanged
    }
}
