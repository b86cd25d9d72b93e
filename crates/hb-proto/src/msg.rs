//! The message data model shared by every encoding.
//!
//! A Heartbeat message is an **ordered** list of `(name, type, value)`
//! fields (docs/protocol.md §2). Duplicate names are legal and a lookup returns
//! the first match. Order matters: digests are computed over the encoded
//! bytes, and re-encoding a decoded message must reproduce them exactly, so
//! values are kept as raw bytes and never normalised.

/// The one-digit type tag of a field (docs/protocol.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `0`: text without NUL.
    String = 0,
    /// `1`: arbitrary bytes (base64 in the classic encoding).
    Binary = 1,
    /// `2`: a nested message.
    Struct = 2,
    /// `3`: a list of strings.
    List = 3,
    /// `4`: a compressed nested message (compressed bytes kept opaque).
    Compressed = 4,
}

impl FieldType {
    /// The type for a digit `0..=4`, `None` for anything else (types 5..9
    /// never travel on the wire).
    pub fn from_digit(d: u8) -> Option<FieldType> {
        match d {
            b'0' => Some(FieldType::String),
            b'1' => Some(FieldType::Binary),
            b'2' => Some(FieldType::Struct),
            b'3' => Some(FieldType::List),
            b'4' => Some(FieldType::Compressed),
            _ => None,
        }
    }

    /// The ASCII digit of this type.
    pub fn digit(self) -> u8 {
        b'0' + self as u8
    }
}

/// A field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Type 0. Bytes, normally ASCII; never contains NUL when valid.
    String(Vec<u8>),
    /// Type 1. Raw bytes (e.g. a 16-byte UUID).
    Binary(Vec<u8>),
    /// Type 2. A nested message.
    Struct(Message),
    /// Type 3. A list of byte strings.
    List(Vec<Vec<u8>>),
    /// Type 4. Compressed bytes of a nested message, kept as received.
    Compressed(Vec<u8>),
}

impl Value {
    /// The type tag of this value.
    pub fn field_type(&self) -> FieldType {
        match self {
            Value::String(_) => FieldType::String,
            Value::Binary(_) => FieldType::Binary,
            Value::Struct(_) => FieldType::Struct,
            Value::List(_) => FieldType::List,
            Value::Compressed(_) => FieldType::Compressed,
        }
    }
}

/// One named field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name: non-empty, no `=`, NUL or newline, no leading `(`.
    pub name: String,
    /// Field value.
    pub value: Value,
}

/// An ordered list of fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    fields: Vec<Field>,
}

impl Message {
    /// An empty message.
    pub fn new() -> Message {
        Message { fields: Vec::new() }
    }

    /// A message of string fields, in the order given. Handy in tests and
    /// for building protocol messages.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Message {
        let mut m = Message::new();
        for (k, v) in pairs {
            m.push_str(k, v);
        }
        m
    }

    /// All fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the message has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Appends a field (duplicates allowed).
    pub fn push(&mut self, name: impl Into<String>, value: Value) {
        self.fields.push(Field {
            name: name.into(),
            value,
        });
    }

    /// Appends a string field.
    pub fn push_str(&mut self, name: impl Into<String>, value: impl AsRef<[u8]>) {
        self.push(name, Value::String(value.as_ref().to_vec()));
    }

    /// The first field called `name`.
    pub fn get_field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_field(name).map(|f| &f.value)
    }

    /// The first *string* field called `name`, as text. `None` when absent,
    /// not a string, or not UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Value::String(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The first *binary* field called `name`.
    pub fn get_binary(&self, name: &str) -> Option<&[u8]> {
        match self.get(name)? {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Sets a field: replaces the value of the first field called `name` in
    /// place, or appends it at the end (the C `ha_msg_mod` semantics that
    /// decide where control fields end up, docs/protocol.md §5.1).
    pub fn set(&mut self, name: &str, value: Value) {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.value = value,
            None => self.push(name, value),
        }
    }

    /// [`Message::set`] for a string value.
    pub fn set_str(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.set(name, Value::String(value.as_ref().to_vec()));
    }

    /// Removes every field called `name`; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        self.fields.retain(|f| f.name != name);
        before - self.fields.len()
    }

    /// The message type (`t` field).
    pub fn msg_type(&self) -> Option<&str> {
        self.get_str("t")
    }
}

