//! The guest half of `abide fuzz`: runs `hostile` in several processes at
//! once and checks the kernel gave back all the memory they took.
//!
//! Started by the kernel (`init=fuzz`), it reads its orders from the
//! command line, `fuzz=calls:N,seed:S,procs:P,attacks:a+b` (all optional),
//! and:
//! 1. runs a short warm-up round (so caches and tables the kernel keeps
//!    for good have grown before anything is measured — among them the
//!    run queue, which each round fills to its peak, see `release`);
//! 2. notes `memory_stats`;
//! 3. starts P `hostile` processes, then writes each its orders (`id`, the
//!    seed, N/P calls, the attacks) on the channel it was given, and waits
//!    for each to end;
//! 4. once they have ended and their handles are closed, notes
//!    `memory_stats` again: free memory (free frames plus what the kernel
//!    heap holds free) must be exactly what it was, so no byte of the heap
//!    stays in use.
//!
//! It prints one `fuzz: result ...` line the host tool reads (calls, time,
//! failures, free memory and kernel heap before and after) and exits 0
//! only if every hostile process exited 0 and nothing leaked.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::{MemoryStats, ProcessState, Signals};
use abide_abi::syscall::{Error, Handle};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall;

abide_rt::entry!(main);

/// How long one hostile process may take per call before it counts as
/// hung (TCG on a loaded machine is slow; a hang is forever).
const NS_PER_CALL: u64 = 2_000_000;
/// And at least this long.
const MIN_WAIT_NS: u64 = 120_000_000_000;
/// Calls of each process in the warm-up round.
const WARM_UP_CALLS: u64 = 500;

struct Orders {
    calls: u64,
    seed: u64,
    procs: u64,
    attacks: String,
}

fn number(value: &str) -> Option<u64> {
    match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => value.parse().ok(),
    }
}

impl Orders {
    fn from_boot_args() -> Result<Orders, String> {
        let mut orders = Orders {
            calls: 100_000,
            seed: 1,
            procs: 4,
            attacks: String::new(),
        };
        let Some(text) = syscall::boot_arg("fuzz") else {
            return Ok(orders);
        };
        for item in text.split(',').filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once(':')
                .ok_or_else(|| format!("bad item {item:?}"))?;
            let bad = || format!("bad value in {item:?}");
            match key {
                "calls" => orders.calls = number(value).ok_or_else(bad)?,
                "seed" => orders.seed = number(value).ok_or_else(bad)?,
                "procs" => {
                    orders.procs = number(value)
                        .filter(|p| (1..=64).contains(p))
                        .ok_or_else(bad)?
                }
                "attacks" => orders.attacks = value.replace('+', ","),
                _ => return Err(format!("unknown key {key:?}")),
            }
        }
        Ok(orders)
    }
}

/// How one round went.
struct Round {
    failures: Vec<String>,
}

/// Lets the hostile processes start, with the run queue at its peak.
///
/// The kernel's run queue keeps the capacity it grew to (a `VecDeque` per
/// priority), so the most threads ever ready at once is heap the kernel
/// holds for good. In a round that is every hostile process and `fuzz`:
/// each hostile waits for its orders, which come only after all were
/// spawned, so now they are all ready and none has ended; yielding queues
/// `fuzz` behind them. Left to chance (a timer tick preempting `fuzz`
/// before it blocks), the warm-up round sometimes missed that peak and the
/// main round reached it, and its 32 bytes (a level's capacity growing
/// from 4 to 8 ids) counted as a leak.
fn release() {
    syscall::yield_now();
}

