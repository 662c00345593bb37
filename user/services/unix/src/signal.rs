//! Signals: the calls (`rt_sigaction`, `rt_sigprocmask`, `rt_sigreturn`,
//! `kill`, `tgkill`, `tkill`, `rt_sigsuspend`, `rt_sigpending`,
//! `sigaltstack`, `pause`), sending (to a thread, a process, a group), and
//! taking a pending signal when a thread is about to run again: its default
//! action, or its handler on a signal frame (`abide_linux::sigframe`).
//!
//! A signal for a thread parked in a call interrupts the call
//! ([`crate::trap::interrupt`]); one for a running thread stops it with
//! `trap_interrupt`, and it takes the signal at that trap.

use alloc::vec::Vec;

use abide_abi::record::Record;
use abide_abi::trap::{TrapMessage, TrapRegisters, TRAP_INTERRUPT};
use abide_linux::errno::{EFAULT, EINVAL, ENOMEM, EPERM, ESRCH};
use abide_linux::sigframe::{self, Delivery, Fault, Ucontext};
use abide_linux::signal::{
    code, is_valid, SigAction, SigInfo, SigSet, SigStack, MINSIGSTKSZ, SA_NOCLDSTOP, SA_NOCLDWAIT,
    SA_RESETHAND, SA_RESTART, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP,
    SIGTRAP, SIG_BLOCK, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK, SS_DISABLE, SS_ONSTACK,
};
use abide_unix::signals::{disposition, next_deliverable, taken_before_call, Disposition};
use abide_unix::status::Status;
use abide_unix::table::{Pid, State, INIT_PID};

use crate::call::{Call, Outcome, WaitOn};
use crate::unix::Unix;
use crate::{memory, process, trap};

/// `rt_sigaction(signal, act, oldact, sigsetsize)`.
pub fn rt_sigaction(c: &mut Call) -> Outcome {
    let (signal, act, oldact, size) = (c.arg(0) as u32, c.arg(1), c.arg(2), c.arg(3));
    if size != SigSet::SIZE as u64 || !is_valid(signal) {
        return Outcome::err(EINVAL);
    }
    let Some(process) = c.unix.table.process(c.pid) else {
        return Outcome::err(ESRCH);
    };
    let old = process.actions.get(signal);
    let new = if act != 0 {
        let Some(action) = c
            .read(act, SigAction::LEN)
            .ok()
            .and_then(|b| SigAction::decode(&b))
        else {
            return Outcome::err(EFAULT);
        };
        if signal == SIGKILL || signal == SIGSTOP {
            return Outcome::err(EINVAL);
        }
        Some(SigAction {
            mask: SigSet(action.mask).blockable().0,
            ..action
        })
    } else {
        None
    };
    if oldact != 0 && c.write(oldact, old.encode()).is_err() {
        return Outcome::err(EFAULT);
    }
    if let Some(action) = new {
        if let Some(process) = c.unix.table.process_mut(c.pid) {
            process.actions.set(signal, action);
            // Ignoring a signal discards it if pending.
            if process.actions.ignores(signal) {
                process.pending = process.pending.without(signal);
            }
        }
    }
    Outcome::Done(0)
}

/// `rt_sigprocmask(how, set, oldset, sigsetsize)`.
pub fn rt_sigprocmask(c: &mut Call) -> Outcome {
    let (how, set, oldset, size) = (c.arg(0), c.arg(1), c.arg(2), c.arg(3));
    if size != SigSet::SIZE as u64 {
        return Outcome::err(EINVAL);
    }
    let Some(old) = c.unix.table.thread(c.tid).map(|t| t.mask) else {
        return Outcome::err(ESRCH);
    };
    let new = if set != 0 {
        let Ok(value) = c.read_u64(set) else {
            return Outcome::err(EFAULT);
        };
        Some(match how {
            SIG_BLOCK => old.union(SigSet(value)),
            SIG_UNBLOCK => old.minus(SigSet(value)),
            SIG_SETMASK => SigSet(value),
            _ => return Outcome::err(EINVAL),
        })
    } else {
        None
    };
    if oldset != 0 && c.write_u64(oldset, old.0).is_err() {
        return Outcome::err(EFAULT);
    }
    if let (Some(new), Some(thread)) = (new, c.unix.table.thread_mut(c.tid)) {
        thread.mask = new.blockable();
    }
    Outcome::Done(0)
}

