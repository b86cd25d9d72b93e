//! Fuzz the haresources parser.
#![no_main]

use std::path::Path;

use hb_config::parse_haresources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let nodes = ["vm".to_string(), "ghost".to_string()];
    if let Ok(groups) = parse_haresources(&text, Path::new("haresources"), &nodes) {
        for g in &groups {
            assert!(nodes.contains(&g.node));
            assert!(g.text.starts_with(g.node.as_str()));
            let _ = g.key();
        }
    }
});
