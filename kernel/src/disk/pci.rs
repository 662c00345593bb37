//! PCI configuration space through mechanism #1 (ports 0xCF8 and 0xCFC),
//! as virtio-drivers' [`ConfigurationAccess`], and the scan that finds the
//! store's virtio-blk function.
//!
//! The user-space PCI service (`user/programs/pci`) reaches the same two
//! ports through an I/O-ports object, one system call per access, so it can
//! be preempted between writing the address and reading the data. Every
//! access here therefore puts back the address register it found: the
//! kernel's accesses are invisible to it.

use alloc::vec::Vec;

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
        if core::mem::replace(&mut visited[usize::from(bus)], true) {
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

/// True while `function` decodes its memory BARs and may master the bus:
/// the user-space PCI service switches decoding off for a moment while it
/// sizes BARs, and a notification written then would be lost.
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
