//! Starting other programs: respawned clients and resource scripts.
//!
//! **Respawned clients** (`respawn`/`failfast`, docs/behaviour.md §10) run in a
//! forked child prepared exactly like heartbeat's: default SIGTERM and an
//! empty signal mask, normal scheduling, its own process group, the
//! configured user's groups/gid/uid, no inherited descriptors (which also
//! closes the watchdog without writing `V`), stdin/stdout/stderr on
//! `/dev/null`, then `/bin/sh -c "exec <cmd>"` so the shell replaces itself
//! with the client and `ps` shows the client's own argv. [`ClientExec`]
//! builds every C string before the fork so the child only makes system calls.
//!
//! **Scripts** (resource agents, `harc`, `ResourceManager`) are started by
//! [`spawn_script`] with an explicit environment, stdin on `/dev/null`,
//! stdout and stderr merged into one pipe (one reader, no deadlock between
//! two pipes), normal scheduling and optionally their own process group, so a
//! timeout can kill the script together with everything it started.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, killpg, SigSet, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{dup2, setgid, setpgid, setuid, Gid, Pid, Uid};

use crate::SysError;

/// Why [`ClientExec::exec`] returned.
#[derive(Debug, thiserror::Error)]
pub enum ClientExecError {
    /// A preparation step failed (heartbeat: `Cannot setup child process <cmd>`).
    #[error("cannot set up child process: {0}")]
    Setup(#[source] SysError),
    /// `execve` failed (heartbeat: `Cannot exec <cmd>`).
    #[error("cannot exec /bin/sh: {0}")]
    Exec(#[source] SysError),
}

/// A prepared respawned-client start; see the module docs.
#[derive(Debug, Clone)]
pub struct ClientExec {
    user: CString,
    uid: Uid,
    gid: Gid,
    argv: Vec<CString>,
    env: Vec<CString>,
}

/// The shell every client command runs under.
pub const SHELL: &str = "/bin/sh";

fn cstring(what: &'static str, bytes: &[u8]) -> Result<CString, SysError> {
    CString::new(bytes).map_err(|_| SysError::InvalidArgument {
        what,
        reason: "contains a NUL byte".into(),
    })
}

/// `KEY=VALUE` C strings for an environment.
fn env_strings<I, K, V>(env: I) -> Result<Vec<CString>, SysError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    env.into_iter()
        .map(|(k, v)| {
            let k = k.as_ref().as_bytes();
            if k.is_empty() || k.contains(&b'=') {
                return Err(SysError::InvalidArgument {
                    what: "environment variable name",
                    reason: format!("{:?} is empty or contains '='", String::from_utf8_lossy(k)),
                });
            }
            let mut kv = k.to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_ref().as_bytes());
            cstring("environment variable", &kv)
        })
        .collect()
}

impl ClientExec {
    /// Prepares the start of `command` (the rest of the `respawn` line, run
    /// by `/bin/sh -c "exec <command>"`) as `user` (`uid`, primary `gid`)
    /// with exactly the environment `env`.
    pub fn new<I, K, V>(
        user: &str,
        uid: Uid,
        gid: Gid,
        command: &str,
        env: I,
    ) -> Result<ClientExec, SysError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        Ok(ClientExec {
            user: cstring("user name", user.as_bytes())?,
            uid,
            gid,
            argv: vec![
                cstring("shell", SHELL.as_bytes())?,
                cstring("shell flag", b"-c")?,
                cstring("client command", format!("exec {command}").as_bytes())?,
            ],
            env: env_strings(env)?,
        })
    }

    /// Runs the child-side steps and execs. Call it in a freshly forked child
    /// of a single-threaded parent (see [`crate::fork::fork_child`]); it
    /// returns only on failure, after which the child should `_exit(100)` as
    /// heartbeat's does (status 100 also stops respawning).
    ///
    /// After the descriptors are closed nothing can be logged, so a failing
    /// `execve` is only visible through the exit status.
    pub fn exec(&self) -> ClientExecError {
        match self.prepare() {
            Ok(()) => {}
            Err(e) => return ClientExecError::Setup(e),
        }
        match nix::unistd::execve(&self.argv[0], &self.argv, &self.env) {
            Err(e) => ClientExecError::Exec(SysError::Call {
                call: "execve",
                source: e,
            }),
            Ok(never) => match never {},
        }
    }

    fn prepare(&self) -> Result<(), SysError> {
        crate::signals::unblock_all()?;
        crate::signals::default_all();
        crate::sched::make_normal()?;
        setpgid(Pid::from_raw(0), Pid::from_raw(0)).map_err(SysError::call("setpgid(0, 0)"))?;
        nix::unistd::initgroups(&self.user, self.gid).map_err(SysError::call("initgroups"))?;
        setgid(self.gid).map_err(SysError::call("setgid"))?;
        setuid(self.uid).map_err(SysError::call("setuid"))?;
        crate::fork::close_fds_except(&[]);
        stdio_to_dev_null()
    }
}

