//! Resource sets: the 2-bit `rsc_hold` value (docs/protocol.md §9.2).
//!
//! "local" means the groups whose haresources line names the node that the
//! value speaks for, "foreign" every other group. Which node that is depends
//! on the message: the sender for `resource`, the node going standby for
//! `ask_resources` (also in the `other` and `done` replies).

use std::fmt;

/// `none` (0), `local` (1), `foreign` (2) or `all` (3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RscSet(u8);

impl RscSet {
    /// Nothing.
    pub const NONE: RscSet = RscSet(0);
    /// The groups of the node the value speaks for.
    pub const LOCAL: RscSet = RscSet(1);
    /// Every other group.
    pub const FOREIGN: RscSet = RscSet(2);
    /// Everything.
    pub const ALL: RscSet = RscSet(3);

    /// The wire text: `none`, `local`, `foreign`, `all`.
    pub fn as_str(self) -> &'static str {
        match self.0 {
            1 => "local",
            2 => "foreign",
            3 => "all",
            _ => "none",
        }
    }

    /// Decodes the wire text exactly (case-sensitive, like the C
    /// `encode_resources`); anything else is `None` — the caller logs it
    /// and uses [`RscSet::NONE`].
    pub fn parse(text: &str) -> Option<RscSet> {
        match text {
            "none" => Some(RscSet::NONE),
            "local" => Some(RscSet::LOCAL),
            "foreign" => Some(RscSet::FOREIGN),
            "all" => Some(RscSet::ALL),
            _ => None,
        }
    }

    /// The C numeric value (0..=3), as printed in some debug lines.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is in `self` (and `other` is not empty).
    pub fn contains(self, other: RscSet) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a bit.
    pub fn intersects(self, other: RscSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Union.
    pub fn union(self, other: RscSet) -> RscSet {
        RscSet(self.0 | other.0)
    }

    /// `self` without the bits of `other`.
    pub fn minus(self, other: RscSet) -> RscSet {
        RscSet(self.0 & !other.0 & 3)
    }

    /// The same groups seen from the other node of a pair: local and
    /// foreign swap, `all` and `none` stay.
    pub fn swapped(self) -> RscSet {
        RscSet(((self.0 & 1) << 1) | ((self.0 & 2) >> 1))
    }

    /// `resource` update rule at the receiver (the C `HB_UPD_RSC`): a full
    /// update replaces; otherwise `none` resets and anything else adds.
    pub fn updated(self, full: bool, value: RscSet) -> RscSet {
        if full || value == RscSet::NONE {
            value
        } else {
            self.union(value)
        }
    }
}

impl fmt::Display for RscSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_unknown() {
        for s in [RscSet::NONE, RscSet::LOCAL, RscSet::FOREIGN, RscSet::ALL] {
            assert_eq!(RscSet::parse(s.as_str()), Some(s));
        }
        assert_eq!(RscSet::parse("failback"), None);
        assert_eq!(RscSet::parse("ALL"), None);
    }

    #[test]
    fn swap_and_update_rules() {
        assert_eq!(RscSet::LOCAL.swapped(), RscSet::FOREIGN);
        assert_eq!(RscSet::FOREIGN.swapped(), RscSet::LOCAL);
        assert_eq!(RscSet::ALL.swapped(), RscSet::ALL);
        assert_eq!(RscSet::NONE.swapped(), RscSet::NONE);
        assert_eq!(RscSet::LOCAL.updated(false, RscSet::FOREIGN), RscSet::ALL);
        assert_eq!(RscSet::ALL.updated(false, RscSet::NONE), RscSet::NONE);
        assert_eq!(RscSet::ALL.updated(true, RscSet::LOCAL), RscSet::LOCAL);
        assert_eq!(RscSet::ALL.minus(RscSet::FOREIGN), RscSet::LOCAL);
        assert!(RscSet::ALL.contains(RscSet::LOCAL));
        assert!(!RscSet::LOCAL.contains(RscSet::NONE));
    }
}
