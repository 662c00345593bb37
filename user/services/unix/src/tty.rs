//! The console terminal (engineer `tty` fills this module with
//! `lib/tty`): `/dev/tty` and `/dev/console` reads, writes and ioctls on
//! a line discipline fed by the console input [`crate::session`] delivers,
//! `^C`/`^Z`/`^\` to the foreground process group
//! ([`crate::signal::send_group`]), and blocked reads parked on
//! [`crate::call::WaitOn::Tty`] and woken ([`crate::unix::Unix::wake`])
//! when input comes.

use abide_linux::errno::ENOTTY;

use crate::call::{Call, Outcome};

/// `ioctl(fd, request, arg)` on the terminal: `TCGETS`, `TCSETS*`,
/// `TIOCGWINSZ`, `TIOCGPGRP`, `TIOCSPGRP`, ... Not a terminal yet.
#[allow(dead_code)] // `files::ioctl` calls it once descriptors exist.
pub fn ioctl(_c: &mut Call) -> Outcome {
    Outcome::err(ENOTTY)
}
