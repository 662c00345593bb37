//! Processes: the record of a running program (or of how it ended), the
//! limits it runs under, and how its ending is reported. Starting and
//! ending one changes the whole kernel state, so that is done a layer up,
//! in `object::process`; threads are `sched`'s.
//!
//! A process ends by exiting, by being killed, or by faulting; the kernel
//! never panics for anything a process does. An ended process keeps its
//! object (and so its status and fault report) while handles name it: its
//! parent waits for `TERMINATED` and reads the report with `process_status`.
//! The kernel also prints each ending on the console.

pub mod account;
pub mod loader;

use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::{ProcessState, ProcessStatus};
use abide_abi::syscall::Error;
use abide_objects::caps::{InTransit, TableId};

use crate::arch::exceptions::{self, FaultReport};
use crate::ids::ObjectId;
use crate::mm::AddressSpace;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// It called `exit(code)`.
    Exited(i32),
    /// A CPU exception in its code.
    Faulted(FaultReport),
    /// `process_kill`.
    Killed,
    /// `process_kill` with `KILL_AS_FAULT`: fault injection.
    InjectedFault,
    /// A restore ended it: it is not persistent.
    Lost,
}

impl ExitReason {
    /// The status `process_status` reports for it.
    pub fn status(self) -> ProcessStatus {
        match self {
            ExitReason::Exited(code) => ProcessStatus {
                state: ProcessState::Exited,
                code,
                ..ProcessStatus::default()
            },
            ExitReason::Faulted(fault) => ProcessStatus {
                state: ProcessState::Faulted,
                code: 0,
                vector: fault.vector as u32,
                error_code: fault.error_code as u32,
                address: fault.cr2,
                rip: fault.rip,
                ..ProcessStatus::default()
            },
            ExitReason::Killed => ProcessStatus {
                state: ProcessState::Killed,
                ..ProcessStatus::default()
            },
            ExitReason::Lost => ProcessStatus {
                state: ProcessState::Lost,
                ..ProcessStatus::default()
            },
            ExitReason::InjectedFault => ProcessStatus {
                state: ProcessState::Faulted,
                vector: abide_abi::object::INJECTED_FAULT_VECTOR,
                ..ProcessStatus::default()
            },
        }
    }
}

/// A program: an address space and its threads, or, once ended, its status.
pub struct Process {
    pub id: ObjectId,
    pub name: String,
    /// Its handle table: exactly its authority.
    pub table: TableId,
    /// Its memory; `None` once it ended.
    pub space: Option<AddressSpace>,
    pub threads: Vec<ObjectId>,
    /// Running, or how it ended.
    pub status: ProcessStatus,
    /// What its parent allowed it.
    pub limits: Limits,
    /// Pages charged to it: its image and stack, memory objects it made and
    /// the budgets of its children (page tables and kernel memory come on
    /// top: see [`account`] and [`Process::charged_pages`]).
    pub memory_pages: u64,
    /// Its place in its parent's budget and the kernel memory it holds.
    pub account: account::Account,
    /// Nanoseconds it ran.
    pub cpu_ns: u64,
    /// Part of every checkpoint and resumed after a restore; a process
    /// without it is ended at a restore, so its supervisor starts it fresh.
    pub persistent: bool,
    /// For a foreign process (`process_create`, `abide_abi::trap`): the
    /// channel end its threads' traps are written through (they queue at
    /// its peer, the handler's end). The process holds a reference to it
    /// (counted like a handle) until it ends; `None` for Abide's own.
    pub trap_channel: Option<ObjectId>,
}

impl Process {
    /// A new running process with no threads and nothing charged but its
    /// kernel records.
    pub fn new(
        id: ObjectId,
        name: String,
        table: TableId,
        space: AddressSpace,
        limits: Limits,
    ) -> Process {
        Process {
            id,
            name,
            table,
            space: Some(space),
            threads: alloc::vec::Vec::new(),
            status: ProcessStatus::default(),
            limits,
            memory_pages: 0,
            account: account::Account {
                kernel_bytes: account::PROCESS_BYTES,
                ..Default::default()
            },
            cpu_ns: 0,
            persistent: false,
            trap_channel: None,
        }
    }

