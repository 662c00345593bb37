//! The console terminal: `/dev/tty` and `/dev/console` reads, writes and
//! ioctls on a `lib/tty` [`Terminal`] (Linux's line discipline and job
//! control), fed by the console input [`crate::session`] delivers
//! ([`input`]). `^C`/`^Z`/`^\` go to the foreground process group
//! ([`crate::signal::send_group`]); a read with nothing to return parks on
//! [`WaitOn::Tty`] and runs again when input comes; a background process
//! that reads (or, under `TOSTOP`, writes or changes settings) gets
//! `SIGTTIN`/`SIGTTOU` for its group and its call restarts when it
//! continues.
//!
//! The files module routes the calls on a descriptor of the terminal here
//! (`files/device.rs`, `files/fds.rs`): [`read`], [`write`], [`ioctl`], and
//! [`readable`] with [`wait_for_input`] for `poll`. The session module calls [`input`] with each arrival from
//! the console, [`attach`] when it starts a session on it, and the process
//! module [`leader_exited`] when a session leader ends.

use alloc::vec;
use alloc::vec::Vec;

use abide_linux::errno::{EAGAIN, EFAULT, ENOTTY};
use abide_linux::signal::{SIGTTIN, SIGTTOU, SIG_IGN};
use abide_tty::{arg_use, Arg, ArgUse, Caller, Groups, Read, Refusal, Terminal, MAX_INPUT};
use abide_unix::table::{Pid, State, Table, INIT_PID};

use crate::call::{Call, Outcome, WaitOn};
use crate::files::ANY_IO;
use crate::signal::send_group;
use crate::unix::Unix;
use crate::{session, trap};

/// The most bytes one `read` takes from the terminal.
const READ_MAX: usize = 64 * 1024;

/// The console's terminal, a field of [`Unix`].
#[derive(Debug, Clone, Default)]
pub struct Tty {
    pub terminal: Terminal,
}

/// Bytes typed on the console: the line discipline takes them, its echo
/// goes out, its signals go to the foreground group, and the readers
/// parked on [`WaitOn::Tty`] run again.
pub fn input(unix: &mut Unix, bytes: &[u8]) {
    let result = unix.tty.terminal.input(bytes);
    emit(unix, &result.echo);
    for signal in result.signals {
        send_group(unix, signal.pgrp as Pid, signal.signal);
    }
    wake_readers(unix);
    trap::settle(unix);
}

/// A session starts on the console with `pid`, its leader: the terminal
/// becomes its controlling terminal with the leader's group in the
/// foreground, and starts from Linux's default settings (as after a
/// login).
pub fn attach(unix: &mut Unix, pid: Pid) {
    let Some(process) = unix.table.process(pid) else {
        return;
    };
    let (sid, pgid) = (process.sid, process.pgid);
    let terminal = &mut unix.tty.terminal;
    terminal.set_termios(abide_linux::termios::Termios::linux_default());
    terminal.set_controlling(sid as i32, pgid as i32);
}

/// Process `pid` ended: if it led the terminal's session, the terminal is
/// free again and its foreground group gets `SIGHUP` and `SIGCONT`.
pub fn leader_exited(unix: &mut Unix, pid: Pid) {
    for signal in unix.tty.terminal.session_ended(pid as i32) {
        send_group(unix, signal.pgrp as Pid, signal.signal);
    }
}

/// `read(fd, buf, count)` on the terminal (`nonblock`: the description
/// has `O_NONBLOCK`).
pub fn read(c: &mut Call, buf: u64, count: usize, nonblock: bool) -> Outcome {
    let caller = caller(c.unix, c.tid, c.pid);
    if let Err(refusal) = c.unix.tty.terminal.check_read(&caller) {
        return refused(c.unix, &caller, refusal);
    }
    let mut data = vec![0u8; count.min(READ_MAX)];
    let terminal = &mut c.unix.tty.terminal;
    let result = if c.timed_out {
        terminal.read_timed_out(&mut data)
    } else {
        terminal.read(&mut data)
    };
    match result {
        Read::Data(n) => {
            let bytes = data.get(..n).unwrap_or(&[]);
            match c.write(buf, bytes) {
                Ok(()) => Outcome::Done(n as i64),
                Err(errno) => Outcome::err(errno),
            }
        }
        Read::Eof => Outcome::Done(0),
        Read::WouldBlock if nonblock => Outcome::err(EAGAIN),
        Read::WouldBlock => {
            let deadline = c.unix.tty.terminal.read_timeout().map(|tenths| {
                abide_rt::syscall::clock_ns().saturating_add(u64::from(tenths) * 100_000_000)
            });
            Outcome::Block(wait_for_input(c.unix), deadline)
        }
    }
}

/// `write(fd, buf, count)` of `bytes` (read from the caller) on the
/// terminal: output processing, then the console.
pub fn write(c: &mut Call, bytes: &[u8]) -> Outcome {
    let caller = caller(c.unix, c.tid, c.pid);
    if let Err(refusal) = c.unix.tty.terminal.check_write(&caller) {
        return refused(c.unix, &caller, refusal);
    }
    let out = c.unix.tty.terminal.write(bytes);
    emit(c.unix, &out);
    Outcome::Done(bytes.len() as i64)
}

