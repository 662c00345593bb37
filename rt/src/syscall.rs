//! System calls: the raw instruction and safe, typed wrappers.
//!
//! The convention (`abide_abi::syscall`): the call number in `rax`, arguments
//! in `rdi, rsi, rdx, r10, r8, r9`; on return `rax` holds the status (0 or an
//! [`Error`] code) and `rdx` the value; `rcx` and `r11` are clobbered (the
//! `syscall` instruction saves the return address and flags there), every
//! other register is preserved.

use core::arch::asm;
use core::sync::atomic::{AtomicU32, Ordering};

use abide_abi::object::{
    unpack_pair, HandleInfo, MemoryStats, MessageInfo, Packet, ProcessStatus, Signals,
    SpawnOptions, KILL, KILL_AS_FAULT, POWER_OFF,
};
use abide_abi::record::Record;
use abide_abi::syscall::{decode_result, Error, Handle, Rights, Syscall};
use abide_abi::trap::{TrapRegisters, END_THREAD, RESUME};

pub use abide_abi::object::MAP_WRITE;

/// Makes system call `n` with six arguments and returns (`rax`, `rdx`): the
/// status and the value.
///
/// # Safety
///
/// The arguments must satisfy call `n`'s contract: pointers and lengths must
/// name memory the call may read or write, and the call must not invalidate
/// memory Rust still uses.
#[inline(always)]
pub unsafe fn syscall6(n: u64, a0: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> (u64, u64) {
    let status: u64;
    let value: u64;
    // SAFETY: the caller upholds the call's contract; the kernel preserves
    // every register but the outputs and rcx/r11, and does not touch the
    // user stack.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n => status,
            in("rdi") a0,
            in("rsi") a1,
            inlateout("rdx") a2 => value,
            in("r10") a3,
            in("r8") a4,
            in("r9") a5,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    (status, value)
}

/// Makes `call` with up to six arguments (the rest zero) and decodes the result.
///
/// # Safety
///
/// As for [`syscall6`].
#[inline(always)]
unsafe fn call(call: Syscall, args: &[u64]) -> Result<u64, Error> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    // SAFETY: forwarded with the caller's guarantees.
    let (status, value) =
        unsafe { syscall6(call as u64, arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)) };
    decode_result(status, value)
}

/// Writes `bytes` to the kernel's debug console.
pub fn debug_write(bytes: &[u8]) -> Result<(), Error> {
    // SAFETY: the kernel only reads `bytes.len()` bytes at `bytes`.
    unsafe {
        call(
            Syscall::DebugWrite,
            &[bytes.as_ptr() as u64, bytes.len() as u64],
        )
    }
    .map(|_| ())
}

/// Ends the process with `code` (sign-extended into `rdi`; the kernel reads
/// the low 32 bits).
pub fn exit(code: i32) -> ! {
    // SAFETY: exit takes no pointers.
    let _ = unsafe { call(Syscall::Exit, &[i64::from(code) as u64]) };
    // Exit does not return. If it ever did, fault instead of running on.
    // SAFETY: ud2 raises #UD; nothing after it runs.
    unsafe { asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Gives the rest of the time slice to another thread.
pub fn yield_now() {
    // SAFETY: yield takes no arguments; it cannot fail.
    let _ = unsafe { call(Syscall::Yield, &[]) };
}

/// Monotonic nanoseconds since boot.
pub fn clock_ns() -> u64 {
    // SAFETY: clock takes no arguments; it cannot fail.
    unsafe { call(Syscall::Clock, &[]) }.unwrap_or(0)
}

/// Closes `handle`.
pub fn handle_close(handle: Handle) -> Result<(), Error> {
    // SAFETY: takes no pointers; a bad handle is an error, not undefined behaviour.
    unsafe { call(Syscall::HandleClose, &[u64::from(handle.0)]) }.map(|_| ())
}

/// A new handle to the object `handle` names, with `rights` (which must be a
/// subset of `handle`'s).
pub fn handle_duplicate(handle: Handle, rights: Rights) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    let value = unsafe {
        call(
            Syscall::HandleDuplicate,
            &[u64::from(handle.0), u64::from(rights.0)],
        )
    }?;
    to_handle(value)
}

/// Invalidates `handle` and every handle derived from it, in every process.
/// Returns how many handles went away.
pub fn handle_revoke(handle: Handle) -> Result<u64, Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::HandleRevoke, &[u64::from(handle.0)]) }
}

