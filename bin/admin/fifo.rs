//! Writing one administrative request to the daemon's FIFO (docs/behaviour.md §6, §12).
//!
//! The 3.0.6 scripts use `ha_clustermsg`, which appends `>>>`, the
//! `name=value` lines and `<<<` to `/var/lib/heartbeat/fifo`. We build the
//! same classic text and hand it to the kernel in ONE write(2): a FIFO write
//! of at most PIPE_BUF bytes is atomic, so our request can never interleave
//! with a message another writer (a resource helper, another admin) appends
//! at the same moment.
//!
//! The FIFO is opened with O_NONBLOCK first: opening a FIFO for writing
//! blocks until a reader exists, and the shell version hangs forever when the
//! daemon is down. Non-blocking open fails with ENXIO instead, which we
//! report as "heartbeat is not running". Once open, the descriptor is set
//! back to blocking so a momentarily full pipe delays us instead of failing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// Largest message we write; at most PIPE_BUF (4096 on Linux) keeps the write atomic.
pub const MAX_MESSAGE: usize = 4096;

/// Formats `fields` as one classic text message (`>>>`, `name=value` lines, `<<<`).
pub fn classic_message(fields: &[(&str, &str)]) -> String {
    let mut s = String::from(">>>\n");
    for (name, value) in fields {
        s.push_str(name);
        s.push('=');
        s.push_str(value);
        s.push('\n');
    }
    s.push_str("<<<\n");
    s
}

/// Why the request could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum FifoError {
    /// ENXIO on the non-blocking open: no process has the FIFO open for reading.
    #[error("heartbeat is not running (no reader on {0})")]
    NoReader(PathBuf),
    /// The FIFO does not exist (the daemon creates it at startup).
    #[error("heartbeat is not running ({0} does not exist)")]
    Missing(PathBuf),
    /// The path exists but is not a FIFO.
    #[error("{0} is not a FIFO; is this the heartbeat state directory?")]
    NotAFifo(PathBuf),
    /// Permission denied (the FIFO is root-only, mode 0600).
    #[error("cannot write to {0}: permission denied (run as root)")]
    Permission(PathBuf),
    /// Any other open/write failure.
    #[error("cannot write to {path}: {source}")]
    Io {
        /// The FIFO.
        path: PathBuf,
        /// The error from the kernel.
        source: std::io::Error,
    },
    /// The kernel accepted only part of the message (cannot happen for ≤ PIPE_BUF bytes).
    #[error(
        "short write to {path}: {written} of {len} bytes; the daemon may see a broken message"
    )]
    Short {
        /// The FIFO.
        path: PathBuf,
        /// Bytes written.
        written: usize,
        /// Bytes wanted.
        len: usize,
    },
    /// The message is larger than one atomic write.
    #[error("message of {0} bytes is larger than one atomic FIFO write ({MAX_MESSAGE})")]
    TooLong(usize),
}

fn open_fifo(path: &Path) -> Result<File, FifoError> {
    let file = OpenOptions::new()
        .append(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| match e.raw_os_error().map(Errno::from_raw) {
            Some(Errno::ENXIO) => FifoError::NoReader(path.to_path_buf()),
            Some(Errno::ENOENT) => FifoError::Missing(path.to_path_buf()),
            Some(Errno::EACCES) | Some(Errno::EPERM) => FifoError::Permission(path.to_path_buf()),
            _ => FifoError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    let io = |source: std::io::Error| FifoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_fifo() {
        return Err(FifoError::NotAFifo(path.to_path_buf()));
    }
    fcntl(
        file.as_raw_fd(),
        FcntlArg::F_SETFL(OFlag::O_WRONLY | OFlag::O_APPEND),
    )
    .map_err(|e| io(std::io::Error::from(e)))?;
    Ok(file)
}

/// Writes `message` to the FIFO at `path` in a single write(2).
pub fn send(path: &Path, message: &str) -> Result<(), FifoError> {
    let bytes = message.as_bytes();
    if bytes.len() > MAX_MESSAGE {
        return Err(FifoError::TooLong(bytes.len()));
    }
    let mut file = open_fifo(path)?;
    let written = loop {
        match file.write(bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(FifoError::Io {
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        }
    };
    if written != bytes.len() {
        return Err(FifoError::Short {
            path: path.to_path_buf(),
            written,
            len: bytes.len(),
        });
    }
    Ok(())
}
