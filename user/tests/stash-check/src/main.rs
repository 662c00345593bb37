//! Checks two promises of the checkpoint engine across a power cut
//! (`tests/persist.rs`, `system/stash-check.conf`):
//!
//! - **A write through a mapping that no longer exists is kept.** The
//!   persistent instance (started by init) maps a memory object, writes
//!   [`OLD`] and syncs; a non-persistent child it spawns (this program
//!   again, given the object) writes [`NEW`] and exits; the parent reads
//!   `NEW` and syncs. After the power cut the object must still hold `NEW`,
//!   although the only page table that saw the write died with the child.
//! - **`sync` returns the generation that holds it.** Before that last sync
//!   a periodic checkpoint is left writing out (a large dirty set, a short
//!   period, then period 0), so the sync first finishes it. Resumed from
//!   the sync's generation, the program sees the call return that same
//!   generation, and two more syncs return exactly the committed one.
//! - **A page set mapped during a write-out is saved as it was at the
//!   pause.** A memory object created before that periodic checkpoint is
//!   mapped and written while its page still waits to be written out. The
//!   test resumes that periodic generation (by damaging the newest header
//!   of a copy of the store): the program, back in its dirtying loop, maps
//!   the object again and must find it still zero.
//!
//! Every line starts `stash-check:`; the test reads the figures from them.
#![no_std]
#![no_main]

use abide_abi::object::{ProcessState, Signals, MAP_WRITE};
use abide_abi::syscall::{Error, Handle, Rights};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::component::Component;
use abide_rt::syscall::{
    clock_ns, handle_duplicate, memory_create, memory_map, persist_set_period, persist_status,
    persist_sync, port_create, port_wait, process_spawn, process_status, FOREVER,
};

abide_rt::entry!(main);

/// What the persistent instance writes before the first sync.
const OLD: u64 = 0x01d0_01d0_01d0_01d0;
/// What the non-persistent child writes over it.
const NEW: u64 = 0x0e00_0e00_0e00_0e00;
/// The dirty set that keeps a periodic write-out busy (4 MiB).
const DIRTY_PAGES: usize = 1024;
const PAGE: usize = 4096;
/// The short checkpoint period while the dirty set is written.
const SHORT_PERIOD_MS: u64 = 20;
/// How long the dirty set is rewritten, well past the first period.
const DIRTYING_NS: u64 = 100_000_000;
/// What the program writes into a page it maps during the write-out.
const LATE: u64 = 0x1a7e_1a7e_1a7e_1a7e;

fn main() -> i32 {
    // Started by init it has a manifest; as the child its one startup
    // handle is the memory object.
    let result = match Component::get() {
        Ok(component) => parent(&component),
        Err(_) => child(),
    };
    match result {
        Ok(()) => 0,
        Err((what, error)) => {
            abide_rt::println!("stash-check: {what} failed: {error}");
            1
        }
    }
}

