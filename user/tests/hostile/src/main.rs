//! A hostile process: system calls with random call numbers, kernel and
//! unmapped pointers, misaligned and huge lengths, and forged handles, from
//! a fixed seed it prints so a failure replays, and — when asked — the
//! named attacks of [`attacks`] (RFLAGS games, edge addresses, self-sent
//! channels, observer floods, quota loops). Every call must come back with
//! success or a known error code; the kernel must stay up.
//!
//! Started by the kernel (`init=hostile`) it makes 100,000 random calls.
//! Started by `fuzz` it first reads its orders from the channel that is its
//! first startup handle, waiting until they come: one text message `id=K
//! seed=S calls=N attacks=a,b,...` ([`Orders`]).
//!
//! It never calls `exit` by accident (only at the end) and only passes bad
//! pointers to `debug_write`, so nothing it does is visible but its verdict.
//! It first gives up its own process handle and its startup handles (the
//! hardware resource), so random calls cannot kill it or reprogram devices,
//! and (past its orders) it never waits on a port past "now", so it cannot
//! sleep forever.
#![no_std]
#![no_main]

extern crate alloc;

mod attacks;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use abide_abi::syscall::{Error, Syscall};
use abide_rt::blocking::{after_ns, Waiter};

use attacks::Attack;

abide_rt::entry!(main);

/// Fixed seed: failures replay exactly.
const SEED: u64 = 0x5eed_ab1d_e000_0001;
const CALLS: u64 = 100_000;
/// How long to wait for the orders `fuzz` writes after spawning.
const ORDERS_WAIT_NS: u64 = 120_000_000_000;

/// xorshift64*: small, deterministic, good enough to spread arguments.
pub struct Rng(u64);

impl Rng {
    pub fn draw(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.draw() % items.len() as u64) as usize]
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
    match rng.draw() % 4 {
        0 => rng.pick(BAD_POINTERS),
        1 => rng.pick(LENGTHS),
        2 => rng.draw() % 64, // forged small handle values
        _ => rng.draw(),
    }
}

/// A random call: its number and arguments. Never `exit`, never a wait
/// into the future, and `debug_write` only through pointers the kernel
/// must refuse.
pub fn random_call_args(rng: &mut Rng) -> (u64, [u64; 6]) {
    loop {
        // Mostly real call numbers (so argument checks are exercised),
        // sometimes any number at all.
        let number = if rng.draw().is_multiple_of(4) {
            rng.draw()
        } else {
            rng.pick(Syscall::ALL) as u64
        };
        if number == Syscall::Exit as u64 {
            // Ending ourselves would end the test.
            continue;
        }
        let mut args = [0u64; 6];
        for arg in &mut args {
            *arg = argument(rng);
        }
        if number == Syscall::PortWait as u64 {
            // Poll (deadline 0) or a deadline already past.
            args[2] = rng.draw() % 2;
        }
        if number == Syscall::DebugWrite as u64 {
            args[0] = rng.pick(BAD_POINTERS);
            if args[1] == 0 {
                args[1] = 1;
            }
        }
        return (number, args);
    }
}

/// Checked calls that succeeded, and that were refused with an error.
static SUCCEEDED: AtomicU64 = AtomicU64::new(0);
static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Ends the program if `status` is not one the ABI knows; counts it.
pub fn check(number: u64, args: &[u64; 6], status: u64) {
    let counter = if status == 0 { &SUCCEEDED } else { &REFUSED };
    counter.fetch_add(1, Ordering::Relaxed);
    if status != 0 && Error::from_code(status).is_none() {
        abide_rt::println!(
            "hostile: call {number:#x} {args:x?} returned unknown status {status:#x}"
        );
        abide_rt::syscall::exit(2);
    }
}

/// What to do: from `fuzz`, or the defaults.
struct Orders {
    id: u64,
    seed: u64,
    calls: u64,
    attacks: Vec<Attack>,
}

impl Orders {
    fn parse(text: &str) -> Option<Orders> {
        let mut orders = Orders {
            id: 0,
            seed: SEED,
            calls: CALLS,
            attacks: alloc::vec![Attack::Random],
        };
        for word in text.split_whitespace() {
            let (key, value) = word.split_once('=')?;
            let number = || {
                value.strip_prefix("0x").map_or_else(
                    || value.parse().ok(),
                    |hex| u64::from_str_radix(hex, 16).ok(),
                )
            };
            match key {
                "id" => orders.id = number()?,
                "seed" => orders.seed = number()?,
                "calls" => orders.calls = number()?,
                "attacks" => {
                    for name in value.split(',').filter(|n| !n.is_empty()) {
                        let attack = Attack::parse(name)?;
                        if !orders.attacks.contains(&attack) {
                            orders.attacks.push(attack);
                        }
                    }
                }
                _ => return None,
            }
        }
        Some(orders)
    }

    /// The orders on the first startup handle, if it is a channel: waits
    /// for the message (`fuzz` writes it once all its hostile processes
    /// exist); the defaults if the handle is not a channel.
    fn receive() -> Result<Orders, &'static str> {
        let Some(channel) = abide_rt::startup_handle(0) else {
            return Ok(Orders::parse("").unwrap_or_else(|| unreachable!()));
        };
        let waiter = Waiter::new().map_err(|_| "no port to wait for the orders on")?;
        match waiter.recv(channel, after_ns(ORDERS_WAIT_NS)) {
            Ok(message) => {
                let text =
                    core::str::from_utf8(&message.bytes).map_err(|_| "orders are not text")?;
                Orders::parse(text).ok_or("bad orders")
            }
            Err(Error::TimedOut) => Err("no orders came"),
            // Not a channel (the kernel's hardware resource): the defaults.
            Err(_) => Orders::parse("").ok_or("bad defaults"),
        }
    }
}

fn main() -> i32 {
    let orders = match Orders::receive() {
        Ok(orders) => orders,
        Err(why) => {
            abide_rt::println!("hostile: {why}");
            return 5;
        }
    };
    let names: Vec<&str> = orders
        .attacks
        .iter()
        .filter_map(|a| Attack::ALL.iter().find(|(b, _)| b == a).map(|(_, n)| *n))
        .collect();
    let id = orders.id;
    abide_rt::println!(
        "hostile: seed {:#x}, {} calls, attacks {} (id {id})",
        orders.seed,
        orders.calls,
        names.join(",")
    );
    for index in 0..abide_rt::startup_handle_count() {
        if let Some(handle) = abide_rt::startup_handle(index) {
            let _ = abide_rt::syscall::handle_close(handle);
        }
    }
    if abide_rt::syscall::handle_close(abide_rt::process_self()).is_err() {
        abide_rt::println!("hostile: could not give up its own process handle");
        return 4;
    }
    let mut rng = Rng(orders.seed ^ id.wrapping_mul(abide_splitmix::GAMMA));
    let mut calls = 0u64;
    while calls < orders.calls {
        let attack = rng.pick(&orders.attacks);
        calls += attack.run(&mut rng);
    }
    abide_rt::println!(
        "hostile: {calls} calls done: {} succeeded, {} refused with an error; the kernel is up (id {id})",
        SUCCEEDED.load(Ordering::Relaxed),
        REFUSED.load(Ordering::Relaxed)
    );
    0
}
