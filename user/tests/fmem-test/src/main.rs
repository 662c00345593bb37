//! Exercises the calls that reach another process's memory
//! (`process_map`, `process_unmap`, `process_protect`, `process_read`,
//! `process_write`, `process_clone`, `process_map_memory` in [`shared`];
//! docs/kernel.md, "Another process's memory") on a running child, and
//! every refusal they owe
//! (`tests/foreign_memory.rs`, `cargo run -- --append "init=fmem-test"`).
//!
//! Started by the kernel (the hardware resource is its startup handle 0),
//! it spawns `spinner` with a memory limit and works on its memory at a
//! fixed address; then it spawns itself as a child (a control channel is
//! its startup handle 0, the mode the first byte on it) that maps pages
//! into its own space and touches them, to show the page tables say what
//! the protection says: a read-only page faults on a write, a `PROT_NONE`
//! page on a read. Each check prints `fmem: <name>: ok` or `FAILED`; the
//! last line is `fmem: all checks passed`. Once the children are gone the
//! machine's memory must be where it was after the first round.
#![no_std]
#![no_main]

extern crate alloc;

mod cow;
mod shared;

use alloc::format;
use alloc::vec;

use abide_abi::object::{MemoryStats, ProcessState, Signals, SpawnOptions, MAP_WRITE};
use abide_abi::trap::{MAX_PROCESS_COPY, PROT_EXEC, PROT_READ, PROT_WRITE};
use abide_rt::syscall::{
    self, channel_create, channel_read, channel_write, handle_close, handle_duplicate,
    memory_create, memory_map, memory_stats, port_bind, port_create, port_wait, process_clone,
    process_kill, process_map, process_protect, process_read, process_spawn_with, process_status,
    process_unmap, process_write, FOREVER,
};
use abide_rt::{println, process_self, startup_handle, Error, Handle, Rights};

abide_rt::entry!(main);

const PAGE: u64 = 4096;
/// Where the pages go in the child (far from its image at 4 MiB and its
/// stack under 128 TiB, below where memory objects are mapped).
const AT: u64 = 0x10_0000_0000;
/// The memory limit of the spinner child, in pages.
const LIMIT: u64 = 128;
/// The memory limit of a child `fmem-test` (its runtime's heap grows by
/// 256 KiB at a time).
const CHILD_LIMIT: u64 = 1024;
/// The end of user space (`USER_END`).
const USER_END: u64 = 0x0000_8000_0000_0000;

/// Child modes: write to a read-only page of its own, read a `PROT_NONE`
/// one, write to a writable one and exit 0.
const MODE_WRITE_READ_ONLY: u8 = 1;
const MODE_READ_NONE: u8 = 2;
const MODE_WRITE_WRITABLE: u8 = 3;

fn main() -> i32 {
    let first = startup_handle(0).unwrap_or(Handle(0));
    let mut mode = [0u8; 1];
    if channel_read(first, &mut mode, &mut []).is_ok() {
        return child(mode[0]);
    }
    match root(first) {
        Ok(true) => {
            println!("fmem: all checks passed");
            0
        }
        Ok(false) => {
            println!("fmem: some checks FAILED");
            1
        }
        Err(error) => {
            println!("fmem: a system call failed: {error}");
            1
        }
    }
}

fn check(name: &str, ok: bool, detail: &str) -> bool {
    let verdict = if ok { "ok" } else { "FAILED" };
    println!("fmem: {name}: {verdict} {detail}");
    ok
}

/// Memory in use on the machine, less the kernel heap's unused part (see
/// `user/tests/quota`).
fn in_use(stats: &MemoryStats) -> u64 {
    stats
        .used_bytes()
        .saturating_sub(stats.heap_bytes.saturating_sub(stats.heap_used_bytes))
}

/// The pages `process` is charged for.
fn pages_of(process: Handle) -> u64 {
    process_status(process).map_or(u64::MAX, |status| status.memory_pages)
}

