//! PCI configuration space through mechanism #1 (ports 0xCF8 and 0xCFC),
//! as virtio-drivers' [`ConfigurationAccess`], and the scan that finds the
//! store's virtio-blk function.
//!
//! The user-space PCI service (`user/drivers/pci`) reaches the same two
//! ports through an I/O-ports object, one system call per access, so it can
//! be preempted between writing the address and reading the data. Every
//! access here therefore puts back the address register it found: the
//! kernel's accesses are invisible to it.
//!
//! The store's function is the kernel's alone: [`guard`] records it, and
//! from then on [`user_write_allowed`] refuses a user-space write through
//! the data port while the address register selects it (reads stay
//! allowed, so `lspci` still lists it), and [`overlaps_ecam`] keeps the
//! memory-mapped configuration window of a q35 machine out of drivers'
//! reach, so the ports are the only way in. Writes to the q35 register that
//! places that window are refused too, and so is any write that would turn
//! on a function's bus mastering: without an IOMMU a mastering device
//! reaches all memory, so only the kernel's store disk masters the bus.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use virtio_drivers::transport::pci::bus::{
    Command, ConfigurationAccess, DeviceFunction, PciRoot, PCI_CAP_ID_VNDR,
};
use x86_64::instructions::interrupts;
use x86_64::instructions::port::Port;

/// The configuration address register.
const CONFIG_ADDRESS: u16 = 0xCF8;
/// The configuration data register.
const CONFIG_DATA: u16 = 0xCFC;

/// Red Hat's vendor ID, which every virtio device has.
pub const VIRTIO_VENDOR: u16 = 0x1AF4;
/// virtio-blk, transitional (legacy and modern interfaces).
pub const VIRTIO_BLK_TRANSITIONAL: u16 = 0x1001;
/// virtio-blk, modern only (`disable-legacy=on`): 0x1040 + device type 2.
pub const VIRTIO_BLK_MODERN: u16 = 0x1042;

/// Register offsets in the configuration header.
const VENDOR_DEVICE: u8 = 0x00;
const COMMAND: u8 = 0x04;
const HEADER_TYPE_DWORD: u8 = 0x0C;
const BRIDGE_BUSES: u8 = 0x18;
/// Header type bit 7: the device has more functions than function 0.
const MULTIFUNCTION: u8 = 0x80;
/// The header layout of a PCI-to-PCI bridge.
const HEADER_PCI_BRIDGE: u8 = 0x01;

/// Mechanism #1 configuration access. It holds nothing: the ports are the
/// machine's.
#[derive(Debug, Clone, Copy)]
pub struct PortCam;

/// The dword written to 0xCF8 to select `offset` of `function`.
fn address(function: DeviceFunction, offset: u8) -> u32 {
    0x8000_0000
        | (u32::from(function.bus) << 16)
        | (u32::from(function.device & 0x1F) << 11)
        | (u32::from(function.function & 0x07) << 8)
        | u32::from(offset & 0xFC)
}

