//! The PCI bus interface: what the bus service (`user/programs/pci`)
//! describes and hands out, and the rules both sides follow: address
//! notation, the listing's rows, which capabilities a claim of a function
//! grants, and how the reply's handles pair with what they are.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_records::{Record, Value};
use serde::{Deserialize, Serialize};

use crate::Table;

abide_ipc::interface! {
    /// The PCI bus service: it enumerated the bus at start and hands each
    /// device's capabilities to the one component that claims it.
    pub interface Pci {
        /// One row per function: `address` (`bb:dd.f`), `vendor`, `device`,
        /// `class` (hexadecimal), `name`, `bars`, `irq`, `claimed` (the
        /// claimant's component name, or `-`).
        1 => fn list() -> Table;
        /// Claims the function at `address` (`bb:dd.f`). The reply message
        /// carries handles: the one [`Claim`] describes, in its order.
        /// Refused while another claim holds the function; see
        /// [`Grant::Lease`] for how long a claim lasts.
        2 => fn claim(address: String) -> Claim;
        /// Ends the caller's claim on `address`; the handles it gave are
        /// revoked.
        3 => fn release(address: String) -> String;
    }
}

/// Device memory is granted in whole pages of this many bytes.
pub const PAGE_BYTES: u64 = 4096;

/// A decoded, implemented base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Bar {
    /// I/O ports `port..port + size`.
    Io {
        /// The register's number (0..6).
        index: u8,
        /// The first port.
        port: u32,
        /// How many ports.
        size: u32,
    },
    /// Device memory `address..address + size`.
    Memory {
        /// The register's number (0..6).
        index: u8,
        /// The physical address the firmware assigned.
        address: u64,
        /// The window's size in bytes.
        size: u64,
        /// Reads have no side effects.
        prefetchable: bool,
    },
}

impl Bar {
    /// The register's number.
    pub fn index(&self) -> u8 {
        match *self {
            Bar::Io { index, .. } | Bar::Memory { index, .. } => index,
        }
    }
}

/// A PCI function as the bus service found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// Bus number.
    pub bus: u8,
    /// Device number on the bus (below 32).
    pub device: u8,
    /// Function number (below 8).
    pub function: u8,
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Base class.
    pub class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub prog_if: u8,
    /// The interrupt line the firmware routed (0xFF: none).
    pub interrupt_line: u8,
    /// The interrupt pin, 1..=4 for INTA#..INTD#, 0 for none.
    pub interrupt_pin: u8,
    /// The implemented base address registers.
    pub bars: Vec<Bar>,
    /// The kernel drives it (the persistent store's disk): its
    /// configuration refuses writes, so its BARs are not sized, and no
    /// component may claim it.
    pub kernel: bool,
}

impl Function {
    /// Its address, `bb:dd.f`.
    pub fn address(&self) -> String {
        format_address(self.bus, self.device, self.function)
    }

    /// The ISA IRQ its interrupt pin is routed to, if it uses one: a
    /// pin, and a line the firmware set to an ISA IRQ other than the
    /// timer's (1..=15).
    pub fn irq(&self) -> Option<u8> {
        (self.interrupt_pin != 0 && (1..=15).contains(&self.interrupt_line))
            .then_some(self.interrupt_line)
    }
}

/// What one handle of a [`Claim`] reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// A channel endpoint, always the first handle. The claim lasts
    /// while the claimant holds it: closing it (or ending: a restarted
    /// driver claims its device again like the first time) or calling
    /// `release` ends the claim, and the bus service then revokes every
    /// other handle it granted for the claim (duplicates included).
    Lease,
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

impl Grant {
    /// The kind of kernel object the handle names, as `caps` shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            Grant::Lease => "channel",
            Grant::Io { .. } => "ioports",
            Grant::Memory { .. } => "memory",
            Grant::Interrupt { .. } => "interrupt",
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match *self {
            Grant::Lease => String::from("lease: the claim lasts while it is held"),
            Grant::Io { bar, port, count } => {
                let last = u32::from(port) + u32::from(count).max(1) - 1;
                format!("BAR {bar}: ports {port:#x}..={last:#x}")
            }
            Grant::Memory {
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
            Grant::Interrupt { irq } => format!("IRQ {irq}"),
        }
    }
}

/// The reply to `Pci::claim`. The reply message carries exactly one
/// handle per entry of `grants`, in the same order ([`Claim::pair`]);
/// the first is always the [`Grant::Lease`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The function, `bb:dd.f`.
    pub address: String,
    /// What each handle of the reply is.
    pub grants: Vec<Grant>,
    /// What the function has that the claim does not grant, and why
    /// (a BAR without an address, one sharing a page with another
    /// device's, an IRQ the kernel keeps or another driver owns).
    pub withheld: Vec<String>,
}

