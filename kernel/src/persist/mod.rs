//! The checkpoint engine: the whole system, saved to the store and resumed
//! from it (see docs/store.md and DESIGN.md, Persistence).
//!
//! A checkpoint runs in the kernel with interrupts off on the one CPU, so
//! every user thread is already stopped at the kernel boundary; the thread
//! that was on the CPU is saved with its live registers. The engine walks
//! the object table and every address space, writes the pages dirtied since
//! the last checkpoint (the others share their blocks with the previous
//! generation; zero pages cost no block), then the object state, and
//! commits the generation (flush, header, flush). Write-out happens inside
//! the pause for now; docs/store.md says what a background write-out needs.
//!
//! At boot, [`start`] looks for the store: a committed generation is
//! resumed instead of starting init from the configuration.

mod capture;
mod image;
mod pages;
mod restore;

use alloc::collections::BTreeMap;

use abide_abi::persist::{PersistStatus, DEFAULT_PERIOD_MS};
use abide_store::{OpenError, PageKey, Store};

use crate::arch::context::{FpuState, UserContext};
use crate::arch::idt::TrapFrame;
use crate::disk::StoreDisk;
use crate::object::{Kernel, ObjectId};
use crate::sync::IrqSpinLock;
use crate::{println, time};

/// The engine's state while a store is attached.
struct Engine {
    store: Store<StoreDisk>,
    /// The frame each page of the newest generation was saved from: a page
    /// still in that frame with a clear dirty bit shares its block.
    saved: BTreeMap<PageKey, u64>,
    /// A checkpoint failed after clearing dirty bits: save every page.
    rewrite_all: bool,
    period_ns: u64,
    next_due_ns: u64,
    status: PersistStatus,
}

static ENGINE: IrqSpinLock<Option<Engine>> = IrqSpinLock::new(None);

/// What boot does after [`start`].
pub enum Start {
    /// No store, or a new one: start init from the configuration.
    Fresh,
    /// The system came back from the store; the scheduler takes it from here.
    Resumed,
}

/// At boot, before anything runs: finds the store and resumes the system
/// it holds, if any. A store that cannot be used is left untouched and the
/// system runs without persistence, saying why.
pub fn start(kernel: &mut Kernel) -> Start {
    let Some(disk) = crate::disk::probe() else {
        println!("store: none attached; this system will not survive a power cut");
        return Start::Fresh;
    };
    let mut store = match Store::open(disk) {
        Ok(store) => store,
        Err(OpenError::Blank) => match new_store() {
            Some(store) => store,
            None => return Start::Fresh,
        },
        Err(OpenError::Incompatible { version }) => {
            println!(
                "store: written in format version {version}, this kernel reads version {}; \
                 left untouched and running without persistence (start a new store with \
                 `cargo run -- --fresh`)",
                abide_store::FORMAT_VERSION
            );
            return Start::Fresh;
        }
        Err(error) => {
            println!(
                "store: cannot be opened ({error}); left untouched and running without \
                 persistence (start a new store with `cargo run -- --fresh`)"
            );
            return Start::Fresh;
        }
    };
    if let Some(why) = store.fallback() {
        println!("store: the newest header was rejected ({why}); using the previous generation");
    }
    let generation = store.generation();
    let mut status = PersistStatus {
        enabled: 1,
        generation,
        period_ms: DEFAULT_PERIOD_MS,
        store_blocks: store.block_count(),
        used_blocks: store.used_blocks(),
        ..PersistStatus::default()
    };
    let mut saved = BTreeMap::new();
    let outcome = if generation == 0 {
        println!("store: empty; starting the system from its configuration");
        Start::Fresh
    } else {
        let began = time::since_entry_ns();
        match restore::restore(kernel, &mut store) {
            Ok(restored) => {
                println!(
                    "store: resumed generation {generation} in {} ms ({} pages; {} non-persistent processes ended)",
                    time::since_entry_ns().saturating_sub(began) / 1_000_000,
                    restored.saved.len(),
                    restored.ended
                );
                saved = restored.saved;
                status.resumed_from = generation;
                Start::Resumed
            }
            Err(error) => crate::fail(format_args!(
                "store: cannot resume generation {generation}: {error}. The store is left \
                 untouched; start a new one with `cargo run -- --fresh`"
            )),
        }
    };
    let period_ns = DEFAULT_PERIOD_MS * 1_000_000;
    *ENGINE.lock() = Some(Engine {
        store,
        saved,
        rewrite_all: false,
        period_ns,
        next_due_ns: time::now_ns().saturating_add(period_ns),
        status,
    });
    outcome
}

/// Formats a blank store.
fn new_store() -> Option<Store<StoreDisk>> {
    let disk = crate::disk::probe()?;
    match Store::format(disk) {
        Ok(store) => {
            println!(
                "store: formatted a new store ({} blocks)",
                store.block_count()
            );
            Some(store)
        }
        Err(error) => {
            println!("store: cannot format the new store ({error}); running without persistence");
            None
        }
    }
}

