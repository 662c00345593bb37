//! Entry hardening, tried from user space (tests/hardening.rs boots it as
//! `init=flags`): everything here needs no handle at all, so none of it may
//! stop the machine.
//!
//! - The flags a program can set with `popfq` — NT, AC, DF — are set around
//!   system calls that copy data in and out; the calls must work, the data
//!   must arrive intact, and the program keeps its flags. (NT reaching the
//!   kernel's `iretq` once ended the machine with a #GP.)
//! - TF: a crafted child sets it and makes a system call; the #DB that
//!   follows must end the child alone.
//! - The loader: crafted ELF images spawned from a memory object — a valid
//!   one runs; one with code on the last user page (a `syscall` there would
//!   return to a non-canonical address) and one with a writable and
//!   executable segment (W^X) are refused.
//!
//! Each check prints `flags: <check>: ... (ok)` or `... FAILED`; the last line
//! is the verdict, `flags: all checks passed` or `flags: N checks FAILED`.
#![no_std]
#![no_main]

use core::arch::asm;

use abide_abi::object::{MessageInfo, ProcessState, Signals};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Syscall};
use abide_rt::blocking::{after_ns, Waiter};
use abide_rt::println;
use abide_rt::syscall::{
    channel_create, handle_close, memory_create, memory_map, process_spawn_image, process_status,
    MAP_WRITE,
};

abide_rt::entry!(main);

/// RFLAGS bits (TF, 1 << 8, is set by the crafted child's own code).
const DF: u64 = 1 << 10;
const NT: u64 = 1 << 14;
const AC: u64 = 1 << 18;

/// System calls made with each flag set.
const CALLS: u32 = 200;

fn main() -> i32 {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let mut failed = 0u32;
    let mut check = |name: &str, result: Result<(), &'static str>| match result {
        Ok(()) => println!("flags: {name}: (ok)"),
        Err(why) => {
            println!("flags: {name}: {why} FAILED");
            failed += 1;
        }
    };
    // The loader first: its checks leave the machine up either way.
    check(
        "a valid crafted image runs",
        spawn_expect_exit(&valid_image(), 7),
    );
    check(
        "an image with code on the last user page is refused",
        spawn_expect_refusal(&last_page_image()),
    );
    check(
        "an image with a writable and executable segment is refused",
        spawn_expect_refusal(&writable_executable_image()),
    );
    check(
        "TF: a child single-stepping into a system call ends alone",
        trap_flag_child(),
    );
    for (name, flag) in [("DF", DF), ("AC", AC), ("NT", NT)] {
        println!("flags: setting {name} around {CALLS} system calls");
        let result = calls_with_flag(flag);
        check(name, result);
    }
    if failed == 0 {
        println!("flags: all checks passed");
        0
    } else {
        println!("flags: {failed} checks FAILED");
        1
    }
}

/// System call `n` made with `flag` set in RFLAGS just before the `syscall`
/// instruction and cleared right after; returns (status, value, RFLAGS
/// as the kernel gave them back).
///
/// # Safety
/// As for `abide_rt::syscall::syscall6`: the arguments satisfy call `n`.
unsafe fn syscall_with_flag(flag: u64, n: u64, args: [u64; 6]) -> (u64, u64, u64) {
    let (status, value, after): (u64, u64, u64);
    // SAFETY: the flag is set and cleared within this block, so Rust code
    // (which assumes DF clear) never runs with it; `rcx` and `r11` are
    // declared clobbered before any input is read (non-late), so `{clear}`
    // survives the `syscall`.
    unsafe {
        asm!(
            "pushfq",
            "or qword ptr [rsp], {flag}",
            "popfq",
            "syscall",
            "pushfq",
            "pop {after}",
            "pushfq",
            "and qword ptr [rsp], {clear}",
            "popfq",
            flag = in(reg) flag,
            clear = in(reg) !flag,
            after = out(reg) after,
            inlateout("rax") n => status,
            in("rdi") args[0],
            in("rsi") args[1],
            inlateout("rdx") args[2] => value,
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            out("rcx") _,
            out("r11") _,
        );
    }
    (status, value, after)
}

