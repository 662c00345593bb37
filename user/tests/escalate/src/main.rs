//! The confinement suite, from inside a component (`system/confine.conf`):
//! a component with a route to the console and nothing else tries to reach
//! further, in every way we know, and each attempt must be refused with a
//! specific error.
//!
//! For each attempt it prints one line on the console,
//! `escalate: <name>: refused <Error>` when the kernel refused it with the
//! error expected, or `escalate: <name>: FAILED: <what happened>`; then
//! `escalate: done: N refused, M failed`. `tests/confinement.rs` checks
//! every line; docs/reliability.md lists the attempts.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::{HandleInfo, Signals, MAP_WRITE, MAX_MEMORY_BYTES};
use abide_abi::syscall::{decode_result, Error, Handle, Rights, Syscall};
use abide_interfaces::Console;
use abide_rt::component::Component;
use abide_rt::ipc::Client;
use abide_rt::syscall::{self, syscall6};

abide_rt::async_entry!(main);

/// A handle value this component was never given.
const FORGED: Handle = Handle(3999);
/// Handle values scanned for a way anywhere.
const SCAN: u32 = 1024;
/// Physical addresses of kernel memory and devices.
const KERNEL_PHYS: u64 = 0x10_0000;
const VGA_PHYS: u64 = 0xb_8000;
const LAPIC_PHYS: u64 = 0xfee0_0000;
const IOAPIC_PHYS: u64 = 0xfec0_0000;
/// Kernel virtual addresses: the direct map and the kernel image.
const KERNEL_DIRECT: u64 = 0xffff_8000_0000_0000;
const KERNEL_TEXT: u64 = 0xffff_ffff_8000_0000;
const NON_CANONICAL: u64 = 0x0000_8000_0000_0000;

/// What one attempt came to.
type Outcome = Result<u64, Error>;

/// The component's own handles, for attempts that need one.
struct Own {
    /// The console channel: a channel, not a hardware resource.
    console: Handle,
    /// Every handle value in its table.
    values: Vec<u32>,
}

/// A raw call (for pointers the typed wrappers would not let through).
fn raw(number: Syscall, args: [u64; 6]) -> Outcome {
    // SAFETY: the pointers passed are ones the kernel must refuse; none
    // points into this program's memory.
    let (status, value) = unsafe {
        syscall6(
            number as u64,
            args[0],
            args[1],
            args[2],
            args[3],
            args[4],
            args[5],
        )
    };
    decode_result(status, value)
}

fn unit<T>(result: Result<T, Error>) -> Outcome {
    result.map(|_| 0)
}

/// Tries `attempt` on every handle value that is not its own; the first
/// that is not refused with one of `errors` is returned, else `errors[0]`.
fn scan(own: &Own, errors: &[Error], attempt: impl Fn(Handle) -> Outcome) -> Outcome {
    for value in 0..SCAN {
        if own.values.contains(&value) {
            continue;
        }
        match attempt(Handle(value)) {
            Err(error) if errors.contains(&error) => {}
            other => return other.map(|_| u64::from(value)),
        }
    }
    Err(errors[0])
}

/// Creates objects with `make` until refused; the refusal (objects are
/// closed again).
fn exhaust(make: impl Fn() -> Result<Handle, Error>) -> Outcome {
    let mut made = Vec::new();
    let outcome = loop {
        if made.len() == 100_000 {
            break Ok(made.len() as u64);
        }
        match make() {
            Ok(handle) => made.push(handle),
            Err(error) => break Err(error),
        }
    };
    for handle in made {
        let _ = syscall::handle_close(handle);
    }
    outcome
}

