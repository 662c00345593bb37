//! System calls: decode the call in the saved registers, check every argument,
//! do the work, and put the result back (`rax` status, `rdx` value) — or end,
//! block or switch the calling thread.
//!
//! Nothing a process passes is trusted: handles are looked up in the caller's
//! own table with the rights the call needs, pointers and lengths are
//! bounded and copied with fault-tolerant routines, unknown calls and bad
//! arguments return errors, and no path panics: a call that may allocate is
//! refused `NoMemory` up front when the kernel heap cannot hold its worst
//! case (`heap_gate`). Each family of calls has its own module; this one
//! dispatches and holds the shared argument helpers.

mod channel;
mod foreign;
mod handles;
mod hardware;
pub mod heap_gate;
mod memory;
mod persist;
mod port;
mod process;
mod process_clone;
mod process_memory;
mod process_shared;
mod system;

use abide_abi::syscall::{Error, Handle, Rights, Syscall};
use abide_objects::caps::TableId;
use alloc::vec::Vec;

use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::arch::probe;
use crate::object::{Kernel, Object};
use crate::{console, sched, time};

/// The most bytes one `debug_write` may pass.
pub const MAX_DEBUG_WRITE: u64 = 4096;

/// What the dispatcher does after a call.
enum Outcome {
    /// Resume the caller with this result.
    Return(Result<u64, Error>),
    /// Resume the caller with 0 later, after others had their turn.
    Yield,
    /// Park the caller in `port_wait` until woken or `deadline`; it then
    /// issues the call again.
    Block { deadline: u64 },
    /// The caller's process is gone; run someone else.
    Ended,
}

/// Entry for the `syscall` instruction (registered by `trap`, called from
/// `arch::idt::interrupt_dispatch`).
pub fn handle(frame: &mut TrapFrame, fpu: &mut FpuState) {
    crate::object::with_kernel(|kernel| {
        // A foreign thread's `syscall` is its ABI's, not Abide's: it traps.
        if foreign::trap_syscall(kernel, frame, fpu) {
            return;
        }
        let args = [
            frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
        ];
        let outcome = match Syscall::from_number(frame.rax) {
            // Refused before anything changes when the kernel heap could
            // not hold what the call may allocate.
            Some(call) if !heap_gate::admits(call) => Outcome::Return(Err(Error::NoMemory)),
            // A checkpoint needs the caller's registers.
            Some(Syscall::Persist) => persist::call(kernel, frame, fpu, args),
            Some(call) => dispatch(kernel, call, args),
            None => Outcome::Return(Err(Error::BadSyscall)),
        };
        match outcome {
            Outcome::Return(result) => set_result(frame, result),
            Outcome::Yield => {
                set_result(frame, Ok(0));
                sched::switch(kernel, frame, fpu, true);
            }
            Outcome::Block { deadline } => {
                sched::block_current(kernel, frame, fpu, deadline);
            }
            Outcome::Ended => sched::switch(kernel, frame, fpu, false),
        }
    });
}

fn set_result(frame: &mut TrapFrame, result: Result<u64, Error>) {
    match result {
        Ok(value) => {
            frame.rax = 0;
            frame.rdx = value;
        }
        Err(error) => {
            frame.rax = error as u64;
            frame.rdx = 0;
        }
    }
}

