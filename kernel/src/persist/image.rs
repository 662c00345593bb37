//! The checkpoint image: the kernel's object state as plain data.
//!
//! A checkpoint serializes the object table, the handle tables, the run
//! queue, the observers and the deadlines with `postcard` into the store's
//! state blob; page contents go to the store's pages, named by
//! [`PageKey`]s built here. [`ImageOut`] borrows from the live kernel so
//! taking the image copies nothing twice. The layout read back is
//! `abide_image::Image` (re-exported here as [`ImageIn`]): the one
//! description of the format, with the checks a restore makes before it
//! trusts an image ([`rules`] gives them the kernel's limits). The kernel
//! types `ImageOut` borrows (channel ends with their messages' charges,
//! ports with their packets' charges, timers, interrupts, I/O ports,
//! observers with their charges) have plain-data mirrors there and must
//! stay field for field alike: every QEMU persistence test restores them.
//! The memory accounting is saved, not recomputed at a restore: who wrote
//! a queued message, who armed an observer and which process inherited a
//! charge are nowhere else in the image (docs/persistence.md).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use abide_abi::object::ProcessStatus;
use abide_objects::caps::{Capabilities, TableId};
use abide_sched::RunQueue;
use abide_store::PageKey;
use serde::Serialize;

pub use abide_image::{
    AccountImage, Image as ImageIn, KindImage as KindIn, LimitsImage, LingeringImage, MemoryImage,
    PageSetImage, SpaceImage, ThreadImage, IMAGE_FORMAT,
};

use crate::arch::context::SAVED_REGISTERS;
use crate::mm::{SHARED_BASE, SHARED_END, USER_END, USER_START};
use crate::object::{channel, hardware, port};
use crate::object::{ChannelEnd, Interrupt, IoPorts, ObjectId, Observer, Port, Timer};
use crate::process::account;

// The image keeps a thread's registers in the order and number
// `UserContext::saved_registers` gives them.
const _: () = assert!(SAVED_REGISTERS == abide_image::SAVED_REGISTERS);

/// The owner half of the [`PageKey`] of a page-set's pages (a process's
/// own pages use its object id, which never has this bit: a restore
/// refuses ids from `abide_image::COUNTER_LIMIT` on).
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

/// What this machine lets a driver have, for the image checks.
struct MachineHardware;

impl abide_image::Hardware for MachineHardware {
    fn ports_allowed(&self, base: u64, count: u64) -> bool {
        hardware::ports_allowed(base, count)
    }

    fn irq_allowed(&self, irq: u64) -> bool {
        hardware::irq_allowed(irq)
    }

    fn mmio_allowed(&self, phys: u64) -> bool {
        hardware::mmio_allowed(phys, abide_mm::PAGE_SIZE)
    }
}

/// The kernel's limits an image read back is checked against: the
/// constants its system calls enforce.
pub fn rules() -> abide_image::Rules<'static> {
    abide_image::Rules {
        user: USER_START..USER_END,
        shared: SHARED_BASE..SHARED_END,
        queue_messages: channel::QUEUE_MESSAGES,
        queue_bytes: channel::QUEUE_BYTES,
        port_capacity: port::PORT_CAPACITY,
        max_name: abide_abi::object::MAX_PROCESS_NAME,
        max_period_ms: abide_abi::persist::MAX_PERIOD_MS,
        process_bytes: account::PROCESS_BYTES,
        hardware: &MachineHardware,
    }
}

/// The whole image, borrowed from the kernel (the layout of [`ImageIn`]).
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
    /// Pages of closed memory objects still mapped, and who is charged.
    pub lingering: Vec<LingeringImage>,
}

/// One object with its id and handle count.
#[derive(Serialize)]
pub struct ObjectOut<'a> {
    pub id: ObjectId,
    pub handles: u64,
    pub kind: KindOut<'a>,
}

/// The variants of `abide_image::KindImage`, in its order.
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

/// `abide_image::ProcessImage`, borrowed.
#[derive(Serialize)]
pub struct ProcessOut<'a> {
    pub name: &'a str,
    pub table: TableId,
    pub threads: &'a [ObjectId],
    pub status: ProcessStatus,
    pub limits: LimitsImage,
    pub memory_pages: u64,
    /// Its parent's share of its budget and its kernel memory.
    pub account: AccountImage,
    pub cpu_ns: u64,
    pub persistent: bool,
    /// `None` once ended, and for processes that are not persistent (a
    /// restore ends them before they run again, so their pages are not
    /// worth a block).
    pub space: Option<SpaceImage>,
    /// A foreign process's trap channel end.
    pub trap_channel: Option<ObjectId>,
}
