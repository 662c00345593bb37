//! Checks that a page another process wrote with `process_write` is saved
//! like a page its own program wrote (`tests/foreign_memory.rs`,
//! `system/fmem-persist.conf`).
//!
//! The persistent instance (started by init) spawns a persistent `spinner`,
//! maps a page into it with `process_map` and syncs, so the page is in the
//! store (zero) and not dirty; then it writes [`VALUE`] into it with
//! `process_write` and syncs again. Only the dirty bit `process_write`
//! sets tells that checkpoint the page changed. After the power cut the
//! resumed program reads the page back from the resumed child.
//!
//! It also maps a memory object into a persistent foreign process
//! (`process_map_memory`, at an address outside Abide's window for
//! memory objects, as a Linux `MAP_SHARED` mapping is) and clones that
//! process, then writes [`SHARED_VALUE`] through the first before the
//! second sync: after the power cut the clone must read it, and a write
//! through one must still be seen through the other (the pages are one
//! set again, not two copies).
//!
//! The foreign process also has a page of its own holding [`COW_VALUE`]
//! when it is cloned, so the clone shares it copy-on-write; the clone
//! writes [`CLONE_VALUE`] next to it before the second sync. After the
//! power cut (and before it) the clone must hold both and the first
//! process only the first, and a new write by the clone must stay its
//! own (each came back with a copy of its own).
//!
//! Every line starts `fmem-persist:`; the test reads them.
#![no_std]
#![no_main]

extern crate alloc;

use abide_abi::object::{SpawnOptions, SPAWN_PERSISTENT};
use abide_abi::syscall::Error;
use abide_abi::trap::{PROT_READ, PROT_WRITE};
use abide_rt::component::Component;
use abide_rt::syscall::{
    channel_create, handle_close, memory_create, persist_status, persist_sync, port_create,
    port_wait, process_clone, process_create, process_map, process_map_memory, process_read,
    process_spawn_with, process_write, set_spawn_authority, FOREVER,
};
use abide_rt::Handle;

abide_rt::entry!(main);

/// What goes into the child's page.
const VALUE: u64 = 0x5eed_f00d_5eed_f00d;
/// Where, in the child (far from its image and stack).
const AT: u64 = 0x10_0000_0000;
const PAGE: u64 = 4096;
/// What goes into the shared page of the foreign process.
const SHARED_VALUE: u64 = 0x0dd5_ca1e_0dd5_ca1e;
/// Where, in the foreign process and its clone.
const SHARED_AT: u64 = 0x7e00_0000_0000;
/// What the foreign process's own page at [`AT`] holds when it is cloned.
const COW_VALUE: u64 = 0x0c0f_fee0_0c0f_fee0;
/// What the clone writes next to it, into its copy-on-write page.
const CLONE_VALUE: u64 = 0x0c10_4e00_0c10_4e00;

