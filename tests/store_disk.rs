//! The store disk: the kernel's virtio-blk driver (`kernel/src/disk`) on a
//! store image attached the way `cargo run` attaches it, through the
//! explicit kernel tests `disk::*` (`kernel/src/ktest/disk_tests.rs`).
//!
//! - A round trip: writes of one and many blocks (one 64 KiB request, a
//!   split one), flush, reads that must return exactly what was written,
//!   refusals of bad requests; and the figures of 1000 writes.
//! - Across boots and a power cut: the first boot writes and flushes, then
//!   QEMU is SIGKILLed; the host finds the blocks in the image file and
//!   plants blocks of its own; the second boot finds both and writes more,
//!   which the host finds after it.
//! - Without a store (the default for every other system test) the kernel
//!   finds no disk.
//!
//! Drives: none: the kernel tests `disk::*` (`kernel/src/ktest/disk_tests.rs`).
//! Configs: none.

mod support;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use abide_splitmix::mix;
use support::*;

const BLOCK_SIZE: usize = 4096;

// The layout and tags of kernel/src/ktest/disk_tests.rs.
const TAG_BEFORE_CUT: u8 = 0xB1;
const BEFORE_CUT_BLOCK: u64 = 1000;
const BEFORE_CUT_BLOCKS: u64 = 24;
const TAG_HOST: u8 = 0x40;
const HOST_BLOCK: u64 = 2000;
const HOST_BLOCKS: u64 = 8;
const TAG_SECOND_BOOT: u8 = 0xB2;
const SECOND_BOOT_BLOCK: u64 = 3000;
const SECOND_BOOT_BLOCKS: u64 = 8;
const FLUSHED_MARKER: &str = "disk: flushed; cut the power";

/// The contents of blocks `first..first + blocks` for `tag`, as the kernel
/// test computes them (with the same [`mix`]).
fn pattern(tag: u8, first: u64, blocks: u64) -> Vec<u8> {
    let mut buf = vec![0u8; blocks as usize * BLOCK_SIZE];
    for (index, block) in buf.chunks_exact_mut(BLOCK_SIZE).enumerate() {
        let b = first + index as u64;
        for (i, word) in block.chunks_exact_mut(8).enumerate() {
            let value = mix((u64::from(tag) << 56) | (b << 16) | i as u64);
            word.copy_from_slice(&value.to_le_bytes());
        }
    }
    buf
}

fn read_blocks(store: &Path, first: u64, blocks: u64) -> Vec<u8> {
    let mut buf = vec![0u8; blocks as usize * BLOCK_SIZE];
    File::open(store)
        .and_then(|f| f.read_exact_at(&mut buf, first * BLOCK_SIZE as u64))
        .unwrap_or_else(|e| panic!("reading {}: {e}", store.display()));
    buf
}

fn assert_blocks(store: &Path, tag: u8, first: u64, blocks: u64, what: &str) {
    let got = read_blocks(store, first, blocks);
    let want = pattern(tag, first, blocks);
    if let Some(at) = got.iter().zip(&want).position(|(a, b)| a != b) {
        panic!(
            "{what}: block {} byte {} of {} is {:#04x}, expected {:#04x}",
            first + (at / BLOCK_SIZE) as u64,
            at % BLOCK_SIZE,
            store.display(),
            got[at],
            want[at]
        );
    }
}

/// Checks a kernel-test run: the kernel stayed healthy, `passed` tests
/// passed and `failed` failed.
fn assert_healthy_verdict(output: &str, status: i32, passed: usize, failed: usize) {
    assert_kernel_healthy(output);
    assert_ktest_verdict(output, status, passed, failed);
}

