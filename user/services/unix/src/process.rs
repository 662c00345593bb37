//! Processes and threads: `clone`/`fork`/`vfork`/`clone3`, `exit`,
//! `exit_group`, `wait4`, `waitid`, and the life cycle behind them —
//! starting a program as a new session ([`start`]), ending a process
//! ([`exit_process`]: zombie, `SIGCHLD`, orphans to init), stopping and
//! continuing it (job control). `execve` is [`crate::exec`].

use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::trap::TrapRegisters;
use abide_linux::errno::{EAGAIN, ECHILD, EFAULT, EINVAL, ENOMEM, ENOSYS};
use abide_linux::signal::SigInfo;
use abide_linux::wait::{WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED};
use abide_rt::println;
use abide_rt::syscall;
use abide_unix::status::Status;
use abide_unix::table::{NoChild, Pid, State, WaitFor, INIT_PID};

use crate::call::{Call, Outcome, WaitOn};
use crate::unix::{Kernel, ThreadKernel, Unix};
use crate::{exec, futex, session, signal, trap};

/// `clone` flags (`<linux/sched.h>`).
pub mod flags {
    pub const CSIGNAL: u64 = 0xff;
    pub const CLONE_VM: u64 = 0x100;
    pub const CLONE_SIGHAND: u64 = 0x800;
    pub const CLONE_VFORK: u64 = 0x4000;
    pub const CLONE_THREAD: u64 = 0x10000;
    pub const CLONE_SETTLS: u64 = 0x80000;
    pub const CLONE_PARENT_SETTID: u64 = 0x100000;
    pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
    pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
}
use flags::*;

/// What a `clone` asks for, from `clone` or `clone3`.
struct CloneArgs {
    flags: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
}

/// `clone(flags, stack, parent_tid, child_tid, tls)`.
pub fn clone(c: &mut Call) -> Outcome {
    let args = CloneArgs {
        flags: c.arg(0),
        stack: c.arg(1),
        parent_tid: c.arg(2),
        child_tid: c.arg(3),
        tls: c.arg(4),
    };
    do_clone(c, args)
}

/// `clone3(args, size)`: `struct clone_args` (flags, pidfd, child_tid,
/// parent_tid, exit_signal, stack, stack_size, tls, ...).
pub fn clone3(c: &mut Call) -> Outcome {
    let size = c.arg(1) as usize;
    if !(64..=4096).contains(&size) {
        return Outcome::err(EINVAL);
    }
    let Ok(bytes) = c.read(c.arg(0), 64) else {
        return Outcome::err(EFAULT);
    };
    let word = |i: usize| {
        bytes
            .get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .unwrap_or(0)
    };
    let (stack, stack_size) = (word(5), word(6));
    let args = CloneArgs {
        flags: word(0) | (word(4) & CSIGNAL),
        stack: if stack == 0 { 0 } else { stack + stack_size },
        parent_tid: word(3),
        child_tid: word(2),
        tls: word(7),
    };
    do_clone(c, args)
}

