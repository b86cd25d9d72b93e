//! Packet authentication: crc, HMAC-MD5 and HMAC-SHA1 digests (protocol.md §4).

/// A digest method named in `authkeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// CRC-32 (polynomial 0x04C11DB7, not reflected, init 0, final xor); no key.
    Crc,
    /// HMAC-MD5.
    Md5,
    /// HMAC-SHA1.
    Sha1,
}

impl Method {
    /// The method for its `authkeys` name (`crc`, `md5`, `sha1`; case-sensitive
    /// like the C plugin loader).
    pub fn from_name(name: &str) -> Option<Method> {
        match name {
            "crc" => Some(Method::Crc),
            "md5" => Some(Method::Md5),
            "sha1" => Some(Method::Sha1),
            _ => None,
        }
    }

    /// The `authkeys` name of the method.
    pub fn name(self) -> &'static str {
        match self {
            Method::Crc => "crc",
            Method::Md5 => "md5",
            Method::Sha1 => "sha1",
        }
    }

    /// Whether `authkeys` must give a key for this method.
    pub fn needs_key(self) -> bool {
        !matches!(self, Method::Crc)
    }
}
