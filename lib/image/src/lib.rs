//! The checkpoint image as plain data, and the checks a restore makes
//! before it trusts one.
//!
//! A checkpoint serializes the kernel's object state with `postcard` into
//! the store's state blob (see docs/persistence.md). The kernel writes it
//! from borrowed kernel values (its `ImageOut`, which must keep this
//! layout field for field) and reads it back into [`Image`], the one
//! description of the layout: every kernel type in it has a plain-data
//! mirror here ([`ChannelImage`], [`PortImage`], [`TimerImage`], ...).
//!
//! The store's CRC-32C proves only that the blob is the one written, not
//! that a kernel wrote it. [`Image::validate`] therefore checks every field
//! against the rules the system calls enforce — ids and counters that can
//! still grow without wrapping, objects that name objects of the right
//! kind, handle tables whose derivation tree is a tree, rights within what
//! their parent had, queue and port bounds, I/O ports, IRQs and device
//! memory a driver may be granted, user page flags that keep W^X and the
//! cache modes, the memory accounting (parents that run and form no
//! cycle, budgets set aside within the parent's, kernel memory charged
//! for every queued message, observer and packet, no process beyond its
//! limit) — and answers a bad image with a named [`ImageError`]
//! before the kernel changes anything. The kernel then converts the valid
//! image into its own objects.
//!
//! `no_std` + `alloc`, no `unsafe`; nothing here panics on any input.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod check;
mod error;
#[cfg(feature = "testing")]
pub mod testing;

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use abide_abi::object::{Packet, ProcessStatus, Signals};
use abide_objects::caps::{Capabilities, InTransit, TableId};
use abide_objects::queue::{HandleCount, MessageQueue};
use abide_sched::RunQueue;
use serde::{Deserialize, Serialize};

pub use error::ImageError;

/// An object's id (the kernel's `ObjectId`).
pub type ObjectId = u64;

/// The layout version of the image; a restore refuses any other. 3: the
/// `SPAWN` right (an image of 2 would give init a hardware resource that
/// cannot spawn). 4: the memory accounting (a process's [`AccountImage`],
/// the [`ChargeImage`] of every queued message, armed observer and
/// packet, the [`LingeringImage`]s); an image of 3 would restore every
/// process uncharged.
pub const IMAGE_FORMAT: u32 = 5;

/// The registers a thread image keeps (the kernel's
/// `UserContext::saved_registers`): r15 .. rax, rip, rflags, rsp.
pub const SAVED_REGISTERS: usize = 18;

/// Index of `rip` and `rsp` in [`ThreadImage::registers`].
pub const RIP: usize = 15;
/// See [`RIP`].
pub const RSP: usize = 17;

/// Size of a thread's FXSAVE area.
pub const FPU_BYTES: usize = 512;

/// Object and page-set ids, the kernel log position and the clock stay
/// below this: a counter restored from disk can then grow for centuries
/// without wrapping (a page set's store key also uses bit 63 to tell it
/// from a process's).
pub const COUNTER_LIMIT: u64 = 1 << 62;

/// The whole image.
#[derive(Debug, Serialize, Deserialize)]
pub struct Image {
    /// [`IMAGE_FORMAT`] when written.
    pub format: u32,
    /// The system's monotonic time at the checkpoint.
    pub now_ns: u64,
    /// The last object id issued.
    pub last_object_id: u64,
    /// The last page-set id issued.
    pub last_page_set_id: u64,
    /// Bytes the kernel log had taken in.
    pub kernel_log_position: u64,
    /// The checkpoint period in force (0: on demand only).
    pub period_ms: u64,
    /// Every object.
    pub objects: Vec<ObjectImage>,
    /// Every page set a memory object or mapping uses.
    pub page_sets: Vec<PageSetImage>,
    /// The handle tables and the derivation tree.
    pub caps: Capabilities<ObjectId>,
    /// The ready threads.
    pub run_queue: RunQueue<ObjectId>,
    /// The thread that was on the CPU (it goes back in the run queue).
    pub running: Option<ObjectId>,
    /// Armed `port_bind`s, by observed object.
    pub observers: BTreeMap<ObjectId, Vec<ObserverImage>>,
    /// Timer and `port_wait` deadlines: (deadline, object).
    pub deadlines: BTreeSet<(u64, ObjectId)>,
    /// Pages of closed memory objects that mappings still hold, charged
    /// to their creators until freed.
    pub lingering: Vec<LingeringImage>,
}

