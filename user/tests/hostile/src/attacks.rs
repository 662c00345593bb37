//! The attacks beyond random calls, each one a named option
//! (`attacks=flag-ac,edges,...` in hostile's configuration): some of them
//! found bugs that are fixed on other branches, so each can be switched on
//! on its own once its fix is in (docs/reliability.md lists which are on in
//! `cargo test`).
//!
//! Every attack makes a few system calls and returns how many; a call that
//! comes back with a status the ABI does not know ends the program (see
//! `main::check`).

use abide_abi::object::{Signals, MAP_WRITE};
use abide_abi::syscall::{decode_result, Error, Handle, Syscall};
use abide_rt::syscall::{self, syscall6};

use crate::{check, random_call_args, Rng};

/// RFLAGS bits a user may set before `syscall`.
pub const FLAG_DF: u64 = 1 << 10;
pub const FLAG_AC: u64 = 1 << 18;
pub const FLAG_NT: u64 = 1 << 14;

/// The named attacks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Attack {
    /// Random numbers and arguments (always on).
    Random,
    /// A random call with the direction flag set.
    FlagDf,
    /// A random call with the alignment-check flag set.
    FlagAc,
    /// A random call with the nested-task flag set (finding 1: #GP at the
    /// kernel's `iretq` before its fix).
    FlagNt,
    /// Calls that take pointers, with pointers at the edges of user space:
    /// the last user page, its last bytes, the first non-canonical and
    /// kernel addresses, lengths that cross the boundary.
    Edges,
    /// A channel endpoint written into its own queue, then closed (finding
    /// 4: leaked forever before its fix).
    SelfChannel,
    /// Many `port_bind` observers on objects that are then closed (finding
    /// 3: observers outlived their port before its fix).
    Observers,
    /// `memory_create` and `memory_map` in a loop until refused (finding 3
    /// and 5: uncharged page tables and mappings).
    Quota,
}

impl Attack {
    pub const ALL: [(Attack, &'static str); 8] = [
        (Attack::Random, "random"),
        (Attack::FlagDf, "flag-df"),
        (Attack::FlagAc, "flag-ac"),
        (Attack::FlagNt, "flag-nt"),
        (Attack::Edges, "edges"),
        (Attack::SelfChannel, "self-channel"),
        (Attack::Observers, "observers"),
        (Attack::Quota, "quota"),
    ];

    pub fn parse(name: &str) -> Option<Attack> {
        Attack::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(attack, _)| *attack)
    }

    /// Runs one round of the attack; returns the calls it made.
    pub fn run(self, rng: &mut Rng) -> u64 {
        match self {
            Attack::Random => {
                let (number, args) = random_call_args(rng);
                let result = raw(number, args);
                // A debug_write through a bad pointer must never succeed.
                if number == Syscall::DebugWrite as u64 && result.is_ok() {
                    abide_rt::println!("hostile: debug_write accepted bad pointer {:#x}", args[0]);
                    abide_rt::syscall::exit(3);
                }
                1
            }
            Attack::FlagDf => flagged(rng, FLAG_DF),
            Attack::FlagAc => flagged(rng, FLAG_AC),
            Attack::FlagNt => flagged(rng, FLAG_NT),
            Attack::Edges => edges(rng),
            Attack::SelfChannel => self_channel(rng),
            Attack::Observers => observers(rng),
            Attack::Quota => quota(rng),
        }
    }
}

/// One raw call, checked.
fn raw(number: u64, args: [u64; 6]) -> Result<u64, Error> {
    // SAFETY: the kernel must cope with any arguments; callers pass no
    // pointer to memory of ours that a write could corrupt (see
    // `random_call_args`).
    let (status, value) =
        unsafe { syscall6(number, args[0], args[1], args[2], args[3], args[4], args[5]) };
    check(number, &args, status);
    decode_result(status, value)
}

/// A random call made with `flags` set in RFLAGS, cleared again after it.
fn flagged(rng: &mut Rng, flags: u64) -> u64 {
    let (number, args) = random_call_args(rng);
    let status: u64;
    // SAFETY: as `raw`; the flags are set right before `syscall` and cleared
    // (with `cld` for DF) right after, so no Rust code runs with them. The
    // stack pointer moves past the red zone before `pushfq`.
    unsafe {
        core::arch::asm!(
            "sub rsp, 128",
            "pushfq",
            "or qword ptr [rsp], {set}",
            "popfq",
            "syscall",
            "pushfq",
            "and qword ptr [rsp], {clear}",
            "popfq",
            "cld",
            "add rsp, 128",
            set = in(reg) flags,
            clear = in(reg) !flags,
            inlateout("rax") number => status,
            in("rdi") args[0],
            in("rsi") args[1],
            inlateout("rdx") args[2] => _,
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            // Not `lateout`: `clear` is used after `syscall` clobbers them.
            out("rcx") _,
            out("r11") _,
        );
    }
    check(number, &args, status);
    1
}

