//! The kernel's syscall exception port (`abide_abi::trap`), end to end: this
//! program is the handler of a foreign-ABI process running a small
//! hand-written x86_64 program (below, copied into it with
//! `process_write`) that issues raw Linux-numbered `syscall`s. It serves
//! `write` (reading the bytes with `process_read`), `arch_prctl(SET_FS)`
//! (the code reads `%fs:0` back), a null dereference (`TRAP_FAULT` at
//! address 0), a second thread (`thread_start`), `exit`/`exit_group`
//! (`END_THREAD`: the process ends `Exited(0)`), `trap_interrupt` of a
//! spinning thread, and checks the refusals: `trap_resume` on a running
//! thread, through another channel, with `rip`/`rsp`/`fs_base` outside user
//! space, RFLAGS' IOPL and NT masked, `thread_start` on an Abide process.
//! Last, closing a handler's end ends its foreign process. Prints one line
//! per check and exits 0 only if all held (`tests/trap.rs`).
//!
//! As the component of `system/trap-persist.conf` it serves a persistent
//! foreign process that counts in `getpid` calls forever, takes a
//! checkpoint at a set count, and checks each count follows the last (a
//! trap served twice after a restore would repeat one), so a power cut
//! shows whether the stopped thread resumed with its id and its count.
#![no_std]
#![no_main]

extern crate alloc;

use abide_abi::object::{ProcessState, SpawnOptions};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Handle};
use abide_abi::trap::{
    TrapMessage, TrapRegisters, PROT_EXEC, PROT_READ, PROT_WRITE, TRAP_FAULT, TRAP_INTERRUPT,
    TRAP_SYSCALL,
};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall::{
    channel_create, handle_close, process_create, process_map, process_read, process_status,
    process_write, set_spawn_authority, thread_start, trap_end_thread, trap_interrupt, trap_resume,
};

abide_rt::entry!(main);

const MS: u64 = 1_000_000;
const PAGE: u64 = 4096;
/// Where the foreign program's code, TLS block and stacks go.
const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x50_0000;
const STACK: u64 = 0x60_0000;
/// What the foreign program finds at `%fs:0`.
const MAGIC: u64 = 0x7472_6170_2d66_7321;
/// The end of user space (the kernel's `USER_END`).
const USER_END: u64 = 0x0000_8000_0000_0000 - 4096;
/// RFLAGS: IOPL 3 and NT, which a handler must not be able to give.
const IOPL_NT: u64 = 0x3000 | 0x4000;
/// Linux x86_64 call numbers the foreign program uses.
const WRITE: u64 = 1;
const GETPID: u64 = 39;
const CLONE: u64 = 56;
const EXIT: u64 = 60;
const ARCH_PRCTL: u64 = 158;
const EXIT_GROUP: u64 = 231;
const ARCH_SET_FS: u64 = 0x1002;

// The foreign program: position-independent, copied to `CODE`. It is data
// to this program (never run here).
core::arch::global_asm!(
    r#"
    .section .rodata.trap_test_foreign, "a"
    .global trap_test_foreign_start
trap_test_foreign_start:
    mov $1, %eax                /* write(1, "hi", 2) */
    mov $1, %edi
    lea 9f(%rip), %rsi
    mov $2, %edx
    syscall
    mov $158, %eax              /* arch_prctl(ARCH_SET_FS, DATA) */
    mov $0x1002, %edi
    mov ${data}, %esi
    syscall
    mov %fs:0, %rdi             /* getpid(), %fs:0 in rdi */
    mov $39, %eax
    syscall
    xor %ebx, %ebx              /* a null dereference */
    mov (%rbx), %rax
    .global trap_test_after_fault
trap_test_after_fault:
    lea trap_test_second(%rip), %rdi   /* clone(entry, stack) */
    mov ${second_stack}, %esi
    mov $56, %eax
    syscall
    mov $60, %eax               /* exit(0): this thread */
    xor %edi, %edi
    syscall
    ud2
    .global trap_test_second
trap_test_second:
    mov $39, %eax               /* getpid(), 2 in rdi */
    mov $2, %edi
    syscall
    .global trap_test_spin
trap_test_spin:
    jmp trap_test_spin          /* until interrupted */
    .global trap_test_exit_group
trap_test_exit_group:
    mov $231, %eax              /* exit_group(7) */
    mov $7, %edi
    syscall
    ud2
    .global trap_test_counter
trap_test_counter:
    xor %r12d, %r12d
1:  inc %r12                    /* getpid(), a count in rdi, forever */
    mov $39, %eax
    mov %r12, %rdi
    syscall
    jmp 1b
9:  .ascii "hi"
    .global trap_test_foreign_end
trap_test_foreign_end:
    .text
"#,
    data = const DATA,
    second_stack = const STACK + 2 * PAGE,
    options(att_syntax)
);

