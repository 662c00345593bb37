//! Confinement, seen from inside a component (`system/faults.conf`).
//!
//! The probe has a route to the console and nothing else; the
//! configuration gives it small quotas. It reports on the console:
//!
//! - `probe: no route to log` when the log service, which runs in the same
//!   system, is out of its reach: there is no `log` in its manifest, and a
//!   log request written to any other handle value is refused by the kernel
//!   (a handle is valid only in the table it was given to);
//! - `probe: no checkpoint capability` when the checkpoint engine refuses
//!   it: without `uses checkpoint from init` it holds no hardware resource,
//!   and `persist` `SYNC` and `SNAPSHOT` with every handle value fail with
//!   `BadHandle` (not in its table) or `WrongType` (the channels, ports and
//!   memory it holds) — never a checkpoint, and never `Unavailable`, which
//!   would tell it whether there is a store — while the public `STATUS`
//!   still answers;
//! - `probe: memory quota enforced` when creating memory stops with
//!   `NoMemory` at its configured page limit;
//! - `probe: handle quota enforced` when making handles stops with
//!   `NoMemory` at its configured handle limit.
//!
//! Anything else is reported as `probe: FAILED: …`. With the argument
//! `idle` the probe does nothing and waits forever: a harmless component
//! for supervision tests to crash.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::{HandleInfo, ObjectKind};
use abide_abi::syscall::{Error, Handle};
use abide_interfaces::{level, Console, Log};
use abide_rt::component::Component;
use abide_rt::ipc::Client;
use abide_rt::syscall;

abide_rt::async_entry!(main);

/// Handle values tried for a way to the log service.
const HANDLE_VALUES: u32 = 4096;
/// Stop creating objects after this many, quota or not.
const ENOUGH: usize = 100_000;

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    if component.args().iter().any(|arg| arg == "idle") {
        if let Ok(port) = syscall::port_create() {
            let _ = syscall::port_wait(port, syscall::FOREVER);
        }
        return 3;
    }
    let Some(console) = component.uses("console") else {
        return 2;
    };
    let console = Client::new(console);
    let own: Vec<Handle> = (0..=component.manifest().grants.len())
        .filter_map(|index| abide_rt::startup_handle(index as u32))
        .collect();
    let mut report = String::new();
    for check in [
        route_check(&component, &own),
        checkpoint_check(&component),
        memory_check(),
        handle_check(),
    ] {
        match check {
            Ok(line) => report.push_str(&format!("probe: {line}\n")),
            Err(line) => report.push_str(&format!("probe: FAILED: {line}\n")),
        }
    }
    let _ = console
        .call(
            |txid| Console::write::encode(txid, report.into_bytes()),
            Console::write::decode_reply,
        )
        .await;
    0
}

/// No route to `log`, and no handle value that leads anywhere new.
fn route_check(component: &Component, own: &[Handle]) -> Result<String, String> {
    if component.uses("log").is_some() {
        return Err("the manifest has a route to log".into());
    }
    let request = Log::write::encode(1, level::ERROR, "probe got through".into())
        .map_err(|error| format!("encode: {error}"))?;
    let mut refused = 0;
    for value in 0..HANDLE_VALUES {
        let handle = Handle(value);
        if own.contains(&handle) {
            continue;
        }
        // Not in the table, or not a channel: either way, refused.
        match syscall::channel_write(handle, &request, &[]) {
            Err(_) => refused += 1,
            Ok(()) => return Err(format!("handle {value} took a log request")),
        }
    }
    Ok(format!(
        "no route to log: not in the manifest, and {refused} other handle values refused"
    ))
}

/// No checkpoint without the capability: its table holds no hardware
/// resource, and `persist(SYNC)` and `persist(SNAPSHOT)` are refused with
/// every handle value: `BadHandle` for values not in its table,
/// `WrongType` (or `AccessDenied`) for the other objects it holds.
fn checkpoint_check(component: &Component) -> Result<String, String> {
    if component.device("checkpoint").is_some() {
        return Err("the manifest has a checkpoint device".into());
    }
    let mut table = [HandleInfo::default(); 64];
    let count = syscall::process_handles(abide_rt::process_self(), &mut table)
        .map_err(|error| format!("process_handles: {error:?}"))?;
    let held = table
        .get(..count)
        .ok_or_else(|| format!("{count} handles, more than {}", table.len()))?;
    if let Some(info) = held
        .iter()
        .find(|info| info.kind == ObjectKind::HardwareResource)
    {
        return Err(format!("handle {} is a hardware resource", info.handle));
    }
    let (mut bad_handle, mut refused_held) = (0u32, 0u32);
    for value in 0..HANDLE_VALUES {
        let in_table = held.iter().any(|info| info.handle == value);
        let handle = Handle(value);
        for (op, result) in [
            ("SYNC", syscall::persist_sync(handle)),
            ("SNAPSHOT", syscall::persist_snapshot(handle)),
        ] {
            match result {
                Err(Error::BadHandle) if !in_table => bad_handle += 1,
                Err(Error::WrongType | Error::AccessDenied) if in_table => refused_held += 1,
                other => return Err(format!("persist({op}) with handle {value}: {other:?}")),
            }
        }
    }
    syscall::persist_status().map_err(|error| format!("persist(STATUS): {error:?}"))?;
    Ok(format!(
        "no checkpoint capability: persist SYNC and SNAPSHOT refused \
         {bad_handle} times BadHandle, {refused_held} times for the {count} \
         handles it holds; STATUS answers"
    ))
}

/// Memory objects until the quota refuses even one page: 64 pages at a
/// time, then halving the size at each refusal (few handles, so the handle
/// quota does not say no first).
fn memory_check() -> Result<String, String> {
    let mut objects = Vec::with_capacity(256);
    let mut pages = 64u64;
    let outcome = loop {
        if objects.len() == ENOUGH {
            break Err(format!("{ENOUGH} objects and no refusal"));
        }
        match syscall::memory_create(pages * 4096) {
            Ok(memory) => objects.push(memory),
            Err(Error::NoMemory) if pages > 1 => pages /= 2,
            Err(Error::NoMemory) => break Ok(()),
            Err(error) => break Err(format!("memory_create: {error}")),
        }
    };
    // What the kernel counts at the refusal: the quota, to the page.
    let status = syscall::process_status(abide_rt::process_self());
    for memory in objects {
        let _ = syscall::handle_close(memory);
    }
    outcome?;
    let status = status.map_err(|error| format!("process_status: {error}"))?;
    if status.memory_pages != status.memory_limit {
        return Err(format!(
            "refused at {} pages, but the limit is {}",
            status.memory_pages, status.memory_limit
        ));
    }
    Ok(format!(
        "memory quota enforced: NoMemory at {} of {} pages",
        status.memory_pages, status.memory_limit
    ))
}

/// Ports until the handle table is full.
fn handle_check() -> Result<String, String> {
    let status = syscall::process_status(abide_rt::process_self())
        .map_err(|error| format!("process_status: {error}"))?;
    let mut ports = Vec::with_capacity(1024);
    let outcome = loop {
        if ports.len() == ENOUGH {
            break Err(format!("{ENOUGH} handles and no refusal"));
        }
        match syscall::port_create() {
            Ok(port) => ports.push(port),
            Err(Error::NoMemory) => break Ok(ports.len() as u32),
            Err(error) => break Err(format!("port_create: {error}")),
        }
    };
    for port in ports {
        let _ = syscall::handle_close(port);
    }
    let created = outcome?;
    Ok(format!(
        "handle quota enforced: NoMemory at {} handles",
        status.handles + created
    ))
}