/// Runs `procs` hostile processes of `calls` calls each and waits for all.
///
/// Every round passes through the same peak of the scheduler's run queue:
/// all its hostile processes and `fuzz` ready at once (see [`release`]).
fn round(orders: &Orders, calls: u64, seed: u64) -> Result<Round, Error> {
    let mut children: Vec<Handle> = Vec::new();
    let mut channels: Vec<Handle> = Vec::new();
    for _ in 0..orders.procs {
        let (ours, theirs) = syscall::channel_create()?;
        channels.push(ours);
        children.push(syscall::process_spawn("hostile", &[theirs])?);
    }
    for (id, ours) in channels.into_iter().enumerate() {
        let text = format!(
            "id={id} seed={seed:#x} calls={calls} attacks={}",
            orders.attacks
        );
        syscall::channel_write(ours, text.as_bytes(), &[])?;
        syscall::handle_close(ours)?;
    }
    release();
    let waiter = Waiter::new()?;
    let deadline = after_ns((calls.saturating_mul(NS_PER_CALL)).max(MIN_WAIT_NS));
    let mut failures = Vec::new();
    for (id, child) in children.iter().enumerate() {
        let signals = waiter.wait(*child, Signals::TERMINATED, deadline);
        if !matches!(signals, Ok(s) if s.intersects(Signals::TERMINATED)) {
            failures.push(format!("hostile {id} hung (did not end in time)"));
            let _ = syscall::process_kill(*child);
            continue;
        }
        let status = syscall::process_status(*child)?;
        match status.state {
            ProcessState::Exited if status.code == 0 => {}
            ProcessState::Exited => {
                failures.push(format!("hostile {id} exited with status {}", status.code))
            }
            state => failures.push(format!(
                "hostile {id} ended {state:?}: vector {} at {:#x}, rip {:#x}",
                status.vector, status.address, status.rip
            )),
        }
    }
    drop(waiter);
    for child in children {
        syscall::handle_close(child)?;
    }
    Ok(Round { failures })
}

fn main() -> i32 {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let orders = match Orders::from_boot_args() {
        Ok(orders) => orders,
        Err(why) => {
            println!("fuzz: {why}");
            return 2;
        }
    };
    match run(&orders) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(error) => {
            println!("fuzz: a system call failed: {error}");
            1
        }
    }
}

fn run(orders: &Orders) -> Result<bool, Error> {
    let per_process = orders.calls.div_ceil(orders.procs);
    println!(
        "fuzz: seed {:#x}, {} calls in {} processes, attacks random{}{}",
        orders.seed,
        per_process * orders.procs,
        orders.procs,
        if orders.attacks.is_empty() { "" } else { "," },
        orders.attacks
    );
    let warm = round(orders, WARM_UP_CALLS, orders.seed ^ 0x5741_524d)?;
    if !warm.failures.is_empty() {
        for failure in &warm.failures {
            println!("fuzz: warm-up: {failure}");
        }
    }
    let before = syscall::memory_stats()?;
    let start = syscall::clock_ns();
    let main = round(orders, per_process, orders.seed)?;
    let elapsed = syscall::clock_ns().saturating_sub(start);
    let after = syscall::memory_stats()?;
    for failure in warm.failures.iter().chain(&main.failures) {
        println!("fuzz: FAILED: {failure}");
    }
    // Free memory: free frames, and what the kernel heap holds free. The
    // heap keeps the frames it grew by (it does not give them back), so a
    // burst of kernel allocations moves frames into the heap for good;
    // they are free there, for any later kernel allocation. A leak is
    // memory in neither.
    let free = |stats: &MemoryStats| {
        stats.free_bytes as i64 + stats.heap_bytes as i64 - stats.heap_used_bytes as i64
    };
    let leaked_free = free(&before) - free(&after);
    let leaked_heap = after.heap_used_bytes as i64 - before.heap_used_bytes as i64;
    println!(
        "fuzz: result calls={} procs={} elapsed_ns={elapsed} failures={} free_before={} free_after={} heap_before={} heap_after={} heap_claimed_before={} heap_claimed_after={}",
        per_process * orders.procs,
        orders.procs,
        warm.failures.len() + main.failures.len(),
        before.free_bytes,
        after.free_bytes,
        before.heap_used_bytes,
        after.heap_used_bytes,
        before.heap_bytes,
        after.heap_bytes
    );
    let clean = warm.failures.is_empty() && main.failures.is_empty();
    // Exact: a table whose capacity stays grows in the warm-up round,
    // which reaches every peak the main round can (see `release`).
    if leaked_free != 0 || leaked_heap != 0 {
        println!(
            "fuzz: LEAKED {leaked_free} bytes of free memory (frames and heap), {leaked_heap} bytes of kernel heap"
        );
        return Ok(false);
    }
    Ok(clean)
}
