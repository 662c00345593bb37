//! The checkpoint image: the kernel's object state as plain data.
//!
//! A checkpoint serializes the object table, the handle tables, the run
//! queue, the observers and the deadlines with `postcard` into the store's
//! state blob; page contents go to the store's pages, named by
//! [`PageKey`]s built here. [`ImageOut`] borrows from the live kernel so
//! taking the image copies nothing twice; [`ImageIn`] is the same layout,
//! owned, for the restore. The two must stay field for field alike: the
//! QEMU persistence tests restore every kind of object through them.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::ProcessStatus;
use abide_objects::caps::{Capabilities, TableId};
use abide_sched::RunQueue;
use abide_store::PageKey;
use serde::{Deserialize, Serialize};

use crate::arch::context::SAVED_REGISTERS;
use crate::object::{ChannelEnd, Interrupt, IoPorts, ObjectId, Observer, Port, Timer};

/// The layout version of the image; a restore refuses any other. 3: the
/// `SPAWN` right (an image of 2 would give init a hardware resource that
/// cannot spawn).
pub const IMAGE_FORMAT: u32 = 3;

/// The owner half of the [`PageKey`] of a page-set's pages (a process's
/// own pages use its object id, which never has this bit).
const PAGE_SET_OWNER: u64 = 1 << 63;

/// The key of a process's own page at `virt`.
pub fn process_page(process: ObjectId, virt: u64) -> PageKey {
    PageKey {
        owner: process,
        index: virt / abide_mm::PAGE_SIZE,
    }
}

/// The key of page `index` of page set `set`.
pub fn page_set_page(set: u64, index: u64) -> PageKey {
    PageKey {
        owner: PAGE_SET_OWNER | set,
        index,
    }
}

/// The whole image, borrowed from the kernel.
#[derive(Serialize)]
pub struct ImageOut<'a> {
    pub format: u32,
    /// The system's monotonic time at the checkpoint.
    pub now_ns: u64,
    pub last_object_id: u64,
    pub last_page_set_id: u64,
    pub kernel_log_position: u64,
    /// The checkpoint period in force (0: on demand only).
    pub period_ms: u64,
    pub objects: Vec<ObjectOut<'a>>,
    pub page_sets: Vec<PageSetImage>,
    pub caps: &'a Capabilities<ObjectId>,
    pub run_queue: &'a RunQueue<ObjectId>,
    /// The thread that was on the CPU (it goes back in the run queue).
    pub running: Option<ObjectId>,
    pub observers: &'a BTreeMap<ObjectId, Vec<Observer>>,
    pub deadlines: &'a BTreeSet<(u64, ObjectId)>,
}

/// The whole image, read back.
#[derive(Deserialize)]
pub struct ImageIn {
    pub format: u32,
    pub now_ns: u64,
    pub last_object_id: u64,
    pub last_page_set_id: u64,
    pub kernel_log_position: u64,
    pub period_ms: u64,
    pub objects: Vec<ObjectIn>,
    pub page_sets: Vec<PageSetImage>,
    pub caps: Capabilities<ObjectId>,
    pub run_queue: RunQueue<ObjectId>,
    pub running: Option<ObjectId>,
    pub observers: BTreeMap<ObjectId, Vec<Observer>>,
    pub deadlines: BTreeSet<(u64, ObjectId)>,
}

/// One object with its id and handle count.
#[derive(Serialize)]
pub struct ObjectOut<'a> {
    pub id: ObjectId,
    pub handles: u64,
    pub kind: KindOut<'a>,
}

#[derive(Deserialize)]
pub struct ObjectIn {
    pub id: ObjectId,
    pub handles: u64,
    pub kind: KindIn,
}

#[derive(Serialize)]
pub enum KindOut<'a> {
    Process(ProcessOut<'a>),
    Thread(ThreadImage),
    Channel(&'a ChannelEnd),
    Port(&'a Port),
    Memory(MemoryImage),
    Timer(&'a Timer),
    Interrupt(&'a Interrupt),
    IoPorts(&'a IoPorts),
    HardwareResource,
}

#[derive(Deserialize)]
pub enum KindIn {
    Process(ProcessIn),
    Thread(ThreadImage),
    Channel(ChannelEnd),
    Port(Port),
    Memory(MemoryImage),
    Timer(Timer),
    Interrupt(Interrupt),
    IoPorts(IoPorts),
    HardwareResource,
}

#[derive(Serialize)]
pub struct ProcessOut<'a> {
    pub name: &'a str,
    pub table: TableId,
    pub threads: &'a [ObjectId],
    pub status: ProcessStatus,
    pub limits: LimitsImage,
    pub memory_pages: u64,
    pub cpu_ns: u64,
    pub persistent: bool,
    /// `None` once ended, and for processes that are not persistent (a
    /// restore ends them before they run again, so their pages are not
    /// worth a block).
    pub space: Option<SpaceImage>,
}

#[derive(Deserialize)]
pub struct ProcessIn {
    pub name: String,
    pub table: TableId,
    pub threads: Vec<ObjectId>,
    pub status: ProcessStatus,
    pub limits: LimitsImage,
    pub memory_pages: u64,
    pub cpu_ns: u64,
    pub persistent: bool,
    pub space: Option<SpaceImage>,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
pub struct LimitsImage {
    pub priority: u8,
    pub memory_pages: u64,
    pub handle_quota: u64,
}

/// An address space: its own pages (address, page-table flags; contents
/// under [`process_page`]) and the page sets it maps.
#[derive(Serialize, Deserialize)]
pub struct SpaceImage {
    pub pages: Vec<(u64, u64)>,
    /// (base address, page-set id, writable).
    pub shared: Vec<(u64, u64, bool)>,
    pub next_shared: u64,
}

/// A thread: its registers (see `UserContext::saved_registers`), FXSAVE
/// area, and whether it was ready or waiting.
#[derive(Serialize, Deserialize)]
pub struct ThreadImage {
    pub process: ObjectId,
    pub priority: u8,
    /// `Some(deadline)` for a thread blocked in `port_wait` (it re-issues
    /// the call when woken: waits are restartable).
    pub blocked_until: Option<u64>,
    pub registers: [u64; SAVED_REGISTERS],
    pub fpu: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
pub struct MemoryImage {
    pub page_set: u64,
    pub charged_to: ObjectId,
    pub charged_pages: u64,
}

/// A page set: RAM (contents under [`page_set_page`]) or device memory
/// (its physical pages; the device is not saved).
#[derive(Serialize, Deserialize)]
pub struct PageSetImage {
    pub id: u64,
    pub pages: u64,
    pub device: Option<Vec<u64>>,
}
