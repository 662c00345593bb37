//! Foreign-ABI processes (`abide_abi::trap`): making one (an empty
//! address space, no threads, a reference to its trap channel), starting
//! and ending its threads with registers its handler chose, and ending
//! every process of a trap channel whose handler end closed. The trap
//! itself — a thread stopping and its registers going to the handler — is
//! `object::traps`.

use alloc::boxed::Box;
use alloc::string::String;

use abide_abi::syscall::Error;
use abide_abi::trap::TrapRegisters;

use super::{account, Kernel, Object, ObjectId};
use crate::arch::context::{user_rflags, UserContext, USER_END};
use crate::mm::AddressSpace;
use crate::process::account::{PROCESS_BYTES, THREAD_BYTES};
use crate::process::{ExitReason, Limits, Process};
use crate::sched::{self, Thread, ThreadState};

/// Makes the empty foreign process `name` whose traps go through channel
/// end `trap_channel` (which it holds a reference to until it ends).
pub fn create(
    kernel: &mut Kernel,
    name: &str,
    limits: Limits,
    trap_channel: ObjectId,
) -> Result<ObjectId, Error> {
    let kernel_pages = PROCESS_BYTES.div_ceil(abide_mm::PAGE_SIZE);
    if kernel_pages + 1 > limits.memory_pages
        || !crate::mm::user_memory_available((kernel_pages + 1) * abide_mm::PAGE_SIZE)
    {
        return Err(Error::NoMemory);
    }
    let space = AddressSpace::new().map_err(|_| Error::NoMemory)?;
    insert(kernel, name, limits, space, Some(trap_channel))
}

/// Adds the process `name` with `space` (its own pages charged to it) and
/// no threads: an empty one (`process_create`) or a copy
/// (`process_clone`). A foreign one holds a reference to its trap channel
/// until it ends.
pub fn insert(
    kernel: &mut Kernel,
    name: &str,
    limits: Limits,
    space: AddressSpace,
    trap_channel: Option<ObjectId>,
) -> Result<ObjectId, Error> {
    let id = kernel.objects.new_id().ok_or(Error::NoMemory)?;
    let table = kernel.caps.create_table(limits.handle_quota);
    let own_pages = space.page_count();
    let mut process = Process::new(id, String::from(name), table, space, limits);
    process.memory_pages = own_pages;
    process.trap_channel = trap_channel;
    kernel.objects.insert(id, Object::Process(process));
    if let Some(trap_channel) = trap_channel {
        kernel.objects.add_handle(trap_channel);
        kernel.trap_clients.insert((trap_channel, id));
    }
    Ok(id)
}

/// Process `id` ended: its reference to its trap channel goes.
pub fn detach(kernel: &mut Kernel, id: ObjectId) {
    let Some(channel) = kernel
        .objects
        .process_mut(id)
        .and_then(|process| process.trap_channel.take())
    else {
        return;
    };
    kernel.trap_clients.remove(&(channel, id));
    super::release(kernel, alloc::vec![channel]);
}

/// The handler's end of trap channel `trap_channel` closed (the handler
/// ended or crashed): every process trapping through it ends (`Killed`).
pub fn handler_closed(kernel: &mut Kernel, trap_channel: ObjectId) {
    let clients: alloc::vec::Vec<ObjectId> = kernel
        .trap_clients
        .range((trap_channel, 0)..=(trap_channel, ObjectId::MAX))
        .map(|&(_, process)| process)
        .collect();
    for id in clients {
        if let Some(process) = kernel.objects.process(id) {
            log::warn!(
                "process {id} ({}): the handler of its traps is gone; ending it",
                process.name
            );
        }
        super::process::end_process(kernel, id, ExitReason::Killed);
    }
}

/// After a restore: the index of trap channel clients is rebuilt from the
/// process records, and the foreign threads that were stopped in a trap —
/// saved in no queue (see `persist::capture`) — are stopped again.
///
/// They are not run to trap anew: the checkpoint holds their trap exactly
/// once, either still queued at the handler's end of the trap channel or
/// already taken by the (persistent) handler, whose saved state knows it.
/// A re-issued trap beside a queued one would be served twice, and the
/// handler's answer to the first would resume the thread after it had
/// moved on, running its code again from an old point.
pub fn restored(kernel: &mut Kernel) {
    let mut stopped = alloc::vec::Vec::new();
    for (id, object, _) in kernel.objects.iter() {
        match object {
            Object::Process(process) => {
                if let Some(channel) = process.trap_channel {
                    kernel.trap_clients.insert((channel, id));
                }
            }
            Object::Thread(thread)
                if thread.trap_key.is_some()
                    && thread.state == ThreadState::Ready
                    && !kernel.sched.run_queue.contains(id) =>
            {
                stopped.push(id);
            }
            _ => {}
        }
    }
    for id in stopped {
        if let Some(thread) = kernel.objects.thread_mut(id) {
            thread.state = ThreadState::Stopped;
        }
    }
}

