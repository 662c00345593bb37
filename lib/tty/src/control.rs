//! Job control and the terminal ioctls: who may read, write and change
//! the terminal (background process groups get `SIGTTIN`/`SIGTTOU`, as
//! Linux's `__tty_check_change`), the controlling session and foreground
//! process group, and the requests `ioctl` passes (`TCGETS` ... `TIOCGSID`)
//! with Linux's errors.

use crate::terminal::{GroupSignal, Terminal};
use abide_abi::record::Record;
use abide_linux::errno::{EINVAL, EIO, ENOTTY, EPERM, ESRCH};
use abide_linux::signal::{SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH};
use abide_linux::termios::ioctl::*;
use abide_linux::termios::{
    Termios, Winsize, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON, TOSTOP,
};
use alloc::vec::Vec;

/// The process calling: its ids and what job control needs to know of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller {
    pub pid: i32,
    pub pgrp: i32,
    pub sid: i32,
    /// Its session has a controlling terminal other than this one.
    pub other_ctty: bool,
    /// It ignores or blocks `SIGTTIN`.
    pub ignores_ttin: bool,
    /// It ignores or blocks `SIGTTOU`.
    pub ignores_ttou: bool,
    /// Its process group is orphaned (no parent in another group of the
    /// same session): it would never be continued, so gets `EIO` instead
    /// of being stopped.
    pub orphaned: bool,
    /// It may steal a terminal (`CAP_SYS_ADMIN`; root).
    pub privileged: bool,
}

/// Why a call on the terminal does not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Fail with this errno.
    Errno(i64),
    /// Send this signal to the caller's process group, and restart the
    /// call when it continues (Linux's `-ERESTARTSYS`): a background
    /// process group touched the terminal.
    Stop(u32),
}

/// The process groups the component knows.
pub trait Groups {
    /// The session of process group `pgrp` (or of process `pgrp` if no
    /// group has that id); `None` when neither exists.
    fn session_of(&self, pgrp: i32) -> Option<i32>;
}

/// How an ioctl uses its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgUse {
    /// The argument is a value (or unused): pass [`Arg::Value`].
    Value,
    /// The argument points at this many bytes to read: pass
    /// [`Arg::Bytes`].
    In(usize),
    /// The argument points where the reply's [`Reply::out`] (this many
    /// bytes) is written: pass [`Arg::Value`].
    Out(usize),
}

/// An ioctl's argument as the component read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg<'a> {
    Value(u64),
    Bytes(&'a [u8]),
}

/// What a successful ioctl gives back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Bytes to write where the argument points ([`ArgUse::Out`]).
    pub out: Vec<u8>,
    /// Signals to send to process groups (`SIGWINCH` after a window change,
    /// `SIGHUP` and `SIGCONT` when the session leader gives the terminal
    /// up).
    pub signals: Vec<GroupSignal>,
}

/// How `request` uses its argument; `None` when it is not a terminal
/// request (the component answers `ENOTTY`, or handles requests such as
/// `FIONBIO` that apply to every file).
pub fn arg_use(request: u32) -> Option<ArgUse> {
    Some(match request {
        TCGETS => ArgUse::Out(Termios::LEN),
        TCSETS | TCSETSW | TCSETSF => ArgUse::In(Termios::LEN),
        TIOCGWINSZ => ArgUse::Out(Winsize::LEN),
        TIOCSWINSZ => ArgUse::In(Winsize::LEN),
        TIOCGPGRP | TIOCGSID | FIONREAD | TIOCOUTQ => ArgUse::Out(4),
        TIOCSPGRP => ArgUse::In(4),
        TIOCSCTTY | TIOCNOTTY | TCFLSH | TCXONC | TCSBRK => ArgUse::Value,
        _ => return None,
    })
}

