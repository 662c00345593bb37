//! Kernel tests of memory management: frames, heap, page tables, and what the
//! kernel's own mappings forbid.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{KernelTest, TestResult};
use crate::arch::exceptions::PAGE_FAULT;
use crate::arch::probe;
use crate::ensure;
use crate::mm::{self, PageFlags};

pub const TESTS: &[KernelTest] = &[
    KernelTest {
        name: "frames::alloc_free",
        run: frames_alloc_free,
        explicit: false,
    },
    KernelTest {
        name: "heap::alloc_grow_free",
        run: heap_alloc_grow_free,
        explicit: false,
    },
    KernelTest {
        name: "heap::free_run_check",
        run: heap_free_run_check,
        explicit: false,
    },
    KernelTest {
        name: "paging::map_translate_unmap",
        run: paging_map_translate_unmap,
        explicit: false,
    },
    KernelTest {
        name: "paging::protect_read_only",
        run: paging_protect_read_only,
        explicit: false,
    },
    KernelTest {
        name: "paging::no_identity_map",
        run: paging_no_identity_map,
        explicit: false,
    },
    KernelTest {
        name: "paging::kernel_text_read_only",
        run: paging_kernel_text_read_only,
        explicit: false,
    },
    KernelTest {
        name: "paging::stack_guard_page",
        run: paging_stack_guard_page,
        explicit: false,
    },
    KernelTest {
        name: "page_set::dirty_outlives_mapping",
        run: page_set_dirty_outlives_mapping,
        explicit: false,
    },
];

fn frames_alloc_free() -> TestResult {
    let before = mm::stats().0.free_bytes;
    let mut frames = Vec::new();
    for _ in 0..64 {
        let frame = mm::alloc_frame().ok_or("out of frames")?;
        ensure!(frame % 4096 == 0, "frame {frame:#x} is not page-aligned");
        ensure!(
            !frames.contains(&frame),
            "frame {frame:#x} handed out twice"
        );
        frames.push(frame);
    }
    let during = mm::stats().0.free_bytes;
    ensure!(
        before - during == 64 * 4096,
        "free memory fell by {} bytes, not 64 frames",
        before - during
    );
    for &frame in &frames {
        mm::free_frame(frame).map_err(|e| alloc::format!("free {frame:#x}: {e}"))?;
    }
    ensure!(
        mm::stats().0.free_bytes == before,
        "free memory not restored"
    );
    ensure!(
        mm::free_frame(frames[0]).is_err(),
        "a double free was accepted"
    );
    Ok(())
}

fn heap_alloc_grow_free() -> TestResult {
    let before = mm::stats().1;
    let boxed = Box::new(0x1234_5678_u64);
    ensure!(*boxed == 0x1234_5678, "box lost its value");
    // Larger than the initial heap: the heap must grow from the frame allocator.
    let big: Vec<u8> = (0..8 << 20).map(|i| i as u8).collect();
    ensure!(big[12345] == (12345 % 256) as u8, "vector content wrong");
    let grown = mm::stats().1;
    ensure!(
        grown.claimed_bytes > before.claimed_bytes,
        "heap did not grow for 8 MiB"
    );
    let page_aligned = alloc::alloc::Layout::from_size_align(4096, 4096).map_err(|_| "layout")?;
    // SAFETY: the layout is nonzero; the block is freed right after.
    unsafe {
        let ptr = alloc::alloc::alloc(page_aligned);
        ensure!(
            !ptr.is_null() && (ptr as usize).is_multiple_of(4096),
            "aligned allocation failed: {ptr:?}"
        );
        alloc::alloc::dealloc(ptr, page_aligned);
    }
    drop(big);
    drop(boxed);
    let after = mm::stats().1;
    ensure!(
        after.allocated_bytes <= before.allocated_bytes,
        "heap leaked {} bytes",
        after.allocated_bytes - before.allocated_bytes
    );
    Ok(())
}

