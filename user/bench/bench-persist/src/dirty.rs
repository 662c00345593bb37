//! Dirty sets: a memory object of N MiB, every page of it written (with
//! data that differs from one round to the next and is never zero, which
//! a checkpoint would skip), then checkpointed.

use alloc::vec::Vec;
use core::slice;

use abide_abi::object::MAP_WRITE;
use abide_abi::syscall::Handle;
use abide_benchfmt::persist::{
    CALL_NS, FILLED_MIB, GENERATION, PAGES, PAUSE_NS, RESUMED, WRITE_NS,
};
use abide_benchfmt::Record;
use abide_rt::println;
use abide_rt::syscall::{self, memory_create, memory_map, persist_set_period, persist_snapshot};
use abide_splitmix::GAMMA;
use bench::protocol::{call, Failure};

use crate::{median, value, wait_for_init, wait_forever};

/// A new memory object of `mib` MiB, mapped writable, as words.
fn map(mib: u32) -> Result<&'static mut [u64], Failure> {
    let bytes = u64::from(mib) << 20;
    let memory = memory_create(bytes).map_err(call("memory_create"))?;
    let base = memory_map(memory, MAP_WRITE).map_err(call("memory_map"))?;
    // SAFETY: the mapping is `bytes` long, page-aligned, writable, stays
    // for the life of the process, and nothing else refers to it.
    Ok(unsafe { slice::from_raw_parts_mut(base.cast::<u64>(), bytes as usize / 8) })
}

/// Writes every word of `words`: round `round`'s pattern, never zero.
fn write(words: &mut [u64], round: u64) {
    for (index, word) in words.iter_mut().enumerate() {
        *word = ((index as u64).wrapping_mul(GAMMA) ^ (round << 56)) | 1;
    }
    // The kernel reads the memory; make sure the writes are not elided.
    core::hint::black_box(&*words);
}

/// `snapshots` rounds of "write all `mib` MiB, checkpoint"; the medians of
/// the pauses, write-outs, pages and call times; then the generation, and
/// a wait for the power cut. Run again after the restore (it returns from
/// its last `persist_snapshot`), it reports that and ends.
pub fn dirty(hardware: Handle, mib: u32, snapshots: u32) -> Result<(), Failure> {
    wait_for_init()?;
    // On demand only: no periodic checkpoint takes the dirty set first.
    persist_set_period(hardware, 0).map_err(call("persist_set_period"))?;
    let words = map(mib)?;
    let mut pauses = Vec::new();
    let mut writes = Vec::new();
    let mut pages = Vec::new();
    let mut calls = Vec::new();
    let mut generation = 0;
    for round in 1..=u64::from(snapshots.max(1)) {
        write(words, round);
        let began = syscall::clock_ns();
        generation = persist_snapshot(hardware).map_err(call("persist_snapshot"))?;
        let took = syscall::clock_ns().saturating_sub(began);
        let status = syscall::persist_status().map_err(call("persist_status"))?;
        if status.resumed_from == generation {
            // The power was cut after this checkpoint: this is the restored
            // system, resumed where the checkpoint caught it.
            value(RESUMED, generation);
            println!("{}", Record::Done);
            return Ok(());
        }
        pauses.push(status.last_pause_ns);
        writes.push(status.last_write_ns);
        pages.push(status.last_pages_written);
        calls.push(took);
    }
    value(PAUSE_NS, median(pauses));
    value(WRITE_NS, median(writes));
    value(PAGES, median(pages));
    value(CALL_NS, median(calls));
    value(GENERATION, generation);
    wait_forever()
}

/// Writes `mib` MiB once, says so and waits: QEMU's `savevm` of the guest
/// with this much memory dirty. (The machine has no store then.)
pub fn fill(mib: u32) -> Result<(), Failure> {
    let words = map(mib)?;
    write(words, 1);
    value(FILLED_MIB, u64::from(mib));
    wait_forever()
}
