//! `process_map`, `process_unmap`, `process_protect`, `process_read`,
//! `process_write`: another process's memory, for a personality that
//! serves a foreign process's `mmap`, `munmap`, `mprotect` and copies its
//! call arguments (docs/kernel.md, "Another process's memory"). Each
//! needs `MANAGE` on the process. They map, unmap and protect only its
//! own pages; a memory object it maps (`process_map_memory`, in
//! `process_shared`) is read and written through, and unmapped whole.

use alloc::vec::Vec;

use abide_abi::syscall::{Error, Rights};
use abide_abi::trap::MAX_PROCESS_COPY;
use abide_mm::PAGE_SIZE;

use super::{caller_table, handle_arg};
use crate::arch::probe;
use crate::mm::{self, AddressSpace, MapError, USER_END, USER_START};
use crate::object::{account, Kernel, ObjectId};

/// The process `handle` names in the caller's table, with `MANAGE`.
pub(super) fn target(kernel: &Kernel, handle: u64) -> Result<ObjectId, Error> {
    let table = caller_table(kernel)?;
    let id = kernel.object_of(table, handle_arg(handle)?, Rights::MANAGE)?;
    kernel.objects.process(id).ok_or(Error::WrongType)?;
    Ok(id)
}

/// Process `id`'s address space; an ended process has none, so no address
/// names its memory (`BadAddress`).
pub(super) fn space(kernel: &Kernel, id: ObjectId) -> Result<&AddressSpace, Error> {
    kernel
        .objects
        .process(id)
        .and_then(|process| process.space.as_ref())
        .ok_or(Error::BadAddress)
}

/// [`space`], to change.
pub(super) fn space_mut(kernel: &mut Kernel, id: ObjectId) -> Result<&mut AddressSpace, Error> {
    kernel
        .objects
        .process_mut(id)
        .and_then(|process| process.space.as_mut())
        .ok_or(Error::BadAddress)
}

/// The first page and the page count of `[addr, addr + len)`: page-aligned
/// and not empty (`InvalidArgument`), inside user space without
/// wrapping around (`BadAddress`).
pub(super) fn page_range(addr: u64, len: u64) -> Result<(u64, u64), Error> {
    if !addr.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Error::InvalidArgument);
    }
    let end = addr.checked_add(len).ok_or(Error::BadAddress)?;
    if addr < USER_START || end > USER_END {
        return Err(Error::BadAddress);
    }
    Ok((addr, len / PAGE_SIZE))
}

/// The pages `[addr, addr + len)` touches, for a copy: any alignment, at
/// most [`MAX_PROCESS_COPY`] bytes (`InvalidArgument`), inside user space
/// (`BadAddress`).
fn copy_range(addr: u64, len: u64) -> Result<(u64, u64), Error> {
    if len > MAX_PROCESS_COPY {
        return Err(Error::InvalidArgument);
    }
    let end = addr.checked_add(len).ok_or(Error::BadAddress)?;
    if addr < USER_START || end > USER_END {
        return Err(Error::BadAddress);
    }
    let first = addr - addr % PAGE_SIZE;
    Ok((first, end.div_ceil(PAGE_SIZE) - first / PAGE_SIZE))
}

/// A page-table refusal as the caller sees it.
pub(super) fn from_map_error(error: MapError) -> Error {
    match error {
        MapError::OutOfMemory => Error::NoMemory,
        MapError::Misaligned => Error::InvalidArgument,
        MapError::NotCanonical
        | MapError::NotMapped
        | MapError::AlreadyMapped
        | MapError::HugePageInTheWay => Error::BadAddress,
    }
}

/// `process_map(process, addr, len, prot)`.
pub fn map(kernel: &mut Kernel, handle: u64, addr: u64, len: u64, prot: u64) -> Result<u64, Error> {
    let id = target(kernel, handle)?;
    let flags = mm::prot_flags(prot).ok_or(Error::InvalidArgument)?;
    let (start, count) = page_range(addr, len)?;
    let space = space(kernel, id)?;
    space
        .range_is_free_of_shared(start, count)
        .map_err(from_map_error)?;
    let replaced = space.own_range(start, start + len).len() as u64;
    // Charged like its other pages: the new ones (those replaced are
    // given back) and the tables they may need.
    let added = count - replaced;
    account::check_room(kernel, id, added + mm::tables_for_range(count), 0)?;
    let new = fresh_frames(count)?;
    let space = space_mut(kernel, id)?;
    for &(_, frame) in space.own_range(start, start + len) {
        crate::persist::page_changing(frame);
    }
    if let Err(error) = space.replace_pages(start, &new, flags) {
        free_frames(&new);
        return Err(from_map_error(error));
    }
    if let Some(process) = kernel.objects.process_mut(id) {
        process.memory_pages = process.memory_pages.saturating_add(added);
    }
    Ok(0)
}

/// `count` zeroed frames from the memory user requests may take, or
/// `NoMemory` and none.
fn fresh_frames(count: u64) -> Result<Vec<u64>, Error> {
    if !mm::user_memory_available(count.saturating_mul(PAGE_SIZE)) {
        return Err(Error::NoMemory);
    }
    let mut frames = Vec::new();
    frames
        .try_reserve_exact(count as usize)
        .map_err(|_| Error::NoMemory)?;
    for _ in 0..count {
        let Some(frame) = mm::alloc_user_frame() else {
            free_frames(&frames);
            return Err(Error::NoMemory);
        };
        // SAFETY: a freshly allocated frame is ours alone, reached through
        // the direct map.
        unsafe {
            core::ptr::write_bytes(mm::phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize)
        };
        frames.push(frame);
    }
    Ok(frames)
}

