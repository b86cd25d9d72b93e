//! Value syntax shared by the ha.cf directives (docs/behaviour.md §3.2).
//!
//! These reproduce the cluster-glue helpers the C daemon uses, including
//! their leniency: `atoi`-style integers stop at the first non-digit and read
//! nothing as 0, booleans are case-insensitive, and time values accept any
//! unit word that *starts* with `ms` or `us`. Accepting exactly what the C
//! daemon accepts keeps existing `ha.cf` files working unchanged.

/// Characters the C daemon treats as white space.
pub(crate) const WHITESPACE: &[char] = &[' ', '\t', '\n', '\r', '\x0c'];

/// Parse a time value the way cluster-glue's `cl_get_msec` does and return
/// it in milliseconds, rounded to the nearest millisecond.
///
/// Syntax: optional leading white space, a number made of digits and `.`,
/// optional white space, optional unit. No unit means seconds; a unit
/// starting with `ms` (any case, e.g. `ms`, `msec`) means milliseconds and one
/// starting with `us` (`us`, `usec`) means microseconds. Anything else after
/// the number (e.g. `30s`, `1m`) is invalid, as is a value not starting with
/// a digit or `.`, an empty value, or one too large to represent.
///
/// ```
/// use hb_config::parse_time_ms;
/// assert_eq!(parse_time_ms("2"), Some(2000));
/// assert_eq!(parse_time_ms("1.5"), Some(1500));
/// assert_eq!(parse_time_ms("500ms"), Some(500));
/// assert_eq!(parse_time_ms("300 msec"), Some(300));
/// assert_eq!(parse_time_ms("1500us"), Some(2));
/// assert_eq!(parse_time_ms("30s"), None);
/// ```
pub fn parse_time_ms(s: &str) -> Option<u64> {
    let s = s.trim_start_matches(WHITESPACE);
    let num_len = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    if num_len == 0 {
        return None;
    }
    let (num, rest) = s.split_at(num_len);
    let unit = rest.trim_start_matches(WHITESPACE);
    let lower: String = unit.chars().take(2).flat_map(char::to_lowercase).collect();
    let factor = if lower == "ms" {
        1.0
    } else if lower == "us" {
        0.001
    } else if unit.is_empty() || unit.starts_with(['\n', '\r']) {
        1000.0
    } else {
        return None;
    };
    let ms = atof_prefix(num) * factor + 0.5;
    // Keep well inside the range of the C `long` and of our u64 arithmetic.
    if !ms.is_finite() || ms >= 1e15 {
        return None;
    }
    // Truncation toward zero after adding 0.5 is the C rounding rule.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(ms as u64)
}

/// `atof` restricted to what `cl_get_msec` can hand it: the longest prefix of
/// the form `digits [. digits]`; nothing numeric reads as 0.
fn atof_prefix(num: &str) -> f64 {
    let int_len = num.find(|c: char| !c.is_ascii_digit()).unwrap_or(num.len());
    let mut end = int_len;
    if num[int_len..].starts_with('.') {
        let frac = &num[int_len + 1..];
        end = int_len
            + 1
            + frac
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(frac.len());
    }
    let prefix = &num[..end];
    if !prefix.bytes().any(|b| b.is_ascii_digit()) {
        return 0.0;
    }
    prefix.parse::<f64>().unwrap_or(0.0)
}

/// Parse a boolean like cluster-glue's `cl_str_to_boolean`:
/// `true on yes y 1` / `false off no n 0`, case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["true", "on", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "off", "no", "n", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// C `atoi` without the cut to 32 bits ([`hb_proto::cnum::atol`]): optional
/// white space, optional sign, digits; stops at the first non-digit, reads
/// nothing as 0, clamps on overflow.
pub(crate) fn atoi(s: &str) -> i64 {
    hb_proto::cnum::atol(s)
}

/// Syslog facility code for a name, as cluster-glue's
/// `cl_syslogfac_str2int` maps it on glibc (case-sensitive). `none` is 0,
/// which (like `kern`) means "no syslog".
pub fn facility_code(name: &str) -> Option<i32> {
    const TABLE: &[(&str, i32)] = &[
        ("none", 0),
        ("auth", 4 << 3),
        ("authpriv", 10 << 3),
        ("cron", 9 << 3),
        ("daemon", 3 << 3),
        ("ftp", 11 << 3),
        ("kern", 0),
        ("lpr", 6 << 3),
        ("mail", 2 << 3),
        ("mark", 24 << 3),
        ("news", 7 << 3),
        ("security", 4 << 3),
        ("syslog", 5 << 3),
        ("user", 1 << 3),
        ("uucp", 8 << 3),
        ("local0", 16 << 3),
        ("local1", 17 << 3),
        ("local2", 18 << 3),
        ("local3", 19 << 3),
        ("local4", 20 << 3),
        ("local5", 21 << 3),
        ("local6", 22 << 3),
        ("local7", 23 << 3),
    ];
    TABLE.iter().find(|(n, _)| *n == name).map(|&(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_seconds_and_fractions() {
        assert_eq!(parse_time_ms("2"), Some(2000));
        assert_eq!(parse_time_ms("1.5"), Some(1500));
        assert_eq!(parse_time_ms(".5"), Some(500));
        assert_eq!(parse_time_ms("0.001"), Some(1));
        assert_eq!(parse_time_ms("  10"), Some(10_000));
        assert_eq!(parse_time_ms("10 "), Some(10_000));
        assert_eq!(parse_time_ms("0"), Some(0));
        assert_eq!(parse_time_ms("."), Some(0));
        assert_eq!(parse_time_ms("1.2.3"), Some(1200));
    }

    #[test]
    fn time_units() {
        assert_eq!(parse_time_ms("500ms"), Some(500));
        assert_eq!(parse_time_ms("500MS"), Some(500));
        assert_eq!(parse_time_ms("300 msec"), Some(300));
        assert_eq!(parse_time_ms("1.5ms"), Some(2));
        assert_eq!(parse_time_ms("10us"), Some(0));
        assert_eq!(parse_time_ms("499us"), Some(0));
        assert_eq!(parse_time_ms("501us"), Some(1));
        assert_eq!(parse_time_ms("1000000usec"), Some(1000));
    }

    #[test]
    fn time_invalid() {
        for bad in [
            "30s",
            "1m",
            "",
            "ms",
            "-1",
            "abc",
            "1 h",
            "1e3",
            "99999999999999999",
        ] {
            assert_eq!(parse_time_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn booleans() {
        for t in ["true", "ON", "Yes", "y", "1"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "Off", "NO", "n", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for x in ["", "2", "maybe", "yess", "legacy"] {
            assert_eq!(parse_bool(x), None, "{x}");
        }
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi("694"), 694);
        assert_eq!(atoi(" 12abc"), 12);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("-5"), -5);
        assert_eq!(atoi("+7"), 7);
        assert_eq!(atoi("99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn facilities() {
        assert_eq!(facility_code("local0"), Some(128));
        assert_eq!(facility_code("none"), Some(0));
        assert_eq!(facility_code("kern"), Some(0));
        assert_eq!(facility_code("daemon"), Some(24));
        assert_eq!(facility_code("LOCAL0"), None);
        assert_eq!(facility_code("foo"), None);
    }
}
