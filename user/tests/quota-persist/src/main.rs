//! Checks that a limited process's memory accounting survives a power cut
//! (`tests/quota.rs`, `system/quota-persist.conf`).
//!
//! The persistent instance (started by init with a limit of
//! `memory_pages` pages) creates a memory object of [`SHARED_PAGES`] pages,
//! queues [`MESSAGES`] messages that nobody reads (their bytes are kernel
//! memory charged to it) and starts a persistent child limited to
//! [`CHILD_PAGES`] pages (set aside from its own budget), giving it the
//! object, which the child maps and closes (the pages linger, charged to
//! the parent, until the child's mapping goes). It measures its charge at
//! each step, checks that a child needing one page more than it has left
//! is refused, syncs, and says so with the checkpoint period in force and
//! the generation it synced. The test cuts the power and boots the
//! store again. Resumed, the program checks that it is charged exactly as
//! before, that the same child is still refused (the first child's budget
//! and the messages still count), that reading the messages gives exactly
//! their charge back, that killing the child gives exactly its budget and
//! the lingering pages back, and that a child may then have everything
//! left.
//!
//! Every line starts `quota-persist:`; a failed check says `FAILED`.
#![no_std]
#![no_main]

use abide_abi::object::{ProcessState, Signals, SpawnOptions, MAP_WRITE, SPAWN_PERSISTENT};
use abide_abi::syscall::{Error, Handle};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::component::Component;
use abide_rt::syscall::{
    channel_create, channel_read, channel_write, handle_close, memory_create, memory_map,
    persist_status, persist_sync, port_create, port_wait, process_kill, process_spawn_with,
    process_status, FOREVER,
};
use abide_rt::{println, process_self, startup_handle};

abide_rt::entry!(main);

/// Messages queued and never read before the power cut.
const MESSAGES: usize = 16;
/// Bytes of each (with its record, about a page of kernel memory).
const MESSAGE_BYTES: usize = 4000;
/// The persistent child's limit, set aside from the parent's budget.
const CHILD_PAGES: u64 = 128;
/// The memory object the child maps and closes.
const SHARED_PAGES: u64 = 8;
const PAGE: u64 = 4096;
/// How long it waits for its child to map the object, or to end once
/// killed: generous under TCG on a loaded machine, and still well within
/// the test's boot timeout, so a hang is reported here, by the step.
const PATIENCE_NS: u64 = 120_000_000_000;

fn main() -> i32 {
    // Started by init it has a manifest; the child has no startup handles.
    match Component::get() {
        Ok(component) => match parent(&component) {
            Ok(()) => 0,
            Err((what, error)) => {
                println!("quota-persist: {what} failed: {error}");
                1
            }
        },
        Err(_) => {
            // The first child maps the object it was given, closes its
            // handle and says so; then, like the others, holds its budget.
            if let (Some(memory), Some(done)) = (startup_handle(0), startup_handle(1)) {
                let mapped = memory_map(memory, MAP_WRITE).is_ok();
                let closed = handle_close(memory).is_ok();
                let _ = channel_write(done, &[u8::from(mapped && closed)], &[]);
            }
            if let Ok(port) = port_create() {
                loop {
                    let _ = port_wait(port, FOREVER);
                }
            }
            1
        }
    }
}

