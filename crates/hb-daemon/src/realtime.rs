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
