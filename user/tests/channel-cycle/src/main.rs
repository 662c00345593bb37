//! The channel-cycle attack (hardening finding 4), 2,000 times over: an
//! endpoint written into its own queue, or two endpoints into each other's,
//! then every handle closed. If the kernel let those writes through, the
//! endpoints would be reachable by nobody yet alive forever, and kernel
//! memory would shrink each round. The kernel must refuse the writes
//! (`InvalidArgument`) and memory must come back to where it started.
//! Prints `channel-cycle: ok`, or `channel-cycle: FAILED: <why>` and exits 1.
#![no_std]
#![no_main]

use abide_abi::syscall::{Error, Handle};
use abide_rt::println;
use abide_rt::syscall::{channel_create, channel_write, handle_close, memory_stats};

abide_rt::entry!(main);

const ROUNDS: u32 = 2_000;
/// Heap bytes the kernel may hold more at the end (bookkeeping that grows
/// once); one leaked round costs far more than this over 2,000 rounds.
const HEAP_SLACK: u64 = 4096;

fn main() -> i32 {
    match run() {
        Ok(()) => {
            println!("channel-cycle: ok");
            0
        }
        Err(why) => {
            println!("channel-cycle: FAILED: {why}");
            1
        }
    }
}

fn run() -> Result<(), &'static str> {
    // One round first, so what grows once (this process's handle table)
    // has grown before the measure.
    let mut accepted = round()?;
    let before = memory_stats().map_err(|_| "memory_stats failed")?;
    for _ in 0..ROUNDS {
        accepted += round()?;
    }
    let after = memory_stats().map_err(|_| "memory_stats failed")?;
    println!(
        "channel-cycle: {accepted} enclosing writes accepted; heap used {} -> {} bytes, free {} -> {} bytes",
        before.heap_used_bytes, after.heap_used_bytes, before.free_bytes, after.free_bytes
    );
    if after.heap_used_bytes > before.heap_used_bytes + HEAP_SLACK {
        return Err("the kernel heap grew: endpoints leaked");
    }
    if after.free_bytes < before.free_bytes {
        return Err("free memory shrank: endpoints leaked");
    }
    if accepted > 0 {
        return Err("the kernel accepted writes that enclose an endpoint");
    }
    Ok(())
}

/// One round of each variant, every handle closed at the end; returns how
/// many enclosing writes the kernel accepted.
fn round() -> Result<u32, &'static str> {
    Ok(own_queue()? + own_end()? + longer_cycle()?)
}

/// Write B through A (B lands in its own queue), close both.
fn own_queue() -> Result<u32, &'static str> {
    let (a, b) = channel_create().map_err(|_| "channel_create failed")?;
    let refused = refused(channel_write(a, b"self", &[b]))?;
    close(a);
    if refused {
        close(b);
    }
    Ok(u32::from(!refused))
}

/// Write A through A (a channel carrying its own end), close both.
fn own_end() -> Result<u32, &'static str> {
    let (a, b) = channel_create().map_err(|_| "channel_create failed")?;
    let refused = refused(channel_write(a, b"own", &[a]))?;
    close(b);
    if refused {
        close(a);
    }
    Ok(u32::from(!refused))
}

/// A–B and C–D: D through A (into B's queue), then B through C (into D's
/// queue, closing the loop B → D → B), close everything.
fn longer_cycle() -> Result<u32, &'static str> {
    let (a, b) = channel_create().map_err(|_| "channel_create failed")?;
    let (c, d) = channel_create().map_err(|_| "channel_create failed")?;
    if refused(channel_write(a, b"d", &[d]))? {
        for handle in [a, b, c, d] {
            close(handle);
        }
        return Err("an ordinary transfer (D through A) was refused");
    }
    let refused = refused(channel_write(c, b"b", &[b]))?;
    for handle in [a, c] {
        close(handle);
    }
    if refused {
        close(b);
    }
    Ok(u32::from(!refused))
}

/// True when the write was refused as the kernel refuses an enclosure.
fn refused(result: Result<(), Error>) -> Result<bool, &'static str> {
    match result {
        Ok(()) => Ok(false),
        Err(Error::InvalidArgument) => Ok(true),
        Err(_) => Err("a write failed with an unexpected error"),
    }
}

fn close(handle: Handle) {
    let _ = handle_close(handle);
}
