//! The terminal devices' reads, writes and readiness (`/dev/tty`,
//! `/dev/console`), which `lib/vfs` leaves to the component. Until the
//! line discipline (`lib/tty`, [`crate::tty`]) is wired here, writes go
//! to the debug console, reads wait for terminal input, and the terminal
//! is always ready.

use abide_linux::fs::poll::{POLLIN, POLLOUT};
use abide_rt::syscall;
use abide_vfs::Device;

use crate::call::{Call, Outcome, WaitOn};

/// Writes `bytes` to the terminal `device`.
pub fn write(c: &mut Call, device: Device, bytes: &[u8]) -> Outcome {
    let _ = (c, device);
    let _ = syscall::debug_write(bytes);
    Outcome::Done(bytes.len() as i64)
}

/// Reads up to `count` bytes of terminal input into the caller's `buf`.
pub fn read(c: &mut Call, device: Device, buf: u64, count: usize) -> Outcome {
    let _ = (c, device, buf, count);
    Outcome::Block(WaitOn::Tty, None)
}

/// The terminal's `poll` events.
pub fn poll(device: Device) -> u16 {
    let _ = device;
    POLLIN | POLLOUT
}
