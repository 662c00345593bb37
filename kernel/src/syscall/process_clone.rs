//! `process_clone`: a new process with a copy of another's memory and no
//! threads, for a personality's `fork` (docs/kernel.md, "Another
//! process's memory"). A foreign process's own pages are shared
//! copy-on-write; an Abide process's are copied now.

use alloc::sync::Arc;
use alloc::vec::Vec;

use abide_abi::syscall::{Error, Rights};
use abide_mm::PAGE_SIZE;

use super::process::{adopt_child, check_new_child};
use super::{caller_table, handle_arg};
use crate::mm::PageSet;
use crate::object::{account, foreign, Kernel};
use crate::process::account::PROCESS_BYTES;

/// `process_clone(process, name, name_len, options) -> process`.
pub fn clone(kernel: &mut Kernel, args: [u64; 6]) -> Result<u64, Error> {
    let [source, name_ptr, name_len, options_ptr, _, _] = args;
    let table = caller_table(kernel)?;
    let source = kernel.object_of(table, handle_arg(source)?, Rights::MANAGE)?;
    kernel.objects.process(source).ok_or(Error::WrongType)?;
    let new = check_new_child(kernel, name_ptr, name_len, options_ptr)?;
    kernel.caps.check_room(new.table, 1)?;
    let process = kernel.objects.process(source).ok_or(Error::WrongType)?;
    // An ended process has no memory to copy.
    let space = process.space.as_ref().ok_or(Error::InvalidArgument)?;
    let trap_channel = process.trap_channel;
    // A foreign process's threads trap on every system call, so the kernel
    // never writes its memory through user addresses: its pages can be
    // shared copy-on-write, the write faults resolved in `object::traps`.
    let copy_on_write = trap_channel.is_some();
    // What the copy is charged for, known before anything is allocated:
    // its pages (copied now or on their first write: charged now either
    // way, so a later copy never fails for lack of budget), as many
    // tables as the source's at most, its records.
    let own = space.page_count();
    let tables = space.table_pages();
    let kernel_pages = PROCESS_BYTES
        .saturating_add(space.record_bytes())
        .div_ceil(PAGE_SIZE);
    let needed = own.saturating_add(tables).saturating_add(kernel_pages);
    if needed > new.limits.memory_pages
        || !crate::mm::user_memory_available(own.saturating_add(tables).saturating_mul(PAGE_SIZE))
    {
        return Err(Error::NoMemory);
    }
    let mut sets: Vec<Arc<PageSet>> = Vec::new();
    sets.try_reserve_exact(space.shared_mappings().len())
        .map_err(|_| Error::NoMemory)?;
    sets.extend(space.shared_mappings().iter().map(|(_, set)| set.clone()));
    // The copy maps them writable where the source does: a checkpoint
    // still writing them out copies them aside first.
    for set in &sets {
        crate::persist::set_mapping(set);
    }
    drop(sets);
    let process = kernel.objects.process_mut(source).ok_or(Error::WrongType)?;
    let space = process.space.as_mut().ok_or(Error::InvalidArgument)?;
    let root = space.page_tables().root();
    let copy = crate::persist::with_write_protected(root, copy_on_write, |protected| {
        space.duplicate(protected, copy_on_write)
    })
    .map_err(|_| Error::NoMemory)?;
    // The child's budget comes out of the parent's, as for a spawn.
    account::charge_pages(kernel, new.parent, new.reserve)?;
    let child = match foreign::insert(kernel, &new.name, new.limits, copy, trap_channel) {
        Ok(child) => child,
        Err(error) => {
            account::uncharge_pages(kernel, new.parent, new.reserve);
            return Err(error);
        }
    };
    adopt_child(kernel, child, &new)
}
