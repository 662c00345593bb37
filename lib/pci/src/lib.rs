//! What Abide knows about PCI, as logic the host can test: every layer that
//! touches the bus (the kernel finding its store disk, the bus service, the
//! interface its clients speak, the shell) takes its PCI rules from here.
//!
//! The PCI bus driver runs in user space with the I/O port capability for
//! 0xCF8..=0xCFF; it must find every device (on bus 0 and behind bridges),
//! read its identity and class, and size its base address registers before
//! it can hand devices to their drivers. None of that depends on how the
//! configuration space is reached, so this crate works against the
//! [`ConfigSpace`] trait: the driver implements it with port I/O (through
//! [`Mechanism1`], given the two port accesses), the tests with a fake
//! modelled on QEMU's q35 machine.
//!
//! - [`config_address`] forms the dword written to 0xCF8 (configuration
//!   mechanism #1); the kernel's own port access uses it too.
//! - [`walk`] visits every function, following PCI-to-PCI bridges and
//!   multi-function devices; [`enumerate`] uses it to return a [`Device`]
//!   per function with its decoded [`Bar`]s, the kernel to find its disk.
//! - [`probe_bars`] sizes base address registers the standard way (write all
//!   ones, read back, restore) with memory and I/O decoding switched off
//!   meanwhile, and restores every register it touched. A function whose
//!   configuration refuses writes ([`WriteRefused`]: on Abide, the store's
//!   disk, which the kernel drives) is listed unsized, marked
//!   [`Device::kernel`].
//! - [`Address`] is a function's place, written and [parsed](Address::parse)
//!   as `bb:dd.f`.
//! - [`class_name`] and [`vendor_name`] name what was found;
//!   [`describe_bars`] and [`short_size`] write BARs in one line.
//! - [`claim`] holds what a claim of a function grants its driver and what
//!   it withholds.
//! - [`guard`] holds the port writes the kernel refuses to every holder of
//!   I/O ports: the machine's reset registers, turning on a function's bus
//!   mastering, and configuration writes to the function the kernel keeps
//!   or to q35's PCIEXBAR.
//!
//! ```
//! use abide_pci::{config_address, enumerate, Address, ConfigSpace, WriteRefused};
//!
//! // A machine with no devices: every read returns all ones.
//! struct Empty;
//! impl ConfigSpace for Empty {
//!     fn read32(&mut self, _: Address, _: u8) -> u32 { u32::MAX }
//!     fn write32(&mut self, _: Address, _: u8, _: u32) -> Result<(), WriteRefused> {
//!         Ok(())
//!     }
//! }
//! assert!(enumerate(&mut Empty).is_empty());
//! assert_eq!(config_address(Address::new(0, 0x1f, 2), 0x24), 0x8000_FA24);
//! ```
//!
//! Bus numbers are the firmware's: bridges are followed through the
//! secondary bus number they already hold, not renumbered.
//!
//! The crate is `no_std` (it needs `alloc` for the device list) and has no
//! `unsafe`. The `serde` feature makes the records serializable for the bus
//! service's stash and interface; the kernel leaves it off.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod address;
mod bar;
pub mod claim;
mod config;
mod enumerate;
pub mod guard;
mod names;

pub use address::Address;
pub use bar::{probe_bars, Bar};
pub use config::{
    config_address, ConfigSpace, Mechanism1, PortIo, WriteRefused, ADDRESS_ENABLE,
    ADDRESS_FUNCTION, ADDRESS_OFFSET, CONFIG_ADDRESS_PORT, CONFIG_DATA_PORT,
};
pub use enumerate::{enumerate, read_device, walk, Device};
pub use names::{class_name, describe_bars, short_size, vendor_name};

/// Offsets of the configuration space registers this crate reads, common to
/// every header type unless the name says otherwise.
pub mod reg {
    /// Vendor ID (low 16 bits) and device ID (high 16 bits).
    pub const ID: u8 = 0x00;
    /// Command (low 16 bits) and status (high 16 bits).
    pub const COMMAND: u8 = 0x04;
    /// Revision, programming interface, subclass, class (low to high byte).
    pub const CLASS: u8 = 0x08;
    /// Cache line size, latency timer, header type, BIST (low to high byte).
    pub const HEADER: u8 = 0x0C;
    /// The first base address register; the others follow every 4 bytes.
    pub const BAR0: u8 = 0x10;
    /// Type 1 (bridge) header: primary, secondary and subordinate bus number.
    pub const BRIDGE_BUSES: u8 = 0x18;
    /// Interrupt line (low byte) and interrupt pin (next byte).
    pub const INTERRUPT: u8 = 0x3C;
}

/// Command register bits.
pub mod command {
    /// The function responds to I/O space accesses.
    pub const IO_SPACE: u16 = 1 << 0;
    /// The function responds to memory space accesses.
    pub const MEMORY_SPACE: u16 = 1 << 1;
    /// The function may master the bus (DMA).
    pub const BUS_MASTER: u16 = 1 << 2;
}
