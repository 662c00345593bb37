//! Kernel tests of the store disk (`disk`): they need a virtio-blk disk
//! attached, so all are `explicit` and the system test `tests/store_disk.rs`
//! runs them with a store image of its own.
//!
//! Blocks are filled with [`pattern`], which depends on a tag and the block
//! number; the system test computes the same bytes on the host to check
//! what reached the image file and to plant blocks for the kernel to find.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use abide_splitmix::mix;
use abide_store::{Disk, BLOCK_SIZE};

use super::{KernelTest, TestResult};
use crate::disk::{self, DiskError, StoreDisk};
use crate::{ensure, println};

pub const TESTS: &[KernelTest] = &[
    KernelTest {
        name: "disk::absent",
        run: absent,
        explicit: true,
    },
    KernelTest {
        name: "disk::round_trip",
        run: round_trip,
        explicit: true,
    },
    KernelTest {
        name: "disk::guard",
        run: guard,
        explicit: true,
    },
    KernelTest {
        name: "disk::speed",
        run: speed,
        explicit: true,
    },
    KernelTest {
        name: "disk::power_cut",
        run: power_cut,
        explicit: true,
    },
    KernelTest {
        name: "disk::after_power_cut",
        run: after_power_cut,
        explicit: true,
    },
];

/// Written by `disk::power_cut` before the host cuts the power.
pub const TAG_BEFORE_CUT: u8 = 0xB1;
pub const BEFORE_CUT_BLOCK: u64 = 1000;
pub const BEFORE_CUT_BLOCKS: u64 = 24;
/// Planted by the host in the image file between the two boots.
pub const TAG_HOST: u8 = 0x40;
pub const HOST_BLOCK: u64 = 2000;
pub const HOST_BLOCKS: u64 = 8;
/// Written by `disk::after_power_cut` for the host to find in the file.
pub const TAG_SECOND_BOOT: u8 = 0xB2;
pub const SECOND_BOOT_BLOCK: u64 = 3000;
pub const SECOND_BOOT_BLOCKS: u64 = 8;
/// What `disk::power_cut` prints once its writes are flushed.
pub const FLUSHED_MARKER: &str = "disk: flushed; cut the power";

/// Fills `buf` (whole blocks) with the contents of blocks `first..` for
/// `tag`: little-endian word `i` of block `b` is
/// `mix(tag << 56 | b << 16 | i)` (SplitMix64's [`mix`], which the host
/// check in `tests/store_disk.rs` computes too).
pub fn pattern(tag: u8, first: u64, buf: &mut [u8]) {
    for (index, block) in buf.chunks_exact_mut(BLOCK_SIZE).enumerate() {
        let b = first + index as u64;
        for (i, word) in block.chunks_exact_mut(8).enumerate() {
            let value = mix((u64::from(tag) << 56) | (b << 16) | i as u64);
            word.copy_from_slice(&value.to_le_bytes());
        }
    }
}

fn patterned(tag: u8, first: u64, blocks: u64) -> Vec<u8> {
    let mut buf = vec![0; blocks as usize * BLOCK_SIZE];
    pattern(tag, first, &mut buf);
    buf
}

fn open() -> Result<StoreDisk, alloc::string::String> {
    disk::probe().ok_or_else(|| "no store disk (is one attached?)".into())
}

/// Reads `blocks` blocks at `first` and checks them against `tag`'s pattern.
fn expect_pattern(
    disk: &mut StoreDisk,
    tag: u8,
    first: u64,
    blocks: u64,
) -> Result<(), alloc::string::String> {
    let mut got = vec![0; blocks as usize * BLOCK_SIZE];
    disk.read(first, &mut got)
        .map_err(|e| format!("reading {blocks} blocks at {first}: {e}"))?;
    let want = patterned(tag, first, blocks);
    if let Some(at) = got.iter().zip(&want).position(|(a, b)| a != b) {
        return Err(format!(
            "block {} byte {} reads {:#04x}, expected {:#04x} (tag {tag:#x})",
            first + (at / BLOCK_SIZE) as u64,
            at % BLOCK_SIZE,
            got[at],
            want[at]
        ));
    }
    Ok(())
}

fn write_pattern(disk: &mut StoreDisk, tag: u8, first: u64, blocks: u64) -> TestResult {
    disk.write(first, &patterned(tag, first, blocks))
        .map_err(|e| format!("writing {blocks} blocks at {first}: {e}"))
}