extern "C" {
    static trap_test_foreign_start: u8;
    static trap_test_foreign_end: u8;
    static trap_test_after_fault: u8;
    static trap_test_second: u8;
    static trap_test_spin: u8;
    static trap_test_exit_group: u8;
    static trap_test_counter: u8;
}

/// Where label `label` of the foreign program is in the foreign process.
fn foreign_address(label: &u8) -> u64 {
    let start = core::ptr::addr_of!(trap_test_foreign_start) as u64;
    CODE + (label as *const u8 as u64 - start)
}

/// The foreign program's bytes.
fn foreign_code() -> &'static [u8] {
    let start = core::ptr::addr_of!(trap_test_foreign_start);
    let end = core::ptr::addr_of!(trap_test_foreign_end) as usize;
    // SAFETY: both labels delimit the read-only blob above, in this order.
    unsafe { core::slice::from_raw_parts(start, end - start as usize) }
}

/// Prints a check's outcome; true if it held.
fn check(what: &str, held: bool) -> bool {
    println!("trap-test: {what}: {}", if held { "ok" } else { "FAILED" });
    held
}

fn main() -> i32 {
    // Started by init (`system/trap-persist.conf`) it has a manifest;
    // started by the kernel its one startup handle is the hardware.
    if let Ok(component) = abide_rt::component::Component::get() {
        let Some(hardware) = component.device("hardware") else {
            println!("trap-test: persist: FAILED: no hardware resource");
            return 1;
        };
        set_spawn_authority(hardware);
        let result = count_across_power_cuts(hardware);
        println!("trap-test: persist: FAILED with {result:?}");
        return 1;
    }
    if let Some(hardware) = abide_rt::startup_handle(0) {
        set_spawn_authority(hardware);
    }
    match run() {
        Ok(true) => {
            println!("trap-test: all checks passed");
            0
        }
        Ok(false) => {
            println!("trap-test: some checks FAILED");
            1
        }
        Err(error) => {
            println!("trap-test: FAILED with {error:?}");
            2
        }
    }
}

/// A foreign process with the program, its TLS block and two stacks
/// mapped, trapping through a new channel; returns (process, handler end).
fn foreign_process(name: &str, options: &SpawnOptions) -> Result<(Handle, Handle), Error> {
    let (handler, trap_end) = channel_create()?;
    let process = process_create(name, trap_end, options)?;
    // The process holds its own reference to the trap channel.
    handle_close(trap_end)?;
    process_map(process, CODE, PAGE, PROT_READ | PROT_EXEC)?;
    process_write(process, CODE, foreign_code())?;
    process_map(process, DATA, PAGE, PROT_READ | PROT_WRITE)?;
    process_write(process, DATA, &MAGIC.to_le_bytes())?;
    process_map(process, STACK, 2 * PAGE, PROT_READ | PROT_WRITE)?;
    Ok((process, handler))
}

/// Registers starting at `rip` with stack `rsp`.
fn starting(rip: u64, rsp: u64) -> TrapRegisters {
    TrapRegisters {
        rip,
        rsp,
        rflags: 0x202,
        ..TrapRegisters::default()
    }
}

/// The next trap at `handler`.
fn next_trap(waiter: &Waiter, handler: Handle) -> Result<TrapMessage, Error> {
    let message = waiter.recv(handler, after_ns(10_000 * MS))?;
    TrapMessage::decode(&message.bytes).ok_or(Error::InvalidArgument)
}

/// What the foreign program did, as the handler saw it.
#[derive(Default)]
struct Seen {
    ok: bool,
    second: Option<u64>,
    interrupted: bool,
    ended: u32,
}

fn run() -> Result<bool, Error> {
    let waiter = Waiter::new()?;
    let (process, handler) = foreign_process("foreign", &SpawnOptions::default())?;
    let first = thread_start(process, &starting(CODE, STACK + PAGE), 1)?;
    let mut seen = Seen {
        ok: true,
        ..Seen::default()
    };
    while seen.ended < 2 {
        let trap = next_trap(&waiter, handler)?;
        handle_trap(&waiter, process, handler, first, &trap, &mut seen)?;
    }
    let mut ok = seen.ok;
    ok &= check("the second thread was interrupted", seen.interrupted);
    waiter.wait(
        process,
        abide_abi::object::Signals::TERMINATED,
        after_ns(5_000 * MS),
    )?;
    let status = process_status(process)?;
    ok &= check(
        "exit_group of the last thread: the process exited with 0",
        status.state == ProcessState::Exited && status.code == 0,
    );
    ok &= handler_close_ends_process(&waiter)?;
    Ok(ok)
}

