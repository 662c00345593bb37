//! Checks the kernel's objects across two processes, with `ipc-peer` on the
//! other end of a control channel: ping-pong, a handle passed in a message
//! (works in the receiver, gone from the sender), a write without the write
//! right, revoke reaching a handle in another process, badges, a 1 MiB
//! shared-memory transfer, timers and port deadlines, and `PEER_CLOSED` when
//! the peer exits. Prints one line per check and exits 0 only if all held.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;

use abide_abi::object::{ProcessState, Signals, SpawnOptions, INHERIT_PRIORITY, MAP_WRITE};
use abide_abi::syscall::{Error, Handle, Rights};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall::{
    channel_create, channel_write, clock_ns, handle_duplicate, handle_mint, handle_revoke,
    memory_create, memory_map, port_create, port_wait, process_spawn, process_spawn_image,
    process_spawn_with, process_status, timer_create, timer_set,
};

abide_rt::entry!(main);

const SECOND: u64 = 1_000_000_000;
const ROUNDS: u32 = 100;
const ONE_MIB: usize = 1 << 20;

/// Prints a check's outcome; true if it held.
fn check(what: &str, held: bool, detail: &str) -> bool {
    println!(
        "ipc-test: {what}: {} {detail}",
        if held { "ok" } else { "FAILED" }
    );
    held
}

/// Sends `command` (with `handles`) to the peer and returns its answer.
fn ask(
    waiter: &Waiter,
    control: Handle,
    command: &str,
    handles: &[Handle],
) -> Result<String, Error> {
    waiter.send(control, command.as_bytes(), handles, after_ns(10 * SECOND))?;
    let reply = waiter.recv(control, after_ns(10 * SECOND))?;
    Ok(String::from_utf8_lossy(&reply.bytes).into())
}

fn main() -> i32 {
    match run() {
        Ok(true) => {
            println!("ipc-test: all checks passed");
            0
        }
        Ok(false) => {
            println!("ipc-test: some checks FAILED");
            1
        }
        Err(error) => {
            println!("ipc-test: a system call failed: {error}");
            1
        }
    }
}

