//! The version heartbeat reports and the LSB exit codes it uses: a leaf
//! module, so the master, the API and the command line can all name them
//! without depending on one another.

/// Version reported by `-V` and the API: the protocol level we implement,
/// then our own name, so scripts that read the first word keep working.
pub const HB_VERSION: &str = "3.0.6";

/// LSB exit codes heartbeat uses.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Generic failure / stale pid file.
    pub const FAILURE: i32 = 1;
    /// Bad usage.
    pub const EINVAL: i32 = 2;
    /// Not running.
    pub const NOT_RUNNING: i32 = 3;
    /// Permission problem / cannot create pid file.
    pub const EPERM: i32 = 4;
    /// Configuration error.
    pub const NOT_CONFIGURED: i32 = 6;
}
