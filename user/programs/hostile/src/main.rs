//! A hostile process: at least 100,000 system calls with random call numbers,
//! kernel and unmapped pointers, misaligned and huge lengths, and forged
//! handles, from a fixed seed it prints so a failure replays. Every call must
//! come back with success or a known error code; the kernel must stay up.
//! It never calls `exit` by accident (only at the end) and only passes bad
//! pointers to `debug_write`, so nothing it does is visible but its verdict.
//! It first gives up its own process handle and its startup handles (the
//! hardware resource), so random calls cannot kill it or reprogram devices,
//! and it never waits on a port past "now", so it cannot sleep forever.
#![no_std]
#![no_main]

use abide_abi::syscall::{decode_result, Error, Syscall};
use abide_rt::syscall::syscall6;

abide_rt::entry!(main);

/// Fixed seed: failures replay exactly.
const SEED: u64 = 0x5eed_ab1d_e000_0001;
const CALLS: u32 = 100_000;

/// xorshift64*: small, deterministic, good enough to spread arguments.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Pointers a kernel must refuse: null, kernel space, non-canonical, unmapped
/// user space, the last user page boundary, misaligned.
const BAD_POINTERS: &[u64] = &[
    0,
    1,
    0xffff_ffff_8000_0000,
    0xffff_8000_0000_0000,
    0xffff_c000_0000_0000,
    0x8000_0000_0000_0000,
    0x0000_7fff_ffff_fff9,
    0x0000_7fff_ffff_f000,
    0xdead_0000,
    0x1000,
    u64::MAX,
    u64::MAX - 7,
];

/// Lengths: small, page-crossing, over the limit, absurd.
const LENGTHS: &[u64] = &[0, 1, 7, 4095, 4096, 4097, 65_536, 1 << 32, u64::MAX];

fn argument(rng: &mut Rng) -> u64 {
    match rng.next() % 4 {
        0 => rng.pick(BAD_POINTERS),
        1 => rng.pick(LENGTHS),
        2 => rng.next() % 64, // forged small handle values
        _ => rng.next(),
    }
}

/// One hostile call; returns the decoded result.
fn hostile_call(rng: &mut Rng) -> (u64, Result<u64, Error>, [u64; 6]) {
    // Mostly real call numbers (so argument checks are exercised), sometimes
    // any number at all.
    let number = if rng.next().is_multiple_of(4) {
        rng.next()
    } else {
        rng.pick(Syscall::ALL) as u64
    };
    let mut args = [0u64; 6];
    for arg in &mut args {
        *arg = argument(rng);
    }
    if number == Syscall::Exit as u64 {
        // Ending ourselves would end the test: ask for the time instead.
        return hostile_call(rng);
    }
    if number == Syscall::PortWait as u64 {
        // Poll (deadline 0) or a deadline already past: never sleep forever.
        args[2] = rng.next() % 2;
    }
    if number == Syscall::DebugWrite as u64 {
        // Only pointers the kernel must refuse, so nothing is printed.
        args[0] = rng.pick(BAD_POINTERS);
        if args[1] == 0 {
            args[1] = 1;
        }
    }
    // SAFETY: the kernel must cope with any arguments; our own memory is
    // never handed out writable (no call here writes through a pointer we
    // own).
    let (status, value) =
        unsafe { syscall6(number, args[0], args[1], args[2], args[3], args[4], args[5]) };
    let known = status == 0 || Error::from_code(status).is_some();
    if !known {
        abide_rt::println!(
            "hostile: call {number:#x} {args:x?} returned unknown status {status:#x}"
        );
        abide_rt::syscall::exit(2);
    }
    (number, decode_result(status, value), args)
}

fn main() -> i32 {
    abide_rt::println!("hostile: seed {SEED:#x}, {CALLS} calls");
    let mut rng = Rng(SEED);
    for index in 0..abide_rt::startup_handle_count() {
        if let Some(handle) = abide_rt::startup_handle(index) {
            let _ = abide_rt::syscall::handle_close(handle);
        }
    }
    if abide_rt::syscall::handle_close(abide_rt::process_self()).is_err() {
        abide_rt::println!("hostile: could not give up its own process handle");
        return 4;
    }
    let (mut ok, mut refused) = (0u32, 0u32);
    for _ in 0..CALLS {
        let (number, result, args) = hostile_call(&mut rng);
        match result {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
        // A debug_write through a bad pointer must never succeed.
        if number == Syscall::DebugWrite as u64 && result.is_ok() {
            abide_rt::println!("hostile: debug_write accepted bad pointer {:#x}", args[0]);
            return 3;
        }
    }
    abide_rt::println!("hostile: {CALLS} calls done: {ok} succeeded, {refused} refused with an error; the kernel is up");
    0
}
