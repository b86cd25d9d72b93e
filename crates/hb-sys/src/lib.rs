//! hb-sys
