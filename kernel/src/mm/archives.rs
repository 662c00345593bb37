//! The archives the host tool loaded into guest RAM (the root tree and the
//! user's `--add` directories; `archive=` on the command line, read by
//! `abide_boot::archive`): which ranges the frame allocator keeps out, decided
//! once before it hands out any frame, and their bytes for `bundle_read`.
//!
//! Every boot decides afresh from its own command line, before a checkpoint
//! is restored, so a restored system never receives those frames either.

use abide_abi::host::ARCHIVES;
use abide_boot::archive::valid_archives;
use abide_boot::{Cmdline, MemoryMap};
use spin::Once;

use super::phys_to_virt;

/// An archive the kernel keeps: `[start, start + len)` in physical memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptArchive {
    pub name: &'static str,
    pub start: u64,
    pub len: u64,
    /// The end of its last frame.
    pub frames_end: u64,
}

/// At most one of each name in [`ARCHIVES`].
type Kept = [Option<KeptArchive>; ARCHIVES.len()];

static KEPT: Once<Kept> = Once::new();

/// Decides which archives of `cmdline` are kept: those inside usable memory
/// and clear of `avoid` (low memory, the kernel image). Says why it drops
/// any other. Called once, by the frame allocator's set-up.
pub(super) fn decide(memory: &MemoryMap, cmdline: &Cmdline, avoid: &[(u64, u64)]) -> &'static Kept {
    KEPT.call_once(|| {
        let mut kept: Kept = [None; ARCHIVES.len()];
        for (value, parsed) in abide_boot::archive::archives(cmdline) {
            if let Err(error) = parsed {
                log::warn!("archive={value:?} ignored: {error:?}");
            }
        }
        for range in valid_archives(cmdline) {
            if !range.may_keep(memory, avoid) {
                log::warn!(
                    "archive {} at {:#x}+{:#x} ignored: not inside usable memory clear of the kernel",
                    range.name,
                    range.start,
                    range.len
                );
                continue;
            }
            let slot = ARCHIVES
                .iter()
                .position(|&name| name == range.name)
                .and_then(|index| kept.get_mut(index).zip(ARCHIVES.get(index)));
            if let Some((slot, &name)) = slot {
                log::debug!(
                    "archive {name}: {} bytes at {:#x}",
                    range.len,
                    range.start
                );
                *slot = Some(KeptArchive {
                    name,
                    start: range.start,
                    len: range.len,
                    frames_end: range.frames_end(),
                });
            }
        }
        kept
    })
}

/// The archives kept at boot (none before the frame allocator is set up).
pub fn kept() -> impl Iterator<Item = KeptArchive> {
    KEPT.get().into_iter().flatten().flatten().copied()
}

/// The bytes of the archive called `name`, when one was loaded and kept.
pub fn archive_bytes(name: &str) -> Option<&'static [u8]> {
    let archive = kept().find(|archive| archive.name == name)?;
    let len = usize::try_from(archive.len).ok()?;
    // SAFETY: `decide` kept this range only inside usable memory, which the
    // direct map covers, and the frame allocator reserved its frames before
    // handing any out, so nothing ever writes there: the bytes the host
    // tool's loader put there stay as they are for the kernel's lifetime.
    Some(unsafe { core::slice::from_raw_parts(phys_to_virt(archive.start) as *const u8, len) })
}