/// `len` bytes of `process` at `addr`.
fn read(process: Handle, addr: u64, len: usize) -> Result<alloc::vec::Vec<u8>, Error> {
    let mut bytes = vec![0u8; len];
    process_read(process, addr, &mut bytes)?;
    Ok(bytes)
}

/// A recognisable pattern of `len` bytes.
fn pattern(seed: u8, len: usize) -> alloc::vec::Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect()
}

fn root(hardware: Handle) -> Result<bool, Error> {
    syscall::set_spawn_authority(hardware);
    let port = port_create()?;
    // Once: the mappings they make stay for the life of this process.
    let mut all = shared_mapping()?;
    all &= shared::shared_across_clone(port)?;
    all &= shared::device_memory(hardware)?;
    all &= cow::copy_on_write(port)?;
    // The first round also grows what stays for good (this program's own
    // heap, by the 1 MiB buffer of the longest copy it tries, and the
    // kernel's tables); the second must end exactly where the first did.
    let before = in_use(&memory_stats()?);
    all &= round(port)?;
    all &= own_space(port)?;
    let middle = in_use(&memory_stats()?);
    all &= round(port)?;
    all &= own_space(port)?;
    let after = in_use(&memory_stats()?);
    all &= check(
        "memory returns once the processes are gone",
        after <= middle,
        &format!(
            "(in use: {before} bytes at the start, {middle} after one round, {after} after two)"
        ),
    );
    Ok(all)
}

fn limited(pages: u64) -> SpawnOptions {
    SpawnOptions {
        memory_pages: pages,
        handle_quota: 64,
        ..SpawnOptions::default()
    }
}

/// Waits until `process` has ended and closes its handle.
fn reap(port: Handle, process: Handle) -> Result<(), Error> {
    let _ = process_kill(process);
    port_bind(port, process, 0, Signals::TERMINATED)?;
    port_wait(port, FOREVER)?;
    handle_close(process)
}

