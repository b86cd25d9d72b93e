//! Loading the configuration from disk the way a start does: ha.cf,
//! haresources and authkeys. Used by the start, by the one-shot commands
//! (`-r`, `--check-config`) and by SIGHUP handling.

use hb_proto::auth::KeyRing;

use crate::paths::{local_node_name, Paths};

/// Loads and validates the whole configuration the way a start would.
pub fn load_config(paths: &Paths) -> Result<hb_config::Loaded, Vec<hb_config::ConfigError>> {
    let node = local_node_name(&paths.nodeinfo(), &hb_sys::host::nodename());
    let loaded = hb_config::load(&paths.confdir, &node, &hb_config::RealSystem)?;
    // STONITH devices are checked against cluster-glue (docs/behaviour.md §3.3)
    let errors = crate::stonith_cmd::check(&paths.confdir.join(hb_config::HACF), &loaded.hacf);
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// Reads and checks authkeys into a key ring (also used on SIGHUP).
pub fn read_keys(paths: &Paths) -> Result<KeyRing, Vec<String>> {
    let path = paths.authkeys();
    let keys = hb_config::load_authkeys(&path)
        .map_err(|errs| errs.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    KeyRing::new(keys.active, keys.keys).map_err(|e| vec![format!("{}: {e}", path.display())])
}