/// Reads the record the kernel wrote. The kernel and the programs are
/// built into one image, so it writes no value a field does not know;
/// should it, the call fails with [`Error::BadSyscall`], as an unknown
/// error code does.
fn from_kernel<R: Record>(bytes: &[u8]) -> Result<R, Error> {
    R::decode(bytes).ok_or(Error::BadSyscall)
}

/// Converts a call's value to a handle; handles are 32-bit, so anything
/// wider is not one.
fn to_handle(value: u64) -> Result<Handle, Error> {
    u32::try_from(value)
        .map(Handle)
        .map_err(|_| Error::BadHandle)
}

/// Like [`handle_duplicate`], and the new handle carries `badge`: every
/// message written through it reaches the reader with that badge.
pub fn handle_mint(handle: Handle, rights: Rights, badge: u64) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    let value = unsafe {
        call(
            Syscall::HandleMint,
            &[u64::from(handle.0), u64::from(rights.0), badge],
        )
    }?;
    to_handle(value)
}

/// A new channel: its two endpoints.
pub fn channel_create() -> Result<(Handle, Handle), Error> {
    // SAFETY: takes no pointers.
    let value = unsafe { call(Syscall::ChannelCreate, &[]) }?;
    let (first, second) = unpack_pair(value);
    Ok((Handle(first), Handle(second)))
}

/// Writes `bytes` and moves `handles` (they leave this process) to the peer
/// of `channel`. All or nothing; [`Error::ShouldWait`] when the peer's queue
/// is full.
pub fn channel_write(channel: Handle, bytes: &[u8], handles: &[Handle]) -> Result<(), Error> {
    // SAFETY: the kernel reads `bytes.len()` bytes and `handles.len()` u32s;
    // `Handle` is `repr(transparent)` over `u32`.
    unsafe {
        call(
            Syscall::ChannelWrite,
            &[
                u64::from(channel.0),
                bytes.as_ptr() as u64,
                bytes.len() as u64,
                handles.as_ptr() as u64,
                handles.len() as u64,
            ],
        )
    }
    .map(|_| ())
}

/// Reads the oldest message of `channel` into `bytes` and `handles`.
///
/// Returns its [`MessageInfo`] (sizes and badge). [`Error::ShouldWait`] when
/// none is queued; [`Error::BufferTooSmall`] (with the sizes in the second
/// element) when it does not fit, and then it stays queued.
pub fn channel_read(
    channel: Handle,
    bytes: &mut [u8],
    handles: &mut [Handle],
) -> Result<MessageInfo, (Error, MessageInfo)> {
    let mut info = [0u8; MessageInfo::LEN];
    // SAFETY: the kernel writes at most `bytes.len()` bytes, `handles.len()`
    // u32s (a `u32` is a valid `Handle`) and `MessageInfo::LEN` bytes of info.
    let result = unsafe {
        call(
            Syscall::ChannelRead,
            &[
                u64::from(channel.0),
                bytes.as_mut_ptr() as u64,
                bytes.len() as u64,
                handles.as_mut_ptr() as u64,
                handles.len() as u64,
                info.as_mut_ptr() as u64,
            ],
        )
    };
    // Every 16 bytes are a `MessageInfo`.
    let info = MessageInfo::decode(&info).unwrap_or_default();
    match result {
        Ok(_) => Ok(info),
        Err(error) => Err((error, info)),
    }
}

/// A new port.
pub fn port_create() -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe { call(Syscall::PortCreate, &[]) }?)
}

/// Queues one packet with `key` on `port` once `object` asserts any of
/// `signals` (at once if it already does).
pub fn port_bind(port: Handle, object: Handle, key: u64, signals: Signals) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe {
        call(
            Syscall::PortBind,
            &[
                u64::from(port.0),
                u64::from(object.0),
                key,
                u64::from(signals.0),
            ],
        )
    }
    .map(|_| ())
}

