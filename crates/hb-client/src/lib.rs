//! hb-client
