//! ha.cf(5) (`docs/man/ha.cf.5`) documents exactly the directives the parser
//! accepts: every entry of the directive table has a `.TP` item, and every
//! `.TP` item names a directive of the table.

use std::collections::BTreeSet;
use std::path::Path;

/// The directive names of the `.TP` items: the bold word that starts the item
/// line, and each bold word after ", " on it (items listing several).
fn documented(page: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = BTreeSet::new();
    for w in lines.windows(2) {
        if w[0] != ".TP" {
            continue;
        }
        let item = w[1];
        for (i, part) in item.split("\\fB").enumerate().skip(1) {
            let Some((word, _)) = part.split_once("\\fR") else {
                continue;
            };
            let before = item.split("\\fB").nth(i - 1).unwrap_or("");
            let starts_item = i == 1 && item.starts_with("\\fB");
            let listed = before.ends_with(", ");
            let is_name = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if is_name && (starts_item || listed) {
                out.insert(word.to_string());
            }
        }
    }
    out
}

#[test]
fn ha_cf_5_lists_exactly_the_parsers_directives() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/man/ha.cf.5");
    let page = std::fs::read_to_string(&path).expect("docs/man/ha.cf.5");
    let documented = documented(&page);
    let parsed: BTreeSet<String> = hb_config::directives::DIRECTIVES
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    let missing: Vec<_> = parsed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&parsed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "ha.cf(5) out of step with the parser: not documented {missing:?}, \
         documented but not parsed {extra:?}"
    );
    // Every directive that says "no effect" is described as such in the page.
    for d in hb_config::directives::DIRECTIVES {
        if hb_config::directives::no_effect(d.name).is_some() {
            let item = page
                .split(".TP\n")
                .find(|i| i.contains(&format!("\\fB{}\\fR", d.name)))
                .unwrap_or("");
            assert!(
                item.contains("without effect") || item.contains("no effect"),
                "ha.cf(5) must say that `{}` has no effect",
                d.name
            );
        }
    }
}

#[test]
fn the_extractor_sees_list_items_and_not_values() {
    let page =
        ".TP\n\\fBa_b\\fR \\fBon\\fR|\\fBoff\\fR\n.TP\n\\fBx\\fR, \\fBy2\\fR\ntext \\fBz\\fR\n";
    let got: Vec<String> = documented(page).into_iter().collect();
    assert_eq!(got, ["a_b", "x", "y2"]);
}
