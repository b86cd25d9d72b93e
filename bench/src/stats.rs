//! Summaries of repeated measurements: median, minimum, maximum, and the
//! `median (min–max)` cell text of the results table.

use std::time::Duration;

/// Median, min and max of a set of durations, plus how many trials failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Median (mean of the two middle values for an even count).
    pub median: Duration,
    /// Smallest value.
    pub min: Duration,
    /// Largest value.
    pub max: Duration,
    /// Number of values.
    pub n: usize,
}

/// Summarises `values`; `None` when there are none.
pub fn summarize(values: &[Duration]) -> Option<Summary> {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len();
    let first = *v.first()?;
    let last = *v.last()?;
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    };
    Some(Summary {
        median,
        min: first,
        max: last,
        n,
    })
}

fn ms(d: Duration) -> String {
    format!("{}", d.as_millis())
}

/// `median ms (min–max)`, `—` without values, and `k/n failed` appended
/// when some of `trials` produced nothing.
pub fn cell(values: &[Duration], trials: usize) -> String {
    let mut s = match summarize(values) {
        None => "—".to_string(),
        Some(x) if x.n == 1 => format!("{} ms", ms(x.median)),
        Some(x) => format!("{} ms ({}–{})", ms(x.median), ms(x.min), ms(x.max)),
    };
    let failed = trials.saturating_sub(values.len());
    if failed > 0 && !values.is_empty() {
        s.push_str(&format!(", {failed}/{trials} failed"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: &[u64]) -> Vec<Duration> {
        ms.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn odd_and_even_medians() {
        let s = summarize(&d(&[300, 100, 200])).expect("values");
        assert_eq!(
            (s.median, s.min, s.max, s.n),
            (
                Duration::from_millis(200),
                Duration::from_millis(100),
                Duration::from_millis(300),
                3
            )
        );
        let s = summarize(&d(&[400, 100, 200, 300])).expect("values");
        assert_eq!(s.median, Duration::from_millis(250));
        assert!(summarize(&[]).is_none());
    }

    #[test]
    fn cells() {
        assert_eq!(cell(&d(&[10, 30, 20]), 3), "20 ms (10–30)");
        assert_eq!(cell(&d(&[10]), 1), "10 ms");
        assert_eq!(cell(&d(&[10, 30]), 3), "20 ms (10–30), 1/3 failed");
        assert_eq!(cell(&[], 3), "—");
    }
}