/// Takes the oldest packet of `port`, waiting until one arrives or the clock
/// reaches `deadline_ns` ([`Error::TimedOut`]); 0 polls, [`FOREVER`] waits
/// without a deadline.
pub fn port_wait(port: Handle, deadline_ns: u64) -> Result<Packet, Error> {
    let mut packet = [0u8; Packet::LEN];
    // SAFETY: the kernel writes `Packet::LEN` bytes at `packet`.
    unsafe {
        call(
            Syscall::PortWait,
            &[u64::from(port.0), packet.as_mut_ptr() as u64, deadline_ns],
        )
    }?;
    from_kernel(&packet)
}

/// The deadline that never comes, for [`port_wait`].
pub const FOREVER: u64 = u64::MAX;

/// A new memory object of at least `size` bytes, zeroed.
pub fn memory_create(size: u64) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe { call(Syscall::MemoryCreate, &[size]) }?)
}

/// Maps the whole memory object into this address space (writable with
/// [`MAP_WRITE`]) and returns its address.
///
/// The mapping stays for the life of the process: the memory behind it is
/// never freed under the program's feet.
pub fn memory_map(memory: Handle, flags: u64) -> Result<*mut u8, Error> {
    // SAFETY: mapping only adds pages at an address nothing else uses.
    let address = unsafe { call(Syscall::MemoryMap, &[u64::from(memory.0), flags]) }?;
    Ok(address as *mut u8)
}

/// The handle [`process_spawn`] and its kin pass as the spawn authority
/// unless their options name one (0: none yet).
static SPAWN_AUTHORITY: AtomicU32 = AtomicU32::new(0);

/// Makes `authority` (a handle to the hardware resource with
/// [`Rights::SPAWN`]) the one this program spawns with from now on.
/// Spawning needs it: without one, `process_spawn` is refused.
pub fn set_spawn_authority(authority: Handle) {
    SPAWN_AUTHORITY.store(authority.0, Ordering::Relaxed);
}

/// The spawn authority set with [`set_spawn_authority`], if any.
pub fn spawn_authority() -> Option<Handle> {
    match SPAWN_AUTHORITY.load(Ordering::Relaxed) {
        0 => None,
        handle => Some(Handle(handle)),
    }
}

/// Starts the bundle program `name` with `handles` (moved to it) and this
/// process's own limits (a parent with a memory limit gives the child all
/// it has left). Returns a handle to the new process.
pub fn process_spawn(name: &str, handles: &[Handle]) -> Result<Handle, Error> {
    spawn(None, name, handles, None)
}

/// Like [`process_spawn`], with the limits in `options` (never more than
/// this process's own).
pub fn process_spawn_with(
    name: &str,
    handles: &[Handle],
    options: &SpawnOptions,
) -> Result<Handle, Error> {
    spawn(None, name, handles, Some(options))
}

/// Starts the ELF image in memory object `image` as a process named `name`,
/// with `handles` (moved to it).
pub fn process_spawn_image(image: Handle, name: &str, handles: &[Handle]) -> Result<Handle, Error> {
    spawn(Some(image), name, handles, None)
}

/// `options` (default: the parent's limits) as the kernel reads them, with
/// the authority from [`set_spawn_authority`] unless the options name one.
fn spawn_options(options: Option<&SpawnOptions>) -> SpawnOptions {
    let mut options = options.copied().unwrap_or_default();
    if options.authority == 0 {
        options.authority = SPAWN_AUTHORITY.load(Ordering::Relaxed);
    }
    options
}

/// Spawns with `options` (default: the parent's limits), filling in the
/// authority from [`set_spawn_authority`] unless the options name one.
fn spawn(
    image: Option<Handle>,
    name: &str,
    handles: &[Handle],
    options: Option<&SpawnOptions>,
) -> Result<Handle, Error> {
    let options = spawn_options(options);
    let options = options.encode();
    // SAFETY: the kernel reads `name.len()` bytes, `handles.len()` u32s and
    // `SpawnOptions::LEN` bytes of options.
    let value = unsafe {
        call(
            Syscall::ProcessSpawn,
            &[
                image.map_or(0, |h| u64::from(h.0)),
                name.as_ptr() as u64,
                name.len() as u64,
                handles.as_ptr() as u64,
                handles.len() as u64,
                options.as_ptr() as u64,
            ],
        )
    }?;
    to_handle(value)
}

