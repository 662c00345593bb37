//! Hardware objects for user-space drivers: interrupts, I/O port ranges, and
//! the checks that keep the devices the kernel drives out of their reach.
//!
//! An IRQ line belongs to at most one interrupt object. When it fires, the
//! kernel masks the line and asserts `INTERRUPT`; the driver handles the
//! device and calls `interrupt_ack`, which unmasks it. A line without an
//! owner stays masked.

use abide_abi::object::{Signals, USER_IRQS};
use abide_boot::memmap::RegionKind;

use super::{port, Kernel, Object};
use crate::arch::idt::TrapFrame;
use crate::arch::{idt, ioapic};

/// An owned ISA IRQ line.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Interrupt {
    pub irq: u8,
    /// Fired and not yet acknowledged.
    pub pending: bool,
}

impl Interrupt {
    pub fn signals(&self) -> Signals {
        if self.pending {
            Signals::INTERRUPT
        } else {
            Signals::NONE
        }
    }
}

/// A range of I/O ports.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct IoPorts {
    pub base: u16,
    pub count: u16,
}

impl IoPorts {
    /// True when `width` bytes at `port` lie inside the range.
    pub fn covers(&self, port: u64, width: u64) -> bool {
        let start = u64::from(self.base);
        let end = start + u64::from(self.count);
        port >= start && port.checked_add(width).is_some_and(|last| last <= end)
    }
}

/// I/O ports the kernel drives itself: the PICs, the PIT, the debug-exit
/// device. (The serial console's are a driver's for the asking: taking
/// them hands the console over, `console::hand_over`.)
const KERNEL_PORTS: &[(u16, u16)] = &[(0x20, 2), (0x40, 4), (0xa0, 2), (0xf4, 4)];

/// True when no port of `base..base + count` is one the kernel drives.
pub fn ports_allowed(base: u64, count: u64) -> bool {
    let Some(end) = base.checked_add(count).filter(|end| *end <= 0x1_0000) else {
        return false;
    };
    count > 0
        && KERNEL_PORTS.iter().all(|&(start, len)| {
            let (start, stop) = (u64::from(start), u64::from(start) + u64::from(len));
            end <= start || base >= stop
        })
}

/// The local and I/O APICs' registers (the kernel's interrupt controllers).
const APIC_WINDOW: (u64, u64) = (0xfec0_0000, 0xff00_0000);

/// True when `phys..phys + len` is device memory a driver may map: not RAM,
/// not ACPI data, not the interrupt controllers, not the store disk's
/// registers (the kernel drives the store), not the memory-mapped PCI
/// configuration window (configuration writes go through the ports, where
/// the kernel checks them).
pub fn mmio_allowed(phys: u64, len: u64) -> bool {
    // Beyond what any page-table entry can hold (and any machine has).
    const PHYS_LIMIT: u64 = 1 << 46;
    let Some(end) = phys.checked_add(len).filter(|end| *end <= PHYS_LIMIT) else {
        return false;
    };
    let overlaps = |start: u64, stop: u64| phys < stop && start < end;
    if overlaps(APIC_WINDOW.0, APIC_WINDOW.1)
        || crate::disk::overlaps_store_registers(phys, len)
        || crate::disk::overlaps_ecam(phys, end)
    {
        return false;
    }
    let Some(info) = crate::boot_data::info() else {
        return false;
    };
    !info.memory.regions().iter().any(|region| {
        let forbidden = matches!(
            region.kind,
            RegionKind::Usable | RegionKind::AcpiReclaimable | RegionKind::AcpiNvs
        );
        forbidden && overlaps(region.start, region.end)
    })
}

/// True when a driver may own ISA IRQ `irq`.
pub fn irq_allowed(irq: u64) -> bool {
    USER_IRQS.iter().any(|&line| u64::from(line) == irq)
}

/// Takes IRQ `irq` for interrupt object `id` and unmasks its line.
pub fn own_irq(kernel: &mut Kernel, irq: u8, id: u64) {
    if let Some(owner) = kernel.irq_owners.get_mut(usize::from(irq)) {
        *owner = Some(id);
        ioapic::set_isa_irq_masked(irq, false);
    }
}

/// The last handle to an interrupt is gone: mask and free its line.
pub fn close_interrupt(kernel: &mut Kernel, interrupt: &Interrupt) {
    ioapic::set_isa_irq_masked(interrupt.irq, true);
    if let Some(owner) = kernel.irq_owners.get_mut(usize::from(interrupt.irq)) {
        *owner = None;
    }
}

/// Routes every IRQ a driver may own, masked, to [`irq_fired`] (but the
/// serial console's, which `machine` routes to the serial handler, which
/// passes it on after the hand-over).
pub fn route_user_irqs(madt: &abide_boot::acpi::Madt, apic_id: u8) {
    for &irq in USER_IRQS.iter().filter(|&&irq| irq != crate::serial::IRQ) {
        match ioapic::route_isa_irq_masked(madt, irq, apic_id) {
            Ok(vector) => idt::set_irq_handler(vector, irq_fired),
            Err(error) => log::debug!("IRQ {irq} not routable for drivers: {error:?}"),
        }
    }
}

/// A driver-owned IRQ fired: mask the line until the driver acknowledges.
pub fn irq_fired(frame: &mut TrapFrame) {
    let Some(irq) = (frame.vector as u8).checked_sub(idt::ISA_IRQ_BASE) else {
        return;
    };
    ioapic::set_isa_irq_masked(irq, true);
    super::with_kernel(|kernel| {
        let Some(Some(id)) = kernel.irq_owners.get(usize::from(irq)).copied() else {
            return;
        };
        if let Some(Object::Interrupt(interrupt)) = kernel.objects.get_mut(id) {
            interrupt.pending = true;
            port::notify(kernel, id);
        }
    });
}

/// Acknowledges interrupt `id`: clears `INTERRUPT` and unmasks its line.
pub fn ack(kernel: &mut Kernel, id: u64) {
    if let Some(Object::Interrupt(interrupt)) = kernel.objects.get_mut(id) {
        interrupt.pending = false;
        ioapic::set_isa_irq_masked(interrupt.irq, false);
    }
}
