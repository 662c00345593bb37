//! PCI configuration space through mechanism #1 (ports 0xCF8 and 0xCFC),
//! as virtio-drivers' [`ConfigurationAccess`] and `abide_pci`'s
//! [`ConfigSpace`], and the search for the store's virtio-blk function.
//!
//! The PCI rules are `abide_pci`'s (host-tested there): the address
//! register's layout and formula, the register offsets, the bus walk, and
//! which user-space port writes to refuse. What is here is the kernel's
//! own: the port access that hides itself from user space, the state of
//! the guard, and the virtio-blk function's bring-up.
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
use core::ops::ControlFlow;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use abide_pci::guard::{
    function_bits, q35_ecam_window, HOST_BRIDGE, Q35_HOST_BRIDGE_ID, Q35_PCIEXBAR, UNGUARDED,
};
use abide_pci::{
    config_address, reg, Address, ConfigSpace, WriteRefused, ADDRESS_ENABLE, ADDRESS_OFFSET,
    CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT,
};
use virtio_drivers::transport::pci::bus::{
    Command, ConfigurationAccess, DeviceFunction, PciRoot, PCI_CAP_ID_VNDR,
};
use x86_64::instructions::interrupts;
use x86_64::instructions::port::Port;

pub use abide_pci::guard::data_write_allowed;

/// Red Hat's vendor ID, which every virtio device has.
pub const VIRTIO_VENDOR: u16 = 0x1AF4;
/// virtio-blk, transitional (legacy and modern interfaces).
pub const VIRTIO_BLK_TRANSITIONAL: u16 = 0x1001;
/// virtio-blk, modern only (`disable-legacy=on`): 0x1040 + device type 2.
pub const VIRTIO_BLK_MODERN: u16 = 0x1042;

/// Mechanism #1 configuration access. It holds nothing: the ports are the
/// machine's.
#[derive(Debug, Clone, Copy)]
pub struct PortCam;

/// `function` as `abide_pci` names it.
fn address(function: DeviceFunction) -> Address {
    Address::new(function.bus, function.device, function.function)
}

/// `addr` as virtio-drivers names it.
fn device_function(addr: Address) -> DeviceFunction {
    DeviceFunction {
        bus: addr.bus,
        device: addr.device,
        function: addr.function,
    }
}

impl PortCam {
    /// Runs `access` on the data port with `offset` of the function at
    /// `addr` selected, restoring the address register afterwards, with
    /// interrupts off so nothing comes between.
    fn with_selected<R>(addr: Address, offset: u8, access: impl FnOnce(&mut Port<u32>) -> R) -> R {
        interrupts::without_interrupts(|| {
            let mut address_port = Port::<u32>::new(CONFIG_ADDRESS_PORT);
            let mut data_port = Port::<u32>::new(CONFIG_DATA_PORT);
            // SAFETY: 0xCF8/0xCFC are the PCI configuration mechanism: they
            // touch no memory. Selecting a register and accessing it has no
            // effect beyond configuration space, and the previous selection
            // is put back before anyone else can use the ports (interrupts
            // are off and the kernel runs on one CPU).
            unsafe {
                let previous = address_port.read();
                address_port.write(config_address(addr, offset));
                let result = access(&mut data_port);
                address_port.write(previous);
                result
            }
        })
    }

    /// The dword at `offset` of the function at `addr`.
    fn read(addr: Address, offset: u8) -> u32 {
        // SAFETY: reading a configuration register has no side effects on
        // memory (see `with_selected`).
        Self::with_selected(addr, offset, |data| unsafe { data.read() })
    }

