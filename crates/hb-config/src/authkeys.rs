//! `/etc/ha.d/authkeys` (docs/behaviour.md §4, docs/protocol.md §4.1).
//!
//! ```text
//! auth <n>              selects the signing key; must precede key line n
//! <n> crc               no key allowed
//! <n> md5 <key>         key: one white-space-free token, raw bytes
//! <n> sha1 <key>
//! ```
//!
//! Only a line whose first non-blank character is `#` is a comment; a `#`
//! later in the line is part of the key token. Like the C daemon, the key
//! selected for signing is the one whose number equals the `auth` value *at
//! the time the key line is read*; an `auth` line after its key therefore
//! selects nothing, which we report as such instead of the C daemon's
//! "key not found".

use std::path::Path;

use hb_proto::auth::Method;

use crate::error::{ConfigError, ConfigErrorKind as K, Warning};
use crate::value::WHITESPACE;

/// Number of key slots (indices 0..15).
pub const MAX_AUTH: i64 = 16;

/// The keys of `authkeys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthKeys {
    /// Index of the key used to sign outgoing packets.
    pub active: u8,
    /// Every configured key (all are accepted on receive), in file order;
    /// a later line with the same index replaces the earlier one.
    pub keys: Vec<(u8, Method, Vec<u8>)>,
}

impl AuthKeys {
    /// Method and key of slot `index`.
    pub fn key(&self, index: u8) -> Option<(Method, &[u8])> {
        self.keys
            .iter()
            .find(|(i, _, _)| *i == index)
            .map(|(_, m, k)| (*m, k.as_slice()))
    }

    /// Method and key used for signing.
    pub fn active_key(&self) -> Option<(Method, &[u8])> {
        self.key(self.active)
    }
}

/// Reject a key file readable by group or others (docs/behaviour.md §4) and,
/// beyond the C daemon, one writable by group or others: whoever can write
/// the keys can make the daemon accept their packets.
pub fn check_authkeys_mode(mode: u32, path: &Path) -> Result<(), ConfigError> {
    let mode = mode & 0o7777;
    if mode & 0o044 != 0 {
        Err(ConfigError::file(path, K::BadPermissions { mode }))
    } else if mode & 0o022 != 0 {
        Err(ConfigError::file(path, K::WritableKeyfile { mode }))
    } else {
        Ok(())
    }
}

/// Reject a key file owned by anyone but root or the user checking it
/// (beyond the C daemon, which checks only the read bits): its owner can
/// change the keys and chmod the file at will.
pub fn check_authkeys_owner(owner: u32, euid: u32, path: &Path) -> Result<(), ConfigError> {
    if owner == 0 || owner == euid {
        Ok(())
    } else {
        Err(ConfigError::file(path, K::KeyfileOwner { owner, euid }))
    }
}

/// Parse `authkeys` as the bytes the C daemon reads: a key is a byte string
/// (a Latin-1 or any other non-UTF-8 key stays the exact bytes the C node
/// hashes), and every `crc` entry is reported as a warning, because a packet
/// chooses the key index it is checked with (docs/protocol.md §4.5): one `crc`
/// line anywhere lets anyone who can reach the cluster's ports forge packets.
pub fn parse_authkeys_bytes(
    bytes: &[u8],
    path: &Path,
) -> Result<(AuthKeys, Vec<Warning>), Vec<ConfigError>> {
    // Latin-1 maps every byte to one char and back, so the line structure,
    // the ASCII keywords and the key bytes all survive unchanged.
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let (keys, crc_lines) = parse(&text, path, |k| {
        k.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    })?;
    let mut warnings = Vec::new();
    for (index, line) in crc_lines {
        let text = if index == keys.active {
            format!(
                "INSECURE: the active method (auth {index}) is crc: outgoing packets carry only a checksum, and anyone who can send to the cluster's ports can forge packets every node accepts; use sha1 with a secret key"
            )
        } else {
            format!(
                "INSECURE: key {index} is crc: a packet names the key it is checked with, so this line lets anyone who can send to the cluster's ports forge packets even though auth {} is not crc; remove it",
                keys.active
            )
        };
        warnings.push(Warning {
            file: path.to_path_buf(),
            line: Some(line),
            text,
        });
    }
    Ok((keys, warnings))
}