impl Terminal {
    /// Makes this the controlling terminal of session `sid` with `pgrp` in
    /// the foreground (what `getty` or `init` does for a login shell with
    /// `setsid` and `TIOCSCTTY`).
    pub fn set_controlling(&mut self, sid: i32, pgrp: i32) {
        self.session = Some(sid);
        self.foreground = Some(pgrp);
    }

    /// Whether this is the controlling terminal of `caller`.
    fn controls(&self, caller: &Caller) -> bool {
        self.session == Some(caller.sid)
    }

    /// Linux's `__tty_check_change`: a process of a background group of
    /// the terminal's session gets `signal` (unless it ignores it, when
    /// reading fails with `EIO` and changing goes ahead) or, orphaned,
    /// `EIO`.
    fn check(&self, caller: &Caller, signal: u32) -> Result<(), Refusal> {
        if !self.controls(caller) {
            return Ok(());
        }
        match self.foreground {
            Some(pgrp) if pgrp != caller.pgrp => {}
            _ => return Ok(()),
        }
        let ignores = if signal == SIGTTIN {
            caller.ignores_ttin
        } else {
            caller.ignores_ttou
        };
        if ignores {
            if signal == SIGTTIN {
                Err(Refusal::Errno(EIO))
            } else {
                Ok(())
            }
        } else if caller.orphaned {
            Err(Refusal::Errno(EIO))
        } else {
            Err(Refusal::Stop(signal))
        }
    }

    /// May `caller` read now? A background process gets `SIGTTIN`.
    pub fn check_read(&self, caller: &Caller) -> Result<(), Refusal> {
        self.check(caller, SIGTTIN)
    }

    /// May `caller` write now? Under `TOSTOP` a background process gets
    /// `SIGTTOU`.
    pub fn check_write(&self, caller: &Caller) -> Result<(), Refusal> {
        if self.termios.c_lflag & TOSTOP == 0 {
            return Ok(());
        }
        self.check(caller, SIGTTOU)
    }

    /// May `caller` change the terminal's settings now? A background
    /// process gets `SIGTTOU`.
    pub fn check_change(&self, caller: &Caller) -> Result<(), Refusal> {
        self.check(caller, SIGTTOU)
    }

    /// Session `sid`'s leader exited: the terminal is no longer its
    /// controlling terminal, and its foreground group gets `SIGHUP` and
    /// `SIGCONT`.
    pub fn session_ended(&mut self, sid: i32) -> Vec<GroupSignal> {
        if self.session != Some(sid) {
            return Vec::new();
        }
        self.session = None;
        match self.foreground.take() {
            Some(pgrp) => [SIGHUP, SIGCONT]
                .into_iter()
                .map(|signal| GroupSignal { pgrp, signal })
                .collect(),
            None => Vec::new(),
        }
    }

