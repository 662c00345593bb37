//! Attacks a memory limit every way a process can, and checks it holds
//! (`tests/quota.rs`, `cargo run -- --append "init=quota"`).
//!
//! Started by the kernel (the hardware resource is its startup handle 0),
//! it first checks that spawning needs the `SPAWN` right, then starts
//! itself again as a child limited to [`LIMIT`] pages for each attack: map
//! one object many times, map and close objects, flood port observers,
//! flood messages, create memory, spawn grandchildren, spawn without the
//! capability. Each child loops until the kernel says `NoMemory`, checks
//! its own `process_status` on the way, measures the machine's memory at
//! its peak and reports; the parent checks that the child never held more
//! than its limit, that the machine's memory grew by no more than the limit
//! (and a little for the kernel's records of the child), and, once every
//! child is killed, that free memory is back where it started.
//!
//! A child allocates nothing on its heap (the runtime's heap grows by
//! 256 KiB, more than the limit): its buffers are on the stack.
#![no_std]
#![no_main]

extern crate alloc;

use abide_abi::object::{
    MemoryStats, ProcessState, Signals, SpawnOptions, INHERIT_PRIORITY, MAP_WRITE,
};
use abide_rt::syscall::{
    self, channel_create, channel_read, channel_write, handle_close, handle_duplicate,
    memory_create, memory_map, memory_stats, port_bind, port_create, port_wait, process_kill,
    process_spawn, process_spawn_with, process_status, FOREVER,
};
use abide_rt::{println, process_self, startup_handle, Error, Handle, Rights};

abide_rt::entry!(main);

/// The memory limit of every attacking child, in pages.
const LIMIT: u64 = 64;
/// What the kernel's records of one child process may take beyond its
/// limit (handle table, object slots, heap rounding), in pages.
const SLACK_PAGES: u64 = 16;
const PAGE: u64 = 4096;

/// The attacks, by the byte a child receives first.
const ATTACKS: &[(u8, &str)] = &[
    (1, "memory_create loop"),
    (2, "map one object many times"),
    (3, "map and close objects"),
    (4, "port observer flood"),
    (5, "message flood"),
    (6, "spawn grandchildren"),
    (7, "spawn without the capability"),
];

/// A child's report: mode, NoMemory seen, the last error's code, the most
/// pages its status showed, the machine's memory in use at its peak, and
/// how many operations succeeded.
const REPORT_LEN: usize = 32;

fn main() -> i32 {
    let first = startup_handle(0).unwrap_or(Handle(0));
    let mut mode = [0u8; 1];
    match channel_read(first, &mut mode, &mut []) {
        // A child: its attack is the first message on its control channel.
        Ok(_) => {
            child(first, mode[0]);
            0
        }
        // The root: startup handle 0 is the hardware resource.
        Err(_) => match root(first) {
            Ok(true) => {
                println!("quota: all checks passed");
                0
            }
            Ok(false) => {
                println!("quota: some checks FAILED");
                1
            }
            Err(error) => {
                println!("quota: a system call failed: {error}");
                1
            }
        },
    }
}

/// Memory in use on the machine: frames taken, less the kernel heap's
/// unused part (the heap never gives frames back, so this is what returns
/// when everything is freed).
fn in_use(stats: &MemoryStats) -> u64 {
    stats
        .used_bytes()
        .saturating_sub(stats.heap_bytes.saturating_sub(stats.heap_used_bytes))
}

fn check(name: &str, ok: bool, detail: &str) -> bool {
    let verdict = if ok { "ok" } else { "FAILED" };
    println!("quota: {name}: {verdict} {detail}");
    ok
}

fn root(hardware: Handle) -> Result<bool, Error> {
    let mut all = true;
    // No authority at all, then a handle without the SPAWN right.
    let none = process_spawn("hello", &[]).map(|_| ());
    let read_only = handle_duplicate(hardware, Rights::READ.union(Rights::DUPLICATE))?;
    let without_right = process_spawn_with(
        "hello",
        &[],
        &SpawnOptions {
            authority: read_only.0,
            ..SpawnOptions::default()
        },
    )
    .map(|_| ());
    all &= check(
        "spawning needs the SPAWN right",
        none == Err(Error::BadHandle) && without_right == Err(Error::AccessDenied),
        &alloc::format!("(none: {none:?}; READ only: {without_right:?})"),
    );
    handle_close(read_only)?;
    syscall::set_spawn_authority(hardware);

    let port = port_create()?;
    // The first round also grows what the kernel keeps for good (the run
    // queue's and the root's own tables' capacity); the second must end
    // exactly where the first did.
    let before = in_use(&memory_stats()?);
    all &= round(hardware, port)?;
    let middle = in_use(&memory_stats()?);
    all &= round(hardware, port)?;
    let after = in_use(&memory_stats()?);
    all &= check(
        "free memory returns once the children are gone",
        after <= middle && middle.saturating_sub(before) <= 16 * PAGE,
        &alloc::format!(
            "(in use: {before} bytes at the start, {middle} after one round, {after} after two)"
        ),
    );
    Ok(all)
}

