//! Fuzz the ha.cf parser (lexer, directives, media, whole-file checks).
#![no_main]

use std::path::Path;

use hb_config::{parse_hacf, parse_time_ms, FakeSystem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sys = FakeSystem::default();
    if let Ok((cfg, _warnings)) = parse_hacf(&text, Path::new("ha.cf"), "vm", &sys) {
        // Invariants of an accepted configuration (docs/behaviour.md §3.4).
        assert!(!cfg.media.is_empty());
        assert_eq!(cfg.media.len(), cfg.media_lines.len());
        assert!(cfg.deadtime_ms > 2 * cfg.keepalive_ms);
        assert!(cfg.initdead_ms >= cfg.deadtime_ms);
        assert!(cfg.node_table.len() <= hb_config::MAX_NODES);
        assert!(cfg.node_kind("vm").is_some());
    }
    for word in text.split_whitespace().take(8) {
        let _ = parse_time_ms(word);
    }
});
