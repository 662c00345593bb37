//! Processes and threads: starting programs, and ending them.
//!
//! A process ends by exiting, by being killed, or by faulting; the kernel
//! never panics for anything a process does. An ended process keeps its
//! object (and so its status and fault report) while handles name it: its
//! parent waits for `TERMINATED` and reads the report with `process_status`.
//! The kernel also prints each ending on the console.

pub mod account;
pub mod loader;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::{ProcessState, ProcessStatus};
use abide_abi::syscall::{Error, Rights};
use abide_objects::caps::{InTransit, TableId};

use crate::arch::context::UserContext;
use crate::arch::exceptions::{self, FaultReport};
use crate::mm::AddressSpace;
use crate::object::{self, Kernel, Object, ObjectId};
use crate::sched;
/// Where a thread is in its life: `sched` owns it.
pub use crate::sched::ThreadState;

pub use crate::object::with_kernel;

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
    fn status(self) -> ProcessStatus {
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
}

impl Process {
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

/// A thread: a saved user context in a process.
pub struct Thread {
    pub process: ObjectId,
    pub priority: u8,
    pub state: ThreadState,
    pub context: Box<UserContext>,
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

/// Starts the program `name` from `image` with one ready thread. The thread
/// starts with a handle to its own process in `rdi` (all rights) and the
/// number of startup handles in `rsi` (see `abide_abi::object`).
///
/// On failure, startup handles in transit are given back.
pub fn spawn(
    kernel: &mut Kernel,
    name: &str,
    image: &[u8],
    limits: Limits,
    startup: Startup,
) -> Result<ObjectId, (SpawnError, Option<InTransit<ObjectId>>)> {
    let give_back = |startup: Startup| match startup {
        Startup::Handles(transit) => Some(transit),
        _ => None,
    };
    // Checked before anything is allocated: the pages the image asks for
    // and the kernel's own records of the process; once loaded, again with
    // the page tables.
    let over = |needed: u64| SpawnError::OverMemoryLimit {
        needed,
        limit: limits.memory_pages,
    };
    let estimate = match loader::pages_needed(image) {
        Ok(pages) => pages.saturating_add(account::PROCESS_BYTES.div_ceil(abide_mm::PAGE_SIZE)),
        Err(error) => return Err((SpawnError::Load(error), give_back(startup))),
    };
    if estimate > limits.memory_pages
        || !crate::mm::user_memory_available(estimate.saturating_mul(abide_mm::PAGE_SIZE))
    {
        return Err((over(estimate), give_back(startup)));
    }
    let program = match loader::load(image) {
        Ok(program) => program,
        Err(error) => return Err((SpawnError::Load(error), give_back(startup))),
    };
    let needed = program.space.page_count();
    let kernel_pages = account::PROCESS_BYTES.div_ceil(abide_mm::PAGE_SIZE);
    let total = needed + program.space.table_pages() + kernel_pages;
    if total > limits.memory_pages {
        return Err((over(total), give_back(startup)));
    }
    let priority = limits.priority;
    // The programs the kernel starts (init) are the root of what persists.
    let persistent = matches!(startup, Startup::HardwareResource);
    let (Some(process_id), Some(thread_id)) = (kernel.objects.new_id(), kernel.objects.new_id())
    else {
        return Err((SpawnError::IdsExhausted, give_back(startup)));
    };
    let table = kernel.caps.create_table(limits.handle_quota);
    kernel.objects.insert(
        process_id,
        Object::Process(Process {
            id: process_id,
            name: String::from(name),
            table,
            space: Some(program.space),
            threads: alloc::vec![thread_id],
            status: ProcessStatus::default(),
            limits,
            memory_pages: needed,
            account: account::Account {
                kernel_bytes: account::PROCESS_BYTES,
                ..account::Account::default()
            },
            cpu_ns: 0,
            persistent,
        }),
    );
    let self_handle = match kernel.new_handle(table, process_id, Rights::ALL) {
        Ok(handle) => handle,
        Err(error) => {
            kernel.caps.destroy_table(table);
            kernel.objects.remove(process_id);
            return Err((SpawnError::Handles(error), give_back(startup)));
        }
    };
    let startup_count = match startup {
        Startup::HardwareResource => {
            match kernel.create(table, Object::HardwareResource, Rights::ALL) {
                Ok(_) => 1,
                Err(_) => 0,
            }
        }
        Startup::Handles(transit) => install_startup(kernel, table, transit),
    };
    let mut context = Box::new(UserContext::new_user(program.entry, program.stack_top));
    context.regs.rdi = u64::from(self_handle.0);
    context.regs.rsi = startup_count;
    kernel.objects.insert(
        thread_id,
        Object::Thread(Thread {
            process: process_id,
            priority,
            state: ThreadState::Ready,
            context,
        }),
    );
    sched::admit(kernel, thread_id);
    Ok(process_id)
}

/// Installs a new process's startup handles; returns how many it got.
fn install_startup(kernel: &mut Kernel, table: TableId, transit: InTransit<ObjectId>) -> u64 {
    let count = transit.len() as u64;
    match kernel.caps.install(table, transit) {
        Ok(installed) => {
            object::release(kernel, installed.revoked);
            count
        }
        Err((_, transit)) => {
            let orphans = kernel.caps.discard(transit);
            object::release(kernel, orphans);
            0
        }
    }
}

/// Ends process `id`: its threads stop, its memory and handles go, its
/// status is kept for whoever holds a handle to it, and its ending is
/// reported.
pub fn end_process(kernel: &mut Kernel, id: ObjectId, reason: ExitReason) {
    let Some(process) = kernel.objects.process_mut(id) else {
        return;
    };
    if !process.is_alive() {
        return;
    }
    process.status = reason.status();
    let threads = core::mem::take(&mut process.threads);
    let space = process.space.take();
    let table = process.table;
    report_end(process, reason);
    if let Some(space) = &space {
        crate::mm::space_ending(space);
    }
    for thread in threads {
        sched::exit_thread(kernel, thread);
    }
    drop(space);
    // Its authority goes with it; handles others derived from its handles stay.
    let held = kernel.caps.destroy_table(table);
    object::release(kernel, held);
    object::port::forget_observers_of(kernel, id);
    account::hand_over(kernel, id);
    object::port::notify(kernel, id);
    object::remove_if_unreferenced(kernel, id);
}

/// The handle table of the process on the CPU.
pub fn current_table(kernel: &Kernel) -> Option<TableId> {
    Some(kernel.objects.process(current_process(kernel)?)?.table)
}

/// Logs how a process ended: a clean exit (status 0) at `info`, which a
/// system booted with `log=warn` (the benchmark) leaves out, every other
/// ending at `warn`.
fn report_end(process: &Process, reason: ExitReason) {
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

/// The process of the thread on the CPU.
pub fn current_process(kernel: &Kernel) -> Option<ObjectId> {
    kernel
        .objects
        .thread(kernel.current?)
        .map(|thread| thread.process)
}