/// Every attack once, each by a child of its own, killed afterwards.
fn round(hardware: Handle, port: Handle) -> Result<bool, Error> {
    let mut all = true;
    let mut children = alloc::vec::Vec::with_capacity(ATTACKS.len());
    let start = in_use(&memory_stats()?);
    for &(mode, name) in ATTACKS {
        let (control, child_end) = channel_create()?;
        channel_write(control, &[mode], &[])?;
        let mut handles = alloc::vec![child_end];
        if mode == 6 {
            handles.push(handle_duplicate(
                hardware,
                Rights::SPAWN.union(Rights::TRANSFER),
            )?);
        }
        let options = SpawnOptions {
            priority: INHERIT_PRIORITY,
            memory_pages: LIMIT,
            handle_quota: 1024,
            ..SpawnOptions::default()
        };
        let child = process_spawn_with("quota", &handles, &options)?;
        port_bind(
            port,
            control,
            0,
            Signals::READABLE.union(Signals::PEER_CLOSED),
        )?;
        port_wait(port, FOREVER)?;
        let mut report = [0u8; REPORT_LEN];
        let got = channel_read(control, &mut report, &mut []);
        let status = process_status(child)?;
        let word = |at: usize| abide_le::u64_at(&report, at).unwrap_or(0);
        let (no_memory, code, max_pages, peak, done) =
            (report[1] == 1, report[2], word(8), word(16), word(24));
        let grown = peak.saturating_sub(start).div_ceil(PAGE);
        let ok = got.is_ok()
            && max_pages <= LIMIT
            && status.memory_pages <= LIMIT
            && grown <= LIMIT + SLACK_PAGES
            && match mode {
                6 => no_memory && done > GIVEN_BACK_ROUNDS,
                7 => code == Error::BadHandle as u8,
                _ => no_memory,
            };
        all &= check(
            name,
            ok,
            &alloc::format!(
                "({done} done, NoMemory {no_memory}, last error {code}, at most {max_pages} \
                 pages, now {} of {}, memory grew {grown} pages)",
                status.memory_pages,
                status.memory_limit
            ),
        );
        // It may have ended already (the report is all that counts).
        let _ = process_kill(child);
        children.push((child, control));
    }
    for (child, control) in children {
        port_bind(port, child, 1, Signals::TERMINATED)?;
        port_wait(port, FOREVER)?;
        handle_close(child)?;
        handle_close(control)?;
    }
    Ok(all)
}

/// What a child found.
struct Findings {
    no_memory: bool,
    last_error: u8,
    max_pages: u64,
    peak: u64,
    done: u64,
}

impl Findings {
    /// Notes the child's own status and the machine's memory now.
    fn observe(&mut self) {
        if let Ok(status) = process_status(process_self()) {
            self.max_pages = self.max_pages.max(status.memory_pages);
        }
        if let Ok(stats) = memory_stats() {
            self.peak = self.peak.max(in_use(&stats));
        }
    }

    /// Notes the outcome of one attempt; false once it failed.
    fn attempt<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => {
                self.done += 1;
                if self.done.is_multiple_of(64) {
                    self.observe();
                }
                Some(value)
            }
            Err(error) => {
                self.last_error = error as u8;
                self.no_memory |= error == Error::NoMemory;
                None
            }
        }
    }
}

fn child(control: Handle, mode: u8) {
    let mut findings = Findings {
        no_memory: false,
        last_error: 0,
        max_pages: 0,
        peak: 0,
        done: 0,
    };
    // Two pages set aside for the report: a message is charged to its
    // writer, and the attack leaves no room.
    let ballast = memory_create(2 * PAGE);
    findings.observe();
    attack(mode, &mut findings);
    findings.observe();
    if let Ok(ballast) = ballast {
        let _ = handle_close(ballast);
    }
    let mut report = [0u8; REPORT_LEN];
    report[0] = mode;
    report[1] = u8::from(findings.no_memory);
    report[2] = findings.last_error;
    abide_le::put_u64(&mut report, 8, findings.max_pages);
    abide_le::put_u64(&mut report, 16, findings.peak);
    abide_le::put_u64(&mut report, 24, findings.done);
    let _ = channel_write(control, &report, &[]);
    // Hold everything until the parent kills us.
    if let Ok(port) = port_create() {
        let _ = port_bind(port, control, 0, Signals::PEER_CLOSED);
        let _ = port_wait(port, FOREVER);
    }
}

