//! Checks of the source tree's shape that the compiler does not make:
//!
//! * hb-daemon's module graph has no cycle. A module depends on another when
//!   its code names it by path: `use crate::a::B`, `crate::a::f()`,
//!   `super::X`, `self::x::Y`, or a child module's name (`children::f`). A
//!   parent declaring `mod child;` is containment, not a dependency; an
//!   `impl Master` block in a child module is the child depending on the
//!   parent. Glob imports count (`use super::*` depends on the parent).
//! * no non-test source file under `crates/` and `bin/` is over 800 lines.
//!
//! Both analyses are exercised on small made-up trees first, so a broken
//! analysis cannot make the real checks pass vacuously.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest a non-test source file may be.
const MAX_LINES: usize = 800;

// ----- a small lexer: identifiers and punctuation, no comments/literals ----

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

fn lex(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if (ch == 'r' || ch == 'b')
            && !prev_is_ident(&c, i)
            && raw_string_start(&c, i).is_some()
        {
            let (hashes, body) = raw_string_start(&c, i).unwrap_or((0, i + 1));
            i = body;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
        } else if ch.is_alphabetic() || ch == '_' || ch == '$' {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // `$crate` in a macro is the crate root.
            out.push(Tok::Ident(word.trim_start_matches('$').to_string()));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push(Tok::PathSep);
            i += 2;
        } else if ch.is_whitespace() || ch.is_ascii_digit() {
            i += 1;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

fn prev_is_ident(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

/// `r"`, `r#"`, `br"`, `b"`...: the number of `#` and where the body starts.
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
        if c.get(j) == Some(&'"') {
            return Some((0, j + 1));
        }
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

// ----- modules and their path references ----------------------------------

/// A module path below the crate root, e.g. `["mcp", "children"]`.
type ModPath = Vec<String>;

#[derive(Debug, Default)]
struct Module {
    /// Child modules by name (file or inline).
    children: BTreeSet<String>,
    /// Paths named in this module's own code, resolved to absolute paths.
    refs: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
struct Crate {
    modules: BTreeMap<ModPath, Module>,
    /// `#[macro_export]` macros: name → defining module.
    macros: BTreeMap<String, ModPath>,
}

/// Reads the crate whose root file is `root` (lib.rs), following `mod x;`.
fn read_crate(root: &Path) -> Crate {
    let mut krate = Crate::default();
    read_module_file(&mut krate, root, Vec::new());
    krate
}

/// The directory a file's `mod x;` declarations are looked up in:
/// `lib.rs`, `main.rs` and `mod.rs` own their directory, `foo.rs` owns `foo/`.
fn owned_dir(file: &Path) -> PathBuf {
    let owns_parent = file
        .file_name()
        .is_some_and(|f| f == "lib.rs" || f == "main.rs" || f == "mod.rs");
    if owns_parent {
        file.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        file.with_extension("")
    }
}

fn read_module_file(krate: &mut Crate, file: &Path, path: ModPath) {
    let src = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let toks = lex(&src);
    let mut file_children = Vec::new();
    scan(krate, &toks, path.clone(), &mut file_children);
    for (rel, name) in file_children {
        let mut dir = owned_dir(file);
        dir.extend(rel.iter());
        let child = [
            dir.join(format!("{name}.rs")),
            dir.join(&name).join("mod.rs"),
        ]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("module {name} declared in {} has no file", file.display()));
        let mut p = path.clone();
        p.extend(rel);
        p.push(name);
        read_module_file(krate, &child, p);
    }
}

/// Walks one file's tokens: records modules, their children and the paths
/// they name; `file_children` gets the `mod x;` declarations as (inline
/// module path relative to the file's module, name).
fn scan(
    krate: &mut Crate,
    toks: &[Tok],
    file_mod: ModPath,
    file_children: &mut Vec<(ModPath, String)>,
) {
    krate.modules.entry(file_mod.clone()).or_default();
    // Stack of (module path, brace depth at which it closes).
    let mut stack: Vec<(ModPath, usize)> = vec![(file_mod.clone(), usize::MAX)];
    let mut depth = 0usize;
    let mut pending_export = false;
    let mut i = 0;
    // First pass: module structure, so child-name paths can be recognised
    // before their declaration.
    let mut j = 0;
    {
        let mut st: Vec<(ModPath, usize)> = vec![(file_mod.clone(), usize::MAX)];
        let mut d = 0usize;
        while j < toks.len() {
            match &toks[j] {
                Tok::Punct('{') => d += 1,
                Tok::Punct('}') => {
                    d = d.saturating_sub(1);
                    while st.len() > 1 && st.last().is_some_and(|(_, at)| *at == d) {
                        st.pop();
                    }
                }
                Tok::Ident(w) if w == "mod" => {
                    if let (Some(Tok::Ident(name)), Some(next)) = (toks.get(j + 1), toks.get(j + 2))
                    {
                        let cur = st.last().map(|s| s.0.clone()).unwrap_or_default();
                        krate
                            .modules
                            .entry(cur.clone())
                            .or_default()
                            .children
                            .insert(name.clone());
                        let mut child = cur.clone();
                        child.push(name.clone());
                        krate.modules.entry(child.clone()).or_default();
                        if *next == Tok::Punct('{') {
                            st.push((child, d));
                        } else if *next == Tok::Punct(';') {
                            file_children.push((cur[file_mod.len()..].to_vec(), name.clone()));
                        }
                    }
                }
                _ => {}
            }
            j += 1;
        }
    }
    while i < toks.len() {
        match &toks[i] {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                while stack.len() > 1 && stack.last().is_some_and(|(_, at)| *at == depth) {
                    stack.pop();
                }
            }
            Tok::Punct('#') => {
                if let (Some(Tok::Punct('[')), Some(Tok::Ident(a))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    if a == "macro_export" {
                        pending_export = true;
                    }
                }
            }
            Tok::Ident(w) if w == "macro_rules" && pending_export => {
                if let Some(Tok::Ident(name)) = toks.get(i + 2) {
                    let cur = stack.last().map(|s| s.0.clone()).unwrap_or_default();
                    krate.macros.insert(name.clone(), cur);
                }
                pending_export = false;
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct('{'))) =
                    (toks.get(i + 1), toks.get(i + 2))
                {
                    let mut child = stack.last().map(|s| s.0.clone()).unwrap_or_default();
                    child.push(name.clone());
                    stack.push((child, depth));
                    depth += 1;
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(_) if i == 0 || toks[i - 1] != Tok::PathSep => {
                let cur = stack.last().map(|s| s.0.clone()).unwrap_or_default();
                let (paths, next) = read_path(toks, i);
                for p in paths {
                    if let Some(abs) = absolute(krate, &cur, &p) {
                        krate.modules.entry(cur.clone()).or_default().refs.push(abs);
                    }
                }
                if next > i + 1 {
                    i = next;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// Reads the path (or `use` tree) starting at `toks[i]`: every full path it
/// names, and the index after it.
fn read_path(toks: &[Tok], i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut k = i;
    while let Some(Tok::Ident(w)) = toks.get(k) {
        prefix.push(w.clone());
        if toks.get(k + 1) != Some(&Tok::PathSep) {
            return (vec![prefix], k + 1);
        }
        k += 2;
        match toks.get(k) {
            Some(Tok::Punct('{')) => {
                let (subs, end) = read_tree(toks, k + 1);
                let all = subs
                    .into_iter()
                    .map(|s| {
                        let mut p = prefix.clone();
                        p.extend(s);
                        p
                    })
                    .collect();
                return (all, end);
            }
            Some(Tok::Punct('*')) => {
                prefix.push("*".into());
                return (vec![prefix], k + 1);
            }
            _ => {}
        }
    }
    (vec![prefix], k.max(i + 1))
}

/// The comma-separated trees inside `{ ... }`, from after the `{`.
fn read_tree(toks: &[Tok], mut k: usize) -> (Vec<Vec<String>>, usize) {
    let mut out = Vec::new();
    while k < toks.len() {
        match &toks[k] {
            Tok::Punct('}') => return (out, k + 1),
            Tok::Punct(',') => k += 1,
            Tok::Ident(_) => {
                let (paths, next) = read_path(toks, k);
                out.extend(paths);
                // `a as b`
                k = next;
                if toks.get(k) == Some(&Tok::Ident("as".into())) {
                    k += 2;
                }
            }
            Tok::Punct('*') => {
                out.push(vec!["*".to_string()]);
                k += 1;
            }
            _ => k += 1,
        }
    }
    (out, k)
}

/// The absolute module path a path in module `cur` points into (the longest
/// prefix that is a module), or `None` when it names no module of ours.
fn absolute(krate: &Crate, cur: &ModPath, p: &[String]) -> Option<Vec<String>> {
    let first = p.first()?;
    let mut abs: Vec<String>;
    let rest: &[String];
    match first.as_str() {
        "crate" => {
            if p.len() < 2 {
                return None;
            }
            if let Some(m) = krate.macros.get(&p[1]) {
                return Some(m.clone());
            }
            abs = Vec::new();
            rest = &p[1..];
        }
        "super" | "self" => {
            if p.len() < 2 {
                return None; // `pub(super)`, `&self`
            }
            abs = cur.clone();
            let mut n = 0;
            while n < p.len() && (p[n] == "super" || p[n] == "self") {
                if p[n] == "super" {
                    abs.pop();
                }
                n += 1;
            }
            rest = &p[n..];
        }
        name if p.len() >= 2
            && krate
                .modules
                .get(cur)
                .is_some_and(|m| m.children.contains(name)) =>
        {
            abs = cur.clone();
            rest = p;
        }
        _ => return None,
    }
    for seg in rest {
        let mut next = abs.clone();
        next.push(seg.clone());
        if krate.modules.contains_key(&next) {
            abs = next;
        } else {
            break;
        }
    }
    Some(abs)
}

/// Module → the other modules it names.
fn graph(krate: &Crate) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut g: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (m, info) in &krate.modules {
        let e = g.entry(m.clone()).or_default();
        for r in &info.refs {
            // A module naming its own items is no dependency.
            if r != m {
                e.insert(r.clone());
            }
        }
    }
    g
}

fn show(p: &ModPath) -> String {
    if p.is_empty() {
        "crate".into()
    } else {
        format!("crate::{}", p.join("::"))
    }
}

/// A cycle in `g`, as the list of modules on it, if there is one.
fn find_cycle(g: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &ModPath,
        g: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<String>> {
        marks.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match marks.get(m).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cyc: Vec<String> = stack[from..].iter().map(show).collect();
                    cyc.push(show(m));
                    return Some(cyc);
                }
                Mark::New => {
                    if let Some(c) = visit(m, g, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for n in g.keys() {
        if marks.get(n).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(n, g, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn cycle_of(root: &Path) -> Option<Vec<String>> {
    find_cycle(&graph(&read_crate(root)))
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

// ----- the analysis on made-up crates ---------------------------------------

struct Tree(PathBuf);

impl Tree {
    fn new(name: &str, files: &[(&str, &str)]) -> Tree {
        let dir = std::env::temp_dir().join(format!("hb-structure-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Tree(dir)
    }
    fn root(&self) -> PathBuf {
        self.0.join("src/lib.rs")
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_analysis_finds_a_cycle_between_sibling_modules() {
    let t = Tree::new(
        "siblings",
        &[
            ("src/lib.rs", "pub mod a;\npub mod b;\n"),
            ("src/a.rs", "use crate::b::f;\npub fn g() { f() }\n"),
            ("src/b.rs", "pub fn f() { crate::a::g() }\n"),
        ],
    );
    let cyc = cycle_of(&t.root()).expect("a ↔ b is a cycle");
    assert!(cyc.contains(&"crate::a".to_string()) && cyc.contains(&"crate::b".to_string()));
}

#[test]
fn the_analysis_finds_a_glob_import_of_the_parent_that_imports_the_child() {
    let t = Tree::new(
        "glob",
        &[
            ("src/lib.rs", "pub mod mcp;\n"),
            (
                "src/mcp/mod.rs",
                "mod kid;\nuse kid::helper;\npub struct Master;\n",
            ),
            (
                "src/mcp/kid.rs",
                "use super::*;\npub(super) fn helper() {}\nimpl Master {}\n",
            ),
        ],
    );
    assert_eq!(
        cycle_of(&t.root()),
        Some(vec![
            "crate::mcp".to_string(),
            "crate::mcp::kid".to_string(),
            "crate::mcp".to_string()
        ])
    );
}

#[test]
fn the_analysis_accepts_a_tree_and_ignores_comments_strings_and_tests() {
    let t = Tree::new(
        "clean",
        &[
            (
                "src/lib.rs",
                "pub mod mcp;\npub mod version;\n#[macro_export]\nmacro_rules! say { () => { $crate::version::V } }\n",
            ),
            ("src/version.rs", "pub const V: &str = \"1\";\n"),
            (
                "src/mcp/mod.rs",
                "mod kid;\nuse crate::version::V;\npub struct Master;\n// crate::mcp::kid::f\nconst S: &str = \"super::kid::x crate::mcp::kid\";\nimpl Master { pub(super) fn v(&self) -> &'static str { V } }\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            ),
            (
                "src/mcp/kid.rs",
                "use super::Master;\nuse crate::{say, version::{self, V as W}};\nimpl Master { fn k(&self) -> char { let _ = (W, version::V, say!()); 'x' } }\n",
            ),
        ],
    );
    assert_eq!(cycle_of(&t.root()), None);
    let krate = read_crate(&t.root());
    let g = graph(&krate);
    let kid = vec!["mcp".to_string(), "kid".to_string()];
    let deps: Vec<String> = g[&kid].iter().map(show).collect();
    assert_eq!(deps, ["crate", "crate::mcp", "crate::version"]);
    let mcp = vec!["mcp".to_string()];
    let deps: Vec<String> = g[&mcp].iter().map(show).collect();
    assert_eq!(deps, ["crate::version"]);
}

// ----- the real checks -------------------------------------------------------

#[test]
fn hb_daemon_module_graph_has_no_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let krate = read_crate(&root);
    assert!(
        krate.modules.len() > 20,
        "the analysis found only {} modules in hb-daemon",
        krate.modules.len()
    );
    if let Some(cyc) = find_cycle(&graph(&krate)) {
        panic!(
            "hb-daemon's modules depend on each other in a cycle: {}\n\
             Move what both need into a leaf module (see docs/architecture.md, hb-daemon's module map).",
            cyc.join(" → ")
        );
    }
}

#[test]
fn the_master_does_not_depend_on_the_command_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
    let g = graph(&read_crate(&root));
    let cli = vec!["cli".to_string()];
    for (m, deps) in &g {
        if m.first().map(String::as_str) == Some("mcp") {
            assert!(!deps.contains(&cli), "{} names crate::cli", show(m));
        }
    }
    // Only the binary's entry point reaches the command-line module.
    let users: Vec<String> = g
        .iter()
        .filter(|(m, d)| !m.starts_with(&cli) && d.contains(&cli))
        .map(|(m, _)| show(m))
        .collect();
    assert!(users.is_empty(), "modules that name crate::cli: {users:?}");
}

/// A test-only file: under a `tests`/`benches` directory, or named
/// `tests.rs` / `*_tests.rs` (included with `#[cfg(test)]`).
fn is_test_file(p: &Path) -> bool {
    p.components()
        .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches")
        || p.file_name()
            .and_then(|f| f.to_str())
            .is_some_and(|f| f == "tests.rs" || f.ends_with("_tests.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn long_files(dirs: &[PathBuf]) -> Vec<(PathBuf, usize)> {
    let mut files = Vec::new();
    for d in dirs {
        rust_files(d, &mut files);
    }
    let mut long: Vec<(PathBuf, usize)> = files
        .into_iter()
        .filter(|p| !is_test_file(p))
        .filter_map(|p| {
            let n = std::fs::read_to_string(&p).ok()?.lines().count();
            (n > MAX_LINES).then_some((p, n))
        })
        .collect();
    long.sort();
    long
}

#[test]
fn the_length_check_sees_a_long_file_and_skips_test_files() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let t = Tree::new(
        "long",
        &[
            ("crates/x/src/big.rs", long.as_str()),
            ("crates/x/src/big_tests.rs", long.as_str()),
            ("crates/x/tests/it.rs", long.as_str()),
            ("crates/x/src/ok.rs", "fn f() {}\n"),
        ],
    );
    let found = long_files(&[t.0.join("crates")]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].0.ends_with("crates/x/src/big.rs"));
}

#[test]
fn no_source_file_is_over_800_lines() {
    let ws = workspace();
    let dirs = [ws.join("crates"), ws.join("bin")];
    let mut all = Vec::new();
    rust_files(&dirs[0], &mut all);
    assert!(
        all.len() > 50,
        "found only {} files under crates/",
        all.len()
    );
    let long = long_files(&dirs);
    assert!(
        long.is_empty(),
        "non-test source files over {MAX_LINES} lines (split them by concern): {:?}",
        long.iter()
            .map(|(p, n)| format!("{} ({n})", p.strip_prefix(&ws).unwrap_or(p).display()))
            .collect::<Vec<_>>()
    );
}
