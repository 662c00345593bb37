//! An empty qcow2 image, for QEMU's `savevm` to store the machine's state
//! in (it needs a disk image that supports snapshots; raw files do not).
//!
//! `qemu-img create -f qcow2` would make it, but `qemu-img` comes in
//! another Debian package (`qemu-utils`) than QEMU itself; the empty image
//! is four clusters, written here. Format: QEMU's `docs/interop/qcow2.txt`,
//! version 3, 64 KiB clusters, 16-bit refcounts, all integers big-endian:
//!
//! | cluster | offset | holds |
//! |---:|---:|---|
//! | 0 | 0 | the header |
//! | 1 | 64 KiB | the refcount table: one entry, the block below |
//! | 2 | 128 KiB | refcount block 0: clusters 0 to 3 are used once |
//! | 3 | 192 KiB | the L1 table, all zeros: nothing allocated |

use std::fs;
use std::path::Path;

/// log2 of the cluster size.
const CLUSTER_BITS: u32 = 16;
/// 64 KiB.
const CLUSTER: u64 = 1 << CLUSTER_BITS;
/// The clusters of an empty image.
const CLUSTERS: u64 = 4;
/// Bytes of the version 3 header (the last field is its own length).
const HEADER_LENGTH: u32 = 104;
/// 16-bit refcounts: `refcount_order` 4.
const REFCOUNT_ORDER: u32 = 4;

/// The bytes of an empty qcow2 image of `size` bytes of virtual disk (at
/// most one L1 cluster's worth: 4 TiB).
pub fn image(size: u64) -> Vec<u8> {
    // One L2 table maps a cluster of 8-byte entries, each a cluster.
    let per_l2 = (CLUSTER / 8) * CLUSTER;
    let l1_size = size.div_ceil(per_l2).max(1);
    assert!(
        l1_size <= CLUSTER / 8,
        "a {size}-byte disk needs more than one L1 cluster"
    );
    let mut out = vec![0u8; (CLUSTERS * CLUSTER) as usize];
    let mut put = |offset: u64, bytes: &[u8]| {
        let at = offset as usize;
        out[at..at + bytes.len()].copy_from_slice(bytes);
    };
    // The header. Fields left zero: the backing file (8, 16), encryption
    // (32), snapshots (60, 64), feature bits (72, 80, 88); after it, the
    // end of the header extensions (type 0, length 0).
    put(0, b"QFI\xfb");
    put(4, &3u32.to_be_bytes());
    put(20, &CLUSTER_BITS.to_be_bytes());
    put(24, &size.to_be_bytes());
    put(36, &(l1_size as u32).to_be_bytes());
    put(40, &(3 * CLUSTER).to_be_bytes());
    put(48, &CLUSTER.to_be_bytes());
    put(56, &1u32.to_be_bytes());
    put(96, &REFCOUNT_ORDER.to_be_bytes());
    put(100, &HEADER_LENGTH.to_be_bytes());
    // The refcount table's one entry, and the counts of the four clusters.
    put(CLUSTER, &(2 * CLUSTER).to_be_bytes());
    for cluster in 0..CLUSTERS {
        put(2 * CLUSTER + 2 * cluster, &1u16.to_be_bytes());
    }
    out
}

/// Writes an empty qcow2 image of `size` bytes of disk at `path`.
pub fn create(path: &Path, size: u64) -> Result<(), String> {
    fs::write(path, image(size)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be32(bytes: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn be64(bytes: &[u8], at: usize) -> u64 {
        u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn the_empty_image_is_consistent() {
        let image = image(16 << 20);
        assert_eq!(image.len(), 4 * 65536);
        assert_eq!(&image[..4], b"QFI\xfb");
        assert_eq!(be32(&image, 4), 3);
        assert_eq!(be32(&image, 20), 16);
        assert_eq!(be64(&image, 24), 16 << 20);
        assert_eq!(be32(&image, 36), 1);
        let (l1, refcount_table) = (be64(&image, 40), be64(&image, 48));
        assert_eq!((l1, refcount_table), (3 * 65536, 65536));
        assert_eq!(be32(&image, 96), 4);
        assert_eq!(be32(&image, 100), 104);
        // The refcount table points at block 0, which counts every
        // cluster of the file once and nothing else.
        let block = be64(&image, refcount_table as usize) as usize;
        assert_eq!(block, 2 * 65536);
        let counts: Vec<u16> = image[block..block + 65536]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        assert!(counts[..4].iter().all(|&c| c == 1));
        assert!(counts[4..].iter().all(|&c| c == 0));
        // Nothing is allocated: the L1 table is zeros.
        assert!(image[l1 as usize..].iter().all(|&b| b == 0));
    }

    #[test]
    fn the_l1_table_covers_the_disk() {
        // One L2 table maps 512 MiB.
        assert_eq!(be32(&image(512 << 20), 36), 1);
        assert_eq!(be32(&image((512 << 20) + 1), 36), 2);
        assert_eq!(be32(&image(0), 36), 1);
    }
}
