//! hb-config
