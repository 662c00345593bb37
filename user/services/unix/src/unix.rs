//! The component's state, shared by every module: the process table
//! (`abide_unix::table`), the kernel side of each process and thread, the
//! parked calls, and the statistics.
//!
//! It lives in a `RefCell` the tasks of `main` share; a task borrows it only
//! between awaits.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::SpawnOptions;
use abide_abi::syscall::Handle;
use abide_abi::trap::TrapMessage;
use abide_linux::sigframe::Fault;
use abide_linux::signal::{SigSet, SigStack};
use abide_splitmix::SplitMix64;
use abide_unix::table::{Pid, Table};
use abide_unix::waits::Waits;

use crate::call::WaitOn;
use crate::files::{Files, Fs};
use crate::memory::Memory;
use crate::session::Sessions;
use crate::tty::Tty;

/// The kernel side of one Linux process.
pub struct Kernel {
    /// The foreign process (every right).
    pub handle: Handle,
    /// Its memory map: `brk` and `mmap` areas.
    pub memory: Memory,
    /// Its open files (`files` module).
    pub files: Files,
    /// The vfork parent waiting for this process to exec or end.
    pub vfork_parent: Option<Pid>,
    /// For a `CLONE_VM|CLONE_VFORK` child: its parent's stack pointer at
    /// the clone, whose pages it hands back if it ends without `execve`
    /// (`process::vfork_hand_back`; 0: none).
    pub vfork_stack: u64,
    /// The path of its program (`/proc/self/exe`).
    pub exe: String,
}

/// The kernel side of one Linux thread, and its signal state beyond the
/// table's mask and pending set.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadKernel {
    /// The kernel's id for it (what `trap_resume` names).
    pub id: u64,
    /// Its alternate signal stack (`sigaltstack`; size 0: none).
    pub alt_stack: SigStack,
    /// The mask `rt_sigsuspend` replaced, restored by the handler's frame.
    pub saved_mask: Option<SigSet>,
    /// The fault whose signal is pending, for the handler's `siginfo`.
    pub fault: Option<(u32, Fault)>,
}

/// Calls answered, by Linux number, and those answered `ENOSYS`.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub calls: u64,
    pub enosys: BTreeMap<u64, u64>,
    pub faults: u64,
    pub reissued: u64,
}

/// Everything the component holds.
pub struct Unix {
    pub table: Table,
    pub kernel: BTreeMap<Pid, Kernel>,
    pub threads: BTreeMap<Pid, ThreadKernel>,
    pub waits: Waits<WaitOn, TrapMessage>,
    /// Parked calls woken and not yet run again, in order, with whether
    /// their deadline passed.
    pub woken: VecDeque<(Pid, TrapMessage, Option<u64>, bool)>,
    pub stats: Stats,
    /// The console's terminal (`tty` module).
    pub tty: Tty,
    /// vfork parents (thread ids) waiting for their child (pid) to exec or
    /// end.
    pub vfork_waits: BTreeMap<Pid, Pid>,
    /// The handler's end of the trap channel (`trap_resume` needs it), and
    /// the end the kernel queues traps at (given to `process_create`).
    pub trap: Handle,
    pub trap_peer: Handle,
    /// Limits of each Linux process (its memory comes out of the
    /// component's quota).
    pub options: SpawnOptions,
    /// `getrandom` and `AT_RANDOM` (seeded from the clock; not
    /// cryptographic).
    pub random: SplitMix64,
    /// The console and the `run`s of the Abide shell (`session` module).
    pub session: Sessions,
    /// The file systems (`files` module).
    pub fs: Fs,
    /// The checkpoint device (`uses checkpoint from init`): `sync` and
    /// `fsync` commit a checkpoint through it, so what a program synced
    /// survives a power cut. `None`: they only check their arguments.
    pub checkpoint: Option<Handle>,
}

impl Unix {
    /// An empty personality answering traps on `trap` (queued at
    /// `trap_peer`).
    pub fn new(trap: Handle, trap_peer: Handle, options: SpawnOptions, seed: u64) -> Unix {
        Unix {
            table: Table::default(),
            kernel: BTreeMap::new(),
            threads: BTreeMap::new(),
            waits: Waits::default(),
            woken: VecDeque::new(),
            stats: Stats::default(),
            tty: Tty::default(),
            vfork_waits: BTreeMap::new(),
            trap,
            trap_peer,
            options,
            random: SplitMix64::new(seed),
            session: Sessions::default(),
            fs: Fs::default(),
            checkpoint: None,
        }
    }

    /// The kernel handle of process `pid`.
    pub fn handle(&self, pid: Pid) -> Option<Handle> {
        self.kernel.get(&pid).map(|k| k.handle)
    }

    /// The process of thread `tid`.
    pub fn pid_of(&self, tid: Pid) -> Option<Pid> {
        self.table.thread(tid).map(|t| t.pid)
    }

    /// Wakes every call parked on `on`: they run again at the next
    /// [`crate::trap::settle`].
    pub fn wake(&mut self, on: WaitOn) {
        for (tid, parked) in self.waits.wake(&on) {
            self.woken
                .push_back((tid, parked.request, parked.deadline, false));
        }
    }

    /// Wakes every call parked on a key `matches` accepts.
    #[allow(dead_code)] // For the files module (any readiness change).
    pub fn wake_matching(&mut self, matches: impl Fn(&WaitOn) -> bool) {
        for (tid, parked) in self.waits.wake_matching(matches) {
            self.woken
                .push_back((tid, parked.request, parked.deadline, false));
        }
    }

    /// Wakes the calls whose deadline is at or before `now`.
    pub fn expire(&mut self, now: u64) {
        for (tid, parked) in self.waits.expired(now) {
            self.woken
                .push_back((tid, parked.request, parked.deadline, true));
        }
    }

    /// 64 fresh random bits.
    pub fn next_random(&mut self) -> u64 {
        self.random.next()
    }

    /// Every Linux process's pid, for `ps`.
    #[allow(dead_code)] // For the session's `ps`.
    pub fn pids(&self) -> Vec<Pid> {
        self.table.processes().map(|p| p.pid).collect()
    }
}
