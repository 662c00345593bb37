//! Kernel tests of the archives the host tool loads beside the kernel (the
//! root tree, `--add`): every one the command line names is kept, none of
//! its frames is ever handed out, and its bytes are what `bundle_read`
//! serves. `tests/rootfs.rs` runs them with archives loaded; without any
//! they check that nothing is kept.

use super::{KernelTest, TestResult};
use crate::ensure;
use crate::mm;

pub const TESTS: &[KernelTest] = &[KernelTest {
    name: "archives::frames_kept",
    run: archives_frames_kept,
    explicit: false,
}];

/// Takes every free frame, checks none lies in a kept archive, and gives
/// them all back. The frames taken are chained through their own first
/// word, so the test needs no memory of its own.
fn archives_frames_kept() -> TestResult {
    let cmdline = crate::boot_data::info().map(|info| &info.cmdline);
    let named = cmdline.map_or(0, |c| abide_boot::archive::valid_archives(c).count());
    let kept = mm::kept_archives().count();
    ensure!(
        kept == named,
        "the command line names {named} archive(s), the kernel kept {kept}"
    );
    for archive in mm::kept_archives() {
        let bytes = mm::archive_bytes(archive.name).ok_or("a kept archive has no bytes")?;
        ensure!(
            bytes.len() as u64 == archive.len,
            "archive {} serves {} bytes, not {}",
            archive.name,
            bytes.len(),
            archive.len
        );
        ensure!(
            crate::bundle::file(archive.name).map(<[u8]>::as_ptr) == Some(bytes.as_ptr()),
            "bundle_read does not serve archive {}",
            archive.name
        );
        let mut frame = archive.start;
        while frame < archive.frames_end {
            ensure!(
                !mm::frame_is_free(frame),
                "frame {frame:#x} of archive {} is free",
                archive.name
            );
            frame += 4096;
        }
    }
    let before = mm::stats().0.free_bytes;
    // Take them all.
    let mut chain = 0u64;
    let mut taken = 0u64;
    let mut clash = None;
    while let Some(frame) = mm::alloc_frame() {
        let inside = mm::kept_archives().any(|a| a.start <= frame && frame < a.frames_end);
        if inside && clash.is_none() {
            clash = Some(frame);
        }
        if !inside {
            // SAFETY: the frame was just allocated to this test, nothing
            // else refers to it, and the direct map maps it writable.
            unsafe { core::ptr::write(mm::phys_to_virt(frame) as *mut u64, chain) };
            chain = frame;
        }
        taken += 1;
    }
    // Give them all back (except a clashing one, never written or freed).
    while chain != 0 {
        // SAFETY: `chain` is a frame this test allocated and linked above.
        let next = unsafe { core::ptr::read(mm::phys_to_virt(chain) as *const u64) };
        mm::free_frame(chain).map_err(|e| alloc::format!("free {chain:#x}: {e}"))?;
        chain = next;
    }
    if let Some(frame) = clash {
        return Err(alloc::format!(
            "frame {frame:#x} of a kept archive was handed out"
        ));
    }
    ensure!(taken > 0, "no frame could be allocated");
    ensure!(
        mm::stats().0.free_bytes == before,
        "free memory not restored after taking all {taken} frames"
    );
    Ok(())
}
