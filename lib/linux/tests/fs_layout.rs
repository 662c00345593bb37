//! Pins the file-system structures to Linux x86_64's layouts (sizes,
//! field offsets, encoded bytes), which glibc reads without checking.

use abide_linux::fs::{
    dirent64_len, makedev, put_dirent64, Stat, Statfs, Timespec, DIRENT64_HEADER,
};
use core::mem::{offset_of, size_of};

#[test]
fn stat_has_linux_layout() {
    assert_eq!(size_of::<Stat>(), 144);
    assert_eq!(offset_of!(Stat, dev), 0);
    assert_eq!(offset_of!(Stat, ino), 8);
    assert_eq!(offset_of!(Stat, nlink), 16);
    assert_eq!(offset_of!(Stat, mode), 24);
    assert_eq!(offset_of!(Stat, uid), 28);
    assert_eq!(offset_of!(Stat, gid), 32);
    assert_eq!(offset_of!(Stat, rdev), 40);
    assert_eq!(offset_of!(Stat, size), 48);
    assert_eq!(offset_of!(Stat, blksize), 56);
    assert_eq!(offset_of!(Stat, blocks), 64);
    assert_eq!(offset_of!(Stat, atime), 72);
    assert_eq!(offset_of!(Stat, mtime), 88);
    assert_eq!(offset_of!(Stat, ctime), 104);
}

#[test]
fn stat_bytes_put_each_field_at_its_offset() {
    let stat = Stat {
        dev: 1,
        ino: 2,
        nlink: 3,
        mode: 0o100644,
        uid: 5,
        gid: 6,
        rdev: 7,
        size: 8,
        blksize: 4096,
        blocks: 10,
        atime: Timespec { sec: 11, nsec: 12 },
        mtime: Timespec { sec: 13, nsec: 14 },
        ctime: Timespec { sec: 15, nsec: 16 },
        ..Stat::default()
    };
    let bytes = stat.to_bytes();
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((word(0), word(8), word(16)), (1, 2, 3));
    assert_eq!((half(24), half(28), half(32)), (0o100644, 5, 6));
    assert_eq!((word(40), word(48), word(56), word(64)), (7, 8, 4096, 10));
    assert_eq!((word(72), word(80), word(88), word(96)), (11, 12, 13, 14));
    assert_eq!((word(104), word(112)), (15, 16));
}

#[test]
fn statfs_has_linux_layout() {
    assert_eq!(size_of::<Statfs>(), 120);
    assert_eq!(offset_of!(Statfs, fsid), 56);
    assert_eq!(offset_of!(Statfs, namelen), 64);
    assert_eq!(offset_of!(Statfs, flags), 80);
    let bytes = Statfs {
        fs_type: 0x9fa0,
        namelen: 255,
        ..Statfs::default()
    }
    .to_bytes();
    assert_eq!(&bytes[0..8], &0x9fa0i64.to_le_bytes());
    assert_eq!(&bytes[64..72], &255i64.to_le_bytes());
}

#[test]
fn timespec_round_trips() {
    let time = Timespec {
        sec: -3,
        nsec: 999_999_999,
    };
    assert_eq!(size_of::<Timespec>(), 16);
    assert_eq!(Timespec::from_bytes(&time.to_bytes()), time);
}

#[test]
fn dirent64_records_are_aligned_and_terminated() {
    assert_eq!(DIRENT64_HEADER, 19);
    assert_eq!(dirent64_len(1), 24);
    assert_eq!(dirent64_len(4), 24);
    assert_eq!(dirent64_len(5), 32);
    let mut out = [0xffu8; 32];
    let len = put_dirent64(&mut out, 42, 7, 8, b"hello").unwrap();
    assert_eq!(len, 32);
    assert_eq!(u64::from_le_bytes(out[0..8].try_into().unwrap()), 42);
    assert_eq!(i64::from_le_bytes(out[8..16].try_into().unwrap()), 7);
    assert_eq!(u16::from_le_bytes(out[16..18].try_into().unwrap()), 32);
    assert_eq!(out[18], 8);
    assert_eq!(&out[19..25], b"hello\0");
    assert_eq!(put_dirent64(&mut out[..31], 1, 1, 8, b"hello"), None);
}

#[test]
fn makedev_matches_glibc() {
    assert_eq!(makedev(1, 3), 0x103);
    assert_eq!(makedev(5, 1), 0x501);
    assert_eq!(makedev(0x1234, 0x56789), 0x0000_1000_5672_3489);
}