    /// Carries out terminal request `request` for `caller`; `arg` as
    /// [`arg_use`] says.
    pub fn ioctl(
        &mut self,
        caller: &Caller,
        groups: &dyn Groups,
        request: u32,
        arg: Arg<'_>,
    ) -> Result<Reply, Refusal> {
        let mut reply = Reply::default();
        match (request, arg) {
            (TCGETS, _) => reply.out = self.termios.encode().to_vec(),
            (TCSETS | TCSETSW | TCSETSF, Arg::Bytes(bytes)) => {
                let termios = Termios::decode(bytes).ok_or(Refusal::Errno(EINVAL))?;
                self.check_change(caller)?;
                if request == TCSETSF {
                    self.flush_input();
                }
                self.set_termios(termios);
            }
            (TIOCGWINSZ, _) => reply.out = self.winsize.encode().to_vec(),
            (TIOCSWINSZ, Arg::Bytes(bytes)) => {
                let winsize = Winsize::decode(bytes).ok_or(Refusal::Errno(EINVAL))?;
                if winsize != self.winsize {
                    self.winsize = winsize;
                    if let Some(pgrp) = self.foreground {
                        reply.signals.push(GroupSignal {
                            pgrp,
                            signal: SIGWINCH,
                        });
                    }
                }
            }
            (TIOCGPGRP, _) => {
                if !self.controls(caller) {
                    return Err(Refusal::Errno(ENOTTY));
                }
                reply.out = self.foreground.unwrap_or(0).to_le_bytes().to_vec();
            }
            (TIOCSPGRP, Arg::Bytes(bytes)) => {
                let pgrp = i32::from_le_bytes(int(bytes)?);
                self.set_foreground(caller, groups, pgrp)?;
            }
            (TIOCGSID, _) => match self.session {
                Some(sid) if self.controls(caller) => reply.out = sid.to_le_bytes().to_vec(),
                _ => return Err(Refusal::Errno(ENOTTY)),
            },
            (TIOCSCTTY, Arg::Value(steal)) => self.acquire(caller, steal == 1)?,
            (TIOCNOTTY, _) => {
                if !self.controls(caller) {
                    return Err(Refusal::Errno(ENOTTY));
                }
                if caller.pid == caller.sid {
                    reply.signals = self.session_ended(caller.sid);
                }
            }
            (FIONREAD, _) => reply.out = (self.pending() as i32).to_le_bytes().to_vec(),
            (TIOCOUTQ, _) => reply.out = 0i32.to_le_bytes().to_vec(),
            (TCFLSH, Arg::Value(queue)) => {
                self.check_change(caller)?;
                match queue {
                    TCIFLUSH | TCIOFLUSH => self.flush_input(),
                    TCOFLUSH => {}
                    _ => return Err(Refusal::Errno(EINVAL)),
                }
            }
            (TCXONC, Arg::Value(action)) => {
                self.check_change(caller)?;
                match action {
                    TCOOFF => self.flow_stopped = true,
                    TCOON => self.flow_stopped = false,
                    TCIOFF | TCION => {}
                    _ => return Err(Refusal::Errno(EINVAL)),
                }
            }
            (TCSBRK, _) => self.check_change(caller)?,
            _ => return Err(Refusal::Errno(ENOTTY)),
        }
        Ok(reply)
    }

    /// `TIOCSPGRP` (Linux's `tiocspgrp`).
    fn set_foreground(
        &mut self,
        caller: &Caller,
        groups: &dyn Groups,
        pgrp: i32,
    ) -> Result<(), Refusal> {
        match self.check_change(caller) {
            Err(Refusal::Errno(EIO)) => return Err(Refusal::Errno(ENOTTY)),
            other => other?,
        }
        if pgrp < 0 {
            return Err(Refusal::Errno(EINVAL));
        }
        if !self.controls(caller) {
            return Err(Refusal::Errno(ENOTTY));
        }
        match groups.session_of(pgrp) {
            None => Err(Refusal::Errno(ESRCH)),
            Some(sid) if sid != caller.sid => Err(Refusal::Errno(EPERM)),
            Some(_) => {
                self.foreground = Some(pgrp);
                Ok(())
            }
        }
    }

    /// `TIOCSCTTY` (Linux's `tiocsctty`): a session leader without a
    /// controlling terminal takes this one; a privileged one may steal it
    /// from another session with `steal`.
    fn acquire(&mut self, caller: &Caller, steal: bool) -> Result<(), Refusal> {
        let leader = caller.pid == caller.sid;
        if leader && self.controls(caller) {
            return Ok(());
        }
        if !leader || caller.other_ctty {
            return Err(Refusal::Errno(EPERM));
        }
        if self.session.is_some() && !(steal && caller.privileged) {
            return Err(Refusal::Errno(EPERM));
        }
        self.set_controlling(caller.sid, caller.pgrp);
        Ok(())
    }
}

/// A `pid_t` argument's bytes.
fn int(bytes: &[u8]) -> Result<[u8; 4], Refusal> {
    bytes.try_into().map_err(|_| Refusal::Errno(EINVAL))
}
