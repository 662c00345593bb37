//! Descriptor tables: lowest free descriptor, `dup`/`dup2`/`dup3`,
//! `fcntl`, shared offsets, close-on-exec, `fork` copies and `EMFILE`.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::fcntl::*;
use abide_linux::fs::open::{O_APPEND, O_CLOEXEC, O_LARGEFILE, O_NONBLOCK, O_RDONLY, O_RDWR};
use abide_vfs::MAX_FDS;
use support::*;

#[test]
fn descriptors_are_the_lowest_free_numbers() {
    let (mut vfs, mut files) = system();
    let c = root();
    let a = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    let b = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    let d = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    assert_eq!((a, b, d), (0, 1, 2));
    vfs.close(&mut files, b).unwrap();
    assert_eq!(vfs.dup(&mut files, d).unwrap(), 1);
    assert_eq!(errno(vfs.close(&mut files, 9)), EBADF);
    assert_eq!(errno(vfs.close(&mut files, -1)), EBADF);
    assert_eq!(files.open_fds().collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn duplicates_share_the_offset_and_flags() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"abcdef");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDWR, 0)
        .unwrap();
    let copy = vfs.dup2(&mut files, fd, 10).unwrap();
    assert_eq!(copy, 10);
    let mut buf = [0u8; 2];
    vfs.read(&files, &c, fd, &mut buf).unwrap();
    vfs.read(&files, &c, copy, &mut buf).unwrap();
    assert_eq!(&buf, b"cd");
    vfs.fcntl(&mut files, copy, F_SETFL, (O_APPEND | O_NONBLOCK) as u64)
        .unwrap();
    let flags = vfs.fcntl(&mut files, fd, F_GETFL, 0).unwrap() as u32;
    assert_eq!(flags, O_RDWR | O_APPEND | O_NONBLOCK | O_LARGEFILE);
    // dup2 onto itself is a no-op; onto an open descriptor closes it first.
    assert_eq!(vfs.dup2(&mut files, fd, fd).unwrap(), fd);
    let other = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    vfs.dup2(&mut files, fd, other).unwrap();
    assert_eq!(vfs.lseek(&files, other, 0, 1).unwrap(), 4);
    assert_eq!(errno(vfs.dup2(&mut files, 77, 3)), EBADF);
    assert_eq!(errno(vfs.dup2(&mut files, fd, MAX_FDS as i32)), EBADF);
    assert_eq!(errno(vfs.dup3(&mut files, fd, fd, 0)), EINVAL);
    assert_eq!(errno(vfs.dup3(&mut files, fd, 20, O_RDWR)), EINVAL);
    vfs.dup3(&mut files, fd, 20, O_CLOEXEC).unwrap();
    assert!(files.cloexec(20).unwrap());
}

#[test]
fn fcntl_duplicates_and_flags_descriptors() {
    let (mut vfs, mut files) = system();
    let c = root();
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.fcntl(&mut files, fd, F_DUPFD, 10).unwrap(), 10);
    assert_eq!(vfs.fcntl(&mut files, fd, F_DUPFD_CLOEXEC, 10).unwrap(), 11);
    assert_eq!(
        vfs.fcntl(&mut files, 11, F_GETFD, 0).unwrap(),
        FD_CLOEXEC as i64
    );
    vfs.fcntl(&mut files, 11, F_SETFD, 0).unwrap();
    assert_eq!(vfs.fcntl(&mut files, 11, F_GETFD, 0).unwrap(), 0);
    assert_eq!(
        errno(vfs.fcntl(&mut files, fd, F_DUPFD, MAX_FDS as u64)),
        EINVAL
    );
    assert_eq!(errno(vfs.fcntl(&mut files, fd, 9999, 0)), EINVAL);
    assert_eq!(errno(vfs.fcntl(&mut files, 50, F_GETFD, 0)), EBADF);
}

#[test]
fn exec_closes_cloexec_descriptors_and_fork_shares_descriptions() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"abcdef");
    let keep = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    let gone = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY | O_CLOEXEC, 0)
        .unwrap();
    let mut child = vfs.fork_files(&files);
    let mut buf = [0u8; 3];
    vfs.read(&child, &c, keep, &mut buf).unwrap();
    assert_eq!(
        vfs.lseek(&files, keep, 0, 1).unwrap(),
        3,
        "the offset is shared"
    );
    vfs.close_on_exec(&mut child);
    assert!(child.is_open(keep) && !child.is_open(gone));
    assert!(files.is_open(gone));
    vfs.release_files(&mut child);
    assert_eq!(vfs.open_file_count(), 2);
    vfs.release_files(&mut files);
    assert_eq!(vfs.open_file_count(), 0);
}

#[test]
fn too_many_descriptors_is_emfile() {
    let (mut vfs, mut files) = system();
    let c = root();
    for _ in 0..MAX_FDS {
        vfs.openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
            .unwrap();
    }
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)),
        EMFILE
    );
    assert_eq!(errno(vfs.dup(&mut files, 0)), EMFILE);
    assert_eq!(errno(vfs.pipe2(&mut files, &c, 0)), EMFILE);
    vfs.close(&mut files, 5).unwrap();
    assert_eq!(errno(vfs.pipe2(&mut files, &c, 0)), EMFILE);
    assert_eq!(vfs.open_file_count(), MAX_FDS - 1);
}

#[test]
fn an_unlinked_open_file_lives_until_closed() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"still here");
    let before = vfs.inode_count();
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().nlink, 0);
    let mut buf = [0u8; 32];
    assert_eq!(vfs.read(&files, &c, fd, &mut buf).unwrap(), 10);
    assert_eq!(vfs.inode_count(), before);
    vfs.close(&mut files, fd).unwrap();
    assert_eq!(vfs.inode_count(), before - 1);
}
