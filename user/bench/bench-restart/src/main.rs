//! The restart benchmark (`system/bench.conf`, run by `cargo run -- bench`):
//! how long from a server's crash until its replacement serves a request.
//!
//! [`RESTART_CRASHES`] times: wait until the log service answers, take the
//! clock, make the service fault (`System::crash`, through init), and send
//! it a log request; the reply comes from the replacement init started,
//! which found the request waiting in the route's channel. The time from
//! the crash call to the reply covers the whole path: init hears of the
//! end, the supervisor decides, the new process is spawned, maps its stash,
//! recovers the ring and serves. The median and p99 go to the console as
//! `bench: value` lines (`abide_benchfmt::system`), then
//! `bench: done`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;

use abide_benchfmt::system::{RESTART_CRASHES, RESTART_MEDIAN_NS, RESTART_P99_NS};
use abide_interfaces::{level, Console, Log, System};
use abide_rt::component::Component;
use abide_rt::ipc::Client;
use abide_rt::syscall;

abide_rt::async_entry!(main);

/// A log request unanswered this long is sent again (same txid).
const RESEND_NS: u64 = 100_000_000;

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let Some([log, system, console]) = component.uses_all(["log", "system", "console"]) else {
        return 2;
    };
    let log = Client::new(log).resending_after(RESEND_NS);
    let system = Client::new(system);
    let console = Client::new(console);
    let report = match measure(&log, &system).await {
        Ok(mut times) => {
            times.sort_unstable();
            let at = |fraction: usize| times[(times.len() * fraction / 100).min(times.len() - 1)];
            format!(
                "bench: value name={RESTART_MEDIAN_NS} value={}\nbench: value name={RESTART_P99_NS} value={}\nbench: done\n",
                at(50),
                at(99)
            )
        }
        Err(problem) => {
            format!("bench: failed name={RESTART_MEDIAN_NS} reason={problem}\nbench: done\n")
        }
    };
    let _ = console
        .call(
            |txid| Console::write::encode(txid, report.into_bytes()),
            Console::write::decode_reply,
        )
        .await;
    0
}

/// One time per crash, in nanoseconds.
async fn measure(log: &Client, system: &Client) -> Result<Vec<u64>, &'static str> {
    let write = |text: &'static str| {
        log.call(
            move |txid| Log::write::encode(txid, level::DEBUG, text.into()),
            Log::write::decode_reply,
        )
    };
    let mut times = Vec::new();
    for _ in 0..RESTART_CRASHES {
        // The service is up and idle.
        write("before the crash")
            .await
            .map_err(|_| "log-unavailable")?;
        let start = syscall::clock_ns();
        system
            .call(
                |txid| System::crash::encode(txid, "log".into()),
                System::crash::decode_reply,
            )
            .await
            .map_err(|_| "crash-refused")?;
        write("first request after the crash")
            .await
            .map_err(|_| "log-unavailable")?;
        times.push(syscall::clock_ns() - start);
    }
    Ok(times)
}