/// Everything on a running `spinner`.
fn round(port: Handle) -> Result<bool, Error> {
    let mut all = true;
    let spinner = process_spawn_with("spinner", &[], &limited(LIMIT))?;
    let start = pages_of(spinner);

    // Map, write across a page boundary, read back.
    let mapped = process_map(spinner, AT, 4 * PAGE, PROT_READ | PROT_WRITE);
    let charged = pages_of(spinner);
    all &= check(
        "map four pages",
        mapped.is_ok() && charged >= start + 4 && charged <= start + 4 + 3,
        &format!("({mapped:?}; charged {start} then {charged} pages)"),
    );
    let zeros = read(spinner, AT, 4 * PAGE as usize)?;
    all &= check("fresh pages are zero", zeros.iter().all(|&b| b == 0), "");
    let a = pattern(0xa5, 300);
    let at = AT + PAGE - 100;
    process_write(spinner, at, &a)?;
    let back = read(spinner, at, a.len())?;
    all &= check("write then read across a page boundary", back == a, "");

    // Protection: read-only still takes a debugger's write; bad requests
    // change nothing.
    let protect = process_protect(spinner, AT, 2 * PAGE, PROT_READ);
    let wx = process_protect(spinner, AT, PAGE, PROT_WRITE | PROT_EXEC);
    let unknown = process_protect(spinner, AT, PAGE, 1 << 8);
    let hole = process_protect(spinner, AT, 5 * PAGE, PROT_READ);
    let b = pattern(0x3c, 16);
    let written = process_write(spinner, AT + 8, &b);
    all &= check(
        "protect",
        protect.is_ok()
            && wx == Err(Error::InvalidArgument)
            && unknown == Err(Error::InvalidArgument)
            && hole == Err(Error::BadAddress)
            && written.is_ok()
            && read(spinner, AT + 8, b.len())? == b,
        &format!("(read-only {protect:?}, W+X {wx:?}, unknown bit {unknown:?}, over a hole {hole:?}, write {written:?})"),
    );
    let none = process_protect(spinner, AT + 3 * PAGE, PAGE, 0);
    let c = pattern(0x11, 8);
    let through = process_write(spinner, AT + 3 * PAGE, &c)
        .and_then(|()| read(spinner, AT + 3 * PAGE, c.len()));
    all &= check(
        "a PROT_NONE page stays mapped for the handler",
        none.is_ok() && through.as_deref() == Ok(&c[..]),
        &format!("({none:?}, {through:?})"),
    );

    // Mapping over mapped pages replaces them: zero again, charged once.
    let before_remap = pages_of(spinner);
    let remap = process_map(spinner, AT, PAGE, PROT_READ | PROT_WRITE);
    let first = read(spinner, AT, PAGE as usize)?;
    let second = read(spinner, AT + PAGE, 200)?;
    all &= check(
        "map over mapped pages replaces them",
        remap.is_ok()
            && first.iter().all(|&b| b == 0)
            && second == a[100..]
            && pages_of(spinner) == before_remap,
        &format!(
            "({remap:?}; charged {before_remap} then {} pages)",
            pages_of(spinner)
        ),
    );

    // The clone: a copy, independent both ways, charged to itself.
    let tight = process_clone(spinner, "fmem-clone", &limited(8));
    let clone = process_clone(spinner, "fmem-clone", &limited(LIMIT))?;
    let copied = read(clone, at + 100, 200)?;
    let d = pattern(0x77, 64);
    process_write(clone, at + 100, &d)?;
    let original_kept = read(spinner, at + 100, 200)? == a[100..];
    let e = pattern(0x99, 64);
    process_write(spinner, AT + 2 * PAGE + 500, &e)?;
    let clone_kept = read(clone, AT + 2 * PAGE + 500, 64)? == vec![0u8; 64];
    let clone_status = process_status(clone)?;
    all &= check(
        "clone copies, and the copies are independent",
        copied == a[100..]
            && original_kept
            && clone_kept
            && read(clone, at + 100, 64)? == d
            && read(clone, AT + 3 * PAGE, c.len())? == c
            && clone_status.state == ProcessState::Running
            && clone_status.memory_pages >= pages_of(spinner).saturating_sub(2)
            && tight == Err(Error::NoMemory),
        &format!(
            "(clone charged {} pages, spinner {}; a clone limited to 8 pages: {tight:?})",
            clone_status.memory_pages,
            pages_of(spinner)
        ),
    );
    let protect_clone = process_protect(clone, AT, PAGE, PROT_READ);
    all &= check(
        "the clone's pages are its own to change",
        protect_clone.is_ok()
            && process_unmap(clone, AT, 4 * PAGE).is_ok()
            && read(clone, AT, 1) == Err(Error::BadAddress)
            && read(spinner, AT, 1).is_ok(),
        &format!("({protect_clone:?})"),
    );

    // Unmap: gone, given back; holes are skipped.
    let unmapped = process_unmap(spinner, AT, 4 * PAGE);
    let again = process_unmap(spinner, AT, 8 * PAGE);
    let gone = read(spinner, AT, 1);
    let write_gone = process_write(spinner, AT + 2 * PAGE, &[1]);
    let after = pages_of(spinner);
    all &= check(
        "unmap",
        unmapped.is_ok()
            && again.is_ok()
            && gone == Err(Error::BadAddress)
            && write_gone == Err(Error::BadAddress)
            && after >= start
            && after <= start + 3,
        &format!("({unmapped:?}, again {again:?}, read {gone:?}, write {write_gone:?}; charged {after}, {start} at first)"),
    );

    all &= refusals(spinner)?;

    // Over the limit: NoMemory, and nothing changed.
    let room = LIMIT.saturating_sub(pages_of(spinner));
    let before_big = pages_of(spinner);
    let big = process_map(spinner, AT, (room + 1) * PAGE, PROT_READ | PROT_WRITE);
    all &= check(
        "a map over the memory limit is refused and changes nothing",
        big == Err(Error::NoMemory)
            && pages_of(spinner) == before_big
            && read(spinner, AT, 1) == Err(Error::BadAddress),
        &format!(
            "({big:?}; {room} pages of room; charged {before_big} then {})",
            pages_of(spinner)
        ),
    );

    let running = process_status(spinner)?.state == ProcessState::Running;
    all &= check("the spinner runs on", running, "");
    reap(port, clone)?;
    reap(port, spinner)?;
    Ok(all)
}

