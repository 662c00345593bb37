//! Writes a sequence across 64 pages as fast as it can and checks it as it
//! goes, so that a checkpoint taken while it runs must be a consistent cut.
//!
//! Step `n` finds on page `n % 64` the value step `n - 64` wrote, then
//! writes `n` there. Its registers, its stack and the pages are saved by
//! the same checkpoint; if any page were saved at a later moment than the
//! rest (a write-out that let a page change before saving it), the resumed
//! program would find a value from its future and says so, ending with
//! status 3. `tests/persist.rs` runs it (in `system/persist-check.conf`)
//! across power cuts and checks it never ended.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

abide_rt::entry!(main);

/// Pages the sequence goes round.
const PAGES: usize = 64;

/// A value alone on its page.
#[repr(align(4096))]
struct OwnPage(AtomicU64);

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: OwnPage = OwnPage(AtomicU64::new(0));

static RING: [OwnPage; PAGES] = [EMPTY; PAGES];

/// The next step, on a page of its own too.
static NEXT: OwnPage = OwnPage(AtomicU64::new(1));

fn main() -> i32 {
    abide_rt::println!("persist-check: writing a sequence across {PAGES} pages");
    let mut step = NEXT.0.load(Ordering::Relaxed);
    loop {
        let page = &RING[(step % PAGES as u64) as usize].0;
        let expected = step.saturating_sub(PAGES as u64);
        let found = page.load(Ordering::Relaxed);
        if found != expected {
            abide_rt::println!(
                "persist-check: inconsistent at step {step}: page {} holds {found}, expected {expected}",
                step % PAGES as u64
            );
            return 3;
        }
        page.store(step, Ordering::Relaxed);
        step += 1;
        NEXT.0.store(step, Ordering::Relaxed);
    }
}
