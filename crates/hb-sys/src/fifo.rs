//! The command FIFO `/var/lib/heartbeat/fifo` (docs/behaviour.md §1.7 step 12, §6).
//!
//! At startup heartbeat makes sure the path is a FIFO with mode 0600: a
//! non-FIFO in its place is removed and a new FIFO created (logged as
//! `Creating FIFO /var/lib/heartbeat/fifo.`); an existing FIFO just gets its
//! mode reset.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use nix::sys::stat::Mode;

use crate::SysError;

/// Makes `path` a FIFO with mode 0600. Returns `true` if it had to be
/// created (so the caller logs `Creating FIFO <path>.`), `false` if a FIFO
/// was already there.
pub fn ensure_fifo(path: &Path) -> Result<bool, SysError> {
    let created = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_fifo() => false,
        Ok(_) => {
            fs::remove_file(path).map_err(SysError::path_io("unlink non-FIFO", path))?;
            make(path)?;
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            make(path)?;
            true
        }
        Err(e) => return Err(SysError::path_io("stat", path)(e)),
    };
    // mkfifo's mode is filtered by the umask; set it exactly.
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(SysError::path_io("chmod 0600", path))?;
    Ok(created)
}

fn make(path: &Path) -> Result<(), SysError> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600))
        .map_err(SysError::path_errno("mkfifo", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use std::os::unix::fs::MetadataExt;

    fn mode(p: &Path) -> (bool, u32) {
        let m = fs::symlink_metadata(p).expect("stat");
        (m.file_type().is_fifo(), m.mode() & 0o7777)
    }

    #[test]
    fn creates_missing_fifo_0600() {
        let d = TempDir::new("fifo");
        let p = d.path().join("fifo");
        assert!(ensure_fifo(&p).expect("ensure"));
        assert_eq!(mode(&p), (true, 0o600));
    }

    #[test]
    fn existing_fifo_kept_and_chmodded() {
        let d = TempDir::new("fifo2");
        let p = d.path().join("fifo");
        nix::unistd::mkfifo(&p, Mode::from_bits_truncate(0o644)).expect("mkfifo");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).expect("chmod");
        let ino = fs::symlink_metadata(&p).expect("stat").ino();
        assert!(!ensure_fifo(&p).expect("ensure"));
        assert_eq!(mode(&p), (true, 0o600));
        assert_eq!(fs::symlink_metadata(&p).expect("stat").ino(), ino);
    }

    #[test]
    fn regular_file_replaced() {
        let d = TempDir::new("fifo3");
        let p = d.path().join("fifo");
        fs::write(&p, b"not a fifo").expect("write");
        assert!(ensure_fifo(&p).expect("ensure"));
        assert_eq!(mode(&p), (true, 0o600));
    }

    #[test]
    fn directory_in_the_way_is_an_error() {
        let d = TempDir::new("fifo4");
        let p = d.path().join("fifo");
        fs::create_dir(&p).expect("mkdir");
        let e = ensure_fifo(&p).expect_err("dir");
        assert!(e.to_string().contains("unlink non-FIFO"), "{e}");
    }
}
