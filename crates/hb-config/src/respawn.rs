//! `respawn` / `failfast <user> /absolute/command [args...]` (docs/behaviour.md §10).
//!
//! The user is resolved and the program checked for execute permission when
//! the line is read, like the C daemon does, so a wrong path fails the start
//! (the classic `/usr/lib/heartbeat/ipfail` from old documentation is such a
//! case on Debian, where ipfail lives in `/usr/libexec/heartbeat`).

use crate::error::RespawnProblem;
use crate::system::SystemLookup;
use crate::value::WHITESPACE;

/// Longest user name the C daemon accepts.
const MAX_USER: usize = 63;

/// One client process started (and restarted) by the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respawn {
    /// User to run as.
    pub user: String,
    /// Its uid.
    pub uid: u32,
    /// Its primary gid.
    pub gid: u32,
    /// The command string as written (run with `/bin/sh -c "exec <command>"`).
    pub command: String,
    /// The program: the first word of the command.
    pub path: String,
    /// `failfast`: reboot the machine when it dies abnormally.
    pub failfast: bool,
    /// ha.cf line number.
    pub line: usize,
}

/// Parse the rest of a `respawn`/`failfast` line.
pub(crate) fn parse(
    rest: &str,
    failfast: bool,
    line: usize,
    sys: &dyn SystemLookup,
) -> Result<Respawn, RespawnProblem> {
    let rest = rest.trim_start_matches(WHITESPACE);
    if rest.is_empty() {
        return Err(RespawnProblem::MissingUser);
    }
    let user_len = rest.find(WHITESPACE).unwrap_or(rest.len());
    let user = &rest[..user_len];
    if user.len() > MAX_USER {
        return Err(RespawnProblem::UserTooLong);
    }
    let (uid, gid) = sys.user(user).ok_or_else(|| RespawnProblem::UnknownUser {
        user: user.to_string(),
    })?;
    let command = rest[user_len..].trim_start_matches(WHITESPACE);
    if command.is_empty() {
        return Err(RespawnProblem::MissingCommand {
            user: user.to_string(),
        });
    }
    if !command.starts_with('/') {
        return Err(RespawnProblem::NotAbsolute {
            command: command.to_string(),
        });
    }
    let path = command.split(WHITESPACE).next().unwrap_or(command);
    if !sys.is_executable(path) {
        return Err(RespawnProblem::NotExecutable {
            path: path.to_string(),
        });
    }
    Ok(Respawn {
        user: user.to_string(),
        uid,
        gid,
        command: command.to_string(),
        path: path.to_string(),
        failfast,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::FakeSystem;

    #[test]
    fn happy_path() {
        let sys = FakeSystem::default();
        let r = parse(
            " hacluster  /usr/libexec/heartbeat/ipfail -x 'a b'",
            false,
            7,
            &sys,
        )
        .unwrap();
        assert_eq!(r.user, "hacluster");
        assert_eq!((r.uid, r.gid), (102, 105));
        assert_eq!(r.command, "/usr/libexec/heartbeat/ipfail -x 'a b'");
        assert_eq!(r.path, "/usr/libexec/heartbeat/ipfail");
        assert!(!r.failfast);
        assert_eq!(r.line, 7);
    }

    #[test]
    fn errors() {
        let sys = FakeSystem::default();
        assert_eq!(parse("", false, 1, &sys), Err(RespawnProblem::MissingUser));
        assert_eq!(
            parse(&"u".repeat(64), false, 1, &sys),
            Err(RespawnProblem::UserTooLong)
        );
        assert_eq!(
            parse("nosuchuser /usr/bin/x", false, 1, &sys),
            Err(RespawnProblem::UnknownUser {
                user: "nosuchuser".into()
            })
        );
        assert_eq!(
            parse("root", true, 1, &sys),
            Err(RespawnProblem::MissingCommand {
                user: "root".into()
            })
        );
        assert_eq!(
            parse("root ipfail", true, 1, &sys),
            Err(RespawnProblem::NotAbsolute {
                command: "ipfail".into()
            })
        );
        assert_eq!(
            parse("root /opt/ipfail -v", true, 1, &sys),
            Err(RespawnProblem::NotExecutable {
                path: "/opt/ipfail".into()
            })
        );
    }
}
