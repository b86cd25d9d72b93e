//! SIGHUP handling (docs/behaviour.md §1.10): notice which files changed and
//! validate them before anything is applied. A valid new ha.cf is applied by
//! a quick restart (docs/behaviour.md §1.9.3); unlike the C daemon, a broken
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
    /// ha.cf changed and is valid: applied by a quick restart
    /// (docs/behaviour.md §1.9.3) that keeps the resources.
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
            // The new image reads every file again: all of them must be valid.
            return match (load_config(paths), read_keys(paths)) {
                (Ok(_), Ok(_)) => {
                    self.hacf = hacf_now;
                    self.authkeys = keys_now;
                    Outcome::NeedsRestart
                }
                (cfg, keys) => {
                    let mut all: Vec<String> = cfg
                        .err()
                        .unwrap_or_default()
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    all.extend(keys.err().unwrap_or_default());
                    Outcome::Rejected(all)
                }
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