/// Addresses at the edges of user space and beyond.
const EDGE_POINTERS: &[u64] = &[
    0x0000_7fff_ffff_f000,
    0x0000_7fff_ffff_fff0,
    0x0000_7fff_ffff_ffff,
    0x0000_7fff_ffff_e000,
    0x0000_8000_0000_0000,
    0x0000_8000_0000_0000 - 8,
    0xffff_8000_0000_0000,
    0xffff_ffff_8000_0000,
    0xffff_ffff_ffff_f000,
];

/// Lengths that reach across the last user page.
const EDGE_LENGTHS: &[u64] = &[1, 8, 16, 4096, 4097, 0x1_0000, 0x8000_0000_0000];

/// Calls that take a pointer: (call, pointer argument, length argument or
/// none). Only calls whose pointer the kernel reads or writes and that
/// cannot end us.
const POINTER_CALLS: &[(Syscall, usize, Option<usize>)] = &[
    (Syscall::DebugWrite, 0, Some(1)),
    (Syscall::ChannelWrite, 1, Some(2)),
    (Syscall::ChannelRead, 1, Some(2)),
    (Syscall::ChannelRead, 5, None),
    (Syscall::PortWait, 1, None),
    (Syscall::BundleRead, 0, Some(1)),
    (Syscall::BundleRead, 2, Some(3)),
    (Syscall::KernelLogRead, 0, None),
    (Syscall::KernelLogRead, 1, Some(2)),
    (Syscall::BootArgs, 0, Some(1)),
    (Syscall::MemoryStats, 0, None),
    (Syscall::ProcessHandles, 1, Some(2)),
    (Syscall::ProcessStatus, 1, None),
];

/// Pointer-taking calls with edge pointers on a real channel/port/process.
fn edges(rng: &mut Rng) -> u64 {
    let (call, pointer, length) = rng.pick(POINTER_CALLS);
    let mut args = [0u64; 6];
    // Handle arguments: small values, among them our own objects.
    args[0] = rng.draw() % 16;
    args[pointer] = rng.pick(EDGE_POINTERS);
    if let Some(length) = length {
        args[length] = rng.pick(EDGE_LENGTHS);
    }
    if call == Syscall::PortWait {
        args[2] = 0;
    }
    let result = raw(call as u64, args);
    if call == Syscall::DebugWrite && result.is_ok() {
        abide_rt::println!("hostile: debug_write accepted edge pointer {:#x}", args[0]);
        abide_rt::syscall::exit(3);
    }
    1
}

/// Writes a channel's peer into its own queue, with messages behind it,
/// and closes the endpoint that could still read it.
fn self_channel(rng: &mut Rng) -> u64 {
    let Ok((a, b)) = syscall::channel_create() else {
        return 1;
    };
    // B written through A lands in B's own queue: only B could read it,
    // and B has left our table. (Writing B through B itself is refused.)
    let _ = syscall::channel_write(a, b"self", &[b]);
    let mut calls = 2;
    for _ in 0..rng.draw() % 3 {
        let _ = syscall::channel_write(a, b"behind", &[]);
        calls += 1;
    }
    let _ = syscall::handle_close(a);
    // Refused when the write above moved it.
    let _ = syscall::handle_close(b);
    calls + 2
}

/// Binds many observers to objects, then closes the objects and the port.
fn observers(rng: &mut Rng) -> u64 {
    let Ok(port) = syscall::port_create() else {
        return 1;
    };
    let mut calls = 1;
    let count = 1 + rng.draw() % 64;
    let mut objects = [Handle(0); 4];
    for object in &mut objects {
        *object = syscall::timer_create().unwrap_or(Handle(0));
        calls += 1;
    }
    for key in 0..count {
        let object = objects[(key % 4) as usize];
        let _ = syscall::port_bind(port, object, key, Signals::TIMER);
        calls += 1;
    }
    // Close the objects first or the port first: both orders.
    if rng.draw().is_multiple_of(2) {
        let _ = syscall::handle_close(port);
    }
    for object in objects {
        let _ = syscall::handle_close(object);
    }
    let _ = syscall::handle_close(port);
    calls + 5
}

/// Creates and maps memory until refused, mapping some objects many times.
/// Mappings last for the life of the process: this is bounded by its
/// memory limit, and everything goes when the process ends.
fn quota(rng: &mut Rng) -> u64 {
    let mut calls = 0;
    let size = rng.pick(&[4096u64, 8192, 65_536]);
    let Ok(memory) = syscall::memory_create(size) else {
        return 1;
    };
    calls += 1;
    let maps = 1 + rng.draw() % 32;
    for _ in 0..maps {
        calls += 1;
        if syscall::memory_map(memory, rng.pick(&[0, MAP_WRITE])).is_err() {
            break;
        }
    }
    let _ = syscall::handle_close(memory);
    calls + 1
}
