//! The system-call ABI between the kernel and user space.
//!
//! Convention (x86_64 `syscall`): the call number in `rax`, arguments in
//! `rdi, rsi, rdx, r10, r8, r9`. On return `rax` holds a [`Status`] (0 for
//! success, otherwise an [`Error`] code) and `rdx` the call's value. Every
//! other register except `rcx` and `r11` (which `syscall` itself clobbers) is
//! preserved. Calls never block, except [`Syscall::PortWait`] and
//! [`Syscall::Yield`]; a blocking call that is interrupted (for a checkpoint)
//! is restarted from the beginning, so every call is restartable.
//!
//! The objects, signals and structures the calls use are in [`crate::object`].

/// System-call numbers.
///
/// Where a call returns two handles (`channel_create`) they are packed into
/// the value: the first in the low 32 bits, the second in the high 32 bits.
/// Structures passed through memory ([`crate::object::Packet`],
/// [`crate::object::MessageInfo`], [`crate::object::ProcessStatus`]) have a
/// fixed little-endian layout: they are [`crate::record::Record`]s.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syscall {
    /// `debug_write(ptr, len)`: write bytes to the kernel console (early
    /// programs and tests; the log service replaces it).
    DebugWrite = 0,
    /// `exit(code)`: end the calling process. Does not return.
    Exit = 1,
    /// `yield()`: give the rest of the time slice to another thread.
    Yield = 2,
    /// `clock()`: monotonic nanoseconds since boot.
    Clock = 3,
    /// `handle_close(handle)`.
    HandleClose = 4,
    /// `handle_duplicate(handle, rights) -> handle`: rights may only shrink.
    HandleDuplicate = 5,
    /// `handle_revoke(handle)`: invalidates the handle and every handle
    /// derived from it (duplicates, and theirs), in every process.
    HandleRevoke = 6,
    /// `handle_mint(handle, rights, badge) -> handle`: like duplicate, and the
    /// new handle carries `badge`, which a channel reader sees with every
    /// message written through it. A badged handle cannot be re-minted.
    HandleMint = 7,
    /// `channel_create() -> (end, end)`: a new channel; both endpoints, packed.
    ChannelCreate = 8,
    /// `channel_write(channel, bytes, len, handles, count)`: queue a message
    /// at the peer: up to [`crate::object::MAX_MESSAGE_BYTES`] bytes and
    /// [`crate::object::MAX_MESSAGE_HANDLES`] handles (an array of `u32`),
    /// which leave the caller's table. All or nothing. Needs `WRITE`, and
    /// `TRANSFER` on each handle sent.
    ChannelWrite = 9,
    /// `channel_read(channel, bytes, capacity, handles, capacity, info) ->
    /// len`: take the oldest message. `info` receives a
    /// [`crate::object::MessageInfo`] (sizes and the writer's badge), also
    /// when the buffers are too small (then nothing is taken). Needs `READ`.
    ChannelRead = 10,
    /// `port_create() -> port`.
    PortCreate = 11,
    /// `port_bind(port, handle, key, signals)`: once any of `signals` is
    /// asserted on the object (now or later), queue one packet with `key` on
    /// the port. One-shot: bind again for the next one. Needs `WAIT` on the
    /// object and `WRITE` on the port.
    PortBind = 12,
    /// `port_wait(port, packet, deadline_ns)`: take the oldest packet, waiting
    /// until one arrives or the clock reaches `deadline_ns`
    /// ([`Error::TimedOut`]; 0 = do not wait, `u64::MAX` = forever). Needs
    /// `READ`. The only call that blocks; it is restarted if interrupted.
    PortWait = 13,
    /// `memory_create(size) -> memory`: zeroed pages (size rounded up to pages).
    MemoryCreate = 14,
    /// `memory_map(memory, flags) -> address`: map the whole object into the
    /// caller's address space at an address the kernel picks. Needs `MAP` and
    /// `READ`, plus `WRITE` for [`crate::object::MAP_WRITE`].
    MemoryMap = 15,
    /// `process_spawn(image, name, name_len, handles, count, options) ->
    /// process`: start a program from the ELF in memory object `image`, or,
    /// when `image` is 0, the bundle program called `name`, with the limits
    /// in [`crate::object::SpawnOptions`] at `options`. Needs `SPAWN` on the
    /// hardware resource named in the options' `authority`, and `READ` on
    /// `image`. The listed handles move to the child (see
    /// [`crate::object::FIRST_STARTUP_HANDLE`]).
    ProcessSpawn = 16,
    /// `process_kill(process, how)`: end it, as [`crate::object::KILL`]
    /// (reported `Killed`) or [`crate::object::KILL_AS_FAULT`] (reported
    /// `Faulted` with vector [`crate::object::INJECTED_FAULT_VECTOR`]: fault
    /// injection). Needs `MANAGE`.
    ProcessKill = 17,
    /// `process_status(process, status)`: write its
    /// [`crate::object::ProcessStatus`]. Needs `READ`.
    ProcessStatus = 18,
    /// `timer_create() -> timer`.
    TimerCreate = 19,
    /// `timer_set(timer, deadline_ns)`: fire (assert `TIMER`) at the
    /// deadline; 0 cancels. Needs `WRITE`.
    TimerSet = 20,
    /// `interrupt_create(resource, irq) -> interrupt`: own ISA IRQ `irq`. Its
    /// line is masked when it fires (`INTERRUPT` asserted) until
    /// `interrupt_ack`. Needs `MANAGE` on the hardware resource.
    InterruptCreate = 21,
    /// `interrupt_ack(interrupt)`: clear `INTERRUPT`, unmask the line. Needs
    /// `MANAGE`.
    InterruptAck = 22,
    /// `ioports_create(resource, base, count) -> ioports`. Needs `MANAGE` on
    /// the hardware resource; ports the kernel drives are refused.
    IoPortsCreate = 23,
    /// `ioport_read(ioports, port, width) -> value` (width 1, 2 or 4). Needs `READ`.
    IoPortRead = 24,
    /// `ioport_write(ioports, port, width, value)`. Needs `WRITE`. A write
    /// to the PCI configuration data port (0xCFC..0xCFF) while the address
    /// register selects a function the kernel drives (the store's disk) or
    /// q35's PCIEXBAR fails with [`Error::AccessDenied`].
    IoPortWrite = 25,
    /// `mmio_create(resource, phys, len) -> memory`: a memory object over
    /// device memory (page-aligned, outside RAM), mapped uncached. Needs
    /// `MANAGE` on the hardware resource.
    MmioCreate = 26,
    /// `bundle_read(name, name_len, buffer, capacity) -> len`: copy the
    /// file called `name` that the image carries (a program or a system
    /// configuration, `config-<name>`) into `buffer`; returns its whole
    /// length (nothing is copied when `capacity` is smaller). The bundle is
    /// public: no handle is needed.
    BundleRead = 27,
    /// `kernel_log_read(cursor, buffer, capacity, resource) -> len`: copy
    /// kernel log text from byte position `*cursor` (a `u64` in user memory,
    /// updated to the position after the bytes copied; positions older than
    /// the ring are skipped). Needs `READ` on the hardware resource: the log
    /// holds every process's `debug_write` output, and init grants it only
    /// on a `uses kernel-log from init` route. Returns the bytes copied (0:
    /// nothing new).
    KernelLogRead = 28,
    /// `machine_power(resource, action)`: [`crate::object::POWER_OFF`] ends
    /// the machine. Needs `MANAGE` on the hardware resource.
    MachinePower = 29,
    /// `process_handles(process, buffer, capacity) -> count`: describe the
    /// process's handles, [`crate::object::HandleInfo::LEN`] bytes each, as
    /// many as fit; returns how many it holds. Needs `READ`.
    ProcessHandles = 30,
    /// `boot_args(buffer, capacity) -> len`: copy the kernel command line
    /// (UTF-8, options separated by spaces) into `buffer`; returns its whole
    /// length (nothing is copied when `capacity` is smaller). Public, like
    /// the bundle: init reads [`crate::host::cmdline::CONFIG`] from it.
    BootArgs = 31,
    /// `persist(op, arg, resource) -> value`: the checkpoint engine (see
    /// [`crate::persist`]). [`crate::persist::SNAPSHOT`] and
    /// [`crate::persist::SYNC`] need `WRITE` on the hardware resource
    /// `resource` and return once a generation holding everything the
    /// caller did so far is committed to the store, with its number;
    /// [`crate::persist::STATUS`] needs nothing and writes a
    /// [`crate::persist::PersistStatus`] to user memory at `arg`;
    /// [`crate::persist::SET_PERIOD`] sets the checkpoint period to `arg`
    /// milliseconds (0: on demand only) and needs `MANAGE` on the hardware
    /// resource `resource`. The authority is checked first
    /// ([`Error::BadHandle`], [`Error::AccessDenied`],
    /// [`Error::WrongType`]); then, without a store, every operation but
    /// `STATUS` fails with [`Error::Unavailable`].
    Persist = 32,
    /// `memory_stats(stats)`: write the machine's
    /// [`crate::object::MemoryStats`] (physical memory usable and free, the
    /// kernel heap) to user memory at `stats`. Public, like the clock: the
    /// totals name no object and hold no secrets.
    MemoryStats = 33,
    /// `process_create(name, name_len, trap_channel, options) -> process`:
    /// an empty process (no memory, no threads) that runs a foreign ABI
    /// (see [`crate::trap`]): its threads' `syscall`s and CPU exceptions
    /// stop them and queue a [`crate::trap::TrapMessage`] at the peer of
    /// the channel end `trap_channel` (a handle the caller keeps; needs
    /// `WRITE`). Limits and authority as in `process_spawn`
    /// ([`crate::object::SpawnOptions`], `SPAWN` on the authority). The
    /// handle returned has every right.
    ProcessCreate = 34,
    /// `process_map(process, addr, len, prot)`: fresh zeroed pages over
    /// `[addr, addr + len)` (page-aligned, in user space) of a foreign
    /// process, with protection `prot` ([`crate::trap::PROT_READ`] ...);
    /// pages mapped there before are unmapped and freed first. Charged to
    /// the process. Needs `MANAGE`.
    ProcessMap = 35,
    /// `process_unmap(process, addr, len)`: unmap and free the pages in the
    /// range (holes are skipped), and end the memory-object mappings
    /// (`process_map_memory`) that lie wholly inside it; one the range
    /// only cuts stays mapped. Needs `MANAGE`.
    ProcessUnmap = 36,
    /// `process_protect(process, addr, len, prot)`: change the protection
    /// of every page in the range; `BadAddress` (and nothing changed) when
    /// one is not mapped. Needs `MANAGE`.
    ProcessProtect = 37,
    /// `process_read(process, addr, buffer, len) -> len`: copy up to
    /// [`crate::trap::MAX_PROCESS_COPY`] bytes of the process's memory
    /// (its own pages whatever their protection, and the memory objects
    /// it maps, device memory excepted) into the caller's `buffer`;
    /// `BadAddress` when a page is not mapped. Needs `MANAGE`.
    ProcessRead = 38,
    /// `process_write(process, addr, buffer, len)`: the other way
    /// (read-only pages included, as a debugger writes). Needs `MANAGE`.
    ProcessWrite = 39,
    /// `process_clone(process, name, name_len, options) -> process`: a new
    /// foreign process with a copy of `process`'s memory and its trap
    /// channel, and no threads (`fork`). Needs `MANAGE` on `process`, and
    /// the options as in `process_create`.
    ProcessClone = 40,
    /// `thread_start(process, regs, key) -> thread`: a new thread in a
    /// foreign process, starting with the [`crate::trap::TrapRegisters`]
    /// at `regs` and a fresh FPU state; `key` comes back in its trap
    /// messages. Returns the thread's id. Needs `MANAGE`.
    ThreadStart = 41,
    /// `trap_resume(channel, thread, action, regs)`: answer a trap. `channel`
    /// is the handler's end (needs `READ`), whose peer is the trap channel
    /// of the stopped `thread`; `action` is [`crate::trap::RESUME`] (load
    /// the registers at `regs`) or [`crate::trap::END_THREAD`].
    /// `InvalidArgument` when `thread` is not stopped in a trap of this
    /// channel.
    TrapResume = 42,
    /// `trap_interrupt(channel, thread)`: make a running or ready foreign
    /// thread of this trap channel stop with a
    /// [`crate::trap::TRAP_INTERRUPT`] trap (before it next runs user code,
    /// within a clock tick); a stopped thread is left as it is.
    TrapInterrupt = 43,
    /// `process_map_memory(process, memory, addr, prot)`: map the whole
    /// memory object `memory` at `addr` (page-aligned, in user space) in a
    /// foreign process (`WrongType` for one of Abide's own, which maps
    /// memory objects itself), shared with every other mapping of it: what a
    /// personality's `MAP_SHARED` memory is. `prot` is
    /// [`crate::trap::PROT_READ`], or that with [`crate::trap::PROT_WRITE`]
    /// (never executable). The range must be free (`BadAddress` when a
    /// page of it is mapped); device memory is refused
    /// (`InvalidArgument`). The mapping is kept by `process_clone` (the
    /// clone maps the same pages at the same address), ended by a
    /// `process_unmap` whose range covers it whole, and saved by a
    /// checkpoint. Needs `MANAGE` on the process, `MAP` and `READ` on the
    /// memory (and `WRITE` to map it writable); the page tables it needs
    /// are charged to the process.
    ProcessMapMemory = 44,
}