/// Gives `frames` back.
fn free_frames(frames: &[u64]) {
    for &frame in frames {
        let _ = mm::free_frame(frame);
    }
}

/// `process_unmap(process, addr, len)`.
pub fn unmap(kernel: &mut Kernel, handle: u64, addr: u64, len: u64) -> Result<u64, Error> {
    let id = target(kernel, handle)?;
    let (start, count) = page_range(addr, len)?;
    let space = space_mut(kernel, id)?;
    for &(_, frame) in space.own_range(start, start + len) {
        crate::persist::page_changing(frame);
    }
    let freed = space.unmap_pages(start, count).map_err(from_map_error)?;
    account::uncharge_pages(kernel, id, freed);
    crate::syscall::process_shared::unmap_within(kernel, id, start, count)?;
    Ok(0)
}

/// `process_protect(process, addr, len, prot)`.
pub fn protect(
    kernel: &mut Kernel,
    handle: u64,
    addr: u64,
    len: u64,
    prot: u64,
) -> Result<u64, Error> {
    let id = target(kernel, handle)?;
    let flags = mm::prot_flags(prot).ok_or(Error::InvalidArgument)?;
    let (start, count) = page_range(addr, len)?;
    let space = space_mut(kernel, id)?;
    space.check_own(start, count).map_err(from_map_error)?;
    // A page a checkpoint protects gets its permission back first, so the
    // checkpoint's release cannot undo the new protection later.
    for &(_, frame) in space.own_range(start, start + len) {
        crate::persist::page_changing(frame);
    }
    space
        .protect_pages(start, count, flags)
        .map_err(from_map_error)?;
    Ok(0)
}

/// A buffer for one page's worth of a copy of `len` bytes.
fn bounce(len: u64) -> Result<Vec<u8>, Error> {
    let size = len.min(PAGE_SIZE) as usize;
    let mut buffer = Vec::new();
    buffer
        .try_reserve_exact(size)
        .map_err(|_| Error::NoMemory)?;
    buffer.resize(size, 0);
    Ok(buffer)
}

/// The pieces of `[addr, addr + len)` that stay within one page each:
/// (address, offset from `addr`, length).
fn pieces(addr: u64, len: u64) -> impl Iterator<Item = (u64, u64, usize)> {
    let mut done = 0;
    core::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let at = addr + done;
        let piece = (PAGE_SIZE - at % PAGE_SIZE).min(len - done);
        let item = (at, done, piece as usize);
        done += piece;
        Some(item)
    })
}

/// The checks of a copy of `len` bytes at `addr` in the process `handle`
/// names, before anything is copied: that process and a one-page buffer,
/// or `None` for an empty copy.
fn prepare_copy(
    kernel: &Kernel,
    handle: u64,
    addr: u64,
    len: u64,
) -> Result<Option<(ObjectId, Vec<u8>)>, Error> {
    let id = target(kernel, handle)?;
    let (first, count) = copy_range(addr, len)?;
    let space = space(kernel, id)?;
    if len == 0 {
        return Ok(None);
    }
    space.check_mapped(first, count).map_err(from_map_error)?;
    Ok(Some((id, bounce(len)?)))
}

/// `process_read(process, addr, buffer, len) -> len`.
pub fn read(
    kernel: &mut Kernel,
    handle: u64,
    addr: u64,
    buffer: u64,
    len: u64,
) -> Result<u64, Error> {
    let Some((id, mut bounce)) = prepare_copy(kernel, handle, addr, len)? else {
        return Ok(0);
    };
    let space = space(kernel, id)?;
    for (at, offset, piece) in pieces(addr, len) {
        let chunk = bounce.get_mut(..piece).ok_or(Error::InvalidArgument)?;
        space.read_mapped(at, chunk).map_err(from_map_error)?;
        let to = buffer.checked_add(offset).ok_or(Error::BadAddress)?;
        probe::copy_to_user(to, chunk)?;
    }
    Ok(len)
}

/// `process_write(process, addr, buffer, len) -> len`. A fault on the
/// caller's buffer ends the copy with `BadAddress` where it happened.
pub fn write(
    kernel: &mut Kernel,
    handle: u64,
    addr: u64,
    buffer: u64,
    len: u64,
) -> Result<u64, Error> {
    let Some((id, mut bounce)) = prepare_copy(kernel, handle, addr, len)? else {
        return Ok(0);
    };
    let space = space_mut(kernel, id)?;
    for (at, offset, piece) in pieces(addr, len) {
        let chunk = bounce.get_mut(..piece).ok_or(Error::InvalidArgument)?;
        let from = buffer.checked_add(offset).ok_or(Error::BadAddress)?;
        probe::copy_from_user(chunk, from)?;
        // A page a checkpoint is still writing out is copied aside before
        // it changes, as a user write would have it.
        if let Some(frame) = space.frame_at(at - at % PAGE_SIZE) {
            crate::persist::page_changing(frame);
        }
        space.write_mapped(at, chunk).map_err(from_map_error)?;
    }
    Ok(len)
}
