//! The scheduler: the one owner of thread state. Every change of a thread's
//! state — admitted, blocked, woken, preempted, exited — happens here; it
//! picks the next thread (priorities, round robin — see `abide_sched`) and
//! switches by swapping saved contexts in the entry frame.
//!
//! It sits below the object table: its own state ([`Scheduler`]: the run
//! queue, the thread on the CPU, the deadlines) is a part of the kernel
//! state, and it reaches the thread records in the object table only
//! through [`Threads`], which the table implements (see [`Host`]).
//!
//! Switching happens only where the kernel is about to leave: at the end of a
//! system call, a user fault, or an interrupt that arrived in user mode (the
//! timer preempts) or in the idle loop. Kernel code itself is never preempted.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use core::sync::atomic::{AtomicBool, Ordering};

use abide_sched::RunQueue;

use crate::arch::context::{self, FpuState, UserContext};
use crate::arch::idt::TrapFrame;
use crate::arch::power;
use crate::ids::ObjectId;
use crate::println;
use crate::time;

/// Where a thread is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    /// In the run queue.
    Ready,
    /// On the CPU.
    Running,
    /// In `port_wait` until a packet arrives or the clock reaches `deadline`
    /// (`u64::MAX`: never); it then re-issues the call.
    Blocked { deadline: u64 },
    /// A foreign thread stopped in a trap (`abide_abi::trap`) until its
    /// handler answers with `trap_resume`; a checkpoint keeps it so.
    Stopped,
}

/// A thread: a saved user context in a process.
pub struct Thread {
    pub process: ObjectId,
    pub priority: u8,
    pub state: ThreadState,
    pub context: Box<UserContext>,
    /// For a thread of a foreign process (`object::foreign`), the key its
    /// handler gave it in `thread_start`, sent back with each of its traps;
    /// `None` for Abide's own threads.
    pub trap_key: Option<u64>,
}

/// The scheduler's own state, a part of the kernel state (a checkpoint
/// saves the run queue and the deadlines as they are).
#[derive(Default)]
pub struct Scheduler {
    pub run_queue: RunQueue<ObjectId>,
    /// The thread on the CPU, or `None` while idle.
    pub current: Option<ObjectId>,
    /// When timers fire and waiting threads time out: (deadline ns, object).
    pub deadlines: BTreeSet<(u64, ObjectId)>,
    /// When the thread on the CPU got it (ns), for CPU-time accounting.
    pub current_since_ns: u64,
}

/// What the scheduler needs of the table that holds the thread and
/// process records (`object::ObjectTable`).
pub trait Threads {
    /// Thread `id`'s record.
    fn thread_mut(&mut self, id: ObjectId) -> Option<&mut Thread>;
    /// Removes thread `id`'s record.
    fn remove_thread(&mut self, id: ObjectId);
    /// Number of processes that have not ended.
    fn live_process_count(&self) -> usize;
    /// Adds `ns` nanoseconds of CPU time to process `process`.
    fn charge_cpu_time(&mut self, process: ObjectId, ns: u64);
    /// Loads process `process`'s address space (if it has one) into CR3.
    fn activate_space(&self, process: ObjectId);
}

/// The kernel state the scheduler works on: its own part and the thread
/// table (`object::Kernel`).
pub trait Host {
    type Threads: Threads;
    /// The scheduler's state and the thread table, borrowed together.
    fn parts(&mut self) -> (&mut Scheduler, &mut Self::Threads);
}

/// Set once the first thread has been entered.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Leaves the interrupted context in `frame`/`fpu` and resumes the next ready
/// thread there instead (or the idle loop). With `save_current`, the thread on
/// the CPU is saved and queued again behind its equals.
pub fn switch(
    kernel: &mut impl Host,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    save_current: bool,
) {
    let (sched, threads) = kernel.parts();
    if let Some(current) = sched.current.take() {
        charge_cpu_time(sched, threads, current);
        if save_current {
            if let Some(thread) = threads.thread_mut(current) {
                thread.context.regs = *frame;
                thread.context.fpu = fpu.clone();
                thread.context.save_segment_bases();
                thread.state = ThreadState::Ready;
                let priority = thread.priority;
                sched.run_queue.push(current, priority);
            }
        }
    }
    if threads.live_process_count() == 0 {
        println!("{}", abide_abi::host::ALL_PROCESSES_ENDED);
        power::exit_success();
    }
    match sched.run_queue.pop() {
        Some(next) => resume(sched, threads, next, frame, fpu),
        None => {
            let idle = UserContext::idle();
            *frame = idle.regs;
            *fpu = idle.fpu;
        }
    }
}