/// With no disk attached, `probe` says so (and returns at once).
fn absent() -> TestResult {
    ensure!(
        disk::probe().is_none(),
        "probe found a disk, but none is attached"
    );
    Ok(())
}

fn round_trip() -> TestResult {
    let mut disk = open()?;
    let count = disk.block_count();
    ensure!(count >= 4096, "the disk has only {count} blocks");

    // One 64 KiB request, an odd count, a split request (80 KiB), the
    // last block; then the same blocks again with other contents, so
    // stale data cannot pass.
    let ranges = [(100, 16), (200, 5), (300, 20), (count - 1, 1)];
    for tag in [1u8, 2] {
        for &(first, blocks) in &ranges {
            write_pattern(&mut disk, tag, first, blocks)?;
        }
        disk.flush().map_err(|e| format!("flush: {e}"))?;
        for &(first, blocks) in &ranges {
            expect_pattern(&mut disk, tag, first, blocks)?;
        }
    }
    // Block by block reads see the same as the whole-range read.
    for block in 300..320 {
        expect_pattern(&mut disk, 2, block, 1)?;
    }
    // A write into the middle of a range changes only its blocks.
    write_pattern(&mut disk, 3, 305, 2)?;
    expect_pattern(&mut disk, 2, 300, 5)?;
    expect_pattern(&mut disk, 3, 305, 2)?;
    expect_pattern(&mut disk, 2, 307, 13)?;

    // The caller's buffer may be unaligned.
    let mut unaligned = vec![0u8; 2 * BLOCK_SIZE + 1];
    disk.read(100, &mut unaligned[1..])
        .map_err(|e| format!("unaligned read: {e}"))?;
    ensure!(
        unaligned[1..] == patterned(2, 100, 2)[..],
        "an unaligned read returned the wrong data"
    );

    // Refusals, without touching the device.
    let mut block = vec![0u8; BLOCK_SIZE];
    let refused = [
        disk.read(count, &mut block),
        disk.read(count - 1, &mut vec![0u8; 2 * BLOCK_SIZE]),
        disk.read(u64::MAX, &mut block),
        disk.write(count, &block),
    ];
    for (i, result) in refused.iter().enumerate() {
        ensure!(
            matches!(result, Err(DiskError::OutOfRange { .. })),
            "out-of-range request {i} gave {result:?}"
        );
    }
    ensure!(
        matches!(
            disk.read(0, &mut block[..100]),
            Err(DiskError::PartialBlock { len: 100 })
        ),
        "a partial block was not refused"
    );
    ensure!(disk.read(0, &mut []).is_ok(), "an empty read failed");

    // A second driver for the same device is refused; after a drop, a new
    // probe brings the device up again and reads what was written.
    ensure!(disk::probe().is_none(), "a second StoreDisk was handed out");
    drop(disk);
    let mut disk = open()?;
    expect_pattern(&mut disk, 2, 100, 16)?;
    Ok(())
}

/// The store's PCI function is the kernel's: user-space writes to its
/// configuration are refused, other functions' are not; q35's memory-mapped
/// configuration window and the register that places it are refused too.
fn guard() -> TestResult {
    use crate::disk::pci::{data_write_allowed, ecam_window, guarded, select};
    use crate::object::hardware::mmio_allowed;
    use virtio_drivers::transport::pci::bus::DeviceFunction;

    let disk = open()?;
    let store = disk.function();
    let guarded = guarded();
    let host_bridge = DeviceFunction {
        bus: 0,
        device: 0,
        function: 0,
    };
    let other = DeviceFunction {
        device: (store.device + 1) % 32,
        ..store
    };
    for offset in [0x04, 0x10, 0x14, 0x20, 0x3c] {
        ensure!(
            !data_write_allowed(select(store, offset), guarded),
            "a write to offset {offset:#x} of the store {store} was allowed"
        );
        ensure!(
            data_write_allowed(select(other, offset), guarded),
            "a write to offset {offset:#x} of {other} was refused"
        );
    }
    ensure!(
        data_write_allowed(select(store, 0x10) & !(1 << 31), guarded),
        "a write with the enable bit clear was refused"
    );
    for offset in [0x60, 0x64] {
        ensure!(
            !data_write_allowed(select(host_bridge, offset), guarded),
            "a write to PCIEXBAR (offset {offset:#x}) was allowed"
        );
    }
    ensure!(
        data_write_allowed(select(host_bridge, 0x04), guarded),
        "a write to the host bridge's command register was refused"
    );
    // The window of QEMU's q35 (the firmware places it at 0xb0000000).
    let (start, end) = ecam_window();
    ensure!(end > start, "no PCI configuration window found on q35");
    ensure!(
        !mmio_allowed(start, 4096) && !mmio_allowed(end - 4096, 4096),
        "the configuration window {start:#x}..{end:#x} may be mapped"
    );
    // The store's registers, page by page as a driver would map them.
    let windows = disk::store_register_windows();
    ensure!(
        !windows.is_empty(),
        "the store's registers are not recorded"
    );
    for (phys, len) in windows {
        let page = phys & !0xfff;
        ensure!(
            !mmio_allowed(page, (phys + len - page).next_multiple_of(4096)),
            "the store's registers at {phys:#x} (+{len:#x}) may be mapped"
        );
    }
    println!("disk: configuration window {start:#x}..{end:#x} guarded, store {store} guarded");
    Ok(())
}