    /// Writes the dword at `offset` of the function at `addr`.
    fn write(addr: Address, offset: u8, value: u32) {
        // SAFETY: the port access itself touches no memory (see
        // `with_selected`). What is written is virtio-drivers' and ours: the
        // command register, and BARs sized with decoding off and restored.
        Self::with_selected(addr, offset, |data| unsafe { data.write(value) })
    }
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, function: DeviceFunction, offset: u8) -> u32 {
        Self::read(address(function), offset)
    }

    fn write_word(&mut self, function: DeviceFunction, offset: u8, value: u32) {
        Self::write(address(function), offset, value)
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

impl ConfigSpace for PortCam {
    fn read32(&mut self, addr: Address, offset: u8) -> u32 {
        Self::read(addr, offset)
    }

    fn write32(&mut self, addr: Address, offset: u8, value: u32) -> Result<(), WriteRefused> {
        Self::write(addr, offset, value);
        Ok(())
    }
}

/// The store's function as the address register selects it
/// ([`function_bits`]), or [`UNGUARDED`].
static GUARDED: AtomicU32 = AtomicU32::new(UNGUARDED);
/// A q35 host bridge's memory-mapped configuration window (PCIEXBAR), as
/// start and end; both 0 when there is none.
static ECAM: (AtomicU64, AtomicU64) = (AtomicU64::new(0), AtomicU64::new(0));

/// Makes `function` the kernel's: user space may no longer write its
/// configuration space. `None` lifts the guard (the store failed to come
/// up, so a driver may have the device). Also records the machine's
/// memory-mapped configuration window, which drivers may then not map.
pub fn guard(function: Option<DeviceFunction>) {
    let selected = function.map_or(UNGUARDED, |f| function_bits(address(f)));
    GUARDED.store(selected, Ordering::Relaxed);
    let (start, end) = match PortCam::read(HOST_BRIDGE, reg::ID) {
        Q35_HOST_BRIDGE_ID => q35_ecam_window(
            PortCam::read(HOST_BRIDGE, Q35_PCIEXBAR),
            PortCam::read(HOST_BRIDGE, Q35_PCIEXBAR + 4),
        ),
        _ => (0, 0),
    };
    ECAM.0.store(start, Ordering::Relaxed);
    ECAM.1.store(end, Ordering::Relaxed);
}

/// True when user space may write `value` (`width` bytes) at I/O port
/// `port`: always, unless the write reaches the data port while the
/// address register selects the store's function or the host bridge's
/// PCIEXBAR ([`data_write_allowed`]), or would turn on the selected
/// function's bus mastering (`abide_pci::guard`: no user-space driver may
/// DMA without an IOMMU).
pub fn user_write_allowed(port: u16, width: u16, value: u32) -> bool {
    let (start, end) = (u32::from(port), u32::from(port) + u32::from(width));
    let data = u32::from(CONFIG_DATA_PORT);
    if end <= data || start >= data + 4 {
        return true;
    }
    // SAFETY: reading the address register has no side effects.
    let selected = unsafe { Port::<u32>::new(CONFIG_ADDRESS_PORT).read() };
    if !data_write_allowed(selected, GUARDED.load(Ordering::Relaxed)) {
        return false;
    }
    let command_selected =
        selected & ADDRESS_ENABLE != 0 && selected & ADDRESS_OFFSET == u32::from(reg::COMMAND);
    // The address register selects the command dword already: the data
    // port reads it (a read has no side effects).
    let current = if command_selected {
        // SAFETY: as above, a configuration read changes nothing.
        unsafe { Port::<u32>::new(CONFIG_DATA_PORT).read() as u16 }
    } else {
        0
    };
    !abide_pci::guard::turns_on_bus_master(selected, port, width, value, current)
}

/// The address register value that selects `offset` of `function`.
pub fn select(function: DeviceFunction, offset: u8) -> u32 {
    config_address(address(function), offset)
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
    let (start, stop) = ecam_window();
    stop != 0 && phys < stop && start < end
}

/// A virtio-blk function found on the bus.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub function: DeviceFunction,
    pub device_id: u16,
}

/// Finds the first virtio-blk function, walking the bus as `abide_pci`
/// does: bus 0, then the bus behind every PCI-to-PCI bridge (each bus
/// once, whatever the bridges claim). It only reads.
pub fn find_virtio_blk(cam: &PortCam) -> Option<Found> {
    let mut cam = *cam;
    abide_pci::walk(&mut cam, |cam, at| {
        let ids = cam.read32(at, reg::ID);
        let (vendor, device_id) = (ids as u16, (ids >> 16) as u16);
        if vendor == VIRTIO_VENDOR
            && matches!(device_id, VIRTIO_BLK_TRANSITIONAL | VIRTIO_BLK_MODERN)
        {
            return ControlFlow::Break(Found {
                function: device_function(at),
                device_id,
            });
        }
        ControlFlow::Continue(())
    })
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
