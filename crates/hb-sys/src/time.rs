//! Local wall-clock time for log lines.
//!
//! Log lines carry local time, as syslog and cluster-glue print it. Rust's
//! std has no time-zone support, and the C library already knows the
//! system's zone, so this asks `localtime_r`.

/// Broken-down local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tm {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month 0..=11.
    pub month: u32,
    /// Day of month 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=60.
    pub second: u32,
}

/// Converts seconds since the epoch to local time (UTC if the conversion
/// fails).
pub fn local_time(secs: u64) -> Tm {
    let t: libc::time_t = libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX);
    // SAFETY: `tm` is plain data; an all-zero value is a valid `struct tm`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers refer to live, properly aligned locals; the
    // reentrant variant writes only into `tm`.
    let ok = unsafe { libc::localtime_r(&t, &mut tm) };
    if ok.is_null() {
        let days = secs / 86_400;
        let rem = secs % 86_400;
        return Tm {
            year: 1970 + i32::try_from(days / 365).unwrap_or(0),
            month: 0,
            day: 1,
            hour: u32::try_from(rem / 3600).unwrap_or(0),
            minute: u32::try_from(rem % 3600 / 60).unwrap_or(0),
            second: u32::try_from(rem % 60).unwrap_or(0),
        };
    }
    let u = |v: libc::c_int| u32::try_from(v).unwrap_or(0);
    Tm {
        year: tm.tm_year + 1900,
        month: u(tm.tm_mon),
        day: u(tm.tm_mday),
        hour: u(tm.tm_hour),
        minute: u(tm.tm_min),
        second: u(tm.tm_sec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_range_and_consistent_across_a_day() {
        let a = local_time(1_795_321_339);
        assert!(a.year >= 2026 && a.month < 12 && (1..=31).contains(&a.day));
        let b = local_time(1_795_321_339 + 61);
        let mins = |t: Tm| t.hour * 60 + t.minute;
        assert!(mins(b) == mins(a) + 1 || mins(b) == mins(a) + 2 || mins(b) < mins(a));
    }
}