/// Parse `authkeys` text. `path` is only used in messages.
pub fn parse_authkeys(text: &str, path: &Path) -> Result<AuthKeys, Vec<ConfigError>> {
    parse(text, path, |k| k.as_bytes().to_vec()).map(|(keys, _)| keys)
}

/// `(index, line)` of each crc entry of a parsed file.
type CrcLines = Vec<(u8, usize)>;

/// The parser; `key_bytes` turns a key token back into the file's bytes.
/// Also returns `(index, line)` of every crc entry in the result.
fn parse(
    text: &str,
    path: &Path,
    key_bytes: impl Fn(&str) -> Vec<u8>,
) -> Result<(AuthKeys, CrcLines), Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut keys: Vec<(u8, Method, Vec<u8>)> = Vec::new();
    let mut key_lines: Vec<(u8, usize)> = Vec::new();
    let mut auth: Option<(i64, usize)> = None;
    let mut active: Option<u8> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let line = idx + 1;
        let shown = raw.trim_end_matches(['\r', '\n']).to_string();
        let bp = raw.trim_start_matches(WHITESPACE);
        if bp.is_empty() || bp.starts_with('#') {
            continue;
        }
        if bp.starts_with('a') {
            match bp
                .strip_prefix("auth")
                .and_then(|r| scan_int(r).map(|(n, _)| n))
            {
                Some(n) => auth = Some((n, line)),
                None => errors.push(ConfigError::at(path, line, K::BadAuthLine { text: shown })),
            }
            continue;
        }
        let Some((index, rest)) = scan_int(bp) else {
            errors.push(ConfigError::at(path, line, K::BadKeyLine { text: shown }));
            continue;
        };
        let mut words = rest.split(WHITESPACE).filter(|w| !w.is_empty());
        let Some(method_name) = words.next() else {
            errors.push(ConfigError::at(path, line, K::BadKeyLine { text: shown }));
            continue;
        };
        let key = words.next().unwrap_or("");
        let slot = match u8::try_from(index) {
            Ok(s) if i64::from(s) < MAX_AUTH => s,
            _ => {
                errors.push(ConfigError::at(path, line, K::AuthIndexRange { index }));
                continue;
            }
        };
        let Some(method) = Method::from_name(method_name) else {
            let name = method_name.to_string();
            errors.push(ConfigError::at(path, line, K::UnknownAuthMethod { name }));
            continue;
        };
        let method_s = method_name.to_string();
        if !key.is_empty() && !method.needs_key() {
            errors.push(ConfigError::at(
                path,
                line,
                K::KeyNotUsed { method: method_s },
            ));
            continue;
        }
        if key.is_empty() && method.needs_key() {
            errors.push(ConfigError::at(
                path,
                line,
                K::KeyRequired { method: method_s },
            ));
            continue;
        }
        let entry = (slot, method, key_bytes(key));
        match keys.iter_mut().find(|(i, _, _)| *i == slot) {
            Some(existing) => *existing = entry,
            None => keys.push(entry),
        }
        key_lines.retain(|(i, _)| *i != slot);
        key_lines.push((slot, line));
        if auth.is_some_and(|(n, _)| n == index) {
            active = Some(slot);
        }
    }
    if active.is_none() {
        match auth {
            None => errors.push(ConfigError::file(path, K::MissingAuth)),
            Some((index, auth_line)) => {
                let earlier = key_lines.iter().find(|(i, _)| i64::from(*i) == index);
                let kind = match earlier {
                    Some(&(_, key_line)) => K::AuthAfterKey { index, key_line },
                    None => K::AuthKeyNotFound { index },
                };
                errors.push(ConfigError::at(path, auth_line, kind));
            }
        }
    }
    match active {
        Some(active) if errors.is_empty() => {
            let crc_lines = key_lines
                .iter()
                .filter(|(i, _)| keys.iter().any(|(k, m, _)| k == i && *m == Method::Crc))
                .copied()
                .collect();
            Ok((AuthKeys { active, keys }, crc_lines))
        }
        _ => Err(errors),
    }
}