fn run() -> Result<bool, Error> {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let waiter = Waiter::new()?;
    let (control, peer_end) = channel_create()?;
    let peer = process_spawn("ipc-peer", &[peer_end])?;
    let mut all = true;

    // Ping-pong.
    let mut pongs = 0;
    for round in 0..ROUNDS {
        if ask(&waiter, control, &format!("ping {round}"), &[])? == format!("pong {round}") {
            pongs += 1;
        }
    }
    all &= check(
        "ping-pong",
        pongs == ROUNDS,
        &format!("({pongs} of {ROUNDS} rounds)"),
    );

    // A handle moved in a message works in the receiver, and is gone here.
    let (mine, theirs) = channel_create()?;
    let answer = ask(&waiter, control, "take", &[theirs])?;
    let arrived = waiter.recv(mine, after_ns(10 * SECOND))?;
    all &= check(
        "a passed handle works in the receiver",
        answer == "took: Ok(())" && arrived.bytes == b"through a passed handle",
        &answer,
    );
    let gone = handle_duplicate(theirs, Rights::READ);
    all &= check(
        "a passed handle is gone from the sender",
        gone == Err(Error::BadHandle),
        &format!("{gone:?}"),
    );

    // Writing through a handle without the write right.
    let read_only = handle_duplicate(mine, Rights::READ.union(Rights::WAIT))?;
    let (other, _other_peer) = channel_create()?;
    let denied = channel_write(read_only, b"x", &[]);
    all &= check(
        "a write without the WRITE right is refused",
        denied == Err(Error::AccessDenied),
        &format!("{denied:?}"),
    );
    let _ = other;

    // Revoke reaches a derived handle held by another process.
    let (revocable, revocable_peer) = channel_create()?;
    let master = handle_duplicate(revocable_peer, Rights::ALL)?;
    let given = handle_duplicate(master, Rights::WRITE.union(Rights::TRANSFER))?;
    let answer = ask(&waiter, control, "keep", &[given])?;
    let before = waiter.recv(revocable, after_ns(10 * SECOND))?;
    all &= check(
        "a derived handle works before revoke",
        answer == "kept: Ok(())" && before.bytes == b"through a kept handle",
        &answer,
    );
    let removed = handle_revoke(master)?;
    let answer = ask(&waiter, control, "retry", &[])?;
    all &= check(
        "revoke invalidates it in the other process",
        removed == 2 && answer == "retry: Err(BadHandle)",
        &format!("(revoked {removed}) {answer}"),
    );

    // Badges tell a server which client wrote.
    let (server, client) = channel_create()?;
    let badged = handle_mint(client, Rights::WRITE.union(Rights::TRANSFER), 42)?;
    let answer = ask(&waiter, control, "badge", &[badged])?;
    let message = waiter.recv(server, after_ns(10 * SECOND))?;
    all &= check(
        "the reader sees the writer's badge",
        message.badge == 42 && message.bytes == b"badged",
        &format!("{answer}, badge {}", message.badge),
    );
    let rebadge = handle_mint(badged, Rights::WRITE, 7);
    all &= check(
        "a moved handle cannot be re-minted here",
        rebadge == Err(Error::BadHandle),
        &format!("{rebadge:?}"),
    );

    // 1 MiB through shared memory, both ways, without copying.
    let memory = memory_create(ONE_MIB as u64)?;
    let base = memory_map(memory, MAP_WRITE)?;
    // SAFETY: the kernel mapped 1 MiB writable at `base`, ours alone until
    // the handle is shared below.
    let bytes = unsafe { core::slice::from_raw_parts_mut(base, ONE_MIB) };
    for (index, byte) in bytes.iter_mut().enumerate() {
        *byte = (index % 251) as u8;
    }
    let expected: u64 = bytes.iter().map(|b| u64::from(*b)).sum();
    let shared = handle_duplicate(memory, Rights::ALL)?;
    let answer = ask(&waiter, control, "memory", &[shared])?;
    // SAFETY: as above; the peer wrote its last byte before answering.
    let last = unsafe { core::ptr::read_volatile(base.add(ONE_MIB - 1)) };
    all &= check(
        "1 MiB of shared memory reads the same in both processes",
        answer == format!("sum {expected}") && last == 0xab,
        &format!("({answer}, expected sum {expected}, last byte {last:#x})"),
    );

    // Timers and port deadlines.
    let port = port_create()?;
    let timer = timer_create()?;
    let start = clock_ns();
    timer_set(timer, start + 20_000_000)?;
    abide_rt::syscall::port_bind(port, timer, 77, Signals::TIMER)?;
    let packet = port_wait(port, start + 5 * SECOND)?;
    let waited = clock_ns() - start;
    all &= check(
        "a timer fires through a port",
        packet.key == 77 && packet.signals.contains(Signals::TIMER) && waited >= 20_000_000,
        &format!("(after {} ms)", waited / 1_000_000),
    );
    let start = clock_ns();
    let timed_out = port_wait(port, start + 30_000_000);
    let waited = clock_ns() - start;
    all &= check(
        "a wait with nothing to wait for times out at its deadline",
        timed_out == Err(Error::TimedOut) && waited >= 30_000_000,
        &format!("({timed_out:?} after {} ms)", waited / 1_000_000),
    );

    // A program from an ELF image in a memory object.
    let image = tiny_program(42);
    let memory = memory_create(image.len() as u64)?;
    let base = memory_map(memory, MAP_WRITE)?;
    // SAFETY: the mapping is at least `image.len()` bytes, ours alone.
    unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), base, image.len()) };
    let child = process_spawn_image(memory, "tiny", &[])?;
    waiter.wait(child, Signals::TERMINATED, after_ns(10 * SECOND))?;
    let status = process_status(child)?;
    all &= check(
        "a program starts from an ELF image in a memory object",
        status.state == ProcessState::Exited && status.code == 42,
        &format!("{status:?}"),
    );

    // Limits: a child gets no more than its parent allows.
    all &= limits(&waiter, peer)?;

    // The peer exits: its end closes and its process reports the exit.
    waiter.send(control, b"exit", &[], after_ns(10 * SECOND))?;
    let signals = waiter.wait(control, Signals::PEER_CLOSED, after_ns(10 * SECOND))?;
    let after = waiter.recv(control, after_ns(10 * SECOND));
    all &= check(
        "the peer's exit closes its end",
        signals.contains(Signals::PEER_CLOSED) && after == Err(Error::PeerClosed),
        &format!("{after:?}"),
    );
    waiter.wait(peer, Signals::TERMINATED, after_ns(10 * SECOND))?;
    let status = process_status(peer)?;
    all &= check(
        "the parent reads the peer's exit status",
        status.state == ProcessState::Exited && status.code == 0,
        &format!("{status:?}"),
    );
    let (kept, _other) = channel_create()?;
    let cramped = SpawnOptions {
        handle_quota: 1,
        ..SpawnOptions::default()
    };
    let no_table_room = process_spawn_with("ipc-peer", &[kept], &cramped);
    let still_mine = handle_duplicate(kept, Rights::READ).map(|_| ());
    all &= check(
        "a handle quota too small for the startup handles is refused, and they stay",
        no_table_room == Err(Error::InvalidArgument) && still_mine == Ok(()),
        &format!("({no_table_room:?}; {still_mine:?})"),
    );
    Ok(all)
}