#[test]
fn writes_flushes_and_reads_back_blocks() {
    let store = fresh_store("store-disk-round-trip");
    let options = BootOptions::with_cmdline("test=disk::round_trip,disk::guard,disk::speed")
        .with_store(&store);
    let (output, status) = step(run_to_exit(options, RUN));
    assert_healthy_verdict(&output, status, 3, 0);
    assert_contains(&output, "guarded, store");
    assert_contains(&output, "disk: store on virtio-blk");
    assert_contains(&output, "65536 blocks of 4096 bytes (256 MiB)");
    // What the round trip left in the file: tag 2, but for blocks 305 and
    // 306, which it rewrote with tag 3.
    assert_blocks(&store, 2, 100, 16, "the 64 KiB write");
    assert_blocks(&store, 2, 200, 5, "the 5-block write");
    assert_blocks(&store, 2, 300, 5, "the split write");
    assert_blocks(&store, 3, 305, 2, "the overwrite");
    assert_blocks(&store, 2, 307, 13, "the split write");
    assert_blocks(&store, 2, 65535, 1, "the last block");
    for line in output.lines().filter(|l| l.contains("disk: speed:")) {
        eprintln!("{}", line.trim());
    }
}

#[test]
fn data_survives_a_power_cut_and_a_second_boot() {
    let store = fresh_store("store-disk-power-cut");

    // First boot: write, flush, then the power goes.
    let mut session = step(Session::boot(
        BootOptions::with_cmdline("test=disk::power_cut").with_store(&store),
    ));
    step(session.expect(FLUSHED_MARKER, RUN));
    power_cut(&mut session);
    assert_kernel_healthy(&session.output());
    drop(session);
    assert_blocks(
        &store,
        TAG_BEFORE_CUT,
        BEFORE_CUT_BLOCK,
        BEFORE_CUT_BLOCKS,
        "what the first boot flushed before the power cut",
    );

    // Blocks the kernel never wrote, for it to find.
    OpenOptions::new()
        .write(true)
        .open(&store)
        .and_then(|f| {
            f.write_all_at(
                &pattern(TAG_HOST, HOST_BLOCK, HOST_BLOCKS),
                HOST_BLOCK * BLOCK_SIZE as u64,
            )
        })
        .unwrap();

    // Second boot of the same file: finds both, writes more.
    let options = BootOptions::with_cmdline("test=disk::after_power_cut").with_store(&store);
    let (output, status) = step(run_to_exit(options, RUN));
    assert_healthy_verdict(&output, status, 1, 0);
    assert_blocks(
        &store,
        TAG_SECOND_BOOT,
        SECOND_BOOT_BLOCK,
        SECOND_BOOT_BLOCKS,
        "what the second boot wrote",
    );
}

#[test]
fn a_wrong_block_fails_the_second_boot() {
    // The check is real: with one planted block changed, the second boot's
    // test fails and names the block.
    let store = fresh_store("store-disk-corrupt");
    let mut blocks = pattern(TAG_BEFORE_CUT, BEFORE_CUT_BLOCK, BEFORE_CUT_BLOCKS);
    blocks.extend(vec![
        0;
        ((HOST_BLOCK - BEFORE_CUT_BLOCK - BEFORE_CUT_BLOCKS)
            as usize)
            * BLOCK_SIZE
    ]);
    blocks.extend(pattern(TAG_HOST, HOST_BLOCK, HOST_BLOCKS));
    let corrupt = (HOST_BLOCK + 3 - BEFORE_CUT_BLOCK) as usize * BLOCK_SIZE + 100;
    blocks[corrupt] ^= 0x01;
    OpenOptions::new()
        .write(true)
        .open(&store)
        .and_then(|f| f.write_all_at(&blocks, BEFORE_CUT_BLOCK * BLOCK_SIZE as u64))
        .unwrap();
    let options = BootOptions::with_cmdline("test=disk::after_power_cut").with_store(&store);
    let (output, status) = step(run_to_exit(options, RUN));
    assert_contains(&output, &format!("block {} byte 100 reads", HOST_BLOCK + 3));
    assert_healthy_verdict(&output, status, 0, 1);
}

#[test]
fn without_a_store_there_is_no_disk() {
    let (output, status) = run_cmdline("test=disk::absent log=info");
    assert_healthy_verdict(&output, status, 1, 0);
    assert_contains(
        &output,
        "disk: no virtio-blk device: running without a store",
    );
}