impl Claim {
    /// Pairs each grant with the handle that came in its place.
    /// `Err` gives the handles back (to close) when their number is not
    /// the number of grants: the reply is not a claim's.
    pub fn pair<H>(&self, handles: Vec<H>) -> Result<Vec<(Grant, H)>, Vec<H>> {
        if handles.len() != self.grants.len() {
            return Err(handles);
        }
        Ok(self.grants.iter().copied().zip(handles).collect())
    }
}

/// `bb:dd.f` in hexadecimal, as `lspci` writes it.
pub fn format_address(bus: u8, device: u8, function: u8) -> String {
    format!("{bus:02x}:{device:02x}.{function:x}")
}

/// Reads `bb:dd.f` (hexadecimal; an optional domain `0000:` before it)
/// into bus, device (below 32) and function (below 8).
pub fn parse_address(text: &str) -> Result<(u8, u8, u8), String> {
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
    Ok((bus as u8, device as u8, function as u8))
}

/// 1 to `digits` hexadecimal digits.
fn hex(text: &str, digits: usize) -> Option<u32> {
    if text.is_empty() || text.len() > digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

/// A size in the shortest binary unit that divides it: `16M`, `4K`, `32`.
pub fn short_size(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}")
}

/// The BARs in one line: `io c000/32, mem febd1000/4K`.
pub fn describe_bars(bars: &[Bar]) -> String {
    let parts: Vec<String> = bars
        .iter()
        .map(|bar| match *bar {
            Bar::Io { port, size, .. } => format!("io {port:x}/{}", short_size(size.into())),
            Bar::Memory {
                address,
                size,
                prefetchable,
                ..
            } => format!(
                "mem {address:x}/{}{}",
                short_size(size),
                if prefetchable { " pf" } else { "" }
            ),
        })
        .collect();
    if parts.is_empty() {
        String::from("-")
    } else {
        parts.join(", ")
    }
}

/// The columns of `Pci::list`, in order.
pub const LIST_COLUMNS: &[&str] = &[
    "address", "vendor", "device", "class", "name", "bars", "irq", "claimed",
];

/// The `Pci::list` row of `function`, called `name`, claimed by
/// `holder`.
pub fn record(function: &Function, name: &str, holder: Option<&str>) -> Record {
    let irq = match function.irq() {
        Some(irq) => Value::Int(i64::from(irq)),
        None => Value::text("-"),
    };
    Record::new()
        .with("address", Value::Text(function.address()))
        .with("vendor", Value::Text(format!("{:04x}", function.vendor_id)))
        .with("device", Value::Text(format!("{:04x}", function.device_id)))
        .with(
            "class",
            Value::Text(format!("{:02x}{:02x}", function.class, function.subclass)),
        )
        .with("name", Value::text(name))
        .with("bars", Value::Text(describe_bars(&function.bars)))
        .with("irq", irq)
        .with(
            "claimed",
            Value::text(
                holder
                    .or(function.kernel.then_some("kernel"))
                    .unwrap_or("-"),
            ),
        )
}

/// What a claim of `function` grants, in handle order, and what it
/// withholds and why; `others` are the bus's other functions.
///
/// First the [`Grant::Lease`]; then one grant per BAR that has an
/// address, in BAR order: its ports exactly, or the whole pages that
/// hold its memory unless another function's memory BAR lies in those
/// pages (that would grant a part of the other device); then the
/// function's IRQ ([`Function::irq`]). The kernel may still refuse a
/// grant (device memory that is RAM, an IRQ it keeps or another driver
/// owns); the bus service moves those to the withheld list.
pub fn plan(function: &Function, others: &[Function]) -> (Vec<Grant>, Vec<String>) {
    let mut grants = alloc::vec![Grant::Lease];
    let mut withheld = Vec::new();
    for bar in &function.bars {
        match plan_bar(bar, others) {
            Ok(grant) => grants.push(grant),
            Err(why) => withheld.push(format!("BAR {}: {why}", bar.index())),
        }
    }
    match function.irq() {
        Some(irq) => grants.push(Grant::Interrupt { irq }),
        None if function.interrupt_pin != 0 => withheld.push(format!(
            "interrupt pin {}: no ISA IRQ routed (line {:#04x})",
            function.interrupt_pin, function.interrupt_line
        )),
        None => {}
    }
    (grants, withheld)
}

fn plan_bar(bar: &Bar, others: &[Function]) -> Result<Grant, String> {
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
            Ok(Grant::Io {
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
                                other.address()
                            ));
                        }
                    }
                }
            }
            Ok(Grant::Memory {
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
