//! The tools' shared code, as a library the thin mains link: the admin
//! commands (`hb_standby`, `hb_takeover`, and `hb-mangen` for their man
//! pages) and ipfail's decision logic.

pub mod admin;

/// What heartbeat's client programs (ipfail, dopd, drbd-peer-outdater) share.
pub mod client {
    pub mod log;
}

/// `ipfail` (docs/behaviour.md §9).
pub mod ipfail {
    pub mod logic;
}
