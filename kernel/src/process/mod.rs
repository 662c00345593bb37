//! Processes and threads, and the one table of kernel objects.
//!
//! Every kernel object has a stable 64-bit id (never reused) and lives in
//! [`ObjectTable`], the single place a checkpoint will walk. Objects refer to
//! each other by id, not by pointer. All kernel state sits in [`Kernel`]
//! behind one lock; kernel code runs with interrupts off on one CPU, so the
//! lock is never contended today and marks where SMP will need care.
//!
//! A process ends by exiting, by being killed, or by faulting; the kernel
//! never panics for anything a process does. Until user-space supervisors
//! exist, the kernel itself reports each ending on the console.

pub mod loader;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::syscall::{Error, Handle, Rights};
use abide_objects::caps::{Capabilities, TableId};
use abide_sched::RunQueue;

use crate::arch::context::{FpuState, UserContext};
use crate::arch::exceptions::{self, FaultReport};
use crate::arch::idt::TrapFrame;
use crate::mm::AddressSpace;
use crate::sync::IrqSpinLock;
use crate::{println, sched};

/// A kernel object's id.
pub type ObjectId = u64;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// It called `exit(code)`.
    Exited(i32),
    /// A CPU exception in its code.
    Faulted(FaultReport),
}

/// A running program: an address space and its threads.
pub struct Process {
    pub id: ObjectId,
    pub name: String,
    /// Its handle table: exactly its authority.
    pub table: TableId,
    pub space: AddressSpace,
    pub threads: Vec<ObjectId>,
}

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    /// In the run queue.
    Ready,
    /// On the CPU.
    Running,
}

/// A thread: a saved user context in a process.
pub struct Thread {
    pub process: ObjectId,
    pub priority: u8,
    pub state: ThreadState,
    pub context: Box<UserContext>,
}

/// Every kernel object.
pub enum Object {
    Process(Process),
    Thread(Thread),
}

/// The objects, by id.
#[derive(Default)]
pub struct ObjectTable {
    objects: BTreeMap<ObjectId, Object>,
    next_id: ObjectId,
}

impl ObjectTable {
    /// Reserves a new id.
    pub fn new_id(&mut self) -> ObjectId {
        self.next_id += 1;
        self.next_id
    }

    pub fn insert(&mut self, id: ObjectId, object: Object) {
        self.objects.insert(id, object);
    }

    pub fn remove(&mut self, id: ObjectId) -> Option<Object> {
        self.objects.remove(&id)
    }

    pub fn process(&self, id: ObjectId) -> Option<&Process> {
        match self.objects.get(&id) {
            Some(Object::Process(process)) => Some(process),
            _ => None,
        }
    }

    pub fn thread(&self, id: ObjectId) -> Option<&Thread> {
        match self.objects.get(&id) {
            Some(Object::Thread(thread)) => Some(thread),
            _ => None,
        }
    }

    pub fn thread_mut(&mut self, id: ObjectId) -> Option<&mut Thread> {
        match self.objects.get_mut(&id) {
            Some(Object::Thread(thread)) => Some(thread),
            _ => None,
        }
    }

    /// Number of live processes.
    pub fn process_count(&self) -> usize {
        self.objects
            .values()
            .filter(|o| matches!(o, Object::Process(_)))
            .count()
    }
}

/// Handles a process may hold at once.
pub const HANDLE_QUOTA: usize = 1024;

/// All kernel state.
#[derive(Default)]
pub struct Kernel {
    pub objects: ObjectTable,
    /// Every process's handle table, and what derives from what.
    pub caps: Capabilities<ObjectId>,
    pub run_queue: RunQueue<ObjectId>,
    /// The thread on the CPU, or `None` while idle.
    pub current: Option<ObjectId>,
}

pub static KERNEL: IrqSpinLock<Option<Kernel>> = IrqSpinLock::new(None);

