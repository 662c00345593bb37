//! Kernel objects as user space sees them: the signals a port can wait for,
//! the structures system calls pass through memory, and the limits.
//!
//! The structures are [`Record`]s: `#[repr(C)]` structs whose declaration
//! is their layout (field order, sizes and reserved bytes, little-endian),
//! read and written without `unsafe` (see [`crate::record`]).

use crate::record::{Immutable, IntoBytes, KnownLayout, Record, TryFromBytes};

/// The most bytes one channel message may carry.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The most handles one channel message may carry.
pub const MAX_MESSAGE_HANDLES: usize = 16;

/// The longest process name, in bytes (`process_spawn`; a restore refuses
/// an image with a longer one).
pub const MAX_PROCESS_NAME: usize = 64;

/// The largest memory object (`memory_create`, `mmio_create`).
pub const MAX_MEMORY_BYTES: u64 = 256 << 20;

/// `memory_map` flag: map writable (the handle needs `WRITE`).
pub const MAP_WRITE: u64 = 1 << 0;

/// A process starts with its own process handle in `rdi` and the number of
/// startup handles (the ones its parent passed to `process_spawn`) in
/// `rsi`. Startup handle `i` has the value `FIRST_STARTUP_HANDLE + i`.
pub const FIRST_STARTUP_HANDLE: u32 = 2;

/// The ISA IRQ lines a driver may own (`interrupt_create`): every line but
/// the PIT (0) and the PIC cascade (2). Taking COM1's line (4) or its ports
/// hands the serial console over to the driver: from then on the kernel
/// writes its log to its ring ([`crate::syscall::Syscall::KernelLogRead`])
/// and to the serial port only when it panics.
pub const USER_IRQS: &[u8] = &[1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// `process_kill`'s `how`: end the process, reported `Killed`.
pub const KILL: u64 = 0;
/// `process_kill`'s `how`: end it as if it had faulted (fault injection),
/// reported `Faulted` with [`INJECTED_FAULT_VECTOR`].
pub const KILL_AS_FAULT: u64 = 1;
/// The `vector` of a fault injected with [`KILL_AS_FAULT`]: no CPU
/// exception has this number.
pub const INJECTED_FAULT_VECTOR: u32 = 256;

/// `machine_power`'s action: power the machine off.
pub const POWER_OFF: u64 = 0;

/// What kind of object a handle names (`process_handles`).
#[repr(u32)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub enum ObjectKind {
    #[default]
    Unknown = 0,
    Process = 1,
    Thread = 2,
    Channel = 3,
    Port = 4,
    Memory = 5,
    Timer = 6,
    Interrupt = 7,
    IoPorts = 8,
    /// The machine's hardware: the authority over devices and the store.
    /// Its rights mean: `MANAGE`, every device operation (interrupts, I/O
    /// ports, device memory, power, the checkpoint period); `WRITE`, to
    /// checkpoint the machine to its store on demand
    /// ([`crate::persist::SNAPSHOT`], [`crate::persist::SYNC`]).
    HardwareResource = 9,
}

impl ObjectKind {
    /// Every kind, in code order.
    pub const ALL: &'static [ObjectKind] = &[
        ObjectKind::Unknown,
        ObjectKind::Process,
        ObjectKind::Thread,
        ObjectKind::Channel,
        ObjectKind::Port,
        ObjectKind::Memory,
        ObjectKind::Timer,
        ObjectKind::Interrupt,
        ObjectKind::IoPorts,
        ObjectKind::HardwareResource,
    ];

    /// The lower-case name (`channel`).
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Unknown => "unknown",
            ObjectKind::Process => "process",
            ObjectKind::Thread => "thread",
            ObjectKind::Channel => "channel",
            ObjectKind::Port => "port",
            ObjectKind::Memory => "memory",
            ObjectKind::Timer => "timer",
            ObjectKind::Interrupt => "interrupt",
            ObjectKind::IoPorts => "ioports",
            ObjectKind::HardwareResource => "hardware",
        }
    }
}