/// Every argument the calls must refuse.
fn refusals(spinner: Handle) -> Result<bool, Error> {
    let mut all = true;
    let rw = PROT_READ | PROT_WRITE;
    let mut buffer = [0u8; 16];
    let kernel_half = process_map(spinner, 0xffff_8000_0000_0000, PAGE, rw);
    let straddle = process_map(spinner, USER_END - PAGE, 2 * PAGE, rw);
    let null = process_map(spinner, 0, PAGE, rw);
    let read_kernel = process_read(spinner, 0xffff_8000_0000_0000, &mut buffer);
    all &= check(
        "kernel-half addresses are refused",
        [kernel_half, straddle, null] == [Err(Error::BadAddress); 3]
            && read_kernel == Err(Error::BadAddress),
        &format!("({kernel_half:?}, {straddle:?}, {null:?}, {read_kernel:?})"),
    );
    let unaligned = process_map(spinner, AT + 1, PAGE, rw);
    let odd_len = process_map(spinner, AT, 100, rw);
    let empty = process_map(spinner, AT, 0, rw);
    let unmap_unaligned = process_unmap(spinner, AT + 8, PAGE);
    all &= check(
        "unaligned and empty ranges are refused",
        [unaligned, odd_len, empty, unmap_unaligned] == [Err(Error::InvalidArgument); 4],
        &format!("({unaligned:?}, {odd_len:?}, {empty:?}, {unmap_unaligned:?})"),
    );
    let wrap = process_map(spinner, 0xffff_ffff_ffff_f000, 0x2000, rw);
    let unmap_wrap = process_unmap(spinner, AT, u64::MAX - PAGE + 1);
    let read_wrap = process_read(spinner, u64::MAX - 4, &mut buffer);
    let mut huge = vec![0u8; MAX_PROCESS_COPY as usize + 1];
    let too_long = process_read(spinner, AT, &mut huge);
    all &= check(
        "overflowing ranges are refused",
        wrap == Err(Error::BadAddress)
            && unmap_wrap == Err(Error::BadAddress)
            && read_wrap == Err(Error::BadAddress)
            && too_long == Err(Error::InvalidArgument),
        &format!(
            "({wrap:?}, {unmap_wrap:?}, {read_wrap:?}, longer than MAX_PROCESS_COPY {too_long:?})"
        ),
    );
    let weak = handle_duplicate(
        spinner,
        Rights::READ.union(Rights::WRITE).union(Rights::DUPLICATE),
    )?;
    let denied = [
        process_map(weak, AT, PAGE, rw),
        process_unmap(weak, AT, PAGE),
        process_protect(weak, AT, PAGE, rw),
        process_read(weak, AT, &mut buffer).map(|_| ()),
        process_write(weak, AT, &buffer),
        process_clone(weak, "fmem-clone", &limited(LIMIT)).map(|_| ()),
    ];
    all &= check(
        "a handle without MANAGE is refused",
        denied == [Err(Error::AccessDenied); 6],
        &format!("({denied:?})"),
    );
    handle_close(weak)?;
    let (end, other) = channel_create()?;
    let wrong = process_map(end, AT, PAGE, rw);
    let bad = process_map(Handle(0xdead), AT, PAGE, rw);
    all &= check(
        "a handle to something else is refused",
        wrong == Err(Error::WrongType) && bad == Err(Error::BadHandle),
        &format!("({wrong:?}, {bad:?})"),
    );
    handle_close(end)?;
    handle_close(other)?;
    Ok(all)
}