/// An empty foreign-ABI process named `name` (no memory, no threads) whose
/// `syscall`s and faults are queued as [`abide_abi::trap::TrapMessage`]s at the peer of
/// `trap_channel` (see [`abide_abi::trap`]), with the limits in `options`
/// (the authority filled in as for [`process_spawn_with`]).
pub fn process_create(
    name: &str,
    trap_channel: Handle,
    options: &SpawnOptions,
) -> Result<Handle, Error> {
    let options = spawn_options(Some(options));
    let options = options.encode();
    // SAFETY: the kernel reads `name.len()` bytes and `SpawnOptions::LEN`
    // bytes of options.
    let value = unsafe {
        call(
            Syscall::ProcessCreate,
            &[
                name.as_ptr() as u64,
                name.len() as u64,
                u64::from(trap_channel.0),
                options.as_ptr() as u64,
            ],
        )
    }?;
    to_handle(value)
}

/// Maps fresh zeroed pages over `[addr, addr + len)` of `process` with
/// protection `prot` ([`abide_abi::trap::PROT_READ`] ...), replacing (and
/// freeing) what was mapped there.
pub fn process_map(process: Handle, addr: u64, len: u64, prot: u64) -> Result<(), Error> {
    // SAFETY: touches no memory of this process.
    unsafe {
        call(
            Syscall::ProcessMap,
            &[u64::from(process.0), addr, len, prot],
        )
    }
    .map(|_| ())
}

/// Maps the whole memory object `memory` at `addr` in foreign `process`,
/// shared with its other mappings (a `MAP_SHARED` mapping; `prot` is
/// `PROT_READ`, with `PROT_WRITE` or not). A later [`process_clone`] maps
/// it in the copy too; [`process_unmap`] of a range covering it ends it.
pub fn process_map_memory(
    process: Handle,
    memory: Handle,
    addr: u64,
    prot: u64,
) -> Result<(), Error> {
    // SAFETY: touches no memory of this process.
    unsafe {
        call(
            Syscall::ProcessMapMemory,
            &[u64::from(process.0), u64::from(memory.0), addr, prot],
        )
    }
    .map(|_| ())
}

/// Unmaps and frees the pages of `process` in `[addr, addr + len)`.
pub fn process_unmap(process: Handle, addr: u64, len: u64) -> Result<(), Error> {
    // SAFETY: touches no memory of this process.
    unsafe { call(Syscall::ProcessUnmap, &[u64::from(process.0), addr, len]) }.map(|_| ())
}

/// Sets the protection of every page of `process` in `[addr, addr + len)`
/// to `prot`; [`Error::BadAddress`] (nothing changed) when one is not mapped.
pub fn process_protect(process: Handle, addr: u64, len: u64, prot: u64) -> Result<(), Error> {
    // SAFETY: touches no memory of this process.
    unsafe {
        call(
            Syscall::ProcessProtect,
            &[u64::from(process.0), addr, len, prot],
        )
    }
    .map(|_| ())
}

/// Copies `buffer.len()` bytes (at most [`abide_abi::trap::MAX_PROCESS_COPY`])
/// of `process`'s memory at `addr` into `buffer`; returns how many.
pub fn process_read(process: Handle, addr: u64, buffer: &mut [u8]) -> Result<usize, Error> {
    // SAFETY: the kernel writes at most `buffer.len()` bytes at `buffer`.
    unsafe {
        call(
            Syscall::ProcessRead,
            &[
                u64::from(process.0),
                addr,
                buffer.as_mut_ptr() as u64,
                buffer.len() as u64,
            ],
        )
    }
    .map(|len| len as usize)
}

/// Copies `bytes` (at most [`abide_abi::trap::MAX_PROCESS_COPY`]) into
/// `process`'s memory at `addr`, read-only pages included.
pub fn process_write(process: Handle, addr: u64, bytes: &[u8]) -> Result<(), Error> {
    // SAFETY: the kernel only reads `bytes.len()` bytes at `bytes`.
    unsafe {
        call(
            Syscall::ProcessWrite,
            &[
                u64::from(process.0),
                addr,
                bytes.as_ptr() as u64,
                bytes.len() as u64,
            ],
        )
    }
    .map(|_| ())
}