/// `rt_sigpending(set, sigsetsize)`.
pub fn rt_sigpending(c: &mut Call) -> Outcome {
    let pending = pending_for(c.unix, c.tid);
    Outcome::from(c.write_u64(c.arg(0), pending.0).map(|()| 0))
}

/// `rt_sigreturn()`: the registers and mask saved in the signal frame.
pub fn rt_sigreturn(c: &mut Call) -> Outcome {
    let at = sigframe::sigreturn_address(&c.regs);
    let restored = c
        .read(at, Ucontext::LEN)
        .ok()
        .and_then(|bytes| sigframe::sigreturn(&bytes, &c.regs));
    let Some(restored) = restored else {
        // A bad frame: Linux forces SIGSEGV.
        force(c.unix, c.tid, SIGSEGV);
        return Outcome::Resume;
    };
    c.regs = restored.regs;
    if let Some(thread) = c.unix.table.thread_mut(c.tid) {
        thread.mask = restored.mask;
    }
    if let Some(k) = c.unix.threads.get_mut(&c.tid) {
        if k.alt_stack.ss_size != 0 || restored.stack.ss_flags & SS_DISABLE != 0 {
            k.alt_stack = SigStack {
                ss_flags: 0,
                ..restored.stack
            };
        }
    }
    Outcome::Resume
}

/// `rt_sigsuspend(mask, sigsetsize)`: waits for a signal under `mask`.
/// The thread's mask is `mask` while it waits; the old one is kept
/// (`saved_mask`) for the handler's frame to restore, or restored at once
/// when no handler runs ([`deliver`]).
pub fn rt_sigsuspend(c: &mut Call) -> Outcome {
    if c.arg(1) != SigSet::SIZE as u64 {
        return Outcome::err(EINVAL);
    }
    let Ok(mask) = c.read_u64(c.arg(0)) else {
        return Outcome::err(EFAULT);
    };
    let Some(current) = c.unix.table.thread(c.tid).map(|t| t.mask) else {
        return Outcome::err(ESRCH);
    };
    // Run again (woken): the mask to go back to is the one saved the
    // first time.
    if let Some(k) = c.unix.threads.get_mut(&c.tid) {
        k.saved_mask = Some(k.saved_mask.unwrap_or(current));
    }
    if let Some(thread) = c.unix.table.thread_mut(c.tid) {
        thread.mask = SigSet(mask).blockable();
    }
    if interrupts(c.unix, c.tid) {
        return Outcome::err(abide_linux::errno::EINTR);
    }
    Outcome::Block(WaitOn::Signal, None)
}

/// `pause()`: waits for a signal.
pub fn pause(c: &mut Call) -> Outcome {
    if interrupts(c.unix, c.tid) {
        return Outcome::err(abide_linux::errno::EINTR);
    }
    Outcome::Block(WaitOn::Signal, None)
}

