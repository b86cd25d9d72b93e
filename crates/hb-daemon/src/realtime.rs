//! Reporting what a realtime/memory-locking request achieved, for the
//! master and for the core children it forks.

use crate::logging;

/// Logs what the realtime/memory-locking request achieved, in the C
/// daemon's words (docs/behaviour.md §1.5).
pub fn log_realtime(outcome: &hb_sys::sched::RealtimeOutcome) {
    for (level, line) in outcome.messages(std::process::id() as i32) {
        logging::emit(logging::prio_of(level), &line);
    }
}

/// Most heap the master pre-touches before locking itself in memory, KiB.
/// 3.0.6 touches all of `memreserve` (6500 by default), which is then half
/// of all the memory a node uses and, at the default 8 MB
/// `RLIMIT_MEMLOCK`, too much to lock. Our master's heap stays well below
/// this; growth beyond it is locked as it happens (docs/behaviour.md §1.5).
pub const MCP_RESERVE_MAX_KB: u32 = 256;

/// The heap the master pre-touches for a `memreserve` of `kb`.
pub fn mcp_reserve_kb(kb: u32) -> u32 {
    kb.min(MCP_RESERVE_MAX_KB)
}