    /// True until it ends.
    pub fn is_alive(&self) -> bool {
        self.status.state == ProcessState::Running
    }

    /// Its status with what it uses now (`handles`: its table's count).
    pub fn report(&self, handles: usize) -> ProcessStatus {
        ProcessStatus {
            memory_pages: self.charged_pages(),
            memory_limit: self.limits.memory_pages,
            handles: u32::try_from(handles).unwrap_or(u32::MAX),
            handle_quota: u32::try_from(self.limits.handle_quota).unwrap_or(u32::MAX),
            cpu_ns: self.cpu_ns,
            ..self.status
        }
    }
}

/// The limits a process runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub priority: u8,
    /// The most pages it may be charged.
    pub memory_pages: u64,
    /// The most handles its table may hold.
    pub handle_quota: usize,
}

impl Limits {
    /// What the programs the kernel starts get: everything.
    pub const ROOT: Limits = Limits {
        priority: abide_sched::DEFAULT_PRIORITY,
        memory_pages: u64::MAX,
        handle_quota: HANDLE_QUOTA,
    };

    /// What the system's `init` gets: [`Limits::ROOT`] at the highest
    /// priority, so it may give any priority to the components it starts.
    pub const INIT: Limits = Limits {
        priority: (abide_sched::PRIORITIES - 1) as u8,
        ..Limits::ROOT
    };
}

/// Handles a process may hold at once.
pub const HANDLE_QUOTA: usize = 1024;

/// Why a process could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    Load(loader::LoadError),
    Handles(Error),
    /// Every object id was issued.
    IdsExhausted,
    /// The program needs more pages than its memory limit.
    OverMemoryLimit {
        needed: u64,
        limit: u64,
    },
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            SpawnError::Load(error) => write!(f, "{error}"),
            SpawnError::Handles(error) => write!(f, "creating its handle table: {error}"),
            SpawnError::IdsExhausted => f.write_str("every object id was issued"),
            SpawnError::OverMemoryLimit { needed, limit } => {
                write!(f, "it needs {needed} pages of memory, its limit is {limit}")
            }
        }
    }
}

/// What a new process starts with besides its own handle.
pub enum Startup {
    /// The hardware resource (programs the kernel starts).
    HardwareResource,
    /// Handles its parent moved to it.
    Handles(InTransit<ObjectId>),
}

/// Logs how a process ended: a clean exit (status 0) at `info`, which a
/// system booted with `log=warn` (the benchmark) leaves out, every other
/// ending at `warn`.
pub fn report_end(process: &Process, reason: ExitReason) {
    let prefix = abide_abi::host::PROCESS_END_PREFIX;
    let (id, name) = (process.id, &process.name);
    match reason {
        ExitReason::Exited(0) => log::info!("{prefix}{id} ({name}) exited with status 0"),
        ExitReason::Exited(code) => {
            log::warn!("{prefix}{id} ({name}) exited with status {code}")
        }
        ExitReason::Faulted(fault) => {
            let (mnemonic, description) = exceptions::describe(fault.vector);
            log::warn!(
                "{prefix}{id} ({name}) faulted: {mnemonic} {description} (vector {}) at address {:#x}, rip {:#x}, error {:#x}",
                fault.vector, fault.cr2, fault.rip, fault.error_code
            );
        }
        ExitReason::Killed => log::warn!("{prefix}{id} ({name}) was killed"),
        ExitReason::Lost => log::warn!(
            "{prefix}{id} ({name}) is not persistent: ended at the restore, to start afresh"
        ),
        ExitReason::InjectedFault => {
            log::warn!("{prefix}{id} ({name}) faulted: injected fault (process_kill KILL_AS_FAULT)")
        }
    }
}