/// Spins with `flag` set long enough for timer interrupts to arrive while it
/// is (about 50 ms under TCG), then clears it.
fn spin_with_flag(flag: u64) {
    // SAFETY: only RFLAGS changes, and it is restored before Rust code runs.
    unsafe {
        asm!(
            "pushfq",
            "or qword ptr [rsp], {flag}",
            "popfq",
            "2:",
            "pause",
            "dec {count}",
            "jnz 2b",
            "pushfq",
            "and qword ptr [rsp], {clear}",
            "popfq",
            flag = in(reg) flag,
            clear = in(reg) !flag,
            count = inout(reg) 2_000_000u64 => _,
        );
    }
}

/// Writes and reads a message through a channel and reads the clock, each
/// with `flag` set; the kernel must copy the bytes forward and intact, and
/// give the flag back.
fn calls_with_flag(flag: u64) -> Result<(), &'static str> {
    let (a, b) = channel_create().map_err(|_| "channel_create failed")?;
    let message: [u8; 64] = core::array::from_fn(|i| i as u8 + 1);
    for round in 0..CALLS {
        let (status, _, after) = unsafe {
            // SAFETY: the kernel reads 64 bytes of `message`, no handles.
            syscall_with_flag(
                flag,
                Syscall::ChannelWrite as u64,
                [u64::from(a.0), message.as_ptr() as u64, 64, 0, 0, 0],
            )
        };
        if status != 0 {
            return Err("channel_write with the flag set failed");
        }
        if after & flag == 0 {
            return Err("the kernel cleared the program's flag");
        }
        let mut buffer = [0u8; 64];
        let mut info = [0u8; MessageInfo::LEN];
        let (status, _, _) = unsafe {
            // SAFETY: the kernel writes at most 64 bytes to `buffer` and
            // `MessageInfo::LEN` bytes to `info`.
            syscall_with_flag(
                flag,
                Syscall::ChannelRead as u64,
                [
                    u64::from(b.0),
                    buffer.as_mut_ptr() as u64,
                    64,
                    0,
                    0,
                    info.as_mut_ptr() as u64,
                ],
            )
        };
        if status != 0 {
            return Err("channel_read with the flag set failed");
        }
        if buffer != message || MessageInfo::decode(&info).is_none_or(|info| info.bytes != 64) {
            return Err("the message arrived changed");
        }
        // SAFETY: the clock call takes no pointers.
        let (status, _, _) = unsafe { syscall_with_flag(flag, Syscall::Clock as u64, [0; 6]) };
        if status != 0 {
            return Err("clock with the flag set failed");
        }
        if round % 50 == 0 {
            spin_with_flag(flag);
        }
    }
    let _ = handle_close(a);
    let _ = handle_close(b);
    Ok(())
}

// ---- crafted ELF images -------------------------------------------------

/// Where the valid images put their one segment (as `user/user.ld` does).
const TEXT: u64 = 0x40_0000;
/// The first address past user space: 2^47, where the non-canonical hole
/// starts.
const HOLE: u64 = 0x0000_8000_0000_0000;

/// `mov eax, EXIT; mov edi, 7; syscall; ud2`.
const EXIT_7: &[u8] = &[
    0xb8, 0x01, 0x00, 0x00, 0x00, 0xbf, 0x07, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x0f, 0x0b,
];

/// `mov eax, CLOCK; syscall`: placed so that the `syscall` ends exactly at
/// the hole, its return address is non-canonical.
const CLOCK_AT_THE_END: &[u8] = &[0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x05];

/// `mov eax, CLOCK; pushfq; or qword [rsp], TF; popfq; syscall; nop;
/// mov eax, EXIT; mov edi, 0; syscall; ud2`: the system call runs with TF
/// set, and the program must be stopped by #DB right after it.
const SINGLE_STEP: &[u8] = &[
    0xb8, 0x03, 0x00, 0x00, 0x00, // mov eax, 3
    0x9c, // pushfq
    0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, // or qword [rsp], 0x100
    0x9d, // popfq
    0x0f, 0x05, // syscall
    0x90, // nop
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
    0xbf, 0x00, 0x00, 0x00, 0x00, // mov edi, 0
    0x0f, 0x05, // syscall
    0x0f, 0x0b, // ud2
];

/// ELF program-header flags.
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Size of the ELF header and of one program header.
const EHDR: usize = 64;
const PHDR: usize = 56;