type Step<T> = Result<T, (&'static str, Error)>;

fn call(what: &'static str) -> impl FnOnce(Error) -> (&'static str, Error) {
    move |error| (what, error)
}

/// The non-persistent child: writes `NEW` into the object it was given.
fn child() -> Step<()> {
    let memory = abide_rt::startup_handle(0).ok_or(("startup_handle", Error::BadHandle))?;
    let base = memory_map(memory, MAP_WRITE).map_err(call("memory_map"))? as *mut u64;
    // SAFETY: the kernel mapped at least one writable page at `base`.
    unsafe { base.write_volatile(NEW) };
    Ok(())
}

/// The persistent instance: the whole sequence, then the check after a
/// resume.
fn parent(component: &Component) -> Step<()> {
    let hardware = component
        .device("hardware")
        .ok_or(("device hardware", Error::BadHandle))?;
    let stash = memory_create(PAGE as u64).map_err(call("memory_create"))?;
    let base = memory_map(stash, MAP_WRITE).map_err(call("memory_map"))? as *mut u64;
    // SAFETY: one writable page at `base`, for the life of the process.
    let read = || unsafe { base.read_volatile() };
    // SAFETY: as above.
    unsafe { base.write_volatile(OLD) };
    let first = persist_sync(hardware).map_err(call("persist_sync"))?;
    abide_rt::println!("stash-check: wrote {OLD:#x} and synced generation {first}");

    let given = handle_duplicate(stash, Rights::ALL).map_err(call("handle_duplicate"))?;
    let child = process_spawn("stash-check", &[given]).map_err(call("process_spawn"))?;
    let waiter = Waiter::new().map_err(call("port_create"))?;
    waiter
        .wait(child, Signals::TERMINATED, after_ns(60_000_000_000))
        .map_err(call("wait for the child"))?;
    let status = process_status(child).map_err(call("process_status"))?;
    if status.state != ProcessState::Exited || status.code != 0 {
        abide_rt::println!("stash-check: the child ended {status:?}");
        return Err(("the child", Error::InvalidArgument));
    }
    abide_rt::println!(
        "stash-check: the non-persistent child wrote {:#x} and ended",
        read()
    );

    leave_a_write_out_in_progress(hardware)?;
    let before = persist_status().map_err(call("persist_status"))?;
    let synced = persist_sync(hardware).map_err(call("persist_sync"))?;
    // A resume from the sync's own generation continues here, with the
    // result the checkpoint saved in the registers.
    let after = persist_status().map_err(call("persist_status"))?;
    if after.resumed_from == 0 {
        abide_rt::println!(
            "stash-check: synced generation {synced} after {} commits, committed {}; the stash holds {:#x}; cut the power",
            after.checkpoints - before.checkpoints,
            after.generation,
            read()
        );
    } else {
        abide_rt::println!(
            "stash-check: resumed from generation {}; the sync had returned {synced}; the stash holds {:#x}",
            after.resumed_from,
            read()
        );
        for _ in 0..2 {
            let returned = persist_sync(hardware).map_err(call("persist_sync"))?;
            let committed = persist_status().map_err(call("persist_status"))?.generation;
            abide_rt::println!("stash-check: sync returned {returned}, committed {committed}");
        }
        abide_rt::println!("stash-check: done");
    }
    // Stay, so that the test decides when the machine ends.
    let port = port_create().map_err(call("port_create"))?;
    loop {
        let _ = port_wait(port, FOREVER);
    }
}

/// Dirties [`DIRTY_PAGES`] pages under a short period until a periodic
/// checkpoint is writing them out, then sets the period to 0 (on demand
/// only) so that no checkpoint but the ones the calls take begins.
fn leave_a_write_out_in_progress(hardware: Handle) -> Step<()> {
    let bytes = (DIRTY_PAGES * PAGE) as u64;
    let memory = memory_create(bytes).map_err(call("memory_create"))?;
    let base = memory_map(memory, MAP_WRITE).map_err(call("memory_map"))?;
    // Created after the dirty set, so its page is the last one written out.
    let late = memory_create(PAGE as u64).map_err(call("memory_create"))?;
    persist_set_period(hardware, SHORT_PERIOD_MS).map_err(call("persist_set_period"))?;
    let until = clock_ns().saturating_add(DIRTYING_NS);
    let mut round = 0u64;
    while clock_ns() < until {
        round += 1;
        for page in 0..DIRTY_PAGES {
            // SAFETY: `DIRTY_PAGES` writable pages are mapped at `base`.
            unsafe { (base.add(page * PAGE) as *mut u64).write_volatile(round) };
        }
    }
    // The periodic checkpoint paused before this mapping, with the page
    // zero: whatever is written now belongs to the next generation.
    let late = memory_map(late, MAP_WRITE).map_err(call("memory_map"))? as *mut u64;
    // SAFETY: one writable page at `late`, for the life of the process.
    let found = unsafe { late.read_volatile() };
    // SAFETY: as above.
    unsafe { late.write_volatile(LATE) };
    abide_rt::println!("stash-check: a page mapped during the write-out held {found:#x}");
    persist_set_period(hardware, 0).map_err(call("persist_set_period"))
}