/// Points descriptors 0, 1 and 2 at `/dev/null`.
pub fn stdio_to_dev_null() -> Result<(), SysError> {
    let fd = nix::fcntl::open("/dev/null", OFlag::O_RDWR, Mode::empty())
        .map_err(SysError::call("open /dev/null"))?;
    for target in 0..=2 {
        if fd != target {
            dup2(fd, target).map_err(SysError::call("dup2"))?;
        }
    }
    if fd > 2 {
        let _ = nix::unistd::close(fd);
    }
    Ok(())
}

/// A started script: its pid and the read end of its merged stdout/stderr.
#[derive(Debug)]
pub struct ScriptChild {
    /// The script's pid (also its process group when started with one).
    pub pid: Pid,
    /// Whether it leads its own process group.
    pub own_group: bool,
    /// Merged stdout and stderr (close-on-exec). Register it with mio, or
    /// use [`ScriptChild::wait_with_output`].
    pub output: File,
}

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptStatus {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signaled(Signal),
}

/// What [`ScriptChild::wait_with_output`] collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptResult {
    /// How the script ended.
    pub status: ScriptStatus,
    /// Its stdout and stderr, interleaved as written.
    pub output: Vec<u8>,
    /// Whether it was killed for exceeding the timeout.
    pub timed_out: bool,
}

/// Starts `argv[0]` (a path; no `PATH` search is wanted, but a bare name is
/// looked up by std in the caller's `PATH`) with arguments `argv[1..]` and
/// exactly the environment `env`, stdin on `/dev/null`, stdout+stderr into
/// one pipe, normal scheduling, an empty signal mask, and, with `new_pgid`,
/// its own process group. The caller reaps it (SIGCHLD loop or
/// [`ScriptChild::wait_with_output`]).
pub fn spawn_script<A, I, K, V>(argv: &[A], env: I, new_pgid: bool) -> Result<ScriptChild, SysError>
where
    A: AsRef<OsStr>,
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let Some((prog, args)) = argv.split_first() else {
        return Err(SysError::InvalidArgument {
            what: "script argv",
            reason: "empty".into(),
        });
    };
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(SysError::call("pipe2"))?;
    let w2 = w.try_clone().map_err(|e| SysError::Path {
        call: "dup pipe",
        path: prog.as_ref().into(),
        source: e,
    })?;
    let child = {
        // The Command owns the write ends; it is dropped at the end of this
        // block so the parent keeps no copy and sees EOF when the script ends.
        let mut cmd = Command::new(prog);
        cmd.args(args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(Stdio::from(w2));
        if new_pgid {
            cmd.process_group(0);
        }
        // SAFETY: the hook runs in the forked child before exec and only
        // makes async-signal-safe system calls (`sched_setscheduler`,
        // `sigprocmask` on a stack-allocated empty set); it takes no locks
        // and allocates nothing.
        unsafe {
            cmd.pre_exec(|| {
                reset_scheduler_raw();
                crate::signals::default_all();
                // std leaves the signal mask as inherited; scripts must not
                // start with the master's signalfd signals blocked.
                SigSet::empty().thread_set_mask().map_err(io::Error::from)
            })
        };
        cmd.spawn()
            .map_err(SysError::path_io("spawn", prog.as_ref().as_ref()))?
    };
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    // Dropping a std Child neither kills nor reaps it: the caller owns that.
    drop(child);
    Ok(ScriptChild {
        pid,
        own_group: new_pgid,
        output: File::from(r),
    })
}

