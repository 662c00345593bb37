//! The benchmarks, and the runner that prints their report.

use alloc::vec::Vec;
use core::slice;
use core::sync::atomic::{AtomicU64, Ordering};

use abide_abi::object::{ProcessState, ProcessStatus, Signals, MAP_WRITE};
use abide_abi::syscall::{Handle, Rights};
use abide_benchfmt::{self as report, Record, Summary};
use abide_rt::println;
use abide_rt::syscall::{
    channel_create, channel_write, clock_ns, handle_close, handle_duplicate, memory_create,
    memory_map, memory_stats, port_create, process_kill, process_spawn, process_status, yield_now,
};

use crate::protocol::{
    call, message, receive, wait_for, Failure, Mode, KEY_PROCESS, NOP, PEER, SHARED_BYTES,
    YIELD_PAGE_BYTES, YIELD_STOP, YIELD_TURNS,
};
use crate::tsc::{self, elapsed};

/// A benchmark: fills one sample list per name it reports.
type Benchmark = fn(&Context, &mut [Samples]) -> Result<(), Failure>;

/// The suite, in the order of `report::NAMES`. Spawning is timed twice in one
/// loop: the call alone, and until the child's end is seen.
const SUITE: &[(&[&str], Benchmark)] = &[
    (&[report::TSC_READ], tsc_read),
    (&[report::NULL_SYSCALL], null_syscall),
    (&[report::CHANNEL_ROUND_TRIP], channel_round_trip),
    (&[report::CONTEXT_SWITCH], context_switch),
    (
        &[report::PROCESS_SPAWN_CALL, report::PROCESS_SPAWN],
        process_spawn_and_exit,
    ),
    (&[report::SHARED_MEMORY_1MIB], shared_memory),
];

/// What every benchmark gets.
struct Context {
    /// The port every wait goes through (one wait at a time).
    port: Handle,
    /// Loop rounds: the warm-up, then the measured iterations.
    rounds: u32,
}

/// The samples of one benchmark; the first `warmup` pushed are dropped
/// (cold caches and TLBs, first page touches).
struct Samples {
    warmup: u32,
    pushed: u32,
    cycles: Vec<u64>,
}

impl Samples {
    fn new(warmup: u32, iterations: u32) -> Samples {
        Samples {
            warmup,
            pushed: 0,
            cycles: Vec::with_capacity(iterations as usize),
        }
    }

    fn push(&mut self, cycles: u64) {
        if self.pushed >= self.warmup {
            self.cycles.push(cycles);
        }
        self.pushed = self.pushed.saturating_add(1);
    }
}

/// Runs every benchmark with `iterations` measured iterations each and
/// prints the report. Returns the exit status: 0, or 1 if any failed.
///
/// Call it first thing: its first action is to read the TSC for the
/// `bench: start` line (with `init=bench` this program is the first user
/// program, and the runtime runs only a few instructions before `main`).
pub fn run(iterations: u32) -> i32 {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let entry = tsc::now();
    println!(
        "{}",
        Record::Start {
            entry,
            now: tsc::now()
        }
    );
    let port = match port_create() {
        Ok(port) => port,
        Err(error) => {
            let failure = Failure::Call("port_create", error);
            report::NAMES
                .iter()
                .for_each(|name| print_failed(name, &failure));
            println!("{}", Record::Done);
            return 1;
        }
    };
    if let Some(hz) = tsc::rate_hz() {
        println!("{}", Record::Tsc { hz });
    }
    print_memory();
    let warmup = report::warmup(iterations);
    let context = Context {
        port,
        rounds: warmup.saturating_add(iterations),
    };
    let mut status = 0;
    for (names, benchmark) in SUITE {
        let mut samples: Vec<Samples> = names
            .iter()
            .map(|_| Samples::new(warmup, iterations))
            .collect();
        let outcome = benchmark(&context, &mut samples);
        for (name, samples) in names.iter().zip(&mut samples) {
            let outcome = outcome.and_then(|()| {
                Summary::of(&mut samples.cycles).ok_or(Failure::Unexpected("no-samples"))
            });
            match outcome {
                Ok(summary) => println!("{}", Record::Result { name, summary }),
                Err(failure) => {
                    status = 1;
                    print_failed(name, &failure);
                }
            }
        }
    }
    println!("{}", Record::Done);
    status
}

