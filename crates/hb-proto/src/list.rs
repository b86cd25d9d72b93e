//! The packed form of a string list (type 3), identical in both encodings:
//! each element as `<declen>:<elem>,`.

/// Packs list elements.
pub(crate) fn pack(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for it in items {
        out.extend_from_slice(it.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(it);
        out.push(b',');
    }
    out
}

/// Unpacks a list; on error returns the offset of the problem. Elements
/// must be non-empty and free of NUL (the C side stores them as C strings).
pub(crate) fn unpack(mut raw: &[u8]) -> Result<Vec<Vec<u8>>, usize> {
    let total = raw.len();
    let mut items = Vec::new();
    while !raw.is_empty() {
        let here = total - raw.len();
        let digits = raw.iter().take_while(|b| b.is_ascii_digit()).count();
        let leading_zero = digits > 1 && raw[0] == b'0';
        if digits == 0 || digits > 9 || leading_zero || raw.get(digits) != Some(&b':') {
            return Err(here);
        }
        let mut len = 0usize;
        for &d in &raw[..digits] {
            len = len * 10 + usize::from(d - b'0');
        }
        let start = digits + 1;
        let end = start + len;
        if len == 0 || end >= raw.len() || raw[end] != b',' {
            return Err(here);
        }
        let elem = &raw[start..end];
        if let Some(i) = elem.iter().position(|&b| b == 0) {
            return Err(here + start + i);
        }
        items.push(elem.to_vec());
        raw = &raw[end + 1..];
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_unpack() {
        let l = vec![b"abc".to_vec(), b"defg".to_vec()];
        assert_eq!(pack(&l), b"3:abc,4:defg,");
        assert_eq!(unpack(b"3:abc,4:defg,"), Ok(l));
        assert_eq!(unpack(b""), Ok(vec![]));
        assert_eq!(unpack(b"3:abc,0:,"), Err(6));
        assert_eq!(unpack(b"3:abc"), Err(0));
        assert_eq!(unpack(b"03:abc,"), Err(0));
        assert_eq!(unpack(b"3:a\0c,"), Err(3));
    }
}
