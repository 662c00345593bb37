//! Fault injection for the serial console driver, run as a component of
//! `system/faults.conf`.
//!
//! The runtime's crash loop (`abide_rt::chaos`) runs two futures
//! together: a writer that writes numbered lines (`line 1`, `line 2`, …)
//! to the console without pause, and a crasher
//! that makes the driver fault (`System::crash`, through init) after a
//! random number (1 to 20) of further acknowledged lines, and waits until
//! init has started the replacement, 100 times. Then the writer
//! stops and the verdict goes to the console:
//! `chaos-serial: done: 100 crashes, N lines acknowledged …` (or
//! `chaos-serial: FAILED: …`). Whether each of lines 1 to N is on the
//! serial line exactly once only the other end of the line can tell: the
//! system test (`tests/faults.rs`) reads it.
//!
//! Where the crash lands: the kernel ends a process only while it is not
//! running, so the driver dies where it last stopped. Half of the crashes
//! are asked for as soon as the count of lines is reached, when the driver
//! has usually just answered a line and waits for the next (or has it
//! queued, untaken). The other half land in the middle of a line: the
//! component runs at the driver's priority and, while a line is in flight,
//! yields the processor to the driver; when it gets it back without the
//! answer, the timer has preempted the driver before it answered — most
//! likely in the middle of the line's bytes — and the crash is asked for
//! then, before the driver runs again.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use core::cell::Cell;

use abide_interfaces::Console;
use abide_rt::chaos::{self, CrashLoop};
use abide_rt::component::Component;
use abide_rt::ipc::Client;
use abide_rt::syscall;

abide_rt::async_entry!(main);

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let Some([console, system]) = component.uses_all(["console", "system"]) else {
        return 2;
    };
    // Writes are sent again after a while: the driver may have died after
    // taking one and before noting it.
    let console = Client::new(console).resending_after(chaos::RESEND_NS);
    let verdict = run(&console, &Client::new(system)).await;
    chaos::write_verdict(&console, "chaos-serial", "done", verdict).await;
    0
}

async fn run(console: &Client, system: &Client) -> Result<String, String> {
    let mid_line = |writing: &Cell<bool>| driver_preempted_mid_line(console, writing);
    let crash_loop = CrashLoop {
        mid_write: Some(&mid_line),
        ..CrashLoop::new(system, "serial")
    };
    let written = crash_loop
        .run(|n| async move {
            let line = format!("line {n}\n");
            console
                .call(
                    |txid| Console::write::encode(txid, line.into_bytes()),
                    Console::write::decode_reply,
                )
                .await
                .map_err(|error| format!("line {n} failed: {error}"))
        })
        .await?;
    Ok(format!(
        "{} crashes, {} lines acknowledged in {} ms",
        crash_loop.crashes, written.acked, written.elapsed_ms
    ))
}

/// Whether the driver, with a line in flight, was preempted before it
/// answered: a line is in flight and unanswered, the processor is given to
/// the driver (same priority), and it comes back while the answer is still
/// missing — so the driver did not finish and wait, the timer preempted it.
fn driver_preempted_mid_line(console: &Client, writing: &Cell<bool>) -> bool {
    if !writing.get() || has_message(console) {
        return false;
    }
    syscall::yield_now();
    writing.get() && !has_message(console)
}

/// Whether a message waits on the console channel (looked at, not taken:
/// a read into no buffer takes nothing).
fn has_message(console: &Client) -> bool {
    let handle = console.channel().handle();
    !matches!(
        syscall::channel_read(handle, &mut [], &mut []),
        Err((abide_abi::syscall::Error::ShouldWait, _))
    )
}
