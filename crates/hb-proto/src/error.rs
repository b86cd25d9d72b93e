//! Typed decoding errors shared by every encoding.
//!
//! Received bytes come from the network, a serial line or a local client, so
//! every way they can be wrong is a value, never a panic. Each error carries
//! the byte offset (into the buffer handed to the decoder) where the parser
//! gave up and what it expected there, so a log line points at the problem.

use thiserror::Error;

/// Why a buffer is not a valid message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("malformed message at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset into the decoded buffer where the problem was found.
    pub offset: usize,
    /// What was wrong there.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// A new error at `offset`.
    pub fn new(offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }
}

/// What the decoder expected and did not find.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    /// The buffer does not start with a known message marker.
    #[error("expected the start marker {0:?}")]
    MissingStart(&'static str),
    /// The buffer ended before the end marker.
    #[error("expected the end marker {0:?} (message truncated?)")]
    MissingEnd(&'static str),
    /// A netstring did not start with decimal digits.
    #[error("expected a decimal length")]
    ExpectedLength,
    /// The decimal length is too large to be real.
    #[error("length out of range")]
    LengthOverflow,
    /// A decimal length with a leading zero (never sent; not canonical).
    #[error("length with a leading zero")]
    LeadingZero,
    /// A netstring length was not followed by `:`.
    #[error("expected ':' after the length")]
    ExpectedColon,
    /// A netstring's declared length runs past the end of the buffer.
    #[error("declared length runs past the end of the buffer")]
    LengthOverrun,
    /// A netstring's data was not followed by `,`.
    #[error("expected ',' after the netstring data")]
    ExpectedComma,
    /// A netstring field did not start with `(d)`.
    #[error("expected a type prefix \"(d)\"")]
    ExpectedTypePrefix,
    /// The type digit is not one of 0..=4.
    #[error("unknown field type byte {0:#04x} (only 0..4 travel on the wire)")]
    UnknownType(u8),
    /// A classic line carried an explicit `(0)` prefix, which the C parser
    /// rejects.
    #[error("string field with an explicit (0) prefix")]
    StringTypePrefix,
    /// No `=` between name and value.
    #[error("expected '=' after the field name")]
    ExpectedEquals,
    /// The field name is empty.
    #[error("empty field name")]
    EmptyName,
    /// The field name contains NUL, a newline, or starts with `>>>`.
    #[error("field name contains a forbidden byte")]
    BadName,
    /// A string value contains NUL (the C peer aborts on such messages).
    #[error("string value contains a NUL byte")]
    NulInString,
    /// A binary or compressed value is not valid base64.
    #[error("invalid base64")]
    BadBase64,
    /// A list value is not a sequence of `<len>:<elem>,`.
    #[error("invalid packed string list")]
    BadList,
    /// Nested structs deeper than the protocol's 16 levels.
    #[error("nesting deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The buffer exceeds the size limit.
    #[error("{len} bytes exceed the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        len: usize,
        /// The limit that applies.
        limit: usize,
    },
    /// A nested struct's encoded value had bytes after its end marker.
    #[error("trailing bytes after a nested message")]
    TrailingBytes,
    /// Compressed message names an algorithm we cannot inflate.
    #[error("unsupported compression algorithm {0:?}")]
    UnsupportedCompression(String),
    /// Compressed message without `_compression_algorithm`.
    #[error("compressed message without _compression_algorithm")]
    MissingCompressionAlgorithm,
    /// The compressed payload is corrupt.
    #[error("corrupt compressed payload")]
    BadCompressedData,
    /// The payload inflates beyond the in-memory limit.
    #[error("decompressed message exceeds {limit} bytes")]
    DecompressedTooLarge {
        /// The limit.
        limit: usize,
    },
}