/// Prints the memory the system holds now, right after boot, as `value`
/// lines; nothing if the call fails (the host then names the missing
/// figure).
fn print_memory() {
    if let Ok(stats) = memory_stats() {
        for (name, bytes) in [
            (report::MEMORY_USABLE_KIB, stats.usable_bytes),
            (report::MEMORY_FREE_KIB, stats.free_bytes),
        ] {
            let value = bytes / 1024;
            println!("{}", Record::Value { name, value });
        }
    }
}

/// Prints the `bench: failed` line of benchmark `name`.
fn print_failed(name: &str, failure: &Failure) {
    let reason = alloc::format!("{failure}");
    println!(
        "{}",
        Record::Failed {
            name,
            reason: &reason
        }
    );
}

/// Two TSC reads with nothing between: what every other figure includes.
fn tsc_read(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    for _ in 0..context.rounds {
        let start = tsc::now();
        let end = tsc::now();
        samples.push(elapsed(start, end));
    }
    Ok(())
}

/// The cheapest system call: `clock`, which takes no arguments, looks up no
/// handle and cannot fail.
fn null_syscall(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    for _ in 0..context.rounds {
        let start = tsc::now();
        let _ = clock_ns();
        let end = tsc::now();
        samples.push(elapsed(start, end));
    }
    Ok(())
}

/// An 8-byte message to an echoing peer and its answer back: write, then
/// read; when nothing is there yet, bind the port and wait.
fn channel_round_trip(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    with_peer(context, Mode::Echo, None, |channel| {
        for round in 0..context.rounds {
            let sent = u64::from(round).to_le_bytes();
            let mut answer = [0u8; 8];
            let start = tsc::now();
            channel_write(channel, &sent, &[]).map_err(call("channel_write"))?;
            let info = receive(channel, context.port, &mut answer)?;
            let end = tsc::now();
            let info = info.ok_or(Failure::Unexpected("peer-closed"))?;
            if message(&answer, &info)? != sent {
                return Err(Failure::Unexpected("wrong-echo"));
            }
            samples.push(elapsed(start, end));
        }
        Ok(())
    })
}

/// Two processes alternating with `yield`: a round (ours, the peer's, back to
/// us) is two switches, so each sample is half a round. The peer counts its
/// turns in a shared page, which proves it ran between our yields.
fn context_switch(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    let (page, peer_page) = shared_memory_object(YIELD_PAGE_BYTES, Rights::WRITE)?;
    // SAFETY: the mapping is page-aligned, at least 16 bytes long, and stays
    // for the life of the process; both processes only ever access these two
    // words atomically.
    let words: &[AtomicU64; 2] = unsafe { &*page.cast::<[AtomicU64; 2]>() };
    let (stop, turns) = (&words[YIELD_STOP], &words[YIELD_TURNS]);
    with_peer(context, Mode::Yield, Some(peer_page), |_channel| {
        let result = alternate(context, samples, turns);
        stop.store(1, Ordering::Relaxed);
        result
    })
}

/// The measuring loop of [`context_switch`]: `turns` is the peer's count.
fn alternate(context: &Context, samples: &mut Samples, turns: &AtomicU64) -> Result<(), Failure> {
    // The peer must be in its loop before we measure.
    let give_up = clock_ns().saturating_add(10_000_000_000);
    while turns.load(Ordering::Relaxed) == 0 {
        if clock_ns() > give_up {
            return Err(Failure::Unexpected("peer-never-ran"));
        }
        yield_now();
    }
    let turns_before = turns.load(Ordering::Relaxed);
    for _ in 0..context.rounds {
        let start = tsc::now();
        yield_now();
        let end = tsc::now();
        samples.push(elapsed(start, end) / 2);
    }
    // With round robin and the peer always ready, every yield switches to
    // it. Its count still misses some: a timer tick taken while the peer is
    // between its yield and its count (ticks that fire in the kernel are
    // taken on the return to user mode) sends us back before it counts, and
    // it finishes that turn on our next yield. Yields that did not switch at
    // all would leave the count far behind instead.
    let peer_turns = turns.load(Ordering::Relaxed).wrapping_sub(turns_before);
    if peer_turns < u64::from(context.rounds / 2) {
        return Err(Failure::Unexpected("peer-did-not-run-between-yields"));
    }
    Ok(())
}

