//! Reads the archives the host tool loaded beside the kernel — the root tree
//! (`rootfs`) and the `--add` directories (`add`) — through `bundle_read`,
//! and prints for each `archive <name>: <length> bytes, crc32c <hex>` (or
//! `archive <name>: absent`), which `tests/rootfs.rs` compares with the
//! host's files; then exits 0.
#![no_std]
#![no_main]

use abide_abi::host::ARCHIVES;

abide_rt::entry!(main);

fn main() -> i32 {
    for name in ARCHIVES {
        match abide_rt::syscall::bundle_read(name) {
            Ok(bytes) => abide_rt::println!(
                "archive {name}: {} bytes, crc32c {:#010x}",
                bytes.len(),
                abide_store::crc::crc32c(&bytes)
            ),
            Err(_) => abide_rt::println!("archive {name}: absent"),
        }
    }
    0
}
