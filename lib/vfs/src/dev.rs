//! The character devices of `/dev`: which ones exist, their device
//! numbers, and the reads and writes of those that need no component
//! (`null`, `zero`, `full`, `random`, `urandom`).

use crate::error::{fail, Error, Result};
use abide_linux::errno::ENOSPC;
use abide_linux::fs::makedev;

/// A character device node's device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// `/dev/null`: reads end at once, writes vanish.
    Null,
    /// `/dev/zero`: reads give zeros, writes vanish.
    Zero,
    /// `/dev/full`: reads give zeros, writes fail with `ENOSPC`.
    Full,
    /// `/dev/random`: like `urandom`.
    Random,
    /// `/dev/urandom`: reads give the caller's random bytes.
    Urandom,
    /// `/dev/tty`: the caller's controlling terminal (the component's).
    Tty,
    /// `/dev/console`: the system console (the component's).
    Console,
    /// Any other device number: opening it fails with `ENXIO`.
    Other(u64),
}

/// The nodes `/dev` is populated with: name, device.
pub const DEV_NODES: [(&str, Device); 7] = [
    ("null", Device::Null),
    ("zero", Device::Zero),
    ("full", Device::Full),
    ("random", Device::Random),
    ("urandom", Device::Urandom),
    ("tty", Device::Tty),
    ("console", Device::Console),
];

impl Device {
    /// The device number Linux gives it.
    pub fn rdev(self) -> u64 {
        match self {
            Device::Null => makedev(1, 3),
            Device::Zero => makedev(1, 5),
            Device::Full => makedev(1, 7),
            Device::Random => makedev(1, 8),
            Device::Urandom => makedev(1, 9),
            Device::Tty => makedev(5, 0),
            Device::Console => makedev(5, 1),
            Device::Other(rdev) => rdev,
        }
    }

    /// The device with Linux's number `rdev`.
    pub fn from_rdev(rdev: u64) -> Device {
        DEV_NODES
            .iter()
            .map(|&(_, device)| device)
            .find(|device| device.rdev() == rdev)
            .unwrap_or(Device::Other(rdev))
    }

    /// Whether the component serves its reads and writes.
    pub fn served_by_component(self) -> bool {
        matches!(self, Device::Tty | Device::Console)
    }

    /// Reads into `buf`; `random` fills it with random bytes.
    pub(crate) fn read(self, buf: &mut [u8], random: &dyn Fn(&mut [u8])) -> Result<usize> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random | Device::Urandom => {
                random(buf);
                Ok(buf.len())
            }
            Device::Tty | Device::Console | Device::Other(_) => Err(Error::Device(self)),
        }
    }

    /// Writes `buf`.
    pub(crate) fn write(self, buf: &[u8]) -> Result<usize> {
        match self {
            Device::Null | Device::Zero | Device::Random | Device::Urandom => Ok(buf.len()),
            Device::Full => fail(ENOSPC),
            Device::Tty | Device::Console | Device::Other(_) => Err(Error::Device(self)),
        }
    }
}
