//! `process_map_memory`, and the end of such mappings in
//! `process_unmap`: a memory object mapped into a foreign process at the
//! address its personality chose, so two processes share its pages (a
//! Linux `MAP_SHARED` mapping, kept across `fork` by `process_clone`;
//! docs/kernel.md, "Another process's memory").

use abide_abi::syscall::{Error, Rights};
use abide_abi::trap::{PROT_READ, PROT_WRITE};

use super::process_memory::{from_map_error, page_range, space, space_mut, target};
use super::{caller_table, handle_arg};
use crate::mm::{AddressSpace, MAPPING_RECORD_BYTES};
use crate::object::{account, Kernel, Object, ObjectId};

/// `process_map_memory(process, memory, addr, prot)`.
pub fn map(
    kernel: &mut Kernel,
    handle: u64,
    memory: u64,
    addr: u64,
    prot: u64,
) -> Result<u64, Error> {
    let id = target(kernel, handle)?;
    let writable = match prot {
        PROT_READ => false,
        _ if prot == PROT_READ | PROT_WRITE => true,
        _ => return Err(Error::InvalidArgument),
    };
    // Only a foreign process: Abide's own programs map memory objects
    // themselves, in their window (the checkpoint image holds them to it).
    let foreign = kernel
        .objects
        .process(id)
        .is_some_and(|process| process.trap_channel.is_some());
    if !foreign {
        return Err(Error::WrongType);
    }
    let mut needed = Rights::MAP.union(Rights::READ);
    if writable {
        needed = needed.union(Rights::WRITE);
    }
    let table = caller_table(kernel)?;
    let object = kernel.object_of(table, handle_arg(memory)?, needed)?;
    let Some(Object::Memory(memory)) = kernel.objects.get(object) else {
        return Err(Error::WrongType);
    };
    if memory.pages.is_device() {
        return Err(Error::InvalidArgument);
    }
    let pages = memory.pages.clone();
    let count = pages.frames().len() as u64;
    let (start, count) = page_range(addr, count.saturating_mul(abide_mm::PAGE_SIZE))?;
    // The whole range is free, or nothing is mapped.
    let space_now = space(kernel, id)?;
    space_now
        .range_is_free_of_shared(start, count)
        .map_err(from_map_error)?;
    if !space_now
        .own_range(start, start + count * abide_mm::PAGE_SIZE)
        .is_empty()
    {
        return Err(Error::BadAddress);
    }
    // The tables the mapping may need and its record are charged to the
    // process (the pages are the object's creator's), as for `memory_map`.
    let tables = AddressSpace::tables_bound(count);
    account::check_room(kernel, id, tables, MAPPING_RECORD_BYTES)?;
    // A checkpoint still writing these pages out copies them first: the
    // new mapping may be writable.
    crate::persist::set_mapping(&pages);
    space_mut(kernel, id)?
        .map_shared_at(start, pages, writable)
        .map_err(from_map_error)?;
    Ok(0)
}

/// Ends the memory-object mappings of process `id` that lie wholly inside
/// `[start, start + count pages)` (`process_unmap`).
pub fn unmap_within(
    kernel: &mut Kernel,
    id: ObjectId,
    start: u64,
    count: u64,
) -> Result<(), Error> {
    let within = space(kernel, id)?.shared_within(start, count);
    if within.is_empty() {
        return Ok(());
    }
    for (base, set) in within {
        // A checkpoint still writing these pages out copies them first
        // and forgets this mapping, so it never gives it back its write
        // permission after something else is mapped there.
        crate::persist::set_mapping(&set);
        space_mut(kernel, id)?.unmap_shared(base);
    }
    // The last mapping of a closed object (a personality keeps no handle
    // to its processes' shared memory) frees its pages: its creator gets
    // them back now rather than at the next process's end.
    account::settle_lingering(kernel);
    Ok(())
}