/// A static x86_64 executable with one PT_LOAD segment holding `code` at
/// `vaddr` with `flags`, entered at its first byte.
fn image(code: &[u8], vaddr: u64, flags: u32) -> [u8; 256] {
    let mut elf = [0u8; 256];
    let offset = (EHDR + PHDR) as u64;
    let mut put = |at: usize, bytes: &[u8]| elf[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &[0x7f, b'E', b'L', b'F', 2, 1, 1]); // 64-bit, little-endian, v1
    put(16, &2u16.to_le_bytes()); // ET_EXEC
    put(18, &0x3eu16.to_le_bytes()); // x86_64
    put(20, &1u32.to_le_bytes());
    put(24, &vaddr.to_le_bytes()); // entry
    put(32, &(EHDR as u64).to_le_bytes()); // program headers right after
    put(52, &(EHDR as u16).to_le_bytes());
    put(54, &(PHDR as u16).to_le_bytes());
    put(56, &1u16.to_le_bytes());
    let ph = EHDR;
    put(ph, &1u32.to_le_bytes()); // PT_LOAD
    put(ph + 4, &flags.to_le_bytes());
    put(ph + 8, &offset.to_le_bytes());
    put(ph + 16, &vaddr.to_le_bytes());
    put(ph + 24, &vaddr.to_le_bytes());
    put(ph + 32, &(code.len() as u64).to_le_bytes()); // file size
    put(ph + 40, &(code.len() as u64).to_le_bytes()); // memory size
    put(ph + 48, &4096u64.to_le_bytes());
    put(offset as usize, code);
    elf
}

fn valid_image() -> [u8; 256] {
    image(EXIT_7, TEXT, PF_R | PF_X)
}

fn last_page_image() -> [u8; 256] {
    let code = CLOCK_AT_THE_END;
    image(code, HOLE - code.len() as u64, PF_R | PF_X)
}

fn writable_executable_image() -> [u8; 256] {
    image(EXIT_7, TEXT, PF_R | PF_W | PF_X)
}

/// Spawns `elf` from a memory object, as `crafted`.
fn spawn(elf: &[u8]) -> Result<abide_abi::syscall::Handle, Error> {
    let memory = memory_create(4096)?;
    let at = memory_map(memory, MAP_WRITE)?;
    // SAFETY: the mapping is 4096 bytes long, writable and ours alone.
    unsafe { core::ptr::copy_nonoverlapping(elf.as_ptr(), at, elf.len()) };
    let result = process_spawn_image(memory, "crafted", &[]);
    let _ = handle_close(memory);
    result
}

/// Waits up to 30 s for `child` to end and returns its status.
fn wait_for(child: abide_abi::syscall::Handle) -> Result<abide_abi::object::ProcessStatus, Error> {
    let waiter = Waiter::new()?;
    waiter.wait(child, Signals::TERMINATED, after_ns(30_000_000_000))?;
    let status = process_status(child);
    let _ = handle_close(child);
    status
}

fn spawn_expect_exit(elf: &[u8], code: i32) -> Result<(), &'static str> {
    let child = spawn(elf).map_err(|_| "process_spawn refused it")?;
    let status = wait_for(child).map_err(|_| "waiting for it failed")?;
    if status.state == ProcessState::Exited && status.code == code {
        Ok(())
    } else {
        println!("flags: the crafted child ended as {:?}", status.state);
        Err("it did not exit with the expected status")
    }
}

fn spawn_expect_refusal(elf: &[u8]) -> Result<(), &'static str> {
    match spawn(elf) {
        Err(Error::InvalidArgument) => Ok(()),
        Err(_) => Err("refused, but not as an invalid image"),
        Ok(child) => {
            let status = wait_for(child).map_err(|_| "waiting for it failed")?;
            println!(
                "flags: the crafted child ran and ended as {:?} (vector {}, rip {:#x})",
                status.state, status.vector, status.rip
            );
            Err("the loader accepted it")
        }
    }
}

fn trap_flag_child() -> Result<(), &'static str> {
    let child =
        spawn(&image(SINGLE_STEP, TEXT, PF_R | PF_X)).map_err(|_| "process_spawn refused it")?;
    let status = wait_for(child).map_err(|_| "waiting for it failed")?;
    println!(
        "flags: the single-stepping child ended as {:?} (vector {}, rip {:#x})",
        status.state, status.vector, status.rip
    );
    let debug = 1;
    if status.state == ProcessState::Faulted && status.vector == debug {
        Ok(())
    } else {
        Err("it was not ended by its #DB")
    }
}
