//! `memory_create`, `memory_map`.

use alloc::sync::Arc;

use abide_abi::object::{MAP_WRITE, MAX_MEMORY_BYTES};
use abide_abi::syscall::{Error, Rights};
use abide_mm::PAGE_SIZE;

use super::{caller_table, handle_arg};
use crate::mm::{AddressSpace, PageSet, MAPPING_RECORD_BYTES};
use crate::object::account;
use crate::object::{Kernel, Memory, Object};

pub fn create(kernel: &mut Kernel, size: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    if size == 0 || size > MAX_MEMORY_BYTES {
        return Err(Error::InvalidArgument);
    }
    kernel.caps.check_room(table, 1)?;
    let count = size.div_ceil(PAGE_SIZE);
    let owner = crate::object::process::current_process(kernel).ok_or(Error::BadHandle)?;
    account::check_room(kernel, owner, count, 0)?;
    let pages = PageSet::zeroed(count as usize).ok_or(Error::NoMemory)?;
    account::charge_pages(kernel, owner, count)?;
    let memory = Memory {
        pages: Arc::new(pages),
        charged_to: owner,
        charged_pages: count,
    };
    match kernel.create(table, Object::Memory(memory), Rights::ALL) {
        Ok((_, handle)) => Ok(u64::from(handle.0)),
        Err(error) => {
            account::uncharge_pages(kernel, owner, count);
            Err(error)
        }
    }
}

pub fn map(kernel: &mut Kernel, handle: u64, flags: u64) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    if flags & !MAP_WRITE != 0 {
        return Err(Error::InvalidArgument);
    }
    let writable = flags & MAP_WRITE != 0;
    let mut needed = Rights::MAP.union(Rights::READ);
    if writable {
        needed = needed.union(Rights::WRITE);
    }
    let id = kernel.object_of(table, handle_arg(handle)?, needed)?;
    let Some(Object::Memory(memory)) = kernel.objects.get(id) else {
        return Err(Error::WrongType);
    };
    let pages = memory.pages.clone();
    let process = crate::object::process::current_process(kernel).ok_or(Error::BadHandle)?;
    // The tables the mapping may need and its record are charged to the
    // mapper (the pages are its creator's).
    let tables = AddressSpace::tables_bound(pages.frames().len() as u64);
    account::check_room(kernel, process, tables, MAPPING_RECORD_BYTES)?;
    // A checkpoint still writing these pages out copies them first: the
    // new mapping is not write-protected.
    crate::persist::set_mapping(&pages);
    let space = kernel
        .objects
        .process_mut(process)
        .and_then(|process| process.space.as_mut())
        .ok_or(Error::BadHandle)?;
    space
        .map_shared(pages, writable)
        .map_err(|_| Error::NoMemory)
}