/// Serves one trap of the foreign program.
fn handle_trap(
    waiter: &Waiter,
    process: Handle,
    handler: Handle,
    first: u64,
    trap: &TrapMessage,
    seen: &mut Seen,
) -> Result<(), Error> {
    let mut regs = trap.regs;
    let call = if trap.kind == TRAP_SYSCALL {
        regs.rax
    } else {
        u64::MAX
    };
    match (trap.kind, call) {
        (TRAP_SYSCALL, WRITE) => {
            let mut bytes = [0u8; 2];
            process_read(process, regs.rsi, &mut bytes)?;
            println!(
                "trap-test: write from the foreign process: {}",
                core::str::from_utf8(&bytes).unwrap_or("?")
            );
            seen.ok &= check(
                "a write traps with thread, key and arguments",
                trap.thread == first && trap.key == 1 && regs.rdi == 1 && regs.rdx == 2,
            );
            seen.ok &= check("the bytes read back", &bytes == b"hi");
            seen.ok &= refusals(process, handler, first, &regs)?;
            regs.rax = 2;
            // IOPL and NT are masked, not refused.
            regs.rflags |= IOPL_NT;
            trap_resume(handler, first, &regs)?;
            seen.ok &= check(
                "trap_resume on a thread not stopped is refused",
                trap_resume(handler, first, &regs) == Err(Error::InvalidArgument),
            );
        }
        (TRAP_SYSCALL, ARCH_PRCTL) => {
            seen.ok &= check(
                "the resumed thread's flags lost IOPL and NT",
                regs.rflags & IOPL_NT == 0 && regs.rflags & 0x200 != 0,
            );
            seen.ok &= check(
                "arch_prctl(ARCH_SET_FS)",
                regs.rdi == ARCH_SET_FS && regs.rsi == DATA,
            );
            regs.fs_base = regs.rsi;
            regs.rax = 0;
            trap_resume(handler, trap.thread, &regs)?;
        }
        (TRAP_SYSCALL, GETPID) if trap.thread == first => {
            seen.ok &= check(
                "the foreign code read its FS base back",
                regs.rdi == MAGIC && regs.fs_base == DATA,
            );
            trap_resume(handler, trap.thread, &regs)?;
        }
        (TRAP_FAULT, _) => {
            // SAFETY: only the label's address is taken.
            let after_fault = foreign_address(unsafe { &trap_test_after_fault });
            // `mov (%rbx), %rax` is 3 bytes, just before the label.
            seen.ok &= check(
                "a null dereference traps as a page fault at 0",
                trap.vector == 14 && trap.address == 0 && regs.rip == after_fault - 3,
            );
            regs.rip = after_fault;
            trap_resume(handler, trap.thread, &regs)?;
        }
        (TRAP_SYSCALL, CLONE) => {
            // SAFETY: only the label's address is taken.
            let entry = foreign_address(unsafe { &trap_test_second });
            let mut start = starting(regs.rdi, regs.rsi);
            start.fs_base = regs.fs_base;
            let second = thread_start(process, &start, 2)?;
            seen.ok &= check("clone's entry is the second thread's", regs.rdi == entry);
            seen.second = Some(second);
            regs.rax = second;
            trap_resume(handler, trap.thread, &regs)?;
        }
        (TRAP_SYSCALL, GETPID) => {
            seen.ok &= check(
                "a second thread traps with its own id and key",
                Some(trap.thread) == seen.second && trap.key == 2 && regs.rdi == 2,
            );
            trap_resume(handler, trap.thread, &regs)?;
            // Let it spin a while, then stop it.
            let _ = waiter.wait(
                process,
                abide_abi::object::Signals::TERMINATED,
                after_ns(50 * MS),
            );
            trap_interrupt(handler, trap.thread)?;
        }
        (TRAP_INTERRUPT, _) => {
            // SAFETY: only the labels' addresses are taken.
            let (spin, exit_group) = unsafe {
                (
                    foreign_address(&trap_test_spin),
                    foreign_address(&trap_test_exit_group),
                )
            };
            seen.interrupted = Some(trap.thread) == seen.second && regs.rip == spin;
            regs.rip = exit_group;
            trap_resume(handler, trap.thread, &regs)?;
        }
        (TRAP_SYSCALL, EXIT | EXIT_GROUP) => {
            trap_end_thread(handler, trap.thread)?;
            seen.ended += 1;
        }
        _ => {
            println!(
                "trap-test: unexpected trap kind {} call {} at {:#x}",
                trap.kind, call, regs.rip
            );
            seen.ok = false;
            trap_end_thread(handler, trap.thread)?;
            seen.ended += 1;
        }
    }
    Ok(())
}