impl Syscall {
    /// Every call, for tables and fuzzing.
    pub const ALL: &'static [Syscall] = &[
        Syscall::DebugWrite,
        Syscall::Exit,
        Syscall::Yield,
        Syscall::Clock,
        Syscall::HandleClose,
        Syscall::HandleDuplicate,
        Syscall::HandleRevoke,
        Syscall::HandleMint,
        Syscall::ChannelCreate,
        Syscall::ChannelWrite,
        Syscall::ChannelRead,
        Syscall::PortCreate,
        Syscall::PortBind,
        Syscall::PortWait,
        Syscall::MemoryCreate,
        Syscall::MemoryMap,
        Syscall::ProcessSpawn,
        Syscall::ProcessKill,
        Syscall::ProcessStatus,
        Syscall::TimerCreate,
        Syscall::TimerSet,
        Syscall::InterruptCreate,
        Syscall::InterruptAck,
        Syscall::IoPortsCreate,
        Syscall::IoPortRead,
        Syscall::IoPortWrite,
        Syscall::MmioCreate,
        Syscall::BundleRead,
        Syscall::KernelLogRead,
        Syscall::MachinePower,
        Syscall::ProcessHandles,
        Syscall::BootArgs,
        Syscall::Persist,
        Syscall::MemoryStats,
        Syscall::ProcessCreate,
        Syscall::ProcessMap,
        Syscall::ProcessUnmap,
        Syscall::ProcessProtect,
        Syscall::ProcessRead,
        Syscall::ProcessWrite,
        Syscall::ProcessClone,
        Syscall::ThreadStart,
        Syscall::TrapResume,
        Syscall::TrapInterrupt,
        Syscall::ProcessMapMemory,
    ];

    /// The call with number `n`, if there is one.
    pub fn from_number(n: u64) -> Option<Syscall> {
        Syscall::ALL.iter().copied().find(|call| *call as u64 == n)
    }
}

