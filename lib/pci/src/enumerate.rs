//! Finding the functions: a walk of bus 0 that descends into the bus behind
//! every PCI-to-PCI bridge ([`walk`], which the kernel's search for its
//! store disk shares), and the enumeration that reads each function's
//! identity, class, interrupt and base address registers.

use alloc::vec::Vec;
use core::ops::ControlFlow;

use crate::{class_name, probe_bars, reg, vendor_name, Address, Bar, ConfigSpace, WriteRefused};

/// The vendor ID read from a function that does not exist.
const NO_VENDOR: u16 = 0xFFFF;
/// Header type bit 7: the device has functions besides function 0.
const MULTIFUNCTION: u8 = 0x80;
/// The header layout of ordinary functions.
const HEADER_GENERAL: u8 = 0x00;
/// The header layout of PCI-to-PCI bridges.
const HEADER_PCI_BRIDGE: u8 = 0x01;
/// The header layout of CardBus bridges.
const HEADER_CARDBUS_BRIDGE: u8 = 0x02;

/// A PCI function as enumeration found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Device {
    /// Where it is.
    pub address: Address,
    /// Who made it.
    pub vendor_id: u16,
    /// What it is, in the vendor's numbering.
    pub device_id: u16,
    /// Its base class (see [`class_name`]).
    pub class: u8,
    /// Its subclass.
    pub subclass: u8,
    /// Its programming interface within the subclass.
    pub prog_if: u8,
    /// Its revision.
    pub revision: u8,
    /// The header layout, bit 7 cleared: 0 general, 1 PCI-to-PCI bridge,
    /// 2 CardBus bridge.
    pub header_type: u8,
    /// Bit 7 of the header type: the device has more than one function.
    pub multifunction: bool,
    /// The legacy interrupt line the firmware routed (0xFF: none).
    pub interrupt_line: u8,
    /// The interrupt pin used, 1..=4 for INTA#..INTD#, 0 for none.
    pub interrupt_pin: u8,
    /// For a PCI-to-PCI bridge, the bus behind it.
    pub secondary_bus: Option<u8>,
    /// The implemented base address registers, by index (none when
    /// [`Device::kernel`]: they could not be sized).
    pub bars: Vec<Bar>,
    /// Its configuration refused writes: the kernel drives it (on Abide,
    /// the persistent store's disk) and no driver may have it.
    pub kernel: bool,
}

impl Device {
    /// The name of its class and subclass.
    pub fn class_name(&self) -> &'static str {
        class_name(self.class, self.subclass)
    }

    /// The name of its vendor, if known.
    pub fn vendor_name(&self) -> Option<&'static str> {
        vendor_name(self.vendor_id)
    }

    /// The ISA IRQ its interrupt pin is routed to, if it uses one: a pin,
    /// and a line the firmware set to an ISA IRQ other than the timer's
    /// (1..=15).
    pub fn irq(&self) -> Option<u8> {
        (self.interrupt_pin != 0 && (1..=15).contains(&self.interrupt_line))
            .then_some(self.interrupt_line)
    }

    /// The BAR with register number `index`, if implemented.
    pub fn bar(&self, index: u8) -> Option<&Bar> {
        self.bars.iter().find(|bar| bar.index() == index)
    }
}

/// Every function reachable from the root buses ([`walk`]), sorted by
/// address, each with its BARs sized by [`probe_bars`].
pub fn enumerate(cs: &mut impl ConfigSpace) -> Vec<Device> {
    let mut devices = Vec::new();
    walk(cs, |cs, addr| {
        devices.extend(read_device(cs, addr));
        ControlFlow::<()>::Continue(())
    });
    devices.sort_by_key(|device| device.address);
    devices
}

