//! The overhead of periodic checkpoints on a workload that computes and
//! sends messages.
//!
//! One operation: a round of arithmetic over a 16 KiB working set (four
//! pages, dirtied every time), then an 8-byte message to a `bench-peer`
//! process (spawned persistent, in echo mode) and its answer, which must be
//! the same bytes. The workload runs rounds of windows, one window under
//! each checkpoint period of [`PERIODS_MS`] and back, in the order 0, 1 s,
//! 100 ms, 100 ms, 1 s, 0. After each window it reports, under names of the
//! window's period, the operations, the time they took, the checkpoints
//! committed meanwhile and the last one's pause and write-out; the host
//! takes the medians. Between windows, out of the measured time, the
//! period goes back to 0 and `persist_sync` waits for any write-out.

use alloc::boxed::Box;

use abide_abi::object::{SpawnOptions, SPAWN_PERSISTENT};
use abide_abi::syscall::Handle;
use abide_benchfmt::persist::{
    CHECKPOINTS, ELAPSED_NS, OPS, PERIODS_MS, PERIOD_PAUSE_NS, PERIOD_WRITE_NS,
};
use abide_benchfmt::Record;
use abide_rt::println;
use abide_rt::syscall::{
    self, channel_create, channel_write, persist_set_period, persist_snapshot, persist_sync,
    port_create, process_spawn_with,
};
use bench::protocol::{call, message, receive, Failure, Mode, PEER};

use crate::{value, wait_for_init};

/// Words of the working set: 16 KiB.
const WORDS: usize = 2048;
/// The order of the windows of a round, as indices into [`PERIODS_MS`].
const ORDER: [usize; 6] = [0, 1, 2, 2, 1, 0];
/// Unmeasured operations first (code and pages warm), for this long.
const WARMUP_NS: u64 = 300_000_000;

/// The workload's state: the working set, the channel to the peer, a port.
struct Workload {
    words: Box<[u64; WORDS]>,
    state: u64,
    channel: Handle,
    port: Handle,
}

/// The peer's memory limit, in pages: its image, stack and heap.
const PEER_PAGES: u64 = 512;

impl Workload {
    /// Spawns the peer and tells it to echo.
    fn start() -> Result<Workload, Failure> {
        let (channel, peer_end) = channel_create().map_err(call("channel_create"))?;
        // The peer's budget comes out of this component's: a small one
        // (the default would be all that is left).
        let options = SpawnOptions {
            flags: SPAWN_PERSISTENT,
            memory_pages: PEER_PAGES,
            ..SpawnOptions::default()
        };
        process_spawn_with(PEER, &[peer_end], &options).map_err(call("process_spawn"))?;
        channel_write(channel, &[Mode::Echo as u8], &[]).map_err(call("channel_write"))?;
        Ok(Workload {
            words: Box::new([0; WORDS]),
            state: 0x2545_f491_4f6c_dd1d,
            channel,
            port: port_create().map_err(call("port_create"))?,
        })
    }

    /// One operation: compute, send, receive, check.
    fn operation(&mut self) -> Result<(), Failure> {
        let mut x = self.state;
        for word in self.words.iter_mut() {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *word = word.wrapping_add(x);
        }
        self.state = x;
        let sent = self.words[(x as usize) % WORDS].to_le_bytes();
        channel_write(self.channel, &sent, &[]).map_err(call("channel_write"))?;
        let mut answer = [0u8; 8];
        let info = receive(self.channel, self.port, &mut answer)?
            .ok_or(Failure::Unexpected("peer-closed"))?;
        if message(&answer, &info)? != sent {
            return Err(Failure::Unexpected("wrong-echo"));
        }
        Ok(())
    }

    /// Runs operations for `window_ns`; their count and the time taken.
    fn run_for(&mut self, window_ns: u64) -> Result<(u64, u64), Failure> {
        let began = syscall::clock_ns();
        let mut ops = 0;
        loop {
            self.operation()?;
            ops += 1;
            let elapsed = syscall::clock_ns().saturating_sub(began);
            if elapsed >= window_ns {
                return Ok((ops, elapsed));
            }
        }
    }
}

/// The workload under each period; the figures; the period back to 0.
pub fn overhead(hardware: Handle, window_ms: u32, rounds: u32) -> Result<(), Failure> {
    wait_for_init()?;
    persist_set_period(hardware, 0).map_err(call("persist_set_period"))?;
    let mut workload = Workload::start()?;
    workload.run_for(WARMUP_NS)?;
    // The first checkpoint of a boot writes every page; the windows
    // measure the steady state after it.
    persist_snapshot(hardware).map_err(call("persist_snapshot"))?;
    for index in (0..rounds.max(1)).flat_map(|_| ORDER) {
        persist_set_period(hardware, PERIODS_MS[index]).map_err(call("persist_set_period"))?;
        let before = syscall::persist_status().map_err(call("persist_status"))?;
        let (ops, ns) = workload.run_for(u64::from(window_ms) * 1_000_000)?;
        let after = syscall::persist_status().map_err(call("persist_status"))?;
        // No write-out of this window's may run on into the next one.
        persist_set_period(hardware, 0).map_err(call("persist_set_period"))?;
        persist_sync(hardware).map_err(call("persist_sync"))?;
        let checkpoints = after.checkpoints.saturating_sub(before.checkpoints);
        let last = |ns: u64| if checkpoints == 0 { 0 } else { ns };
        value(OPS[index], ops);
        value(ELAPSED_NS[index], ns);
        value(CHECKPOINTS[index], checkpoints);
        value(PERIOD_PAUSE_NS[index], last(after.last_pause_ns));
        value(PERIOD_WRITE_NS[index], last(after.last_write_ns));
    }
    println!("{}", Record::Done);
    Ok(())
}