/// The system-call gate's check: a run the heap holds or can take beyond
/// the kernel's reserve is there, allocates nothing and then fits;
/// one larger than the machine's memory is refused without growing.
fn heap_free_run_check() -> TestResult {
    let before = mm::stats();
    ensure!(mm::heap_has_free_run(64 << 10), "no 64 KiB run in the heap");
    let after = mm::stats();
    ensure!(
        after.1.allocated_bytes == before.1.allocated_bytes,
        "the check kept {} bytes",
        after.1.allocated_bytes.abs_diff(before.1.allocated_bytes)
    );
    // Larger than the heap holds: the check grows it, then the run fits
    // without growing again.
    let wanted = before.1.claimed_bytes as usize + (1 << 20);
    ensure!(
        mm::heap_has_free_run(wanted),
        "the heap did not grow for the check"
    );
    let grown = mm::stats().1.claimed_bytes;
    let run: Vec<u8> = Vec::with_capacity(wanted - 64);
    ensure!(
        mm::stats().1.claimed_bytes == grown,
        "the run the check found did not hold {} bytes",
        run.capacity()
    );
    drop(run);
    let usable = after.0.total_bytes as usize;
    ensure!(
        !mm::heap_has_free_run(usable),
        "a run as large as the machine's memory passed"
    );
    ensure!(
        mm::stats().1.claimed_bytes == grown,
        "a refused check grew the heap"
    );
    Ok(())
}

/// A scratch page for paging tests: a fresh frame mapped at `virt`.
fn map_scratch(virt: u64, flags: PageFlags) -> Result<u64, alloc::string::String> {
    let frame = mm::alloc_frame().ok_or("out of frames")?;
    mm::map_page(virt, frame, flags).map_err(|e| alloc::format!("map {virt:#x}: {e}"))?;
    Ok(frame)
}

fn paging_map_translate_unmap() -> TestResult {
    let virt = mm::SCRATCH_BASE;
    let rw = PageFlags::WRITABLE | PageFlags::NO_EXECUTE;
    let frame = map_scratch(virt, rw)?;
    let t = mm::translate(virt + 0x123).ok_or("mapped page does not translate")?;
    ensure!(
        t.phys == frame + 0x123,
        "translates to {:#x}, expected {:#x}",
        t.phys,
        frame + 0x123
    );
    ensure!(
        mm::map_page(virt, frame, rw).is_err(),
        "mapping twice was accepted"
    );
    // SAFETY: the page was just mapped for this test.
    unsafe {
        probe::write_u64(virt, 0xfeed_f00d).map_err(|f| alloc::format!("write faulted: {f:?}"))?
    };
    let through_direct_map =
        probe::read_u64(mm::phys_to_virt(frame)).map_err(|f| alloc::format!("{f:?}"))?;
    ensure!(
        through_direct_map == 0xfeed_f00d,
        "direct map sees {through_direct_map:#x}"
    );
    let unmapped = mm::unmap_page(virt).map_err(|e| alloc::format!("unmap: {e}"))?;
    ensure!(unmapped == frame, "unmap returned {unmapped:#x}");
    ensure!(
        mm::translate(virt).is_none(),
        "unmapped page still translates"
    );
    let fault = probe::read_u64(virt)
        .err()
        .ok_or("reading an unmapped page did not fault")?;
    ensure!(
        fault.vector == PAGE_FAULT && fault.cr2 == virt,
        "unexpected fault {fault:?}"
    );
    ensure!(
        fault.error_code & 1 == 0,
        "fault says the page is present: {fault:?}"
    );
    mm::free_frame(frame).map_err(|e| alloc::format!("{e}"))?;
    Ok(())
}

fn paging_protect_read_only() -> TestResult {
    let virt = mm::SCRATCH_BASE + 0x1000;
    let frame = map_scratch(virt, PageFlags::WRITABLE | PageFlags::NO_EXECUTE)?;
    mm::protect_page(virt, PageFlags::NO_EXECUTE).map_err(|e| alloc::format!("protect: {e}"))?;
    let t = mm::translate(virt).ok_or("protected page does not translate")?;
    ensure!(
        !t.flags.contains(PageFlags::WRITABLE),
        "still writable: {:?}",
        t.flags
    );
    // SAFETY: the page belongs to this test; the write must fault anyway.
    let fault = unsafe { probe::write_u64(virt, 1) }
        .err()
        .ok_or("write to a read-only page did not fault")?;
    ensure!(
        fault.vector == PAGE_FAULT && fault.cr2 == virt,
        "unexpected fault {fault:?}"
    );
    ensure!(
        fault.error_code & 0b11 == 0b11,
        "error code {:#x} is not present+write",
        fault.error_code
    );
    ensure!(
        probe::read_u64(virt).is_ok(),
        "reading a read-only page faulted"
    );
    mm::unmap_page(virt).map_err(|e| alloc::format!("{e}"))?;
    mm::free_frame(frame).map_err(|e| alloc::format!("{e}"))?;
    Ok(())
}

