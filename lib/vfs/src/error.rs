//! How a file-system operation fails: with a Linux errno, or with one of
//! the two answers that send the call back to the component (wait and
//! retry; a device the component serves itself).

use crate::dev::Device;
use abide_linux::errno::EAGAIN;

/// Why an operation did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Fails with this errno (positive; the call returns its negation).
    Errno(i64),
    /// Nothing can be done now on a blocking descriptor: the caller waits
    /// until the object changes (see `Vfs::wait_key`) and calls again. A
    /// non-blocking descriptor gets `Errno(EAGAIN)` instead.
    WouldBlock,
    /// The descriptor is a device the component serves (the terminal,
    /// the console): it carries the call out itself.
    Device(Device),
}

impl Error {
    /// The errno to return when the caller cannot wait or serve the device.
    pub fn errno(self) -> i64 {
        match self {
            Error::Errno(errno) => errno,
            Error::WouldBlock => EAGAIN,
            Error::Device(_) => abide_linux::errno::ENXIO,
        }
    }
}

/// The result of a file-system operation.
pub type Result<T> = core::result::Result<T, Error>;

/// Fails with `errno`.
pub(crate) fn fail<T>(errno: i64) -> Result<T> {
    Err(Error::Errno(errno))
}
