//! The kernel heap's gate: before a system call that may make an
//! infallible allocation (an object-table or handle-table insert, a
//! `Vec` that grows), make sure the heap holds that call's worst case, and
//! refuse the call with `NoMemory` when it cannot; so no call panics the
//! kernel when the heap cannot grow (issue 13, finding 3). Calls that free
//! memory (close, exit, read, wait, kill…) are never refused: what they
//! allocate comes out of the kernel's reserve of frames, which refused
//! calls never touch. The reasoning and the bound are in
//! docs/reliability.md, "When the kernel heap cannot grow".

use core::mem::size_of;

use abide_abi::object::MAX_MESSAGE_HANDLES;
use abide_abi::syscall::Syscall;
use abide_objects::caps::Capabilities;
use abide_objects::heap_cost::btree_insert_bytes;

use crate::arch::context::UserContext;
use crate::object::{Object, ObjectId};

/// One new object: its slot (the object and its handle count) in the
/// object table.
const OBJECT: usize = btree_insert_bytes(size_of::<ObjectId>(), size_of::<Object>() + 16);
/// One new handle in a table and the derivation tree.
const HANDLE: usize = Capabilities::<ObjectId>::HANDLE_HEAP_BYTES;
/// One new handle table (a process's).
const TABLE: usize = Capabilities::<ObjectId>::TABLE_HEAP_BYTES;
/// One entry in a set or map keyed by object (the observers by watched
/// object, the deadlines).
const ENTRY: usize = btree_insert_bytes(size_of::<(u64, ObjectId)>(), 3 * size_of::<usize>());
/// One page a checkpoint copies aside: its entry in the write-out's map of
/// copies by frame.
const COPY_ASIDE: usize = btree_insert_bytes(size_of::<u64>(), size_of::<usize>());
/// The growth of the lists a call may push to (a thread into the run
/// queue or a port's waiters, an observer onto an object's list, a
/// lingering record, the handles a message moves): a list doubles when it
/// grows, and these hold at most a few thousand words, so 32 KiB covers
/// the doubling of any of them plus the call's short-lived lists.
const LISTS: usize = 32 << 10;

/// What one trap of a foreign thread may allocate without `try_reserve`
/// (`object::traps::TRAP_HEAP`, which the trap path checks itself: it
/// sits below this module).
const TRAP: usize = crate::object::traps::TRAP_HEAP;

// The trap path's bound is the lists' growth, like a call that queues.
const _: () = assert!(TRAP == LISTS);

/// The most heap bytes `call` may allocate without `try_reserve`, or
/// `None` for calls that are never refused (they free memory, or allocate
/// only fallibly).
pub fn worst_case(call: Syscall) -> Option<usize> {
    let bytes = match call {
        Syscall::HandleDuplicate | Syscall::HandleMint => HANDLE + LISTS,
        Syscall::ChannelCreate => 2 * OBJECT + 2 * HANDLE + LISTS,
        Syscall::PortCreate
        | Syscall::TimerCreate
        | Syscall::MemoryCreate
        | Syscall::InterruptCreate
        | Syscall::IoPortsCreate
        | Syscall::MmioCreate => OBJECT + HANDLE + LISTS,
        Syscall::PortBind | Syscall::TimerSet => ENTRY + LISTS,
        Syscall::ChannelWrite | Syscall::MemoryMap => LISTS,
        // The process and its thread, its table, its startup handles and
        // the parent's handle to it, its saved registers.
        Syscall::ProcessSpawn => {
            2 * OBJECT
                + TABLE
                + (MAX_MESSAGE_HANDLES + 2) * HANDLE
                + size_of::<UserContext>()
                + LISTS
        }
        // The process, its table, the parent's handle to it, its place
        // among its trap channel's clients.
        Syscall::ProcessCreate => OBJECT + TABLE + HANDLE + ENTRY + LISTS,
        // The thread and its saved registers, its place in the run queue.
        Syscall::ThreadStart => OBJECT + size_of::<UserContext>() + LISTS,
        // A thread back into the run queue, or a trap message queued
        // (its bytes reserved fallibly) and the observers it wakes.
        Syscall::TrapResume | Syscall::TrapInterrupt => TRAP,
        // Another process's pages: their records and the frames they take
        // are reserved fallibly; what may not be is the entry a checkpoint
        // in progress makes for each page it copies aside first (its copy
        // is fallible) and the growth of its lists.
        Syscall::ProcessMap
        | Syscall::ProcessUnmap
        | Syscall::ProcessProtect
        | Syscall::ProcessWrite
        | Syscall::ProcessMapMemory => COPY_ASIDE + LISTS,
        // The copy (its pages' records reserved fallibly), its table, the
        // parent's handle to it, its place among its trap channel's
        // clients, the entries of the pages a checkpoint copies aside.
        Syscall::ProcessClone => OBJECT + TABLE + HANDLE + ENTRY + COPY_ASIDE + LISTS,
        Syscall::DebugWrite
        | Syscall::Exit
        | Syscall::Yield
        | Syscall::Clock
        | Syscall::HandleClose
        | Syscall::HandleRevoke
        | Syscall::ChannelRead
        | Syscall::PortWait
        | Syscall::ProcessKill
        | Syscall::ProcessStatus
        | Syscall::InterruptAck
        | Syscall::IoPortRead
        | Syscall::IoPortWrite
        | Syscall::BundleRead
        | Syscall::KernelLogRead
        | Syscall::MachinePower
        | Syscall::ProcessHandles
        | Syscall::BootArgs
        | Syscall::MemoryStats
        | Syscall::ProcessRead
        | Syscall::Persist => return None,
    };
    Some(bytes)
}

/// True unless `call` may allocate more than the kernel heap can hold.
pub fn admits(call: Syscall) -> bool {
    worst_case(call).is_none_or(crate::mm::heap_has_free_run)
}