/// The attempts refused today: (name, expected error, attempt).
fn attempts(own: &Own) -> Vec<(&'static str, Error, Outcome)> {
    let c = own.console;
    let port = syscall::port_create().unwrap_or(FORGED);
    // A channel of its own (all rights), and a copy of one end with fewer
    // rights, to try to grow back.
    let (mine, peer) = syscall::channel_create().unwrap_or((FORGED, FORGED));
    let reduced = syscall::handle_duplicate(mine, Rights::READ.union(Rights::WRITE));
    let reduced_handle = *reduced.as_ref().unwrap_or(&FORGED);
    // Its table now: the scans skip these.
    let own = &Own {
        console: c,
        values: own_values(),
    };
    let list = alloc::vec![
        // Devices: no hardware resource, so no IRQ, port or device memory.
        (
            "irq-serial-forged-resource",
            Error::BadHandle,
            unit(syscall::interrupt_create(FORGED, 4))
        ),
        (
            "irq-serial-console-as-resource",
            Error::AccessDenied,
            unit(syscall::interrupt_create(c, 4))
        ),
        (
            "irq-keyboard",
            Error::AccessDenied,
            unit(syscall::interrupt_create(c, 1))
        ),
        (
            "irq-timer",
            Error::BadHandle,
            unit(syscall::interrupt_create(FORGED, 0))
        ),
        (
            "irq-any-held-handle",
            Error::AccessDenied,
            scan_own(own, |h| unit(syscall::interrupt_create(h, 11)))
        ),
        (
            "ioports-com1",
            Error::BadHandle,
            unit(syscall::ioports_create(FORGED, 0x3f8, 8))
        ),
        (
            "ioports-pci-config",
            Error::AccessDenied,
            unit(syscall::ioports_create(c, 0xcf8, 8))
        ),
        (
            "ioports-reset-cf9",
            Error::BadHandle,
            unit(syscall::ioports_create(FORGED, 0xcf9, 1))
        ),
        (
            "ioports-debug-exit",
            Error::BadHandle,
            unit(syscall::ioports_create(FORGED, 0xf4, 4))
        ),
        (
            "ioports-pic",
            Error::AccessDenied,
            unit(syscall::ioports_create(c, 0x20, 2))
        ),
        (
            "ioport-read-com1-console",
            Error::WrongType,
            unit(syscall::ioport_read(c, 0x3f8, 1))
        ),
        (
            "ioport-write-forged",
            Error::BadHandle,
            unit(syscall::ioport_write(FORGED, 0x3f8, 1, 0x41))
        ),
        (
            "mmio-kernel-image",
            Error::BadHandle,
            unit(syscall::mmio_create(FORGED, KERNEL_PHYS, 4096))
        ),
        (
            "mmio-vga",
            Error::AccessDenied,
            unit(syscall::mmio_create(c, VGA_PHYS, 4096))
        ),
        (
            "mmio-local-apic",
            Error::BadHandle,
            unit(syscall::mmio_create(FORGED, LAPIC_PHYS, 4096))
        ),
        (
            "mmio-io-apic",
            Error::AccessDenied,
            unit(syscall::mmio_create(c, IOAPIC_PHYS, 4096))
        ),
        (
            "mmio-page-zero",
            Error::BadHandle,
            unit(syscall::mmio_create(FORGED, 0, 4096))
        ),
        (
            "interrupt-ack-forged",
            Error::BadHandle,
            unit(syscall::interrupt_ack(FORGED))
        ),
        // The machine and the checkpoint engine.
        (
            "power-off-forged",
            Error::BadHandle,
            Err(syscall::machine_power_off(FORGED))
        ),
        (
            "power-off-console",
            Error::AccessDenied,
            Err(syscall::machine_power_off(c))
        ),
        (
            "power-off-any-handle",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| Err(
                syscall::machine_power_off(h)
            ))
        ),
        (
            "checkpoint-sync-forged",
            Error::BadHandle,
            unit(syscall::persist_sync(FORGED))
        ),
        (
            "checkpoint-sync-console",
            Error::WrongType,
            unit(syscall::persist_sync(c))
        ),
        (
            "checkpoint-snapshot-forged",
            Error::BadHandle,
            unit(syscall::persist_snapshot(FORGED))
        ),
        (
            "checkpoint-snapshot-port",
            Error::WrongType,
            unit(syscall::persist_snapshot(port))
        ),
        // The kernel's log holds every process's output.
        (
            "kernel-log-read-forged",
            Error::BadHandle,
            unit(syscall::kernel_log_read(FORGED, &mut 0, &mut [0u8; 64]))
        ),
        (
            "kernel-log-read-console",
            Error::WrongType,
            unit(syscall::kernel_log_read(c, &mut 0, &mut [0u8; 64]))
        ),
        (
            "kernel-log-read-any-handle",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(
                syscall::kernel_log_read(h, &mut 0, &mut [0u8; 64])
            ))
        ),
        (
            "checkpoint-set-period",
            Error::BadHandle,
            unit(syscall::persist_set_period(FORGED, 1))
        ),
        // Rights: what it holds cannot grow.
        (
            "duplicate-console",
            Error::AccessDenied,
            unit(syscall::handle_duplicate(c, Rights::READ)),
        ),
        (
            "duplicate-reduced-with-more-rights",
            Error::AccessDenied,
            reduced
                .map(|_| 0)
                .and(unit(syscall::handle_duplicate(reduced_handle, Rights::ALL))),
        ),
        (
            "mint-badge-on-reduced",
            Error::AccessDenied,
            unit(syscall::handle_mint(reduced_handle, Rights::READ, 0xbad))
        ),
        (
            "duplicate-forged",
            Error::BadHandle,
            unit(syscall::handle_duplicate(FORGED, Rights::ALL))
        ),
        (
            "mint-forged",
            Error::BadHandle,
            unit(syscall::handle_mint(FORGED, Rights::ALL, 1))
        ),
        (
            "revoke-forged",
            Error::BadHandle,
            unit(syscall::handle_revoke(FORGED))
        ),
        (
            "close-forged",
            Error::BadHandle,
            unit(syscall::handle_close(FORGED))
        ),
        (
            "map-reduced-channel",
            Error::AccessDenied,
            unit(syscall::memory_map(reduced_handle, MAP_WRITE)),
        ),
        (
            "map-own-channel",
            Error::WrongType,
            unit(syscall::memory_map(mine, MAP_WRITE)),
        ),
        // Reaching other services: no handle value leads anywhere new.
        (
            "write-any-handle-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(syscall::channel_write(
                h,
                b"hello?",
                &[]
            )))
        ),
        (
            "read-any-handle-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(
                syscall::channel_read(h, &mut [0u8; 64], &mut []).map_err(|(e, _)| e)
            ))
        ),
        (
            "wait-on-any-handle-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(syscall::port_bind(
                port,
                h,
                1,
                Signals::READABLE
            )))
        ),
        (
            "transfer-forged-handle",
            Error::BadHandle,
            unit(syscall::channel_write(c, b"take this", &[FORGED]))
        ),
        (
            "port-bind-console-as-port",
            Error::WrongType,
            unit(syscall::port_bind(c, c, 1, Signals::READABLE))
        ),
        (
            "timer-set-forged",
            Error::BadHandle,
            unit(syscall::timer_set(FORGED, 0))
        ),
        // Other processes: no handle to any of them.
        (
            "kill-forged",
            Error::BadHandle,
            unit(syscall::process_kill(FORGED))
        ),
        (
            "kill-console",
            Error::AccessDenied,
            unit(syscall::process_kill(c))
        ),
        (
            "kill-any-handle-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(syscall::process_kill(h)))
        ),
        (
            "status-of-forged",
            Error::BadHandle,
            unit(syscall::process_status(FORGED))
        ),
        (
            "handles-of-forged",
            Error::BadHandle,
            unit(syscall::process_handles(
                FORGED,
                &mut [HandleInfo::default(); 4]
            ))
        ),
        (
            "handles-of-console",
            Error::WrongType,
            unit(syscall::process_handles(c, &mut [HandleInfo::default(); 4]))
        ),
        (
            "handles-of-any-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(
                syscall::process_handles(h, &mut [HandleInfo::default(); 4])
            ))
        ),
        (
            "spawn-image-forged",
            Error::BadHandle,
            unit(syscall::process_spawn_image(FORGED, "escalated", &[]))
        ),
        (
            "spawn-image-console",
            Error::BadHandle,
            unit(syscall::process_spawn_image(c, "escalated", &[]))
        ),
        // Spawning needs the hardware resource with SPAWN, checked before
        // the image: with none, every spawn above is BadHandle.
        (
            "spawn-without-capability",
            Error::BadHandle,
            spawn_and_kill("hello")
        ),
        (
            "spawn-console-as-authority",
            Error::AccessDenied,
            with_spawn_authority(c, || spawn_and_kill("hello"))
        ),
        (
            "spawn-port-as-authority",
            Error::WrongType,
            with_spawn_authority(port, || spawn_and_kill("hello"))
        ),
        // Memory: its own only, within its quota; none of the kernel's.
        (
            "map-forged-memory",
            Error::BadHandle,
            unit(syscall::memory_map(FORGED, MAP_WRITE))
        ),
        (
            "map-console",
            Error::AccessDenied,
            unit(syscall::memory_map(c, 0))
        ),
        (
            "map-any-handle-value",
            Error::BadHandle,
            scan(own, &[Error::BadHandle], |h| unit(syscall::memory_map(
                h, MAP_WRITE
            )))
        ),
        (
            "memory-beyond-the-limit",
            Error::InvalidArgument,
            unit(syscall::memory_create(MAX_MEMORY_BYTES + 4096))
        ),
        (
            "memory-quota",
            Error::NoMemory,
            exhaust(|| syscall::memory_create(64 * 4096))
        ),
        (
            "handle-quota",
            Error::NoMemory,
            exhaust(syscall::port_create)
        ),
        (
            "read-kernel-direct-map",
            Error::BadAddress,
            raw(Syscall::DebugWrite, [KERNEL_DIRECT, 64, 0, 0, 0, 0])
        ),
        (
            "read-kernel-image",
            Error::BadAddress,
            raw(Syscall::DebugWrite, [KERNEL_TEXT, 64, 0, 0, 0, 0])
        ),
        (
            "read-non-canonical",
            Error::BadAddress,
            raw(Syscall::DebugWrite, [NON_CANONICAL - 8, 64, 0, 0, 0, 0])
        ),
        (
            "read-last-user-page",
            Error::BadAddress,
            raw(Syscall::DebugWrite, [NON_CANONICAL - 4096, 16, 0, 0, 0, 0])
        ),
        (
            "write-kernel-via-memory-stats",
            Error::BadAddress,
            raw(Syscall::MemoryStats, [KERNEL_TEXT, 0, 0, 0, 0, 0])
        ),
        (
            "write-kernel-via-process-status",
            Error::BadAddress,
            raw(
                Syscall::ProcessStatus,
                [
                    u64::from(abide_rt::process_self().0),
                    KERNEL_DIRECT,
                    0,
                    0,
                    0,
                    0
                ]
            )
        ),
        (
            "write-kernel-via-boot-args",
            Error::BadAddress,
            raw(Syscall::BootArgs, [KERNEL_DIRECT + 0x1000, 64, 0, 0, 0, 0])
        ),
        ("unknown-system-call", Error::BadSyscall, raw_number(0xffff)),
    ];
    let _ = syscall::handle_close(port);
    let _ = syscall::handle_close(mine);
    let _ = syscall::handle_close(peer);
    if let Ok(reduced) = reduced {
        let _ = syscall::handle_close(reduced);
    }
    list
}