/// `ioctl(fd, request, arg)` on the terminal: `TCGETS`, `TCSETS*`,
/// `TIOCGWINSZ`, `TIOCSWINSZ`, `TIOCGPGRP`, `TIOCSPGRP`, `TIOCSCTTY`,
/// `TIOCNOTTY`, `TIOCGSID`, `FIONREAD`, `TIOCOUTQ`, `TCFLSH`, `TCXONC`,
/// `TCSBRK`; anything else `ENOTTY` (the files module answers the
/// requests every descriptor has, such as `FIONBIO`, first).
pub fn ioctl(c: &mut Call) -> Outcome {
    let (request, pointer) = (c.arg(1) as u32, c.arg(2));
    let Some(use_) = arg_use(request) else {
        return Outcome::err(ENOTTY);
    };
    let caller = caller(c.unix, c.tid, c.pid);
    let input = match use_ {
        ArgUse::In(len) => match c.read(pointer, len) {
            Ok(bytes) => Some(bytes),
            Err(errno) => return Outcome::err(errno),
        },
        ArgUse::Value | ArgUse::Out(_) => None,
    };
    let arg = match &input {
        Some(bytes) => Arg::Bytes(bytes),
        None => Arg::Value(pointer),
    };
    let unix = &mut *c.unix;
    let result = unix
        .tty
        .terminal
        .ioctl(&caller, &TableGroups(&unix.table), request, arg);
    let reply = match result {
        Ok(reply) => reply,
        Err(refusal) => return refused(unix, &caller, refusal),
    };
    if let ArgUse::Out(_) = use_ {
        if c.write(pointer, &reply.out).is_err() {
            return Outcome::err(EFAULT);
        }
    }
    for signal in reply.signals {
        send_group(c.unix, signal.pgrp as Pid, signal.signal);
    }
    // New settings may make input readable (leaving canonical mode).
    wake_readers(c.unix);
    Outcome::Done(0)
}

/// Whether a read of the terminal would return now (`poll`'s `POLLIN`;
/// the terminal is always writable).
pub fn readable(unix: &Unix) -> bool {
    unix.tty.terminal.readable()
}

/// What a call waiting for terminal input parks on (a read, or a `poll`
/// that found nothing ready): asks the session to read the console.
pub fn wait_for_input(unix: &mut Unix) -> WaitOn {
    session::want_input(unix);
    WaitOn::Tty
}

/// Runs again the reads parked on the terminal and the `poll`s parked on
/// any descriptor.
fn wake_readers(unix: &mut Unix) {
    unix.wake(WaitOn::Tty);
    unix.wake(WaitOn::Io(ANY_IO));
}

/// Sends `bytes` (processed by the terminal) to the console. The serial
/// console turns `\n` into `\r\n` itself, so the terminal's `\r\n` goes as
/// `\n`: the line then carries exactly what the terminal wrote.
fn emit(unix: &mut Unix, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    session::write_console(unix, &console_bytes(bytes));
}

/// `bytes` with each `\r\n` made `\n` (the console adds the `\r` back).
fn console_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes.iter().peekable();
    while let Some(&byte) = rest.next() {
        if byte == b'\r' && rest.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(byte);
    }
    out
}

/// Answers a refused call: its errno, or the signal for the caller's
/// group, the call running again when the group continues (the signal,
/// pending now, interrupts the park: Linux's `-ERESTARTSYS`).
fn refused(unix: &mut Unix, caller: &Caller, refusal: Refusal) -> Outcome {
    match refusal {
        Refusal::Errno(errno) => Outcome::err(errno),
        Refusal::Stop(signal) => {
            send_group(unix, caller.pgrp as Pid, signal);
            Outcome::Block(WaitOn::Tty, None)
        }
    }
}

/// The calling thread as job control sees it.
fn caller(unix: &Unix, tid: Pid, pid: Pid) -> Caller {
    let process = unix.table.process(pid);
    let mask = unix.table.thread(tid).map(|t| t.mask).unwrap_or_default();
    let ignores = |signal: u32| {
        mask.contains(signal) || process.is_some_and(|p| p.actions.get(signal).handler == SIG_IGN)
    };
    let (pgid, sid) = process.map_or((pid, pid), |p| (p.pgid, p.sid));
    Caller {
        pid: pid as i32,
        pgrp: pgid as i32,
        sid: sid as i32,
        // The console is the only terminal.
        other_ctty: false,
        ignores_ttin: ignores(SIGTTIN),
        ignores_ttou: ignores(SIGTTOU),
        orphaned: orphaned(&unix.table, pgid, sid),
        // Every Linux process runs as root.
        privileged: true,
    }
}

/// Whether group `pgid` is orphaned (Linux's `is_current_pgrp_orphaned`):
/// no live member has a parent in another group of the same session.
fn orphaned(table: &Table, pgid: Pid, sid: Pid) -> bool {
    !table
        .processes()
        .filter(|p| p.pgid == pgid && !matches!(p.state, State::Zombie(_)))
        .any(|p| {
            p.ppid != INIT_PID
                && table
                    .process(p.ppid)
                    .is_some_and(|parent| parent.pgid != pgid && parent.sid == sid)
        })
}

/// The process table as the terminal asks about groups.
struct TableGroups<'a>(&'a Table);

impl Groups for TableGroups<'_> {
    fn session_of(&self, pgrp: i32) -> Option<i32> {
        let pgrp = Pid::try_from(pgrp).ok()?;
        let live = |p: &&abide_unix::table::Process| !matches!(p.state, State::Zombie(_));
        self.0
            .processes()
            .filter(live)
            .find(|p| p.pgid == pgrp)
            .or_else(|| self.0.process(pgrp).filter(live))
            .map(|p| p.sid as i32)
    }
}

// The terminal holds at most this much; a read never needs more.
const _: () = assert!(MAX_INPUT < READ_MAX);
