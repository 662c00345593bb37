//! The terminal devices' reads, writes and readiness (`/dev/tty`,
//! `/dev/console`), which `lib/vfs` leaves to the component: both are the
//! console's terminal, [`crate::tty`] (Linux's line discipline, `lib/tty`).

use abide_linux::fs::open::O_NONBLOCK;
use abide_linux::fs::poll::{POLLIN, POLLOUT};
use abide_vfs::Device;

use super::fs::with;
use crate::call::{Call, Outcome};
use crate::tty;
use crate::unix::Unix;

/// Writes `bytes` to the terminal `device`.
pub fn write(c: &mut Call, device: Device, bytes: &[u8]) -> Outcome {
    let _ = device;
    tty::write(c, bytes)
}

/// Reads up to `count` bytes of terminal input into the caller's `buf`
/// (the call's descriptor is its first argument: `read`, `readv`).
pub fn read(c: &mut Call, device: Device, buf: u64, count: usize) -> Outcome {
    let _ = device;
    let fd = c.arg(0) as i32;
    let nonblock = matches!(
        with(c, |vfs, files, _| vfs.status_flags(files, fd)),
        Ok(Ok(flags)) if flags & O_NONBLOCK != 0
    );
    tty::read(c, buf, count, nonblock)
}

/// The terminal's `poll` events: always writable, readable when a read
/// would return. Asks nothing of the console: a poller that parks for
/// input calls [`tty::wait_for_input`] itself (its park on any descriptor
/// change is woken by [`tty::input`]), and one that does not park (a
/// zero timeout, or events that are not input, as the Rust runtime's
/// check of fds 0..2 at start) must not leave a console read behind that
/// would keep the keys from the Abide shell once the session ends.
pub fn poll(unix: &Unix, device: Device) -> u16 {
    let _ = device;
    if tty::readable(unix) {
        POLLIN | POLLOUT
    } else {
        POLLOUT
    }
}