/// A new process named `name` with a copy of `process`'s memory (and its
/// trap channel, when it is foreign) and no threads: `fork`. Limits and
/// authority from `options`, as for [`process_create`].
pub fn process_clone(process: Handle, name: &str, options: &SpawnOptions) -> Result<Handle, Error> {
    let options = spawn_options(Some(options));
    let options = options.encode();
    // SAFETY: the kernel reads `name.len()` bytes and `SpawnOptions::LEN`
    // bytes of options.
    let value = unsafe {
        call(
            Syscall::ProcessClone,
            &[
                u64::from(process.0),
                name.as_ptr() as u64,
                name.len() as u64,
                options.as_ptr() as u64,
            ],
        )
    }?;
    to_handle(value)
}

/// Starts a thread in foreign `process` with registers `regs`; `key` comes
/// back in its [`abide_abi::trap::TrapMessage`]s. Returns the thread's id.
pub fn thread_start(process: Handle, regs: &TrapRegisters, key: u64) -> Result<u64, Error> {
    let regs = regs.encode();
    // SAFETY: the kernel reads `TrapRegisters::LEN` bytes at `regs`.
    unsafe {
        call(
            Syscall::ThreadStart,
            &[u64::from(process.0), regs.as_ptr() as u64, key],
        )
    }
}

/// Answers the trap of `thread` (stopped on the trap channel whose other
/// end is `channel`): it runs on with registers `regs`.
pub fn trap_resume(channel: Handle, thread: u64, regs: &TrapRegisters) -> Result<(), Error> {
    let regs = regs.encode();
    // SAFETY: the kernel reads `TrapRegisters::LEN` bytes at `regs`.
    unsafe {
        call(
            Syscall::TrapResume,
            &[u64::from(channel.0), thread, RESUME, regs.as_ptr() as u64],
        )
    }
    .map(|_| ())
}

/// Answers the trap of `thread` by ending the thread (its process ends,
/// `Exited` with code 0, when it was the last).
pub fn trap_end_thread(channel: Handle, thread: u64) -> Result<(), Error> {
    // SAFETY: with `END_THREAD` the kernel reads no registers.
    unsafe {
        call(
            Syscall::TrapResume,
            &[u64::from(channel.0), thread, END_THREAD, 0],
        )
    }
    .map(|_| ())
}

/// Makes `thread` (of the trap channel whose other end is `channel`) stop
/// with a [`abide_abi::trap::TRAP_INTERRUPT`] trap if it is running or ready.
pub fn trap_interrupt(channel: Handle, thread: u64) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::TrapInterrupt, &[u64::from(channel.0), thread]) }.map(|_| ())
}

/// Ends `process`.
pub fn process_kill(process: Handle) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::ProcessKill, &[u64::from(process.0), KILL]) }.map(|_| ())
}

/// Ends `process` as if it had faulted (fault injection): it is reported
/// `Faulted` with vector [`abide_abi::object::INJECTED_FAULT_VECTOR`].
pub fn process_inject_fault(process: Handle) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::ProcessKill, &[u64::from(process.0), KILL_AS_FAULT]) }.map(|_| ())
}

/// Describes `process`'s handles: up to `out.len()` of them are written;
/// returns how many it holds.
pub fn process_handles(process: Handle, out: &mut [HandleInfo]) -> Result<usize, Error> {
    let mut bytes = alloc::vec![0u8; out.len() * HandleInfo::LEN];
    // SAFETY: the kernel writes at most `out.len()` records into `bytes`.
    let count = unsafe {
        call(
            Syscall::ProcessHandles,
            &[
                u64::from(process.0),
                bytes.as_mut_ptr() as u64,
                out.len() as u64,
            ],
        )
    }?;
    for (slot, record) in out.iter_mut().zip(bytes.chunks_exact(HandleInfo::LEN)) {
        *slot = from_kernel(record)?;
    }
    Ok(count as usize)
}

/// The file called `name` that the image carries (a program, or a system
/// configuration `config-<name>`).
pub fn bundle_read(name: &str) -> Result<alloc::vec::Vec<u8>, Error> {
    let len = bundle_len(name)?;
    let mut bytes = alloc::vec![0u8; len];
    bundle_read_into(name, &mut bytes)?;
    Ok(bytes)
}

