//! Every reference to documentation resolves inside the repository (docs/style.md §10).
//!
//! * No file under crates/, bin/, tests/, docs/, bench/ or fuzz/ may point at the reference notes
//!   that once lived outside the repository (`scripts/rewrite-doc-refs.sh` rewrites such
//!   citations).
//! * Every `docs/<name>.md §X.Y` in crates/, bin/, tests/, docs/, bench/, fuzz/, scripts/,
//!   packaging/ and README.md names an existing file with a heading numbered `X.Y`. Lists
//!   and ranges after the path are checked too (`docs/protocol.md §6.1, §6.5`, `§11.5–11.7`,
//!   `§1.1–§1.2`), also when the comment continues on the next line.
//!
//! Needs no root and runs in well under a second.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Directories whose files must not mention the old, external notes.
const NO_EXTERNAL_REFS_IN: &[&str] = &["crates", "bin", "tests", "docs", "bench", "fuzz"];
/// Files and directories whose `docs/…§` references must resolve.
const REFS_CHECKED_IN: &[&str] = &[
    "crates",
    "bin",
    "tests",
    "docs",
    "bench",
    "fuzz",
    "scripts",
    "packaging",
    "README.md",
];

/// The strings that betray a citation of the old notes. Built at run time so that this file
/// does not contain them itself.
fn forbidden() -> [String; 2] {
    [["shared", "/docs"].concat(), ["STYLE", ".md"].concat()]
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Text files under `path` (a file or a directory), skipping build output, VCS data and
/// binary files. Paths come back relative to `root`, sorted.
fn text_files(root: &Path, path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut todo = vec![root.join(path)];
    while let Some(p) = todo.pop() {
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "target" || name.starts_with('.') {
                continue;
            }
            if let Ok(entries) = fs::read_dir(&p) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() {
            let Ok(bytes) = fs::read(&p) else { continue };
            if bytes.contains(&0) {
                continue;
            }
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            out.push((rel, text));
        }
    }
    out.sort();
    out
}

/// `file:line: text` for every line that mentions one of `needles`.
fn external_refs(file: &str, text: &str, needles: &[String]) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| needles.iter().any(|n| l.contains(n.as_str())))
        .map(|(i, l)| format!("{file}:{}: {}", i + 1, l.trim()))
        .collect()
}

/// One cited section: the line of the citation, the document, the section number.
#[derive(Debug, PartialEq, Eq)]
struct Ref {
    line: usize,
    doc: String,
    section: Option<String>,
}

/// Skips blanks and, at most once, a line break followed by a comment leader (`//`, `///`,
/// `//!`, `#`, `*`): a citation may continue on the next comment line.
fn skip_gap(s: &str) -> &str {
    let s = s.trim_start_matches([' ', '\t']);
    if let Some(rest) = s.strip_prefix('\n') {
        let rest = rest.trim_start_matches([' ', '\t']);
        let rest = ["//!", "///", "//", "#", "*"]
            .iter()
            .find_map(|l| rest.strip_prefix(l))
            .unwrap_or(rest);
        return rest.trim_start_matches([' ', '\t']);
    }
    s
}

/// A section number at the start of `s` (`6`, `6.3`, `5.5.1`; a final `.` is not part of it),
/// and the rest of `s`.
fn section_number(s: &str) -> Option<(String, &str)> {
    let b = s.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = digits(0);
    if end == 0 {
        return None;
    }
    while end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
        end += 1 + digits(end + 1);
    }
    Some((s[..end].to_string(), &s[end..]))
}

/// The `§` numbers that follow a document path: `§6.1`, `§6.1, §6.5`, `§5.3–5.4`,
/// `§1.1–§1.2`, `§7.6/§7.8`, `§1, §5–§8, §10`.
fn sections_after(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(mut rest) = skip_gap(s).strip_prefix('§') else {
        return out;
    };
    while let Some((num, after)) = section_number(rest.trim_start_matches(' ')) {
        out.push(num);
        // A separator that introduces another number of the same document.
        let (next, needs_sign) = if let Some(r) = after.strip_prefix('–') {
            (r, false)
        } else if let Some(r) = after.strip_prefix('-') {
            (r, false)
        } else if let Some(r) = after.strip_prefix('/') {
            (r, true)
        } else if let Some(r) = after.strip_prefix(',') {
            (skip_gap(r), true)
        } else if let Some(r) = after.strip_prefix(" and ") {
            (r, true)
        } else {
            break;
        };
        match next.strip_prefix('§') {
            Some(r) => rest = r,
            None if !needs_sign && next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
            None => break,
        }
    }
    out
}

