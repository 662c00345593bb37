//! Fills the kernel heap through system calls that allocate kernel memory
//! without charging it in bytes (objects and handles, bounded only by each
//! process's handle quota), on a machine whose user memory is full, and
//! checks the calls are refused `NoMemory` instead of panicking the kernel,
//! and that the memory comes back (`tests/heap.rs`, `cargo run --
//! --append "init=heap-flood"`; issue 13, finding 3).
//!
//! Started by the kernel as the only program, so nothing limits its
//! memory (the unlimited case): it starts [`CHILDREN`] copies of itself,
//! each with a full handle quota, takes every page user space may take
//! with memory objects, then lets every child create channels until the
//! kernel refuses. Together the children ask for more kernel heap than the
//! machine has left. Each child writes what it got into a page shared with
//! the root (a report by message could not be sent with memory full).
//! The root then checks that some child was refused below its handle
//! quota (the heap, not the quota, said no), that a new channel is refused
//! while the heap is full, and that after killing the children and
//! freeing the memory, free memory is back where it started and channels
//! can be created again.
//!
//! Nothing allocates on the program's own heap once memory is full: its
//! lists are arrays.
#![no_std]
#![no_main]

use core::ptr::{read_volatile, write_volatile};

use abide_abi::object::{
    MemoryStats, ProcessState, Signals, SpawnOptions, INHERIT_PRIORITY, MAP_WRITE,
};
use abide_rt::syscall::{
    self, channel_create, channel_read, channel_write, clock_ns, handle_close, handle_duplicate,
    memory_create, memory_map, memory_stats, port_bind, port_create, port_wait, process_kill,
    process_spawn_with, process_status, yield_now, FOREVER,
};
use abide_rt::{println, startup_handle, Error, Handle, Rights};

abide_rt::entry!(main);

/// Children flooding the heap: each makes about 500 channels (1,000
/// objects and handles, some 600 KiB of kernel heap), together far more
/// than the heap's free part and the kernel's 4 MiB reserve.
const CHILDREN: usize = 32;
/// Each child's handle quota.
const HANDLE_QUOTA: u32 = 1024;
/// A child refused with fewer handles than this was refused by the heap,
/// not by its quota (it holds four more: two startup handles, its port and
/// one it may not have room for).
const BELOW_QUOTA: u64 = HANDLE_QUOTA as u64 - 8;
/// What the kernel may keep for good after the first flood (its tables'
/// capacity), in pages.
const SLACK_PAGES: u64 = 64;
const PAGE: u64 = 4096;
/// Most memory objects the fill takes (its chunks shrink as memory runs
/// out).
const MAX_FILL: usize = 512;
/// How long the root waits for the children, in nanoseconds of guest time.
const PATIENCE_NS: u64 = 600_000_000_000;

/// A child's slot in the shared page: state, handles made, last error.
const SLOT_WORDS: usize = 4;
const READY: u64 = 1;
const DONE: u64 = 2;

fn main() -> i32 {
    let first = startup_handle(0).unwrap_or(Handle(0));
    let mut index = [0u8; 1];
    match channel_read(first, &mut index, &mut []) {
        // A child: its index is the first message on its go channel.
        Ok(_) => {
            child(first, usize::from(index[0]));
            0
        }
        // The root: startup handle 0 is the hardware resource.
        Err(_) => match root(first) {
            Ok(true) => {
                println!("heap-flood: all checks passed");
                0
            }
            Ok(false) => {
                println!("heap-flood: some checks FAILED");
                1
            }
            Err(error) => {
                println!("heap-flood: a system call failed: {error}");
                1
            }
        },
    }
}

/// Memory in use on the machine: frames taken, less the kernel heap's
/// unused part (the heap keeps its frames).
fn in_use(stats: &MemoryStats) -> u64 {
    stats
        .used_bytes()
        .saturating_sub(stats.heap_bytes.saturating_sub(stats.heap_used_bytes))
}

fn check(name: &str, ok: bool, detail: core::fmt::Arguments) -> bool {
    let verdict = if ok { "ok" } else { "FAILED" };
    println!("heap-flood: {name}: {verdict} {detail}");
    ok
}

/// The shared page as words.
struct Shared(*mut u64);

impl Shared {
    fn get(&self, child: usize, word: usize) -> u64 {
        // SAFETY: the page is mapped for the program's life and holds
        // CHILDREN * SLOT_WORDS words; children write only their own slot.
        unsafe { read_volatile(self.0.add(child * SLOT_WORDS + word)) }
    }

    fn set(&self, child: usize, word: usize, value: u64) {
        // SAFETY: as in `get`.
        unsafe { write_volatile(self.0.add(child * SLOT_WORDS + word), value) }
    }
}

