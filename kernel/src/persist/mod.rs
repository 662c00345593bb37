//! The checkpoint engine: the whole system, saved to the store and resumed
//! from it (see docs/store.md and DESIGN.md, Persistence).
//!
//! A checkpoint starts in the kernel with interrupts off on the one CPU, so
//! every user thread is already stopped at the kernel boundary; the thread
//! that was on the CPU is saved with its live registers. The pause walks
//! the object table and every address space, keeps the pages not dirtied
//! since the last checkpoint (they share their blocks with the previous
//! generation; zero pages cost no block), write-protects the others and
//! encodes the object state. Threads then run while timer ticks write the
//! pages out (`writeout`) and commit the generation (flush, header, flush).
//!
//! At boot, [`start`] looks for the store: a committed generation is
//! resumed instead of starting init from the configuration.

mod capture;
mod image;
mod pages;
mod restore;
mod writeout;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use abide_abi::persist::{PersistStatus, DEFAULT_PERIOD_MS};
use abide_store::{OpenError, PageKey, Store};

use crate::arch::context::{FpuState, UserContext};
use crate::arch::idt::TrapFrame;
use crate::disk::StoreDisk;
use crate::mm::{self, AddressSpace, PageSet};
use crate::object::{Kernel, ObjectId};
use crate::sync::IrqSpinLock;
use crate::{println, time};
use writeout::{Pending, WriteOut};

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
    /// The generation being written out, between its pause and commit.
    write_out: Option<WriteOut>,
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
                // The period is the system's: it goes on as it was.
                status.period_ms = restored.period_ms;
                Start::Resumed
            }
            Err(restore::RestoreError::Refused(why)) => {
                println!(
                    "store: generation {generation} is refused: {why}; left untouched and \
                     running without persistence (start a new store with `cargo run -- --fresh`)"
                );
                return Start::Fresh;
            }
            Err(error) => crate::fail(format_args!(
                "store: cannot resume generation {generation}: {error}. The store is left \
                 untouched; start a new one with `cargo run -- --fresh`"
            )),
        }
    };
    let period_ns = status.period_ms.saturating_mul(1_000_000);
    *ENGINE.lock() = Some(Engine {
        store,
        saved,
        rewrite_all: false,
        period_ns,
        next_due_ns: time::now_ns().saturating_add(period_ns),
        status,
        write_out: None,
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

/// How long the write-out may hold the CPU on one timer tick while threads
/// wait to run, and while none does.
const BUSY_WRITE_BUDGET_NS: u64 = 2_000_000;
const IDLE_WRITE_BUDGET_NS: u64 = 8_000_000;

impl Engine {
    /// The stop-the-world part of a checkpoint: decides the new
    /// generation's pages (keeping the unchanged ones), write-protects
    /// those still to write, and encodes the object state. The write-out
    /// follows, a little on every timer tick ([`Engine::advance`]).
    fn pause(
        &mut self,
        kernel: &mut Kernel,
        running: Option<(ObjectId, &TrapFrame, &FpuState)>,
    ) -> Result<(), CheckpointError> {
        let began = time::now_ns();
        let pages = capture::collect_pages(kernel);
        let live = running.map(|(id, frame, fpu)| {
            let mut context = UserContext {
                regs: *frame,
                fpu: fpu.clone(),
                fs_base: 0,
                gs_base: 0,
            };
            context.save_segment_bases();
            (id, context)
        });
        let state = capture::encode_image(
            kernel,
            pages.page_sets,
            live.as_ref().map(|(id, context)| (*id, context)),
            began,
            self.status.period_ms,
        )
        .map_err(|error| {
            println!("checkpoint: cannot encode the object state: {error}");
            // Dirty bits were taken: the next checkpoint saves every page.
            // No stale TLB entry may skip setting them again meanwhile.
            self.rewrite_all = true;
            x86_64::instructions::tlb::flush_all();
            CheckpointError::Store
        })?;
        let mut saved = BTreeMap::new();
        let mut to_keep = Vec::new();
        let mut to_write = Vec::new();
        for page in pages.pages {
            let unchanged =
                !self.rewrite_all && !page.dirty && self.saved.get(&page.key) == Some(&page.frame);
            saved.insert(page.key, page.frame);
            if !unchanged {
                to_write.push(page);
            } else if self.store.contains(page.key) {
                to_keep.push(page);
            }
            // else: a zero page that stayed zero, absent from both.
        }
        let mut builder = self.store.begin();
        for page in to_keep {
            if !builder.keep(page.key) {
                to_write.push(page);
            }
        }
        let mut out = WriteOut::new(builder.detach(), state, saved);
        out.hold = pages.sets;
        for page in to_write {
            for &(tables, virt) in &page.mappings {
                if mm::write_protect(tables, virt) {
                    out.protected(tables, virt, page.frame);
                }
            }
            out.push(Pending {
                key: page.key,
                frame: page.frame,
                owner: page.owner,
            });
        }
        // Dirty bits were cleared and pages protected: no stale TLB entry
        // may skip either.
        x86_64::instructions::tlb::flush_all();
        let resumed = time::now_ns();
        out.pause_ns = resumed.saturating_sub(began);
        out.resumed_ns = resumed;
        self.write_out = Some(out);
        Ok(())
    }

    /// Writes waiting pages until the clock reaches `deadline_ns`, and
    /// commits once none is left; returns the generation it committed.
    fn advance(&mut self, deadline_ns: u64) -> Result<Option<u64>, CheckpointError> {
        let Some(mut out) = self.write_out.take() else {
            return Ok(None);
        };
        if out.copy_failed {
            return Err(self.abandon(&mut out, "out of memory copying a page aside"));
        }
        let Some(detached) = out.builder.take() else {
            return Err(self.abandon(&mut out, "the store failed: the builder is gone"));
        };
        let mut builder = self.store.resume(detached);
        while let Some(pending) = out.pop() {
            let put = out.with_saved_contents(&pending, |bytes| builder.put(pending.key, bytes));
            if let Err(error) = put {
                drop(builder);
                return Err(self.abandon(&mut out, format_args!("the store failed: {error}")));
            }
            out.written += 1;
            if out.remaining() > 0 && time::now_ns() >= deadline_ns {
                out.builder = Some(builder.detach());
                self.write_out = Some(out);
                return Ok(None);
            }
        }
        builder.set_state(&out.state);
        let generation = match builder.commit() {
            Ok(generation) => generation,
            Err(error) => {
                return Err(self.abandon(&mut out, format_args!("the store failed: {error}")))
            }
        };
        let done = time::now_ns();
        self.saved = core::mem::take(&mut out.saved);
        self.rewrite_all = false;
        self.next_due_ns = done.saturating_add(self.period_ns);
        let status = &mut self.status;
        status.generation = generation;
        status.checkpoints += 1;
        status.last_pause_ns = out.pause_ns;
        status.last_write_ns = done.saturating_sub(out.resumed_ns);
        status.last_pages_written = out.written;
        status.used_blocks = self.store.used_blocks();
        log::debug!(
            "checkpoint: generation {generation}: {} pages written, {} state bytes, pause {} us, write-out {} us",
            out.written,
            out.state.len(),
            out.pause_ns / 1000,
            status.last_write_ns / 1000
        );
        Ok(Some(generation))
    }

    /// Gives up the generation being written (the store failed, or a page
    /// could not be copied aside): nothing is committed, every page gets
    /// its write permission back, and the next checkpoint saves every page
    /// (the dirty bits are gone).
    fn abandon(&mut self, out: &mut WriteOut, why: impl core::fmt::Display) -> CheckpointError {
        println!("checkpoint: abandoned: {why}");
        out.release_all();
        self.rewrite_all = true;
        self.next_due_ns = time::now_ns().saturating_add(self.period_ns);
        CheckpointError::Store
    }
}

/// Takes a checkpoint now for a system call of the thread on the CPU
/// (`current`, with its live registers in `frame` and `fpu`) and returns
/// once it is committed, with its generation.
///
/// A write-out in progress completes first; only then is the new
/// generation's number known. `reply` writes it into `frame` as the
/// call's result before the pause saves the registers, so a program
/// resumed from this generation sees its call return this generation.
pub fn checkpoint(
    kernel: &mut Kernel,
    current: Option<ObjectId>,
    frame: &mut TrapFrame,
    fpu: &FpuState,
    reply: impl FnOnce(&mut TrapFrame, u64),
) -> Result<u64, CheckpointError> {
    let mut guard = ENGINE.lock();
    let engine = guard.as_mut().ok_or(CheckpointError::NoStore)?;
    engine.advance(u64::MAX)?;
    // Nothing commits in between: the engine's lock is held throughout.
    let generation = engine.store.generation().saturating_add(1);
    reply(frame, generation);
    engine.pause(kernel, current.map(|id| (id, &*frame, fpu)))?;
    let committed = engine.advance(u64::MAX)?.ok_or(CheckpointError::Store)?;
    if committed != generation {
        // The store numbers generations one after the other: a kernel bug.
        println!("checkpoint: committed generation {committed}, not the {generation} promised");
    }
    Ok(committed)
}

/// Called on every timer interrupt: writes some of a checkpoint in
/// progress, or begins the periodic checkpoint when it is due. `from_user`
/// says whether `frame` holds the thread on the CPU.
pub fn tick(kernel: &mut Kernel, frame: &TrapFrame, fpu: &FpuState, from_user: bool) {
    let mut guard = ENGINE.lock();
    let Some(engine) = guard.as_mut() else {
        return;
    };
    let now = time::now_ns();
    if engine.write_out.is_some() {
        let idle = kernel.sched.current.is_none() && kernel.sched.run_queue.is_empty();
        let budget = if idle {
            IDLE_WRITE_BUDGET_NS
        } else {
            BUSY_WRITE_BUDGET_NS
        };
        // A failure was reported; the next period tries again.
        let _ = engine.advance(now.saturating_add(budget));
        return;
    }
    if engine.period_ns == 0 || now < engine.next_due_ns {
        return;
    }
    let running = match (from_user, kernel.sched.current) {
        (true, Some(id)) => Some((id, frame, fpu)),
        _ => None,
    };
    if engine.pause(kernel, running).is_err() {
        engine.next_due_ns = now.saturating_add(engine.period_ns);
    }
}

/// A write to user address `virt` in the current address space faulted on
/// a present page: true if it hit a page a checkpoint is still writing
/// out, which is now copied aside and writable again (retry the write).
/// Called from the page-fault paths, in user and in kernel mode (user
/// copies); the engine never touches user addresses while it holds its
/// lock, so this cannot deadlock.
pub fn write_fault(virt: u64) -> bool {
    let root = x86_64::registers::control::Cr3::read()
        .0
        .start_address()
        .as_u64();
    ENGINE
        .lock()
        .as_mut()
        .and_then(|engine| engine.write_out.as_mut())
        .is_some_and(|out| out.write_fault(root, virt))
}

/// `space` is about to be dropped (its process ended): pages of it a
/// checkpoint is still writing out are copied aside first.
pub fn space_ending(space: &AddressSpace) {
    if let Some(out) = ENGINE
        .lock()
        .as_mut()
        .and_then(|engine| engine.write_out.as_mut())
    {
        out.space_ending(space.page_tables().root());
    }
}

/// Page set `set` is about to be mapped: pages of it a checkpoint is still
/// writing out are copied aside first.
pub fn set_mapping(set: &PageSet) {
    if let Some(out) = ENGINE
        .lock()
        .as_mut()
        .and_then(|engine| engine.write_out.as_mut())
    {
        out.set_mapping(set);
    }
}

/// The page in `frame` is about to change by other means than a user write
/// (`process_write` through the direct map, `process_unmap`,
/// `process_map` over it, `process_protect`): a checkpoint still writing
/// it out copies it aside first, and gives up its write protection (so a
/// later release cannot make a read-only page writable).
pub fn page_changing(frame: u64) {
    if let Some(out) = ENGINE
        .lock()
        .as_mut()
        .and_then(|engine| engine.write_out.as_mut())
    {
        out.page_changing(frame);
    }
}

/// Runs `f` with a test of which pages of the address space with root
/// `root` a checkpoint holds write-protected for now (they were writable
/// at its pause): a copy of the space gives them their permission back.
/// With `hand_over`, once `f` succeeded the checkpoint forgets those
/// pages' protection without giving it back: `f` made them
/// copy-on-write, read-only until a write fault copies them (and that
/// fault or the last mapping's takeover calls [`page_changing`] first).
/// `f` must not touch user memory or the engine.
pub fn with_write_protected<T, E>(
    root: u64,
    hand_over: bool,
    f: impl FnOnce(&dyn Fn(u64) -> bool) -> Result<T, E>,
) -> Result<T, E> {
    let mut guard = ENGINE.lock();
    match guard.as_mut().and_then(|engine| engine.write_out.as_mut()) {
        Some(out) => {
            let result = f(&|virt| out.is_protected(root, virt));
            if hand_over && result.is_ok() {
                out.forget_mappings(root);
            }
            result
        }
        None => f(&|_| false),
    }
}

/// The engine's status (`enabled` 0 without a store).
pub fn status() -> PersistStatus {
    ENGINE
        .lock()
        .as_ref()
        .map_or_else(PersistStatus::default, |engine| engine.status)
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
