//! Reading the three files from the configuration directory.
//!
//! Order and failure rules follow the C daemon (docs/behaviour.md §3.4, §4, §5.2):
//! `ha.cf` first, and if it has errors nothing else is read; then
//! `authkeys`, whose permissions are checked before its contents; then
//! `haresources`, whose preferred nodes must be in the ha.cf node table.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::authkeys::{check_authkeys_mode, check_authkeys_owner, parse_authkeys_bytes, AuthKeys};
use crate::error::{ConfigError, ConfigErrorKind, Warning};
use crate::hacf::{parse_hacf, HaCf};
use crate::haresources::{parse_haresources, ResourceGroup};
use crate::system::SystemLookup;

/// Everything read from the configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// `ha.cf`.
    pub hacf: HaCf,
    /// `authkeys`.
    pub authkeys: AuthKeys,
    /// `haresources`.
    pub resources: Vec<ResourceGroup>,
    /// Warnings of all files.
    pub warnings: Vec<Warning>,
}

/// File names inside the configuration directory.
pub const HACF: &str = "ha.cf";
/// See [`HACF`].
pub const AUTHKEYS: &str = "authkeys";
/// See [`HACF`].
pub const HARESOURCES: &str = "haresources";

/// Read and validate `ha.cf`, `authkeys` (including its mode) and
/// `haresources` from `confdir`.
pub fn load(
    confdir: &Path,
    local_node: &str,
    sys: &dyn SystemLookup,
) -> Result<Loaded, Vec<ConfigError>> {
    let hacf_path = confdir.join(HACF);
    let text = read(&hacf_path)?;
    let (hacf, mut warnings) = parse_hacf(&text, &hacf_path, local_node, sys)?;
    let (authkeys, key_warnings) = load_authkeys_with_warnings(&confdir.join(AUTHKEYS))?;
    warnings.extend(key_warnings);
    let res_path = confdir.join(HARESOURCES);
    let names: Vec<String> = hacf.node_table.iter().map(|n| n.name.clone()).collect();
    let resources = parse_haresources(&read(&res_path)?, &res_path, &names)?;
    Ok(Loaded {
        hacf,
        authkeys,
        resources,
        warnings,
    })
}

/// Read and validate `authkeys`, mode and owner first (used again on SIGHUP).
pub fn load_authkeys(path: &Path) -> Result<AuthKeys, Vec<ConfigError>> {
    load_authkeys_with_warnings(path).map(|(keys, _)| keys)
}

/// [`load_authkeys`] plus the warnings about the file (every `crc` entry).
/// The keys are the file's bytes, not text (a Latin-1 key must stay the
/// bytes a C node hashes).
pub fn load_authkeys_with_warnings(
    path: &Path,
) -> Result<(AuthKeys, Vec<Warning>), Vec<ConfigError>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    check_authkeys_mode(meta.permissions().mode(), path).map_err(|e| vec![e])?;
    check_authkeys_owner(meta.uid(), nix::unistd::geteuid().as_raw(), path).map_err(|e| vec![e])?;
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    parse_authkeys_bytes(&bytes, path)
}

fn read(path: &Path) -> Result<String, Vec<ConfigError>> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    // The C parsers are byte-oriented; non-UTF-8 bytes can only be in values
    // such as keys or paths, which we keep as lossily decoded text.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn io_error(path: &Path, e: &std::io::Error) -> Vec<ConfigError> {
    vec![ConfigError::file(
        PathBuf::from(path),
        ConfigErrorKind::Io {
            reason: e.to_string(),
        },
    )]
}
