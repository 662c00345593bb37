//! Boot-time discovery of the machine, as pure logic the host can test.
//!
//! The kernel enters through one of two boot protocols (PVH from QEMU `-kernel`
//! and Firecracker-style VMMs, Multiboot2 from GRUB). Both describe the same
//! things in different layouts: the physical memory map, the kernel command line
//! and where the ACPI tables are. This crate turns either layout into one
//! [`BootInfo`], and parses the ACPI tables the kernel needs (MADT for interrupt
//! routing, FADT for power-off).
//!
//! [`archive`] reads where the host tool loaded the root-tree archives
//! (the `archive=` option).
//!
//! Nothing here dereferences raw pointers: physical memory is read through the
//! [`PhysMemory`] trait, which the kernel implements over its direct map and the
//! host tests implement over a byte vector. Every length and offset read from
//! firmware is bounds-checked; malformed input yields an error, never a panic.
#![cfg_attr(not(test), no_std)]

pub mod acpi;
pub mod archive;
pub mod cmdline;
pub mod memmap;
pub mod multiboot2;
pub mod pvh;
#[cfg(test)]
pub(crate) mod testmem;

pub use cmdline::Cmdline;
pub use memmap::{MemoryMap, MemoryRegion, RegionKind};

/// Read access to physical memory, as firmware tables are found there.
pub trait PhysMemory {
    /// Copies `buf.len()` bytes starting at physical address `phys` into `buf`.
    /// Returns `false` when any part of the range is not readable.
    fn read(&self, phys: u64, buf: &mut [u8]) -> bool;
}

/// Which boot protocol started the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootProtocol {
    /// Xen PVH direct boot (`hvm_start_info`), as QEMU `-kernel` uses.
    Pvh,
    /// Multiboot2, as GRUB uses.
    Multiboot2,
}

impl BootProtocol {
    /// Short lowercase name for banners and logs.
    pub const fn name(self) -> &'static str {
        match self {
            BootProtocol::Pvh => "pvh",
            BootProtocol::Multiboot2 => "multiboot2",
        }
    }
}

/// Everything the kernel keeps from the boot protocol, copied out of firmware
/// memory so that memory can be reused afterwards.
#[derive(Debug, Clone)]
pub struct BootInfo {
    /// The boot protocol that started the kernel.
    pub protocol: BootProtocol,
    /// The normalized physical memory map.
    pub memory: MemoryMap,
    /// The kernel command line (may be empty).
    pub cmdline: Cmdline,
    /// Physical address of the ACPI RSDP, when the boot protocol gave one.
    /// (For Multiboot2 this is the address of the RSDP copy inside the boot
    /// information, valid until that memory is reused.)
    pub rsdp: Option<u64>,
}

/// Why boot information could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    /// The structure's magic number is wrong (not the protocol we were told).
    BadMagic,
    /// A structure or table lies outside readable memory or is truncated.
    Unreadable,
    /// A length or count field is out of range.
    BadLength,
    /// The boot protocol gave no memory map.
    NoMemoryMap,
}
