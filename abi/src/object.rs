//! Kernel objects as user space sees them: the signals a port can wait for,
//! the structures system calls pass through memory, and the limits.
//!
//! Structures cross the boundary as fixed little-endian byte arrays (each has
//! `encode` and `decode`), never as `repr(C)` casts, so neither side needs
//! `unsafe` to read them and their layout is written down here once.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

    /// The kind with code `code` (unknown codes are [`ObjectKind::Unknown`]).
    pub fn from_code(code: u32) -> ObjectKind {
        ObjectKind::ALL
            .iter()
            .copied()
            .find(|kind| *kind as u32 == code)
            .unwrap_or_default()
    }

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

/// One handle of a process (`process_handles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HandleInfo {
    /// The handle's value in that process's table.
    pub handle: u32,
    pub kind: ObjectKind,
    /// Its rights ([`crate::syscall::Rights`] bits).
    pub rights: u32,
    /// The badge it carries (0: none).
    pub badge: u64,
    /// The object's stable id.
    pub object: u64,
}

impl HandleInfo {
    /// Size of the encoded record.
    pub const LEN: usize = 32;

    /// Layout: handle u32, kind u32, rights u32, reserved u32, badge u64,
    /// object u64.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&self.handle.to_le_bytes());
        out[4..8].copy_from_slice(&(self.kind as u32).to_le_bytes());
        out[8..12].copy_from_slice(&self.rights.to_le_bytes());
        out[16..24].copy_from_slice(&self.badge.to_le_bytes());
        out[24..32].copy_from_slice(&self.object.to_le_bytes());
        out
    }

    /// The inverse of [`HandleInfo::encode`].
    pub fn decode(bytes: &[u8; Self::LEN]) -> HandleInfo {
        HandleInfo {
            handle: u32_at(bytes, 0),
            kind: ObjectKind::from_code(u32_at(bytes, 4)),
            rights: u32_at(bytes, 8),
            badge: u64_at(bytes, 16),
            object: u64_at(bytes, 24),
        }
    }
}

/// Signals: the conditions an object asserts, which `port_bind` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
/// the object had asserted when the packet was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Packet {
    /// The caller's key from `port_bind`.
    pub key: u64,
    /// The object's signals at the time (a superset of some bound signal).
    pub signals: Signals,
    /// Monotonic nanoseconds when the packet was queued.
    pub timestamp_ns: u64,
}

impl Packet {
    /// Size of the encoded packet.
    pub const LEN: usize = 24;

    /// Layout: key u64, signals u32, 4 reserved zero bytes, timestamp u64.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..8].copy_from_slice(&self.key.to_le_bytes());
        out[8..12].copy_from_slice(&self.signals.0.to_le_bytes());
        out[16..24].copy_from_slice(&self.timestamp_ns.to_le_bytes());
        out
    }

    /// Reads what [`Packet::encode`] wrote.
    pub fn decode(bytes: &[u8; Self::LEN]) -> Packet {
        Packet {
            key: u64_at(bytes, 0),
            signals: Signals(u32_at(bytes, 8)),
            timestamp_ns: u64_at(bytes, 16),
        }
    }
}

/// What `channel_read` reports about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MessageInfo {
    /// Its size in bytes.
    pub bytes: u32,
    /// Its number of handles.
    pub handles: u32,
    /// The badge of the handle it was written through (0: none).
    pub badge: u64,
}

impl MessageInfo {
    /// Size of the encoded info.
    pub const LEN: usize = 16;

    /// Layout: bytes u32, handles u32, badge u64.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&self.bytes.to_le_bytes());
        out[4..8].copy_from_slice(&self.handles.to_le_bytes());
        out[8..16].copy_from_slice(&self.badge.to_le_bytes());
        out
    }

    /// Reads what [`MessageInfo::encode`] wrote.
    pub fn decode(bytes: &[u8; Self::LEN]) -> MessageInfo {
        MessageInfo {
            bytes: u32_at(bytes, 0),
            handles: u32_at(bytes, 4),
            badge: u64_at(bytes, 8),
        }
    }
}

/// Where a process is in its life (`process_status`).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl ProcessState {
    fn from_code(code: u32) -> ProcessState {
        match code {
            1 => ProcessState::Exited,
            2 => ProcessState::Faulted,
            3 => ProcessState::Killed,
            4 => ProcessState::Lost,
            _ => ProcessState::Running,
        }
    }
}

/// A process's status, and for a faulted one the fault report, with what
/// it uses (for `ps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl ProcessStatus {
    /// Size of the encoded status.
    pub const LEN: usize = 64;

    /// Layout: state u32, code i32, vector u32, error u32, address u64, rip
    /// u64, memory pages u64, memory limit u64, handles u32, handle quota u32,
    /// CPU ns u64.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&(self.state as u32).to_le_bytes());
        out[4..8].copy_from_slice(&self.code.to_le_bytes());
        out[8..12].copy_from_slice(&self.vector.to_le_bytes());
        out[12..16].copy_from_slice(&self.error_code.to_le_bytes());
        out[16..24].copy_from_slice(&self.address.to_le_bytes());
        out[24..32].copy_from_slice(&self.rip.to_le_bytes());
        out[32..40].copy_from_slice(&self.memory_pages.to_le_bytes());
        out[40..48].copy_from_slice(&self.memory_limit.to_le_bytes());
        out[48..52].copy_from_slice(&self.handles.to_le_bytes());
        out[52..56].copy_from_slice(&self.handle_quota.to_le_bytes());
        out[56..64].copy_from_slice(&self.cpu_ns.to_le_bytes());
        out
    }

    /// Reads what [`ProcessStatus::encode`] wrote.
    pub fn decode(bytes: &[u8; Self::LEN]) -> ProcessStatus {
        ProcessStatus {
            state: ProcessState::from_code(u32_at(bytes, 0)),
            code: u32_at(bytes, 4) as i32,
            vector: u32_at(bytes, 8),
            error_code: u32_at(bytes, 12),
            address: u64_at(bytes, 16),
            rip: u64_at(bytes, 24),
            memory_pages: u64_at(bytes, 32),
            memory_limit: u64_at(bytes, 40),
            handles: u32_at(bytes, 48),
            handle_quota: u32_at(bytes, 52),
            cpu_ns: u64_at(bytes, 56),
        }
    }
}

