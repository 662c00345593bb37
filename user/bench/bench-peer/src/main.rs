//! The benchmark suite's partner process (`bench` spawns one per benchmark
//! that needs two processes): it reads its [`Mode`] from the first message
//! on its channel (startup handle 0), then echoes messages, yields in turn,
//! or sums the shared memory object (startup handle 1) for every message.
//! Exits 0 when `bench` closes the channel (or, yielding, sets the stop
//! word); on any error it prints it and exits 1. Protocol:
//! `bench::protocol`.
#![no_std]
#![no_main]

use core::slice;
use core::sync::atomic::{AtomicU64, Ordering};

use abide_abi::object::MAP_WRITE;
use abide_abi::syscall::Handle;
use abide_rt::syscall::{channel_write, memory_map, port_create, yield_now};
use abide_rt::{println, startup_handle};
use bench::protocol::{
    call, message, receive, Failure, Mode, SHARED_BYTES, YIELD_STOP, YIELD_TURNS,
};

abide_rt::entry!(main);

fn main() -> i32 {
    match serve() {
        Ok(()) => 0,
        Err(failure) => {
            println!("bench-peer: {failure}");
            1
        }
    }
}

fn serve() -> Result<(), Failure> {
    let channel = startup_handle(0).ok_or(Failure::Unexpected("no-channel-handle"))?;
    let port = port_create().map_err(call("port_create"))?;
    let mut buffer = [0u8; 8];
    let Some(info) = receive(channel, port, &mut buffer)? else {
        // Closed before saying what to do: nothing to do.
        return Ok(());
    };
    match Mode::from_message(message(&buffer, &info)?) {
        Some(Mode::Echo) => echo(channel, port),
        Some(Mode::Yield) => take_turns(),
        Some(Mode::Sum) => sum(channel, port),
        None => Err(Failure::Unexpected("unknown-mode")),
    }
}

/// Answers every message with its own bytes.
fn echo(channel: Handle, port: Handle) -> Result<(), Failure> {
    let mut buffer = [0u8; 8];
    while let Some(info) = receive(channel, port, &mut buffer)? {
        channel_write(channel, message(&buffer, &info)?, &[]).map_err(call("channel_write"))?;
    }
    Ok(())
}

/// The memory object passed as startup handle 1, mapped (writable if asked).
fn shared_memory(flags: u64) -> Result<*mut u8, Failure> {
    let memory = startup_handle(1).ok_or(Failure::Unexpected("no-memory-handle"))?;
    memory_map(memory, flags).map_err(call("memory_map"))
}

/// Counts a turn and yields, until the stop word is set.
fn take_turns() -> Result<(), Failure> {
    let page = shared_memory(MAP_WRITE)?;
    // SAFETY: `bench` made the object one page; the mapping is page-aligned
    // and stays for the life of the process; both processes only access
    // these two words atomically.
    let words: &[AtomicU64; 2] = unsafe { &*page.cast::<[AtomicU64; 2]>() };
    while words[YIELD_STOP].load(Ordering::Relaxed) == 0 {
        words[YIELD_TURNS].fetch_add(1, Ordering::Relaxed);
        yield_now();
    }
    Ok(())
}

/// For every message, reads the whole shared object and answers with the
/// wrapping sum of its `u64`s.
fn sum(channel: Handle, port: Handle) -> Result<(), Failure> {
    let base = shared_memory(0)?;
    let mut buffer = [0u8; 8];
    while receive(channel, port, &mut buffer)?.is_some() {
        // SAFETY: `bench` made the object SHARED_BYTES long; the mapping is
        // page-aligned and stays for the life of the process. `bench` writes
        // it only before its message and after our answer, and this slice
        // ends before the answer is sent; the system calls order the accesses.
        let words = unsafe { slice::from_raw_parts(base.cast::<u64>(), SHARED_BYTES / 8) };
        let total = words.iter().fold(0u64, |sum, &word| sum.wrapping_add(word));
        channel_write(channel, &total.to_le_bytes(), &[]).map_err(call("channel_write"))?;
    }
    Ok(())
}
