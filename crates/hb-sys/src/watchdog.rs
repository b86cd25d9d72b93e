//! The hardware/software watchdog device (docs/behaviour.md §11).
//!
//! The master control process opens the device (e.g. `/dev/watchdog`,
//! softdog), asks for a timeout of `ceil((deadtime_ms + 10) / 1000)` seconds
//! and writes one NUL byte each time it processes its own heartbeat: if the
//! main loop stalls for about `deadtime`, the machine reboots. Before a
//! controlled stop it writes the magic character `V` and closes the device,
//! which disarms a `nowayout=0` watchdog.
//!
//! A FIFO or a plain file may stand in for the device in tests: the timeout
//! ioctl then fails with `ENOTTY`/`EINVAL`, which is reported as
//! [`TimeoutStatus::Unsupported`] instead of an error.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsRawFd, IntoRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::SysError;

/// Private home of the generated (unsafe, public-by-macro) ioctl wrapper.
mod ioctl {
    // WDIOC_SETTIMEOUT = _IOWR('W', 6, int) from <linux/watchdog.h>; libc
    // does not export it, so nix's ioctl macro generates the wrapper.
    nix::ioctl_readwrite!(
        /// `ioctl(fd, WDIOC_SETTIMEOUT, &mut secs)`.
        wdioc_settimeout,
        b'W',
        6,
        libc::c_int
    );
}
use ioctl::wdioc_settimeout;

/// What became of the timeout request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutStatus {
    /// The device accepted the timeout; the value is what the driver
    /// reports it actually set.
    Set {
        /// Seconds requested.
        requested: u32,
        /// Seconds the driver reports.
        actual: u32,
    },
    /// The file is not a watchdog device (`ENOTTY`/`EINVAL`): a FIFO or
    /// plain file standing in for one.
    Unsupported {
        /// Seconds requested.
        requested: u32,
        /// The ioctl's error.
        errno: Errno,
    },
    /// The device refused the timeout. Heartbeat logs
    /// `WDIOC_SETTIMEOUT: Failed to set watchdog timer to N seconds.: <strerror>`
    /// and keeps using the device.
    Failed {
        /// Seconds requested.
        requested: u32,
        /// The ioctl's error.
        errno: Errno,
    },
}

/// Seconds of watchdog timeout for a `deadtime` in milliseconds:
/// `ceil((deadtime_ms + 10) / 1000)`.
pub fn timeout_secs(deadtime_ms: u64) -> u32 {
    u32::try_from(deadtime_ms.saturating_add(10).div_ceil(1000)).unwrap_or(u32::MAX)
}

/// An open watchdog device.
#[derive(Debug)]
pub struct Watchdog {
    file: Option<File>,
    path: PathBuf,
    timeout: TimeoutStatus,
}

impl Watchdog {
    /// Opens `path` write-only, close-on-exec, and sets the timeout for
    /// `deadtime_ms` (see [`timeout_secs`]). Only a failure to open is an
    /// error (heartbeat: `Cannot open watchdog device: <dev>`, then runs
    /// without it); the timeout outcome is in [`Watchdog::timeout`].
    ///
    /// Opening a FIFO blocks until it has a reader, as for any FIFO.
    pub fn open(path: &Path, deadtime_ms: u64) -> Result<Watchdog, SysError> {
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(SysError::path_io("open watchdog device", path))?;
        let requested = timeout_secs(deadtime_ms);
        let mut secs = libc::c_int::try_from(requested).unwrap_or(libc::c_int::MAX);
        // SAFETY: `file` is an open descriptor for the duration of the call
        // and `secs` is a live c_int the driver may read and overwrite.
        let timeout = match unsafe { wdioc_settimeout(file.as_raw_fd(), &mut secs) } {
            Ok(_) => TimeoutStatus::Set {
                requested,
                actual: u32::try_from(secs).unwrap_or(0),
            },
            Err(errno @ (Errno::ENOTTY | Errno::EINVAL)) => {
                TimeoutStatus::Unsupported { requested, errno }
            }
            Err(errno) => TimeoutStatus::Failed { requested, errno },
        };
        Ok(Watchdog {
            file: Some(file),
            path: path.to_path_buf(),
            timeout,
        })
    }

