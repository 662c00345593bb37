//! Crashing a component while it is written to: the harness of the
//! fault-injection programs (`chaos-log`, `chaos-serial`), which differ
//! only in what they write and how they check it.
//!
//! [`CrashLoop::run`] runs two futures together: a writer that makes
//! numbered writes (1, 2, …) without pause, and a crasher that makes the
//! component fault (`System::crash`, through `init`) after a random number
//! (1 to [`CrashLoop::max_gap`]) of further acknowledged writes, and waits
//! until `init` has started the replacement — [`CrashLoop::crashes`] times.
//! Then the writer stops. What must hold of the writes is the program's
//! to check: the harness says how many were acknowledged.
//!
//! The writes should go through a client made with
//! `Client::resending_after(`[`RESEND_NS`]`)`: the component may die after
//! taking one and before noting it. [`write_verdict`] ends the program:
//! its verdict goes to the console, where the system test reads it.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use abide_interfaces::{Console, System};

use crate::executor::{join_all, sleep};
use crate::ipc::Client;
use crate::syscall;

/// How often a run crashes its component, unless told otherwise.
pub const CRASHES: u32 = 100;
/// The most acknowledged writes between two crashes, unless told otherwise.
pub const MAX_GAP: u64 = 20;
/// The resend period for the writer's client
/// ([`Client::resending_after`]): a write not answered within this is sent
/// again (same txid), as the component may have died after taking it and
/// before noting it.
pub const RESEND_NS: u64 = 200_000_000;

/// Whether the component is caught in the middle of a write now, given the
/// flag that says whether a write is in flight (sent, not yet answered).
pub type MidWrite<'a> = &'a dyn Fn(&Cell<bool>) -> bool;

/// What to crash, how often, and when.
pub struct CrashLoop<'a> {
    /// The `system` route: the crashes and the `ps` that counts restarts
    /// go through it.
    pub system: &'a Client,
    /// The component crashed, by its name in the configuration.
    pub component: &'a str,
    /// How often it is crashed.
    pub crashes: u32,
    /// The most acknowledged writes between two crashes.
    pub max_gap: u64,
    /// For half of the crashes (drawn at random), a crash waits until this
    /// says the component is caught in the middle of a write; it is asked
    /// again every 10 µs. `None`: every crash is asked for as soon as the
    /// count of writes is reached.
    pub mid_write: Option<MidWrite<'a>>,
}

/// What a run reached.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    /// Writes acknowledged: writes 1 to `acked`.
    pub acked: u64,
    /// How long the run took, to the writer's last answer, in ms.
    pub elapsed_ms: u64,
}

impl<'a> CrashLoop<'a> {
    /// [`CRASHES`] crashes of `component`, each after up to [`MAX_GAP`]
    /// writes, through the `system` route.
    pub fn new(system: &'a Client, component: &'a str) -> CrashLoop<'a> {
        CrashLoop {
            system,
            component,
            crashes: CRASHES,
            max_gap: MAX_GAP,
            mid_write: None,
        }
    }

    /// Runs the writer, `write(n)` for n = 1, 2, …, each returning once
    /// write `n` is acknowledged, while the component is crashed. `Err`
    /// names the first thing that went wrong: a write that failed (the
    /// writer stops), a crash or `ps` that failed.
    pub async fn run<W, F>(&self, write: W) -> Result<Written, String>
    where
        W: Fn(u64) -> F,
        F: Future<Output = Result<(), String>>,
    {
        let acked = Cell::new(0u64);
        // Whether a write is in flight: sent and not yet answered.
        let writing = Cell::new(false);
        let stop = Cell::new(false);
        let failure: Cell<Option<String>> = Cell::new(None);
        let start_ns = syscall::clock_ns();
        let writer: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
            while !stop.get() {
                let n = acked.get() + 1;
                writing.set(true);
                let result = write(n).await;
                writing.set(false);
                match result {
                    Ok(()) => acked.set(n),
                    Err(problem) => {
                        failure.set(Some(problem));
                        stop.set(true);
                    }
                }
            }
        });
        let crasher: Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
            if let Err(problem) = self.crash_repeatedly(&acked, &writing, &stop).await {
                failure.set(Some(problem));
            }
            stop.set(true);
        });
        join_all([writer, crasher]).await;
        if let Some(problem) = failure.take() {
            return Err(problem);
        }
        Ok(Written {
            acked: acked.get(),
            elapsed_ms: (syscall::clock_ns() - start_ns) / 1_000_000,
        })
    }

    /// Crashes the component [`crashes`](Self::crashes) times, each after
    /// a random number of acknowledged writes (and, for half of them when
    /// [`mid_write`](Self::mid_write) is set, at the next moment it is
    /// caught in the middle of one), waiting for each replacement.
    async fn crash_repeatedly(
        &self,
        acked: &Cell<u64>,
        writing: &Cell<bool>,
        stop: &Cell<bool>,
    ) -> Result<(), String> {
        // xorshift64, seeded by the clock: a new schedule every run.
        let mut random = syscall::clock_ns() | 1;
        let first = self.restarts().await?;
        for crash in 1..=self.crashes {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            let target = acked.get() + 1 + random % self.max_gap;
            while acked.get() < target {
                writer_running(stop, crash)?;
                sleep(100_000).await;
            }
            if let Some(mid_write) = self.mid_write.filter(|_| random & (1 << 40) != 0) {
                while !mid_write(writing) {
                    writer_running(stop, crash)?;
                    // Lets the writer take its answer and send the next write.
                    sleep(10_000).await;
                }
            }
            self.system
                .call(
                    |txid| System::crash::encode(txid, self.component.into()),
                    System::crash::decode_reply,
                )
                .await
                .map_err(|error| format!("crash {crash}: {error}"))?;
            // The next crash hits the replacement, not the dying instance.
            while self.restarts().await? < first + i64::from(crash) {
                sleep(1_000_000).await;
            }
        }
        Ok(())
    }

    /// The component's restart count, from `ps`.
    async fn restarts(&self) -> Result<i64, String> {
        let table = self
            .system
            .call(System::ps::encode, System::ps::decode_reply)
            .await
            .map_err(|error| format!("ps: {error}"))?;
        abide_interfaces::ps_restarts(&table, self.component)
            .ok_or_else(|| format!("ps has no component {}", self.component))
    }
}

/// `Err` once the writer has stopped (it failed) before crash `crash`.
fn writer_running(stop: &Cell<bool>, crash: u32) -> Result<(), String> {
    if stop.get() {
        return Err(format!("the writer stopped before crash {crash}"));
    }
    Ok(())
}

/// Writes the verdict of the program called `program` to `console`:
/// `<program>: <reached>: <summary>` for `Ok(summary)`, `<program>:
/// FAILED: <problem>` for `Err(problem)`. What the write returns does not
/// matter: nobody is left to tell.
pub async fn write_verdict(
    console: &Client,
    program: &str,
    reached: &str,
    verdict: Result<String, String>,
) {
    let line = match verdict {
        Ok(summary) => format!("{program}: {reached}: {summary}\n"),
        Err(problem) => format!("{program}: FAILED: {problem}\n"),
    };
    let _ = console
        .call(
            |txid| Console::write::encode(txid, line.into_bytes()),
            Console::write::decode_reply,
        )
        .await;
}