/// Why a checkpoint did not commit.
#[derive(Debug)]
pub enum CheckpointError {
    /// No store is attached.
    NoStore,
    /// The store refused or failed (already reported on the console).
    Store,
}

/// Takes a checkpoint now. `running` is the thread that was on the CPU,
/// with its live registers (a system call's result already in them).
/// Returns the committed generation.
pub fn checkpoint(
    kernel: &mut Kernel,
    running: Option<(ObjectId, &TrapFrame, &FpuState)>,
) -> Result<u64, CheckpointError> {
    let mut guard = ENGINE.lock();
    let engine = guard.as_mut().ok_or(CheckpointError::NoStore)?;
    let began = time::now_ns();
    let pages = capture::collect_pages(kernel);
    // Dirty bits were cleared: no stale TLB entry may skip setting them.
    x86_64::instructions::tlb::flush_all();
    let live = running.map(|(id, frame, fpu)| {
        (
            id,
            UserContext {
                regs: *frame,
                fpu: fpu.clone(),
            },
        )
    });
    let state = match capture::encode_image(
        kernel,
        pages.page_sets,
        live.as_ref().map(|(id, context)| (*id, context)),
        began,
    ) {
        Ok(state) => state,
        Err(error) => {
            println!("checkpoint: cannot encode the object state: {error}");
            return Err(CheckpointError::Store);
        }
    };
    let writing = time::now_ns();
    let rewrite_all = engine.rewrite_all;
    let mut saved = BTreeMap::new();
    let mut written = 0u64;
    let mut builder = engine.store.begin();
    for page in &pages.pages {
        let unchanged =
            !rewrite_all && !page.dirty && engine.saved.get(&page.key) == Some(&page.frame);
        if !(unchanged && builder.keep(page.key)) {
            if let Err(error) =
                pages::with_contents(page.frame, |bytes| builder.put(page.key, bytes))
            {
                println!("checkpoint: writing a page failed: {error}");
                drop(builder);
                engine.rewrite_all = true;
                return Err(CheckpointError::Store);
            }
            written += 1;
        }
        saved.insert(page.key, page.frame);
    }
    builder.set_state(&state);
    let generation = match builder.commit() {
        Ok(generation) => generation,
        Err(error) => {
            println!("checkpoint: commit failed: {error}");
            engine.rewrite_all = true;
            return Err(CheckpointError::Store);
        }
    };
    let done = time::now_ns();
    engine.saved = saved;
    engine.rewrite_all = false;
    engine.next_due_ns = done.saturating_add(engine.period_ns);
    let status = &mut engine.status;
    status.generation = generation;
    status.checkpoints += 1;
    status.last_pause_ns = done.saturating_sub(began);
    status.last_write_ns = done.saturating_sub(writing);
    status.last_pages_written = written;
    status.used_blocks = engine.store.used_blocks();
    log::debug!(
        "checkpoint: generation {generation}, {written} of {} pages written, {} state bytes, {} us",
        pages.pages.len(),
        state.len(),
        status.last_pause_ns / 1000
    );
    Ok(generation)
}

/// Called on every timer interrupt: takes the periodic checkpoint when due.
/// `from_user` says whether `frame` holds the thread on the CPU.
pub fn tick(kernel: &mut Kernel, frame: &TrapFrame, fpu: &FpuState, from_user: bool) {
    let due = match ENGINE.lock().as_ref() {
        Some(engine) => engine.period_ns != 0 && time::now_ns() >= engine.next_due_ns,
        None => false,
    };
    if !due {
        return;
    }
    let running = match (from_user, kernel.current) {
        (true, Some(id)) => Some((id, frame, fpu)),
        _ => None,
    };
    if checkpoint(kernel, running).is_err() {
        // Try again a period later rather than on every tick.
        if let Some(engine) = ENGINE.lock().as_mut() {
            engine.next_due_ns = time::now_ns().saturating_add(engine.period_ns);
        }
    }
}

/// The engine's status (`enabled` 0 without a store).
pub fn status() -> PersistStatus {
    ENGINE
        .lock()
        .as_ref()
        .map_or_else(PersistStatus::default, |engine| engine.status)
}

/// The generation the next checkpoint will commit, if a store is attached.
pub fn next_generation() -> Option<u64> {
    ENGINE
        .lock()
        .as_ref()
        .map(|engine| engine.status.generation + 1)
}

/// Sets the checkpoint period (0: on demand only).
pub fn set_period(period_ms: u64) -> Result<(), CheckpointError> {
    let mut guard = ENGINE.lock();
    let engine = guard.as_mut().ok_or(CheckpointError::NoStore)?;
    engine.period_ns = period_ms.saturating_mul(1_000_000);
    engine.status.period_ms = period_ms;
    engine.next_due_ns = time::now_ns().saturating_add(engine.period_ns);
    Ok(())
}

/// For messages: a checkpoint error as text.
impl core::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match self {
            CheckpointError::NoStore => f.write_str("no store attached"),
            CheckpointError::Store => f.write_str("the store failed (see the kernel log)"),
        }
    }
}
