//! `uuidfrom nodename` (docs/behaviour.md §14.3): the node's UUID derived from its
//! name, as 3.0.6 does it — a string hash seeds glibc's `srand()`, and 32
//! successive `rand() % 16` give the hex digits of the UUID text. Reproducing
//! it needs glibc's `rand()` (the additive feedback generator `random_r`
//! TYPE_3, degree 31, separation 3), written out here so the value does not
//! depend on the C library the daemon is linked with.

/// 3.0.6's string hash: the first byte, then `h = h * 31 + byte` over the
/// rest, bytes taken as signed `char`, in 32-bit wrapping arithmetic.
pub fn string_hash(name: &str) -> i32 {
    let mut bytes = name.bytes().map(|b| i32::from(b as i8));
    let Some(first) = bytes.next() else {
        return 0;
    };
    bytes.fold(first, |h, b| h.wrapping_mul(31).wrapping_add(b))
}

/// glibc's `rand()` after `srand(seed)`.
pub struct GlibcRand {
    r: [i32; 34],
    i: usize,
}

impl GlibcRand {
    /// `srand(seed)`.
    pub fn new(seed: u32) -> GlibcRand {
        let seed = if seed == 0 { 1 } else { seed };
        let mut r = [0i32; 34];
        r[0] = seed as i32;
        for i in 1..31 {
            let word = i64::from(r[i - 1]);
            let (hi, lo) = (word / 127_773, word % 127_773);
            let mut next = 16_807 * lo - 2_836 * hi;
            if next < 0 {
                next += 2_147_483_647;
            }
            r[i] = next as i32;
        }
        for i in 31..34 {
            r[i] = r[i - 31];
        }
        let mut g = GlibcRand { r, i: 34 };
        // glibc discards the first 310 outputs of the feedback register.
        for _ in 34..344 {
            g.step();
        }
        g
    }

    fn step(&mut self) -> i32 {
        // r[i] = r[i-31] + r[i-3], kept in a window of the last 34 values.
        let v = self.r[(self.i - 31) % 34].wrapping_add(self.r[(self.i - 3) % 34]);
        self.r[self.i % 34] = v;
        self.i += 1;
        v
    }

    /// The next `rand()` value (0 ..= 2^31-1).
    pub fn next_value(&mut self) -> i32 {
        ((self.step() as u32) >> 1) as i32
    }
}

/// The UUID 3.0.6 computes for `name` with `uuidfrom nodename`, and the seed
/// it logs (`seed is <n>`).
pub fn uuid_from_nodename(name: &str) -> (i32, [u8; 16]) {
    let seed = string_hash(name);
    let mut rng = GlibcRand::new(seed as u32);
    let mut uuid = [0u8; 16];
    for byte in &mut uuid {
        let hi = (rng.next_value() % 16) as u8;
        let lo = (rng.next_value() % 16) as u8;
        *byte = (hi << 4) | lo;
    }
    (seed, uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_rand_sequence_after_srand_1() {
        // The well-known first values of glibc's rand() with the default seed.
        let mut g = GlibcRand::new(1);
        let first: Vec<i32> = (0..5).map(|_| g.next_value()).collect();
        assert_eq!(
            first,
            vec![
                1_804_289_383,
                846_930_886,
                1_681_692_777,
                1_714_636_915,
                1_957_747_793
            ]
        );
    }

    #[test]
    fn hash_uses_signed_bytes_and_wraps() {
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("ab"), 97 * 31 + 98);
        assert_eq!(string_hash(""), 0);
        let long = "nodea".repeat(20);
        let _ = string_hash(&long); // no overflow panic
    }

    #[test]
    fn same_name_same_uuid() {
        assert_eq!(uuid_from_nodename("nodea"), uuid_from_nodename("nodea"));
        assert_ne!(uuid_from_nodename("nodea").1, uuid_from_nodename("nodeb").1);
    }
}
