//! Charging processes for what they hold, against their limits: the
//! accounting rules of `process::account` (what is charged, the records
//! that keep it) applied to the object table — charges and refunds, pages
//! of lingering memory objects, and what an ending process hands over to
//! its parent.

use abide_abi::syscall::Error;

use super::{Kernel, Object, ObjectId, ObjectTable};
use crate::process::account::{Charge, MESSAGE_BYTES, TRANSIT_HANDLE_BYTES};
use crate::process::Process;

/// Checks that process `id` has room for `pages` more pages and `bytes`
/// more kernel bytes; `NoMemory` if not (after giving back the pages of
/// memory objects that are gone meanwhile).
pub fn check_room(kernel: &mut Kernel, id: ObjectId, pages: u64, bytes: u64) -> Result<(), Error> {
    // Within its limit, and kernel memory never out of the kernel's reserve
    // of frames (processes without a limit stop there; pages are checked
    // when they are allocated).
    let room = |kernel: &Kernel| {
        kernel
            .objects
            .process(id)
            .is_some_and(|process| process.has_room(pages, bytes))
            && crate::mm::user_memory_available(bytes)
    };
    if room(kernel) {
        return Ok(());
    }
    settle_lingering(kernel);
    if room(kernel) {
        Ok(())
    } else {
        Err(Error::NoMemory)
    }
}

/// Charges `pages` pages to process `id` if they fit its limit.
pub fn charge_pages(kernel: &mut Kernel, id: ObjectId, pages: u64) -> Result<(), Error> {
    check_room(kernel, id, pages, 0)?;
    if let Some(process) = kernel.objects.process_mut(id) {
        process.memory_pages = process.memory_pages.saturating_add(pages);
    }
    Ok(())
}

/// Gives `pages` pages back to process `id` (if it still exists).
pub fn uncharge_pages(kernel: &mut Kernel, id: ObjectId, pages: u64) {
    if let Some(process) = kernel.objects.process_mut(id) {
        process.memory_pages = process.memory_pages.saturating_sub(pages);
    }
}

/// Charges `bytes` of kernel memory to process `id` if they fit its limit.
pub fn charge_bytes(kernel: &mut Kernel, id: ObjectId, bytes: u64) -> Result<Charge, Error> {
    check_room(kernel, id, 0, bytes)?;
    if let Some(process) = kernel.objects.process_mut(id) {
        process.account.kernel_bytes = process.account.kernel_bytes.saturating_add(bytes);
    }
    Ok(Charge { owner: id, bytes })
}

/// Charges process `writer` for a message of `bytes` bytes and `handles`
/// handles it queues, until the message is read or dropped.
pub fn charge_message(
    kernel: &mut Kernel,
    writer: ObjectId,
    bytes: u64,
    handles: u64,
) -> Result<Charge, Error> {
    let cost = MESSAGE_BYTES
        .saturating_add(bytes)
        .saturating_add(handles.saturating_mul(TRANSIT_HANDLE_BYTES));
    charge_bytes(kernel, writer, cost)
}

/// Gives back what [`charge_bytes`] charged.
pub fn uncharge_bytes(kernel: &mut Kernel, charge: Charge) {
    uncharge_bytes_in(&mut kernel.objects, charge);
}

/// [`uncharge_bytes`] on the object table alone (for a caller that holds
/// another part of the kernel state).
pub fn uncharge_bytes_in(objects: &mut ObjectTable, charge: Charge) {
    if charge.bytes == 0 {
        return;
    }
    if let Some(process) = objects.process_mut(charge.owner) {
        process.account.kernel_bytes = process.account.kernel_bytes.saturating_sub(charge.bytes);
    }
}

/// Gives their creators back the pages of lingering memory objects that
/// are gone now.
pub fn settle_lingering(kernel: &mut Kernel) {
    let lingering = core::mem::take(&mut kernel.lingering);
    let mut kept = alloc::vec::Vec::new();
    for entry in lingering {
        if entry.pages.strong_count() == 0 {
            uncharge_pages(kernel, entry.owner, entry.count);
        } else {
            // Never grows: `kept` is no longer than what was taken.
            if kept.try_reserve(1).is_ok() {
                kept.push(entry);
            }
        }
    }
    kernel.lingering = kept;
}

/// Process `id` ended (its space is gone): its parent gets back the budget
/// it set aside for it, and is charged instead for what of it outlives it
/// — memory objects it created, pages of them still mapped, messages and
/// packets it left queued, and the budgets of its own children, which
/// become the parent's children.
pub fn hand_over(kernel: &mut Kernel, id: ObjectId) {
    settle_lingering(kernel);
    let Some(account) = kernel.objects.process(id).map(|process| process.account) else {
        return;
    };
    let heir = if kernel
        .objects
        .process(account.parent)
        .is_some_and(Process::is_alive)
    {
        account.parent
    } else {
        0
    };
    let mut outliving = 0u64;
    let mut outliving_bytes = 0u64;
    // Memory objects that outlive it, children that run on, and the
    // messages and packets it left queued.
    let ids: alloc::vec::Vec<ObjectId> = kernel
        .objects
        .iter()
        .filter(|(_, object, _)| match object {
            Object::Memory(memory) => memory.charged_to == id,
            Object::Process(child) => child.account.parent == id && child.is_alive(),
            Object::Channel(end) => !end.queue.is_empty(),
            Object::Port(_) => true,
            _ => false,
        })
        .map(|(other, _, _)| other)
        .collect();
    for other in ids {
        match kernel.objects.get_mut(other) {
            Some(Object::Memory(memory)) => {
                memory.charged_to = heir;
                outliving = outliving.saturating_add(memory.charged_pages);
            }
            Some(Object::Process(child)) => {
                child.account.parent = heir;
                outliving = outliving.saturating_add(child.account.reserved);
            }
            Some(Object::Channel(end)) => {
                for payload in end.queue.payloads_mut() {
                    if payload.charge.owner == id {
                        payload.charge.owner = heir;
                        outliving_bytes = outliving_bytes.saturating_add(payload.charge.bytes);
                    }
                }
            }
            Some(Object::Port(port)) => {
                outliving_bytes = outliving_bytes.saturating_add(port.recharge(id, heir));
            }
            _ => {}
        }
    }
    for entry in kernel.lingering.iter_mut() {
        if entry.owner == id {
            entry.owner = heir;
            outliving = outliving.saturating_add(entry.count);
        }
    }
    if let Some(process) = kernel.objects.process_mut(id) {
        process.memory_pages = 0;
        process.account.kernel_bytes = 0;
    }
    if let Some(parent) = kernel.objects.process_mut(heir) {
        parent.memory_pages = abide_objects::budget::after_child_ends(
            parent.memory_pages,
            account.reserved,
            outliving,
        );
        parent.account.kernel_bytes = parent.account.kernel_bytes.saturating_add(outliving_bytes);
    }
}