fn paging_no_identity_map() -> TestResult {
    for addr in [0u64, 0x1000, 0x10_0000] {
        let fault = probe::read_u64(addr)
            .err()
            .ok_or(alloc::format!("low address {addr:#x} is mapped"))?;
        ensure!(fault.vector == PAGE_FAULT, "unexpected fault {fault:?}");
    }
    Ok(())
}

fn paging_kernel_text_read_only() -> TestResult {
    let code = paging_kernel_text_read_only as *const () as u64;
    let word = probe::read_u64(code).map_err(|f| alloc::format!("reading text faulted: {f:?}"))?;
    // Writing the same value back: harmless if the protection were missing.
    // SAFETY: the value is unchanged, so even a successful write changes nothing.
    let fault = unsafe { probe::write_u64(code, word) }
        .err()
        .ok_or("kernel text is writable")?;
    ensure!(fault.vector == PAGE_FAULT, "unexpected fault {fault:?}");
    let t = mm::translate(code).ok_or("text does not translate")?;
    ensure!(
        !t.flags.contains(PageFlags::NO_EXECUTE),
        "text is not executable"
    );
    static READ_ONLY_DATA: u64 = 0x5eed;
    let data = core::ptr::addr_of!(READ_ONLY_DATA) as u64;
    let t = mm::translate(data).ok_or("rodata does not translate")?;
    ensure!(
        t.flags.contains(PageFlags::NO_EXECUTE),
        "rodata is executable"
    );
    Ok(())
}

fn paging_stack_guard_page() -> TestResult {
    extern "C" {
        static __stack_guard: u8;
    }
    let guard = core::ptr::addr_of!(__stack_guard) as u64;
    let fault = probe::read_u64(guard)
        .err()
        .ok_or("the stack guard page is mapped")?;
    ensure!(
        fault.vector == PAGE_FAULT && fault.cr2 == guard,
        "unexpected fault {fault:?}"
    );
    Ok(())
}

/// A write through a memory object's mapping outlives the mapping: when
/// the address space goes, it hands the page's dirty bit to the page set,
/// where the next checkpoint takes it (`persist::capture`).
fn page_set_dirty_outlives_mapping() -> TestResult {
    // More than two words of the set's bitmap.
    const PAGES: usize = 130;
    const WRITTEN: [usize; 4] = [0, 63, 64, 129];
    let set = Arc::new(mm::PageSet::zeroed(PAGES).ok_or("out of memory")?);
    let mut space = mm::AddressSpace::new().map_err(|e| alloc::format!("new space: {e}"))?;
    let base = space
        .map_shared(set.clone(), true)
        .map_err(|e| alloc::format!("map the set: {e}"))?;
    space.activate();
    let mut marks = [false; PAGES];
    for &index in &WRITTEN {
        // The CPU sets the dirty bit of the user mapping it writes through.
        probe::copy_to_user(base + index as u64 * 4096, &[0xa5])
            .map_err(|e| alloc::format!("write page {index}: {e}"))?;
    }
    set.take_dirty(&mut marks);
    ensure!(
        !marks.contains(&true),
        "pages marked while their mapping lives"
    );
    // Dropping the active space switches back to the kernel's tables.
    drop(space);
    set.take_dirty(&mut marks);
    for (index, &mark) in marks.iter().enumerate() {
        ensure!(
            mark == WRITTEN.contains(&index),
            "page {index}: dirty {mark} after the mapping went"
        );
    }
    let mut again = [false; PAGES];
    set.take_dirty(&mut again);
    ensure!(!again.contains(&true), "the marks were not cleared");
    let last = mm::phys_to_virt(*set.frames().last().ok_or("no pages")?) as *const u8;
    // SAFETY: the set's frame is alive while `set` is, through the direct map.
    ensure!(unsafe { last.read() } == 0xa5, "the write did not land");
    Ok(())
}
