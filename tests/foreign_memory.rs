//! System test: a process holding another with `MANAGE` maps, writes,
//! reads, protects, unmaps and clones its memory, and every bad request is
//! refused (docs/kernel.md, "Another process's memory").
//!
//! `user/tests/fmem-test` runs as the system's only program: it works on a
//! running `spinner` at a fixed address (fresh pages are zero, a write
//! across a page boundary reads back, read-only and `PROT_NONE` pages
//! stay reachable for the handler, a map over mapped pages replaces them,
//! a clone is a copy independent both ways and charged to itself, unmap
//! gives the pages back), checks the refusals (kernel-half, unaligned and
//! overflowing ranges, a handle without `MANAGE`, a map over the memory
//! limit that changes nothing), maps a memory object into an empty
//! foreign process (`process_map_memory`) and checks a clone of it shares
//! the pages both ways until one unmaps them, clones a foreign process
//! whose own pages are then shared copy-on-write (a write by either side,
//! or by a clone of the clone, stays its own; ending the parent first,
//! then the clones, gives every frame back), has children of its own
//! touch pages they mapped into themselves (a read-only page faults on a
//! write, a `PROT_NONE` page on a read), and checks that the machine's
//! memory is back once every process is gone.
//!
//! `user/tests/fmem-persist` (`system/fmem-persist.conf`) checks that a
//! page written with `process_write` into a persistent child is saved
//! like one its program wrote: it survives a power cut; and so does a
//! memory object mapped into a persistent foreign process and its clone,
//! still shared by both, and a page the clone shares copy-on-write with
//! that process and wrote before the sync, still private to each.
//!
//! Drives: `user/tests/fmem-test` (which starts `user/tests/spinner` and
//! itself as children), `user/tests/fmem-persist` (which starts
//! `user/tests/spinner`). Configs: none (`init=fmem-test`) and
//! `system/fmem-persist.conf`.

mod support;

use support::*;

#[test]
fn another_process_memory_is_mapped_copied_protected_cloned_and_refused() {
    let output = run_to_success("init=fmem-test");
    for check in [
        "map four pages",
        "fresh pages are zero",
        "write then read across a page boundary",
        "protect",
        "a PROT_NONE page stays mapped for the handler",
        "map over mapped pages replaces them",
        "clone copies, and the copies are independent",
        "the clone's pages are its own to change",
        "unmap",
        "kernel-half addresses are refused",
        "unaligned and empty ranges are refused",
        "overflowing ranges are refused",
        "a handle without MANAGE is refused",
        "a handle to something else is refused",
        "a map over the memory limit is refused and changes nothing",
        "the spinner runs on",
        "a memory object's mapping is not replaced, only read and written through",
        "a memory object maps into a foreign process, shared",
        "a clone shares the mapping both ways",
        "unmap ends the mapping in one process only",
        "bad shared mappings are refused",
        "device memory is not mapped into a foreign process or read through",
        "after a clone, a write by either side is not seen by the other",
        "a clone of a clone is a copy of its own",
        "a copy-on-write page keeps its protection",
        "the clones keep their pages when the parent ends",
        "ending a copy-on-write parent first, then its clones, frees every frame",
        "a writable page takes the program's writes",
        "a read-only page faults on a write",
        "a PROT_NONE page faults on a read",
        "memory returns once the processes are gone",
    ] {
        assert_contains(&output, &format!("fmem: {check}: ok"));
    }
    assert_contains(&output, "fmem: all checks passed");
    assert!(!output.contains("FAILED"), "output:\n{output}");
}

#[test]
fn a_page_written_with_process_write_into_a_persistent_child_survives_a_power_cut() {
    // `user/tests/fmem-persist`: the page was saved zero and clean by a
    // first sync, so only the dirty bit process_write set makes the
    // second sync save it.
    const VALUE: &str = "0x5eedf00d5eedf00d";
    let path = fresh_store("fmem-persist");
    let options = || BootOptions::with_cmdline("config=fmem-persist").with_store(&path);
    let mut session = step(Session::boot(options()));
    // And a memory object mapped into a persistent foreign process and
    // its clone (`process_map_memory`) comes back shared by both.
    const SHARED: &str = "0xdd5ca1e0dd5ca1e";
    const PRIVATE: &str =
        "the clone's own page holds 0xc0ffee00c0ffee0 0xc104e000c104e00, the first's 0xc0ffee00c0ffee0 0x0";
    let line = whole_line(&mut session, "cut the power");
    assert!(line.contains(&format!("wrote {VALUE}")), "{line}");
    assert!(
        line.contains(&format!("{PRIVATE}, private; cut the power")),
        "{line}"
    );
    assert!(
        line.contains(&format!("the clone sees {SHARED}, shared;")),
        "{line}"
    );
    power_cut(&mut session);
    let mut session = step(Session::boot(options()));
    let line = whole_line(&mut session, "fmem-persist: resumed");
    assert!(line.contains(&format!("the child holds {VALUE}")), "{line}");
    assert!(
        line.contains(&format!("the clone sees {SHARED}, shared;")),
        "{line}"
    );
    // And a copy-on-write page of that foreign process, written by its
    // clone before the sync, came back private to each (`COW`, then
    // `CLONE` the clone's write; the first process never saw it).
    assert!(line.ends_with(&format!("{PRIVATE}, private")), "{line}");
    assert_kernel_healthy(&session.output());
    power_cut(&mut session);
}
