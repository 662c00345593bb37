//! Fault injection for the log service, run as a component of
//! `system/faults.conf` (the acceptance test).
//!
//! Two futures run together: a writer that sends numbered requests
//! (`request 1`, `request 2`, …) to the log service without pause, and a
//! crasher that makes the service fault (`System::crash`, through init)
//! after a random number (1 to 20) of further acknowledged requests, and
//! waits until init has started the replacement, [`CRASHES`] times. Then
//! the writer stops and the whole log is read back, page by page: every
//! acknowledged request must be in it exactly once. The verdict goes to
//! the console, where the system test reads it:
//! `chaos-log: passed: …` or `chaos-log: FAILED: …`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use abide_interfaces::{level, Console, Log, LogFilter, System};
use abide_records::Value;
use abide_rt::component::Component;
use abide_rt::executor::{join_all, sleep};
use abide_rt::ipc::Client;
use abide_rt::syscall;

abide_rt::async_entry!(main);

/// How often the log service is crashed.
const CRASHES: u32 = 100;
/// The most acknowledged requests between two crashes.
const MAX_GAP: u64 = 20;
/// A write not answered within this is sent again (same txid).
const RESEND_NS: u64 = 200_000_000;
/// What every request's text starts with.
const PREFIX: &str = "request ";

struct Routes {
    log: Client,
    system: Client,
    console: Client,
}

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let (Some(log), Some(system), Some(console)) = (
        component.uses("log"),
        component.uses("system"),
        component.uses("console"),
    ) else {
        return 2;
    };
    let routes = Routes {
        log: Client::new(log).resending_after(RESEND_NS),
        system: Client::new(system),
        console: Client::new(console),
    };
    let verdict = match run(&routes).await {
        Ok(summary) => format!("chaos-log: passed: {summary}\n"),
        Err(problem) => format!("chaos-log: FAILED: {problem}\n"),
    };
    let _ = routes
        .console
        .call(
            |txid| Console::write::encode(txid, verdict.into_bytes()),
            Console::write::decode_reply,
        )
        .await;
    0
}

async fn run(routes: &Routes) -> Result<String, String> {
    let acked = Cell::new(0u64);
    let stop = Cell::new(false);
    let failure: Cell<Option<String>> = Cell::new(None);
    let start_ns = syscall::clock_ns();
    let writer: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
        while !stop.get() {
            let n = acked.get() + 1;
            let text = format!("{PREFIX}{n}");
            let result = routes
                .log
                .call(
                    |txid| Log::write::encode(txid, level::INFO, text),
                    Log::write::decode_reply,
                )
                .await;
            match result {
                Ok(_) => acked.set(n),
                Err(error) => {
                    failure.set(Some(format!("request {n} failed: {error}")));
                    stop.set(true);
                }
            }
        }
    });
    let crasher: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
        if let Err(problem) = crash_repeatedly(routes, &acked, &stop).await {
            failure.set(Some(problem));
        }
        stop.set(true);
    });
    join_all([writer, crasher]).await;
    if let Some(problem) = failure.take() {
        return Err(problem);
    }
    let written = acked.get();
    let counts = read_back(&routes.log, written).await?;
    for (index, count) in counts.iter().enumerate() {
        if *count != 1 {
            return Err(format!("request {} is in the log {count} times", index + 1));
        }
    }
    Ok(format!(
        "{CRASHES} crashes, {written} requests acknowledged in {} ms, each logged exactly once",
        (syscall::clock_ns() - start_ns) / 1_000_000
    ))
}

/// Crashes the log service [`CRASHES`] times, each after a random number
/// of acknowledged requests, waiting for each replacement.
async fn crash_repeatedly(
    routes: &Routes,
    acked: &Cell<u64>,
    stop: &Cell<bool>,
) -> Result<(), String> {
    let mut random = syscall::clock_ns() | 1;
    let first = restarts(&routes.system).await?;
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
        routes
            .system
            .call(
                |txid| System::crash::encode(txid, "log".into()),
                System::crash::decode_reply,
            )
            .await
            .map_err(|error| format!("crash {crash}: {error}"))?;
        // The next crash hits the replacement, not the dying instance.
        while restarts(&routes.system).await? < first + i64::from(crash) {
            sleep(1_000_000).await;
        }
    }
    Ok(())
}

/// The log service's restart count, from `ps`.
async fn restarts(system: &Client) -> Result<i64, String> {
    let table = system
        .call(System::ps::encode, System::ps::decode_reply)
        .await
        .map_err(|error| format!("ps: {error}"))?;
    abide_interfaces::ps_restarts(&table, "log").ok_or_else(|| "ps has no log service".into())
}

/// How often each request 1..=`written` is in the log, read page by page.
async fn read_back(log: &Client, written: u64) -> Result<Vec<u32>, String> {
    let mut counts = vec![0u32; usize::try_from(written).map_err(|_| "too many")?];
    let mut after_seq = None;
    loop {
        let filter = LogFilter {
            component: Some("chaos-log".into()),
            text: Some(PREFIX.into()),
            after_seq,
            ..LogFilter::default()
        };
        let page = log
            .call(
                |txid| Log::query::encode(txid, filter),
                Log::query::decode_reply,
            )
            .await
            .map_err(|error| format!("query: {error}"))?;
        if page.rows.is_empty() {
            return Ok(counts);
        }
        for row in 0..page.len() {
            let (Some(Value::Int(seq)), Some(Value::Text(text))) =
                (page.get(row, "seq"), page.get(row, "text"))
            else {
                return Err("a log page without seq or text".into());
            };
            after_seq = Some(*seq as u64);
            let n: u64 = text
                .strip_prefix(PREFIX)
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("a stranger in the log: {text:?}"))?;
            match n.checked_sub(1).and_then(|i| counts.get_mut(i as usize)) {
                Some(count) => *count += 1,
                None => return Err(format!("request {n} is logged but was never acknowledged")),
            }
        }
    }
}
