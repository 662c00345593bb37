//! The attribute calls: `newfstatat` flags, `fchmodat`, `fchownat`,
//! `utimensat`, `faccessat`, `statfs`, `umask`, and their errno.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::*;
use abide_linux::fs::magic::{PROC_SUPER_MAGIC, TMPFS_MAGIC};
use abide_linux::fs::open::O_RDONLY;
use abide_linux::fs::Timespec;
use abide_vfs::Vfs;
use support::*;

#[test]
fn stat_of_descriptors_and_empty_paths() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"12345");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    let by_fd = vfs.fstatat(&files, &c, fd, b"", AT_EMPTY_PATH).unwrap();
    assert_eq!(by_fd, vfs.fstat(&files, &c, fd).unwrap());
    assert_eq!(by_fd.size, 5);
    assert_eq!(by_fd.blocks, 8);
    assert_eq!(by_fd.blksize, 4096);
    assert_eq!(by_fd.mtime, NOW);
    assert_eq!(errno(vfs.fstatat(&files, &c, fd, b"", 0)), ENOENT);
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f", 0x4)),
        EINVAL
    );
    assert_eq!(errno(vfs.fstat(&files, &c, 42)), EBADF);
    let cwd = vfs
        .fstatat(&files, &c, AT_FDCWD, b"", AT_EMPTY_PATH)
        .unwrap();
    assert_eq!(cwd.ino, abide_vfs::ROOT_INO);
}

#[test]
fn chmod_and_chown() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"");
    vfs.fchmodat(&files, &c, AT_FDCWD, b"/tmp/f", 0o4751, 0)
        .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f", 0)
            .unwrap()
            .mode,
        0o104751
    );
    vfs.fchownat(&files, &c, AT_FDCWD, b"/tmp/f", 1000, u32::MAX, 0)
        .unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!(
        (stat.uid, stat.gid, stat.mode),
        (1000, 0, 0o100751),
        "chown clears set-uid"
    );
    let u = user();
    vfs.fchmodat(&files, &u, AT_FDCWD, b"/tmp/f", 0o600, 0)
        .unwrap();
    assert_eq!(
        errno(vfs.fchownat(&files, &u, AT_FDCWD, b"/tmp/f", 0, u32::MAX, 0)),
        EPERM
    );
    vfs.fchownat(&files, &u, AT_FDCWD, b"/tmp/f", u32::MAX, 1000, 0)
        .unwrap();
    assert_eq!(
        errno(vfs.fchmodat(&files, &u, AT_FDCWD, b"/tmp", 0o777, 0)),
        EPERM
    );
    vfs.symlinkat(&files, &c, b"f", AT_FDCWD, b"/tmp/s")
        .unwrap();
    assert_eq!(
        errno(vfs.fchmodat(&files, &c, AT_FDCWD, b"/tmp/s", 0o600, AT_SYMLINK_NOFOLLOW)),
        EOPNOTSUPP
    );
    vfs.fchownat(&files, &c, AT_FDCWD, b"/tmp/s", 5, 5, AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/s", AT_SYMLINK_NOFOLLOW)
            .unwrap()
            .uid,
        5
    );
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/s", 0).unwrap().uid,
        1000
    );
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    vfs.fchmod(&files, &c, fd, 0o644).unwrap();
    vfs.fchown(&files, &c, fd, 0, 0).unwrap();
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().mode, 0o100644);
    assert_eq!(
        errno(vfs.fchmodat(&files, &c, AT_FDCWD, b"/proc/meminfo", 0o600, 0)),
        EPERM
    );
}

#[test]
fn utimensat_sets_omits_and_nows() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"");
    let t = |sec| Timespec { sec, nsec: 0 };
    vfs.utimensat(
        &files,
        &c,
        AT_FDCWD,
        Some(b"/tmp/f"),
        Some([t(10), t(20)]),
        0,
    )
    .unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!((stat.atime, stat.mtime, stat.ctime), (t(10), t(20), NOW));
    let omit = Timespec {
        sec: 0,
        nsec: UTIME_OMIT,
    };
    let now = Timespec {
        sec: 0,
        nsec: UTIME_NOW,
    };
    vfs.utimensat(&files, &c, AT_FDCWD, Some(b"/tmp/f"), Some([omit, now]), 0)
        .unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!((stat.atime, stat.mtime), (t(10), NOW));
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    vfs.utimensat(&files, &c, fd, None, None, 0).unwrap();
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().atime, NOW);
    let bad = Timespec {
        sec: 0,
        nsec: 1_000_000_000,
    };
    assert_eq!(
        errno(vfs.utimensat(&files, &c, AT_FDCWD, Some(b"/tmp/f"), Some([bad, bad]), 0)),
        EINVAL
    );
    assert_eq!(
        errno(vfs.utimensat(
            &files,
            &user(),
            AT_FDCWD,
            Some(b"/tmp/f"),
            Some([t(1), t(1)]),
            0
        )),
        EPERM
    );
    assert_eq!(
        errno(vfs.utimensat(&files, &user(), AT_FDCWD, Some(b"/tmp/f"), None, 0)),
        EACCES
    );
}

#[test]
fn access_checks() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"");
    vfs.fchmodat(&files, &c, AT_FDCWD, b"/tmp/f", 0o640, 0)
        .unwrap();
    assert!(vfs
        .faccessat(&files, &c, AT_FDCWD, b"/tmp/f", R_OK | W_OK, 0)
        .is_ok());
    assert_eq!(
        errno(vfs.faccessat(&files, &c, AT_FDCWD, b"/tmp/f", X_OK, 0)),
        EACCES
    );
    let u = user();
    assert!(vfs
        .faccessat(&files, &u, AT_FDCWD, b"/tmp/f", F_OK, 0)
        .is_ok());
    assert_eq!(
        errno(vfs.faccessat(&files, &u, AT_FDCWD, b"/tmp/f", R_OK, 0)),
        EACCES
    );
    assert!(vfs
        .faccessat(&files, &u, AT_FDCWD, b"/tmp", R_OK | W_OK | X_OK, 0)
        .is_ok());
    assert_eq!(
        errno(vfs.faccessat(&files, &c, AT_FDCWD, b"/tmp/none", F_OK, 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.faccessat(&files, &c, AT_FDCWD, b"/tmp/f", 8, 0)),
        EINVAL
    );
    assert_eq!(
        errno(vfs.faccessat(&files, &c, AT_FDCWD, b"/proc/meminfo", W_OK, 0)),
        EACCES
    );
}

#[test]
fn statfs_names_the_file_system() {
    let (vfs, mut files) = system();
    let c = root();
    assert_eq!(
        vfs.statfs(&files, &c, b"/tmp").unwrap().fs_type,
        TMPFS_MAGIC
    );
    assert_eq!(
        vfs.statfs(&files, &c, b"/proc/self").unwrap().fs_type,
        PROC_SUPER_MAGIC
    );
    assert_eq!(errno(vfs.statfs(&files, &c, b"/none")), ENOENT);
    assert_eq!(vfs.fstatfs(&files, 0).map_err(|e| e.errno()), Err(EBADF));
    assert_eq!(Vfs::umask(&mut files, 0o1077), 0o022);
    assert_eq!(Vfs::umask(&mut files, 0), 0o077);
}
