//! cluster-glue's `stonith` command: the arguments for a configured device,
//! the device's identification, running it, and the `--check-config` lookups
//! of device types (docs/behaviour.md §3.3, §5.5.2). Blocking: call it from
//! helper processes or one-shot commands, never from the master loop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use hb_config::{ConfigError, Device, DeviceConfig, DeviceLookup, HaCf, StonithProblem};

use crate::hb_log;
use crate::logging::Prio;

/// What a running STONITH helper does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StonithJob {
    /// Resetting this node.
    Reset(String),
    /// Checking the device's status.
    Check,
}

/// cluster-glue's command-line front end to the STONITH plugins.
pub const STONITH_COMMAND: &str = "/usr/sbin/stonith";
/// Where cluster-glue's `external` plugin finds its sub-plugins.
pub const EXTERNAL_PLUGIN_DIR: &str = "/usr/lib/stonith/plugins/external";

/// cluster-glue's `S_BADHOST`, the `stonith` command's exit status for it.
pub const S_BADHOST: i32 = 4;

/// The `stonith` arguments that configure `device` (`-t TYPE -p PARAMS` or
/// `-t TYPE -F FILE`).
pub fn device_args(device: &Device) -> Vec<String> {
    let mut v = vec!["-t".to_string(), device.stonith_type.clone()];
    match &device.config {
        DeviceConfig::Params(p) => v.extend(["-p".to_string(), p.clone()]),
        DeviceConfig::File(f) => v.extend(["-F".to_string(), f.clone()]),
    }
    v
}

/// The device's identification (the C `stonith_get_info(s, ST_DEVICEID)`):
/// an `external/<name>` plugin's `getinfo-devid` output (verbatim, as
/// cluster-glue returns it), the fixed name of a
/// compiled plugin, else the type.
pub fn device_id(stonith_type: &str) -> String {
    if let Some(name) = stonith_type.strip_prefix("external/") {
        let path = Path::new(EXTERNAL_PLUGIN_DIR).join(name);
        if let Ok(out) = Command::new(&path)
            .arg("getinfo-devid")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        {
            // verbatim, trailing newline included: the C logs
            // `Resetting node X with [<id>\n]` just the same
            if out.status.success() && !out.stdout.is_empty() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
        }
        return stonith_type.to_string();
    }
    compiled_device_id(stonith_type)
        .unwrap_or(stonith_type)
        .to_string()
}

/// `DEVICE` of cluster-glue's compiled plugins.
fn compiled_device_id(stonith_type: &str) -> Option<&'static str> {
    Some(match stonith_type {
        "apcmaster" => "APC MasterSwitch",
        "apcmastersnmp" => "APC MasterSwitch (SNMP)",
        "apcsmart" => "APCSmart",
        "baytech" => "BayTech power switch",
        "bladehpi" => "IBM BladeCenter (OpenHPI)",
        "cyclades" => "Cyclades AlterPath PM",
        "drac3" => "Dell DRACIII Card",
        "ibmhmc" => "IBM HMC",
        "ipmilan" => "IPMI Over LAN",
        "meatware" => "Meatware STONITH device",
        "null" => "NULL STONITH device",
        "nw_rpc100s" => "NW RPC100S Power Switch",
        "rcd_serial" => "RC Delayed Serial",
        "riloe" => "Compaq RILOE",
        "rps10" => "WTI RPS10 Power Switch",
        "ssh" => "SSH STONITH device",
        "suicide" => "Suicide STONITH device",
        "wti_mpc" => "WTI MPC",
        "wti_nps" => "WTI Network Power Switch",
        _ => return None,
    })
}

/// Runs `stonith ARGS` (blocking: only in a helper). Returns its exit code
/// (-1 when it could not run or was killed).
pub fn run_stonith(args: &[String]) -> i32 {
    let out = Command::new(STONITH_COMMAND)
        .args(args)
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => {
            for line in String::from_utf8_lossy(&out.stderr)
                .lines()
                .chain(String::from_utf8_lossy(&out.stdout).lines())
                .filter(|l| !l.trim().is_empty())
            {
                hb_log!(Prio::Debug, "stonith: {line}");
            }
            out.status.code().unwrap_or(-1)
        }
        Err(e) => {
            hb_log!(Prio::Error, "Cannot run {STONITH_COMMAND}: {e}");
            -1
        }
    }
}

/// `--check-config`: asks `stonith -t TYPE -n` for every type.
pub struct CommandLookup;

impl DeviceLookup for CommandLookup {
    fn config_names(&self, stonith_type: &str) -> Result<Option<Vec<String>>, StonithProblem> {
        if !Path::new(STONITH_COMMAND).exists() {
            return Err(StonithProblem::NoStonithCommand {
                command: STONITH_COMMAND.to_string(),
            });
        }
        let out = Command::new(STONITH_COMMAND)
            .args(["-t", stonith_type, "-n"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|_| StonithProblem::NoStonithCommand {
                command: STONITH_COMMAND.to_string(),
            })?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        ))
    }

    fn unreadable(&self, path: &str) -> Option<String> {
        std::fs::File::open(PathBuf::from(path))
            .err()
            .map(|e| e.to_string())
    }
}

/// Checks the `stonith` / `stonith_host` lines of `hacf` (read from
/// `hacf_path`) against the installed plugins.
pub fn check(hacf_path: &Path, hacf: &HaCf) -> Vec<ConfigError> {
    if hacf.stonith.is_empty() && hacf.stonith_host.is_empty() {
        return Vec::new();
    }
    hb_config::check_devices(hacf_path, &hacf.stonith, &hacf.stonith_host, &CommandLookup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_for_both_line_forms() {
        let d = Device {
            stonith_type: "external/ssh".into(),
            config: DeviceConfig::Params("nodea nodeb".into()),
            line: 3,
        };
        assert_eq!(device_args(&d), ["-t", "external/ssh", "-p", "nodea nodeb"]);
        let d = Device {
            stonith_type: "baytech".into(),
            config: DeviceConfig::File("/etc/ha.d/bt.cfg".into()),
            line: 4,
        };
        assert_eq!(device_args(&d), ["-t", "baytech", "-F", "/etc/ha.d/bt.cfg"]);
    }

    #[test]
    fn compiled_plugins_name_their_device() {
        assert_eq!(device_id("null"), "NULL STONITH device");
        assert_eq!(device_id("meatware"), "Meatware STONITH device");
        assert_eq!(device_id("no-such-type"), "no-such-type");
    }
}
