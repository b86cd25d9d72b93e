//! Command lines of `hb_standby` and `hb_takeover` (docs/behaviour.md §12).
//!
//! Shared by the two binaries and by `hb-mangen`, so the man pages are
//! generated from exactly the parser the tools use. The argument rules copy
//! the 3.0.6 shell scripts (operators' scripts depend on them): at most one
//! word out of `all|foreign|local|failback`, default `all`; anything else
//! prints the scripts' usage text and exits 1 — `--help` included, as the
//! originals did. `--statedir` is our addition so tests can point the tools
//! at a FIFO of their own.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

/// Default state directory holding the daemon's FIFO (docs/behaviour.md §0).
pub const DEFAULT_STATEDIR: &str = "/var/lib/heartbeat";

/// Which of the two administrative tools is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `hb_standby`: give our resources to the peer.
    Standby,
    /// `hb_takeover`: ask the peer to give its resources to us.
    Takeover,
}

impl Tool {
    /// The program name (and man page name).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Standby => "hb_standby",
            Tool::Takeover => "hb_takeover",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Tool::Standby => "Put this node into standby: let the other node take over resources",
            Tool::Takeover => "Take over resources from the other node (it goes standby)",
        }
    }

    fn long_about(self) -> &'static str {
        match self {
            Tool::Standby => {
                "Asks the local heartbeat daemon to give up resources so that the other node \
                 acquires them (standby protocol; needs `auto_failback on` or `off`). \
                 RESOURCES selects the resource groups: `all` (default), `local` (groups whose \
                 preferred node is this one), `foreign` (the others), `failback` (same as \
                 `foreign`). The request is written as one message to the daemon's FIFO \
                 (STATEDIR/fifo, root only) and the command returns at once; the effect is \
                 asynchronous and logged by the daemons. Any other argument, more than one \
                 argument, or --help prints the usage and exits 1."
            }
            Tool::Takeover => {
                "Asks the other node to go standby so that this node acquires resources. \
                 RESOURCES is interpreted from this node's point of view: `all` (default), \
                 `local` (groups whose preferred node is this one), `foreign` (the others); \
                 `failback` is sent as is and means all on the other node. The request is \
                 written as one message to the daemon's FIFO (STATEDIR/fifo, root only) and the \
                 command returns at once. Any other argument, more than one argument, or --help \
                 prints the usage and exits 1."
            }
        }
    }
}

/// The clap command of `tool` (used for parsing and for the man page).
pub fn command(tool: Tool) -> Command {
    Command::new(tool.name())
        .about(tool.about())
        .long_about(tool.long_about())
        .version(env!("CARGO_PKG_VERSION"))
        .disable_version_flag(true)
        .disable_help_flag(true)
        .override_usage(format!(
            "{} [--statedir DIR] [all|foreign|local|failback]",
            tool.name()
        ))
        .arg(
            Arg::new("help")
                .long("help")
                .action(ArgAction::SetTrue)
                .help("Print the usage and exit 1 (as the 3.0.6 script does)"),
        )
        .arg(
            Arg::new("statedir")
                .long("statedir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .default_value(DEFAULT_STATEDIR)
                .help("State directory holding the daemon's FIFO"),
        )
        .arg(
            Arg::new("resources")
                .value_name("RESOURCES")
                .num_args(0..)
                .action(ArgAction::Append)
                .help("all (default), foreign, local or failback"),
        )
}

/// The resource set named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceSet {
    /// `all`.
    All,
    /// `foreign`.
    Foreign,
    /// `local`.
    Local,
    /// `failback`.
    Failback,
}

impl ResourceSet {
    /// Parses one of the four accepted words (case-sensitive, like the scripts).
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "all" => Some(Self::All),
            "foreign" => Some(Self::Foreign),
            "local" => Some(Self::Local),
            "failback" => Some(Self::Failback),
            _ => None,
        }
    }

    /// The word as written in `rsc_hold=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Foreign => "foreign",
            Self::Local => "local",
            Self::Failback => "failback",
        }
    }
}

