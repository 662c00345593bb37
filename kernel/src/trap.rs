//! The one door from `arch` into the generic kernel.
//!
//! The architecture code (`arch/`) imports nothing of the kernel above it:
//! its entry path calls the upcalls [`init`] registers with
//! `arch::upcalls::register` — a system call goes to `syscall`, a CPU
//! exception in user mode ends the process (or, in a foreign-ABI process,
//! traps to its handler: `object::traps`), a write fault on a page a
//! checkpoint protects goes to `persist` (one on a copy-on-write page of a
//! cloned foreign process is resolved here, [`resolve_copy_on_write`]), and the end of
//! every hardware interrupt runs the clock tick's housekeeping (`tick`)
//! and lets `sched` preempt or end idling. The few services `arch` needs (crash output, the
//! clock, symbol names, the boot-failure report) are registered here too.

use crate::arch::context::FpuState;
use crate::arch::exceptions;
use crate::arch::idt::{TrapFrame, TIMER_VECTOR};
use crate::arch::upcalls::{self, Upcalls};
use crate::object::{process, traps, with_kernel, Kernel};
use crate::process::ExitReason;
use crate::{console, ksyms, persist, sched, serial, syscall, tick, time};

/// Registers the kernel's upcalls with `arch`; called first thing at boot,
/// before the descriptor tables are loaded and interrupts enabled.
pub fn init() {
    upcalls::register(Upcalls {
        syscall: syscall::handle,
        user_fault,
        interrupt_end,
        write_fault: persist::write_fault,
        fail: crate::fail,
        emergency_write: console::emergency_write,
        flush_output: serial::flush,
        now_ns: time::now_ns,
        symbol: ksyms::lookup,
    });
}

/// A CPU exception in user mode: the process ends, the system goes on.
fn user_fault(frame: &mut TrapFrame, fpu: &mut FpuState) {
    let report = exceptions::report_for(frame);
    // A write to a page a checkpoint is still saving: it was copied aside
    // and is writable again; the instruction runs again.
    if report.is_write_to_protected_user_page() && persist::write_fault(report.cr2) {
        return;
    }
    with_kernel(|kernel| {
        // A write to a copy-on-write page: it has its own copy now and
        // the instruction runs again.
        if report.is_write_to_protected_user_page() && resolve_copy_on_write(kernel, report.cr2) {
            return;
        }
        // A foreign thread's exception goes to its handler.
        if let Some(thread) = traps::current_foreign(kernel) {
            traps::trap_current(kernel, thread, frame, fpu, traps::Cause::Fault(report));
            return;
        }
        if let Some(id) = process::current_process(kernel) {
            process::end_process(kernel, id, ExitReason::Faulted(report));
        }
        sched::switch(kernel, frame, fpu, false);
    });
}

/// A write by the thread on the CPU to `virt` faulted on a present page:
/// true when the page was copy-on-write and now has a frame of its own,
/// writable (retry the write), with no trap to the handler. A fault that
/// is not copy-on-write (or a copy with no frame left for it) is the
/// caller's as before.
fn resolve_copy_on_write(kernel: &mut Kernel, virt: u64) -> bool {
    let Some(id) = process::current_process(kernel) else {
        return false;
    };
    let Some(space) = kernel
        .objects
        .process_mut(id)
        .and_then(|p| p.space.as_mut())
    else {
        return false;
    };
    let Some(frame) = space.copy_on_write_frame(virt) else {
        return false;
    };
    // Taken over in place when it is the last mapping: a checkpoint still
    // writing the frame out copies it aside first.
    persist::page_changing(frame);
    space.resolve_copy_on_write(virt).unwrap_or(false)
}

/// The end of every hardware interrupt (after its handler and EOI): the
/// timer's tick does its housekeeping and preempts a user thread; any
/// interrupt ends idling when a thread became ready.
fn interrupt_end(frame: &mut TrapFrame, fpu: &mut FpuState) {
    if !sched::started() {
        return;
    }
    let from_user = frame.cs & 3 == 3;
    let timer = frame.vector == u64::from(TIMER_VECTOR);
    with_kernel(|kernel| {
        if timer {
            tick::run(kernel, frame, fpu, from_user);
        }
        sched::after_interrupt(kernel, frame, fpu, timer);
    });
}