/// A memory object's mapping (in this process's own space) is not the
/// calls' to replace, only to read and write through.
fn shared_mapping() -> Result<bool, Error> {
    let me = process_self();
    let object = memory_create(PAGE)?;
    let shared = memory_map(object, MAP_WRITE)?;
    let over = process_map(me, shared as u64, PAGE, PROT_READ);
    let written = process_write(me, shared as u64 + 8, &[9, 8, 7]);
    // SAFETY: `shared` maps the object's page for the life of this process.
    let seen = unsafe { core::ptr::read_volatile(shared.add(9)) };
    let read_shared = read(me, shared as u64 + 8, 3);
    handle_close(object)?;
    Ok(check(
        "a memory object's mapping is not replaced, only read and written through",
        over == Err(Error::BadAddress)
            && written.is_ok()
            && seen == 8
            && read_shared.as_deref() == Ok(&[9, 8, 7][..]),
        &format!("({over:?}, {written:?}, {seen}, {read_shared:?})"),
    ))
}

/// Pages mapped into a process's own space behave as their protection
/// says (a child maps them into itself and touches them).
fn own_space(port: Handle) -> Result<bool, Error> {
    let mut all = true;
    for (mode, name, faults) in [
        (
            MODE_WRITE_WRITABLE,
            "a writable page takes the program's writes",
            false,
        ),
        (
            MODE_WRITE_READ_ONLY,
            "a read-only page faults on a write",
            true,
        ),
        (MODE_READ_NONE, "a PROT_NONE page faults on a read", true),
    ] {
        let (control, child_end) = channel_create()?;
        channel_write(control, &[mode], &[])?;
        let child = process_spawn_with("fmem-test", &[child_end], &limited(CHILD_LIMIT))?;
        port_bind(port, child, 0, Signals::TERMINATED)?;
        port_wait(port, FOREVER)?;
        let status = process_status(child)?;
        let ok = if faults {
            status.state == ProcessState::Faulted && status.vector == 14 && status.address == AT
        } else {
            status.state == ProcessState::Exited && status.code == 0
        };
        all &= check(
            name,
            ok,
            &format!(
                "({:?}, code {}, vector {}, address {:#x})",
                status.state, status.code, status.vector, status.address
            ),
        );
        handle_close(child)?;
        handle_close(control)?;
    }
    Ok(all)
}

/// A child: maps a page into itself at [`AT`] as `mode` says and touches it.
fn child(mode: u8) -> i32 {
    let me = process_self();
    let prot = match mode {
        MODE_WRITE_READ_ONLY => PROT_READ,
        MODE_READ_NONE => 0,
        _ => PROT_READ | PROT_WRITE,
    };
    if let Err(error) = process_map(me, AT, PAGE, prot) {
        println!("fmem: child: process_map: {error}");
        return 2;
    }
    if process_write(me, AT + 1, &[42]).is_err() {
        return 3;
    }
    let page = AT as *mut u8;
    match mode {
        MODE_READ_NONE => {
            // SAFETY: the page is mapped; the read is meant to fault.
            let value = unsafe { core::ptr::read_volatile(page) };
            println!("fmem: child: read {value} from a PROT_NONE page");
            4
        }
        _ => {
            // SAFETY: the page is mapped at AT and nothing else uses it;
            // a read-only page is meant to fault here.
            let value = unsafe {
                core::ptr::write_volatile(page, 7);
                core::ptr::read_volatile(page.add(1))
            };
            let mut back = [0u8; 2];
            let ok = value == 42 && process_read(me, AT, &mut back).is_ok() && back == [7, 42];
            if ok {
                0
            } else {
                5
            }
        }
    }
}