type Step<T> = Result<T, (&'static str, Error)>;

fn call(what: &'static str) -> impl FnOnce(Error) -> (&'static str, Error) {
    move |error| (what, error)
}

fn main() -> i32 {
    match run() {
        Ok(()) => 0,
        Err((what, error)) => {
            abide_rt::println!("fmem-persist: {what} failed: {error}");
            1
        }
    }
}

fn run() -> Step<()> {
    let component = Component::get().map_err(call("Component::get"))?;
    let hardware = component
        .device("hardware")
        .ok_or(("device hardware", Error::BadHandle))?;
    set_spawn_authority(hardware);
    let options = SpawnOptions {
        flags: SPAWN_PERSISTENT,
        memory_pages: 256,
        handle_quota: 64,
        ..SpawnOptions::default()
    };
    let child = process_spawn_with("spinner", &[], &options).map_err(call("process_spawn"))?;
    process_map(child, AT, PAGE, PROT_READ | PROT_WRITE).map_err(call("process_map"))?;
    let (foreign, clone) = shared_pair(&options)?;
    persist_sync(hardware).map_err(call("persist_sync"))?;
    process_write(child, AT + 8, &VALUE.to_le_bytes()).map_err(call("process_write"))?;
    process_write(foreign, SHARED_AT + 8, &SHARED_VALUE.to_le_bytes())
        .map_err(call("process_write"))?;
    process_write(clone, AT + 16, &CLONE_VALUE.to_le_bytes()).map_err(call("process_write"))?;
    let synced = persist_sync(hardware).map_err(call("persist_sync"))?;
    // A resume from the sync's generation continues here.
    let status = persist_status().map_err(call("persist_status"))?;
    let mut bytes = [0u8; 8];
    process_read(child, AT + 8, &mut bytes).map_err(call("process_read"))?;
    let held = u64::from_le_bytes(bytes);
    process_read(clone, SHARED_AT + 8, &mut bytes).map_err(call("process_read"))?;
    let shared = u64::from_le_bytes(bytes);
    // A new write through the first process, read through the clone.
    let probe = held ^ status.resumed_from;
    process_write(foreign, SHARED_AT + 16, &probe.to_le_bytes()).map_err(call("process_write"))?;
    process_read(clone, SHARED_AT + 16, &mut bytes).map_err(call("process_read"))?;
    let still = if u64::from_le_bytes(bytes) == probe {
        "shared"
    } else {
        "NOT shared"
    };
    let private = private_pages(foreign, clone, probe)?;
    if status.resumed_from == 0 {
        abide_rt::println!(
            "fmem-persist: wrote {held:#x} into the child and synced generation {synced}; the clone sees {shared:#x}, {still}; {private}; cut the power"
        );
    } else {
        abide_rt::println!(
            "fmem-persist: resumed from generation {}; the child holds {held:#x}; the clone sees {shared:#x}, {still}; {private}",
            status.resumed_from
        );
    }
    // Stay, so that the test decides when the machine ends.
    let port = port_create().map_err(call("port_create"))?;
    loop {
        let _ = port_wait(port, FOREVER);
    }
}

/// A persistent foreign process with a memory object mapped at
/// [`SHARED_AT`] (its handle closed: the mappings hold the pages), and a
/// clone of it that shares the mapping.
fn shared_pair(options: &SpawnOptions) -> Step<(Handle, Handle)> {
    // The handler's end stays open for good: a trap channel needs a peer.
    let (trap_end, _handler_end) = channel_create().map_err(call("channel_create"))?;
    let foreign =
        process_create("fmem-foreign", trap_end, options).map_err(call("process_create"))?;
    process_map(foreign, AT, PAGE, PROT_READ | PROT_WRITE).map_err(call("process_map"))?;
    process_write(foreign, AT + 8, &COW_VALUE.to_le_bytes()).map_err(call("process_write"))?;
    let object = memory_create(PAGE).map_err(call("memory_create"))?;
    process_map_memory(foreign, object, SHARED_AT, PROT_READ | PROT_WRITE)
        .map_err(call("process_map_memory"))?;
    handle_close(object).map_err(call("handle_close"))?;
    let clone = process_clone(foreign, "fmem-clone", options).map_err(call("process_clone"))?;
    Ok((foreign, clone))
}

/// The copy-on-write page at [`AT`] of the foreign process and its clone:
/// what each holds, then whether a new write by the clone (`probe`)
/// stays its own.
fn private_pages(foreign: Handle, clone: Handle, probe: u64) -> Step<alloc::string::String> {
    let word = |process: Handle, at: u64| -> Step<u64> {
        let mut bytes = [0u8; 8];
        process_read(process, at, &mut bytes).map_err(call("process_read"))?;
        Ok(u64::from_le_bytes(bytes))
    };
    let held = [
        word(clone, AT + 8)?,
        word(clone, AT + 16)?,
        word(foreign, AT + 8)?,
        word(foreign, AT + 16)?,
    ];
    process_write(clone, AT + 24, &probe.to_le_bytes()).map_err(call("process_write"))?;
    let private = if word(foreign, AT + 24)? == 0 && word(clone, AT + 24)? == probe {
        "private"
    } else {
        "NOT private"
    };
    Ok(alloc::format!(
        "the clone's own page holds {:#x} {:#x}, the first's {:#x} {:#x}, {private}",
        held[0],
        held[1],
        held[2],
        held[3]
    ))
}
