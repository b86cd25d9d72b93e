//! Network faults injected inside one node's network namespace.
//!
//! Packet loss uses nftables (`numgen random mod 100 < N drop` on the netdev ingress and
//! egress hooks of the interface) because the kernels we run on may lack `sch_netem`; delay is
//! therefore not offered.  A cut is `ip link set IFACE down` inside the node: the daemon sees
//! its interface go away, exactly as with an unplugged cable on a real machine.

use std::process::Command;

use crate::error::{Error, Result};
use crate::node::{Node, EXEC_TIMEOUT};
use crate::nodefs;
use crate::proc;

/// Which traffic a loss rule drops, seen from the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What the node sends.
    Out,
    /// What the node receives.
    In,
    /// Both.
    Both,
}

fn check_iface(iface: &str) -> Result<()> {
    let ok = !iface.is_empty()
        && iface.len() <= 15
        && iface
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("invalid interface name {iface:?}")))
    }
}

fn table(iface: &str) -> String {
    format!("hbt_{}", iface.replace('-', "_"))
}

/// The nftables ruleset that drops `percent` % of `iface`'s traffic in `dir`.
fn loss_ruleset(iface: &str, percent: u8, dir: Direction) -> String {
    let mut chains = String::new();
    // numgen's range is 0..=99, so "< 100" is rejected: total loss is a plain drop.
    let rule = if percent >= 100 {
        "counter drop".to_string()
    } else {
        format!("numgen random mod 100 < {percent} counter drop")
    };
    if matches!(dir, Direction::Out | Direction::Both) {
        chains.push_str(&format!(
            "  chain out {{ type filter hook egress device \"{iface}\" priority 0; {rule}; }}\n"
        ));
    }
    if matches!(dir, Direction::In | Direction::Both) {
        chains.push_str(&format!(
            "  chain in {{ type filter hook ingress device \"{iface}\" priority 0; {rule}; }}\n"
        ));
    }
    format!("table netdev {} {{\n{chains}}}\n", table(iface))
}

impl Node {
    fn in_netns(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.netns()]).args(args);
        cmd
    }

    /// Drops `percent` % of the packets `iface` sends and receives (replaces earlier loss).
    pub fn loss(&self, iface: &str, percent: u8) -> Result<()> {
        self.loss_dir(iface, percent, Direction::Both)
    }

    /// Drops `percent` % of `iface`'s packets in one direction (replaces earlier loss).
    pub fn loss_dir(&self, iface: &str, percent: u8, dir: Direction) -> Result<()> {
        check_iface(iface)?;
        if percent > 100 {
            return Err(Error::Invalid(format!(
                "loss must be 0..=100 %, got {percent}"
            )));
        }
        self.clear_loss(iface)?;
        if percent == 0 {
            return Ok(());
        }
        let file = self.host_path(&format!("/tmp/hbt-loss-{iface}.nft"))?;
        nodefs::write_file(&file, &loss_ruleset(iface, percent, dir), 0o600)?;
        let file = file.to_string_lossy().into_owned();
        proc::run_ok(&mut self.in_netns(&["nft", "-f", &file]), EXEC_TIMEOUT)?;
        Ok(())
    }

    /// Removes any loss rule on `iface`.
    pub fn clear_loss(&self, iface: &str) -> Result<()> {
        check_iface(iface)?;
        // Fails harmlessly when there is no such table.
        proc::run_bounded(
            &mut self.in_netns(&["nft", "delete", "table", "netdev", &table(iface)]),
            EXEC_TIMEOUT,
        )?;
        Ok(())
    }

    /// Unplugs `iface` (link down inside the node).
    pub fn cut(&self, iface: &str) -> Result<()> {
        self.set_link(iface, "down")
    }

    /// Plugs `iface` back in (link up inside the node).
    pub fn uncut(&self, iface: &str) -> Result<()> {
        self.set_link(iface, "up")
    }

    fn set_link(&self, iface: &str, state: &str) -> Result<()> {
        check_iface(iface)?;
        let mut cmd = Command::new("ip");
        cmd.args(["-n", self.netns(), "link", "set", iface, state]);
        proc::run_ok(&mut cmd, EXEC_TIMEOUT)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_has_one_chain_per_direction() {
        let both = loss_ruleset("eth0", 20, Direction::Both);
        assert!(both.contains("hook egress device \"eth0\"") && both.contains("hook ingress"));
        assert!(both.contains("numgen random mod 100 < 20 counter drop"));
        let out = loss_ruleset("eth1", 5, Direction::Out);
        assert!(out.contains("egress") && !out.contains("ingress"));
        assert!(out.starts_with("table netdev hbt_eth1 {"));
        let all = loss_ruleset("eth0", 100, Direction::In);
        assert!(
            all.contains("priority 0; counter drop;") && !all.contains("numgen"),
            "{all}"
        );
    }

    #[test]
    fn rejects_interface_names_that_could_inject_rules() {
        assert!(check_iface("eth0").is_ok());
        assert!(check_iface("eth0\"; flush ruleset").is_err());
        assert!(check_iface("").is_err());
    }
}
