//! `load()` over a real directory: file order, authkeys mode check, and
//! haresources nodes checked against the ha.cf node table.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use hb_config::{load, ConfigErrorKind as K, FakeSystem, Method};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary configuration directory removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("hb-config-load-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Dir(path)
    }
    fn write(&self, name: &str, text: &str, mode: u32) -> &Dir {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        self
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const HACF: &str = "logfile /var/log/ha-log\nkeepalive 1\ndeadtime 5\nauto_failback on\n\
ucast lo 127.0.0.1\nping 198.18.0.1\nnode vm ghost\n";

fn good() -> Dir {
    let d = Dir::new();
    d.write("ha.cf", HACF, 0o644)
        .write("authkeys", "auth 1\n1 sha1 secret\n", 0o600)
        .write(
            "haresources",
            "vm HBTestDummy::local\nGHOST HBTestDummy::foreign\n",
            0o644,
        );
    d
}

#[test]
fn loads_all_three_files() {
    let d = good();
    let loaded = load(d.path(), "vm", &FakeSystem::default()).expect("valid directory");
    assert_eq!(loaded.hacf.nodes, vec!["vm", "ghost"]);
    assert_eq!(
        loaded.authkeys.active_key(),
        Some((Method::Sha1, &b"secret"[..]))
    );
    assert_eq!(loaded.resources.len(), 2);
    assert_eq!(loaded.resources[1].node, "ghost");
    assert_eq!(loaded.resources[1].key(), "HBTestDummy::foreign");
    assert!(!loaded.warnings.is_empty());
}

#[test]
fn authkeys_mode_is_checked_before_content() {
    let d = good();
    d.write("authkeys", "garbage\n", 0o644);
    let errs = load(d.path(), "vm", &FakeSystem::default()).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].kind, K::BadPermissions { mode: 0o644 });
    assert_eq!(errs[0].file, d.path().join("authkeys"));
    assert!(
        errs[0].to_string().ends_with("600 recommended"),
        "{}",
        errs[0]
    );
}

#[test]
fn hacf_errors_stop_before_authkeys() {
    let d = Dir::new();
    d.write("ha.cf", "node vm\nbogus 1\n", 0o644);
    let errs = load(d.path(), "vm", &FakeSystem::default()).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].kind,
        K::UnknownDirective {
            name: "bogus".into()
        }
    );
}

#[test]
fn missing_files_are_reported() {
    let d = Dir::new();
    let errs = load(d.path(), "vm", &FakeSystem::default()).unwrap_err();
    assert!(matches!(&errs[0].kind, K::Io { .. }));
    assert_eq!(errs[0].file, d.path().join("ha.cf"));
    let d = good();
    std::fs::remove_file(d.path().join("haresources")).expect("rm");
    let errs = load(d.path(), "vm", &FakeSystem::default()).unwrap_err();
    assert_eq!(errs[0].file, d.path().join("haresources"));
}

#[test]
fn haresources_node_must_be_in_node_table() {
    let d = good();
    d.write("haresources", "vm a\nother b\n198.18.0.1 c\n", 0o644);
    let errs = load(d.path(), "vm", &FakeSystem::default()).unwrap_err();
    // A ping node passes the C daemon's check too; only `other` is bad.
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].line, Some(2));
    assert!(matches!(&errs[0].kind, K::BadNodeName { name, .. } if name == "other"));
}
