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
//!
//! This file holds the records and the rule for one process; charging and
//! refunding, which walk the object table, are `object::account`.

use alloc::sync::Weak;

use abide_mm::PAGE_SIZE;

use super::Process;
use crate::ids::ObjectId;
use crate::mm::PageSet;

/// Kernel bytes charged for a process and its main thread (the records,
/// the saved registers and FPU state, the handle table's start).
pub const PROCESS_BYTES: u64 = 4096;
/// Kernel bytes charged per further thread of a foreign process (its
/// record, saved registers and FPU state, its place in the run queue).
pub const THREAD_BYTES: u64 = 1024;
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
/// given back with `object::account::uncharge_bytes`). A checkpoint saves it with the
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
