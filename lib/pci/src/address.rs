//! Where a PCI function is, and how people write it: `bb:dd.f` in
//! hexadecimal, as `lspci` prints it and as the bus service's interface and
//! the shell's `lspci claim` take it.

use alloc::format;
use alloc::string::String;

/// A PCI function's location: bus, device (0..32) and function (0..8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Address {
    /// The bus number.
    pub bus: u8,
    /// The device number on the bus, below 32.
    pub device: u8,
    /// The function number in the device, below 8.
    pub function: u8,
}

impl Address {
    /// The address `bus:device.function`.
    pub const fn new(bus: u8, device: u8, function: u8) -> Self {
        Self {
            bus,
            device,
            function,
        }
    }

    /// Reads `bb:dd.f` (hexadecimal; an optional domain `0000:` before
    /// it), refusing a device from 32 or a function from 8 up. The error
    /// says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a PCI address (bus:device.function, like 00:1f.2)");
        let rest = match text.split_once(':') {
            Some((domain, rest)) if rest.contains(':') => {
                if hex(domain, 4).ok_or_else(bad)? != 0 {
                    return Err(format!("`{text}`: only PCI domain 0 exists here"));
                }
                rest
            }
            _ => text,
        };
        let (bus, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (device, function) = rest.split_once('.').ok_or_else(bad)?;
        let bus = hex(bus, 2).ok_or_else(bad)?;
        let device = hex(device, 2).ok_or_else(bad)?;
        let function = hex(function, 1).ok_or_else(bad)?;
        if device >= 32 || function >= 8 {
            return Err(format!("`{text}`: devices are 00..1f and functions 0..7"));
        }
        Ok(Self::new(bus as u8, device as u8, function as u8))
    }
}

impl core::fmt::Display for Address {
    /// The usual `bb:dd.f` notation in hexadecimal, as `lspci` prints it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:02x}:{:02x}.{:x}",
            self.bus, self.device, self.function
        )
    }
}

/// 1 to `digits` hexadecimal digits.
fn hex(text: &str, digits: usize) -> Option<u32> {
    if text.is_empty() || text.len() > digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}