/// One handle of a process (`process_handles`): 32 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct HandleInfo {
    /// The handle's value in that process's table.
    pub handle: u32,
    pub kind: ObjectKind,
    /// Its rights ([`crate::syscall::Rights`] bits).
    pub rights: u32,
    /// Zero.
    pub reserved: [u8; 4],
    /// The badge it carries (0: none).
    pub badge: u64,
    /// The object's stable id.
    pub object: u64,
}

impl Record for HandleInfo {}

/// Signals: the conditions an object asserts, which `port_bind` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[derive(TryFromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(transparent)]
pub struct Signals(pub u32);

impl Signals {
    pub const NONE: Signals = Signals(0);
    /// A channel endpoint has a message to read.
    pub const READABLE: Signals = Signals(1 << 0);
    /// A channel endpoint's peer has room for a message.
    pub const WRITABLE: Signals = Signals(1 << 1);
    /// A channel endpoint's peer is closed.
    pub const PEER_CLOSED: Signals = Signals(1 << 2);
    /// A process has ended.
    pub const TERMINATED: Signals = Signals(1 << 3);
    /// An interrupt fired and waits for `interrupt_ack`.
    pub const INTERRUPT: Signals = Signals(1 << 4);
    /// A timer reached its deadline.
    pub const TIMER: Signals = Signals(1 << 5);
    /// Every signal.
    pub const ALL: Signals = Signals(0x3f);

    /// True when any signal of `other` is in `self`.
    pub const fn intersects(self, other: Signals) -> bool {
        self.0 & other.0 != 0
    }

    /// True when every signal of `other` is in `self`.
    pub const fn contains(self, other: Signals) -> bool {
        self.0 & other.0 == other.0
    }

    /// The signals in either.
    pub const fn union(self, other: Signals) -> Signals {
        Signals(self.0 | other.0)
    }
}

/// What `port_wait` returns: the key given to `port_bind` and the signals
/// the object had asserted when the packet was queued: 24 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Packet {
    /// The caller's key from `port_bind`.
    pub key: u64,
    /// The object's signals at the time (a superset of some bound signal).
    pub signals: Signals,
    /// Zero (and not part of the checkpoint image).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub reserved: [u8; 4],
    /// Monotonic nanoseconds when the packet was queued.
    pub timestamp_ns: u64,
}

impl Record for Packet {}

/// What `channel_read` reports about a message: 16 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct MessageInfo {
    /// Its size in bytes.
    pub bytes: u32,
    /// Its number of handles.
    pub handles: u32,
    /// The badge of the handle it was written through (0: none).
    pub badge: u64,
}

impl Record for MessageInfo {}

/// Where a process is in its life (`process_status`).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u32)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub enum ProcessState {
    /// Still running.
    #[default]
    Running = 0,
    /// Called `exit`; `code` holds its status.
    Exited = 1,
    /// A CPU exception ended it; `vector`, `address`, `rip` say which.
    Faulted = 2,
    /// Killed through `process_kill`.
    Killed = 3,
    /// Not persistent, so it did not survive the power cut: a restore ended
    /// it, and its supervisor starts it fresh (this is no crash).
    Lost = 4,
}

/// A process's status, and for a faulted one the fault report, with what
/// it uses (for `ps`): 64 bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProcessStatus {
    pub state: ProcessState,
    /// The exit status (`Exited`).
    pub code: i32,
    /// The CPU exception vector (`Faulted`): 14 page fault, 6 invalid
    /// opcode, 0 divide error, 13 general protection...
    pub vector: u32,
    /// The exception's error code (`Faulted`).
    pub error_code: u32,
    /// The faulting address (`Faulted` by a page fault: CR2).
    pub address: u64,
    /// The instruction that faulted (`Faulted`).
    pub rip: u64,
    /// Pages of memory charged to it (its program image, stack and the memory
    /// objects it created).
    pub memory_pages: u64,
    /// The most pages it may be charged.
    pub memory_limit: u64,
    /// Handles in its table.
    pub handles: u32,
    /// The most handles its table may hold.
    pub handle_quota: u32,
    /// Nanoseconds it ran on a CPU.
    pub cpu_ns: u64,
}