/// The length of the file called `name` that the image carries, without
/// copying it: `Err` when the image has no such file.
pub fn bundle_len(name: &str) -> Result<usize, Error> {
    bundle_read_into(name, &mut []).map(|len| len as usize)
}

/// `bundle_read` into `buffer`: the file's whole length, its bytes when
/// they fit.
fn bundle_read_into(name: &str, buffer: &mut [u8]) -> Result<u64, Error> {
    // SAFETY: the kernel reads `name` and writes at most `buffer.len()` bytes.
    unsafe {
        call(
            Syscall::BundleRead,
            &[
                name.as_ptr() as u64,
                name.len() as u64,
                buffer.as_mut_ptr() as u64,
                buffer.len() as u64,
            ],
        )
    }
}

/// The kernel command line (`log=debug config=faults`).
pub fn boot_args() -> Result<alloc::string::String, Error> {
    let read = |buffer: &mut [u8]| {
        // SAFETY: the kernel writes at most `buffer.len()` bytes.
        unsafe {
            call(
                Syscall::BootArgs,
                &[buffer.as_mut_ptr() as u64, buffer.len() as u64],
            )
        }
    };
    let len = read(&mut [])? as usize;
    let mut bytes = alloc::vec![0u8; len];
    read(&mut bytes)?;
    alloc::string::String::from_utf8(bytes).map_err(|_| Error::InvalidArgument)
}

/// The value of option `key` (`key=value`) on the kernel command line.
pub fn boot_arg(key: &str) -> Option<alloc::string::String> {
    let args = boot_args().ok()?;
    let value = args.split_whitespace().find_map(|option| {
        let (name, value) = option.split_once('=')?;
        (name == key).then_some(value)
    })?;
    Some(value.into())
}

/// Kernel log text from position `*cursor` into `buffer`; moves the cursor
/// past what was copied and returns how many bytes that was. `resource` is
/// the hardware resource with `READ` (the `kernel-log` device).
pub fn kernel_log_read(
    resource: Handle,
    cursor: &mut u64,
    buffer: &mut [u8],
) -> Result<usize, Error> {
    // SAFETY: the kernel reads and writes the `u64` at `cursor` and writes at
    // most `buffer.len()` bytes.
    unsafe {
        call(
            Syscall::KernelLogRead,
            &[
                cursor as *mut u64 as u64,
                buffer.as_mut_ptr() as u64,
                buffer.len() as u64,
                u64::from(resource.0),
            ],
        )
    }
    .map(|len| len as usize)
}

/// Powers the machine off (needs the hardware resource). Returns only on
/// error.
pub fn machine_power_off(resource: Handle) -> Error {
    // SAFETY: takes no pointers.
    match unsafe { call(Syscall::MachinePower, &[u64::from(resource.0), POWER_OFF]) } {
        Ok(_) => Error::InvalidArgument,
        Err(error) => error,
    }
}

/// How `process` is: running, or how it ended (with the fault report).
pub fn process_status(process: Handle) -> Result<ProcessStatus, Error> {
    let mut status = [0u8; ProcessStatus::LEN];
    // SAFETY: the kernel writes `ProcessStatus::LEN` bytes at `status`.
    unsafe {
        call(
            Syscall::ProcessStatus,
            &[u64::from(process.0), status.as_mut_ptr() as u64],
        )
    }?;
    from_kernel(&status)
}

/// The machine's physical memory and kernel heap.
pub fn memory_stats() -> Result<MemoryStats, Error> {
    let mut stats = [0u8; MemoryStats::LEN];
    // SAFETY: the kernel writes `MemoryStats::LEN` bytes at `stats`.
    unsafe { call(Syscall::MemoryStats, &[stats.as_mut_ptr() as u64]) }?;
    from_kernel(&stats)
}

/// A new timer (not set).
pub fn timer_create() -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe { call(Syscall::TimerCreate, &[]) }?)
}

/// Sets `timer` to fire at `deadline_ns` (0 cancels).
pub fn timer_set(timer: Handle, deadline_ns: u64) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::TimerSet, &[u64::from(timer.0), deadline_ns]) }.map(|_| ())
}