fn dispatch(kernel: &mut Kernel, call: Syscall, a: [u64; 6]) -> Outcome {
    use Outcome::Return;
    match call {
        Syscall::DebugWrite => Return(debug_write(kernel, a[0], a[1])),
        Syscall::Exit => process::exit(kernel, a[0]),
        Syscall::Yield => Outcome::Yield,
        Syscall::Clock => Return(Ok(time::now_ns())),
        Syscall::HandleClose => Return(handles::close(kernel, a[0])),
        Syscall::HandleDuplicate => Return(handles::duplicate(kernel, a[0], a[1])),
        Syscall::HandleRevoke => Return(handles::revoke(kernel, a[0])),
        Syscall::HandleMint => Return(handles::mint(kernel, a[0], a[1], a[2])),
        Syscall::ChannelCreate => Return(channel::create(kernel)),
        Syscall::ChannelWrite => Return(channel::write(kernel, a[0], a[1], a[2], a[3], a[4])),
        Syscall::ChannelRead => Return(channel::read(kernel, a)),
        Syscall::PortCreate => Return(port::create(kernel)),
        Syscall::PortBind => Return(port::bind(kernel, a[0], a[1], a[2], a[3])),
        Syscall::PortWait => port::wait(kernel, a[0], a[1], a[2]),
        Syscall::MemoryCreate => Return(memory::create(kernel, a[0])),
        Syscall::MemoryMap => Return(memory::map(kernel, a[0], a[1])),
        Syscall::ProcessSpawn => Return(process::spawn(kernel, a)),
        Syscall::ProcessKill => process::kill(kernel, a[0], a[1]),
        Syscall::ProcessStatus => Return(process::status(kernel, a[0], a[1])),
        Syscall::TimerCreate => Return(port::timer_create(kernel)),
        Syscall::TimerSet => Return(port::timer_set(kernel, a[0], a[1])),
        Syscall::InterruptCreate => Return(hardware::interrupt_create(kernel, a[0], a[1])),
        Syscall::InterruptAck => Return(hardware::interrupt_ack(kernel, a[0])),
        Syscall::IoPortsCreate => Return(hardware::ioports_create(kernel, a[0], a[1], a[2])),
        Syscall::IoPortRead => Return(hardware::ioport_read(kernel, a[0], a[1], a[2])),
        Syscall::IoPortWrite => Return(hardware::ioport_write(kernel, a[0], a[1], a[2], a[3])),
        Syscall::MmioCreate => Return(hardware::mmio_create(kernel, a[0], a[1], a[2])),
        Syscall::BundleRead => Return(system::bundle_read(a[0], a[1], a[2], a[3])),
        Syscall::KernelLogRead => Return(system::kernel_log_read(kernel, a[0], a[1], a[2], a[3])),
        Syscall::MachinePower => system::machine_power(kernel, a[0], a[1]),
        Syscall::ProcessHandles => Return(process::handles(kernel, a[0], a[1], a[2])),
        Syscall::BootArgs => Return(system::boot_args(a[0], a[1])),
        Syscall::MemoryStats => Return(system::memory_stats(a[0])),
        // Handled in `handle`, which has the caller's registers.
        Syscall::Persist => Return(Err(Error::BadSyscall)),
        Syscall::ProcessCreate => Return(foreign::create(kernel, a)),
        Syscall::ProcessMap => Return(process_memory::map(kernel, a[0], a[1], a[2], a[3])),
        Syscall::ProcessUnmap => Return(process_memory::unmap(kernel, a[0], a[1], a[2])),
        Syscall::ProcessProtect => Return(process_memory::protect(kernel, a[0], a[1], a[2], a[3])),
        Syscall::ProcessRead => Return(process_memory::read(kernel, a[0], a[1], a[2], a[3])),
        Syscall::ProcessWrite => Return(process_memory::write(kernel, a[0], a[1], a[2], a[3])),
        Syscall::ThreadStart => Return(foreign::thread_start(kernel, a[0], a[1], a[2])),
        Syscall::TrapResume => Return(foreign::trap_resume(kernel, a[0], a[1], a[2], a[3])),
        Syscall::TrapInterrupt => Return(foreign::trap_interrupt(kernel, a[0], a[1])),
        Syscall::ProcessClone => Return(process_clone::clone(kernel, a)),
        Syscall::ProcessMapMemory => Return(process_shared::map(kernel, a[0], a[1], a[2], a[3])),
    }
}

/// `debug_write`: the bytes go to the console tagged with the caller's id
/// and name, so they never pass for the kernel's or another's lines.
fn debug_write(kernel: &Kernel, ptr: u64, len: u64) -> Result<u64, Error> {
    let buffer = copy_in(ptr, len, MAX_DEBUG_WRITE)?;
    let id = crate::object::process::current_process(kernel).ok_or(Error::BadHandle)?;
    let name = kernel.objects.process(id).map_or("", |p| p.name.as_str());
    console::write_tagged(id, name, &buffer);
    Ok(len)
}

/// The handle table of the calling process.
fn caller_table(kernel: &Kernel) -> Result<TableId, Error> {
    crate::object::process::current_table(kernel).ok_or(Error::BadHandle)
}

/// Checks that `resource` names the hardware resource in the caller's own
/// table with every right in `rights`, and returns that table. The one
/// check of every call made on the hardware resource's authority: a value
/// that is no handle in the table is `BadHandle`, a handle without the
/// rights `AccessDenied`, a handle to another kind of object `WrongType`.
fn hardware_resource(kernel: &Kernel, resource: u64, rights: Rights) -> Result<TableId, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(resource)?, rights)?;
    match kernel.objects.get(id) {
        Some(Object::HardwareResource) => Ok(table),
        _ => Err(Error::WrongType),
    }
}

/// A handle argument; values that do not fit 32 bits are never valid.
fn handle_arg(value: u64) -> Result<Handle, Error> {
    u32::try_from(value)
        .map(Handle)
        .map_err(|_| Error::BadHandle)
}

/// Copies `len` (at most `max`) bytes in from user address `ptr`.
fn copy_in(ptr: u64, len: u64, max: u64) -> Result<Vec<u8>, Error> {
    if len > max {
        return Err(Error::InvalidArgument);
    }
    // Kernel memory held for a process (a queued message) never eats into
    // the kernel's reserve.
    if !crate::mm::user_memory_available(len) {
        return Err(Error::NoMemory);
    }
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(len as usize)
        .map_err(|_| Error::NoMemory)?;
    buffer.resize(len as usize, 0);
    probe::copy_from_user(&mut buffer, ptr)?;
    Ok(buffer)
}

/// Copies an array of `count` (at most `max`) handles in from user memory.
fn copy_handles_in(ptr: u64, count: u64, max: u64) -> Result<Vec<Handle>, Error> {
    if count > max {
        return Err(Error::InvalidArgument);
    }
    let bytes = copy_in(ptr, count * 4, max * 4)?;
    Ok(bytes
        .chunks_exact(4)
        .filter_map(|word| word.try_into().ok().map(u32::from_le_bytes).map(Handle))
        .collect())
}

/// Encodes handles as the `u32` array user space reads.
fn handles_to_bytes(handles: &[Handle]) -> Vec<u8> {
    handles.iter().flat_map(|h| h.0.to_le_bytes()).collect()
}
