//! The trap loop: every stop of a Linux thread arrives here as a
//! `TrapMessage` (abi/src/trap.rs), is answered by [`crate::dispatch`] (a
//! system call), [`crate::signal`] (a fault, an interrupt), and the thread
//! is resumed with its result — or parked, when the call cannot finish now
//! (the blocking API is in [`crate::call`]).
//!
//! A thread that traps while its previous request is still parked replaces
//! that request (a guard: a restore keeps a stopped thread stopped, with
//! its trap served once; kernels before 2026-12-07 re-issued it).
//!
//! A `syscall` trap from a thread with a signal to take is not served yet:
//! the signal came while the thread ran, and Linux takes it before the
//! call, which runs again after it (`abide_unix::signals::taken_before_call`).

use core::cell::RefCell;

use abide_abi::record::Record;
use abide_abi::syscall::Error;
use abide_abi::trap::{TrapMessage, TrapRegisters, TRAP_FAULT, TRAP_INTERRUPT, TRAP_SYSCALL};
use abide_linux::errno::{EINTR, ENOSYS, ETIMEDOUT};
use abide_rt::executor::timeout_at;
use abide_rt::ipc::Channel;
use abide_rt::println;
use abide_rt::syscall::{self, FOREVER};
use abide_unix::table::Pid;

use crate::call::{Call, Outcome};
use crate::unix::Unix;
use crate::{dispatch, signal};

/// The length of the `syscall` instruction: a trap's `rip` is past it, and
/// less this runs it again.
const SYSCALL_LEN: u64 = 2;

/// Serves traps from `channel` (the handler's end) until it closes.
pub async fn serve(unix: &RefCell<Unix>, channel: Channel) {
    loop {
        let deadline = unix.borrow().waits.next_deadline().unwrap_or(FOREVER);
        match timeout_at(deadline, channel.recv()).await {
            Ok(Ok(message)) => match TrapMessage::decode(&message.bytes) {
                Some(trap) => handle(&mut unix.borrow_mut(), trap),
                None => println!(
                    "unix: a malformed trap message ({} bytes)",
                    message.bytes.len()
                ),
            },
            Ok(Err(error)) => {
                println!("unix: the trap channel failed: {error:?}");
                return;
            }
            Err(Error::TimedOut) => unix.borrow_mut().expire(syscall::clock_ns()),
            Err(_) => {}
        }
        settle(&mut unix.borrow_mut());
    }
}

/// Answers one trap.
pub fn handle(unix: &mut Unix, trap: TrapMessage) {
    let tid = trap.key as Pid;
    if unix.table.thread(tid).is_none() {
        // A thread the table does not know (it ended meanwhile): end it.
        let _ = syscall::trap_end_thread(unix.trap, trap.thread);
        return;
    }
    if let Some(thread) = unix.threads.get_mut(&tid) {
        thread.id = trap.thread;
    }
    if unix.waits.take(tid).is_some() {
        unix.stats.reissued += 1;
    }
    match trap.kind {
        TRAP_SYSCALL if signal::taken_before_call_by(unix, tid) => {
            // A signal came while the thread ran: Linux takes it before
            // the call, which runs again after it.
            let mut regs = trap.regs;
            regs.rip = regs.rip.wrapping_sub(SYSCALL_LEN);
            resume(unix, tid, regs);
        }
        TRAP_SYSCALL => run(unix, tid, trap, None, false),
        TRAP_FAULT => {
            unix.stats.faults += 1;
            signal::fault(unix, tid, &trap);
        }
        TRAP_INTERRUPT => resume(unix, tid, trap.regs),
        _ => println!("unix: an unknown trap kind {}", trap.kind),
    }
}

/// Runs the woken calls until none is left.
pub fn settle(unix: &mut Unix) {
    while let Some((tid, trap, deadline, timed_out)) = unix.woken.pop_front() {
        if unix.table.thread(tid).is_some() {
            run(unix, tid, trap, deadline, timed_out);
        }
    }
}

/// Runs (or runs again) the system call `trap` holds for thread `tid`;
/// `deadline` is the one it was parked with.
fn run(unix: &mut Unix, tid: Pid, trap: TrapMessage, deadline: Option<u64>, timed_out: bool) {
    let Some(pid) = unix.pid_of(tid) else {
        return;
    };
    let number = trap.regs.rax;
    unix.stats.calls += 1;
    let mut call = Call {
        unix,
        tid,
        pid,
        regs: trap.regs,
        timed_out,
    };
    let outcome = dispatch::dispatch(&mut call, number);
    let regs = call.regs;
    if outcome == Outcome::err(ENOSYS) {
        *unix.stats.enosys.entry(number).or_insert(0) += 1;
    }
    match outcome {
        Outcome::Done(value) => {
            let mut regs = regs;
            regs.rax = value as u64;
            resume(unix, tid, regs);
        }
        Outcome::Resume => resume(unix, tid, regs),
        Outcome::Block(_, _) if timed_out => {
            let mut regs = regs;
            regs.rax = (-ETIMEDOUT) as u64;
            resume(unix, tid, regs);
        }
        Outcome::Block(on, wanted) => {
            if signal::interrupts(unix, tid) {
                let mut regs = trap.regs;
                if signal::restarts(unix, tid, on) {
                    // Run the `syscall` instruction again after the handler.
                    regs.rip = regs.rip.wrapping_sub(SYSCALL_LEN);
                } else {
                    regs.rax = (-EINTR) as u64;
                }
                resume(unix, tid, regs);
            } else {
                unix.waits.park(tid, on, deadline.or(wanted), trap);
            }
        }
        Outcome::Silent => {}
    }
}

/// Resumes thread `tid` with `regs`, after delivering the signals it takes
/// now (which may end it or its process instead).
pub fn resume(unix: &mut Unix, tid: Pid, regs: TrapRegisters) {
    let Some(regs) = signal::deliver(unix, tid, regs) else {
        return;
    };
    let Some(thread) = unix.threads.get(&tid) else {
        return;
    };
    if let Err(error) = syscall::trap_resume(unix.trap, thread.id, &regs) {
        println!("unix: resuming thread {tid} failed: {error:?}");
    }
}

/// Wakes thread `tid` out of its parked call because a signal came: it
/// answers `EINTR` (or restarts) and takes the signal.
pub fn interrupt(unix: &mut Unix, tid: Pid) {
    if let Some(parked) = unix.waits.take(tid) {
        let mut regs = parked.request.regs;
        if signal::restarts(unix, tid, parked.on) {
            regs.rip = regs.rip.wrapping_sub(SYSCALL_LEN);
        } else {
            regs.rax = (-EINTR) as u64;
        }
        resume(unix, tid, regs);
    } else if let Some(thread) = unix.threads.get(&tid) {
        // Running: stop it so it takes the signal (TRAP_INTERRUPT).
        let _ = syscall::trap_interrupt(unix.trap, thread.id);
    }
}
