//! hb-media
