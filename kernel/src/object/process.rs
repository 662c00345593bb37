//! Process objects: starting a program (its address space, its handle
//! table, its first thread) and ending it (its threads, memory and
//! authority go; its status stays while handles name it). Both change the
//! whole kernel state — the object table, the handle tables, the run queue
//! — so they live here, above the process records (`crate::process`) and
//! the scheduler (`sched`).

use alloc::boxed::Box;
use alloc::string::String;

use abide_abi::syscall::Rights;
use abide_objects::caps::{InTransit, TableId};

use super::{account, port, Kernel, Object, ObjectId};
use crate::arch::context::UserContext;
use crate::process::account::PROCESS_BYTES;
use crate::process::{loader, report_end, ExitReason, Limits, Process, SpawnError, Startup};
use crate::sched::{self, Thread, ThreadState};

/// Starts the program `name` from `image` with one ready thread. The thread
/// starts with a handle to its own process in `rdi` (all rights) and the
/// number of startup handles in `rsi` (see `abide_abi::object`).
///
/// On failure, startup handles in transit are given back.
pub fn spawn(
    kernel: &mut Kernel,
    name: &str,
    image: &[u8],
    limits: Limits,
    startup: Startup,
) -> Result<ObjectId, (SpawnError, Option<InTransit<ObjectId>>)> {
    let give_back = |startup: Startup| match startup {
        Startup::Handles(transit) => Some(transit),
        _ => None,
    };
    // Checked before anything is allocated: the pages the image asks for
    // and the kernel's own records of the process; once loaded, again with
    // the page tables.
    let over = |needed: u64| SpawnError::OverMemoryLimit {
        needed,
        limit: limits.memory_pages,
    };
    let estimate = match loader::pages_needed(image) {
        Ok(pages) => pages.saturating_add(PROCESS_BYTES.div_ceil(abide_mm::PAGE_SIZE)),
        Err(error) => return Err((SpawnError::Load(error), give_back(startup))),
    };
    if estimate > limits.memory_pages
        || !crate::mm::user_memory_available(estimate.saturating_mul(abide_mm::PAGE_SIZE))
    {
        return Err((over(estimate), give_back(startup)));
    }
    let program = match loader::load(image) {
        Ok(program) => program,
        Err(error) => return Err((SpawnError::Load(error), give_back(startup))),
    };
    let needed = program.space.page_count();
    let kernel_pages = PROCESS_BYTES.div_ceil(abide_mm::PAGE_SIZE);
    let total = needed + program.space.table_pages() + kernel_pages;
    if total > limits.memory_pages {
        return Err((over(total), give_back(startup)));
    }
    let priority = limits.priority;
    // The programs the kernel starts (init) are the root of what persists.
    let persistent = matches!(startup, Startup::HardwareResource);
    let (Some(process_id), Some(thread_id)) = (kernel.objects.new_id(), kernel.objects.new_id())
    else {
        return Err((SpawnError::IdsExhausted, give_back(startup)));
    };
    let table = kernel.caps.create_table(limits.handle_quota);
    kernel.objects.insert(
        process_id,
        Object::Process(Process {
            threads: alloc::vec![thread_id],
            memory_pages: needed,
            persistent,
            ..Process::new(process_id, String::from(name), table, program.space, limits)
        }),
    );
    let self_handle = match kernel.new_handle(table, process_id, Rights::ALL) {
        Ok(handle) => handle,
        Err(error) => {
            kernel.caps.destroy_table(table);
            kernel.objects.remove(process_id);
            return Err((SpawnError::Handles(error), give_back(startup)));
        }
    };
    let startup_count = match startup {
        Startup::HardwareResource => {
            match kernel.create(table, Object::HardwareResource, Rights::ALL) {
                Ok(_) => 1,
                Err(_) => 0,
            }
        }
        Startup::Handles(transit) => install_startup(kernel, table, transit),
    };
    let mut context = Box::new(UserContext::new_user(program.entry, program.stack_top));
    context.regs.rdi = u64::from(self_handle.0);
    context.regs.rsi = startup_count;
    kernel.objects.insert(
        thread_id,
        Object::Thread(Thread {
            process: process_id,
            priority,
            state: ThreadState::Ready,
            context,
            trap_key: None,
        }),
    );
    sched::admit(kernel, thread_id);
    Ok(process_id)
}

/// Installs a new process's startup handles; returns how many it got.
fn install_startup(kernel: &mut Kernel, table: TableId, transit: InTransit<ObjectId>) -> u64 {
    let count = transit.len() as u64;
    match kernel.caps.install(table, transit) {
        Ok(installed) => {
            super::release(kernel, installed.revoked);
            count
        }
        Err((_, transit)) => {
            let orphans = kernel.caps.discard(transit);
            super::release(kernel, orphans);
            0
        }
    }
}

/// Ends process `id`: its threads stop, its memory and handles go, its
/// status is kept for whoever holds a handle to it, and its ending is
/// reported.
pub fn end_process(kernel: &mut Kernel, id: ObjectId, reason: ExitReason) {
    let Some(process) = kernel.objects.process_mut(id) else {
        return;
    };
    if !process.is_alive() {
        return;
    }
    process.status = reason.status();
    let threads = core::mem::take(&mut process.threads);
    let space = process.space.take();
    let table = process.table;
    report_end(process, reason);
    if let Some(space) = &space {
        crate::mm::space_ending(space);
    }
    for thread in threads {
        sched::exit_thread(kernel, thread);
    }
    drop(space);
    super::foreign::detach(kernel, id);
    // Its authority goes with it; handles others derived from its handles stay.
    let held = kernel.caps.destroy_table(table);
    super::release(kernel, held);
    port::forget_observers_of(kernel, id);
    account::hand_over(kernel, id);
    port::notify(kernel, id);
    super::remove_if_unreferenced(kernel, id);
}

/// The handle table of the process on the CPU.
pub fn current_table(kernel: &Kernel) -> Option<TableId> {
    Some(kernel.objects.process(current_process(kernel)?)?.table)
}

/// The process of the thread on the CPU.
pub fn current_process(kernel: &Kernel) -> Option<ObjectId> {
    kernel
        .objects
        .thread(kernel.sched.current?)
        .map(|thread| thread.process)
}
