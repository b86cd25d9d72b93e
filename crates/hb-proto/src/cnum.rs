//! C number parsing: `strtol`, `strtoul`, `atoi` and the `sscanf`
//! conversions the C daemon and its tools apply to message fields,
//! configuration values and command-line operands, with glibc's results on
//! a 64-bit system (`long` is 64 bits, `int` 32).
//!
//! The rules, as glibc applies them:
//!
//! * leading white space is C `isspace` in the "C" locale: space, `\t`,
//!   `\n`, `\v`, `\f`, `\r` (not other Unicode spaces);
//! * then one optional sign, `+` or `-`;
//! * base 16 accepts an optional `0x`/`0X` prefix when a hex digit follows
//!   it; base 0 picks 16 after such a prefix, 8 after a leading `0`, and 10
//!   otherwise;
//! * digits run up to the first byte that is not a digit of the base; the
//!   rest is ignored;
//! * no digit at all: the value is 0 and nothing is consumed;
//! * `strtol` clamps to `i64::MIN`/`i64::MAX` on overflow (`ERANGE`);
//!   `strtoul` clamps to `u64::MAX`, and negates a value with a `-` sign in
//!   unsigned arithmetic (`strtoul("-1")` is `u64::MAX`);
//! * `atoi` is `(int) strtol(s, NULL, 10)`: the clamped `long` cut to its
//!   low 32 bits, as the conversion does on glibc.

/// The outcome of one conversion, like the C function's value, `endptr`
/// and `errno == ERANGE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The value (0 when there was no digit; clamped on overflow).
    pub value: T,
    /// Bytes consumed, white space, sign and prefix included; 0 when there
    /// was no digit (C's `endptr == s`).
    pub len: usize,
    /// The digits did not fit (`ERANGE`).
    pub overflow: bool,
    /// A `-` sign was read.
    pub negative: bool,
}

impl<T> Parsed<T> {
    /// At least one digit was read.
    pub fn has_digits(&self) -> bool {
        self.len > 0
    }
}

/// C `isspace` in the "C" locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `s` without its leading C white space.
pub fn skip_c_space(s: &str) -> &str {
    let n = s.bytes().take_while(|b| is_c_space(*b)).count();
    &s[n..]
}

/// The magnitude, sign and length of the number at the start of `s`.
/// `base` is 0 or 2..=36; any other base reads nothing.
fn scan(s: &str, base: u32) -> (Option<u64>, bool, usize) {
    let b = s.as_bytes();
    let mut i = b.iter().take_while(|c| is_c_space(**c)).count();
    let mut negative = false;
    match b.get(i) {
        Some(b'-') => {
            negative = true;
            i += 1;
        }
        Some(b'+') => i += 1,
        _ => {}
    }
    let digit = |c: u8, base: u32| char::from(c).to_digit(base);
    let hex_prefix = b.get(i) == Some(&b'0')
        && matches!(b.get(i + 1), Some(b'x' | b'X'))
        && b.get(i + 2).is_some_and(|c| digit(*c, 16).is_some());
    let base = match base {
        0 if hex_prefix => {
            i += 2;
            16
        }
        0 if b.get(i) == Some(&b'0') => 8,
        0 => 10,
        16 if hex_prefix => {
            i += 2;
            16
        }
        2..=36 => base,
        _ => return (Some(0), false, 0),
    };
    let start = i;
    let mut mag: Option<u64> = Some(0);
    while let Some(d) = b.get(i).and_then(|c| digit(*c, base)) {
        mag = mag
            .and_then(|m| m.checked_mul(u64::from(base)))
            .and_then(|m| m.checked_add(u64::from(d)));
        i += 1;
    }
    if i == start {
        return (Some(0), false, 0);
    }
    (mag, negative, i)
}

/// C `strtol(s, &end, base)`.
pub fn strtol(s: &str, base: u32) -> Parsed<i64> {
    let (mag, negative, len) = scan(s, base);
    let (value, overflow) = match (mag, negative) {
        (None, false) => (i64::MAX, true),
        (None, true) => (i64::MIN, true),
        (Some(m), false) => i64::try_from(m).map_or((i64::MAX, true), |v| (v, false)),
        (Some(m), true) => {
            if m <= i64::MAX as u64 + 1 {
                ((m as i64).wrapping_neg(), false)
            } else {
                (i64::MIN, true)
            }
        }
    };
    Parsed {
        value,
        len,
        overflow,
        negative,
    }
}

/// C `strtoul(s, &end, base)`.
pub fn strtoul(s: &str, base: u32) -> Parsed<u64> {
    let (mag, negative, len) = scan(s, base);
    let (value, overflow) = match mag {
        None => (u64::MAX, true),
        Some(m) if negative => (m.wrapping_neg(), false),
        Some(m) => (m, false),
    };
    Parsed {
        value,
        len,
        overflow,
        negative,
    }
}

/// C `atoi(s)`: `(int) strtol(s, NULL, 10)`.
pub fn atoi(s: &str) -> i32 {
    strtol(s, 10).value as i32
}

/// C `atol(s)`: `strtol(s, NULL, 10)`.
pub fn atol(s: &str) -> i64 {
    strtol(s, 10).value
}

/// `sscanf(s, "%ld", &v) == 1`: the value, or `None` without a digit.
pub fn scan_long(s: &str) -> Option<i64> {
    let p = strtol(s, 10);
    p.has_digits().then_some(p.value)
}

