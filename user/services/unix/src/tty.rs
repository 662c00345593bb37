//! The console terminal (engineer `tty` fills this module with
//! `lib/tty`): `/dev/tty` and `/dev/console` reads, writes and ioctls on
//! a line discipline fed by the console input [`crate::session`] delivers,
//! `^C`/`^Z`/`^\` to the foreground process group
//! ([`crate::signal::send_group`]), and blocked reads parked on
//! [`crate::call::WaitOn::Tty`] and woken ([`crate::unix::Unix::wake`])
//! when input comes.

use abide_linux::errno::ENOTTY;
use abide_unix::table::Pid;

use crate::call::{Call, Outcome};
use crate::unix::Unix;

/// Bytes typed on the console ([`crate::session::console_reader`]): the
/// line discipline takes them, its echo goes out with
/// [`crate::session::write_console`], its signals to the foreground group,
/// and the readers parked on [`crate::call::WaitOn::Tty`] are woken. A
/// reader that parks with nothing to read calls
/// [`crate::session::want_input`]. No terminal yet: the bytes are dropped.
pub fn input(unix: &mut Unix, bytes: &[u8]) {
    let _ = (unix, bytes);
}

/// `run` started `pid`, a new session leader: the console becomes its
/// controlling terminal, its group the foreground. No terminal yet.
pub fn attach(unix: &mut Unix, pid: Pid) {
    let _ = (unix, pid);
}

/// `ioctl(fd, request, arg)` on the terminal: `TCGETS`, `TCSETS*`,
/// `TIOCGWINSZ`, `TIOCGPGRP`, `TIOCSPGRP`, ... Not a terminal yet.
#[allow(dead_code)] // `files::ioctl` calls it once descriptors exist.
pub fn ioctl(_c: &mut Call) -> Outcome {
    Outcome::err(ENOTTY)
}
