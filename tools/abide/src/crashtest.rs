//! The power-cut loop: boots the default system on one store again and
//! again, does work, syncs, and kills QEMU with SIGKILL at a random moment
//! (often while a checkpoint is being written out). After every boot the
//! system must have resumed: the counter never went backwards past what a
//! `sync` saw, every key acknowledged before a completed `sync` is there
//! with its value, and the shell answers. `cargo test` runs it 20 times
//! (tests/persist.rs), `cargo run -- crashtest N` as often as asked.
//!
//! With [`CrashtestOptions::unix`] (`crashtest --unix`) it also starts a
//! busybox shell loop in the Unix personality on the first boot and checks
//! after every cut that the same Linux process goes on counting
//! ([`unix`]).

pub mod unix;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use abide_splitmix::SplitMix64;

use crate::session::{AddSpec, BootOptions, RootTree, Session};

/// Keys the loop sets and syncs, in turn (the kv store holds 256 keys).
const SYNCED_KEYS: u32 = 200;
/// Keys the loop sets after the sync, in turn, and never checks.
const UNSYNCED_KEYS: u32 = 20;

/// How long one boot (or resume) to the shell prompt may take.
const BOOT: Duration = Duration::from_secs(60);
/// How long one shell command may take to answer.
const REPLY: Duration = Duration::from_secs(20);
/// The shell's prompt.
const PROMPT: &str = abide_abi::host::SHELL_PROMPT;

/// What the loop is asked to do.
#[derive(Debug, Clone)]
pub struct CrashtestOptions {
    /// Power cuts to survive.
    pub runs: u32,
    /// Seeds the moments of the cuts (printed, so a failure replays).
    pub seed: u64,
    /// The store image (created fresh).
    pub store: PathBuf,
    /// The longest wait after the last sync before the cut, in ms.
    pub max_cut_delay_ms: u64,
    /// Also run the Linux workload ([`unix`]).
    pub unix: bool,
    /// `--add` directories, loaded at every boot beside the root tree.
    pub add: Vec<AddSpec>,
}

/// What the loop saw.
#[derive(Debug, Clone, Default)]
pub struct CrashtestReport {
    pub runs: u32,
    /// Boots that resumed a saved system (all but the first).
    pub resumed: u32,
    /// Keys written and acknowledged by a sync, all found again.
    pub synced_keys: usize,
    /// The highest counter value seen.
    pub counter: u64,
    /// The highest value the Linux loop wrote to `/home/n` that was seen
    /// (with [`CrashtestOptions::unix`]).
    pub unix_count: u64,
    /// Milliseconds from QEMU start to the shell prompt, per boot.
    pub boot_ms: Vec<u64>,
}