impl Record for ProcessStatus {}

/// The machine's memory, as `memory_stats` reports it (the kernel
/// console's `mem`, the shell's `mem`, the benchmark's memory figure): 32
/// bytes.
#[repr(C)]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, TryFromBytes, IntoBytes, KnownLayout, Immutable,
)]
pub struct MemoryStats {
    /// Physical memory the kernel manages: usable RAM from the boot memory
    /// map, the kernel's own image included.
    pub usable_bytes: u64,
    /// Of that, bytes in no use: not the kernel's, not any process's.
    pub free_bytes: u64,
    /// Bytes the kernel heap has handed out.
    pub heap_used_bytes: u64,
    /// Bytes the kernel heap holds (its arena).
    pub heap_bytes: u64,
}

impl Record for MemoryStats {}

impl MemoryStats {
    /// Bytes in use: usable less free.
    pub fn used_bytes(&self) -> u64 {
        self.usable_bytes.saturating_sub(self.free_bytes)
    }
}

/// The limits a parent sets for a child, and the authority it spawns with
/// (`process_spawn`'s last argument; a null pointer means
/// [`SpawnOptions::default`], which names no authority and is refused). A
/// child never gets more than its parent: a higher priority or handle quota
/// than the parent's own is refused with `InvalidArgument`. A parent with a
/// memory limit gives its child part of its own budget: the child's limit
/// (0: all the parent has left) is charged to the parent until the child
/// ends; a limit larger than what is left is `NoMemory`. 24 bytes; the
/// kernel does not look at the reserved ones.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, TryFromBytes, IntoBytes, KnownLayout, Immutable)]
pub struct SpawnOptions {
    /// Scheduling priority, 0 (lowest) to 7.
    pub priority: u8,
    /// [`SPAWN_PERSISTENT`] or 0.
    pub flags: u8,
    /// Zero.
    pub reserved: [u8; 2],
    /// The most handles its table may hold.
    pub handle_quota: u32,
    /// The most pages of memory it may be charged.
    pub memory_pages: u64,
    /// A handle to the hardware resource with
    /// [`crate::syscall::Rights::SPAWN`]: the authority to start processes
    /// (0: none, refused with `BadHandle`).
    pub authority: u32,
    /// Zero.
    pub reserved_end: [u8; 4],
}

/// [`SpawnOptions::flags`]: the process survives power loss (it is part of
/// every checkpoint and resumes after a restore). Processes without it are
/// ended at a restore, as if they crashed at the power cut, so their
/// supervisor starts them fresh.
pub const SPAWN_PERSISTENT: u8 = 1 << 0;

impl Default for SpawnOptions {
    /// The parent's own limits (the kernel fills them in).
    fn default() -> Self {
        SpawnOptions {
            priority: INHERIT_PRIORITY,
            memory_pages: 0,
            handle_quota: 0,
            flags: 0,
            authority: 0,
            reserved: [0; 2],
            reserved_end: [0; 4],
        }
    }
}

/// [`SpawnOptions::priority`] value meaning "the parent's priority"; a zero
/// memory limit or handle quota likewise means "the parent's".
pub const INHERIT_PRIORITY: u8 = 0xff;

impl Record for SpawnOptions {}

/// Packs the two handles `channel_create` returns.
pub const fn pack_pair(first: u32, second: u32) -> u64 {
    first as u64 | (second as u64) << 32
}

/// Unpacks what [`pack_pair`] packed.
pub const fn unpack_pair(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}
