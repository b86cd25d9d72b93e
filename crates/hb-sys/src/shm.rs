//! The process table shared between the master control process and its
//! children (docs/behaviour.md §1.3).
//!
//! Heartbeat keeps one record per core process (type, state, pid, medium) in
//! a SysV segment created before the first fork. We use an anonymous
//! `MAP_SHARED` mapping instead: it is inherited by every child forked after
//! it is created, never appears in `ipcs`, and disappears with the last
//! process that maps it. (`MAP_PRIVATE` — what most mmap crates use for
//! anonymous maps — would give each child a private copy.)
//!
//! Every field is an atomic, so a slot can be read and written from several
//! processes without locks. The protocol: the master fills a slot's fields and
//! then publishes [`ProcState::Forked`] with `Release`; the child marks itself
//! [`ProcState::Running`] when its setup is done; readers load the state with
//! `Acquire` before trusting the other fields. Counters use `Relaxed`: they
//! are statistics, not synchronisation.

use std::mem::size_of;
use std::num::NonZeroUsize;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicU8, Ordering};

use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::time::{clock_gettime, ClockId};
use nix::unistd::Pid;

use crate::SysError;

/// What a process in the table is. The C type names appear in logs
/// (`MST_CONTROL`, `HBFIFO`, `HBREAD`, `HBWRITE`); see [`Role::c_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Role {
    /// The master control process.
    Master = 1,
    /// The FIFO reader.
    Fifo = 2,
    /// A medium read child.
    Read = 3,
    /// A medium write child.
    Write = 4,
    /// A respawned client (`respawn`/`failfast`).
    Client = 5,
    /// A short-lived helper (resource acquisition, notify_world, …).
    Helper = 6,
}

impl Role {
    fn from_u8(v: u8) -> Option<Role> {
        Some(match v {
            1 => Role::Master,
            2 => Role::Fifo,
            3 => Role::Read,
            4 => Role::Write,
            5 => Role::Client,
            6 => Role::Helper,
            _ => return None,
        })
    }

    /// The name heartbeat uses for this process type in log messages.
    pub fn c_name(self) -> &'static str {
        match self {
            Role::Master => "MST_CONTROL",
            Role::Fifo => "HBFIFO",
            Role::Read => "HBREAD",
            Role::Write => "HBWRITE",
            Role::Client => "CLIENT",
            Role::Helper => "HELPER",
        }
    }
}

/// Life-cycle state of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ProcState {
    /// Unused slot.
    Free = 0,
    /// Forked; the child has not finished its setup.
    Forked = 1,
    /// The child finished its setup and runs its main loop.
    Running = 2,
    /// The process has exited.
    Dead = 3,
}

impl ProcState {
    fn from_u8(v: u8) -> ProcState {
        match v {
            1 => ProcState::Forked,
            2 => ProcState::Running,
            3 => ProcState::Dead,
            _ => ProcState::Free,
        }
    }
}

/// One process's record. Lives only inside a [`ProcTable`]; all-zero bytes
/// are a valid, [`ProcState::Free`] slot.
#[repr(C)]
#[derive(Debug)]
pub struct ProcSlot {
    pid: AtomicI32,
    role: AtomicU8,
    state: AtomicU8,
    _pad: [u8; 2],
    medium: AtomicU32,
    packets_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    errors: AtomicU64,
    last_alive_ms: AtomicU64,
}