/// Runs the loop; `Err` names the run and what went wrong, with the output.
pub fn run(options: &CrashtestOptions) -> Result<CrashtestReport, String> {
    println!(
        "crashtest: {} power cuts, seed {:#x}, store {}",
        options.runs,
        options.seed,
        options.store.display()
    );
    if options.store.exists() {
        std::fs::remove_file(&options.store)
            .map_err(|e| format!("cannot remove {}: {e}", options.store.display()))?;
    }
    // SplitMix64, so the printed seed replays.
    let mut rng = SplitMix64::new(options.seed);
    let mut report = CrashtestReport::default();
    let mut synced: BTreeMap<String, String> = BTreeMap::new();
    let mut counter_at_sync = 0u64;
    let mut unix_loop = unix::UnixLoop::default();
    // The console of every boot so far, for the report of a failure.
    let mut earlier = String::new();
    for run in 0..=options.runs {
        let fail = |what: String, session: &mut Session| {
            failure(run, options.seed, &what, &earlier, session)
        };
        let mut session = boot(&options.store, options.unix, &options.add)?;
        if let Err(error) = session.expect(PROMPT, BOOT) {
            return Err(fail(error, &mut session));
        }
        report
            .boot_ms
            .push(session.started().elapsed().as_millis() as u64);
        if run > 0 {
            if !session.output().contains("store: resumed generation") {
                return Err(fail("the system did not resume".into(), &mut session));
            }
            report.resumed += 1;
        }
        // The counter never goes back past what a sync saw.
        let value = read_counter(&mut session).map_err(|e| fail(e, &mut session))?;
        if value < counter_at_sync {
            return Err(fail(
                format!("counter went backwards: {value} after a sync saw {counter_at_sync}"),
                &mut session,
            ));
        }
        report.counter = report.counter.max(value);
        // Every key acknowledged before a completed sync is there.
        let list = command(&mut session, "kv list").map_err(|e| fail(e, &mut session))?;
        for (key, value) in &synced {
            let found = list.lines().any(|line| {
                let mut words = line.split_whitespace();
                words.next() == Some(key.as_str()) && words.next() == Some(value.as_str())
            });
            if !found {
                return Err(fail(
                    format!("key {key} = {value}, synced, is missing from kv list"),
                    &mut session,
                ));
            }
        }
        // The Linux loop: started on the first boot, the same process since.
        if options.unix {
            unix_loop
                .after_boot(&mut session)
                .map_err(|e| fail(e, &mut session))?;
            report.unix_count = unix_loop.highest;
        }
        if run == options.runs {
            session.kill()?;
            break;
        }
        // Work: a key per run, then a sync; the cut comes after.
        // The kv store holds 256 keys: the loop cycles through
        // SYNCED_KEYS keys (a rewrite must survive as well as a first
        // write) and UNSYNCED_KEYS unsynced ones.
        let key = format!("k{}", run % SYNCED_KEYS);
        let value = format!("v{}", rng.below(1_000_000));
        let set_reply = command(&mut session, &format!("kv set {key} {value}"))
            .map_err(|e| fail(e, &mut session))?;
        // Only a key the shell acknowledged counts as written: an input
        // line the guest garbled is a different failure from a lost write.
        let acknowledged = format!("set {key}");
        if !set_reply.lines().any(|line| line.trim() == acknowledged) {
            return Err(fail(
                format!("kv set {key} was not acknowledged: {set_reply:?}"),
                &mut session,
            ));
        }
        let seen = read_counter(&mut session).map_err(|e| fail(e, &mut session))?;
        let unix_seen = match options.unix {
            true => Some(
                unix_loop
                    .before_sync(&mut session)
                    .map_err(|e| fail(e, &mut session))?,
            ),
            false => None,
        };
        let synced_reply = command(&mut session, "sync").map_err(|e| fail(e, &mut session))?;
        if !synced_reply.contains("synced generation") {
            return Err(fail(format!("sync failed: {synced_reply}"), &mut session));
        }
        synced.insert(key, value);
        counter_at_sync = seen;
        if let Some(value) = unix_seen {
            unix_loop.synced(value);
        }
        // More work that may or may not survive, then the cut.
        let extra = format!("kv set unsynced{} x", run % UNSYNCED_KEYS);
        session
            .send(&format!("{extra}\n"))
            .map_err(|e| fail(e, &mut session))?;
        let delay = rng.below(options.max_cut_delay_ms + 1);
        std::thread::sleep(Duration::from_millis(delay));
        session.kill()?;
        earlier.push_str(&format!("--- boot {run} ---\n{}\n", session.output()));
        report.runs += 1;
        println!("crashtest: run {run}: cut {delay} ms after sync (counter {seen})");
    }
    report.synced_keys = synced.len();
    Ok(report)
}

/// The report of a failure in boot `run`: what went wrong, the console
/// of the earlier boots and of this one, and the last entries of the log
/// service (persistent, so they show the components' messages the serial
/// driver's console did not: a `unix` restart, a crash), when the shell
/// still answers.
fn failure(run: u32, seed: u64, what: &str, earlier: &str, session: &mut Session) -> String {
    let log = match command(session, "log last 80") {
        Ok(entries) => entries,
        Err(error) => format!("(the log could not be read: {error})"),
    };
    format!(
        "crashtest run {run} (seed {seed:#x}): {what}\n{earlier}--- boot {run} ---\n{}\n\
         --- log last 80 ---\n{log}",
        session.output()
    )
}

/// Boots the default system on `store`, with the root tree (required for
/// the Linux workload, else when busybox can be had) and the `add`
/// directories.
fn boot(store: &Path, unix: bool, add: &[AddSpec]) -> Result<Session, String> {
    let options = BootOptions {
        store: Some(store.to_path_buf()),
        root_tree: if unix {
            RootTree::Required
        } else {
            RootTree::IfAvailable
        },
        add: add.to_vec(),
        ..BootOptions::default()
    };
    Session::boot(options)
}

/// Sends `line` and returns the answer up to the next prompt.
fn command(session: &mut Session, line: &str) -> Result<String, String> {
    let before = session.output().len();
    session.send(&format!("{line}\n"))?;
    session.expect_next(PROMPT, REPLY)?;
    let output = session.output();
    Ok(output[before..].to_string())
}

/// The counter's value, from the shell's `counter` command.
fn read_counter(session: &mut Session) -> Result<u64, String> {
    let answer = command(session, "counter")?;
    answer
        .split_whitespace()
        .skip_while(|word| *word != "counter")
        .filter_map(|word| word.parse().ok())
        .next()
        .ok_or_else(|| format!("no counter value in {answer:?}"))
}