/// One object with its id and handle count.
#[derive(Debug, Serialize, Deserialize)]
pub struct ObjectImage {
    /// Its id.
    pub id: ObjectId,
    /// Handles naming it (in tables and in messages).
    pub handles: u64,
    /// What it is.
    pub kind: KindImage,
}

/// An object's kind and state (the variants in the kernel's order).
#[derive(Debug, Serialize, Deserialize)]
pub enum KindImage {
    /// A process.
    Process(ProcessImage),
    /// A thread.
    Thread(ThreadImage),
    /// A channel endpoint.
    Channel(ChannelImage),
    /// A port.
    Port(PortImage),
    /// A memory object.
    Memory(MemoryImage),
    /// A timer.
    Timer(TimerImage),
    /// An IRQ line.
    Interrupt(InterruptImage),
    /// A range of I/O ports.
    IoPorts(IoPortsImage),
    /// The authority to claim hardware.
    HardwareResource,
}

impl KindImage {
    /// The kind's name, for refusals.
    pub fn name(&self) -> &'static str {
        match self {
            KindImage::Process(_) => "process",
            KindImage::Thread(_) => "thread",
            KindImage::Channel(_) => "channel",
            KindImage::Port(_) => "port",
            KindImage::Memory(_) => "memory object",
            KindImage::Timer(_) => "timer",
            KindImage::Interrupt(_) => "interrupt",
            KindImage::IoPorts(_) => "I/O port range",
            KindImage::HardwareResource => "hardware resource",
        }
    }
}

/// A process.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProcessImage {
    /// Its name.
    pub name: String,
    /// Its handle table.
    pub table: TableId,
    /// Its threads.
    pub threads: Vec<ObjectId>,
    /// Running or how it ended.
    pub status: ProcessStatus,
    /// Its limits.
    pub limits: LimitsImage,
    /// Pages charged to it.
    pub memory_pages: u64,
    /// Its parent's share of its budget and the kernel memory held for it.
    pub account: AccountImage,
    /// CPU time it used.
    pub cpu_ns: u64,
    /// Whether it survives a power cut.
    pub persistent: bool,
    /// `None` once ended, and for processes that are not persistent (a
    /// restore ends them before they run again, so their pages are not
    /// worth a block).
    pub space: Option<SpaceImage>,
    /// For a foreign-ABI process, the channel end its traps go through
    /// (it holds a reference, counted like a handle); `None` otherwise and
    /// once ended.
    pub trap_channel: Option<ObjectId>,
}

/// A process's limits.
#[derive(Debug, Serialize, Deserialize, Clone, Copy)]
pub struct LimitsImage {
    /// Its threads' priority.
    pub priority: u8,
    /// The most pages it may be charged.
    pub memory_pages: u64,
    /// The most handles its table may hold.
    pub handle_quota: u64,
}

/// How a process's budget relates to its parent's, and the kernel memory
/// held for it (the kernel's `process::account::Account`).
#[derive(Debug, Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountImage {
    /// The process that started it, or the one that inherited it (0: none;
    /// what of it outlives it is then charged to nobody).
    pub parent: ObjectId,
    /// Pages its parent set aside for it: its own limit, or 0 when its
    /// parent had no limit.
    pub reserved: u64,
    /// Kernel memory held for it, in bytes (its records and the
    /// [`ChargeImage`]s it owns).
    pub kernel_bytes: u64,
}