/// A minimal static x86_64 ELF executable, built here byte by byte: one
/// read+execute segment at 4 MiB whose code calls `exit(code)`.
fn tiny_program(code: u8) -> alloc::vec::Vec<u8> {
    const BASE: u64 = 0x40_0000;
    const HEADERS: u64 = 64 + 56;
    let instructions = [
        0xbf, code, 0, 0, 0, // mov edi, code
        0xb8, 1, 0, 0, 0, // mov eax, 1 (exit)
        0x0f, 0x05, // syscall
        0x0f, 0x0b, // ud2
    ];
    let total = HEADERS + instructions.len() as u64;
    let mut elf = alloc::vec::Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // executable
    elf.extend_from_slice(&0x3eu16.to_le_bytes()); // x86_64
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&(BASE + HEADERS).to_le_bytes()); // entry
    elf.extend_from_slice(&64u64.to_le_bytes()); // program headers
    elf.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    elf.extend_from_slice(&0u32.to_le_bytes());
    for half in [64u16, 56, 1, 64, 0, 0] {
        elf.extend_from_slice(&half.to_le_bytes());
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf.extend_from_slice(&5u32.to_le_bytes()); // read + execute
    for word in [0, BASE, BASE, total, total, 0x1000u64] {
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(&instructions);
    elf
}

/// Spawns a second peer with a memory limit just above what the first one
/// uses and a quota of 16 handles, and checks both are enforced; and that a
/// child cannot be given more than its parent has.
fn limits(waiter: &Waiter, peer: Handle) -> Result<bool, Error> {
    let mut all = true;
    let used = process_status(peer)?.memory_pages;
    let options = SpawnOptions {
        priority: INHERIT_PRIORITY,
        memory_pages: used + 128,
        handle_quota: 16,
        ..SpawnOptions::default()
    };
    let (control, peer_end) = channel_create()?;
    let limited = process_spawn_with("ipc-peer", &[peer_end], &options)?;
    let small = ask(waiter, control, "alloc 16384", &[])?;
    let large = ask(waiter, control, "alloc 1048576", &[])?;
    all &= check(
        "a memory limit is enforced",
        small == "alloc: Ok(())" && large == "alloc: Err(NoMemory)",
        &format!("({small}; {large}; limit {} pages)", used + 128),
    );
    let handles = ask(waiter, control, "handles", &[])?;
    let status = process_status(limited)?;
    all &= check(
        "a handle quota is enforced",
        handles.ends_with("then NoMemory") && status.handles <= 16 && status.handle_quota == 16,
        &format!(
            "({handles}; {} of {} handles)",
            status.handles, status.handle_quota
        ),
    );
    waiter.send(control, b"exit", &[], after_ns(10 * SECOND))?;
    waiter.wait(limited, Signals::TERMINATED, after_ns(10 * SECOND))?;
    let too_high = SpawnOptions {
        priority: 7,
        ..SpawnOptions::default()
    };
    let refused = process_spawn_with("hello", &[], &too_high);
    let tiny = SpawnOptions {
        memory_pages: 1,
        ..SpawnOptions::default()
    };
    let no_room = process_spawn_with("hello", &[], &tiny);
    all &= check(
        "a child cannot get more than its parent, nor start without room",
        refused == Err(Error::InvalidArgument) && no_room == Err(Error::NoMemory),
        &format!("({refused:?}; {no_room:?})"),
    );
    Ok(all)
}