/// Why a message cannot be sent as built (see [`Message::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMessage {
    /// A field name is empty, contains `=`, NUL or a newline, or starts
    /// with `(`.
    #[error(
        "invalid field name {0:?}: must be non-empty without '=', NUL, newline or a leading '('"
    )]
    BadName(String),
    /// A string value contains NUL.
    #[error("string field {0:?} contains a NUL byte")]
    NulInString(String),
    /// A list element is empty or contains NUL.
    #[error("list field {0:?} has an empty element or one containing NUL")]
    BadListElement(String),
    /// Structs nested deeper than [`crate::MAX_DEPTH`].
    #[error("struct field {0:?} nests deeper than 16 levels")]
    TooDeep(String),
}

impl Message {
    /// Checks that the message can be encoded so that a peer parses it
    /// back to the same fields: valid names, no NUL in strings or list
    /// elements, non-empty list elements, nesting within
    /// [`crate::MAX_DEPTH`]. Messages decoded by this crate always pass.
    pub fn validate(&self) -> Result<(), InvalidMessage> {
        self.validate_at(0)
    }

    fn validate_at(&self, depth: usize) -> Result<(), InvalidMessage> {
        for f in &self.fields {
            if check_name(f.name.as_bytes()).is_err() {
                return Err(InvalidMessage::BadName(f.name.clone()));
            }
            match &f.value {
                Value::String(v) if v.contains(&0) => {
                    return Err(InvalidMessage::NulInString(f.name.clone()))
                }
                Value::List(items) if items.iter().any(|i| i.is_empty() || i.contains(&0)) => {
                    return Err(InvalidMessage::BadListElement(f.name.clone()))
                }
                Value::Struct(m) => {
                    if depth + 1 > crate::MAX_DEPTH {
                        return Err(InvalidMessage::TooDeep(f.name.clone()));
                    }
                    m.validate_at(depth + 1)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Checks a field name: non-empty UTF-8 without `=`, NUL or `\n`, not
/// starting with `(`.
pub(crate) fn check_name(name: &[u8]) -> Result<String, crate::error::DecodeErrorKind> {
    use crate::error::DecodeErrorKind as K;
    if name.is_empty() {
        return Err(K::EmptyName);
    }
    // A leading '(' would read back as a type prefix in the classic form.
    if name[0] == b'(' || name.iter().any(|&b| b == b'=' || b == 0 || b == b'\n') {
        return Err(K::BadName);
    }
    String::from_utf8(name.to_vec()).map_err(|_| K::BadName)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_field_wins_and_set_replaces_in_place() {
        let mut m = Message::from_pairs([("t", "status"), ("st", "up"), ("st", "active")]);
        assert_eq!(m.get_str("st"), Some("up"));
        m.set_str("st", "dead");
        assert_eq!(m.fields()[1].value, Value::String(b"dead".to_vec()));
        assert_eq!(m.fields()[2].value, Value::String(b"active".to_vec()));
        m.set_str("seq", "1");
        assert_eq!(m.fields().last().unwrap().name, "seq");
        assert_eq!(m.remove("st"), 2);
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn typed_getters_do_not_cross_types() {
        let mut m = Message::new();
        m.push("srcuuid", Value::Binary(vec![0; 16]));
        assert_eq!(m.get_str("srcuuid"), None);
        assert_eq!(m.get_binary("srcuuid"), Some(&[0u8; 16][..]));
        assert_eq!(FieldType::from_digit(b'5'), None);
        assert_eq!(FieldType::Compressed.digit(), b'4');
    }

    #[test]
    fn validate_catches_unsendable_messages() {
        assert_eq!(Message::from_pairs([("t", "x")]).validate(), Ok(()));
        let bad = |name: &str, v: Value| {
            let mut m = Message::new();
            m.push(name, v);
            m.validate()
        };
        for name in ["", "a=b", "a\nb", "a\0", "(1)a"] {
            assert!(matches!(
                bad(name, Value::String(vec![])),
                Err(InvalidMessage::BadName(_))
            ));
        }
        assert!(matches!(
            bad("s", Value::String(b"a\0".to_vec())),
            Err(InvalidMessage::NulInString(_))
        ));
        assert!(matches!(
            bad("l", Value::List(vec![vec![]])),
            Err(InvalidMessage::BadListElement(_))
        ));
        let mut m = Message::from_pairs([("a", "b")]);
        for _ in 0..crate::MAX_DEPTH {
            let mut o = Message::new();
            o.push("s", Value::Struct(m));
            m = o;
        }
        assert_eq!(m.validate(), Ok(()));
        assert!(matches!(
            bad("s", Value::Struct(m)),
            Err(InvalidMessage::TooDeep(_))
        ));
    }
}