/// Every `docs/<name>.md` in `text`, with the sections cited right after it.
fn extract_refs(text: &str) -> Vec<Ref> {
    refs_under(text, "docs/")
}

/// Every `<prefix><name>.md` in `text`, with the sections cited right after it. (The tests of
/// the extractor use another prefix, so that their planted bad references are not taken for
/// real ones when the whole repository is scanned.)
fn refs_under(text: &str, prefix: &str) -> Vec<Ref> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find(prefix) {
        let start = from + pos;
        from = start + prefix.len();
        // The prefix must begin a path, not end one (`foo/docs/…` is another file).
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || "_./-".contains(c)) {
            continue;
        }
        let name_len = text[from..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(text.len() - from);
        let name = &text[from..from + name_len];
        let Some(after) = text[from + name_len..].strip_prefix(".md") else {
            continue;
        };
        let line = text[..start].matches('\n').count() + 1;
        let doc = format!("{prefix}{name}.md");
        let sections = sections_after(after);
        if sections.is_empty() {
            out.push(Ref {
                line,
                doc,
                section: None,
            });
        } else {
            out.extend(sections.into_iter().map(|s| Ref {
                line,
                doc: doc.clone(),
                section: Some(s),
            }));
        }
    }
    out
}

/// Section numbers of the headings of a markdown text (`## 6.3 …`, `# 1. …`, `#### 5.5.1 …`),
/// outside fenced code blocks.
fn heading_sections(markdown: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for l in markdown.lines() {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !l.starts_with('#') {
            continue;
        }
        let title = l.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        if let Some((num, _)) = section_number(title.trim_start()) {
            out.insert(num);
        }
    }
    out
}

/// Problems with the references of one file, given the documents (path → heading numbers).
fn check_refs(file: &str, text: &str, docs: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    check_refs_under(file, text, "docs/", docs)
}

fn check_refs_under(
    file: &str,
    text: &str,
    prefix: &str,
    docs: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for r in refs_under(text, prefix) {
        match (docs.get(&r.doc), &r.section) {
            (None, _) => out.push(format!("{file}:{}: {} does not exist", r.line, r.doc)),
            (Some(sections), Some(s)) if !sections.contains(s) => {
                out.push(format!("{file}:{}: {} has no section {s}", r.line, r.doc))
            }
            _ => {}
        }
    }
    out
}

fn docs_index(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    text_files(root, "docs")
        .into_iter()
        .filter(|(path, _)| path.ends_with(".md"))
        .map(|(path, text)| (path, heading_sections(&text)))
        .collect()
}

#[test]
fn no_file_cites_the_external_notes() {
    let root = root();
    let needles = forbidden();
    let hits: Vec<String> = NO_EXTERNAL_REFS_IN
        .iter()
        .flat_map(|d| text_files(&root, d))
        .flat_map(|(f, t)| external_refs(&f, &t, &needles))
        .collect();
    assert!(
        hits.is_empty(),
        "{} line(s) cite notes outside the repository (run scripts/rewrite-doc-refs.sh):\n{}",
        hits.len(),
        hits.join("\n")
    );
}