impl PortCam {
    /// Runs `access` on the data port with `function`'s `offset` selected,
    /// restoring the address register afterwards, with interrupts off so
    /// nothing comes between.
    fn with_selected<R>(
        function: DeviceFunction,
        offset: u8,
        access: impl FnOnce(&mut Port<u32>) -> R,
    ) -> R {
        interrupts::without_interrupts(|| {
            let mut address_port = Port::<u32>::new(CONFIG_ADDRESS);
            let mut data_port = Port::<u32>::new(CONFIG_DATA);
            // SAFETY: 0xCF8/0xCFC are the PCI configuration mechanism: they
            // touch no memory. Selecting a register and accessing it has no
            // effect beyond configuration space, and the previous selection
            // is put back before anyone else can use the ports (interrupts
            // are off and the kernel runs on one CPU).
            unsafe {
                let previous = address_port.read();
                address_port.write(address(function, offset));
                let result = access(&mut data_port);
                address_port.write(previous);
                result
            }
        })
    }
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        // SAFETY: reading a configuration register has no side effects on
        // memory (see `with_selected`).
        Self::with_selected(function, offset, |data| unsafe { data.read() })
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, value: u32) {
        // SAFETY: the port access itself touches no memory (see
        // `with_selected`). What is written is virtio-drivers' and ours: the
        // command register, and BARs sized with decoding off and restored.
        Self::with_selected(function, offset, |data| unsafe { data.write(value) })
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

/// The enable bit of the address register.
const ADDRESS_ENABLE: u32 = 1 << 31;
/// The bus, device and function bits of the address register.
const ADDRESS_FUNCTION: u32 = 0x00FF_FF00;
/// The register bits that select a dword in the function.
const ADDRESS_OFFSET: u32 = 0xFC;
/// No function is guarded.
const UNGUARDED: u32 = u32::MAX;

/// The store's function as the address register selects it (its
/// [`ADDRESS_FUNCTION`] bits), or [`UNGUARDED`].
static GUARDED: AtomicU32 = AtomicU32::new(UNGUARDED);
/// A q35 host bridge's memory-mapped configuration window (PCIEXBAR), as
/// start and end; both 0 when there is none.
static ECAM: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

/// The host bridge, where q35 keeps PCIEXBAR.
const HOST_BRIDGE: DeviceFunction = DeviceFunction {
    bus: 0,
    device: 0,
    function: 0,
};
/// Intel's vendor ID and the q35 memory controller hub's device ID.
const Q35_HOST_BRIDGE: u32 = 0x29C0_8086;
/// PCIEXBAR's offset in the host bridge (a 64-bit register).
const PCIEXBAR: u8 = 0x60;

/// Makes `function` the kernel's: user space may no longer write its
/// configuration space. `None` lifts the guard (the store failed to come
/// up, so a driver may have the device). Also records the machine's
/// memory-mapped configuration window, which drivers may then not map.
pub fn guard(function: Option<DeviceFunction>) {
    let selected = function.map_or(UNGUARDED, |f| address(f, 0) & ADDRESS_FUNCTION);
    GUARDED.store(selected, Ordering::Relaxed);
    let cam = PortCam;
    let (start, end) = match cam.read_word(HOST_BRIDGE, VENDOR_DEVICE) {
        Q35_HOST_BRIDGE => q35_ecam(
            cam.read_word(HOST_BRIDGE, PCIEXBAR),
            cam.read_word(HOST_BRIDGE, PCIEXBAR + 4),
        ),
        _ => (0, 0),
    };
    ECAM.0.store(start, Ordering::Relaxed);
    ECAM.1.store(end, Ordering::Relaxed);
}

/// The window q35's PCIEXBAR (`low`, `high` dwords) places: bit 0 enables
/// it, bits 2:1 give its length (256, 128 or 64 MiB: 256, 128 or 64 buses),
/// the address bits above the length give its base.
fn q35_ecam(low: u32, high: u32) -> (u64, u64) {
    if low & 1 == 0 {
        return (0, 0);
    }
    let len: u64 = match (low >> 1) & 0b11 {
        0 => 256 << 20,
        1 => 128 << 20,
        2 => 64 << 20,
        _ => return (0, 0),
    };
    // Bits 35 down to log2(len).
    let mask = ((1u64 << 36) - 1) & !(len - 1);
    let start = ((u64::from(high) << 32) | u64::from(low)) & mask;
    (start, start + len)
}

/// True when user space may write `value` (`width` bytes) at I/O port
/// `port`: always, unless the write reaches the data port while the
/// address register selects the store's function or the host bridge's
/// PCIEXBAR (offsets 0x60..0x68 of 00:00.0), or would turn on the selected
/// function's bus mastering (`abide_pci::guard`: no user-space driver may
/// DMA without an IOMMU).
pub fn user_write_allowed(port: u16, width: u16, value: u32) -> bool {
    let (start, end) = (u32::from(port), u32::from(port) + u32::from(width));
    let data = u32::from(CONFIG_DATA);
    if end <= data || start >= data + 4 {
        return true;
    }
    // SAFETY: reading the address register has no side effects.
    let selected = unsafe { Port::<u32>::new(CONFIG_ADDRESS).read() };
    if !data_write_allowed(selected, GUARDED.load(Ordering::Relaxed)) {
        return false;
    }
    let command_selected =
        selected & ADDRESS_ENABLE != 0 && selected & ADDRESS_OFFSET == u32::from(COMMAND);
    // The address register selects the command dword already: the data
    // port reads it (a read has no side effects).
    let current = if command_selected {
        // SAFETY: as above, a configuration read changes nothing.
        unsafe { Port::<u32>::new(CONFIG_DATA).read() as u16 }
    } else {
        0
    };
    !abide_pci::guard::turns_on_bus_master(selected, port, width, value, current)
}

/// True when a write through the data port may go to the register the
/// address register value `selected` names, `guarded` being the function
/// kernel keeps (its [`ADDRESS_FUNCTION`] bits, or [`UNGUARDED`]).
pub fn data_write_allowed(selected: u32, guarded: u32) -> bool {
    if selected & ADDRESS_ENABLE == 0 {
        return true;
    }
    let function = selected & ADDRESS_FUNCTION;
    // PCIEXBAR on q35; on other host bridges nothing a driver writes.
    let places_ecam = function == address(HOST_BRIDGE, 0) & ADDRESS_FUNCTION
        && (selected & ADDRESS_OFFSET) & !4 == u32::from(PCIEXBAR);
    function != guarded && !places_ecam
}

/// The address register value that selects `offset` of `function`.
pub fn select(function: DeviceFunction, offset: u8) -> u32 {
    address(function, offset)
}

/// The function the kernel keeps, as [`data_write_allowed`] takes it.
pub fn guarded() -> u32 {
    GUARDED.load(Ordering::Relaxed)
}

/// The memory-mapped configuration window found, as (start, end); (0, 0)
/// when there is none.
pub fn ecam_window() -> (u64, u64) {
    (
        ECAM.0.load(Ordering::Relaxed),
        ECAM.1.load(Ordering::Relaxed),
    )
}

/// True when `phys..end` overlaps the memory-mapped configuration window.
pub fn overlaps_ecam(phys: u64, end: u64) -> bool {
    let (start, stop) = (
        ECAM.0.load(Ordering::Relaxed),
        ECAM.1.load(Ordering::Relaxed),
    );
    stop != 0 && phys < stop && start < end
}

/// A virtio-blk function found on the bus.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub function: DeviceFunction,
    pub device_id: u16,
}