/// Who is charged, and how many kernel bytes, for one queued message,
/// armed observer or queued packet (the kernel's `Charge`).
#[derive(Debug, Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChargeImage {
    /// The process charged (0: nobody, once its writer and every process
    /// that would inherit the charge ended).
    pub owner: ObjectId,
    /// The bytes charged.
    pub bytes: u64,
}

/// The pages of a memory object whose last handle closed while a mapping
/// still held them: its creator stays charged for them until they are
/// freed (the kernel's `process::account::Lingering`).
#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
pub struct LingeringImage {
    /// Their page set (0, or one the image no longer has: freed since,
    /// the charge not yet given back; a restore gives it back).
    pub page_set: u64,
    /// The process charged (0: nobody).
    pub owner: ObjectId,
    /// How many pages it is charged.
    pub pages: u64,
}

/// An address space: its own pages (address, page-table flags; contents in
/// the store under the process's page keys) and the page sets it maps.
#[derive(Debug, Serialize, Deserialize)]
pub struct SpaceImage {
    /// (address, page-table flags) of its own pages.
    pub pages: Vec<(u64, u64)>,
    /// (base address, page-set id, writable).
    pub shared: Vec<(u64, u64, bool)>,
    /// Where the next memory object goes.
    pub next_shared: u64,
}

/// A thread: its registers (see [`SAVED_REGISTERS`]), FXSAVE area, and
/// whether it was ready or waiting.
#[derive(Debug, Serialize, Deserialize)]
pub struct ThreadImage {
    /// Its process.
    pub process: ObjectId,
    /// Its priority.
    pub priority: u8,
    /// `Some(deadline)` for a thread blocked in `port_wait` (it re-issues
    /// the call when woken: waits are restartable).
    pub blocked_until: Option<u64>,
    /// Its registers.
    pub registers: [u64; SAVED_REGISTERS],
    /// Its FXSAVE area ([`FPU_BYTES`]).
    pub fpu: Vec<u8>,
    /// Its FS segment base (below the end of user space).
    pub fs_base: u64,
    /// Its GS segment base (below the end of user space).
    pub gs_base: u64,
    /// For a thread of a foreign-ABI process, the key its handler gave it.
    /// Such a thread stopped in a trap is saved as it is, out of the run
    /// queue (`blocked_until` `None`), and a restore stops it again: its
    /// trap is in the image once, queued at its handler or taken by it.
    pub trap_key: Option<u64>,
}

/// A memory object.
#[derive(Debug, Serialize, Deserialize)]
pub struct MemoryImage {
    /// Its pages.
    pub page_set: u64,
    /// The process its pages are charged to.
    pub charged_to: ObjectId,
    /// How many.
    pub charged_pages: u64,
}

/// A page set: RAM (contents in the store) or device memory (its physical
/// pages; the device is not saved).
#[derive(Debug, Serialize, Deserialize)]
pub struct PageSetImage {
    /// Its id.
    pub id: u64,
    /// Its length in pages.
    pub pages: u64,
    /// The physical pages of device memory.
    pub device: Option<Vec<u64>>,
}

/// What travels with a message's bytes (the kernel's `Payload`).
#[derive(Debug, Serialize, Deserialize)]
pub struct PayloadImage {
    /// The handles moved with it.
    pub handles: InTransit<ObjectId>,
    /// The badge of the handle the writer used (0: none).
    pub badge: u64,
    /// Who is charged for the message until it is read.
    pub charge: ChargeImage,
}

impl HandleCount for PayloadImage {
    fn count(&self) -> usize {
        self.handles.len()
    }
}

/// A channel endpoint (the kernel's `ChannelEnd`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ChannelImage {
    /// The other end, until it closes.
    pub peer: Option<ObjectId>,
    /// Messages written by the peer, oldest first.
    pub queue: MessageQueue<PayloadImage>,
}