/// Times writes and reads; prints the figures (`disk: speed ...` lines).
fn speed() -> TestResult {
    let mut disk = open()?;
    let base = 4096;
    ensure!(
        disk.block_count() >= base + 4096,
        "the disk is too small for the speed test"
    );
    let block = patterned(7, 0, 1);
    let big = patterned(8, 0, 16);
    let mut big_in = vec![0u8; big.len()];

    let report = |what: &str, requests: u64, bytes: u64, ns: u64| {
        let ns = ns.max(1);
        println!(
            "disk: speed: {requests} x {what}: {}.{:03} ms, {} us per request, {} MiB/s",
            ns / 1_000_000,
            (ns / 1000) % 1000,
            ns / requests / 1000,
            (bytes * 1_000_000_000 / ns) >> 20
        );
    };
    println!();

    let start = crate::time::now_ns();
    for i in 0..1000 {
        disk.write(base + i % 4096, &block)
            .map_err(|e| format!("4 KiB write {i}: {e}"))?;
    }
    report(
        "4 KiB write",
        1000,
        1000 * 4096,
        crate::time::now_ns() - start,
    );

    let start = crate::time::now_ns();
    for i in 0..1000 {
        disk.write(base + (i * 16) % 4096, &big)
            .map_err(|e| format!("64 KiB write {i}: {e}"))?;
    }
    report(
        "64 KiB write",
        1000,
        1000 * 65536,
        crate::time::now_ns() - start,
    );

    let start = crate::time::now_ns();
    disk.flush().map_err(|e| format!("flush: {e}"))?;
    report("flush", 1, 0, crate::time::now_ns() - start);

    let start = crate::time::now_ns();
    for i in 0..1000 {
        disk.read(base + (i * 16) % 4096, &mut big_in)
            .map_err(|e| format!("64 KiB read {i}: {e}"))?;
    }
    report(
        "64 KiB read",
        1000,
        1000 * 65536,
        crate::time::now_ns() - start,
    );
    ensure!(
        big_in == big,
        "the last 64 KiB read returned the wrong data"
    );
    Ok(())
}

/// First boot of the power-cut test: writes, flushes, says so and waits
/// for the host to kill QEMU.
fn power_cut() -> TestResult {
    let mut disk = open()?;
    // Older contents first, so the flushed state is not the only state the
    // blocks ever had.
    write_pattern(
        &mut disk,
        TAG_SECOND_BOOT,
        BEFORE_CUT_BLOCK,
        BEFORE_CUT_BLOCKS,
    )?;
    write_pattern(
        &mut disk,
        TAG_BEFORE_CUT,
        BEFORE_CUT_BLOCK,
        BEFORE_CUT_BLOCKS,
    )?;
    disk.flush().map_err(|e| format!("flush: {e}"))?;
    println!();
    println!("{FLUSHED_MARKER}");
    loop {
        crate::arch::cpu::wait_for_interrupt();
    }
}

/// Second boot: finds what the first wrote and what the host planted,
/// then writes blocks for the host to find.
fn after_power_cut() -> TestResult {
    let mut disk = open()?;
    expect_pattern(
        &mut disk,
        TAG_BEFORE_CUT,
        BEFORE_CUT_BLOCK,
        BEFORE_CUT_BLOCKS,
    )?;
    expect_pattern(&mut disk, TAG_HOST, HOST_BLOCK, HOST_BLOCKS)?;
    write_pattern(
        &mut disk,
        TAG_SECOND_BOOT,
        SECOND_BOOT_BLOCK,
        SECOND_BOOT_BLOCKS,
    )?;
    disk.flush().map_err(|e| format!("flush: {e}"))?;
    Ok(())
}