/// The refusals, while `thread` is stopped in a trap at `handler` with
/// `regs`.
fn refusals(
    process: Handle,
    handler: Handle,
    thread: u64,
    regs: &TrapRegisters,
) -> Result<bool, Error> {
    let mut ok = true;
    let (other, _other_peer) = channel_create()?;
    ok &= check(
        "trap_resume through another channel is refused",
        trap_resume(other, thread, regs) == Err(Error::InvalidArgument),
    );
    for (what, bad) in [
        (
            "rip",
            TrapRegisters {
                rip: USER_END,
                ..*regs
            },
        ),
        (
            "rsp",
            TrapRegisters {
                rsp: USER_END,
                ..*regs
            },
        ),
        (
            "fs_base",
            TrapRegisters {
                fs_base: u64::MAX,
                ..*regs
            },
        ),
    ] {
        ok &= check(
            &alloc::format!("trap_resume with {what} outside user space is refused"),
            trap_resume(handler, thread, &bad) == Err(Error::InvalidArgument),
        );
    }
    ok &= check(
        "thread_start on an Abide process is refused",
        thread_start(abide_rt::process_self(), &starting(CODE, STACK), 9) == Err(Error::WrongType),
    );
    ok &= check(
        "thread_start with rip outside user space is refused",
        thread_start(process, &starting(USER_END, STACK), 9) == Err(Error::InvalidArgument),
    );
    Ok(ok)
}

/// A foreign process whose handler end closes ends (`Killed`), at once.
fn handler_close_ends_process(waiter: &Waiter) -> Result<bool, Error> {
    let (process, handler) = foreign_process("orphan", &SpawnOptions::default())?;
    // SAFETY: only the label's address is taken.
    let spin = foreign_address(unsafe { &trap_test_spin });
    thread_start(process, &starting(spin, STACK + PAGE), 3)?;
    // It spins a while.
    let _ = waiter.wait(
        process,
        abide_abi::object::Signals::TERMINATED,
        after_ns(30 * MS),
    );
    handle_close(handler)?;
    let status = process_status(process)?;
    Ok(check(
        "closing the handler end ends its foreign process",
        status.state == ProcessState::Killed,
    ))
}

/// The count at which the persistent run takes its checkpoint.
const SNAPSHOT_AT: u64 = 3000;
/// How often the persistent run prints its count.
const PRINT_EVERY: u64 = 1000;

/// `system/trap-persist.conf`: serves a persistent foreign counter forever (see
/// the module documentation); returns only on a failure.
fn count_across_power_cuts(hardware: Handle) -> Result<(), Error> {
    let waiter = Waiter::new()?;
    let options = SpawnOptions {
        flags: abide_abi::object::SPAWN_PERSISTENT,
        ..SpawnOptions::default()
    };
    let (process, handler) = foreign_process("counter", &options)?;
    // SAFETY: only the label's address is taken.
    let counter = foreign_address(unsafe { &trap_test_counter });
    thread_start(process, &starting(counter, STACK + PAGE), 4)?;
    let mut last = 0;
    // Set before the checkpoint, so the resumed program does not take
    // another.
    let mut checkpointed = false;
    loop {
        let trap = next_trap(&waiter, handler)?;
        let count = trap.regs.rdi;
        if trap.kind != TRAP_SYSCALL || trap.regs.rax != GETPID || trap.key != 4 {
            return Err(Error::InvalidArgument);
        }
        if count != last + 1 {
            println!("trap-test: persist: count {count} after {last}");
            return Err(Error::InvalidArgument);
        }
        last = count;
        if count % PRINT_EVERY == 0 {
            println!("trap-test: persist: count {count} thread {}", trap.thread);
        }
        if count == SNAPSHOT_AT && !checkpointed {
            checkpointed = true;
            let generation = abide_rt::syscall::persist_snapshot(hardware)?;
            println!("trap-test: persist: checkpoint {generation} at count {count}");
        }
        // After a restore the thread is still stopped in the trap taken
        // before the checkpoint: this answers it.
        trap_resume(handler, trap.thread, &trap.regs)?;
    }
}