/// Spawns `nop` (which exits at once) and waits for its end, timing the
/// spawn call alone into `samples[0]` and spawn to end into `samples[1]`.
fn process_spawn_and_exit(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [call_samples, total_samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    for _ in 0..context.rounds {
        let start = tsc::now();
        let child = process_spawn(NOP, &[]).map_err(call("process_spawn"))?;
        let spawned = tsc::now();
        let ended = wait_for(context.port, child, KEY_PROCESS, Signals::TERMINATED);
        let end = tsc::now();
        let status = process_status(child).map_err(call("process_status"));
        handle_close(child).map_err(call("handle_close"))?;
        ended?;
        check_exit(NOP, status?)?;
        call_samples.push(elapsed(start, spawned));
        total_samples.push(elapsed(start, end));
    }
    Ok(())
}

/// 1 MiB through shared memory: we write all of it (a new value each round),
/// send an 8-byte message, and the peer reads all of it and answers with the
/// sum, which we check.
fn shared_memory(context: &Context, samples: &mut [Samples]) -> Result<(), Failure> {
    let [samples] = samples else {
        return Err(Failure::Unexpected("sample-lists"));
    };
    let (base, peer_memory) = shared_memory_object(SHARED_BYTES, Rights::NONE)?;
    let words = SHARED_BYTES / 8;
    with_peer(context, Mode::Sum, Some(peer_memory), |channel| {
        for round in 0..context.rounds {
            let value = u64::from(round) + 1;
            let mut answer = [0u8; 8];
            let start = tsc::now();
            {
                // SAFETY: the mapping is SHARED_BYTES long, page-aligned and
                // stays for the life of the process. The peer reads it only
                // between our message and its answer, and this slice ends
                // before the message is sent; the system calls in between
                // order the accesses.
                let memory = unsafe { slice::from_raw_parts_mut(base.cast::<u64>(), words) };
                memory.fill(value);
            }
            channel_write(channel, &value.to_le_bytes(), &[]).map_err(call("channel_write"))?;
            let info = receive(channel, context.port, &mut answer)?;
            let end = tsc::now();
            let info = info.ok_or(Failure::Unexpected("peer-closed"))?;
            let expected = value.wrapping_mul(words as u64).to_le_bytes();
            if message(&answer, &info)? != expected {
                return Err(Failure::Unexpected("wrong-sum"));
            }
            samples.push(elapsed(start, end));
        }
        Ok(())
    })
}

/// A new memory object of `bytes`, mapped writable here, and a handle to it
/// for the peer with `READ`, `MAP` and `extra` rights (and `TRANSFER`, so it
/// can be passed at spawn). Our own handle stays open for the life of the
/// process, like the mapping.
fn shared_memory_object(bytes: usize, extra: Rights) -> Result<(*mut u8, Handle), Failure> {
    let memory = memory_create(bytes as u64).map_err(call("memory_create"))?;
    let mapped = memory_map(memory, MAP_WRITE).map_err(call("memory_map"))?;
    let rights = Rights::READ
        .union(Rights::MAP)
        .union(Rights::TRANSFER)
        .union(extra);
    let for_peer = handle_duplicate(memory, rights).map_err(call("handle_duplicate"))?;
    Ok((mapped, for_peer))
}

/// Spawns a `bench-peer` in `mode` (with `memory` as its second startup
/// handle), runs `body` with our end of its channel, then closes the channel
/// and waits for the peer's end. If `body` fails the peer is killed.
fn with_peer(
    context: &Context,
    mode: Mode,
    memory: Option<Handle>,
    body: impl FnOnce(Handle) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let (channel, peer_channel) = channel_create().map_err(call("channel_create"))?;
    let handles = [peer_channel, memory.unwrap_or(Handle(0))];
    let count = if memory.is_some() { 2 } else { 1 };
    let peer = match process_spawn(PEER, &handles[..count]) {
        Ok(peer) => peer,
        Err(error) => {
            for handle in handles[..count].iter().chain([&channel]) {
                let _ = handle_close(*handle);
            }
            return Err(Failure::Call("process_spawn", error));
        }
    };
    let result = channel_write(channel, &[mode as u8], &[])
        .map_err(call("channel_write"))
        .and_then(|()| body(channel));
    if result.is_err() {
        let _ = process_kill(peer);
    }
    // An echo or sum peer ends when it sees the channel closed.
    let closed = handle_close(channel).map_err(call("handle_close"));
    let ended = wait_for(context.port, peer, KEY_PROCESS, Signals::TERMINATED);
    let status = process_status(peer).map_err(call("process_status"));
    let _ = handle_close(peer);
    result?;
    closed?;
    ended?;
    check_exit(PEER, status?)
}

/// Ok if `program` exited with status 0.
fn check_exit(program: &'static str, status: ProcessStatus) -> Result<(), Failure> {
    match (status.state, status.code) {
        (ProcessState::Exited, 0) => Ok(()),
        (state, code) => Err(Failure::ChildEnded(program, state, code)),
    }
}