/// Yields until every child's state is at least `state`; false on timeout.
fn wait_for(shared: &Shared, state: u64) -> bool {
    let start = clock_ns();
    while (0..CHILDREN).any(|child| shared.get(child, 0) < state) {
        if clock_ns().saturating_sub(start) > PATIENCE_NS {
            return false;
        }
        yield_now();
    }
    true
}

fn root(hardware: Handle) -> Result<bool, Error> {
    let mut all = true;
    syscall::set_spawn_authority(hardware);
    let before = in_use(&memory_stats()?);
    let page = memory_create(PAGE)?;
    let shared = Shared(memory_map(page, MAP_WRITE)?.cast());

    // The children, each waiting for its go channel to close.
    let mut children = [Handle(0); CHILDREN];
    let mut gos = [Handle(0); CHILDREN];
    for (index, (child, go)) in children.iter_mut().zip(gos.iter_mut()).enumerate() {
        let (ours, theirs) = channel_create()?;
        channel_write(ours, &[index as u8], &[])?;
        let view = handle_duplicate(page, Rights::ALL)?;
        let options = SpawnOptions {
            priority: INHERIT_PRIORITY,
            handle_quota: HANDLE_QUOTA,
            ..SpawnOptions::default()
        };
        *child = process_spawn_with("heap-flood", &[theirs, view], &options)?;
        *go = ours;
    }
    if !wait_for(&shared, READY) {
        return Ok(check("the children start", false, format_args!("")));
    }

    // Every page user space may take, in shrinking chunks.
    let mut fill = [Handle(0); MAX_FILL];
    let mut filled = 0;
    let mut chunk = 16 << 20;
    while chunk >= PAGE && filled < MAX_FILL {
        match memory_create(chunk) {
            Ok(memory) => {
                if let Some(slot) = fill.get_mut(filled) {
                    *slot = memory;
                }
                filled += 1;
            }
            Err(_) => chunk /= 2,
        }
    }
    let full = memory_stats()?;

    // Go: every child floods at once.
    for go in gos {
        handle_close(go)?;
    }
    let finished = wait_for(&shared, DONE);
    let refused_by_heap = (0..CHILDREN)
        .filter(|&child| {
            shared.get(child, 2) == Error::NoMemory as u64 && shared.get(child, 1) < BELOW_QUOTA
        })
        .count();
    let made: u64 = (0..CHILDREN).map(|child| shared.get(child, 1)).sum();
    let refused_now = channel_create();
    let peak = memory_stats()?;
    if let Ok((a, b)) = refused_now {
        handle_close(a)?;
        handle_close(b)?;
    }

    // Clean up: the children go, their objects with them, and the fill.
    for child in children {
        process_kill(child)?;
    }
    for child in children {
        while process_status(child)?.state == ProcessState::Running {
            yield_now();
        }
        handle_close(child)?;
    }
    for memory in fill.iter().take(filled) {
        handle_close(*memory)?;
    }
    let after = in_use(&memory_stats()?);
    let again = channel_create();

    all &= check(
        "the heap's limit answers NoMemory",
        finished && refused_by_heap > 0,
        format_args!(
            "({refused_by_heap} of {CHILDREN} children refused below their quota, \
             {made} handles made; {} KiB free with user memory full, heap {} of {} KiB used \
             at the peak)",
            full.free_bytes / 1024,
            peak.heap_used_bytes / 1024,
            peak.heap_bytes / 1024
        ),
    );
    all &= check(
        "a new channel is refused while the heap is full",
        refused_now.err() == Some(Error::NoMemory),
        format_args!("({:?})", refused_now.map(|_| ())),
    );
    all &= check(
        "free memory returns once the children are gone",
        after <= before + SLACK_PAGES * PAGE,
        format_args!("(in use: {before} bytes at the start, {after} after)"),
    );
    all &= check(
        "channels can be created again",
        again.is_ok(),
        format_args!("({:?})", again.map(|_| ())),
    );
    Ok(all)
}

/// Waits for the go channel to close, creates channels until refused,
/// reports in the shared page and holds everything until killed.
fn child(go: Handle, index: usize) {
    let Some(page) = startup_handle(1) else {
        return;
    };
    let Ok(shared) = memory_map(page, MAP_WRITE) else {
        return;
    };
    let shared = Shared(shared.cast());
    let Ok(port) = port_create() else {
        return;
    };
    if port_bind(port, go, 0, Signals::PEER_CLOSED).is_err() {
        return;
    }
    shared.set(index, 0, READY);
    let _ = port_wait(port, FOREVER);
    let mut made = 0u64;
    let error = loop {
        match channel_create() {
            Ok(_) => made += 2,
            Err(error) => break error,
        }
    };
    shared.set(index, 1, made);
    shared.set(index, 2, error as u64);
    shared.set(index, 0, DONE);
    loop {
        let _ = port_wait(port, FOREVER);
        yield_now();
    }
}