/// Takes ISA IRQ `irq` through the hardware `resource`.
pub fn interrupt_create(resource: Handle, irq: u8) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe {
        call(
            Syscall::InterruptCreate,
            &[u64::from(resource.0), u64::from(irq)],
        )
    }?)
}

/// Acknowledges the interrupt: clears `INTERRUPT` and unmasks its line.
pub fn interrupt_ack(interrupt: Handle) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe { call(Syscall::InterruptAck, &[u64::from(interrupt.0)]) }.map(|_| ())
}

/// Takes the I/O ports `base..base + count` through the hardware `resource`.
pub fn ioports_create(resource: Handle, base: u16, count: u16) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe {
        call(
            Syscall::IoPortsCreate,
            &[u64::from(resource.0), u64::from(base), u64::from(count)],
        )
    }?)
}

/// Reads `width` bytes (1, 2 or 4) from I/O port `port`.
pub fn ioport_read(ports: Handle, port: u16, width: u8) -> Result<u32, Error> {
    // SAFETY: takes no pointers.
    let value = unsafe {
        call(
            Syscall::IoPortRead,
            &[u64::from(ports.0), u64::from(port), u64::from(width)],
        )
    }?;
    Ok(value as u32)
}

/// Writes `width` bytes (1, 2 or 4) of `value` to I/O port `port`.
pub fn ioport_write(ports: Handle, port: u16, width: u8, value: u32) -> Result<(), Error> {
    // SAFETY: takes no pointers.
    unsafe {
        call(
            Syscall::IoPortWrite,
            &[
                u64::from(ports.0),
                u64::from(port),
                u64::from(width),
                u64::from(value),
            ],
        )
    }
    .map(|_| ())
}

/// A memory object over the device memory `phys..phys + len`.
pub fn mmio_create(resource: Handle, phys: u64, len: u64) -> Result<Handle, Error> {
    // SAFETY: takes no pointers.
    to_handle(unsafe { call(Syscall::MmioCreate, &[u64::from(resource.0), phys, len]) }?)
}

/// Takes a checkpoint now; returns the committed generation. `resource`
/// is the hardware resource with `WRITE` (a component's `checkpoint`
/// device, `uses checkpoint from init`). Fails with `BadHandle`,
/// `AccessDenied` or `WrongType` without that authority, and then with
/// `Unavailable` on a machine without a store.
pub fn persist_snapshot(resource: Handle) -> Result<u64, Error> {
    // SAFETY: `persist(SNAPSHOT)` touches no user memory.
    unsafe {
        call(
            Syscall::Persist,
            &[abide_abi::persist::SNAPSHOT, 0, u64::from(resource.0)],
        )
    }
}

/// Returns once everything this process did so far is committed to the
/// store (output commit); returns the generation that holds it. Needs what
/// [`persist_snapshot`] needs.
pub fn persist_sync(resource: Handle) -> Result<u64, Error> {
    // SAFETY: `persist(SYNC)` touches no user memory.
    unsafe {
        call(
            Syscall::Persist,
            &[abide_abi::persist::SYNC, 0, u64::from(resource.0)],
        )
    }
}

/// The checkpoint engine's status (`enabled` is 0 without a store). Needs
/// no handle: the figures are public, like the clock.
pub fn persist_status() -> Result<abide_abi::persist::PersistStatus, Error> {
    use abide_abi::persist::{PersistStatus, STATUS};
    let mut raw = [0u8; PersistStatus::LEN];
    // SAFETY: the kernel writes exactly `PersistStatus::LEN` bytes at `raw`.
    unsafe { call(Syscall::Persist, &[STATUS, raw.as_mut_ptr() as u64, 0]) }?;
    from_kernel(&raw)
}

/// Sets the checkpoint period (0: on demand only); needs `MANAGE` on the
/// hardware resource `resource`.
pub fn persist_set_period(resource: Handle, period_ms: u64) -> Result<(), Error> {
    // SAFETY: `persist(SET_PERIOD)` touches no user memory.
    unsafe {
        call(
            Syscall::Persist,
            &[
                abide_abi::persist::SET_PERIOD,
                period_ms,
                u64::from(resource.0),
            ],
        )
    }
    .map(|_| ())
}