/// `fork()`.
pub fn fork(c: &mut Call) -> Outcome {
    let args = CloneArgs {
        flags: u64::from(abide_linux::signal::SIGCHLD),
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    do_clone(c, args)
}

/// `vfork()`.
pub fn vfork(c: &mut Call) -> Outcome {
    let args = CloneArgs {
        flags: CLONE_VM | CLONE_VFORK | u64::from(abide_linux::signal::SIGCHLD),
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    do_clone(c, args)
}

fn do_clone(c: &mut Call, args: CloneArgs) -> Outcome {
    // A vfork parent running again: its child has exec'd or ended, or not.
    if let Some(child) = c.unix.vfork_waits.get(&c.tid).copied() {
        let waiting = c
            .unix
            .kernel
            .get(&child)
            .is_some_and(|k| k.vfork_parent == Some(c.tid));
        if waiting {
            return Outcome::Block(WaitOn::Vfork(child), None);
        }
        c.unix.vfork_waits.remove(&c.tid);
        return Outcome::Done(i64::from(child));
    }
    if args.flags & CLONE_THREAD != 0 {
        return new_thread(c, &args);
    }
    let mut regs = c.regs;
    regs.rax = 0;
    if args.stack != 0 {
        regs.rsp = args.stack;
    }
    if args.flags & CLONE_SETTLS != 0 {
        regs.fs_base = args.tls;
    }
    let child = match fork_process(c.unix, c.pid, c.tid, regs) {
        Ok(child) => child,
        Err(errno) => return Outcome::err(errno),
    };
    if args.flags & CLONE_CHILD_SETTID != 0 {
        let _ = c
            .unix
            .write_memory(child, args.child_tid, &child.to_le_bytes());
    }
    if args.flags & CLONE_CHILD_CLEARTID != 0 {
        if let Some(thread) = c.unix.table.thread_mut(child) {
            thread.clear_child_tid = args.child_tid;
        }
    }
    if args.flags & CLONE_PARENT_SETTID != 0 {
        let _ = c.write_u32(args.parent_tid, child);
    }
    if args.flags & CLONE_VFORK != 0 {
        if let Some(k) = c.unix.kernel.get_mut(&child) {
            k.vfork_parent = Some(c.tid);
            if args.flags & CLONE_VM != 0 {
                k.vfork_stack = c.regs.rsp;
            }
        }
        c.unix.vfork_waits.insert(c.tid, child);
        return Outcome::Block(WaitOn::Vfork(child), None);
    }
    Outcome::Done(i64::from(child))
}

/// A copy of process `pid` (its memory, files, signal actions; the
/// calling thread `tid`'s mask), whose one thread starts with `regs`.
pub fn fork_process(unix: &mut Unix, pid: Pid, tid: Pid, regs: TrapRegisters) -> Result<Pid, i64> {
    let name = unix
        .table
        .process(pid)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let (handle, memory, files, exe) = {
        let parent = unix.kernel.get(&pid).ok_or(EINVAL)?;
        (
            parent.handle,
            parent.memory.clone(),
            parent.files.fork(&mut unix.fs),
            parent.exe.clone(),
        )
    };
    let child = unix.table.create(pid, &name).ok_or(EAGAIN)?;
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    if let Some(thread) = unix.table.thread_mut(child) {
        thread.mask = mask;
    }
    let cmdline = unix
        .table
        .process(pid)
        .map(|p| p.cmdline.clone())
        .unwrap_or_default();
    if let Some(process) = unix.table.process_mut(child) {
        process.cmdline = cmdline;
    }
    let copy = match syscall::process_clone(handle, &kernel_name(child, &name), &unix.options) {
        Ok(copy) => copy,
        Err(error) => {
            println!("unix: fork of {pid} failed: {error:?}");
            unix.table.exit(child, Status::Exited(0));
            unix.table.reap(child);
            return Err(ENOMEM);
        }
    };
    unix.kernel.insert(
        child,
        Kernel {
            handle: copy,
            memory,
            files,
            vfork_parent: None,
            vfork_stack: 0,
            exe,
        },
    );
    let alt_stack = unix
        .threads
        .get(&tid)
        .map(|t| t.alt_stack)
        .unwrap_or_default();
    unix.threads.insert(
        child,
        ThreadKernel {
            alt_stack,
            ..ThreadKernel::default()
        },
    );
    match syscall::thread_start(copy, &regs, u64::from(child)) {
        Ok(id) => {
            if let Some(t) = unix.threads.get_mut(&child) {
                t.id = id;
            }
            session::process_started(unix);
            Ok(child)
        }
        Err(error) => {
            println!("unix: starting the child {child} failed: {error:?}");
            exit_process(unix, child, Status::Exited(127));
            Err(ENOMEM)
        }
    }
}

/// The name the kernel knows a Linux process by (`ps` shows it).
pub fn kernel_name(pid: Pid, name: &str) -> String {
    let mut s = alloc::format!("linux:{pid}:{name}");
    s.truncate(abide_abi::object::MAX_PROCESS_NAME);
    s
}

/// A thread in the caller's process (`CLONE_VM | CLONE_THREAD`).
fn new_thread(c: &mut Call, args: &CloneArgs) -> Outcome {
    if args.flags & CLONE_VM == 0 || args.flags & CLONE_SIGHAND == 0 {
        return Outcome::err(EINVAL);
    }
    let mask = c
        .unix
        .table
        .thread(c.tid)
        .map(|t| t.mask)
        .unwrap_or_default();
    let Some(tid) = c.unix.table.add_thread(c.pid, mask) else {
        return Outcome::err(EAGAIN);
    };
    let mut regs = c.regs;
    regs.rax = 0;
    if args.stack != 0 {
        regs.rsp = args.stack;
    }
    if args.flags & CLONE_SETTLS != 0 {
        regs.fs_base = args.tls;
    }
    if args.flags & CLONE_PARENT_SETTID != 0 {
        let _ = c.write_u32(args.parent_tid, tid);
    }
    if args.flags & CLONE_CHILD_SETTID != 0 {
        let _ = c.write_u32(args.child_tid, tid);
    }
    if let Some(thread) = c.unix.table.thread_mut(tid) {
        if args.flags & CLONE_CHILD_CLEARTID != 0 {
            thread.clear_child_tid = args.child_tid;
        }
    }
    let Some(handle) = c.unix.handle(c.pid) else {
        return Outcome::err(EINVAL);
    };
    c.unix.threads.insert(tid, ThreadKernel::default());
    match syscall::thread_start(handle, &regs, u64::from(tid)) {
        Ok(id) => {
            if let Some(t) = c.unix.threads.get_mut(&tid) {
                t.id = id;
            }
            Outcome::Done(i64::from(tid))
        }
        Err(_) => {
            c.unix.table.remove_thread(tid);
            c.unix.threads.remove(&tid);
            Outcome::err(EAGAIN)
        }
    }
}

/// `exit(code)`: the calling thread ends; its process with its last thread.
pub fn exit(c: &mut Call) -> Outcome {
    let code = c.arg(0) as u8;
    let only = c
        .unix
        .table
        .process(c.pid)
        .is_some_and(|p| p.threads.len() <= 1);
    if only {
        exit_process(c.unix, c.pid, Status::Exited(code));
        return Outcome::Silent;
    }
    end_thread(c.unix, c.pid, c.tid);
    Outcome::Silent
}

/// `exit_group(code)`: the process ends.
pub fn exit_group(c: &mut Call) -> Outcome {
    exit_process(c.unix, c.pid, Status::Exited(c.arg(0) as u8));
    Outcome::Silent
}

/// Ends thread `tid` of `pid` (not its last): clears its `clear_child_tid`
/// word and wakes a futex waiter there (`pthread_join`).
fn end_thread(unix: &mut Unix, pid: Pid, tid: Pid) {
    let clear = unix.table.thread(tid).map_or(0, |t| t.clear_child_tid);
    if clear != 0 {
        let _ = unix.write_memory(pid, clear, &0u32.to_le_bytes());
        futex::wake(unix, pid, clear, 1);
    }
    let id = unix.threads.get(&tid).map(|t| t.id);
    unix.waits.take(tid);
    unix.table.remove_thread(tid);
    unix.threads.remove(&tid);
    if let Some(id) = id {
        let _ = syscall::trap_end_thread(unix.trap, id);
    }
}

/// Process `pid` ends with `status`: its threads and kernel process go, its
/// files close, it becomes a zombie for its parent (reaped at once when the
/// parent does not wait), the parent hears `SIGCHLD`, a vfork parent runs
/// on, and the session hears of it.
pub fn exit_process(unix: &mut Unix, pid: Pid, status: Status) {
    if unix
        .table
        .process(pid)
        .is_none_or(|p| matches!(p.state, State::Zombie(_)))
    {
        return;
    }
    // Asked before the table forgets it (a child of init goes at once).
    let session_leader = unix.table.process(pid).is_some_and(|p| p.sid == pid);
    let (threads, parent) = unix.table.exit(pid, status);
    for tid in threads {
        unix.waits.take(tid);
        unix.threads.remove(&tid);
        unix.vfork_waits.remove(&tid);
    }
    if let Some(kernel) = unix.kernel.remove(&pid) {
        if let Some(parent) = kernel.vfork_parent {
            vfork_hand_back(unix, &kernel, parent);
        }
        let _ = syscall::process_kill(kernel.handle);
        let _ = syscall::handle_close(kernel.handle);
        kernel.files.close_all(unix);
        if kernel.vfork_parent.is_some() {
            unix.wake(WaitOn::Vfork(pid));
        }
    }
    crate::tty::leader_exited(unix, pid);
    session::process_ended(unix, pid, parent, session_leader, status);
    if signal::reaps_children(unix, parent) {
        unix.table.reap(pid);
    }
    signal::child_changed(unix, parent, false);
}

/// How many pages from its parent's stack pointer a vfork child that ends
/// without `execve` hands back.
const VFORK_STACK_PAGES: u64 = 2;
/// How many pages below the heap's start (a static program's data and
/// bss) it hands back.
const VFORK_DATA_PAGES: u64 = 32;

/// A `CLONE_VM|CLONE_VFORK` child (`kernel`) ends without `execve`: what
/// it changed in its memory from the stack pointer its parent thread
/// `parent` had at the clone to the end of the next page, and in the
/// pages just below the heap (the program's data and bss), is copied back
/// into the parent. Linux shares the whole memory; here the child has a
/// copy, and that is where what it says to its parent lives: glibc's
/// `posix_spawn` child writes its `execve` error into the parent's frame
/// (`args.err`) before `_exit(127)`, busybox's `spawn` into a global. The
/// parent is stopped in the clone, so nothing of it runs meanwhile.
fn vfork_hand_back(unix: &Unix, kernel: &Kernel, parent: Pid) {
    if kernel.vfork_stack == 0 {
        return;
    }
    let Some(parent) = unix
        .table
        .thread(parent)
        .and_then(|t| unix.kernel.get(&t.pid))
    else {
        return;
    };
    let page = abide_mm::PAGE_SIZE;
    // From the stack pointer itself: below it is the parent's dead stack.
    let stack = kernel.vfork_stack;
    let stack_end = abide_mm::align_down(stack, page).saturating_add(VFORK_STACK_PAGES * page);
    hand_back(kernel.handle, parent.handle, stack, stack_end);
    let heap = abide_mm::align_up(kernel.memory.brk_start, page).unwrap_or(0);
    hand_back(
        kernel.handle,
        parent.handle,
        heap.saturating_sub(VFORK_DATA_PAGES * page),
        heap,
    );
}

/// Copies the bytes of `[start, end)` that differ from `child` into
/// `parent`, page by page; pages either lacks are skipped.
fn hand_back(child: abide_rt::Handle, parent: abide_rt::Handle, start: u64, end: u64) {
    let page = abide_mm::PAGE_SIZE;
    let mut at = start;
    while at < end {
        let next = abide_mm::align_down(at, page).saturating_add(page).min(end);
        let len = (next - at) as usize;
        let (mut theirs, mut ours) = (alloc::vec![0u8; len], alloc::vec![0u8; len]);
        if syscall::process_read(child, at, &mut theirs).is_ok()
            && syscall::process_read(parent, at, &mut ours).is_ok()
            && theirs != ours
        {
            let _ = syscall::process_write(parent, at, &theirs);
        }
        at = next;
    }
}

/// Process `pid` stops (job control): its parent hears of it.
pub fn stop(unix: &mut Unix, pid: Pid, signal: u32) {
    let parent = match unix.table.process_mut(pid) {
        Some(p) if p.state == State::Running => {
            p.state = State::Stopped(signal);
            p.unreported = Some(Status::Stopped(signal));
            p.ppid
        }
        _ => return,
    };
    let threads = unix
        .table
        .process(pid)
        .map(|p| p.threads.clone())
        .unwrap_or_default();
    for tid in threads {
        if !unix.waits.is_parked(tid) {
            if let Some(t) = unix.threads.get(&tid) {
                let _ = syscall::trap_interrupt(unix.trap, t.id);
            }
        }
    }
    signal::child_changed(unix, parent, true);
}

/// A stopped process `pid` continues (`SIGCONT`, `SIGKILL`).
pub fn continue_stopped(unix: &mut Unix, pid: Pid) {
    let parent = match unix.table.process_mut(pid) {
        Some(p) if matches!(p.state, State::Stopped(_)) => {
            p.state = State::Running;
            p.unreported = Some(Status::Continued);
            p.ppid
        }
        _ => return,
    };
    let threads = unix
        .table
        .process(pid)
        .map(|p| p.threads.clone())
        .unwrap_or_default();
    for tid in threads {
        if unix.waits.waiting_on(tid) == Some(&WaitOn::Stopped) {
            if let Some(parked) = unix.waits.take(tid) {
                trap::resume(unix, tid, parked.request.regs);
            }
        }
    }
    if parent != INIT_PID {
        unix.wake(WaitOn::Child(parent));
    }
}

/// `wait4(pid, status, options, rusage)`.
pub fn wait4(c: &mut Call) -> Outcome {
    let (which, status_at, options, rusage) = (c.arg(0) as i32, c.arg(1), c.arg(2), c.arg(3));
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | 0xe000_0000) != 0 {
        return Outcome::err(EINVAL);
    }
    let pgid = c.unix.table.process(c.pid).map_or(0, |p| p.pgid);
    let wait_for = WaitFor::from_arg(which, pgid);
    match c.unix.table.wait(
        c.pid,
        wait_for,
        options & WUNTRACED != 0,
        options & WCONTINUED != 0,
        false,
    ) {
        Err(NoChild) => Outcome::err(ECHILD),
        Ok(Some(reaped)) => {
            if status_at != 0 && c.write_u32(status_at, reaped.status.word() as u32).is_err() {
                return Outcome::err(EFAULT);
            }
            if rusage != 0 && c.write(rusage, &[0u8; 144]).is_err() {
                return Outcome::err(EFAULT);
            }
            Outcome::Done(i64::from(reaped.pid))
        }
        Ok(None) if options & WNOHANG != 0 => Outcome::Done(0),
        Ok(None) => Outcome::Block(WaitOn::Child(c.pid), None),
    }
}

/// `waitid(idtype, id, infop, options, rusage)`.
pub fn waitid(c: &mut Call) -> Outcome {
    const P_ALL: u64 = 0;
    const P_PID: u64 = 1;
    const P_PGID: u64 = 2;
    let (idtype, id, infop, options) = (c.arg(0), c.arg(1) as Pid, c.arg(2), c.arg(3));
    if options & (WEXITED | WSTOPPED | WCONTINUED) == 0 {
        return Outcome::err(EINVAL);
    }
    let wait_for = match idtype {
        P_ALL => WaitFor::Any,
        P_PID => WaitFor::Pid(id),
        P_PGID if id == 0 => WaitFor::Group(c.unix.table.process(c.pid).map_or(0, |p| p.pgid)),
        P_PGID => WaitFor::Group(id),
        _ => return Outcome::err(EINVAL),
    };
    match c.unix.table.wait(
        c.pid,
        wait_for,
        options & WSTOPPED != 0,
        options & WCONTINUED != 0,
        options & WNOWAIT != 0,
    ) {
        Err(NoChild) => Outcome::err(ECHILD),
        Ok(Some(reaped)) => {
            let (code, status) = reaped.status.child_code();
            let info = SigInfo::child(code, reaped.pid as i32, 0, status, 0, 0);
            if infop != 0
                && c.write(infop, abide_abi::record::Record::encode(&info))
                    .is_err()
            {
                return Outcome::err(EFAULT);
            }
            Outcome::Done(0)
        }
        Ok(None) if options & WNOHANG != 0 => {
            if infop != 0 {
                let _ = c.write(infop, &[0u8; 128]);
            }
            Outcome::Done(0)
        }
        Ok(None) => Outcome::Block(WaitOn::Child(c.pid), None),
    }
}

/// Starts `argv` (`argv[0]` the program's path) with `envp` as a new
/// process of init, leader of a new session and group: what the session
/// runs. Returns its pid.
pub fn start(unix: &mut Unix, argv: &[Vec<u8>], envp: &[Vec<u8>]) -> Result<Pid, i64> {
    let path = argv.first().ok_or(EINVAL)?;
    let name = String::from_utf8_lossy(path).into_owned();
    let pid = unix.table.create(INIT_PID, &name).ok_or(EAGAIN)?;
    unix.threads.insert(pid, ThreadKernel::default());
    match exec::exec_new(unix, pid, &name, argv, envp) {
        Ok(()) => Ok(pid),
        Err(errno) => {
            unix.table.exit(pid, Status::Exited(127));
            unix.threads.remove(&pid);
            Err(errno)
        }
    }
}

/// `set_tid_address(tidptr)`: the word cleared when the thread ends.
pub fn set_tid_address(c: &mut Call) -> Outcome {
    let address = c.arg(0);
    if let Some(thread) = c.unix.table.thread_mut(c.tid) {
        thread.clear_child_tid = address;
    }
    Outcome::Done(i64::from(c.tid))
}

/// Calls glibc makes at start-up that may fail: `set_robust_list`, `rseq`.
pub fn not_supported(_c: &mut Call) -> Outcome {
    Outcome::err(ENOSYS)
}