/// Calls `visit` with each function present, until it returns `Break`:
/// then that value, or `None` once every function was visited. It only
/// reads configuration space (`visit` may do more).
///
/// Bus 0 is scanned device by device; a device's functions 1..8 only if its
/// header says it is multi-function; functions reading vendor 0xFFFF are
/// absent. The bus behind each PCI-to-PCI bridge is scanned in turn (each
/// bus once, whatever loops the bridges' bus numbers describe; secondary bus
/// 0 means the firmware left the bridge unconfigured). If the host bridge at
/// 00:00.0 is itself multi-function, each of its functions `f` is a host
/// controller for bus `f`.
pub fn walk<C: ConfigSpace, B>(
    cs: &mut C,
    mut visit: impl FnMut(&mut C, Address) -> ControlFlow<B>,
) -> Option<B> {
    let mut buses = Buses::default();
    for bus in root_buses(cs) {
        buses.queue(bus);
    }
    while let Some(bus) = buses.pending.pop() {
        for device in 0..32 {
            let first = Address::new(bus, device, 0);
            if vendor(cs, first) == NO_VENDOR {
                continue;
            }
            let functions = if header_byte(cs, first) & MULTIFUNCTION != 0 {
                8
            } else {
                1
            };
            for function in 0..functions {
                let addr = Address::new(bus, device, function);
                if function != 0 && vendor(cs, addr) == NO_VENDOR {
                    continue;
                }
                if let ControlFlow::Break(found) = visit(cs, addr) {
                    return Some(found);
                }
                if header_byte(cs, addr) & !MULTIFUNCTION == HEADER_PCI_BRIDGE {
                    let secondary = cs.read8(addr, reg::BRIDGE_BUSES + 1);
                    if secondary != 0 {
                        buses.queue(secondary);
                    }
                }
            }
        }
    }
    None
}

/// The buses with a host controller: bus 0, or one per function of a
/// multi-function host bridge.
fn root_buses(cs: &mut impl ConfigSpace) -> Vec<u8> {
    let host = Address::new(0, 0, 0);
    if header_byte(cs, host) & MULTIFUNCTION == 0 {
        return alloc::vec![0];
    }
    (0..8)
        .filter(|&function| vendor(cs, Address::new(0, 0, function)) != NO_VENDOR)
        .collect()
}

/// The buses the walk has still to scan, and those it queued already.
#[derive(Default)]
struct Buses {
    pending: Vec<u8>,
    /// Buses already queued, one bit each.
    seen: [u64; 4],
}

impl Buses {
    /// Queues `bus` unless it was queued before.
    fn queue(&mut self, bus: u8) {
        let (word, bit) = (usize::from(bus / 64), 1u64 << (bus % 64));
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.pending.push(bus);
        }
    }
}

/// The function at `addr` with its BARs sized, or `None` if absent.
pub fn read_device(cs: &mut impl ConfigSpace, addr: Address) -> Option<Device> {
    let id = cs.read32(addr, reg::ID);
    let vendor_id = id as u16;
    if vendor_id == NO_VENDOR {
        return None;
    }
    let [revision, prog_if, subclass, class] = cs.read32(addr, reg::CLASS).to_le_bytes();
    let header = header_byte(cs, addr);
    let header_type = header & !MULTIFUNCTION;
    let [interrupt_line, interrupt_pin, ..] = cs.read32(addr, reg::INTERRUPT).to_le_bytes();
    let secondary_bus =
        (header_type == HEADER_PCI_BRIDGE).then(|| cs.read8(addr, reg::BRIDGE_BUSES + 1));
    let (bars, kernel) = match probe_bars(cs, addr, bar_count(header_type)) {
        Ok(bars) => (bars, false),
        Err(WriteRefused) => (Vec::new(), true),
    };
    Some(Device {
        address: addr,
        vendor_id,
        device_id: (id >> 16) as u16,
        class,
        subclass,
        prog_if,
        revision,
        header_type,
        multifunction: header & MULTIFUNCTION != 0,
        interrupt_line,
        interrupt_pin,
        secondary_bus,
        bars,
        kernel,
    })
}

/// How many BARs a header layout has.
fn bar_count(header_type: u8) -> u8 {
    match header_type {
        HEADER_GENERAL => 6,
        HEADER_PCI_BRIDGE => 2,
        HEADER_CARDBUS_BRIDGE => 1,
        _ => 0,
    }
}

fn vendor(cs: &mut impl ConfigSpace, addr: Address) -> u16 {
    cs.read16(addr, reg::ID)
}

fn header_byte(cs: &mut impl ConfigSpace, addr: Address) -> u8 {
    cs.read8(addr, reg::HEADER + 2)
}