fn attack(mode: u8, f: &mut Findings) {
    match mode {
        1 => {
            for _ in 0..10_000 {
                if f.attempt(memory_create(PAGE)).is_none() {
                    break;
                }
            }
        }
        2 => {
            let Some(memory) = f.attempt(memory_create(PAGE)) else {
                return;
            };
            for _ in 0..100_000 {
                if f.attempt(memory_map(memory, MAP_WRITE)).is_none() {
                    break;
                }
            }
        }
        3 => {
            for _ in 0..20_000 {
                let Some(memory) = f.attempt(memory_create(PAGE)) else {
                    break;
                };
                let mapped = f.attempt(memory_map(memory, MAP_WRITE));
                let _ = handle_close(memory);
                if mapped.is_none() {
                    break;
                }
            }
        }
        4 => observer_flood(f),
        5 => message_flood(f),
        6 => spawn_flood(f),
        7 => {
            // No authority set: the runtime passes none.
            let none = process_spawn("hello", &[]).map(|_| ());
            // A handle that is no hardware resource.
            let wrong = process_spawn_with(
                "hello",
                &[],
                &SpawnOptions {
                    authority: process_self().0,
                    ..SpawnOptions::default()
                },
            )
            .map(|_| ());
            if wrong != Err(Error::WrongType) {
                println!("quota: spawning with a process handle as authority: {wrong:?}");
                return;
            }
            let _ = f.attempt(none);
        }
        _ => {}
    }
}

/// Observers that outlive their port, then observers kept armed.
fn observer_flood(f: &mut Findings) {
    // Never readable: its peer never writes.
    let Some((watched, _peer)) = f.attempt(channel_create()) else {
        return;
    };
    for round in 0..2000u64 {
        let Some(port) = f.attempt(port_create()) else {
            return;
        };
        for key in 0..100 {
            if f.attempt(port_bind(
                port,
                watched,
                round * 100 + key,
                Signals::READABLE,
            ))
            .is_none()
            {
                let _ = handle_close(port);
                return;
            }
        }
        // Its observers must go with it.
        let _ = handle_close(port);
    }
    // Now keep them: the charge must stop this.
    for _ in 0..64 {
        let Some(port) = f.attempt(port_create()) else {
            return;
        };
        for key in 0..1000 {
            if f.attempt(port_bind(port, watched, key, Signals::READABLE))
                .is_none()
            {
                return;
            }
        }
    }
}

/// Fills one channel after another with 4 KiB messages nobody reads.
fn message_flood(f: &mut Findings) {
    let message = [0x5au8; 4096];
    for _ in 0..64 {
        let Some((writer, _reader)) = f.attempt(channel_create()) else {
            return;
        };
        loop {
            match channel_write(writer, &message, &[]) {
                Ok(()) => {
                    let _ = f.attempt(Ok(()));
                }
                // This channel's queue is full: on to the next.
                Err(Error::ShouldWait) => break,
                Err(error) => {
                    let _ = f.attempt::<()>(Err(error));
                    return;
                }
            }
        }
    }
}

/// Grandchildren spawned in turn in the spawn attack, each with all the
/// child has left: each must get its budget back.
const GIVEN_BACK_ROUNDS: u64 = 20;

/// Starts grandchildren that end (`nop`) one after another, then ones that
/// run on (`spinner`), each asking for all that is left, then one with an
/// explicit full limit, and ends them again.
fn spawn_flood(f: &mut Findings) {
    let Some(authority) = startup_handle(1) else {
        return;
    };
    syscall::set_spawn_authority(authority);
    // Budgets come back: twenty grandchildren in turn, each given all that
    // is left, each waited for (by polling: with nothing left, even a port
    // observer would not fit).
    for _ in 0..GIVEN_BACK_ROUNDS {
        let Some(process) = f.attempt(process_spawn("nop", &[])) else {
            return;
        };
        while process_status(process).is_ok_and(|status| status.state == ProcessState::Running) {
            syscall::yield_now();
        }
        let _ = handle_close(process);
    }
    let mut spawned = [Handle(0); 16];
    let mut count = 0;
    for slot in spawned.iter_mut() {
        match f.attempt(process_spawn("spinner", &[])) {
            Some(process) => {
                *slot = process;
                count += 1;
                f.observe();
            }
            None => break,
        }
    }
    // A grandchild with the whole limit: more than is left.
    let full = SpawnOptions {
        memory_pages: LIMIT,
        ..SpawnOptions::default()
    };
    if let Some(process) = f.attempt(process_spawn_with("spinner", &[], &full)) {
        let _ = process_kill(process);
    }
    f.observe();
    for process in &spawned[..count] {
        let _ = process_kill(*process);
    }
}