/// `sigaltstack(ss, old_ss)`.
pub fn sigaltstack(c: &mut Call) -> Outcome {
    let (ss, old_ss) = (c.arg(0), c.arg(1));
    let Some(current) = c.unix.threads.get(&c.tid).map(|k| k.alt_stack) else {
        return Outcome::err(ESRCH);
    };
    let on_it = current.contains(c.regs.rsp);
    if old_ss != 0 {
        let mut old = current;
        old.ss_flags = if current.ss_size == 0 {
            SS_DISABLE
        } else if on_it {
            SS_ONSTACK
        } else {
            0
        };
        if c.write(old_ss, old.encode()).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    if ss != 0 {
        let Some(new) = c
            .read(ss, SigStack::LEN)
            .ok()
            .and_then(|b| SigStack::decode(&b))
        else {
            return Outcome::err(EFAULT);
        };
        if on_it {
            return Outcome::err(EPERM);
        }
        let new = if new.ss_flags & SS_DISABLE != 0 {
            SigStack::default()
        } else if new.ss_flags != 0 {
            return Outcome::err(EINVAL);
        } else if new.ss_size < MINSIGSTKSZ {
            return Outcome::err(ENOMEM);
        } else {
            new
        };
        if let Some(k) = c.unix.threads.get_mut(&c.tid) {
            k.alt_stack = new;
        }
    }
    Outcome::Done(0)
}

/// `kill(pid, signal)`: to a process (`pid > 0`), the caller's group (0),
/// every other process (-1) or group `-pid`.
pub fn kill(c: &mut Call) -> Outcome {
    let (target, signal) = (c.arg(0) as i32, c.arg(1) as u32);
    if signal != 0 && !is_valid(signal) {
        return Outcome::err(EINVAL);
    }
    let targets: Vec<Pid> = match target {
        t if t > 0 => c
            .unix
            .table
            .process(t.unsigned_abs())
            .map(|p| p.pid)
            .into_iter()
            .collect(),
        0 => {
            let pgid = c.unix.table.process(c.pid).map_or(0, |p| p.pgid);
            c.unix.table.group(pgid)
        }
        -1 => c
            .unix
            .table
            .processes()
            .filter(|p| p.pid != c.pid && !matches!(p.state, State::Zombie(_)))
            .map(|p| p.pid)
            .collect(),
        t => c.unix.table.group(t.unsigned_abs()),
    };
    if targets.is_empty() {
        return Outcome::err(ESRCH);
    }
    if signal != 0 {
        for pid in targets {
            send_process(c.unix, pid, signal);
        }
    }
    Outcome::Done(0)
}

/// `tgkill(tgid, tid, signal)`.
pub fn tgkill(c: &mut Call) -> Outcome {
    let (tgid, tid, signal) = (c.arg(0) as Pid, c.arg(1) as Pid, c.arg(2) as u32);
    thread_kill(c, Some(tgid), tid, signal)
}

/// `tkill(tid, signal)`.
pub fn tkill(c: &mut Call) -> Outcome {
    let (tid, signal) = (c.arg(0) as Pid, c.arg(1) as u32);
    thread_kill(c, None, tid, signal)
}

fn thread_kill(c: &mut Call, tgid: Option<Pid>, tid: Pid, signal: u32) -> Outcome {
    if signal != 0 && !is_valid(signal) {
        return Outcome::err(EINVAL);
    }
    match c.unix.table.thread(tid) {
        Some(t) if tgid.is_none_or(|g| g == t.pid) => {}
        _ => return Outcome::err(ESRCH),
    }
    if signal != 0 {
        send_thread(c.unix, tid, signal);
    }
    Outcome::Done(0)
}

/// Sends `signal` to process `pid`: one of its threads that does not block
/// it takes it.
pub fn send_process(unix: &mut Unix, pid: Pid, signal: u32) {
    let live = unix
        .table
        .process(pid)
        .is_some_and(|p| !matches!(p.state, State::Zombie(_)));
    if !live {
        return;
    }
    if signal == SIGCONT || signal == SIGKILL {
        process::continue_stopped(unix, pid);
    }
    let Some(process) = unix.table.process_mut(pid) else {
        return;
    };
    if process.actions.ignores(signal) && signal != SIGKILL {
        return;
    }
    process.pending = process.pending.with(signal);
    let threads = process.threads.clone();
    let target = threads.iter().copied().find(|t| {
        unix.table
            .thread(*t)
            .is_some_and(|t| !t.mask.blockable().contains(signal))
    });
    if let Some(tid) = target {
        trap::interrupt(unix, tid);
    }
}

/// Sends `signal` to thread `tid`.
pub fn send_thread(unix: &mut Unix, tid: Pid, signal: u32) {
    let Some(pid) = unix.pid_of(tid) else {
        return;
    };
    if signal == SIGCONT || signal == SIGKILL {
        process::continue_stopped(unix, pid);
    }
    let ignored = unix
        .table
        .process(pid)
        .is_some_and(|p| p.actions.ignores(signal));
    if ignored && signal != SIGKILL {
        return;
    }
    if let Some(thread) = unix.table.thread_mut(tid) {
        thread.pending = thread.pending.with(signal);
        if !thread.mask.blockable().contains(signal) {
            trap::interrupt(unix, tid);
        }
    }
}

/// Sends `signal` to every process of group `pgid` (the terminal's `^C`).
#[allow(dead_code)] // The tty module's, being wired.
pub fn send_group(unix: &mut Unix, pgid: Pid, signal: u32) {
    for pid in unix.table.group(pgid) {
        send_process(unix, pid, signal);
    }
}

/// A signal the thread cannot refuse (a fault's, a bad frame's): unblocked
/// and, if ignored, back to its default.
fn force(unix: &mut Unix, tid: Pid, signal: u32) {
    let Some(pid) = unix.pid_of(tid) else {
        return;
    };
    if let Some(process) = unix.table.process_mut(pid) {
        if process.actions.get(signal).handler == SIG_IGN {
            process.actions.set(signal, SigAction::default());
        }
    }
    if let Some(thread) = unix.table.thread_mut(tid) {
        thread.mask = thread.mask.without(signal);
        thread.pending = thread.pending.with(signal);
    }
}

/// The signals pending for thread `tid` (its own and its process's).
fn pending_for(unix: &Unix, tid: Pid) -> SigSet {
    let thread = unix.table.thread(tid);
    let process = thread.and_then(|t| unix.table.process(t.pid));
    SigSet(thread.map_or(0, |t| t.pending.0) | process.map_or(0, |p| p.pending.0))
}

/// Whether thread `tid` has a signal to take now (so a call it would park
/// in is interrupted instead).
pub fn interrupts(unix: &Unix, tid: Pid) -> bool {
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    next_deliverable(pending_for(unix, tid), mask).is_some()
}

/// Whether thread `tid`, stopped at a system call, takes a signal before
/// the call runs (`abide_unix::signals::taken_before_call`: one sent while
/// it ran, such as a signal to a forked child that has not run yet).
pub fn taken_before_call_by(unix: &Unix, tid: Pid) -> bool {
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    taken_before_call(pending_for(unix, tid), mask).is_some()
}

/// Whether a call parked on `on`, interrupted by the signal thread `tid`
/// takes next, runs again after it (`SA_RESTART`, or no handler runs).
pub fn restarts(unix: &Unix, tid: Pid, on: WaitOn) -> bool {
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    let (Some(signal), Some(pid)) = (
        next_deliverable(pending_for(unix, tid), mask),
        unix.pid_of(tid),
    ) else {
        return on.restartable();
    };
    let action = unix
        .table
        .process(pid)
        .map(|p| p.actions.get(signal))
        .unwrap_or_default();
    match disposition(signal, &action) {
        Disposition::Handle(action) => on.restartable() && action.flags & SA_RESTART != 0,
        _ => on.restartable(),
    }
}

/// Takes the signals thread `tid` has pending before it runs on with
/// `regs`: returns the registers to resume with (a handler's frame), or
/// `None` when the thread is not to run now (its process died or
/// stopped; a stopped thread is parked until `SIGCONT`).
pub fn deliver(unix: &mut Unix, tid: Pid, mut regs: TrapRegisters) -> Option<TrapRegisters> {
    loop {
        let pid = unix.pid_of(tid)?;
        if matches!(
            unix.table.process(pid).map(|p| p.state),
            Some(State::Stopped(_))
        ) && !pending_for(unix, tid).contains(SIGKILL)
        {
            park_stopped(unix, tid, regs);
            return None;
        }
        let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
        let Some(signal) = next_deliverable(pending_for(unix, tid), mask) else {
            // A sigsuspend's mask, if no handler took it back.
            if let Some(saved) = unix.threads.get_mut(&tid).and_then(|k| k.saved_mask.take()) {
                if let Some(thread) = unix.table.thread_mut(tid) {
                    thread.mask = saved;
                }
            }
            return Some(regs);
        };
        let mut info = SigInfo::new(signal, code::SI_USER);
        if let Some(thread) = unix.table.thread_mut(tid) {
            if thread.pending.contains(signal) {
                thread.pending = thread.pending.without(signal);
                info = SigInfo::new(signal, code::SI_TKILL);
            } else if let Some(process) = unix.table.process_mut(pid) {
                process.pending = process.pending.without(signal);
            }
        }
        let action = unix
            .table
            .process(pid)
            .map(|p| p.actions.get(signal))
            .unwrap_or_default();
        match disposition(signal, &action) {
            Disposition::Ignore | Disposition::Continue => {}
            Disposition::Kill { core } => {
                process::exit_process(unix, pid, Status::Signaled { signal, core });
                return None;
            }
            Disposition::Stop => process::stop(unix, pid, signal),
            Disposition::Handle(action) => {
                let fault = unix
                    .threads
                    .get_mut(&tid)
                    .and_then(|k| k.fault.take())
                    .filter(|(s, _)| *s == signal)
                    .map(|(_, f)| f)
                    .unwrap_or_default();
                if fault.trapno == 14 {
                    info = SigInfo::new(signal, code::SEGV_MAPERR);
                    let at = abide_linux::signal::siginfo_offset::ADDR - 16;
                    if let Some(slot) = info.fields.get_mut(at..at + 8) {
                        slot.copy_from_slice(&fault.cr2.to_le_bytes());
                    }
                }
                let Some(new) = run_handler(unix, tid, pid, signal, &action, &info, fault, regs)
                else {
                    force(unix, tid, SIGSEGV);
                    if signal == SIGSEGV {
                        process::exit_process(
                            unix,
                            pid,
                            Status::Signaled {
                                signal: SIGSEGV,
                                core: true,
                            },
                        );
                        return None;
                    }
                    continue;
                };
                regs = new;
                // Further signals would nest frames: one at a time.
                return Some(regs);
            }
        }
    }
}

/// Writes the frame that runs `action`'s handler for `signal` on thread
/// `tid`'s stack and sets its mask; the registers to resume with.
#[allow(clippy::too_many_arguments)]
fn run_handler(
    unix: &mut Unix,
    tid: Pid,
    pid: Pid,
    signal: u32,
    action: &SigAction,
    info: &SigInfo,
    fault: Fault,
    regs: TrapRegisters,
) -> Option<TrapRegisters> {
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    let state = unix.threads.get_mut(&tid)?;
    let old_mask = state.saved_mask.take().unwrap_or(mask);
    let alt_stack = if state.alt_stack.ss_size == 0 {
        SigStack::DISABLED
    } else {
        state.alt_stack
    };
    let frame = sigframe::deliver(&Delivery {
        regs: &regs,
        signal,
        info,
        old_mask,
        action,
        fault,
        alt_stack,
    })
    .ok()?;
    // The stack may need to grow to hold the frame.
    let _ = memory::grow_stack(unix, pid, frame.address);
    unix.write_memory(pid, frame.address, frame.bytes()).ok()?;
    if let Some(thread) = unix.table.thread_mut(tid) {
        thread.mask = action.handler_mask(signal, mask);
    }
    if action.flags & SA_RESETHAND != 0 {
        if let Some(process) = unix.table.process_mut(pid) {
            process.actions.set(signal, SigAction::default());
        }
    }
    Some(frame.regs)
}

/// Parks thread `tid` of a stopped process until `SIGCONT`.
fn park_stopped(unix: &mut Unix, tid: Pid, regs: TrapRegisters) {
    let trap = TrapMessage {
        kind: TRAP_INTERRUPT,
        key: u64::from(tid),
        thread: unix.threads.get(&tid).map_or(0, |t| t.id),
        regs,
        ..TrapMessage::default()
    };
    unix.waits.park(tid, WaitOn::Stopped, None, trap);
}

/// Thread `tid` took a CPU exception: a page fault in its stack's reserve
/// grows the stack; anything else is the signal Linux sends for it.
pub fn fault(unix: &mut Unix, tid: Pid, trap: &TrapMessage) {
    let Some(pid) = unix.pid_of(tid) else {
        return;
    };
    if trap.vector == 14 && memory::grow_stack(unix, pid, trap.address).unwrap_or(false) {
        trap::resume(unix, tid, trap.regs);
        return;
    }
    let signal = match trap.vector {
        0 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    };
    if let Some(k) = unix.threads.get_mut(&tid) {
        k.fault = Some((
            signal,
            Fault {
                trapno: u64::from(trap.vector),
                err: trap.error_code,
                cr2: trap.address,
            },
        ));
    }
    force(unix, tid, signal);
    trap::resume(unix, tid, trap.regs);
}

/// A child of `parent` changed state: `SIGCHLD` (unless it stopped and
/// the parent asked not to hear of stops), and the parent's `wait4` wakes.
pub fn child_changed(unix: &mut Unix, parent: Pid, stopped: bool) {
    if parent == INIT_PID {
        return;
    }
    unix.wake(WaitOn::Child(parent));
    let action = unix
        .table
        .process(parent)
        .map(|p| p.actions.get(SIGCHLD))
        .unwrap_or_default();
    if !(stopped && action.flags & SA_NOCLDSTOP != 0) {
        send_process(unix, parent, SIGCHLD);
    }
}

/// Whether `parent` does not wait for its children (`SIGCHLD` ignored or
/// `SA_NOCLDWAIT`): they are reaped as they end.
pub fn reaps_children(unix: &Unix, parent: Pid) -> bool {
    parent == INIT_PID
        || unix.table.process(parent).is_none_or(|p| {
            let action = p.actions.get(SIGCHLD);
            action.handler == SIG_IGN || action.flags & SA_NOCLDWAIT != 0
        })
}