type Step<T> = Result<T, (&'static str, Error)>;

fn call(what: &'static str) -> impl FnOnce(Error) -> (&'static str, Error) {
    move |error| (what, error)
}

/// Pages this process is charged now.
fn charged() -> Step<u64> {
    Ok(process_status(process_self())
        .map_err(call("process_status"))?
        .memory_pages)
}

fn check(name: &str, ok: bool, found: u64, expected: u64) -> bool {
    let verdict = if ok { "ok" } else { "FAILED" };
    println!("quota-persist: {name}: {verdict} (charged {found} pages, expected {expected})");
    ok
}

/// Starts this program as a child limited to `pages` pages, with
/// `handles` (moved to it).
fn spawn(pages: u64, flags: u8, handles: &[Handle]) -> Result<Handle, Error> {
    let options = SpawnOptions {
        memory_pages: pages,
        flags,
        ..SpawnOptions::default()
    };
    process_spawn_with("quota-persist", handles, &options)
}

/// Whether a child needing one page more than is left when `charged`
/// pages are charged is refused (one that starts is killed at once).
fn one_page_too_many(limit: u64, charged: u64) -> Step<bool> {
    let left = limit.saturating_sub(charged);
    match spawn(left + 1, 0, &[]) {
        Err(Error::NoMemory) => Ok(true),
        Ok(child) => {
            process_kill(child).map_err(call("process_kill"))?;
            Ok(false)
        }
        Err(error) => Err(("process_spawn_with", error)),
    }
}

/// The persistent instance: charges itself, syncs, and checks the charges
/// after a resume.
fn parent(component: &Component) -> Step<()> {
    let hardware = component
        .device("hardware")
        .ok_or(("device hardware", Error::BadHandle))?;
    let status = process_status(process_self()).map_err(call("process_status"))?;
    let limit = status.memory_limit;
    let (writer, reader) = channel_create().map_err(call("channel_create"))?;
    let alone = charged()?;
    let memory = memory_create(SHARED_PAGES * PAGE).map_err(call("memory_create"))?;
    let (done, done_child) = channel_create().map_err(call("channel_create"))?;
    let message = [0x5a_u8; MESSAGE_BYTES];
    for _ in 0..MESSAGES {
        channel_write(writer, &message, &[]).map_err(call("channel_write"))?;
    }
    let with_messages = charged()?;
    let child = spawn(CHILD_PAGES, SPAWN_PERSISTENT, &[memory, done_child])
        .map_err(call("process_spawn_with"))?;
    Waiter::new()
        .map_err(call("port_create"))?
        .wait(done, Signals::READABLE, after_ns(PATIENCE_NS))
        .map_err(call("wait for the child"))?;
    let mut mapped = [0u8; 1];
    channel_read(done, &mut mapped, &mut []).map_err(|(error, _)| ("channel_read", error))?;
    if mapped[0] != 1 {
        return Err(("the child's memory_map", Error::InvalidArgument));
    }
    let before = charged()?;
    let mut all = check(
        "the child's budget is set aside",
        with_messages >= alone + SHARED_PAGES && before == with_messages + CHILD_PAGES,
        before,
        with_messages + CHILD_PAGES,
    );
    all &= check(
        "a child beyond what is left is refused",
        one_page_too_many(limit, before)?,
        before,
        before,
    );
    // On demand only (the configuration's long period): the sync below is
    // the last generation before the test cuts the power.
    let period_ms = persist_status().map_err(call("persist_status"))?.period_ms;
    let synced = persist_sync(hardware).map_err(call("persist_sync"))?;
    // A resume from the sync's generation continues here.
    let resumed = persist_status()
        .map_err(call("persist_status"))?
        .resumed_from;
    if resumed == 0 {
        println!(
            "quota-persist: limit {limit}, charged {alone} pages alone, {with_messages} with {MESSAGES} messages queued, {before} with a child; checkpoint period {period_ms} ms; synced generation {synced}; cut the power"
        );
    } else {
        println!("quota-persist: resumed from generation {resumed}");
        let now = charged()?;
        all &= check(
            "charged as before the power cut",
            now == before,
            now,
            before,
        );
        // What was left before the cut, and not a page more: a child that
        // fits only if the first child's budget or the messages' charge
        // were lost is refused.
        all &= check(
            "after the restore a child beyond what is left is refused",
            one_page_too_many(limit, before)?,
            now,
            before,
        );
        let mut buffer = [0u8; MESSAGE_BYTES];
        let mut read = 0;
        while channel_read(reader, &mut buffer, &mut []).is_ok() {
            read += 1;
        }
        let drained = charged()?;
        all &= check(
            "reading the restored messages gives their charge back",
            read == MESSAGES && drained == alone + SHARED_PAGES + CHILD_PAGES,
            drained,
            alone + SHARED_PAGES + CHILD_PAGES,
        );
        process_kill(child).map_err(call("process_kill"))?;
        let waiter = Waiter::new().map_err(call("port_create"))?;
        waiter
            .wait(child, Signals::TERMINATED, after_ns(PATIENCE_NS))
            .map_err(call("wait for the child"))?;
        let state = process_status(child).map_err(call("process_status"))?.state;
        let ended = charged()?;
        all &= check(
            "killing the restored child gives its budget and the lingering pages back",
            state != ProcessState::Running && ended == alone,
            ended,
            alone,
        );
        let everything = spawn(limit - ended, 0, &[]);
        let got = everything.is_ok();
        if let Ok(child) = everything {
            process_kill(child).map_err(call("process_kill"))?;
        }
        all &= check("a child may then have everything left", got, ended, alone);
        if all {
            println!("quota-persist: all checks passed");
        } else {
            println!("quota-persist: some checks FAILED");
        }
    }
    // Stay, so that the test decides when the machine ends.
    let port = port_create().map_err(call("port_create"))?;
    loop {
        let _ = port_wait(port, FOREVER);
    }
}
