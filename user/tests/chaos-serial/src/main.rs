//! Fault injection for the serial console driver, run as a component of
//! `system/faults.conf`.
//!
//! Two futures run together: a writer that writes numbered lines
//! (`line 1`, `line 2`, …) to the console without pause, and a crasher
//! that makes the driver fault (`System::crash`, through init) after a
//! random number (1 to 20) of further acknowledged lines, and waits until
//! init has started the replacement, [`CRASHES`] times. Then the writer
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

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use abide_interfaces::{Console, System};
use abide_rt::component::Component;
use abide_rt::executor::{join_all, sleep};
use abide_rt::ipc::Client;
use abide_rt::syscall;

abide_rt::async_entry!(main);

/// How often the driver is crashed.
const CRASHES: u32 = 100;
/// The most acknowledged lines between two crashes.
const MAX_GAP: u64 = 20;
/// A write not answered within this is sent again (same txid): the driver
/// may have died after taking it and before noting it.
const RESEND_NS: u64 = 200_000_000;
/// The component crashed.
const DRIVER: &str = "serial";

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let (Some(console), Some(system)) = (component.uses("console"), component.uses("system"))
    else {
        return 2;
    };
    let console = Client::new(console).resending_after(RESEND_NS);
    let system = Client::new(system);
    let verdict = match run(&console, &system).await {
        Ok(summary) => format!("chaos-serial: done: {summary}\n"),
        Err(problem) => format!("chaos-serial: FAILED: {problem}\n"),
    };
    let _ = console
        .call(
            |txid| Console::write::encode(txid, verdict.into_bytes()),
            Console::write::decode_reply,
        )
        .await;
    0
}

async fn run(console: &Client, system: &Client) -> Result<String, String> {
    let acked = Cell::new(0u64);
    // Whether a line is in flight: sent and not yet answered.
    let writing = Cell::new(false);
    let stop = Cell::new(false);
    let failure: Cell<Option<String>> = Cell::new(None);
    let start_ns = syscall::clock_ns();
    let writer: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
        while !stop.get() {
            let n = acked.get() + 1;
            let line = format!("line {n}\n");
            writing.set(true);
            let result = console
                .call(
                    |txid| Console::write::encode(txid, line.into_bytes()),
                    Console::write::decode_reply,
                )
                .await;
            writing.set(false);
            match result {
                Ok(()) => acked.set(n),
                Err(error) => {
                    failure.set(Some(format!("line {n} failed: {error}")));
                    stop.set(true);
                }
            }
        }
    });
    let crasher: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
        if let Err(problem) = crash_repeatedly(console, system, &acked, &writing, &stop).await {
            failure.set(Some(problem));
        }
        stop.set(true);
    });
    join_all([writer, crasher]).await;
    if let Some(problem) = failure.take() {
        return Err(problem);
    }
    Ok(format!(
        "{CRASHES} crashes, {} lines acknowledged in {} ms",
        acked.get(),
        (syscall::clock_ns() - start_ns) / 1_000_000
    ))
}

/// Crashes the driver [`CRASHES`] times, each after a random number of
/// acknowledged lines (half of them at the next moment the driver is
/// found in the middle of a line), waiting for each replacement.
async fn crash_repeatedly(
    console: &Client,
    system: &Client,
    acked: &Cell<u64>,
    writing: &Cell<bool>,
    stop: &Cell<bool>,
) -> Result<(), String> {
    let mut random = syscall::clock_ns() | 1;
    let first = restarts(system).await?;
    for crash in 1..=CRASHES {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let target = acked.get() + 1 + random % MAX_GAP;
        while acked.get() < target {
            if stop.get() {
                return Err(format!("the writer stopped before crash {crash}"));
            }
            sleep(100_000).await;
        }
        if random & (1 << 40) != 0 {
            while !driver_preempted_mid_line(console, writing) {
                if stop.get() {
                    return Err(format!("the writer stopped before crash {crash}"));
                }
                // Lets the writer take its answer and send the next line.
                sleep(10_000).await;
            }
        }
        system
            .call(
                |txid| System::crash::encode(txid, DRIVER.into()),
                System::crash::decode_reply,
            )
            .await
            .map_err(|error| format!("crash {crash}: {error}"))?;
        // The next crash hits the replacement, not the dying instance.
        while restarts(system).await? < first + i64::from(crash) {
            sleep(1_000_000).await;
        }
    }
    Ok(())
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

/// The driver's restart count, from `ps`.
async fn restarts(system: &Client) -> Result<i64, String> {
    let table = system
        .call(System::ps::encode, System::ps::decode_reply)
        .await
        .map_err(|error| format!("ps: {error}"))?;
    abide_interfaces::ps_restarts(&table, DRIVER).ok_or_else(|| "ps has no serial driver".into())
}