/// A port (the kernel's `Port`).
#[derive(Debug, Serialize, Deserialize)]
pub struct PortImage {
    /// Queued packets.
    pub packets: VecDeque<Packet>,
    /// Observers armed for this port.
    pub armed: u64,
    /// Threads blocked in `port_wait` on it.
    pub waiters: Vec<ObjectId>,
    /// Who is charged for each queued packet, oldest first (one each).
    pub charges: VecDeque<ChargeImage>,
}

/// A timer (the kernel's `Timer`).
#[derive(Debug, Serialize, Deserialize)]
pub struct TimerImage {
    /// When it fires, if set.
    pub deadline: Option<u64>,
    /// It fired and was not set again since.
    pub fired: bool,
}

/// An owned IRQ line (the kernel's `Interrupt`).
#[derive(Debug, Serialize, Deserialize)]
pub struct InterruptImage {
    /// The ISA IRQ.
    pub irq: u8,
    /// Fired and not yet acknowledged.
    pub pending: bool,
}

/// A range of I/O ports (the kernel's `IoPorts`).
#[derive(Debug, Serialize, Deserialize)]
pub struct IoPortsImage {
    /// The first port.
    pub base: u16,
    /// How many.
    pub count: u16,
}

/// An armed `port_bind` (the kernel's `Observer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObserverImage {
    /// The port its packet goes to.
    pub port: ObjectId,
    /// The caller's key.
    pub key: u64,
    /// The signals watched.
    pub signals: Signals,
    /// Who is charged for it (and then for its packet).
    pub charge: ChargeImage,
}

/// What a driver may be granted on this machine (the kernel answers from
/// its hardware checks; tests from a model).
pub trait Hardware {
    /// True when `count` ports from `base` are none the kernel drives.
    fn ports_allowed(&self, base: u64, count: u64) -> bool;
    /// True when IRQ `irq` may be owned by a driver.
    fn irq_allowed(&self, irq: u64) -> bool;
    /// True when the page at `phys` is device memory a driver may map.
    fn mmio_allowed(&self, phys: u64) -> bool;
}

/// The kernel's rules an image is checked against: the same constants
/// its system calls enforce.
pub struct Rules<'a> {
    /// Where user pages may be.
    pub user: Range<u64>,
    /// Where memory objects are mapped.
    pub shared: Range<u64>,
    /// The message bound of every channel endpoint's queue.
    pub queue_messages: usize,
    /// The byte bound of every channel endpoint's queue.
    pub queue_bytes: usize,
    /// Packets plus armed observers one port may hold.
    pub port_capacity: usize,
    /// The longest process name.
    pub max_name: usize,
    /// The longest checkpoint period.
    pub max_period_ms: u64,
    /// The kernel bytes every running process is charged for its own
    /// records, besides its charges.
    pub process_bytes: u64,
    /// The machine's hardware grants.
    pub hardware: &'a dyn Hardware,
}

/// Decodes a state blob (no checks beyond the layout; see
/// [`Image::validate`]). The format comes first in every layout: a blob of
/// another format is refused as such ([`ImageError::Format`]) before its
/// layout, which may differ, is read.
pub fn decode(blob: &[u8]) -> Result<Image, ImageError> {
    let (format, _) = postcard::take_from_bytes::<u32>(blob).map_err(ImageError::Decode)?;
    if format != IMAGE_FORMAT {
        return Err(ImageError::Format(format));
    }
    postcard::from_bytes(blob).map_err(ImageError::Decode)
}

/// Decodes and validates a state blob.
pub fn decode_valid(blob: &[u8], rules: &Rules) -> Result<Image, ImageError> {
    let image = decode(blob)?;
    image.validate(rules)?;
    Ok(image)
}

impl Image {
    /// Encodes the image (the kernel encodes from its `ImageOut`; tests and
    /// tools use this).
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(self)
    }

    /// Checks every field against `rules` (see the crate documentation);
    /// the first fault found is the refusal.
    pub fn validate(&self, rules: &Rules) -> Result<(), ImageError> {
        check::validate(self, rules)
    }
}
