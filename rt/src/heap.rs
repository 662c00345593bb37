//! The global allocator: `talc` over a static 1 MiB arena, claimed at the
//! first allocation. A spin lock makes it safe for threads; memory objects
//! will back a growable heap later.

use talc::source::Claim;
use talc::TalcLock;

/// Size of the heap arena (in `.bss`, so it costs the image nothing).
const ARENA_LEN: usize = 1 << 20;

static mut ARENA: [u8; ARENA_LEN] = [0; ARENA_LEN];

#[global_allocator]
static HEAP: TalcLock<spin::mutex::SpinMutex<()>, Claim> =
    // SAFETY: `ARENA` is used by nothing but this allocator, which claims it
    // once, and lives for the whole program.
    TalcLock::new(unsafe { Claim::array(&raw mut ARENA) });
