//! Everything specific to x86_64: boot entry, descriptor tables, interrupt
//! entry and dispatch, exceptions, the APICs, the PIT, port I/O helpers,
//! memory intrinsics and power control. All inline assembly of the kernel lives
//! below this module.
//!
//! It is the bottom layer: it imports nothing of the kernel above it, which
//! it reaches only through the [`upcalls`] the kernel's `trap` module
//! registers at boot.

pub mod apic;
pub mod backtrace;
mod boot;
pub mod context;
pub mod cpu;
pub mod exceptions;
pub mod gdt;
pub mod idt;
pub mod ioapic;
pub mod pit;
pub mod power;
pub mod probe;
pub mod upcalls;