/// Starts a thread in foreign process `process` with registers `regs`
/// (checked: `InvalidArgument` for a `rip`, `rsp` or segment base outside
/// user space) and a fresh FPU state; its traps carry `key`. Charged to the
/// process. Returns the thread's id.
pub fn start_thread(
    kernel: &mut Kernel,
    process: ObjectId,
    regs: &TrapRegisters,
    key: u64,
) -> Result<ObjectId, Error> {
    let target = kernel.objects.process(process).ok_or(Error::WrongType)?;
    if target.trap_channel.is_none() {
        return Err(Error::WrongType);
    }
    if !target.is_alive() {
        return Err(Error::InvalidArgument);
    }
    let priority = target.limits.priority;
    let mut context = Box::new(UserContext::new_user(0, 0));
    load_registers(&mut context, regs)?;
    let charge = account::charge_bytes(kernel, process, THREAD_BYTES)?;
    let grown = kernel
        .objects
        .process_mut(process)
        .is_some_and(|p| p.threads.try_reserve(1).is_ok());
    let Some(id) = kernel.objects.new_id().filter(|_| grown) else {
        account::uncharge_bytes(kernel, charge);
        return Err(Error::NoMemory);
    };
    kernel.objects.insert(
        id,
        Object::Thread(Thread {
            process,
            priority,
            state: ThreadState::Ready,
            context,
            trap_key: Some(key),
        }),
    );
    if let Some(p) = kernel.objects.process_mut(process) {
        p.threads.push(id);
    }
    sched::admit(kernel, id);
    Ok(id)
}

/// Ends foreign thread `thread` (`trap_resume` with `END_THREAD`); its
/// process ends, `Exited(0)`, with its last thread.
pub fn end_thread(kernel: &mut Kernel, thread: ObjectId) {
    let Some(process) = kernel.objects.thread(thread).map(|t| t.process) else {
        return;
    };
    let mut last = false;
    if let Some(p) = kernel.objects.process_mut(process) {
        p.threads.retain(|&t| t != thread);
        last = p.threads.is_empty();
    }
    sched::exit_thread(kernel, thread);
    account::uncharge_bytes(
        kernel,
        crate::process::account::Charge {
            owner: process,
            bytes: THREAD_BYTES,
        },
    );
    if last {
        super::process::end_process(kernel, process, ExitReason::Exited(0));
    }
}

/// Loads `regs` into `context` after checking them: `rip`, `rsp` and the
/// segment bases below [`USER_END`] (else `InvalidArgument`), RFLAGS
/// reduced to what user code may set. The FPU state is left alone.
pub fn load_registers(context: &mut UserContext, regs: &TrapRegisters) -> Result<(), Error> {
    let user = |addr: u64| addr < USER_END;
    if !(user(regs.rip) && user(regs.rsp) && user(regs.fs_base) && user(regs.gs_base)) {
        return Err(Error::InvalidArgument);
    }
    let r = &mut context.regs;
    (r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp) = (
        regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp, regs.rsp,
    );
    (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) = (
        regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13, regs.r14, regs.r15,
    );
    r.rip = regs.rip;
    r.rflags = user_rflags(regs.rflags);
    context.fs_base = regs.fs_base;
    context.gs_base = regs.gs_base;
    Ok(())
}

/// The registers of `context` as a trap message carries them.
pub fn registers_of(context: &UserContext) -> TrapRegisters {
    let r = &context.regs;
    TrapRegisters {
        rax: r.rax,
        rbx: r.rbx,
        rcx: r.rcx,
        rdx: r.rdx,
        rsi: r.rsi,
        rdi: r.rdi,
        rbp: r.rbp,
        rsp: r.rsp,
        r8: r.r8,
        r9: r.r9,
        r10: r.r10,
        r11: r.r11,
        r12: r.r12,
        r13: r.r13,
        r14: r.r14,
        r15: r.r15,
        rip: r.rip,
        rflags: r.rflags,
        fs_base: context.fs_base,
        gs_base: context.gs_base,
    }
}
