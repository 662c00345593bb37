//! What a claim of a function may hand its driver, and what it must
//! withhold: the rules the bus service (`user/drivers/pci`) applies before
//! it asks the kernel for the objects, host-tested here.
//!
//! A claim grants each BAR that has an address, in BAR order: its ports
//! exactly, or the whole pages that hold its memory unless another
//! function's memory BAR lies in those pages (that would grant a part of the
//! other device); then the function's IRQ ([`Device::irq`]). Everything else
//! is withheld with the reason, never silently dropped.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{short_size, Bar, Device};

/// Device memory is granted in whole pages of this many bytes.
pub const PAGE_BYTES: u64 = 4096;

/// One device resource a claim grants, as a kernel object the bus service
/// makes from the hardware resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Resource {
    /// An I/O ports object over `port..port + count`, BAR `bar`.
    Io {
        /// The BAR.
        bar: u8,
        /// The first port.
        port: u16,
        /// How many ports.
        count: u16,
    },
    /// A memory object over device memory: the `len` bytes from `base`,
    /// the whole pages that hold BAR `bar` (`address..address + size`).
    /// The BAR starts `address - base` bytes into the object.
    Memory {
        /// The BAR.
        bar: u8,
        /// The BAR's physical address.
        address: u64,
        /// The BAR's size.
        size: u64,
        /// The object's first physical address (page-aligned).
        base: u64,
        /// The object's length (whole pages).
        len: u64,
        /// Reads have no side effects.
        prefetchable: bool,
    },
    /// An interrupt object for ISA IRQ `irq`, the line the firmware
    /// routed the function's pin to.
    Interrupt {
        /// The IRQ.
        irq: u8,
    },
}

impl Resource {
    /// The kind of kernel object that holds it, as `caps` shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            Resource::Io { .. } => "ioports",
            Resource::Memory { .. } => "memory",
            Resource::Interrupt { .. } => "interrupt",
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match *self {
            Resource::Io { bar, port, count } => {
                let last = u32::from(port) + u32::from(count).max(1) - 1;
                format!("BAR {bar}: ports {port:#x}..={last:#x}")
            }
            Resource::Memory {
                bar,
                address,
                size,
                base,
                len,
                ..
            } => {
                let last = address.saturating_add(size.max(1) - 1);
                let mut text = format!(
                    "BAR {bar}: memory {address:#x}..={last:#x} ({})",
                    short_size(size)
                );
                if (base, len) != (address, size) {
                    text.push_str(&format!(", in the pages {base:#x}+{}", short_size(len)));
                }
                text
            }
            Resource::Interrupt { irq } => format!("IRQ {irq}"),
        }
    }
}

/// What a claim of `device` grants, in order, and what it withholds and
/// why; `others` are the bus's other functions (see the module's rules).
/// The kernel may still refuse a grant (device memory that is RAM, an IRQ
/// it keeps or another driver owns); the bus service moves those to the
/// withheld list.
pub fn plan(device: &Device, others: &[Device]) -> (Vec<Resource>, Vec<String>) {
    let mut grants = Vec::new();
    let mut withheld = Vec::new();
    for bar in &device.bars {
        match plan_bar(bar, others) {
            Ok(grant) => grants.push(grant),
            Err(why) => withheld.push(format!("BAR {}: {why}", bar.index())),
        }
    }
    match device.irq() {
        Some(irq) => grants.push(Resource::Interrupt { irq }),
        None if device.interrupt_pin != 0 => withheld.push(format!(
            "interrupt pin {}: no ISA IRQ routed (line {:#04x})",
            device.interrupt_pin, device.interrupt_line
        )),
        None => {}
    }
    (grants, withheld)
}

fn plan_bar(bar: &Bar, others: &[Device]) -> Result<Resource, String> {
    match *bar {
        Bar::Io { index, port, size } => {
            if port == 0 {
                return Err(String::from("no I/O address assigned"));
            }
            let end = port.checked_add(size).filter(|end| *end <= 0x1_0000);
            let (Some(_), Ok(port), Ok(count)) = (end, u16::try_from(port), u16::try_from(size))
            else {
                return Err(format!("ports {port:#x}+{size:#x} lie beyond 0xffff"));
            };
            Ok(Resource::Io {
                bar: index,
                port,
                count,
            })
        }
        Bar::Memory {
            index,
            address,
            size,
            prefetchable,
            ..
        } => {
            if address == 0 {
                return Err(String::from("no memory address assigned"));
            }
            let (base, end) =
                pages(address, size).ok_or_else(|| format!("{address:#x}+{size:#x} overflows"))?;
            for other in others {
                for theirs in &other.bars {
                    if let Bar::Memory {
                        index: their_index,
                        address: start,
                        size: their_size,
                        ..
                    } = *theirs
                    {
                        let stop = start.saturating_add(their_size);
                        if start != 0 && start < end && base < stop {
                            return Err(format!(
                                "shares a page with {} BAR {their_index}",
                                other.address
                            ));
                        }
                    }
                }
            }
            Ok(Resource::Memory {
                bar: index,
                address,
                size,
                base,
                len: end - base,
                prefetchable,
            })
        }
    }
}

/// The whole pages holding `address..address + size`: their start and end.
fn pages(address: u64, size: u64) -> Option<(u64, u64)> {
    let base = address - address % PAGE_BYTES;
    let end = address.checked_add(size.max(1))?;
    let end = end.checked_add(PAGE_BYTES - 1)? / PAGE_BYTES * PAGE_BYTES;
    Some((base, end))
}