/// Runs `f` with the kernel state (created on first use).
pub fn with_kernel<R>(f: impl FnOnce(&mut Kernel) -> R) -> R {
    let mut guard = KERNEL.lock();
    f(guard.get_or_insert_with(Kernel::default))
}

/// Why a process could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    Load(loader::LoadError),
    Handles(Error),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            SpawnError::Load(error) => write!(f, "{error}"),
            SpawnError::Handles(error) => write!(f, "creating its handle table: {error}"),
        }
    }
}

/// Starts the program `name` from `image` with one ready thread. The thread
/// starts with a handle to its own process in `rdi` (all rights).
pub fn spawn(
    kernel: &mut Kernel,
    name: &str,
    image: &[u8],
    priority: u8,
) -> Result<ObjectId, SpawnError> {
    let program = loader::load(image).map_err(SpawnError::Load)?;
    let process_id = kernel.objects.new_id();
    let thread_id = kernel.objects.new_id();
    let table = kernel.caps.create_table(HANDLE_QUOTA);
    let self_handle = match kernel.caps.insert(table, process_id, Rights::ALL) {
        Ok(handle) => handle,
        Err(error) => {
            kernel.caps.destroy_table(table);
            return Err(SpawnError::Handles(error));
        }
    };
    let mut context = Box::new(UserContext::new_user(program.entry, program.stack_top));
    context.regs.rdi = self_handle.0 as u64;
    let thread = Thread {
        process: process_id,
        priority,
        state: ThreadState::Ready,
        context,
    };
    let process = Process {
        id: process_id,
        name: String::from(name),
        table,
        space: program.space,
        threads: alloc::vec![thread_id],
    };
    kernel.objects.insert(process_id, Object::Process(process));
    kernel.objects.insert(thread_id, Object::Thread(thread));
    kernel.run_queue.push(thread_id, priority);
    Ok(process_id)
}

/// Ends process `id`: its threads stop, its memory is freed, its ending is
/// reported.
pub fn end_process(kernel: &mut Kernel, id: ObjectId, reason: ExitReason) {
    let Some(Object::Process(process)) = kernel.objects.remove(id) else {
        return;
    };
    for thread in &process.threads {
        kernel.run_queue.remove(*thread);
        kernel.objects.remove(*thread);
        if kernel.current == Some(*thread) {
            kernel.current = None;
        }
    }
    // Its authority goes with it; handles others derived from its handles stay.
    kernel.caps.destroy_table(process.table);
    report_end(&process, reason);
    drop(process);
}

/// The handle table of the process on the CPU.
pub fn current_table(kernel: &Kernel) -> Option<TableId> {
    Some(kernel.objects.process(current_process(kernel)?)?.table)
}

/// Converts a handle argument; values that do not fit 32 bits are never valid.
pub fn handle_arg(value: u64) -> Result<Handle, Error> {
    u32::try_from(value)
        .map(Handle)
        .map_err(|_| Error::BadHandle)
}

fn report_end(process: &Process, reason: ExitReason) {
    let prefix = abide_abi::host::PROCESS_END_PREFIX;
    match reason {
        ExitReason::Exited(code) => println!(
            "{prefix}{} ({}) exited with status {code}",
            process.id, process.name
        ),
        ExitReason::Faulted(fault) => {
            let (mnemonic, description) = exceptions::describe(fault.vector);
            println!(
                "{prefix}{} ({}) faulted: {mnemonic} {description} (vector {}) at address {:#x}, rip {:#x}, error {:#x}",
                process.id, process.name, fault.vector, fault.cr2, fault.rip, fault.error_code
            );
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

/// A CPU exception in user mode: the process ends, the system goes on.
pub fn user_fault(frame: &mut TrapFrame, fpu: &mut FpuState) {
    let report = exceptions::report_for(frame);
    with_kernel(|kernel| {
        if let Some(process) = current_process(kernel) {
            end_process(kernel, process, ExitReason::Faulted(report));
        }
        sched::switch(kernel, frame, fpu, false);
    });
}
