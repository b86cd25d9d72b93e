//! The respawn policy for `respawn`/`failfast` clients (docs/behaviour.md §10), as
//! a pure state machine: the master feeds it exits and clock readings and
//! it answers what to do. Spawning itself lives in the master.

/// Runs shorter than this count as "fast" restarts.
pub const FAST_RUN_MS: u64 = 30_000;
/// More fast restarts in a row than this and the client is given up.
pub const MAX_FAST_RESTARTS: u32 = 10;
/// Exit status meaning "do not respawn me".
pub const NO_RESPAWN_EXIT: i32 = 100;

/// How a client process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Normal exit with this status.
    Code(i32),
    /// Killed by this signal (counts as status 0 for the respawn decision).
    Signal(i32),
}

/// What the master does after a client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again; `pause_first` when the last run was short (the child
    /// sleeps 1 s before exec, as the C daemon does).
    Respawn {
        /// Sleep one second before exec.
        pause_first: bool,
    },
    /// It asked not to be restarted (exit 100): leave it stopped.
    Stopped,
    /// Restarted too fast too often: `Client <cmd> "respawning too fast"`.
    GaveUp,
    /// A `failfast` client died badly: reboot the machine.
    Reboot,
    /// Shutting down: nothing to do.
    Nothing,
}

/// One `respawn`/`failfast` line's bookkeeping.
#[derive(Debug, Clone)]
pub struct Client {
    /// The command string (what logs show).
    pub command: String,
    /// `failfast` instead of `respawn`.
    pub failfast: bool,
    /// Pid of the running instance.
    pub pid: Option<i32>,
    started_ms: u64,
    fast_restarts: u32,
    last_run_short: bool,
    /// Never start again (exit 100 or gave up).
    pub retired: bool,
}

impl Client {
    /// A client not yet started.
    pub fn new(command: impl Into<String>, failfast: bool) -> Client {
        Client {
            command: command.into(),
            failfast,
            pid: None,
            started_ms: 0,
            fast_restarts: 0,
            last_run_short: false,
            retired: false,
        }
    }

    /// Records a start at `now_ms` and returns whether the child should
    /// pause a second first.
    pub fn started(&mut self, pid: i32, now_ms: u64) -> bool {
        self.pid = Some(pid);
        self.started_ms = now_ms;
        self.last_run_short
    }

    /// Whether the previous run was shorter than [`FAST_RUN_MS`].
    pub fn last_run_was_short(&self) -> bool {
        self.last_run_short
    }

    /// Records the end of the running instance and decides what follows.
    pub fn exited(&mut self, how: ExitKind, now_ms: u64, shutting_down: bool) -> Decision {
        self.pid = None;
        let status = match how {
            ExitKind::Code(c) => c,
            ExitKind::Signal(_) => 0,
        };
        if self.failfast && !shutting_down && (matches!(how, ExitKind::Signal(_)) || status != 0) {
            return Decision::Reboot;
        }
        if shutting_down || self.retired {
            return Decision::Nothing;
        }
        if status == NO_RESPAWN_EXIT {
            self.retired = true;
            return Decision::Stopped;
        }
        let ran = now_ms.saturating_sub(self.started_ms);
        self.last_run_short = ran < FAST_RUN_MS;
        if self.last_run_short {
            self.fast_restarts += 1;
        } else {
            self.fast_restarts = 0;
        }
        if self.fast_restarts > MAX_FAST_RESTARTS {
            self.fast_restarts = 0;
            self.retired = true;
            return Decision::GaveUp;
        }
        Decision::Respawn {
            pause_first: self.last_run_short,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_100_is_never_restarted_but_others_are() {
        let mut c = Client::new("/usr/libexec/heartbeat/ipfail", false);
        c.started(10, 0);
        assert_eq!(
            c.exited(ExitKind::Code(1), 60_000, false),
            Decision::Respawn { pause_first: false }
        );
        c.started(11, 60_000);
        assert_eq!(
            c.exited(ExitKind::Signal(9), 61_000, false),
            Decision::Respawn { pause_first: true }
        );
        c.started(12, 62_000);
        assert_eq!(
            c.exited(ExitKind::Code(100), 200_000, false),
            Decision::Stopped
        );
        assert!(c.retired);
    }

    #[test]
    fn eleven_fast_deaths_in_a_row_give_up() {
        let mut c = Client::new("/bin/false", false);
        let mut now = 0;
        for i in 0..MAX_FAST_RESTARTS {
            c.started(100 + i as i32, now);
            now += 1_000;
            assert!(
                matches!(
                    c.exited(ExitKind::Code(1), now, false),
                    Decision::Respawn { .. }
                ),
                "run {i}"
            );
        }
        c.started(999, now);
        assert_eq!(
            c.exited(ExitKind::Code(1), now + 1_000, false),
            Decision::GaveUp
        );
    }

    #[test]
    fn a_long_run_resets_the_fast_counter() {
        let mut c = Client::new("/bin/x", false);
        let mut now = 0;
        for _ in 0..MAX_FAST_RESTARTS {
            c.started(1, now);
            now += 1_000;
            c.exited(ExitKind::Code(1), now, false);
        }
        c.started(1, now);
        now += FAST_RUN_MS + 1;
        assert_eq!(
            c.exited(ExitKind::Code(1), now, false),
            Decision::Respawn { pause_first: false }
        );
        c.started(1, now);
        assert!(matches!(
            c.exited(ExitKind::Code(1), now + 10, false),
            Decision::Respawn { .. }
        ));
    }

    #[test]
    fn failfast_and_shutdown() {
        let mut c = Client::new("/bin/x", true);
        c.started(1, 0);
        assert_eq!(c.exited(ExitKind::Code(2), 5, false), Decision::Reboot);
        c.started(1, 0);
        assert_eq!(c.exited(ExitKind::Code(2), 5, true), Decision::Nothing);
    }
}
