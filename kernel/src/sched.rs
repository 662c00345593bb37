//! The scheduler: the one owner of thread state. Every change of a thread's
//! state — admitted, blocked, woken, preempted, exited — happens here; it
//! picks the next thread (priorities, round robin — see `abide_sched`) and
//! switches by swapping saved contexts in the entry frame.
//!
//! Switching happens only where the kernel is about to leave: at the end of a
//! system call, a user fault, or an interrupt that arrived in user mode (the
//! timer preempts) or in the idle loop. Kernel code itself is never preempted.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::context::{self, FpuState, UserContext};
use crate::arch::idt::TrapFrame;
use crate::arch::power;
use crate::object::{with_kernel, Kernel, ObjectId};
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
}

/// Set once the first thread has been entered.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Leaves the interrupted context in `frame`/`fpu` and resumes the next ready
/// thread there instead (or the idle loop). With `save_current`, the thread on
/// the CPU is saved and queued again behind its equals.
pub fn switch(kernel: &mut Kernel, frame: &mut TrapFrame, fpu: &mut FpuState, save_current: bool) {
    if let Some(current) = kernel.current.take() {
        charge_cpu_time(kernel, current);
        if save_current {
            if let Some(thread) = kernel.objects.thread_mut(current) {
                thread.context.regs = *frame;
                thread.context.fpu = fpu.clone();
                thread.state = ThreadState::Ready;
                let priority = thread.priority;
                kernel.run_queue.push(current, priority);
            }
        }
    }
    if kernel.objects.live_process_count() == 0 {
        println!("{}", abide_abi::host::ALL_PROCESSES_ENDED);
        power::exit_success();
    }
    match kernel.run_queue.pop() {
        Some(next) => resume(kernel, next, frame, fpu),
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
    kernel: &mut Kernel,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    deadline: u64,
) -> Option<ObjectId> {
    let current = kernel.current?;
    let thread = kernel.objects.thread_mut(current)?;
    thread.context.regs = *frame;
    thread.context.regs.rip -= context::SYSCALL_INSTRUCTION_LEN;
    thread.context.fpu = fpu.clone();
    thread.state = ThreadState::Blocked { deadline };
    if deadline != u64::MAX {
        kernel.deadlines.insert((deadline, current));
    }
    switch(kernel, frame, fpu, false);
    Some(current)
}

/// Makes a thread blocked in `port_wait` ready (a packet came, its port
/// closed or its deadline passed); it re-issues the call.
pub fn wake(kernel: &mut Kernel, thread_id: ObjectId) {
    let Some(thread) = kernel.objects.thread_mut(thread_id) else {
        return;
    };
    let ThreadState::Blocked { deadline } = thread.state else {
        return;
    };
    thread.state = ThreadState::Ready;
    let priority = thread.priority;
    kernel.deadlines.remove(&(deadline, thread_id));
    kernel.run_queue.push(thread_id, priority);
}

/// Puts new thread `id` (created `Ready`) in the run queue.
pub fn admit(kernel: &mut Kernel, id: ObjectId) {
    let Some(thread) = kernel.objects.thread_mut(id) else {
        return;
    };
    thread.state = ThreadState::Ready;
    let priority = thread.priority;
    kernel.run_queue.push(id, priority);
}

/// Thread `id`'s process ended: the thread leaves the run queue, the
/// object table and the CPU.
pub fn exit_thread(kernel: &mut Kernel, id: ObjectId) {
    kernel.run_queue.remove(id);
    kernel.objects.remove(id);
    if kernel.current == Some(id) {
        kernel.current = None;
    }
}

/// Adds the time thread `id` has been on the CPU to its process.
fn charge_cpu_time(kernel: &mut Kernel, id: ObjectId) {
    let ran = time::now_ns().saturating_sub(kernel.current_since_ns);
    let Some(process) = kernel.objects.thread(id).map(|thread| thread.process) else {
        return;
    };
    if let Some(process) = kernel.objects.process_mut(process) {
        process.cpu_ns = process.cpu_ns.saturating_add(ran);
    }
}

/// Loads thread `id` into the entry frame and its address space into CR3.
fn resume(kernel: &mut Kernel, id: ObjectId, frame: &mut TrapFrame, fpu: &mut FpuState) {
    let Some(thread) = kernel.objects.thread_mut(id) else {
        return;
    };
    *frame = thread.context.regs;
    *fpu = thread.context.fpu.clone();
    thread.state = ThreadState::Running;
    let process = thread.process;
    kernel.current_since_ns = time::now_ns();
    if let Some(space) = kernel
        .objects
        .process(process)
        .and_then(|process| process.space.as_ref())
    {
        space.activate();
    }
    kernel.current = Some(id);
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
    kernel: &mut Kernel,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    preempt: bool,
) {
    let from_user = frame.cs & 3 == 3;
    if from_user && preempt {
        switch(kernel, frame, fpu, true);
    } else if !from_user && kernel.current.is_none() && !kernel.run_queue.is_empty() {
        switch(kernel, frame, fpu, false);
    }
}

/// Enters the first ready thread; the boot path ends here.
pub fn start() -> ! {
    let mut launch = UserContext::idle();
    with_kernel(|kernel| switch(kernel, &mut launch.regs, &mut launch.fpu, false));
    STARTED.store(true, Ordering::Relaxed);
    context::enter(&launch)
}