impl ProcSlot {
    /// Records a newly forked process and publishes it as
    /// [`ProcState::Forked`]. Counters are reset.
    pub fn claim(&self, pid: Pid, role: Role, medium: u32) {
        self.pid.store(pid.as_raw(), Ordering::Relaxed);
        self.role.store(role as u8, Ordering::Relaxed);
        self.medium.store(medium, Ordering::Relaxed);
        for c in [
            &self.packets_in,
            &self.packets_out,
            &self.bytes_in,
            &self.bytes_out,
            &self.errors,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.last_alive_ms.store(monotonic_ms(), Ordering::Relaxed);
        self.state.store(ProcState::Forked as u8, Ordering::Release);
    }

    /// Marks the slot free again.
    pub fn clear(&self) {
        self.state.store(ProcState::Free as u8, Ordering::Release);
        self.pid.store(0, Ordering::Relaxed);
        self.role.store(0, Ordering::Relaxed);
    }

    /// The recorded pid, `None` if none was recorded.
    pub fn pid(&self) -> Option<Pid> {
        match self.pid.load(Ordering::Relaxed) {
            p if p > 0 => Some(Pid::from_raw(p)),
            _ => None,
        }
    }

    /// Records the pid (e.g. a child recording itself).
    pub fn set_pid(&self, pid: Pid) {
        self.pid.store(pid.as_raw(), Ordering::Release);
    }

    /// The recorded role, `None` for a free slot.
    pub fn role(&self) -> Option<Role> {
        Role::from_u8(self.role.load(Ordering::Relaxed))
    }

    /// Records the role.
    pub fn set_role(&self, role: Role) {
        self.role.store(role as u8, Ordering::Release);
    }

    /// The life-cycle state (`Acquire`: fields written before the matching
    /// [`ProcSlot::set_state`] are visible afterwards).
    pub fn state(&self) -> ProcState {
        ProcState::from_u8(self.state.load(Ordering::Acquire))
    }

    /// Publishes a new state (`Release`).
    pub fn set_state(&self, state: ProcState) {
        self.state.store(state as u8, Ordering::Release);
    }

    /// Index of the medium this process serves (read/write children).
    pub fn medium(&self) -> u32 {
        self.medium.load(Ordering::Relaxed)
    }

    /// Records the medium index.
    pub fn set_medium(&self, medium: u32) {
        self.medium.store(medium, Ordering::Relaxed);
    }

    /// Counts one received packet of `bytes` bytes.
    pub fn count_in(&self, bytes: u64) {
        self.packets_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one sent packet of `bytes` bytes.
    pub fn count_out(&self, bytes: u64) {
        self.packets_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one error.
    pub fn count_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Packets received.
    pub fn packets_in(&self) -> u64 {
        self.packets_in.load(Ordering::Relaxed)
    }

    /// Packets sent.
    pub fn packets_out(&self) -> u64 {
        self.packets_out.load(Ordering::Relaxed)
    }

    /// Bytes received.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes sent.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Errors counted.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Records "alive now" (see [`monotonic_ms`]).
    pub fn touch(&self) {
        self.last_alive_ms.store(monotonic_ms(), Ordering::Relaxed);
    }

    /// When the process last called [`ProcSlot::touch`], in [`monotonic_ms`].
    pub fn last_alive_ms(&self) -> u64 {
        self.last_alive_ms.load(Ordering::Relaxed)
    }
}

/// Values of [`SharedFlags::resources_held`], as heartbeat names them.
pub mod held {
    /// No resources.
    pub const NONE: u8 = 0;
    /// Our own (local) resources.
    pub const LOCAL: u8 = 1;
    /// The peer's (foreign) resources.
    pub const FOREIGN: u8 = 2;
    /// All resources.
    pub const ALL: u8 = 3;
}

/// Cluster-wide flags kept next to the slots (docs/behaviour.md §1.3).
#[repr(C)]
#[derive(Debug)]
pub struct SharedFlags {
    /// Restart after the shutdown completes.
    pub restart_after_shutdown: AtomicBool,
    /// Give up resources during shutdown.
    pub giveup_resources: AtomicBool,
    /// Which resources this node holds, one of the [`held`] constants.
    pub resources_held: AtomicU8,
}

/// The layout of the mapping: flags, then the slots.
#[repr(C)]
struct Layout {
    flags: SharedFlags,
    slots: [ProcSlot; 0],
}

/// A process table in memory shared with every child forked after it was
/// created.
#[derive(Debug)]
pub struct ProcTable {
    base: NonNull<Layout>,
    len_bytes: NonZeroUsize,
    slots: usize,
}

// SAFETY: the mapping holds only atomics (all accesses go through `&`
// methods on atomic fields), so sharing or moving the handle between threads
// cannot cause a data race; the mapping lives as long as the `ProcTable`.
unsafe impl Send for ProcTable {}
// SAFETY: as for `Send`: every access is an atomic operation.
unsafe impl Sync for ProcTable {}

impl ProcTable {
    /// Maps a zeroed table of `slots` free slots, `MAP_SHARED|MAP_ANONYMOUS`.
    /// Create it before forking the children that should see it.
    pub fn new(slots: usize) -> Result<ProcTable, SysError> {
        let bytes = size_of::<ProcSlot>()
            .checked_mul(slots)
            .and_then(|b| b.checked_add(size_of::<Layout>()))
            .and_then(NonZeroUsize::new)
            .ok_or(SysError::InvalidArgument {
                what: "process table size",
                reason: format!("{slots} slots"),
            })?;
        // SAFETY: a fresh anonymous mapping at an address of the kernel's
        // choosing cannot alias any existing memory.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .map_err(SysError::call("mmap(MAP_SHARED|MAP_ANONYMOUS)"))?;
        Ok(ProcTable {
            base: ptr.cast(),
            len_bytes: bytes,
            slots,
        })
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots
    }

    /// Whether the table has no slots.
    pub fn is_empty(&self) -> bool {
        self.slots == 0
    }

    /// Slot `i`, or `None` if `i` is out of range.
    pub fn slot(&self, i: usize) -> Option<&ProcSlot> {
        if i >= self.slots {
            return None;
        }
        let first = self.slots_ptr();
        // SAFETY: `i < slots`, and the mapping was sized for `slots` slots
        // after the header; the memory is zero-initialised (a valid state for
        // atomics), aligned (mmap is page-aligned, `Layout` is repr(C)), and
        // lives as long as `&self`.
        Some(unsafe { &*first.add(i) })
    }

    /// All slots in order.
    pub fn slots(&self) -> impl Iterator<Item = &ProcSlot> {
        (0..self.slots).filter_map(move |i| self.slot(i))
    }

    /// The first [`ProcState::Free`] slot and its index.
    pub fn free_slot(&self) -> Option<(usize, &ProcSlot)> {
        self.slots()
            .enumerate()
            .find(|(_, s)| s.state() == ProcState::Free)
    }

    /// The slot recording `pid`, with its index.
    pub fn find_pid(&self, pid: Pid) -> Option<(usize, &ProcSlot)> {
        self.slots()
            .enumerate()
            .find(|(_, s)| s.state() != ProcState::Free && s.pid() == Some(pid))
    }

    /// The global flags.
    pub fn flags(&self) -> &SharedFlags {
        // SAFETY: `base` points to a live, zero-initialised, aligned `Layout`
        // for the lifetime of `&self`.
        unsafe { &(*self.base.as_ptr()).flags }
    }

    fn slots_ptr(&self) -> *const ProcSlot {
        // Pointer arithmetic only; dereferencing happens in `slot`.
        self.base
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(std::mem::offset_of!(Layout, slots))
            .cast::<ProcSlot>()
    }
}

impl Drop for ProcTable {
    fn drop(&mut self) {
        // SAFETY: `base`/`len_bytes` describe the mapping created in `new`,
        // and no reference into it outlives `self` (all borrow `&self`).
        if let Err(e) = unsafe { munmap(self.base.cast(), self.len_bytes.get()) } {
            log::warn!("munmap of process table failed: {e}");
        }
    }
}

/// Milliseconds on the system-wide monotonic clock (`CLOCK_MONOTONIC`), the
/// same in every process, so one process can judge another's liveness.
pub fn monotonic_ms() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(|t| {
            let s = u64::try_from(t.tv_sec()).unwrap_or(0);
            let ns = u64::try_from(t.tv_nsec()).unwrap_or(0);
            s.saturating_mul(1000).saturating_add(ns / 1_000_000)
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fork::fork_child;
    use crate::testutil::{wait_code, FORK_LOCK};

    #[test]
    fn new_table_is_all_free_and_bounds_checked() {
        let t = ProcTable::new(8).expect("map");
        assert_eq!(t.len(), 8);
        assert!(t
            .slots()
            .all(|s| s.state() == ProcState::Free && s.pid().is_none()));
        assert!(t.slot(8).is_none());
        assert_eq!(t.free_slot().map(|(i, _)| i), Some(0));
        assert_eq!(t.flags().resources_held.load(Ordering::Relaxed), held::NONE);
    }

    #[test]
    fn slot_layout_is_stable() {
        assert_eq!(size_of::<ProcSlot>(), 64);
        assert_eq!(std::mem::align_of::<ProcSlot>(), 8);
    }

    #[test]
    fn child_writes_parent_reads() {
        let _g = FORK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let t = ProcTable::new(4).expect("map");
        let t0 = monotonic_ms();
        let parent = nix::unistd::getpid();
        t.slot(0).expect("slot").claim(parent, Role::Master, 0);
        let pid = fork_child(|| {
            let Some(s) = t.slot(2) else { return 1 };
            s.claim(nix::unistd::getpid(), Role::Write, 7);
            s.count_out(100);
            s.count_out(23);
            s.count_in(5);
            s.count_error();
            s.touch();
            s.set_state(ProcState::Running);
            t.flags().giveup_resources.store(true, Ordering::Release);
            t.flags()
                .resources_held
                .store(held::LOCAL, Ordering::Release);
            // The child sees what the parent wrote before the fork.
            i32::from(t.slot(0).and_then(|s| s.role()) != Some(Role::Master))
        })
        .expect("fork");
        assert_eq!(wait_code(pid), 0);
        let s = t.slot(2).expect("slot");
        assert_eq!(s.state(), ProcState::Running);
        assert_eq!(s.pid(), Some(pid));
        assert_eq!(s.role(), Some(Role::Write));
        assert_eq!(s.role().map(Role::c_name), Some("HBWRITE"));
        assert_eq!(s.medium(), 7);
        assert_eq!((s.packets_out(), s.bytes_out()), (2, 123));
        assert_eq!((s.packets_in(), s.bytes_in()), (1, 5));
        assert_eq!(s.errors(), 1);
        assert!(s.last_alive_ms() >= t0 && s.last_alive_ms() <= monotonic_ms());
        assert!(t.flags().giveup_resources.load(Ordering::Acquire));
        assert_eq!(
            t.flags().resources_held.load(Ordering::Acquire),
            held::LOCAL
        );
        assert_eq!(t.find_pid(pid).map(|(i, _)| i), Some(2));
        assert_eq!(t.free_slot().map(|(i, _)| i), Some(1));
        s.clear();
        assert_eq!(s.state(), ProcState::Free);
        assert!(t.find_pid(pid).is_none());
    }
}