/// Parks the thread on the CPU in `port_wait` until `deadline` (`u64::MAX`:
/// none): its context is saved with `rip` back on the `syscall` instruction,
/// so when it is woken it issues the same call again. Then runs another.
pub fn block_current(
    kernel: &mut impl Host,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    deadline: u64,
) -> Option<ObjectId> {
    let (sched, threads) = kernel.parts();
    let current = sched.current?;
    let thread = threads.thread_mut(current)?;
    thread.context.regs = *frame;
    thread.context.regs.rip -= context::SYSCALL_INSTRUCTION_LEN;
    thread.context.fpu = fpu.clone();
    thread.context.save_segment_bases();
    thread.state = ThreadState::Blocked { deadline };
    if deadline != u64::MAX {
        sched.deadlines.insert((deadline, current));
    }
    switch(kernel, frame, fpu, false);
    Some(current)
}

/// Makes a thread blocked in `port_wait` ready (a packet came, its port
/// closed or its deadline passed); it re-issues the call.
pub fn wake(kernel: &mut impl Host, thread_id: ObjectId) {
    let (sched, threads) = kernel.parts();
    let Some(thread) = threads.thread_mut(thread_id) else {
        return;
    };
    let ThreadState::Blocked { deadline } = thread.state else {
        return;
    };
    thread.state = ThreadState::Ready;
    let priority = thread.priority;
    sched.deadlines.remove(&(deadline, thread_id));
    sched.run_queue.push(thread_id, priority);
}

/// Puts new thread `id` (created `Ready`) in the run queue.
pub fn admit(kernel: &mut impl Host, id: ObjectId) {
    let (sched, threads) = kernel.parts();
    let Some(thread) = threads.thread_mut(id) else {
        return;
    };
    thread.state = ThreadState::Ready;
    let priority = thread.priority;
    sched.run_queue.push(id, priority);
}

/// Thread `id`'s process ended: the thread leaves the run queue, the
/// object table and the CPU.
pub fn exit_thread(kernel: &mut impl Host, id: ObjectId) {
    let (sched, threads) = kernel.parts();
    sched.run_queue.remove(id);
    threads.remove_thread(id);
    if sched.current == Some(id) {
        sched.current = None;
    }
}

/// Adds the time thread `id` has been on the CPU to its process.
fn charge_cpu_time(sched: &Scheduler, threads: &mut impl Threads, id: ObjectId) {
    let ran = time::now_ns().saturating_sub(sched.current_since_ns);
    let Some(process) = threads.thread_mut(id).map(|thread| thread.process) else {
        return;
    };
    threads.charge_cpu_time(process, ran);
}

/// Loads thread `id` into the entry frame and its address space into CR3.
fn resume(
    sched: &mut Scheduler,
    threads: &mut impl Threads,
    id: ObjectId,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
) {
    let Some(thread) = threads.thread_mut(id) else {
        return;
    };
    *frame = thread.context.regs;
    *fpu = thread.context.fpu.clone();
    thread.context.load_segment_bases();
    thread.state = ThreadState::Running;
    let process = thread.process;
    sched.current_since_ns = time::now_ns();
    threads.activate_space(process);
    sched.current = Some(id);
}

/// True once the first thread has been entered (interrupts before that
/// come from the boot path, which switches nothing).
pub fn started() -> bool {
    STARTED.load(Ordering::Relaxed)
}

/// Called at the end of every hardware interrupt (after the tick's
/// housekeeping, see `trap`): the timer (`preempt`) preempts a user thread;
/// any interrupt ends idling when a thread became ready.
pub fn after_interrupt(
    kernel: &mut impl Host,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    preempt: bool,
) {
    let from_user = frame.cs & 3 == 3;
    let (sched, _) = kernel.parts();
    if from_user && preempt {
        switch(kernel, frame, fpu, true);
    } else if !from_user && sched.current.is_none() && !sched.run_queue.is_empty() {
        switch(kernel, frame, fpu, false);
    }
}

/// The context of the first ready thread, switched to (the boot path's
/// last step under the kernel lock; [`start`] enters it).
pub fn first(kernel: &mut impl Host) -> UserContext {
    let mut launch = UserContext::idle();
    switch(kernel, &mut launch.regs, &mut launch.fpu, false);
    launch
}

/// Enters `launch` (from [`first`]); the boot path ends here.
pub fn start(launch: UserContext) -> ! {
    STARTED.store(true, Ordering::Relaxed);
    context::enter(&launch)
}
