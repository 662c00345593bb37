//! The I/O APIC: routes device interrupt lines (GSIs) to CPU vectors, as the
//! ACPI MADT describes them. The legacy 8259 PICs are remapped out of the way
//! and masked entirely.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use abide_boot::acpi::{IoApic, Madt};
use pic8259::ChainedPics;
use spin::Mutex;

use super::idt;
use abide_mm::paging::MapError;

const IOREGSEL: usize = 0x00;
const IOWIN: usize = 0x10;
const REG_VERSION: u32 = 0x01;
const REDIRECTION_BASE: u32 = 0x10;
const MASKED: u64 = 1 << 16;
const LEVEL_TRIGGERED: u64 = 1 << 15;
const ACTIVE_LOW: u64 = 1 << 13;

/// Mapped base of each I/O APIC, in MADT order (0 = not mapped).
static BASES: [AtomicU64; abide_boot::acpi::MAX_IOAPICS] =
    [const { AtomicU64::new(0) }; abide_boot::acpi::MAX_IOAPICS];
/// Serializes the select-then-access register pairs.
static REGISTER_LOCK: Mutex<()> = Mutex::new(());

fn read(base: u64, reg: u32) -> u32 {
    let _guard = REGISTER_LOCK.lock();
    // SAFETY: `base` maps an I/O APIC's register window uncached (see `init`).
    unsafe {
        core::ptr::write_volatile((base as usize + IOREGSEL) as *mut u32, reg);
        core::ptr::read_volatile((base as usize + IOWIN) as *const u32)
    }
}

fn write(base: u64, reg: u32, value: u32) {
    let _guard = REGISTER_LOCK.lock();
    // SAFETY: as for `read`.
    unsafe {
        core::ptr::write_volatile((base as usize + IOREGSEL) as *mut u32, reg);
        core::ptr::write_volatile((base as usize + IOWIN) as *mut u32, value);
    }
}

fn write_redirection(base: u64, index: u32, entry: u64) {
    write(base, REDIRECTION_BASE + 2 * index, MASKED as u32);
    write(base, REDIRECTION_BASE + 2 * index + 1, (entry >> 32) as u32);
    write(base, REDIRECTION_BASE + 2 * index, entry as u32);
}

/// Number of redirection entries (input lines) of an I/O APIC.
fn line_count(base: u64) -> u32 {
    ((read(base, REG_VERSION) >> 16) & 0xff) + 1
}

/// Masks the legacy PICs and every I/O APIC line (each I/O APIC mapped
/// with `map_mmio`: physical address to virtual).
pub fn init(madt: &Madt, map_mmio: impl Fn(u64) -> Result<u64, MapError>) -> Result<(), MapError> {
    // SAFETY: remapping and masking the 8259s has no effect beyond them.
    unsafe {
        let mut pics = ChainedPics::new(idt::LEGACY_PIC_BASE, idt::LEGACY_PIC_BASE + 8);
        pics.initialize();
        pics.disable();
    }
    // I/O APICs beyond the slots we keep stay unused (and masked by reset).
    for (slot, ioapic) in BASES.iter().zip(madt.ioapics()) {
        let base = map_mmio(ioapic.address as u64)?;
        slot.store(base, Ordering::Relaxed);
        for line in 0..line_count(base) {
            write_redirection(base, line, MASKED);
        }
    }
    Ok(())
}

/// Why an interrupt line could not be routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// No I/O APIC serves this GSI.
    NoIoApic(u32),
}

fn find(madt: &Madt, gsi: u32) -> Result<(u64, &IoApic), RouteError> {
    let ioapic = madt.ioapic_for_gsi(gsi).ok_or(RouteError::NoIoApic(gsi))?;
    let slot = madt
        .ioapics()
        .iter()
        .position(|candidate| candidate == ioapic)
        .ok_or(RouteError::NoIoApic(gsi))?;
    let base = BASES
        .get(slot)
        .map_or(0, |base| base.load(Ordering::Relaxed));
    if base == 0 || gsi - ioapic.gsi_base >= line_count(base) {
        return Err(RouteError::NoIoApic(gsi));
    }
    Ok((base, ioapic))
}

/// Routes ISA IRQ `irq` to vector `ISA_IRQ_BASE + irq` on the CPU with local
/// APIC id `apic_id`, honouring the MADT's overrides.
pub fn route_isa_irq(madt: &Madt, irq: u8, apic_id: u8) -> Result<u8, RouteError> {
    route(madt, irq, apic_id, false)
}

/// Like [`route_isa_irq`], but the line stays masked until
/// [`set_isa_irq_masked`] unmasks it (lines drivers may own).
pub fn route_isa_irq_masked(madt: &Madt, irq: u8, apic_id: u8) -> Result<u8, RouteError> {
    route(madt, irq, apic_id, true)
}

/// Where each routed ISA IRQ's redirection entry is: the I/O APIC's mapped
/// base (0: not routed), the entry's index, and the entry unmasked.
static ISA_BASE: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
static ISA_INDEX: [AtomicU32; 16] = [const { AtomicU32::new(0) }; 16];
static ISA_ENTRY: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

fn route(madt: &Madt, irq: u8, apic_id: u8, masked: bool) -> Result<u8, RouteError> {
    let route = madt.isa_irq_route(irq);
    let (base, ioapic) = find(madt, route.gsi)?;
    let vector = idt::ISA_IRQ_BASE + irq;
    let mut entry = vector as u64 | ((apic_id as u64) << 56);
    if route.level_triggered {
        entry |= LEVEL_TRIGGERED;
    }
    if route.active_low {
        entry |= ACTIVE_LOW;
    }
    let index = route.gsi - ioapic.gsi_base;
    let line = usize::from(irq);
    if let (Some(slot), Some(index_slot), Some(entry_slot)) =
        (ISA_BASE.get(line), ISA_INDEX.get(line), ISA_ENTRY.get(line))
    {
        slot.store(base, Ordering::Relaxed);
        index_slot.store(index, Ordering::Relaxed);
        entry_slot.store(entry, Ordering::Relaxed);
    }
    write_redirection(base, index, if masked { entry | MASKED } else { entry });
    Ok(vector)
}

/// Masks or unmasks ISA IRQ `irq` (routed before; otherwise nothing happens).
pub fn set_isa_irq_masked(irq: u8, masked: bool) {
    let line = usize::from(irq);
    let (Some(slot), Some(index), Some(entry)) =
        (ISA_BASE.get(line), ISA_INDEX.get(line), ISA_ENTRY.get(line))
    else {
        return;
    };
    let base = slot.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    let index = index.load(Ordering::Relaxed);
    let entry = entry.load(Ordering::Relaxed);
    write_redirection(base, index, if masked { entry | MASKED } else { entry });
}