    /// What became of the timeout request.
    pub fn timeout(&self) -> TimeoutStatus {
        self.timeout
    }

    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the device is still open (a failed write closes it).
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }

    /// The raw descriptor, e.g. to exclude it from fds kept by a child.
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.file.as_ref().map(|f| f.as_raw_fd())
    }

    /// Writes one NUL byte. On failure the device is closed (heartbeat:
    /// `Watchdog write failure: closing <dev>!: <strerror>`) and later
    /// tickles do nothing. Tickling a closed watchdog is `Ok`.
    pub fn tickle(&mut self) -> Result<(), SysError> {
        let Some(f) = self.file.as_mut() else {
            return Ok(());
        };
        if let Err(e) = f.write_all(b"\0") {
            self.file = None;
            return Err(SysError::Path {
                call: "write watchdog",
                path: self.path.clone(),
                source: e,
            });
        }
        Ok(())
    }

    /// Writes the magic character `V` and closes the device, disarming it.
    /// The device is closed even if the write fails.
    pub fn magic_close(mut self) -> Result<(), SysError> {
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        let written = f
            .write_all(b"V")
            .map_err(SysError::path_io("write magic character", &self.path));
        let closed = nix::unistd::close(f.into_raw_fd())
            .map_err(SysError::path_errno("close watchdog", &self.path));
        written.and(closed)
    }

    /// Closes the device without writing `V` (helpers and clients close the
    /// inherited descriptor this way, docs/behaviour.md §11).
    pub fn close_quietly(mut self) {
        self.file = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    #[test]
    fn timeout_rounding() {
        assert_eq!(timeout_secs(30_000), 31);
        assert_eq!(timeout_secs(990), 1);
        assert_eq!(timeout_secs(991), 2);
        assert_eq!(timeout_secs(2_000), 3);
        assert_eq!(timeout_secs(0), 1);
    }

    #[test]
    fn regular_file_gets_nul_ticks_then_v() {
        let d = TempDir::new("wd");
        let p = d.path().join("watchdog");
        std::fs::write(&p, b"").expect("create");
        let mut w = Watchdog::open(&p, 30_000).expect("open");
        assert!(matches!(
            w.timeout(),
            TimeoutStatus::Unsupported {
                requested: 31,
                errno: Errno::ENOTTY | Errno::EINVAL
            }
        ));
        assert!(w.is_open());
        w.tickle().expect("tickle");
        w.tickle().expect("tickle");
        w.tickle().expect("tickle");
        w.magic_close().expect("close");
        assert_eq!(std::fs::read(&p).expect("read"), b"\0\0\0V");
    }

    #[test]
    fn fifo_reader_sees_ticks_and_v() {
        let d = TempDir::new("wdfifo");
        let p = d.path().join("watchdog");
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        // Open the read end first (non-blocking) so the writer does not block.
        let mut r = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&p)
            .expect("open reader");
        let mut w = Watchdog::open(&p, 5_000).expect("open");
        assert!(matches!(
            w.timeout(),
            TimeoutStatus::Unsupported { requested: 6, .. }
        ));
        let fd = w.raw_fd().expect("fd");
        let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).expect("getfd");
        assert_ne!(
            flags & libc::FD_CLOEXEC,
            0,
            "watchdog fd must be close-on-exec"
        );
        w.tickle().expect("tickle");
        w.tickle().expect("tickle");
        w.magic_close().expect("close");
        let mut got = Vec::new();
        r.read_to_end(&mut got).expect("read");
        assert_eq!(got, b"\0\0V");
    }

    #[test]
    fn write_failure_closes_and_reports() {
        // /dev/full fails every write with ENOSPC.
        let mut w = Watchdog::open(Path::new("/dev/full"), 1_000).expect("open");
        let e = w.tickle().expect_err("must fail");
        assert_eq!(e.errno(), Some(Errno::ENOSPC));
        assert!(!w.is_open());
        assert!(w.tickle().is_ok());
        assert!(w.magic_close().is_ok());
    }

    #[test]
    fn missing_device_is_an_error_naming_it() {
        let e = Watchdog::open(Path::new("/nonexistent/watchdog"), 1_000).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/watchdog"), "{e}");
    }
}