/// `sscanf(s, "%x", &v) == 1` into an `unsigned int`: the value cut to 32
/// bits, or `None` without a digit.
pub fn scan_hex_u32(s: &str) -> Option<u32> {
    let p = strtoul(s, 16);
    p.has_digits().then_some(p.value as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str, base: u32) -> (i64, usize, bool) {
        let p = strtol(s, base);
        (p.value, p.len, p.overflow)
    }

    fn ul(s: &str, base: u32) -> (u64, usize, bool) {
        let p = strtoul(s, base);
        (p.value, p.len, p.overflow)
    }

    #[test]
    fn white_space_is_c_isspace_only() {
        assert_eq!(l(" \t\n\x0b\x0c\r42", 10), (42, 8, false));
        // A no-break space or an em space is no C white space.
        assert_eq!(l("\u{a0}42", 10), (0, 0, false));
        assert_eq!(l("\u{2003}42", 10), (0, 0, false));
        // White space after the sign is not skipped.
        assert_eq!(l("- 5", 10), (0, 0, false));
        assert_eq!(atoi("  \x0b-12abc"), -12);
    }

    #[test]
    fn one_sign_only() {
        assert_eq!(l("+7", 10), (7, 2, false));
        assert_eq!(l("-7", 10), (-7, 2, false));
        assert_eq!(l("+-7", 10), (0, 0, false));
        assert_eq!(l("--7", 10), (0, 0, false));
        assert_eq!(l("-", 10), (0, 0, false));
    }

    #[test]
    fn empty_and_garbage_read_nothing() {
        assert_eq!(l("", 10), (0, 0, false));
        assert_eq!(l("   ", 10), (0, 0, false));
        assert_eq!(l("abc", 10), (0, 0, false));
        assert_eq!(atoi("x"), 0);
        assert_eq!(scan_long("x"), None);
        assert_eq!(scan_long(""), None);
        assert_eq!(scan_hex_u32("zz"), None);
    }

    #[test]
    fn trailing_garbage_is_ignored_and_not_consumed() {
        assert_eq!(l("12abc", 10), (12, 2, false));
        assert_eq!(l(" 26 ", 10), (26, 3, false));
        assert_eq!(l("1.5", 10), (1, 1, false));
        assert_eq!(scan_long("694/udp"), Some(694));
    }

    #[test]
    fn strtol_clamps_like_glibc() {
        assert_eq!(l("9223372036854775807", 10), (i64::MAX, 19, false));
        assert_eq!(l("9223372036854775808", 10), (i64::MAX, 19, true));
        assert_eq!(l("-9223372036854775808", 10), (i64::MIN, 20, false));
        assert_eq!(l("-9223372036854775809", 10), (i64::MIN, 20, true));
        assert_eq!(l("99999999999999999999999999x", 10), (i64::MAX, 26, true));
        assert_eq!(l("-99999999999999999999999", 10).0, i64::MIN);
    }

    #[test]
    fn atoi_is_the_long_cut_to_int() {
        assert_eq!(atoi("2147483647"), i32::MAX);
        assert_eq!(atoi("2147483648"), i32::MIN);
        assert_eq!(atoi("4294967297"), 1);
        // Clamped to LONG_MAX, whose low 32 bits are all ones.
        assert_eq!(atoi("99999999999999999999"), -1);
        assert_eq!(atoi("-99999999999999999999"), 0);
        assert_eq!(atol("4294967297"), 4_294_967_297);
    }

    #[test]
    fn strtoul_negates_and_clamps() {
        assert_eq!(ul("-1", 10), (u64::MAX, 2, false));
        assert_eq!(ul("18446744073709551615", 10), (u64::MAX, 20, false));
        assert_eq!(ul("18446744073709551616", 10), (u64::MAX, 20, true));
        assert_eq!(ul("-18446744073709551616", 10), (u64::MAX, 21, true));
        assert!(strtoul("-1", 10).negative);
    }

    #[test]
    fn bases_and_the_hex_prefix() {
        assert_eq!(ul("0x1f", 16), (31, 4, false));
        assert_eq!(ul("0X1F", 0), (31, 4, false));
        assert_eq!(ul("1f", 16), (31, 2, false));
        assert_eq!(ul("1f", 10), (1, 1, false));
        // "0x" without a hex digit after it: the 0 is the number.
        assert_eq!(ul("0x", 16), (0, 1, false));
        assert_eq!(ul("0xg", 0), (0, 1, false));
        // Base 0: a leading 0 is octal.
        assert_eq!(ul("010", 0), (8, 3, false));
        assert_eq!(ul("010", 10), (10, 3, false));
        assert_eq!(ul("08", 0), (0, 1, false));
        assert_eq!(ul("0x10", 10), (0, 1, false));
        assert_eq!(ul(" -0x10", 16), (0u64.wrapping_sub(16), 6, false));
        // No base but 0 and 2..=36 reads anything.
        assert_eq!(ul("12", 1), (0, 0, false));
        assert_eq!(ul("12", 37), (0, 0, false));
        assert_eq!(ul("zz", 36), (35 * 36 + 35, 2, false));
    }

    #[test]
    fn sscanf_hex_into_unsigned_int() {
        assert_eq!(scan_hex_u32("ff"), Some(255));
        assert_eq!(scan_hex_u32(" 0x7530 "), Some(0x7530));
        assert_eq!(scan_hex_u32("123456789"), Some(0x2345_6789));
        assert_eq!(scan_hex_u32("-1"), Some(u32::MAX));
        // Clamped to ULONG_MAX, then cut to 32 bits.
        assert_eq!(scan_hex_u32("fffffffffffffffff"), Some(u32::MAX));
    }
}
