//! Human-readable names for what enumeration finds, for the console, the
//! logs and `lspci`: the common class codes of the PCI Code and ID
//! Assignment Specification, the vendors Abide meets on QEMU and common
//! hardware, and BARs and sizes in one short line.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::Bar;

/// The name of base class `class` with subclass `subclass`; the base class's
/// own name when the subclass is not one listed here, "Unknown" for an
/// unknown base class.
pub fn class_name(class: u8, subclass: u8) -> &'static str {
    match (class, subclass) {
        (0x00, 0x01) => "VGA-compatible unclassified device",
        (0x00, _) => "Unclassified device",
        (0x01, 0x00) => "SCSI storage controller",
        (0x01, 0x01) => "IDE controller",
        (0x01, 0x02) => "Floppy controller",
        (0x01, 0x04) => "RAID controller",
        (0x01, 0x05) => "ATA controller",
        (0x01, 0x06) => "SATA controller",
        (0x01, 0x07) => "Serial Attached SCSI controller",
        (0x01, 0x08) => "NVMe controller",
        (0x01, _) => "Mass storage controller",
        (0x02, 0x00) => "Ethernet controller",
        (0x02, _) => "Network controller",
        (0x03, 0x00) => "VGA compatible controller",
        (0x03, 0x01) => "XGA controller",
        (0x03, 0x02) => "3D controller",
        (0x03, _) => "Display controller",
        (0x04, 0x00) => "Multimedia video controller",
        (0x04, 0x01) => "Multimedia audio controller",
        (0x04, 0x03) => "Audio device",
        (0x04, _) => "Multimedia controller",
        (0x05, 0x00) => "RAM memory",
        (0x05, _) => "Memory controller",
        (0x06, 0x00) => "Host bridge",
        (0x06, 0x01) => "ISA bridge",
        (0x06, 0x02) => "EISA bridge",
        (0x06, 0x04) => "PCI bridge",
        (0x06, 0x07) => "CardBus bridge",
        (0x06, 0x09) => "Semi-transparent PCI-to-PCI bridge",
        (0x06, _) => "Bridge",
        (0x07, 0x00) => "Serial controller",
        (0x07, 0x01) => "Parallel controller",
        (0x07, _) => "Communication controller",
        (0x08, 0x00) => "PIC",
        (0x08, 0x01) => "DMA controller",
        (0x08, 0x02) => "Timer",
        (0x08, 0x03) => "RTC",
        (0x08, 0x05) => "SD host controller",
        (0x08, 0x06) => "IOMMU",
        (0x08, _) => "System peripheral",
        (0x09, _) => "Input device controller",
        (0x0A, _) => "Docking station",
        (0x0B, _) => "Processor",
        (0x0C, 0x00) => "FireWire (IEEE 1394)",
        (0x0C, 0x03) => "USB controller",
        (0x0C, 0x05) => "SMBus",
        (0x0C, _) => "Serial bus controller",
        (0x0D, _) => "Wireless controller",
        (0x0E, _) => "Intelligent controller",
        (0x0F, _) => "Satellite communications controller",
        (0x10, _) => "Encryption controller",
        (0x11, _) => "Signal processing controller",
        (0x12, _) => "Processing accelerator",
        (0x13, _) => "Non-essential instrumentation",
        (0x40, _) => "Coprocessor",
        (0xFF, _) => "Unassigned class",
        _ => "Unknown",
    }
}

/// The name of the vendor with PCI vendor ID `vendor`, for a handful of
/// vendors.
pub fn vendor_name(vendor: u16) -> Option<&'static str> {
    Some(match vendor {
        0x8086 => "Intel",
        0x1AF4 => "Red Hat (virtio)",
        0x1B36 => "Red Hat (QEMU)",
        0x1234 => "QEMU",
        0x1022 => "AMD",
        0x10DE => "NVIDIA",
        0x10EC => "Realtek",
        0x15AD => "VMware",
        0x80EE => "VirtualBox",
        0x144D => "Samsung",
        _ => return None,
    })
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

/// The BARs in one line: `io c000/32, mem febd1000/4K`, `pf` after a
/// prefetchable window; `-` for none.
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