#[test]
fn every_docs_section_reference_resolves() {
    let root = root();
    let docs = docs_index(&root);
    for d in ["docs/protocol.md", "docs/behaviour.md", "docs/style.md"] {
        assert!(docs.contains_key(d), "{d} is missing");
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for (f, t) in REFS_CHECKED_IN.iter().flat_map(|d| text_files(&root, d)) {
        checked += extract_refs(&t)
            .iter()
            .filter(|r| r.section.is_some())
            .count();
        problems.extend(check_refs(&f, &t, &docs));
    }
    assert!(
        problems.is_empty(),
        "{} unresolved reference(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The code cites well over a hundred sections; finding none would mean the extractor broke.
    assert!(checked > 100, "only {checked} section references found");
}

/// The numbering of docs/protocol.md and docs/behaviour.md is what old citations were
/// rewritten against: every section those notes had must exist.
#[test]
fn reference_docs_keep_their_section_numbers() {
    let docs = docs_index(&root());
    let protocol: Vec<&str> = vec![
        "0", "1", "2", "3", "3.1", "3.2", "3.3", "3.4", "4", "4.1", "4.2", "4.3", "4.4", "4.5",
        "4.6", "5", "5.1", "5.2", "6", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "7", "8",
        "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "9", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6",
        "9.7", "9.8", "9.9", "10", "11", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7",
        "12", "13", "14", "15",
    ];
    let behaviour: Vec<&str> = vec![
        "0", "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.8.1", "1.9", "1.9.1",
        "1.9.2", "1.9.3", "1.9.4", "1.10", "1.11", "2", "2.1", "2.2", "3", "3.1", "3.2", "3.3",
        "3.4", "3.5", "4", "5", "5.1", "5.2", "5.3", "5.4", "5.5", "5.5.1", "5.5.2", "5.5.3",
        "5.6", "5.7", "6", "7", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9",
        "7.10", "7.11", "8", "9", "10", "11", "12", "12.1", "13", "13.1", "13.2", "13.3", "14",
        "14.1", "14.2", "14.3", "14.4", "15", "16",
    ];
    for (doc, want) in [
        ("docs/protocol.md", protocol),
        ("docs/behaviour.md", behaviour),
    ] {
        let have = &docs[doc];
        let missing: Vec<&&str> = want.iter().filter(|s| !have.contains(**s)).collect();
        assert!(missing.is_empty(), "{doc} lacks sections {missing:?}");
    }
}

fn fake_docs() -> BTreeMap<String, BTreeSet<String>> {
    let md = "# Title\n## 1. One\n### 1.2 Sub\n```\n## 9.9 in a code block\n```\n## 6. Six\n\
              #### 5.5.1 Deep\n## 11. Eleven\n### 11.5 P\n### 11.6 Q\n";
    BTreeMap::from([
        ("notes/a.md".to_string(), heading_sections(md)),
        ("notes/b.md".to_string(), BTreeSet::new()),
    ])
}

#[test]
fn extractor_finds_single_listed_ranged_and_continued_references() {
    let text = "//! see notes/a.md §1.2 and notes/b.md.\n\
                /// (notes/a.md §1, §6–§11, §5.5.1) then notes/a.md §11.5–11.6.\n\
                /// Adds fields (notes/a.md\n/// §6): trailing dot notes/a.md §6.\n\
                # notes/a.md §1.2/§6 and notes/a.md section 3 is not a citation\n";
    let got: Vec<(usize, String, Option<String>)> = refs_under(text, "notes/")
        .into_iter()
        .map(|r| (r.line, r.doc, r.section))
        .collect();
    let want = |line: usize, doc: &str, section: Option<&str>| {
        (line, doc.to_string(), section.map(str::to_string))
    };
    assert_eq!(
        got,
        vec![
            want(1, "notes/a.md", Some("1.2")),
            want(1, "notes/b.md", None),
            want(2, "notes/a.md", Some("1")),
            want(2, "notes/a.md", Some("6")),
            want(2, "notes/a.md", Some("11")),
            want(2, "notes/a.md", Some("5.5.1")),
            want(2, "notes/a.md", Some("11.5")),
            want(2, "notes/a.md", Some("11.6")),
            want(3, "notes/a.md", Some("6")),
            want(4, "notes/a.md", Some("6")),
            want(5, "notes/a.md", Some("1.2")),
            want(5, "notes/a.md", Some("6")),
            want(5, "notes/a.md", None),
        ]
    );
    assert!(check_refs_under("x.rs", text, "notes/", &fake_docs()).is_empty());
}

#[test]
fn a_planted_bad_reference_fails_with_file_line_and_section() {
    let text = "fn f() {}\n// fine: notes/a.md §1.2\n// bad: notes/a.md §7.3, §6\n\
                // bad range end: notes/a.md §11.5–11.9\n// no such file: notes/zzz.md §1\n\
                // code blocks do not count: notes/a.md §9.9\n";
    assert_eq!(
        check_refs_under("crates/x/src/lib.rs", text, "notes/", &fake_docs()),
        vec![
            "crates/x/src/lib.rs:3: notes/a.md has no section 7.3",
            "crates/x/src/lib.rs:4: notes/a.md has no section 11.9",
            "crates/x/src/lib.rs:5: notes/zzz.md does not exist",
            "crates/x/src/lib.rs:6: notes/a.md has no section 9.9",
        ]
    );
}

#[test]
fn a_planted_external_citation_fails_with_file_and_line() {
    let needles = forbidden();
    let text = format!(
        "ok\n// see {}/protocol.md §4\n// and {} §6.3\n",
        needles[0], needles[1]
    );
    let hits = external_refs("bin/x.rs", &text, &needles);
    assert_eq!(hits.len(), 2);
    assert!(hits[0].starts_with("bin/x.rs:2: "), "{hits:?}");
    assert!(hits[1].starts_with("bin/x.rs:3: "), "{hits:?}");
}
