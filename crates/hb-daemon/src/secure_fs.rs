//! Directories under `/run/heartbeat`, which belongs to `hacluster`
//! (docs/behaviour.md §13.1): whoever runs as hacluster can put anything there,
//! including a symlink to `/etc`. So nothing root does there goes by name
//! twice: a directory we make is opened with `O_NOFOLLOW` and changed
//! through that descriptor (`fchmod`), and an existing directory we rely on
//! is checked for type and owner first (docs/reliability.md, hardening).

use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a directory is not safe to use.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// An I/O call failed.
    #[error("{path}: {call}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The call.
        call: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// Not a directory (a symlink, a file, ...).
    #[error(
        "{path} is not a directory (a symlink or another file type): remove it and start again"
    )]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Owned by someone who should not own it.
    #[error("{path} is owned by uid {owner}: expected root or hacluster; chown it or remove it")]
    BadOwner {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
    },
    /// Writable by others without the sticky bit.
    #[error("{path} has mode {mode:04o}: it must not be writable by others")]
    WorldWritable {
        /// The path.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
}

fn io<'a>(path: &'a Path, call: &'static str) -> impl FnOnce(std::io::Error) -> DirError + 'a {
    move |source| DirError::Io {
        path: path.to_path_buf(),
        call,
        source,
    }
}

/// Checks an existing directory without following a symlink at its name:
/// a real directory, owned by root or one of `owners`, not writable by
/// others.
pub fn check_existing_dir(path: &Path, owners: &[u32]) -> Result<(), DirError> {
    let meta = std::fs::symlink_metadata(path).map_err(io(path, "lstat"))?;
    if !meta.file_type().is_dir() {
        return Err(DirError::NotADirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.uid() != 0 && !owners.contains(&meta.uid()) {
        return Err(DirError::BadOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Err(DirError::WorldWritable {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Opens a directory by name without following a symlink there.
fn open_dir_nofollow(path: &Path) -> Result<std::fs::File, DirError> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => DirError::NotADirectory {
                path: path.to_path_buf(),
            },
            _ => DirError::Io {
                path: path.to_path_buf(),
                call: "open",
                source: e,
            },
        })
}

/// Sets the mode of the directory at `path` through a descriptor opened
/// without following a symlink (`fstat`, `fchmod`), after checking it is a
/// directory of ours.
pub fn chmod_dir_nofollow(path: &Path, mode: u32) -> Result<(), DirError> {
    let dir = open_dir_nofollow(path)?;
    let meta = dir.metadata().map_err(io(path, "fstat"))?;
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid() != euid {
        return Err(DirError::BadOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
        });
    }
    dir.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(io(path, "fchmod"))
}

/// Makes a fresh directory at `path` with `mode`: whatever was there (a
/// directory tree, a file, a symlink — the link itself, never its target)
/// is removed first, `mkdir` refuses to reuse anything planted in between,
/// and the mode is set through a descriptor.
pub fn fresh_dir(path: &Path, mode: u32) -> Result<(), DirError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_dir() => {
            std::fs::remove_dir_all(path).map_err(io(path, "remove_dir_all"))?
        }
        Ok(_) => std::fs::remove_file(path).map_err(io(path, "unlink"))?,
        Err(_) => {}
    }
    std::fs::DirBuilder::new()
        .mode(mode & 0o777)
        .create(path)
        .map_err(io(path, "mkdir"))?;
    chmod_dir_nofollow(path, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hb-secure-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn chmod_through_a_symlink_is_refused_and_the_target_keeps_its_mode() {
        let d = scratch("chmod");
        let victim = d.join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = d.join("rsctmp");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        // What a chmod by name (std::fs::set_permissions) would do to the target:
        let err = chmod_dir_nofollow(&link, 0o1755).unwrap_err();
        assert!(matches!(err, DirError::NotADirectory { .. }), "{err}");
        assert_eq!(mode(&victim), 0o700);
        // A planted symlink is replaced by a real directory; the target is untouched.
        fresh_dir(&link, 0o1755).unwrap();
        assert_eq!(mode(&victim), 0o700);
        assert!(std::fs::symlink_metadata(&link).unwrap().is_dir());
        assert_eq!(mode(&link), 0o1755);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn existing_directories_are_checked_not_followed() {
        let d = scratch("check");
        let real = d.join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o750)).unwrap();
        check_existing_dir(&real, &[]).unwrap();
        let link = d.join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            check_existing_dir(&link, &[]),
            Err(DirError::NotADirectory { .. })
        ));
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            check_existing_dir(&real, &[]),
            Err(DirError::WorldWritable { .. })
        ));
        let _ = std::fs::remove_dir_all(&d);
    }
}