/// `sscanf("%d")`: optional white space, optional sign, at least one digit.
/// Returns the value (saturated) and the rest of the text.
fn scan_int(s: &str) -> Option<(i64, &str)> {
    let s = s.trim_start_matches(WHITESPACE);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for b in body[..digits].bytes() {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some((if neg { -value } else { value }, &body[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<AuthKeys, Vec<ConfigError>> {
        parse_authkeys(text, Path::new("/etc/ha.d//authkeys"))
    }

    fn kinds(text: &str) -> Vec<(Option<usize>, K)> {
        p(text)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.kind))
            .collect()
    }

    #[test]
    fn typical_file() {
        let k = p("# comment\n  auth 2\n1 crc\n2 sha1 HI!\n3 md5 Hello! trailing words\n").unwrap();
        assert_eq!(k.active, 2);
        assert_eq!(k.keys.len(), 3);
        assert_eq!(k.active_key(), Some((Method::Sha1, &b"HI!"[..])));
        assert_eq!(k.key(1), Some((Method::Crc, &b""[..])));
        assert_eq!(k.key(3), Some((Method::Md5, &b"Hello!"[..])));
        assert_eq!(k.key(4), None);
    }

    #[test]
    fn hash_inside_key_is_key() {
        let k = p("auth 1\n1 sha1 ab#cd # not a comment\n").unwrap();
        assert_eq!(k.active_key(), Some((Method::Sha1, &b"ab#cd"[..])));
    }

    #[test]
    fn c_scanf_leniency() {
        let k = p("auth1\n1crc\n").unwrap();
        assert_eq!(k.active, 1);
        let k = p("auth 0\n0 md5 k\r\n").unwrap();
        assert_eq!(k.active_key(), Some((Method::Md5, &b"k"[..])));
    }

    #[test]
    fn later_line_replaces_slot() {
        let k = p("auth 1\n1 md5 old\n1 sha1 new\n").unwrap();
        assert_eq!(k.keys.len(), 1);
        assert_eq!(k.active_key(), Some((Method::Sha1, &b"new"[..])));
    }

    #[test]
    fn errors_with_lines() {
        assert_eq!(kinds("1 crc\n"), vec![(None, K::MissingAuth)]);
        assert_eq!(
            kinds("1 crc\nauth 1\n"),
            vec![(
                Some(2),
                K::AuthAfterKey {
                    index: 1,
                    key_line: 1
                }
            )]
        );
        assert_eq!(
            kinds("auth 2\n1 crc\n"),
            vec![(Some(1), K::AuthKeyNotFound { index: 2 })]
        );
        assert_eq!(
            kinds("auth 1\n1 crc\n16 crc\n"),
            vec![(Some(3), K::AuthIndexRange { index: 16 })]
        );
        assert_eq!(
            kinds("auth 1\n1 crc\n-1 crc\n"),
            vec![(Some(3), K::AuthIndexRange { index: -1 })]
        );
        assert_eq!(
            kinds("auth 1\n1 crc\n2 sha256 x\n"),
            vec![(
                Some(3),
                K::UnknownAuthMethod {
                    name: "sha256".into()
                }
            )]
        );
        assert_eq!(
            kinds("auth 1\n1 crc key\n"),
            vec![
                (
                    Some(2),
                    K::KeyNotUsed {
                        method: "crc".into()
                    }
                ),
                (Some(1), K::AuthKeyNotFound { index: 1 })
            ]
        );
        assert_eq!(
            kinds("auth 1\n1 sha1\n"),
            vec![
                (
                    Some(2),
                    K::KeyRequired {
                        method: "sha1".into()
                    }
                ),
                (Some(1), K::AuthKeyNotFound { index: 1 })
            ]
        );
        assert_eq!(
            kinds("auth one\n1 crc\n"),
            vec![
                (
                    Some(1),
                    K::BadAuthLine {
                        text: "auth one".into()
                    }
                ),
                (None, K::MissingAuth)
            ]
        );
        assert_eq!(
            kinds("auth 1\n1 crc\nxyz\n"),
            vec![(Some(3), K::BadKeyLine { text: "xyz".into() })]
        );
        assert_eq!(
            kinds("auth 1\n1\n"),
            vec![
                (Some(2), K::BadKeyLine { text: "1".into() }),
                (Some(1), K::AuthKeyNotFound { index: 1 })
            ]
        );
    }

    #[test]
    fn owner_check() {
        let path = Path::new("/etc/ha.d/authkeys");
        assert!(check_authkeys_owner(0, 0, path).is_ok());
        assert!(check_authkeys_owner(0, 1000, path).is_ok());
        assert!(check_authkeys_owner(1000, 1000, path).is_ok());
        let err = check_authkeys_owner(1000, 0, path).unwrap_err();
        assert!(err.to_string().contains("owned by uid 1000"), "{err}");
    }

    #[test]
    fn keys_are_bytes_latin1_survives() {
        // "clé" in Latin-1: 0xE9 is not UTF-8; from_utf8_lossy would turn it
        // into U+FFFD and the key would no longer match the C node's.
        let file = b"auth 1\n1 sha1 cl\xe9\xff#x\n2 md5 \xc3\xa9\n";
        let (k, w) = parse_authkeys_bytes(file, Path::new("authkeys")).unwrap();
        assert_eq!(k.active_key(), Some((Method::Sha1, &b"cl\xe9\xff#x"[..])));
        assert_eq!(k.key(2), Some((Method::Md5, &b"\xc3\xa9"[..])));
        assert!(w.is_empty());
    }

    #[test]
    fn crc_lines_are_warned_about() {
        let (_, w) = parse_authkeys_bytes(b"auth 1\n1 sha1 s\n2 crc\n", Path::new("ak")).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(3));
        assert!(w[0].text.contains("INSECURE: key 2 is crc"), "{}", w[0]);
        let (_, w) = parse_authkeys_bytes(b"auth 1\n1 crc\n", Path::new("ak")).unwrap();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].text.contains("active method (auth 1) is crc"),
            "{}",
            w[0]
        );
        // A crc line replaced by a later sha1 line for the same index is gone.
        let (_, w) =
            parse_authkeys_bytes(b"auth 1\n1 sha1 s\n2 crc\n2 sha1 t\n", Path::new("ak")).unwrap();
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn mode_check() {
        let path = Path::new("/etc/ha.d//authkeys");
        for ok in [0o600, 0o400, 0o700, 0o100600] {
            assert!(check_authkeys_mode(ok, path).is_ok(), "{ok:o}");
        }
        for writable in [0o620, 0o602, 0o100622] {
            let err = check_authkeys_mode(writable, path).unwrap_err();
            assert!(
                matches!(err.kind, K::WritableKeyfile { .. }),
                "{writable:o}"
            );
            assert!(err.to_string().contains("writable"), "{err}");
        }
        for bad in [0o640, 0o604, 0o644, 0o100644] {
            let err = check_authkeys_mode(bad, path).unwrap_err();
            assert_eq!(err.line, None);
            assert!(matches!(err.kind, K::BadPermissions { .. }));
            assert!(err.to_string().contains("600 recommended"), "{err}");
        }
    }
}
