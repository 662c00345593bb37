//! `interrupt_create`, `interrupt_ack`, `ioports_create`, `ioport_read`,
//! `ioport_write`, `mmio_create`: what user-space drivers need, and only
//! through the hardware resource the kernel gave the first programs. Some
//! port writes no grant covers (`abide_pci::guard`): the machine's reset
//! registers, and turning on a PCI function's bus mastering.

use alloc::sync::Arc;

use abide_abi::object::MAX_MEMORY_BYTES;
use abide_abi::syscall::{Error, Rights};
use abide_mm::PAGE_SIZE;
use x86_64::instructions::port::Port;

use super::{caller_table, handle_arg, hardware_resource};
use crate::mm::PageSet;
use crate::object::hardware::{self, Interrupt, IoPorts};
use crate::object::{Kernel, Memory, Object};

/// Checks that `resource` is the hardware resource with `MANAGE`, which
/// every device operation needs.
fn check_resource(kernel: &Kernel, resource: u64) -> Result<abide_objects::caps::TableId, Error> {
    hardware_resource(kernel, resource, Rights::MANAGE)
}

pub fn interrupt_create(kernel: &mut Kernel, resource: u64, irq: u64) -> Result<u64, Error> {
    let table = check_resource(kernel, resource)?;
    if !hardware::irq_allowed(irq) {
        return Err(Error::InvalidArgument);
    }
    let irq = irq as u8;
    if kernel
        .irq_owners
        .get(usize::from(irq))
        .is_some_and(Option::is_some)
    {
        return Err(Error::Busy);
    }
    if irq == crate::serial::IRQ {
        crate::console::hand_over();
    }
    let interrupt = Interrupt {
        irq,
        pending: false,
    };
    let (id, handle) = kernel.create(table, Object::Interrupt(interrupt), Rights::ALL)?;
    hardware::own_irq(kernel, irq, id);
    Ok(u64::from(handle.0))
}

pub fn interrupt_ack(kernel: &mut Kernel, handle: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, Rights::MANAGE)?;
    if !matches!(kernel.objects.get(id), Some(Object::Interrupt(_))) {
        return Err(Error::WrongType);
    }
    hardware::ack(kernel, id);
    Ok(0)
}

pub fn ioports_create(
    kernel: &mut Kernel,
    resource: u64,
    base: u64,
    count: u64,
) -> Result<u64, Error> {
    let table = check_resource(kernel, resource)?;
    if !hardware::ports_allowed(base, count) {
        return Err(Error::InvalidArgument);
    }
    let ports = IoPorts {
        base: base as u16,
        count: count as u16,
    };
    let (_, handle) = kernel.create(table, Object::IoPorts(ports), Rights::ALL)?;
    if crate::serial::covers_com1(base, count) {
        crate::console::hand_over();
    }
    Ok(u64::from(handle.0))
}

/// The port range `handle` names, with `rights`, if it covers the access.
fn ports_for(
    kernel: &Kernel,
    handle: u64,
    rights: Rights,
    port: u64,
    width: u64,
) -> Result<u16, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, rights)?;
    let Some(Object::IoPorts(ports)) = kernel.objects.get(id) else {
        return Err(Error::WrongType);
    };
    if !matches!(width, 1 | 2 | 4) || !ports.covers(port, width) {
        return Err(Error::InvalidArgument);
    }
    Ok(port as u16)
}

pub fn ioport_read(kernel: &mut Kernel, handle: u64, port: u64, width: u64) -> Result<u64, Error> {
    let port = ports_for(kernel, handle, Rights::READ, port, width)?;
    if width == 1 {
        if let Some(byte) = crate::serial::replay_read(port) {
            return Ok(u64::from(byte));
        }
    }
    // SAFETY: the port lies in a range the kernel granted to this driver and
    // never uses itself (`hardware::ports_allowed`).
    let value = unsafe {
        match width {
            1 => u64::from(Port::<u8>::new(port).read()),
            2 => u64::from(Port::<u16>::new(port).read()),
            _ => u64::from(Port::<u32>::new(port).read()),
        }
    };
    Ok(value)
}

pub fn ioport_write(
    kernel: &mut Kernel,
    handle: u64,
    port: u64,
    width: u64,
    value: u64,
) -> Result<u64, Error> {
    let port = ports_for(kernel, handle, Rights::WRITE, port, width)?;
    let (width, value) = (width as u16, value as u32);
    // No grant reaches the machine's reset registers (power off is
    // `machine_power`'s), the store's PCI configuration (`disk::pci`) or a
    // device's bus mastering.
    if abide_pci::guard::resets_machine(port, width, value)
        || !crate::disk::user_port_write_allowed(port, width, value)
    {
        return Err(Error::AccessDenied);
    }
    // SAFETY: as in `ioport_read`.
    unsafe {
        match width {
            1 => Port::<u8>::new(port).write(value as u8),
            2 => Port::<u16>::new(port).write(value as u16),
            _ => Port::<u32>::new(port).write(value),
        }
    }
    Ok(0)
}

pub fn mmio_create(kernel: &mut Kernel, resource: u64, phys: u64, len: u64) -> Result<u64, Error> {
    let table = check_resource(kernel, resource)?;
    let aligned = phys.is_multiple_of(PAGE_SIZE) && len.is_multiple_of(PAGE_SIZE);
    if !aligned || len == 0 || len > MAX_MEMORY_BYTES || !hardware::mmio_allowed(phys, len) {
        return Err(Error::InvalidArgument);
    }
    let pages = PageSet::device(phys, (len / PAGE_SIZE) as usize);
    let memory = Memory {
        pages: Arc::new(pages),
        charged_to: 0,
        charged_pages: 0,
    };
    let (_, handle) = kernel.create(table, Object::Memory(memory), Rights::ALL)?;
    Ok(u64::from(handle.0))
}