/// The values of the handles in its table.
fn own_values() -> Vec<u32> {
    let mut table = [HandleInfo::default(); 64];
    let count = syscall::process_handles(abide_rt::process_self(), &mut table).unwrap_or(0);
    table.iter().take(count).map(|info| info.handle).collect()
}

/// Tries `attempt` on each handle it holds: `AccessDenied` when each was
/// refused for its rights or its type, else the first other outcome.
fn scan_own(own: &Own, attempt: impl Fn(Handle) -> Outcome) -> Outcome {
    for &value in &own.values {
        match attempt(Handle(value)) {
            Err(Error::AccessDenied | Error::WrongType) => {}
            Err(error) => return Err(error),
            Ok(_) => return Ok(u64::from(value)),
        }
    }
    Err(Error::AccessDenied)
}

fn raw_number(number: u64) -> Outcome {
    // SAFETY: no pointers.
    let (status, value) = unsafe { syscall6(number, 0, 0, 0, 0, 0, 0) };
    decode_result(status, value)
}

/// Runs `attempt` with `authority` as the spawn authority, then none again.
fn with_spawn_authority(authority: Handle, attempt: impl FnOnce() -> Outcome) -> Outcome {
    syscall::set_spawn_authority(authority);
    let outcome = attempt();
    syscall::set_spawn_authority(Handle(0));
    outcome
}

