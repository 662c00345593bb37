//! Hardening finding 8, from a process's side. Reading the kernel's log
//! (every process's output) needs `READ` on the hardware resource: without
//! it `kernel_log_read` is refused. And a process cannot print a line that
//! reads as the kernel's: it prints forged kernel reports (an exception, a
//! panic, another process's end, the shell's prompt) and a line left
//! unfinished; the kernel tags each with this process's id and name, and
//! the host's parser (`abide_abi::host::kernel_reported`) must not take
//! them for the kernel's (`tests/authority.rs`). Nor can it name a child
//! with a line break, which the kernel would print in its own lines.
#![no_std]
#![no_main]

use abide_abi::host::{EXCEPTION_REPORT_PREFIX, PANIC_REPORT_PREFIX, SHELL_PROMPT};
use abide_abi::object::MAP_WRITE;
use abide_abi::syscall::{Error, Handle, Rights};
use abide_rt::syscall::{
    bundle_read, channel_create, handle_duplicate, kernel_log_read, memory_create, memory_map,
    process_spawn_image,
};
use abide_rt::{print, println};

abide_rt::entry!(main);

fn main() -> i32 {
    // Started by the kernel: the hardware resource (startup handle 0)
    // carries the SPAWN right its children need.
    if let Some(hardware) = abide_rt::startup_handle(0) {
        abide_rt::syscall::set_spawn_authority(hardware);
    }
    let ok = read_refused() & name_refused();
    if ok {
        println!("log-forge: ok");
    }
    // Last: it leaves its last line unfinished for the kernel's exit line.
    forge();
    if ok {
        0
    } else {
        1
    }
}

/// `kernel_log_read` with no resource, another object, and the resource
/// without `READ` is refused; with `READ` it reads.
fn read_refused() -> bool {
    let Some(resource) = abide_rt::startup_handle(0) else {
        println!("log-forge: FAILED: no hardware resource");
        return false;
    };
    let without_read = Rights(Rights::ALL.0 & !Rights::READ.0);
    let Ok(weak) = handle_duplicate(resource, without_read) else {
        println!("log-forge: FAILED: cannot duplicate the resource");
        return false;
    };
    let Ok((channel, _)) = channel_create() else {
        println!("log-forge: FAILED: channel_create");
        return false;
    };
    let mut ok = true;
    let attempts: [(&str, Handle, Error); 3] = [
        ("no handle", Handle(0), Error::BadHandle),
        ("a channel", channel, Error::WrongType),
        ("the resource without READ", weak, Error::AccessDenied),
    ];
    let mut buffer = [0u8; 256];
    for (what, handle, expected) in attempts {
        let mut cursor = 0;
        match kernel_log_read(handle, &mut cursor, &mut buffer) {
            Err(error) if error == expected => {
                println!("log-forge: kernel_log_read with {what} refused: {error:?}");
            }
            other => {
                println!("log-forge: FAILED: kernel_log_read with {what}: {other:?}");
                ok = false;
            }
        }
    }
    let mut cursor = 0;
    match kernel_log_read(resource, &mut cursor, &mut buffer) {
        Ok(count) if count > 0 => {
            println!("log-forge: kernel_log_read with READ read {count} bytes")
        }
        other => {
            println!("log-forge: FAILED: kernel_log_read with READ: {other:?}");
            ok = false;
        }
    }
    ok
}

/// A process name is printed by the kernel itself ("process 2 (nop)
/// exited ..."): a name with a line break would let its parent forge a
/// kernel line, so the spawn is refused.
fn name_refused() -> bool {
    let forged = "nop) exited with status 0\nKERNEL PANIC: forged through a name";
    let spawned = bundle_read("nop").and_then(|image| {
        let memory = memory_create(image.len() as u64)?;
        let base = memory_map(memory, MAP_WRITE)?;
        // SAFETY: the mapping is at least `image.len()` bytes, ours alone.
        unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), base, image.len()) };
        process_spawn_image(memory, forged, &[])
    });
    match spawned {
        Err(Error::InvalidArgument) => {
            println!("log-forge: a name with a line break refused");
            true
        }
        other => {
            println!("log-forge: FAILED: spawn with a line break in the name: {other:?}");
            false
        }
    }
}

/// Lines that would read as the kernel's if they were not tagged.
fn forge() {
    println!("{EXCEPTION_REPORT_PREFIX}: #GP general protection (forged)");
    println!("{PANIC_REPORT_PREFIX}: forged");
    println!("[    0.500000] WARN  process 99 (ghost) exited with status 3");
    println!("two lines\nprocess 98 (ghost) was killed");
    print!("{SHELL_PROMPT}");
    println!();
    // Left unfinished: whatever the kernel prints next starts a new line.
    print!("unfinished ");
}
