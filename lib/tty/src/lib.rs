//! A terminal with Linux's line discipline, as plain data: the `/dev/tty`
//! and `/dev/console` of the Unix personality (`user/services/unix`),
//! host-tested by feeding it bytes.
//!
//! The component owns one [`Terminal`] per terminal and does the I/O:
//!
//! ```text
//! keyboard bytes  -> terminal.input(bytes)   -> echo to send, signals for the foreground group
//! read(fd, buf)   -> terminal.check_read(caller)?, terminal.read(buf) -> Data(n) | WouldBlock | Eof
//! write(fd, buf)  -> terminal.check_write(caller)?, terminal.write(buf) -> bytes to send
//! ioctl(fd, r, a) -> arg_use(r) says what to copy in or out; terminal.ioctl(caller, groups, r, arg)
//! poll            -> terminal.readable()
//! ```
//!
//! What is Linux's (`n_tty`, `tty_io.c`, `tty_jobctrl.c`): the kernel's
//! `struct termios` with `tty_std_termios` as the default ([`abide_linux::termios`]);
//! input processing (`ISTRIP`, `IUCLC`, `IGNCR`, `ICRNL`, `INLCR`, `IXON`
//! start/stop); canonical mode (a line at a time, `VERASE`, `VKILL`,
//! `VWERASE`, `VEOF`, `VEOL`, `VEOL2`, `VLNEXT`, `VREPRINT`, echoed with
//! `ECHOE`, `ECHOK`, `ECHOKE`, `ECHOCTL`, `ECHONL`; UTF-8 characters erased
//! whole under `IUTF8`); non-canonical mode with `VMIN`/`VTIME`; `ISIG`
//! (`VINTR`, `VQUIT`, `VSUSP` flush input unless `NOFLSH` and signal the
//! foreground process group); output processing (`OPOST`, `ONLCR`,
//! `OCRNL`, `ONOCR`, `ONLRET`, `OLCUC`, `XTABS`); the controlling session,
//! foreground process group and background access (`SIGTTIN`,
//! `SIGTTOU`, `TOSTOP`); and the ioctls, with Linux's errors. Not modelled:
//! parity and break handling, `ECHOPRT`, `PARMRK`, and holding output while
//! it is stopped (the state is kept, [`Terminal::output_stopped`]). A
//! process's `TIOCNOTTY` other than the session leader's changes nothing
//! (a session's controlling terminal is the terminal's [`Terminal::session`]).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod control;
mod line;
mod output;
mod terminal;

pub use control::{arg_use, Arg, ArgUse, Caller, Groups, Refusal, Reply};
pub use terminal::{GroupSignal, Input, Read, Terminal, MAX_INPUT};