/// Why a call failed. Codes are stable: they are part of the ABI.
#[repr(u64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// No such system call.
    BadSyscall = 1,
    /// A pointer or length from user space does not name user memory the
    /// caller may access.
    BadAddress = 2,
    /// The handle is not in the caller's table (closed, revoked or forged).
    BadHandle = 3,
    /// The handle lacks a right the call needs.
    AccessDenied = 4,
    /// An argument is out of range.
    InvalidArgument = 5,
    /// The handle names an object of the wrong type for this call.
    WrongType = 6,
    /// A quota or kernel memory ran out.
    NoMemory = 7,
    /// The other end of a channel is closed.
    PeerClosed = 8,
    /// Nothing to read, or no room to write; try again after waiting.
    ShouldWait = 9,
    /// A deadline passed.
    TimedOut = 10,
    /// The buffer is too small for the message; nothing was consumed.
    BufferTooSmall = 11,
    /// The server that held the request restarted; retry it.
    Restarted = 12,
    /// The resource is already taken (an IRQ another driver owns).
    Busy = 13,
    /// The facility is not there (persistence on a machine without a store).
    Unavailable = 14,
}

impl Error {
    /// Every error, for tables and tests.
    pub const ALL: &'static [Error] = &[
        Error::BadSyscall,
        Error::BadAddress,
        Error::BadHandle,
        Error::AccessDenied,
        Error::InvalidArgument,
        Error::WrongType,
        Error::NoMemory,
        Error::PeerClosed,
        Error::ShouldWait,
        Error::TimedOut,
        Error::BufferTooSmall,
        Error::Restarted,
        Error::Busy,
        Error::Unavailable,
    ];

    /// The error with code `code`, if there is one.
    pub fn from_code(code: u64) -> Option<Error> {
        Error::ALL
            .iter()
            .copied()
            .find(|error| *error as u64 == code)
    }

    /// A short description for messages.
    pub const fn describe(self) -> &'static str {
        match self {
            Error::BadSyscall => "no such system call",
            Error::BadAddress => "bad user address",
            Error::BadHandle => "bad handle",
            Error::AccessDenied => "access denied",
            Error::InvalidArgument => "invalid argument",
            Error::WrongType => "wrong object type",
            Error::NoMemory => "out of memory or quota",
            Error::PeerClosed => "peer closed",
            Error::ShouldWait => "should wait",
            Error::TimedOut => "timed out",
            Error::BufferTooSmall => "buffer too small",
            Error::Restarted => "server restarted",
            Error::Busy => "resource busy",
            Error::Unavailable => "not available on this machine",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What a call returns in `rax`: 0 or an [`Error`] code.
pub type Status = u64;

/// Decodes the (`rax`, `rdx`) pair a call returned.
pub fn decode_result(status: Status, value: u64) -> Result<u64, Error> {
    if status == 0 {
        Ok(value)
    } else {
        Err(Error::from_code(status).unwrap_or(Error::BadSyscall))
    }
}

/// A handle: an index into the calling process's handle table. Values are
/// never reused within a process's lifetime, so a stale handle stays invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(transparent)]
pub struct Handle(pub u32);

/// The rights a handle carries (a bit set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(transparent)]
pub struct Rights(pub u32);

impl Rights {
    pub const NONE: Rights = Rights(0);
    /// May read / receive.
    pub const READ: Rights = Rights(1 << 0);
    /// May write / send.
    pub const WRITE: Rights = Rights(1 << 1);
    /// May be duplicated.
    pub const DUPLICATE: Rights = Rights(1 << 2);
    /// May be moved to another process in a message.
    pub const TRANSFER: Rights = Rights(1 << 3);
    /// May be mapped (memory objects).
    pub const MAP: Rights = Rights(1 << 4);
    /// May be waited on through a port.
    pub const WAIT: Rights = Rights(1 << 5);
    /// May manage the object (kill a process, set a timer, ack an interrupt).
    pub const MANAGE: Rights = Rights(1 << 6);
    /// May start processes (the hardware resource: `process_spawn` takes a
    /// handle with it in [`crate::object::SpawnOptions::authority`]).
    pub const SPAWN: Rights = Rights(1 << 7);
    /// Every right.
    pub const ALL: Rights = Rights(0xff);

    /// True when every right in `other` is also in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    /// The rights in both.
    pub const fn intersect(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    /// The rights in either.
    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_codes_round_trip() {
        for call in Syscall::ALL {
            assert_eq!(Syscall::from_number(*call as u64), Some(*call));
        }
        assert_eq!(Syscall::from_number(u64::MAX), None);
        for error in Error::ALL {
            assert_eq!(Error::from_code(*error as u64), Some(*error));
            assert_eq!(decode_result(*error as u64, 7), Err(*error));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(decode_result(0, 7), Ok(7));
    }

    #[test]
    fn rights_only_combine_as_sets() {
        let rw = Rights::READ.union(Rights::WRITE);
        assert!(rw.contains(Rights::READ));
        assert!(!Rights::READ.contains(rw));
        assert_eq!(rw.intersect(Rights::WRITE), Rights::WRITE);
        assert!(Rights::ALL.contains(rw));
    }
}
