//! The trap of a foreign thread (`abide_abi::trap`): the thread stops, one
//! [`TrapMessage`] with its registers is queued at the handler's end of its
//! process's trap channel (as a message its peer wrote: the channel's
//! queue limits and accounting, port observers woken as by
//! `channel_write`), and the handler answers with `trap_resume`. A thread
//! whose trap cannot be queued (queue full, handler gone, no memory) ends
//! its process.
//!
//! This is the personality's hot path: one message, no scheduler pass of
//! its own (the caller switches once, as after any call that stops the
//! thread on the CPU).

use alloc::vec::Vec;

use abide_abi::record::Record;
use abide_abi::syscall::Error;
use abide_abi::trap::{TrapMessage, TrapRegisters, TRAP_FAULT, TRAP_INTERRUPT, TRAP_SYSCALL};
use abide_objects::caps::InTransit;

use super::channel::{self, Payload};
use super::foreign::{self, registers_of};
use super::{account, process, Kernel, ObjectId};
use crate::arch::context::FpuState;
use crate::arch::exceptions::FaultReport;
use crate::arch::idt::TrapFrame;
use crate::process::ExitReason;
use crate::sched::{self, ThreadState};

/// What one trap may allocate without `try_reserve` (the observers its
/// queued message wakes, their port packets: the growth of lists, 32 KiB
/// as in `syscall::heap_gate`); a trap the heap cannot hold ends the
/// trapping process.
pub const TRAP_HEAP: usize = 32 << 10;

/// Why a thread stops.
#[derive(Clone, Copy)]
pub enum Cause {
    /// It executed `syscall`.
    Syscall,
    /// A CPU exception.
    Fault(FaultReport),
    /// Its handler asked with `trap_interrupt`.
    Interrupt,
}

/// The foreign thread on the CPU, if the thread on the CPU is one.
pub fn current_foreign(kernel: &Kernel) -> Option<ObjectId> {
    let current = kernel.sched.current?;
    kernel
        .objects
        .thread(current)
        .filter(|thread| thread.trap_key.is_some())
        .map(|_| current)
}

/// The foreign thread on the CPU (whose registers are `frame`/`fpu`)
/// traps: it stops and its trap is queued (or its process ends), and
/// another thread runs.
pub fn trap_current(
    kernel: &mut Kernel,
    thread: ObjectId,
    frame: &mut TrapFrame,
    fpu: &mut FpuState,
    cause: Cause,
) {
    if let Some(record) = kernel.objects.thread_mut(thread) {
        record.context.regs = *frame;
        record.context.fpu = fpu.clone();
        record.context.save_segment_bases();
    }
    stop(kernel, thread, cause);
    sched::switch(kernel, frame, fpu, false);
}

/// `trap_interrupt` on a thread of this channel: a ready one leaves the
/// run queue and traps with its saved registers; any other is left as it
/// is (stopped already, or, on one CPU, never running while its handler
/// runs).
pub fn interrupt(kernel: &mut Kernel, thread: ObjectId) {
    let ready = kernel
        .objects
        .thread(thread)
        .is_some_and(|t| t.state == ThreadState::Ready);
    if ready {
        kernel.sched.run_queue.remove(thread);
        stop(kernel, thread, Cause::Interrupt);
    }
}

/// Marks `thread` (its context saved, on no queue) stopped in a trap and
/// queues the trap; ends its process when that fails.
fn stop(kernel: &mut Kernel, thread: ObjectId, cause: Cause) {
    let (kind, vector, error_code, address) = match cause {
        Cause::Syscall => (TRAP_SYSCALL, 0, 0, 0),
        Cause::Fault(fault) => (TRAP_FAULT, fault.vector as u32, fault.error_code, fault.cr2),
        Cause::Interrupt => (TRAP_INTERRUPT, 0, 0, 0),
    };
    let Some(record) = kernel.objects.thread_mut(thread) else {
        return;
    };
    record.state = ThreadState::Stopped;
    let process = record.process;
    let mut regs: TrapRegisters = registers_of(&record.context);
    if let Cause::Fault(fault) = cause {
        regs.rip = fault.rip;
    }
    let message = TrapMessage {
        kind,
        vector,
        thread,
        key: record.trap_key.unwrap_or(0),
        error_code,
        address,
        regs,
    };
    if let Err(why) = queue(kernel, process, &message) {
        if let Some(p) = kernel.objects.process(process) {
            log::warn!("process {process} ({}): {why}; ending it", p.name);
        }
        process::end_process(kernel, process, ExitReason::Killed);
    }
}

/// Queues `message` at the handler's end of `process`'s trap channel,
/// charged to `process`.
fn queue(
    kernel: &mut Kernel,
    process: ObjectId,
    message: &TrapMessage,
) -> Result<(), &'static str> {
    const GONE: &str = "the handler of its traps is gone";
    let trap_channel = kernel
        .objects
        .process(process)
        .and_then(|p| p.trap_channel)
        .ok_or(GONE)?;
    let handler = kernel
        .objects
        .channel(trap_channel)
        .and_then(|end| end.peer)
        .ok_or(GONE)?;
    let end = kernel.objects.channel(handler).ok_or(GONE)?;
    end.queue
        .check_push(TrapMessage::LEN, 0)
        .map_err(|error| match error {
            Error::ShouldWait => "its trap channel is full",
            _ => GONE,
        })?;
    const NO_MEMORY: &str = "no memory to queue its trap";
    if !crate::mm::heap_has_free_run(TRAP_HEAP) {
        return Err(NO_MEMORY);
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(TrapMessage::LEN)
        .map_err(|_| NO_MEMORY)?;
    bytes.extend_from_slice(message.encode());
    let charge = account::charge_message(kernel, process, TrapMessage::LEN as u64, 0)
        .map_err(|_| NO_MEMORY)?;
    let payload = Payload {
        handles: InTransit::none(),
        badge: 0,
        charge,
    };
    channel::deliver(kernel, handler, bytes, payload).map_err(|_| GONE)
}

/// Whether `thread` is a thread of the trap channel whose handler end is
/// `handler` and stopped in a trap; `InvalidArgument` for any other thread.
pub fn is_stopped_thread_of(
    kernel: &Kernel,
    handler: ObjectId,
    thread: ObjectId,
) -> Result<bool, Error> {
    let record = kernel
        .objects
        .thread(thread)
        .filter(|t| t.trap_key.is_some())
        .ok_or(Error::InvalidArgument)?;
    let trap_channel = kernel
        .objects
        .process(record.process)
        .and_then(|p| p.trap_channel)
        .ok_or(Error::InvalidArgument)?;
    let peer = kernel
        .objects
        .channel(trap_channel)
        .and_then(|end| end.peer);
    if peer != Some(handler) {
        return Err(Error::InvalidArgument);
    }
    Ok(record.state == ThreadState::Stopped)
}

/// `trap_resume` with `RESUME`: stopped `thread` runs on with `regs`
/// (checked by `foreign::load_registers`).
pub fn resume(kernel: &mut Kernel, thread: ObjectId, regs: &TrapRegisters) -> Result<(), Error> {
    let record = kernel
        .objects
        .thread_mut(thread)
        .ok_or(Error::InvalidArgument)?;
    foreign::load_registers(&mut record.context, regs)?;
    sched::admit(kernel, thread);
    Ok(())
}