/// A successfully parsed invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The requested set (before any per-tool mapping).
    pub resources: ResourceSet,
    /// Where the FIFO lives.
    pub statedir: PathBuf,
}

/// Why the command line was refused; each case prints the usage and exits 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// More than one resource word.
    TooManyArguments,
    /// A word that is not one of the four sets.
    WrongResources(String),
    /// `--help`.
    Help,
    /// clap refused the line (e.g. `--statedir` without a value).
    Other(String),
}

/// Parses `args` (including argv\[0\]) for `tool`.
pub fn parse<I, T>(tool: Tool, args: I) -> Result<Invocation, UsageError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command(tool).try_get_matches_from(args).map_err(|e| {
        // An unknown option is reported like the scripts report any bad word.
        match (e.kind(), e.get(ContextKind::InvalidArg)) {
            (ErrorKind::UnknownArgument, Some(ContextValue::String(arg))) => {
                UsageError::WrongResources(arg.clone())
            }
            (kind, _) => UsageError::Other(kind.to_string()),
        }
    })?;
    let words: Vec<String> = matches
        .get_many::<String>("resources")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    if words.len() >= 2 {
        return Err(UsageError::TooManyArguments);
    }
    if matches.get_flag("help") || words.first().is_some_and(|w| w == "--help") {
        return Err(UsageError::Help);
    }
    let resources = match words.first() {
        None => ResourceSet::All,
        Some(w) => ResourceSet::parse(w).ok_or_else(|| UsageError::WrongResources(w.clone()))?,
    };
    let statedir = matches
        .get_one::<PathBuf>("statedir")
        .cloned()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATEDIR));
    Ok(Invocation {
        resources,
        statedir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(tool: Tool, args: &[&str]) -> Result<Invocation, UsageError> {
        parse(
            tool,
            std::iter::once(tool.name()).chain(args.iter().copied()),
        )
    }

    #[test]
    fn default_is_all_and_default_statedir() {
        let inv = p(Tool::Standby, &[]).expect("no arguments is valid");
        assert_eq!(inv.resources, ResourceSet::All);
        assert_eq!(inv.statedir, PathBuf::from("/var/lib/heartbeat"));
    }

    #[test]
    fn each_word_is_accepted() {
        for tool in [Tool::Standby, Tool::Takeover] {
            for w in ["all", "foreign", "local", "failback"] {
                let inv = p(tool, &[w]).expect("valid word");
                assert_eq!(inv.resources.as_str(), w);
            }
        }
    }

    #[test]
    fn statedir_option_in_both_spellings() {
        let a = p(Tool::Takeover, &["--statedir", "/tmp/x", "local"]).expect("valid");
        assert_eq!(a.statedir, PathBuf::from("/tmp/x"));
        assert_eq!(a.resources, ResourceSet::Local);
        let b = p(Tool::Takeover, &["local", "--statedir=/tmp/y"]).expect("valid");
        assert_eq!(b.statedir, PathBuf::from("/tmp/y"));
    }

    #[test]
    fn bad_lines_are_usage_errors() {
        assert_eq!(
            p(Tool::Standby, &["foo"]),
            Err(UsageError::WrongResources("foo".into()))
        );
        assert_eq!(
            p(Tool::Standby, &["ALL"]),
            Err(UsageError::WrongResources("ALL".into()))
        );
        assert_eq!(
            p(Tool::Standby, &["-x"]),
            Err(UsageError::WrongResources("-x".into()))
        );
        assert_eq!(
            p(Tool::Takeover, &["all", "local"]),
            Err(UsageError::TooManyArguments)
        );
        assert_eq!(p(Tool::Takeover, &["--help"]), Err(UsageError::Help));
        assert!(matches!(
            p(Tool::Standby, &["--statedir"]),
            Err(UsageError::Other(_))
        ));
    }

    #[test]
    fn clap_definition_is_consistent() {
        command(Tool::Standby).debug_assert();
        command(Tool::Takeover).debug_assert();
    }
}
