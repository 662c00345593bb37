//! `process_clone` of a foreign process shares its pages copy-on-write
//! (docs/kernel.md, "Another process's memory"): after the clone a write
//! by either side (here `process_write`, which resolves the copy as a
//! program's write fault does) is not seen by the other, a clone of a
//! clone is a third independent copy, a copy-on-write page keeps its
//! protection through `process_protect`, and ending the parent first and
//! then the children gives every frame back.

use alloc::format;
use alloc::vec::Vec;

use abide_abi::trap::{PROT_READ, PROT_WRITE};
use abide_rt::syscall::{
    channel_create, handle_close, memory_stats, process_clone, process_create, process_map,
    process_protect, process_write,
};
use abide_rt::{Error, Handle};

use crate::{check, in_use, limited, pages_of, pattern, read, reap, AT, LIMIT, PAGE};

/// Own pages of the foreign process: four writable, one read-only.
const PAGES: u64 = 5;

/// The checks, then the whole scenario once more to see that ending the
/// parent first, then its clones, leaves the machine's memory where it
/// was (the first run grows what stays for good: kernel records, this
/// program's heap).
pub fn copy_on_write(port: Handle) -> Result<bool, Error> {
    let mut all = scenario(port, true)?;
    let before = in_use(&memory_stats()?);
    all &= scenario(port, false)?;
    let after = in_use(&memory_stats()?);
    all &= check(
        "ending a copy-on-write parent first, then its clones, frees every frame",
        after <= before,
        &format!("(in use: {before} bytes before, {after} after)"),
    );
    Ok(all)
}

/// A foreign process, its clone and a clone of the clone, written
/// through each; `report` prints the checks.
fn scenario(port: Handle, report: bool) -> Result<bool, Error> {
    let mut all = true;
    let (trap_end, handler_end) = channel_create()?;
    let parent = process_create("fmem-cow", trap_end, &limited(LIMIT))?;
    let rw = PROT_READ | PROT_WRITE;
    process_map(parent, AT, PAGES * PAGE, rw)?;
    let original: Vec<Vec<u8>> = (0..PAGES)
        .map(|page| pattern(0x30 + page as u8, PAGE as usize))
        .collect();
    for (page, bytes) in original.iter().enumerate() {
        process_write(parent, AT + page as u64 * PAGE, bytes)?;
    }
    let read_only = AT + (PAGES - 1) * PAGE;
    process_protect(parent, read_only, PAGE, PROT_READ)?;

    let child = process_clone(parent, "fmem-cow-child", &limited(LIMIT))?;
    let same = read(child, AT, (PAGES * PAGE) as usize)? == original.concat();
    let p = pattern(0xe1, 64);
    process_write(parent, AT + 8, &p)?;
    let q = pattern(0xe2, 64);
    process_write(child, AT + PAGE + 8, &q)?;
    let r = pattern(0xe3, 64);
    process_write(child, read_only + 8, &r)?;
    let page = |index: u64, offset: u64| {
        let start = (offset) as usize;
        original
            .get(index as usize)
            .and_then(|bytes| bytes.get(start..start + 64))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    let independent = same
        && read(parent, AT + 8, 64)? == p
        && read(child, AT + 8, 64)? == page(0, 8)
        && read(child, AT + PAGE + 8, 64)? == q
        && read(parent, AT + PAGE + 8, 64)? == page(1, 8)
        && read(child, read_only + 8, 64)? == r
        && read(parent, read_only + 8, 64)? == page(PAGES - 1, 8)
        && pages_of(child) >= PAGES;
    if report {
        all &= check(
            "after a clone, a write by either side is not seen by the other",
            independent,
            &format!("(the clone is charged {} pages)", pages_of(child)),
        );
    } else {
        all &= independent;
    }

    let grandchild = process_clone(child, "fmem-cow-grandchild", &limited(LIMIT))?;
    let s = pattern(0xe4, 64);
    process_write(grandchild, AT + 2 * PAGE + 8, &s)?;
    let t = pattern(0xe5, 64);
    process_write(child, AT + 3 * PAGE + 8, &t)?;
    let third = read(grandchild, AT + 2 * PAGE + 8, 64)? == s
        && read(child, AT + 2 * PAGE + 8, 64)? == page(2, 8)
        && read(parent, AT + 2 * PAGE + 8, 64)? == page(2, 8)
        && read(grandchild, AT + PAGE + 8, 64)? == q
        && read(grandchild, AT + 8, 64)? == page(0, 8)
        && read(grandchild, AT + 3 * PAGE + 8, 64)? == page(3, 8);
    if report {
        all &= check("a clone of a clone is a copy of its own", third, "");
    } else {
        all &= third;
    }

    // A shared page made read-only and writable again is still
    // copy-on-write: the write lands in the clone alone.
    let down = process_protect(grandchild, AT + 3 * PAGE, PAGE, PROT_READ);
    let up = process_protect(grandchild, AT + 3 * PAGE, PAGE, rw);
    let u = pattern(0xe6, 64);
    process_write(grandchild, AT + 3 * PAGE + 8, &u)?;
    let protected = down.is_ok()
        && up.is_ok()
        && read(grandchild, AT + 3 * PAGE + 8, 64)? == u
        && read(parent, AT + 3 * PAGE + 8, 64)? == page(3, 8)
        && read(child, AT + 3 * PAGE + 8, 64)? == t;
    if report {
        all &= check(
            "a copy-on-write page keeps its protection",
            protected,
            &format!("({down:?}, {up:?})"),
        );
    } else {
        all &= protected;
    }

    // The parent goes first: its clones hold the frames on.
    reap(port, parent)?;
    let kept = read(child, AT + 8, 64)? == page(0, 8)
        && read(grandchild, read_only + 8, 64)? == r
        && read(child, read_only + 8, 64)? == r;
    let v = pattern(0xe7, 64);
    process_write(child, AT + 8, &v)?;
    let kept = kept && read(child, AT + 8, 64)? == v && read(grandchild, AT + 8, 64)? == page(0, 8);
    if report {
        all &= check("the clones keep their pages when the parent ends", kept, "");
    } else {
        all &= kept;
    }
    reap(port, child)?;
    reap(port, grandchild)?;
    handle_close(handler_end)?;
    Ok(all)
}
