//! Heartbeat configuration files: `ha.cf`, `authkeys`, `haresources`.
//!
//! Parsing is two-staged (docs/style.md §7): [`lexer`] turns `ha.cf` text into
//! raw directives (line, key, arguments) using the directive table in
//! [`directives`]; [`build`](crate::hacf::parse_hacf) applies them in order
//! to a typed [`HaCf`] whose fields start at the built-in defaults, then runs
//! the whole-file checks of the C daemon. Every error names file, line, the
//! bad value and what is expected; all errors of a file are reported.
//!
//! The crate has no side effects beyond reading the files: questions about
//! the host (users, groups, executables, `/etc/services`, interfaces, host
//! names) go through [`SystemLookup`].
#![deny(missing_docs)]

pub mod apiauth;
pub mod authkeys;
mod build;
pub mod directives;
mod dump;
pub mod error;
pub mod hacf;
pub mod haresources;
pub mod lexer;
mod load;
pub mod media;
mod media_args;
pub mod respawn;
pub mod stonith;
pub mod system;
pub mod value;

pub use apiauth::ApiAuth;
pub use authkeys::{
    check_authkeys_mode, check_authkeys_owner, parse_authkeys, parse_authkeys_bytes, AuthKeys,
};
pub use build::{DEFAULT_COREROOT, DEFAULT_UDPPORT, MAX_MEDIA, MAX_NODES, SERVICE_NAME};
pub use directives::defaults_table;
pub use error::{
    ApiauthProblem, ConfigError, ConfigErrorKind, MediumProblem, RespawnProblem, StonithProblem,
    Warning,
};
pub use hacf::{
    parse_hacf, AutoFailback, Autojoin, GenMethod, HaCf, MsgFmt, NodeEntry, NodeKind, UuidFrom,
};
pub use haresources::{parse_haresources, Resource, ResourceGroup};
pub use hb_proto::auth::Method;
pub use load::{
    load, load_authkeys, load_authkeys_with_warnings, Loaded, AUTHKEYS, HACF, HARESOURCES,
};
pub use media::Medium;
pub use respawn::Respawn;
pub use stonith::{
    check_devices, effective_device, Device, DeviceConfig, DeviceLookup, Stonith, StonithHost,
};
pub use system::{FakeSystem, RealSystem, SystemLookup};
pub use value::{facility_code, parse_bool, parse_time_ms};
