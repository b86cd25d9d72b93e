//! The error type shared by the modules of this crate.
//!
//! Each variant keeps the operation that failed and, where there is one, the
//! path it failed on, so a caller can log a line an operator can act on
//! without adding context of its own.

use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

/// A failed system call or file operation.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    /// A system call failed; `call` names it (e.g. `"fork"`, `"signalfd"`).
    #[error("{call} failed: {source}")]
    Call {
        /// The call or operation that failed.
        call: &'static str,
        /// The error number it returned.
        #[source]
        source: Errno,
    },
    /// A system call on a file system path failed.
    #[error("{call} {path}: {source}")]
    Path {
        /// The call or operation that failed.
        call: &'static str,
        /// The path it was applied to.
        path: PathBuf,
        /// The error it returned.
        #[source]
        source: io::Error,
    },
    /// An argument cannot be passed to the kernel (e.g. it contains a NUL byte).
    #[error("invalid argument for {what}: {reason}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// Why it is unusable.
        reason: String,
    },
}

impl SysError {
    /// Shorthand for [`SysError::Call`].
    pub(crate) fn call(call: &'static str) -> impl FnOnce(Errno) -> SysError {
        move |source| SysError::Call { call, source }
    }

    /// Shorthand for [`SysError::Path`] from an [`Errno`].
    pub(crate) fn path_errno<'a>(
        call: &'static str,
        path: &'a std::path::Path,
    ) -> impl FnOnce(Errno) -> SysError + 'a {
        move |e| SysError::Path {
            call,
            path: path.to_path_buf(),
            source: io::Error::from(e),
        }
    }

    /// Shorthand for [`SysError::Path`] from an [`io::Error`].
    pub(crate) fn path_io<'a>(
        call: &'static str,
        path: &'a std::path::Path,
    ) -> impl FnOnce(io::Error) -> SysError + 'a {
        move |source| SysError::Path {
            call,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The OS error number behind this error, if there is one.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            SysError::Call { source, .. } => Some(*source),
            SysError::Path { source, .. } => source.raw_os_error().map(Errno::from_raw),
            SysError::InvalidArgument { .. } => None,
        }
    }
}

/// The C library's message for `e` (what `strerror`/`perror` print, e.g.
/// `Operation not permitted`), for log lines that must match heartbeat's.
pub fn strerror(e: Errno) -> String {
    let full = io::Error::from_raw_os_error(e as i32).to_string();
    match full.rfind(" (os error ") {
        Some(i) => full[..i].to_string(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_is_the_c_text() {
        assert_eq!(strerror(Errno::EPERM), "Operation not permitted");
        assert_eq!(strerror(Errno::ENOMEM), "Cannot allocate memory");
    }

    #[test]
    fn errors_name_what_failed() {
        let e = SysError::call("fork")(Errno::EAGAIN);
        assert_eq!(e.errno(), Some(Errno::EAGAIN));
        assert!(e.to_string().starts_with("fork failed: "), "{e}");
        let p = SysError::path_errno("mkfifo", std::path::Path::new("/x/fifo"))(Errno::EACCES);
        assert_eq!(p.errno(), Some(Errno::EACCES));
        assert!(
            p.to_string()
                .starts_with("mkfifo /x/fifo: Permission denied"),
            "{p}"
        );
    }
}
