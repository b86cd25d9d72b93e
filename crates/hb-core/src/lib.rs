//! hb-core
