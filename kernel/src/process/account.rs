//! Memory accounting: what each process is charged for, against its limit.
//!
//! A process is charged, in pages, for everything that exists because it
//! asked for it (docs/kernel.md, "Memory limits"):
//! - its own pages (program image, stack) and the memory objects it
//!   created, for as long as their pages exist anywhere (a mapping keeps
//!   them alive after the last handle closes, so the charge stays: see
//!   [`Lingering`]);
//! - the page tables of its address space and its mapping records (derived
//!   from the space, so never out of step);
//! - kernel memory held on its behalf, in bytes rounded up to pages: its
//!   own process and thread records, the port observers it armed, the
//!   packets they queued, and the messages (bytes and handles in transit)
//!   it wrote that are still queued;
//! - the limits of the children it started: a child's budget comes out of
//!   its parent's ([`Account::reserved`]) and goes back when the child ends,
//!   minus whatever of the child's outlives it (its memory objects, its
//!   own children's budgets), which is charged to the parent from then on.
//!
//! So a tree of processes under a parent with limit L never holds more than
//! L pages however its members loop. Parents without a limit (the kernel's
//! programs, `init`) give their children limits without setting them aside.

use alloc::sync::Weak;

use abide_abi::syscall::Error;
use abide_mm::PAGE_SIZE;

use super::Process;
use crate::mm::PageSet;
use crate::object::{Kernel, Object, ObjectId, ObjectTable};

/// Kernel bytes charged for a process and its main thread (the records,
/// the saved registers and FPU state, the handle table's start).
pub const PROCESS_BYTES: u64 = 4096;
/// Kernel bytes charged per armed port observer, which holds its record
/// (40 bytes) and room for its packet on the port (40 bytes), each in a
/// list that may hold twice what it uses.
pub const OBSERVER_BYTES: u64 = 160;
/// Kernel bytes charged per queued message besides its bytes.
pub const MESSAGE_BYTES: u64 = 64;
/// Kernel bytes charged per handle in transit in a queued message.
pub const TRANSIT_HANDLE_BYTES: u64 = 32;

/// How a process's budget relates to its parent's, and the kernel memory
/// it is charged for. A checkpoint saves it (`abide_image::AccountImage`,
/// checked before a restore trusts it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Account {
    /// The process that started it (0: the kernel, or a parent that ended
    /// with no heir); when it ends, what of it outlives it is charged
    /// there.
    pub parent: ObjectId,
    /// Pages its parent set aside for it (its limit; 0 when the parent has
    /// no limit).
    pub reserved: u64,
    /// Kernel memory held for it, in bytes.
    pub kernel_bytes: u64,
}

/// The pages of a memory object whose last handle closed while a mapping
/// still holds them: its creator stays charged until they are freed. A
/// checkpoint saves it (`abide_image::LingeringImage`, by page-set id).
pub struct Lingering {
    pub pages: Weak<PageSet>,
    pub owner: ObjectId,
    pub count: u64,
}

/// What who is charged for one kernel allocation (kept with the allocation,
/// given back with [`uncharge_bytes`]). A checkpoint saves it with the
/// allocation (a queued message, an armed observer, a queued packet), in
/// the layout of `abide_image::ChargeImage`, so restored allocations stay
/// charged to whom they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Charge {
    pub owner: ObjectId,
    pub bytes: u64,
}

impl Process {
    /// Pages it is charged for now (see the module documentation).
    pub fn charged_pages(&self) -> u64 {
        let (tables, records) = self
            .space
            .as_ref()
            .map_or((0, 0), |space| (space.table_pages(), space.record_bytes()));
        let kernel = self.account.kernel_bytes.saturating_add(records);
        self.memory_pages
            .saturating_add(tables)
            .saturating_add(kernel.div_ceil(PAGE_SIZE))
    }

    /// Whether `pages` more pages and `bytes` more kernel bytes fit its limit.
    pub fn has_room(&self, pages: u64, bytes: u64) -> bool {
        let records = self.space.as_ref().map_or(0, |space| space.record_bytes());
        let tables = self.space.as_ref().map_or(0, |space| space.table_pages());
        let kernel = self
            .account
            .kernel_bytes
            .saturating_add(records)
            .saturating_add(bytes);
        let total = self
            .memory_pages
            .saturating_add(tables)
            .saturating_add(pages)
            .saturating_add(kernel.div_ceil(PAGE_SIZE));
        self.is_alive() && total <= self.limits.memory_pages
    }
}

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