/// Makes `cmd` start its program the way a process started from a shell
/// would: `SCHED_OTHER`, an empty signal mask, every signal at its default
/// action — whatever the master (realtime, signalfd-blocked signals, SIGPIPE
/// ignored) or the helper that forked it had.
pub fn reset_on_exec(cmd: &mut Command) {
    // SAFETY: the hook runs in the forked child before exec and only makes
    // async-signal-safe system calls (`sched_setscheduler`, `sigaction`,
    // `sigprocmask` on a stack-allocated empty set); it takes no locks and
    // allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            reset_scheduler_raw();
            crate::signals::default_all();
            SigSet::empty().thread_set_mask().map_err(io::Error::from)
        })
    };
}

/// `SCHED_OTHER` for the calling process, ignoring errors; async-signal-safe.
fn reset_scheduler_raw() {
    let param = libc::sched_param { sched_priority: 0 };
    // nix lacks sched_setscheduler.
    // SAFETY: `param` is valid for the call; pid 0 is the caller.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
}

impl ScriptChild {
    /// Collects output until the script exits, then reaps it. Output written
    /// after the script itself has exited (by background processes still
    /// holding the pipe) is read only as far as it is already buffered, so a
    /// script that starts a daemon does not hang the caller.
    ///
    /// With a `timeout`, a script still running when it expires is killed
    /// with SIGKILL — its whole process group if it has one — and reaped.
    /// Blocks: meant for helper processes, not for the master's main loop.
    pub fn wait_with_output(self, timeout: Option<Duration>) -> Result<ScriptResult, SysError> {
        let ScriptChild {
            pid,
            own_group,
            mut output,
        } = self;
        let flags =
            fcntl(output.as_raw_fd(), FcntlArg::F_GETFL).map_err(SysError::call("fcntl"))?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(output.as_raw_fd(), FcntlArg::F_SETFL(flags)).map_err(SysError::call("fcntl"))?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut out = Vec::new();
        let mut timed_out = false;
        let mut pipe_open = true;
        loop {
            if pipe_open {
                pipe_open = drain(&mut output, &mut out);
            }
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => {
                    drain(&mut output, &mut out);
                    return Ok(ScriptResult {
                        status: ScriptStatus::Exited(code),
                        output: out,
                        timed_out,
                    });
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    drain(&mut output, &mut out);
                    return Ok(ScriptResult {
                        status: ScriptStatus::Signaled(sig),
                        output: out,
                        timed_out,
                    });
                }
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(SysError::call("waitpid")(e)),
            }
            if let Some(d) = deadline {
                if !timed_out && Instant::now() >= d {
                    timed_out = true;
                    let _ = if own_group {
                        killpg(pid, Signal::SIGKILL)
                    } else {
                        kill(pid, Signal::SIGKILL)
                    };
                }
            }
            // Wake on output or after 50 ms to check for exit/timeout.
            if pipe_open {
                let mut fds = [PollFd::new(output.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, PollTimeout::from(50u8));
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Reads what is available without blocking; `false` once the pipe hit EOF
/// or failed.
fn drain(f: &mut File, out: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, TempDir, FORK_LOCK};
    use std::os::unix::fs::PermissionsExt;

    const NOBODY: u32 = 65534;

    /// Pids of non-zombie processes in process group `pgid`.
    fn live_group_members(pgid: Pid) -> Vec<i32> {
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some(tail) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            let f: Vec<&str> = tail.split_whitespace().collect();
            if f.get(2) == Some(&pgid.as_raw().to_string().as_str()) && f.first() != Some(&"Z") {
                out.push(pid);
            }
        }
        out
    }

    /// The exec'd client runs as nobody:nogroup with only that group, in its
    /// own process group, with only fds 0-2 open on /dev/null, and the given
    /// environment (nothing else).
    #[test]
    fn client_runs_as_user_in_own_group_with_clean_fds() {
        if !nix::unistd::geteuid().is_root() {
            return; // needs root for setuid; CI runs as root
        }
        let d = TempDir::new("exec");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let out = d.path().join("out");
        // The shell's fds are listed by a plain command without redirection:
        // a pipe, substitution or redirection makes the shell itself hold
        // extra fds (dash saves fd 1 as fd 10).
        let script = format!(
            "/bin/sh -c 'echo \"$(id -u) $(id -g) $(id -G) $(cut -d\" \" -f5 /proc/$$/stat) $$ $HB_VAR\"; \
             ls -m /proc/$$/fd; readlink /proc/$$/fd/0 /proc/$$/fd/2; \
             env | sort' > {}",
            out.display()
        );
        let spec = ClientExec::new(
            "nobody",
            Uid::from_raw(NOBODY),
            Gid::from_raw(NOBODY),
            &script,
            [("HB_VAR", "v1"), ("PATH", "/usr/bin:/bin")],
        )
        .expect("spec");
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // A descriptor without close-on-exec that the client must not inherit.
        let devnull = File::open("/dev/null").expect("open /dev/null");
        let leaked = nix::unistd::dup(devnull.as_raw_fd()).expect("dup");
        let pid = fork_child(|| {
            let _ = spec.exec();
            100
        })
        .expect("fork");
        let code = wait_code(pid);
        let _ = nix::unistd::close(leaked);
        assert_eq!(code, 0);
        let text = std::fs::read_to_string(&out).expect("client output");
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(format!("{NOBODY} {NOBODY} {NOBODY} {pid} {pid} v1").as_str())
        );
        // The shell's own fds: only 0, 1 (the redirect) and 2.
        assert_eq!(lines.next(), Some("0, 1, 2"), "{text}");
        assert_eq!(lines.next(), Some("/dev/null"));
        assert_eq!(lines.next(), Some("/dev/null"));
        let env: Vec<&str> = lines
            .filter(|l| {
                !l.starts_with("PWD=")
                    && !l.starts_with("OLDPWD=")
                    && !l.starts_with("SHLVL=")
                    && !l.starts_with("_=")
            })
            .collect();
        assert_eq!(env, ["HB_VAR=v1", "PATH=/usr/bin:/bin"], "{text}");
    }

    /// The master blocks signals for its signalfd; a client must start with
    /// an empty mask. (grep replaces the shell and reports its own mask.)
    #[test]
    fn client_gets_empty_signal_mask() {
        let d = TempDir::new("execmask");
        let out = d.path().join("mask");
        let cmd = format!("grep SigBlk /proc/self/status > {}", out.display());
        // NSS lookups take glibc locks a concurrently forked child could
        // inherit: do them under the fork lock too.
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .expect("current user");
        let spec = ClientExec::new(&me.name, me.uid, me.gid, &cmd, [("PATH", "/usr/bin:/bin")])
            .expect("spec");
        let pid = fork_child(|| {
            let _sfd = crate::signals::SignalFd::block(&[Signal::SIGTERM, Signal::SIGUSR1]);
            let _ = spec.exec();
            100
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
        assert_eq!(
            std::fs::read_to_string(&out).expect("read"),
            "SigBlk:\t0000000000000000\n"
        );
    }

    #[test]
    fn client_bad_arguments_rejected_before_fork() {
        let ok = |cmd: &str, k: &str| {
            ClientExec::new("u", Uid::from_raw(1), Gid::from_raw(1), cmd, [(k, "V")]).is_ok()
        };
        assert!(ok("/bin/true", "K"));
        assert!(!ok("a\0b", "K"));
        assert!(!ok("/bin/true", "K=X"));
        assert!(!ok("/bin/true", ""));
    }

    /// `setuid((uid_t)-1)` fails with EINVAL even for root (and a non-root
    /// run fails earlier, at initgroups): a setup failure, reported as such.
    #[test]
    fn client_setup_failure_is_reported() {
        let spec = ClientExec::new(
            "nobody",
            Uid::from_raw(u32::MAX),
            Gid::from_raw(NOBODY),
            "/bin/true",
            std::iter::empty::<(&str, &str)>(),
        )
        .expect("spec");
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| match spec.exec() {
            ClientExecError::Setup(e) if e.errno().is_some() => 7,
            ClientExecError::Setup(_) => 6,
            ClientExecError::Exec(_) => 8,
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 7);
    }

    #[test]
    fn script_output_status_env_and_group() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let c = spawn_script(
            &[
                "/bin/sh",
                "-c",
                "echo out; echo err >&2; echo \"$FOO\"; cut -d' ' -f5 /proc/$$/stat; exit 3",
            ],
            [("FOO", "bar")],
            true,
        )
        .expect("spawn");
        let pid = c.pid;
        let r = c
            .wait_with_output(Some(Duration::from_secs(20)))
            .expect("wait");
        assert_eq!(r.status, ScriptStatus::Exited(3));
        assert!(!r.timed_out);
        assert_eq!(
            String::from_utf8_lossy(&r.output),
            format!("out\nerr\nbar\n{pid}\n")
        );
    }

    /// Scripts start with an empty signal mask even if the spawner blocked
    /// signals for its signalfd.
    #[test]
    fn script_gets_empty_signal_mask() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let pid = fork_child(|| {
            let Ok(_sfd) = crate::signals::SignalFd::block(&[Signal::SIGCHLD, Signal::SIGHUP])
            else {
                return 10;
            };
            let Ok(c) = spawn_script(
                // `exec`: grep reports its own inherited mask (a forking
                // shell briefly blocks all signals around fork).
                &["/bin/sh", "-c", "exec grep SigBlk /proc/self/status"],
                std::iter::empty::<(&str, &str)>(),
                true,
            ) else {
                return 11;
            };
            match c.wait_with_output(Some(Duration::from_secs(20))) {
                Ok(r) if r.output == b"SigBlk:\t0000000000000000\n" => 0,
                Ok(r) => {
                    eprintln!("script said {:?}", String::from_utf8_lossy(&r.output));
                    12
                }
                Err(e) => {
                    eprintln!("wait failed: {e}");
                    13
                }
            }
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
    }

    #[test]
    fn script_without_new_group_shares_ours() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let c = spawn_script(
            &["/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat"],
            [("A", "b")],
            false,
        )
        .expect("spawn");
        let r = c
            .wait_with_output(Some(Duration::from_secs(20)))
            .expect("wait");
        let ours = nix::unistd::getpgrp();
        assert_eq!(String::from_utf8_lossy(&r.output), format!("{ours}\n"));
    }

    #[test]
    fn script_timeout_kills_group() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let start = Instant::now();
        let c = spawn_script(
            &["/bin/sh", "-c", "sleep 30; echo late"],
            std::iter::empty::<(&str, &str)>(),
            true,
        )
        .expect("spawn");
        let pid = c.pid;
        let r = c
            .wait_with_output(Some(Duration::from_millis(300)))
            .expect("wait");
        assert!(r.timed_out);
        assert_eq!(r.status, ScriptStatus::Signaled(Signal::SIGKILL));
        assert!(r.output.is_empty());
        assert!(start.elapsed() < Duration::from_secs(10));
        // The sleep (same group) was killed too: no live member remains
        // (killed members may linger as zombies until init reaps them).
        let t = Instant::now();
        while !live_group_members(pid).is_empty() && t.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(live_group_members(pid), Vec::<i32>::new());
    }

    #[test]
    fn background_daemon_does_not_hang_wait() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let c = spawn_script(
            &["/bin/sh", "-c", "sleep 30 & echo started"],
            std::iter::empty::<(&str, &str)>(),
            true,
        )
        .expect("spawn");
        let pid = c.pid;
        let start = Instant::now();
        let r = c
            .wait_with_output(Some(Duration::from_secs(20)))
            .expect("wait");
        let _ = killpg(pid, Signal::SIGKILL);
        assert_eq!(r.status, ScriptStatus::Exited(0));
        assert_eq!(r.output, b"started\n");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn empty_argv_rejected() {
        let argv: [&str; 0] = [];
        assert!(spawn_script(&argv, std::iter::empty::<(&str, &str)>(), true).is_err());
    }
}
