//! `process_create`, `thread_start`, `trap_resume`, `trap_interrupt`: the
//! calls a handler makes for its foreign-ABI processes (`abide_abi::trap`;
//! the records and the trap itself are `object::foreign` and
//! `object::traps`), and the trap of a `syscall` a foreign thread makes.

use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};
use abide_abi::trap::{TrapRegisters, END_THREAD, RESUME};

use super::process::{adopt_child, check_new_child};
use super::{caller_table, copy_in, handle_arg};
use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::object::traps::{self, Cause};
use crate::object::{account, foreign, Kernel, ObjectId};

/// The `syscall` of the thread on the CPU, if it is a foreign one: it traps
/// (see `object::traps`) and true is returned; false for Abide's threads.
pub fn trap_syscall(kernel: &mut Kernel, frame: &mut TrapFrame, fpu: &mut FpuState) -> bool {
    let Some(thread) = traps::current_foreign(kernel) else {
        return false;
    };
    traps::trap_current(kernel, thread, frame, fpu, Cause::Syscall);
    true
}

/// `process_create(name, name_len, trap_channel, options) -> process`.
pub fn create(kernel: &mut Kernel, args: [u64; 6]) -> Result<u64, Error> {
    let [name_ptr, name_len, trap_channel, options_ptr, _, _] = args;
    let new = check_new_child(kernel, name_ptr, name_len, options_ptr)?;
    kernel.caps.check_room(new.table, 1)?;
    let trap_end = kernel.object_of(new.table, handle_arg(trap_channel)?, Rights::WRITE)?;
    let end = kernel.objects.channel(trap_end).ok_or(Error::WrongType)?;
    if end.peer.is_none() {
        return Err(Error::PeerClosed);
    }
    account::charge_pages(kernel, new.parent, new.reserve)?;
    let child = match foreign::create(kernel, &new.name, new.limits, trap_end) {
        Ok(child) => child,
        Err(error) => {
            account::uncharge_pages(kernel, new.parent, new.reserve);
            return Err(error);
        }
    };
    adopt_child(kernel, child, &new)
}

/// Reads a [`TrapRegisters`] from user memory at `ptr`.
fn read_registers(ptr: u64) -> Result<TrapRegisters, Error> {
    let len = TrapRegisters::LEN as u64;
    TrapRegisters::decode(&copy_in(ptr, len, len)?).ok_or(Error::InvalidArgument)
}

/// `thread_start(process, regs, key) -> thread`.
pub fn thread_start(kernel: &mut Kernel, process: u64, regs: u64, key: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(process)?, Rights::MANAGE)?;
    if kernel.objects.process(id).is_none() {
        return Err(Error::WrongType);
    }
    let regs = read_registers(regs)?;
    foreign::start_thread(kernel, id, &regs, key)
}

/// The handler end `channel` names in the caller's table (`READ`).
fn handler_end(kernel: &Kernel, channel: u64) -> Result<ObjectId, Error> {
    let table = caller_table(kernel)?;
    let end = kernel.object_of(table, handle_arg(channel)?, Rights::READ)?;
    kernel.objects.channel(end).ok_or(Error::WrongType)?;
    Ok(end)
}

/// `trap_resume(channel, thread, action, regs)`.
pub fn trap_resume(
    kernel: &mut Kernel,
    channel: u64,
    thread: u64,
    action: u64,
    regs: u64,
) -> Result<u64, Error> {
    let handler = handler_end(kernel, channel)?;
    if !traps::is_stopped_thread_of(kernel, handler, thread)? {
        return Err(Error::InvalidArgument);
    }
    match action {
        RESUME => traps::resume(kernel, thread, &read_registers(regs)?)?,
        END_THREAD => foreign::end_thread(kernel, thread),
        _ => return Err(Error::InvalidArgument),
    }
    Ok(0)
}

/// `trap_interrupt(channel, thread)`.
pub fn trap_interrupt(kernel: &mut Kernel, channel: u64, thread: u64) -> Result<u64, Error> {
    let handler = handler_end(kernel, channel)?;
    if !traps::is_stopped_thread_of(kernel, handler, thread)? {
        traps::interrupt(kernel, thread);
    }
    Ok(0)
}