/// Spawns `name`; kills it again if that worked.
fn spawn_and_kill(name: &str) -> Outcome {
    let child = syscall::process_spawn(name, &[])?;
    let _ = syscall::process_kill(child);
    let _ = syscall::handle_close(child);
    Ok(0)
}

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let Some(console) = component.uses("console") else {
        return 2;
    };
    let own = Own {
        console: console.handle(),
        values: own_values(),
    };
    let console = Client::new(console);
    let mut report = String::new();
    let (mut refused, mut failed) = (0, 0);
    for (name, expected, outcome) in attempts(&own) {
        match outcome {
            Err(error) if error == expected => {
                refused += 1;
                report.push_str(&format!("escalate: {name}: refused {error:?}\n"));
            }
            Err(error) => {
                failed += 1;
                report.push_str(&format!(
                    "escalate: {name}: FAILED: refused {error:?}, expected {expected:?}\n"
                ));
            }
            Ok(value) => {
                failed += 1;
                report.push_str(&format!(
                    "escalate: {name}: FAILED: accepted ({value}), expected {expected:?}\n"
                ));
            }
        }
    }
    report.push_str(&format!(
        "escalate: done: {refused} refused, {failed} failed\n"
    ));
    // In pieces: the console takes a message at a time.
    for piece in report.as_bytes().chunks(2048) {
        let _ = console
            .call(
                |txid| Console::write::encode(txid, piece.to_vec()),
                Console::write::decode_reply,
            )
            .await;
    }
    0
}
