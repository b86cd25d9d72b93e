//! Persistent node state under the state directory (docs/behaviour.md §14.2–14.3):
//! the generation counter `hb_generation` and the node UUID `hb_uuid`.
//!
//! The generation must strictly increase on every start: a peer that still
//! tracks us drops everything from a generation it has already seen, and one
//! that declared us dead treats a reused generation as a healed partition
//! (docs/protocol.md §6.2). So the new value is written and fsync'd before the
//! first packet goes out, and a write failure stops the start.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Why a state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The generation file could not be written.
    #[error("cannot get/increment generation number in {path}: {source}")]
    Generation {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The UUID file could not be written.
    #[error("cannot store node uuid in {path}: {source}")]
    Uuid {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What happened to the generation at start, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationNote {
    /// The file was missing: `No Previous generation - starting at N`.
    NoPrevious(u64),
    /// The file was unparsable: `BROKEN previous generation - starting at N`.
    Broken(u64),
    /// Normal increment.
    Incremented,
}

/// Reads, increments and durably rewrites `hb_generation`. `now_secs` is the
/// wall clock, used when there is no previous value (the C daemon starts
/// from `now + 1`).
pub fn next_generation(path: &Path, now_secs: u64) -> Result<(u64, GenerationNote), StateError> {
    let (prev, note) = match std::fs::read_to_string(path) {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(v) => (v, GenerationNote::Incremented),
            Err(_) => (now_secs, GenerationNote::Broken(now_secs + 1)),
        },
        Err(_) => (now_secs, GenerationNote::NoPrevious(now_secs + 1)),
    };
    let gen = prev.saturating_add(1);
    write_synced(path, format!("{gen:>15}\n").as_bytes()).map_err(|source| {
        StateError::Generation {
            path: path.to_path_buf(),
            source,
        }
    })?;
    Ok((gen, note))
}

/// How the node UUID was obtained, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UuidNote {
    /// Read from the file.
    Existing,
    /// No file: a new one was generated.
    Created,
    /// The file had `len` bytes instead of 16 (truncated or damaged): it
    /// was kept as `saved_as` and a new UUID generated. Peers will see this
    /// node as a new node, so this is reported, never silently done.
    ReplacedBroken {
        /// Size of the broken file.
        len: u64,
        /// Where the broken file was kept.
        saved_as: PathBuf,
    },
}

/// Reads the 16-byte node UUID, creating a random one when the file is
/// missing; a file of another size is kept aside and reported.
pub fn load_or_create_uuid(path: &Path) -> Result<([u8; 16], UuidNote), StateError> {
    let mut buf = [0u8; 16];
    let mut note = UuidNote::Created;
    if let Ok(mut f) = File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len == 16 && f.read_exact(&mut buf).is_ok() {
            return Ok((buf, UuidNote::Existing));
        }
        let mut saved_as = path.as_os_str().to_owned();
        saved_as.push(".broken");
        let saved_as = PathBuf::from(saved_as);
        std::fs::rename(path, &saved_as).map_err(|source| StateError::Uuid {
            path: path.to_path_buf(),
            source,
        })?;
        note = UuidNote::ReplacedBroken { len, saved_as };
    }
    let mut rnd = File::open("/dev/urandom").map_err(|source| StateError::Uuid {
        path: path.to_path_buf(),
        source,
    })?;
    rnd.read_exact(&mut buf)
        .map_err(|source| StateError::Uuid {
            path: path.to_path_buf(),
            source,
        })?;
    // RFC 4122 version 4 layout, as libuuid's uuid_generate produces.
    buf[6] = (buf[6] & 0x0f) | 0x40;
    buf[8] = (buf[8] & 0x3f) | 0x80;
    write_synced(path, &buf).map_err(|source| StateError::Uuid {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((buf, note))
}

/// Replaces `path` atomically: a new file next to it (never following a
/// symlink, never reusing an existing file), written and fsync'd, renamed
/// over the old one, then the directory fsync'd — so a crash leaves either
/// the old or the new content, never a truncated file.
pub fn write_synced(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let result = f
        .write_all(data)
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hb-state-{}-{}", std::process::id(), name));
        let _ = std::fs::remove_file(&d);
        d
    }

    #[test]
    fn generation_starts_from_clock_then_increments_in_c_format() {
        let p = tmp("gen");
        let (g1, n1) = next_generation(&p, 1_795_321_338).unwrap();
        assert_eq!(g1, 1_795_321_339);
        assert_eq!(n1, GenerationNote::NoPrevious(1_795_321_339));
        assert_eq!(std::fs::read(&p).unwrap(), b"     1795321339\n");
        let (g2, n2) = next_generation(&p, 5).unwrap();
        assert_eq!((g2, n2), (1_795_321_340, GenerationNote::Incremented));
        std::fs::write(&p, "garbage").unwrap();
        let (g3, n3) = next_generation(&p, 100).unwrap();
        assert_eq!((g3, n3), (101, GenerationNote::Broken(101)));
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn uuid_is_created_once_and_reread() {
        let p = tmp("uuid");
        let (u1, created) = load_or_create_uuid(&p).unwrap();
        assert_eq!(created, UuidNote::Created);
        assert_eq!(std::fs::read(&p).unwrap().len(), 16);
        let (u2, created2) = load_or_create_uuid(&p).unwrap();
        assert_eq!(created2, UuidNote::Existing);
        assert_eq!(u1, u2);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn truncated_uuid_is_kept_aside_and_reported() {
        let p = tmp("uuid-short");
        std::fs::write(&p, [1u8, 2, 3, 4, 5]).unwrap();
        let (u, note) = load_or_create_uuid(&p).unwrap();
        let saved = PathBuf::from(format!("{}.broken", p.display()));
        assert_eq!(
            note,
            UuidNote::ReplacedBroken {
                len: 5,
                saved_as: saved.clone()
            }
        );
        assert_eq!(std::fs::read(&saved).unwrap(), [1u8, 2, 3, 4, 5]);
        assert_eq!(std::fs::read(&p).unwrap(), u);
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_file(&saved);
    }

    #[test]
    fn atomic_write_replaces_and_never_follows_a_symlink() {
        let dir = std::env::temp_dir().join(format!("hb-state-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("victim");
        std::fs::write(&target, b"precious").unwrap();
        let p = dir.join("hb_generation");
        std::os::unix::fs::symlink(&target, &p).unwrap();
        write_synced(&p, b"42\n").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"precious");
        assert_eq!(std::fs::read(&p).unwrap(), b"42\n");
        assert!(!std::fs::symlink_metadata(&p)
            .unwrap()
            .file_type()
            .is_symlink());
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary file left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
