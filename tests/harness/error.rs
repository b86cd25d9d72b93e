//! One error type for everything the harness can report.
//!
//! Tests return `Result<(), hb_tests::Error>`; when a test fails the test runner prints the
//! error with `{:?}`, so `Debug` is implemented by hand to show the operator-facing message
//! (what went wrong and what to do) instead of a struct dump.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Result alias used by the whole harness.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or driving a test cluster.
#[derive(thiserror::Error)]
pub enum Error {
    /// The tests create network namespaces and mounts, which needs root.
    #[error(
        "the cluster tests must run as root (they create network namespaces and bind mounts); \
         run `sudo scripts/test.sh` (CI runs as root)"
    )]
    NotRoot,

    /// A program the harness drives is not installed.
    #[error("required program `{program}` not found: install it with `apt-get install {package}`")]
    MissingProgram {
        /// The program (a name looked up in PATH or an absolute path).
        program: String,
        /// The Debian package that provides it.
        package: &'static str,
    },

    /// A system user or group the real daemon needs does not exist.
    #[error("system {kind} `{name}` does not exist: install it with `apt-get install heartbeat`")]
    MissingAccount {
        /// "user" or "group".
        kind: &'static str,
        /// The account name.
        name: &'static str,
    },

    /// A command could not be started at all.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why the spawn failed.
        source: std::io::Error,
    },

    /// A command ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },

    /// A command did not finish within its time limit and was killed.
    #[error("`{command}` did not finish within {timeout:?} and was killed")]
    CommandTimeout {
        /// The command line.
        command: String,
        /// The limit that was exceeded.
        timeout: Duration,
    },

    /// A file operation on the harness's own trees failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the harness was doing ("write", "create directory", ...).
        action: &'static str,
        /// The host path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A bounded wait expired.
    #[error("timed out after {timeout:?} waiting for {what}{}", detail_suffix(.detail))]
    Timeout {
        /// What was awaited.
        what: String,
        /// The limit.
        timeout: Duration,
        /// Extra context (e.g. the tail of a log), may be empty.
        detail: String,
    },

    /// The daemon launcher exited with an error.
    #[error("daemon on {node} failed to start ({status}); its output:\n{output}")]
    DaemonStart {
        /// Node name.
        node: String,
        /// How the launcher ended.
        status: String,
        /// The tail of the daemon's stdout/stderr.
        output: String,
    },

    /// A request that makes no sense for the current state of the cluster.
    #[error("{0}")]
    Invalid(String),
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!("\n{detail}")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Shorthand for [`Error::Io`].
pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}
