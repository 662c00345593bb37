//! Finding the functions: a scan of bus 0 that descends into the bus behind
//! every PCI-to-PCI bridge, reading each function's identity, class,
//! interrupt and base address registers.

use alloc::vec::Vec;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// The BAR with register number `index`, if implemented.
    pub fn bar(&self, index: u8) -> Option<&Bar> {
        self.bars.iter().find(|bar| bar.index() == index)
    }
}

/// Every function reachable from bus 0, sorted by address.
///
/// Bus 0 is scanned device by device; a device's functions 1..8 only if its
/// header says it is multi-function; functions reading vendor 0xFFFF are
/// absent. The bus behind each PCI-to-PCI bridge is scanned in turn (each
/// bus once, whatever loops the bridges' bus numbers describe). If the host
/// bridge at 00:00.0 is itself multi-function, each of its functions `f`
/// is a host controller for bus `f`. Each function's BARs are sized with
/// [`probe_bars`].
pub fn enumerate(cs: &mut impl ConfigSpace) -> Vec<Device> {
    let mut scan = Scan::default();
    for bus in root_buses(cs) {
        scan.queue(bus);
    }
    while let Some(bus) = scan.pending.pop() {
        scan_bus(cs, bus, &mut scan);
    }
    scan.devices.sort_by_key(|device| device.address);
    scan.devices
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

/// What the scan has found and what it has still to do.
#[derive(Default)]
struct Scan {
    devices: Vec<Device>,
    pending: Vec<u8>,
    /// Buses already queued, one bit each.
    seen: [u64; 4],
}

impl Scan {
    /// Queues `bus` unless it was queued before.
    fn queue(&mut self, bus: u8) {
        let (word, bit) = (usize::from(bus / 64), 1u64 << (bus % 64));
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.pending.push(bus);
        }
    }
}

fn scan_bus(cs: &mut impl ConfigSpace, bus: u8, scan: &mut Scan) {
    for device in 0..32 {
        scan_device(cs, bus, device, scan);
    }
}

fn scan_device(cs: &mut impl ConfigSpace, bus: u8, device: u8, scan: &mut Scan) {
    let Some(first) = read_device(cs, Address::new(bus, device, 0)) else {
        return;
    };
    let functions = if first.multifunction { 8 } else { 1 };
    found(first, scan);
    for function in 1..functions {
        if let Some(next) = read_device(cs, Address::new(bus, device, function)) {
            found(next, scan);
        }
    }
}

/// Records `device` and queues the bus behind it if it is a bridge.
fn found(device: Device, scan: &mut Scan) {
    // Secondary bus 0 means the firmware left the bridge unconfigured.
    if let Some(bus) = device.secondary_bus.filter(|&bus| bus != 0) {
        scan.queue(bus);
    }
    scan.devices.push(device);
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
