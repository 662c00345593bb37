//! Fault injection for the log service, run as a component of
//! `system/faults.conf` (the acceptance test).
//!
//! The runtime's crash loop (`abide_rt::chaos`) runs two futures
//! together: a writer that sends numbered requests (`request 1`,
//! `request 2`, …) to the log service without pause, and a crasher that
//! makes the service fault (`System::crash`, through init) after a random
//! number (1 to 20) of further acknowledged requests, and waits until init
//! has started the replacement, 100 times. Then the writer stops
//! and the whole log is read back, page by page: every
//! acknowledged request must be in it exactly once. The verdict goes to
//! the console, where the system test reads it:
//! `chaos-log: passed: …` or `chaos-log: FAILED: …`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use abide_datatable::Value;
use abide_interfaces::{level, Log, LogFilter};
use abide_rt::chaos::{self, CrashLoop};
use abide_rt::component::Component;
use abide_rt::ipc::Client;

abide_rt::async_entry!(main);

/// What every request's text starts with.
const PREFIX: &str = "request ";

async fn main() -> i32 {
    let Ok(component) = Component::get() else {
        return 1;
    };
    let Some([log, system, console]) = component.uses_all(["log", "system", "console"]) else {
        return 2;
    };
    let log = Client::new(log).resending_after(chaos::RESEND_NS);
    let verdict = run(&log, &Client::new(system)).await;
    chaos::write_verdict(&Client::new(console), "chaos-log", "passed", verdict).await;
    0
}

async fn run(log: &Client, system: &Client) -> Result<String, String> {
    let crash_loop = CrashLoop::new(system, "log");
    let written = crash_loop
        .run(|n| async move {
            let text = format!("{PREFIX}{n}");
            log.call(
                |txid| Log::write::encode(txid, level::INFO, text),
                Log::write::decode_reply,
            )
            .await
            .map(|_| ())
            .map_err(|error| format!("request {n} failed: {error}"))
        })
        .await?;
    let counts = read_back(log, written.acked).await?;
    for (index, count) in counts.iter().enumerate() {
        if *count != 1 {
            return Err(format!("request {} is in the log {count} times", index + 1));
        }
    }
    Ok(format!(
        "{} crashes, {} requests acknowledged in {} ms, each logged exactly once",
        crash_loop.crashes, written.acked, written.elapsed_ms
    ))
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