/// Finds the first virtio-blk function: bus 0, then the bus behind every
/// PCI-to-PCI bridge (each bus once, whatever the bridges claim).
pub fn find_virtio_blk(cam: &PortCam) -> Option<Found> {
    let mut visited = [false; 256];
    let mut pending: Vec<u8> = alloc::vec![0];
    while let Some(bus) = pending.pop() {
        let Some(seen) = visited.get_mut(usize::from(bus)) else {
            continue;
        };
        if core::mem::replace(seen, true) {
            continue;
        }
        for device in 0..32 {
            for function in 0..8 {
                let at = DeviceFunction {
                    bus,
                    device,
                    function,
                };
                let ids = cam.read_word(at, VENDOR_DEVICE);
                let (vendor, device_id) = (ids as u16, (ids >> 16) as u16);
                if vendor == 0xFFFF {
                    if function == 0 {
                        break;
                    }
                    continue;
                }
                if vendor == VIRTIO_VENDOR
                    && matches!(device_id, VIRTIO_BLK_TRANSITIONAL | VIRTIO_BLK_MODERN)
                {
                    return Some(Found {
                        function: at,
                        device_id,
                    });
                }
                let header = (cam.read_word(at, HEADER_TYPE_DWORD) >> 16) as u8;
                if header & !MULTIFUNCTION == HEADER_PCI_BRIDGE {
                    let secondary = (cam.read_word(at, BRIDGE_BUSES) >> 8) as u8;
                    if secondary != 0 {
                        pending.push(secondary);
                    }
                }
                if function == 0 && header & MULTIFUNCTION == 0 {
                    break;
                }
            }
        }
    }
    None
}

/// True while `function` decodes its memory BARs and may master the bus
/// (a notification written while it does not would be lost).
pub fn decoding(root: &PciRoot<PortCam>, function: DeviceFunction) -> bool {
    let (_, command) = root.get_status_command(function);
    command.contains(Command::MEMORY_SPACE | Command::BUS_MASTER)
}

/// Switches on memory decoding and bus mastering (DMA) for `function`, and
/// off its legacy interrupt: requests are polled, and an INTx line left
/// asserted could be shared with a user-space driver's IRQ.
pub fn enable(root: &mut PciRoot<PortCam>, function: DeviceFunction) {
    let (_, command) = root.get_status_command(function);
    root.set_command(
        function,
        command | Command::MEMORY_SPACE | Command::BUS_MASTER | Command::INTERRUPT_DISABLE,
    );
}

/// One virtio structure (`virtio_pci_cap`) of a function: which BAR, where
/// in it, how long.
#[derive(Debug, Clone, Copy)]
pub struct VirtioRegion {
    pub bar: u8,
    pub offset: u32,
    pub length: u32,
}

/// The `virtio_pci_cap` structures of types 1 to 4 (common, notify, ISR,
/// device configuration) in `function`'s capability list: what the PCI
/// transport will ask to have mapped. `None` when the list does not end
/// (the transport would walk it forever).
pub fn virtio_regions(
    root: &PciRoot<PortCam>,
    function: DeviceFunction,
) -> Option<Vec<VirtioRegion>> {
    const CAP_BAR: u8 = 4;
    const CAP_OFFSET: u8 = 8;
    const CAP_LENGTH: u8 = 12;
    // 192 bytes of capability space hold at most 48 entries.
    const MAX_CAPABILITIES: usize = 48;
    if root.capabilities(function).nth(MAX_CAPABILITIES).is_some() {
        return None;
    }
    let cam = PortCam;
    let regions = root
        .capabilities(function)
        .filter(|cap| cap.id == PCI_CAP_ID_VNDR)
        .filter(|cap| {
            let (length, kind) = (cap.private_header as u8, (cap.private_header >> 8) as u8);
            length >= 16 && (1..=4).contains(&kind) && cap.offset <= 0xFF - 15
        })
        .map(|cap| VirtioRegion {
            bar: cam.read_word(function, cap.offset + CAP_BAR) as u8,
            offset: cam.read_word(function, cap.offset + CAP_OFFSET),
            length: cam.read_word(function, cap.offset + CAP_LENGTH),
        })
        .collect();
    Some(regions)
}