/// The machine's memory, as `memory_stats` reports it (the kernel
/// console's `mem`, the shell's `mem`, the benchmark's memory figure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

impl MemoryStats {
    /// Size of the encoded statistics.
    pub const LEN: usize = 32;

    /// Layout: the four fields as little-endian `u64`s, in order.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..8].copy_from_slice(&self.usable_bytes.to_le_bytes());
        out[8..16].copy_from_slice(&self.free_bytes.to_le_bytes());
        out[16..24].copy_from_slice(&self.heap_used_bytes.to_le_bytes());
        out[24..32].copy_from_slice(&self.heap_bytes.to_le_bytes());
        out
    }

    /// Reads what [`MemoryStats::encode`] wrote.
    pub fn decode(bytes: &[u8; Self::LEN]) -> MemoryStats {
        MemoryStats {
            usable_bytes: u64_at(bytes, 0),
            free_bytes: u64_at(bytes, 8),
            heap_used_bytes: u64_at(bytes, 16),
            heap_bytes: u64_at(bytes, 24),
        }
    }

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
/// ends; a limit larger than what is left is `NoMemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnOptions {
    /// Scheduling priority, 0 (lowest) to 7.
    pub priority: u8,
    /// The most pages of memory it may be charged.
    pub memory_pages: u64,
    /// The most handles its table may hold.
    pub handle_quota: u32,
    /// [`SPAWN_PERSISTENT`] or 0.
    pub flags: u8,
    /// A handle to the hardware resource with
    /// [`crate::syscall::Rights::SPAWN`]: the authority to start processes
    /// (0: none, refused with `BadHandle`).
    pub authority: u32,
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
        }
    }
}

/// [`SpawnOptions::priority`] value meaning "the parent's priority"; a zero
/// memory limit or handle quota likewise means "the parent's".
pub const INHERIT_PRIORITY: u8 = 0xff;

impl SpawnOptions {
    /// Size of the encoded options.
    pub const LEN: usize = 24;

    /// Layout: priority u8, flags u8, 2 reserved zero bytes, handle quota
    /// u32, memory pages u64, authority handle u32, 4 reserved zero bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0] = self.priority;
        out[1] = self.flags;
        out[4..8].copy_from_slice(&self.handle_quota.to_le_bytes());
        out[8..16].copy_from_slice(&self.memory_pages.to_le_bytes());
        out[16..20].copy_from_slice(&self.authority.to_le_bytes());
        out
    }

    /// Reads what [`SpawnOptions::encode`] wrote.
    pub fn decode(bytes: &[u8; Self::LEN]) -> SpawnOptions {
        SpawnOptions {
            priority: bytes[0],
            flags: bytes[1],
            handle_quota: u32_at(bytes, 4),
            memory_pages: u64_at(bytes, 8),
            authority: u32_at(bytes, 16),
        }
    }
}

/// Packs the two handles `channel_create` returns.
pub const fn pack_pair(first: u32, second: u32) -> u64 {
    first as u64 | (second as u64) << 32
}

/// Unpacks what [`pack_pair`] packed.
pub const fn unpack_pair(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_round_trip() {
        let packet = Packet {
            key: 0x1122_3344_5566_7788,
            signals: Signals::READABLE.union(Signals::PEER_CLOSED),
            timestamp_ns: 42,
        };
        assert_eq!(Packet::decode(&packet.encode()), packet);
        let info = MessageInfo {
            bytes: 65536,
            handles: 16,
            badge: u64::MAX,
        };
        assert_eq!(MessageInfo::decode(&info.encode()), info);
        let status = ProcessStatus {
            state: ProcessState::Faulted,
            code: -1,
            vector: 14,
            error_code: 6,
            address: 0xdead_0000,
            rip: 0x40_1000,
            memory_pages: 300,
            memory_limit: u64::MAX,
            handles: 12,
            handle_quota: 1024,
            cpu_ns: 1 << 40,
        };
        assert_eq!(ProcessStatus::decode(&status.encode()), status);
        let options = SpawnOptions {
            priority: 3,
            memory_pages: 1 << 20,
            handle_quota: 64,
            flags: SPAWN_PERSISTENT,
            authority: 0xdead_beef,
        };
        assert_eq!(SpawnOptions::decode(&options.encode()), options);
        let memory = MemoryStats {
            usable_bytes: 256 << 20,
            free_bytes: 200 << 20,
            heap_used_bytes: 12345,
            heap_bytes: u64::MAX,
        };
        assert_eq!(MemoryStats::decode(&memory.encode()), memory);
        assert_eq!(memory.used_bytes(), 56 << 20);
        assert_eq!(unpack_pair(pack_pair(7, u32::MAX)), (7, u32::MAX));
    }

    #[test]
    fn signals_are_sets() {
        let rw = Signals::READABLE.union(Signals::WRITABLE);
        assert!(rw.intersects(Signals::READABLE));
        assert!(!rw.intersects(Signals::TIMER));
        assert!(Signals::ALL.contains(rw));
        assert!(!Signals::READABLE.contains(rw));
    }
}
