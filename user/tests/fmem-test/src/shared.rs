//! `process_map_memory`: a memory object mapped into a foreign process
//! stays shared with a clone of it (`process_clone`, a personality's
//! `fork` of a `MAP_SHARED` mapping), `process_unmap` of its range ends it
//! in one process only, and every bad request is refused; device memory
//! is neither mapped into a foreign process nor reached by
//! `process_read`.

use alloc::format;

use abide_abi::object::MAP_WRITE;
use abide_abi::trap::{PROT_EXEC, PROT_READ, PROT_WRITE};
use abide_rt::syscall::{
    channel_create, handle_close, handle_duplicate, memory_create, memory_map, mmio_create,
    process_clone, process_create, process_map, process_map_memory, process_spawn_with,
    process_unmap, process_write,
};
use abide_rt::{Error, Handle, Rights};

use crate::{check, limited, pattern, read, reap, AT, LIMIT, PAGE};

/// Where the memory object goes in the foreign process (own pages lie at
/// [`AT`]).
const SHARED_AT: u64 = AT + 0x100_0000;

/// Everything on an empty foreign process and a clone of it.
pub fn shared_across_clone(port: Handle) -> Result<bool, Error> {
    let mut all = true;
    let (trap_end, handler_end) = channel_create()?;
    let foreign = process_create("fmem-foreign", trap_end, &limited(LIMIT))?;
    let object = memory_create(2 * PAGE)?;
    let rw = PROT_READ | PROT_WRITE;
    process_map(foreign, AT, PAGE, rw)?;
    let mapped = process_map_memory(foreign, object, SHARED_AT, rw);
    // Through this process's own mapping of the same object.
    let mine = memory_map(object, MAP_WRITE)?;
    let a = pattern(0x5a, 300);
    process_write(foreign, SHARED_AT + PAGE - 100, &a)?;
    let mut seen = [0u8; 300];
    // SAFETY: `mine` maps the object's two pages for the life of this
    // process; the range stays inside them.
    unsafe {
        core::ptr::copy_nonoverlapping(mine.add(PAGE as usize - 100), seen.as_mut_ptr(), 300)
    };
    all &= check(
        "a memory object maps into a foreign process, shared",
        mapped.is_ok() && seen[..] == a[..],
        &format!("({mapped:?})"),
    );

    let clone = process_clone(foreign, "fmem-clone", &limited(LIMIT))?;
    let b = pattern(0x21, 64);
    process_write(foreign, SHARED_AT + 8, &b)?;
    let c = pattern(0x43, 64);
    process_write(clone, SHARED_AT + PAGE + 8, &c)?;
    let own = pattern(0x65, 16);
    process_write(clone, AT, &own)?;
    all &= check(
        "a clone shares the mapping both ways",
        read(clone, SHARED_AT + 8, b.len())? == b
            && read(foreign, SHARED_AT + PAGE + 8, c.len())? == c
            && read(foreign, AT, own.len())? == alloc::vec![0u8; own.len()],
        "",
    );

    let unmapped = process_unmap(clone, SHARED_AT, 2 * PAGE);
    all &= check(
        "unmap ends the mapping in one process only",
        unmapped.is_ok()
            && read(clone, SHARED_AT, 1) == Err(Error::BadAddress)
            && read(foreign, SHARED_AT + 8, b.len())? == b,
        &format!("({unmapped:?})"),
    );
    all &= refusals(foreign, object)?;
    handle_close(object)?;
    reap(port, clone)?;
    reap(port, foreign)?;
    handle_close(handler_end)?;
    Ok(all)
}

/// Device memory (the VGA text buffer) is not for a foreign process, and
/// `process_read` does not reach an Abide process's mapping of it (the
/// kernel's direct map does not cover device memory).
pub fn device_memory(hardware: Handle) -> Result<bool, Error> {
    let device = mmio_create(hardware, VGA_TEXT, PAGE)?;
    let (trap_end, handler_end) = channel_create()?;
    let foreign = process_create("fmem-foreign", trap_end, &limited(LIMIT))?;
    let into_foreign = process_map_memory(foreign, device, SHARED_AT, PROT_READ | PROT_WRITE);
    // Once: the mapping stays for the life of this process.
    let mine = memory_map(device, MAP_WRITE)? as u64;
    let read_device = read(abide_rt::process_self(), mine, 4);
    let _ = abide_rt::syscall::process_kill(foreign);
    handle_close(foreign)?;
    handle_close(handler_end)?;
    handle_close(device)?;
    Ok(check(
        "device memory is not mapped into a foreign process or read through",
        into_foreign == Err(Error::InvalidArgument) && read_device == Err(Error::BadAddress),
        &format!("({into_foreign:?}, {read_device:?})"),
    ))
}

/// The VGA text buffer's physical address.
const VGA_TEXT: u64 = 0xb8000;

/// What `process_map_memory` must refuse.
fn refusals(foreign: Handle, object: Handle) -> Result<bool, Error> {
    let rw = PROT_READ | PROT_WRITE;
    let over_shared = process_map_memory(foreign, object, SHARED_AT + PAGE, rw);
    let over_own = process_map_memory(foreign, object, AT - PAGE, rw);
    let map_over = process_map(foreign, SHARED_AT, PAGE, rw);
    let unaligned = process_map_memory(foreign, object, SHARED_AT + 0x10_0008, rw);
    let exec = process_map_memory(
        foreign,
        object,
        SHARED_AT + 0x10_0000,
        PROT_READ | PROT_EXEC,
    );
    let none = process_map_memory(foreign, object, SHARED_AT + 0x10_0000, 0);
    let kernel_half = process_map_memory(foreign, object, 0xffff_8000_0000_0000, rw);
    let read_only = handle_duplicate(object, Rights::READ.union(Rights::MAP))?;
    let writable_denied = process_map_memory(foreign, read_only, SHARED_AT + 0x10_0000, rw);
    handle_close(read_only)?;
    let spinner = process_spawn_with("spinner", &[], &limited(LIMIT))?;
    let native = process_map_memory(spinner, object, SHARED_AT, rw);
    let not_memory = process_map_memory(foreign, foreign, SHARED_AT + 0x10_0000, rw);
    let _ = abide_rt::syscall::process_kill(spinner);
    handle_close(spinner)?;
    Ok(check(
        "bad shared mappings are refused",
        over_shared == Err(Error::BadAddress)
            && over_own == Err(Error::BadAddress)
            && map_over == Err(Error::BadAddress)
            && unaligned == Err(Error::InvalidArgument)
            && exec == Err(Error::InvalidArgument)
            && none == Err(Error::InvalidArgument)
            && kernel_half == Err(Error::BadAddress)
            && writable_denied == Err(Error::AccessDenied)
            && native == Err(Error::WrongType)
            && not_memory == Err(Error::WrongType),
        &format!(
            "(over a mapping {over_shared:?}, over own pages {over_own:?}, process_map over it {map_over:?}, unaligned {unaligned:?}, executable {exec:?}, PROT_NONE {none:?}, kernel half {kernel_half:?}, writable without WRITE {writable_denied:?}, a native process {native:?}, not memory {not_memory:?})"
        ),
    ))
}
