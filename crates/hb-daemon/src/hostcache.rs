//! `/var/lib/heartbeat/delhostcache` (docs/behaviour.md §14.4): the nodes
//! deleted with `hb_delnode`, one per line, `<name>\t<uuid>\t<weight>\t<site>`,
//! written through `<file>.tmp`, fsync and rename.
//!
//! 3.0.6 writes this file in haresources mode but never reads it back; we
//! read it at start so a deletion survives a restart (the node stays out of
//! the node table even while ha.cf still names it).

use std::io::Write;
use std::path::Path;

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Node name (lower case).
    pub name: String,
    /// Its UUID, all zero when never heard.
    pub uuid: [u8; 16],
    /// Weight (100 unless set).
    pub weight: i32,
    /// Site (empty unless set).
    pub site: String,
}

fn uuid_text(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn parse_uuid(t: &str) -> Option<[u8; 16]> {
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The file's text for `entries`.
pub fn render(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\t{}\t{}\n",
                e.name,
                uuid_text(&e.uuid),
                e.weight,
                e.site
            )
        })
        .collect()
}

/// Parses the file; older files may have only the first two or three
/// columns (weight then defaults to 100). Lines without a name are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let name = f.next()?.trim().to_ascii_lowercase();
            if name.is_empty() {
                return None;
            }
            let uuid = f.next().and_then(parse_uuid).unwrap_or([0; 16]);
            let weight = f.next().and_then(|w| w.trim().parse().ok()).unwrap_or(100);
            let site = f.next().unwrap_or("").trim().to_string();
            Some(Entry {
                name,
                uuid,
                weight,
                site,
            })
        })
        .collect()
}

/// Reads the file (missing = empty).
pub fn read(path: &Path) -> Vec<Entry> {
    std::fs::read_to_string(path)
        .map(|t| parse(&t))
        .unwrap_or_default()
}

/// Writes the file through `<file>.tmp`, fsync and rename.
pub fn write(path: &Path, entries: &[Entry]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(render(entries).as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_old_formats() {
        let e = Entry {
            name: "nodec".into(),
            uuid: [0xab; 16],
            weight: 7,
            site: "east".into(),
        };
        let text = render(std::slice::from_ref(&e));
        assert_eq!(
            text,
            "nodec\tabababab-abab-abab-abab-abababababab\t7\teast\n"
        );
        assert_eq!(parse(&text), vec![e]);
        let old = parse("NodeD\t00000000-0000-0000-0000-000000000000\n\n");
        assert_eq!(old[0].name, "noded");
        assert_eq!(old[0].weight, 100);
    }
}
