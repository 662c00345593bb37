//! `openat` flags and their errno, and the I/O calls on regular files:
//! `read`/`write`, `pread`/`pwrite`, `lseek`, `O_APPEND`, `O_TRUNC`,
//! `truncate`/`ftruncate`.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::open::*;
use abide_linux::fs::seek::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};
use support::*;

#[test]
fn creating_honours_excl_and_umask() {
    let (mut vfs, mut files) = system();
    let c = root();
    files.umask = 0o027;
    let fd = vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/new",
            O_WRONLY | O_CREAT | O_EXCL,
            0o666,
        )
        .unwrap();
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().mode, 0o100640);
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/new",
            O_WRONLY | O_CREAT | O_EXCL,
            0o666
        )),
        EEXIST
    );
    assert!(vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/new",
            O_WRONLY | O_CREAT,
            0o666
        )
        .is_ok());
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp/missing", O_RDONLY, 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/nodir/x",
            O_CREAT | O_WRONLY,
            0o644
        )),
        ENOENT
    );
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/x/",
            O_CREAT | O_WRONLY,
            0o644
        )),
        EISDIR
    );
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp", O_CREAT | O_WRONLY, 0o644)),
        EISDIR
    );
    // A dangling-free link is followed when creating.
    vfs.symlinkat(&files, &c, b"new", AT_FDCWD, b"/tmp/link")
        .unwrap();
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/link",
            O_CREAT | O_EXCL | O_WRONLY,
            0o644
        )),
        EEXIST
    );
    assert!(vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/link",
            O_CREAT | O_WRONLY,
            0o644
        )
        .is_ok());
}

#[test]
fn directories_open_only_for_reading() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"x");
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp", O_WRONLY, 0)),
        EISDIR
    );
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp", O_RDWR, 0)),
        EISDIR
    );
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/f",
            O_RDONLY | O_DIRECTORY,
            0
        )),
        ENOTDIR
    );
    let dir = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp", O_RDONLY, 0)
        .unwrap();
    assert_eq!(errno(vfs.read(&files, &c, dir, &mut [0u8; 4])), EISDIR);
    assert_eq!(errno(vfs.write(&files, &c, dir, b"x")), EBADF);
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp", O_DIRECTORY | O_CREAT, 0)),
        EINVAL
    );
}

#[test]
fn o_path_descriptors_do_no_io() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"x");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_PATH | O_RDWR, 0)
        .unwrap();
    assert_eq!(errno(vfs.read(&files, &c, fd, &mut [0u8; 1])), EBADF);
    assert_eq!(errno(vfs.write(&files, &c, fd, b"x")), EBADF);
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().size, 1);
    assert_eq!(vfs.status_flags(&files, fd).unwrap(), O_PATH);
}

#[test]
fn reads_and_writes_move_the_offset() {
    let (mut vfs, mut files) = system();
    let c = root();
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDWR | O_CREAT, 0o644)
        .unwrap();
    assert_eq!(vfs.write(&files, &c, fd, b"hello world").unwrap(), 11);
    assert_eq!(vfs.lseek(&files, fd, 0, SEEK_CUR).unwrap(), 11);
    assert_eq!(vfs.lseek(&files, fd, -5, SEEK_END).unwrap(), 6);
    let mut buf = [0u8; 10];
    assert_eq!(vfs.read(&files, &c, fd, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"world");
    assert_eq!(vfs.read(&files, &c, fd, &mut buf).unwrap(), 0);
    // Writing past the end leaves a hole of zeros.
    vfs.lseek(&files, fd, 14, SEEK_SET).unwrap();
    vfs.write(&files, &c, fd, b"!").unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/f"), b"hello world\0\0\0!");
    assert_eq!(vfs.pread(&files, &c, fd, &mut buf[..5], 6).unwrap(), 5);
    assert_eq!(&buf[..5], b"world");
    assert_eq!(vfs.pwrite(&files, &c, fd, b"W", 6).unwrap(), 1);
    assert_eq!(vfs.lseek(&files, fd, 0, SEEK_CUR).unwrap(), 15);
    assert_eq!(errno(vfs.lseek(&files, fd, -1, SEEK_SET)), EINVAL);
    assert_eq!(errno(vfs.lseek(&files, fd, 0, 9)), EINVAL);
    assert_eq!(errno(vfs.pread(&files, &c, fd, &mut buf, -1)), EINVAL);
    assert_eq!(vfs.lseek(&files, fd, 3, SEEK_DATA).unwrap(), 3);
    assert_eq!(vfs.lseek(&files, fd, 3, SEEK_HOLE).unwrap(), 15);
    assert_eq!(errno(vfs.lseek(&files, fd, 15, SEEK_DATA)), ENXIO);
}

#[test]
fn append_and_trunc() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"one\n");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_WRONLY | O_APPEND, 0)
        .unwrap();
    vfs.lseek(&files, fd, 0, SEEK_SET).unwrap();
    vfs.write(&files, &c, fd, b"two\n").unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/f"), b"one\ntwo\n");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_WRONLY | O_TRUNC, 0)
        .unwrap();
    assert_eq!(vfs.fstat(&files, &c, fd).unwrap().size, 0);
    assert_eq!(errno(vfs.write(&files, &c, 99, b"x")), EBADF);
    let ro = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    assert_eq!(errno(vfs.write(&files, &c, ro, b"x")), EBADF);
}

#[test]
fn truncating_files() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"0123456789");
    vfs.truncate(&files, &c, b"/tmp/f", 4).unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/f"), b"0123");
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDWR, 0)
        .unwrap();
    vfs.ftruncate(&files, &c, fd, 6).unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/f"), b"0123\0\0");
    assert_eq!(errno(vfs.ftruncate(&files, &c, fd, -1)), EINVAL);
    let ro = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    assert_eq!(errno(vfs.ftruncate(&files, &c, ro, 0)), EINVAL);
    assert_eq!(errno(vfs.truncate(&files, &c, b"/tmp", 0)), EISDIR);
    assert_eq!(errno(vfs.truncate(&files, &c, b"/tmp/none", 0)), ENOENT);
}

#[test]
fn permissions_are_checked_for_others() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/secret", b"x");
    vfs.fchmodat(&files, &c, AT_FDCWD, b"/tmp/secret", 0o600, 0)
        .unwrap();
    let u = user();
    assert_eq!(
        errno(vfs.openat(&mut files, &u, AT_FDCWD, b"/tmp/secret", O_RDONLY, 0)),
        EACCES
    );
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/ro", 0o755)
        .unwrap();
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &u,
            AT_FDCWD,
            b"/tmp/ro/f",
            O_CREAT | O_WRONLY,
            0o644
        )),
        EACCES
    );
    let fd = vfs
        .openat(
            &mut files,
            &u,
            AT_FDCWD,
            b"/tmp/mine",
            O_CREAT | O_WRONLY,
            0o644,
        )
        .unwrap();
    let stat = vfs.fstat(&files, &u, fd).unwrap();
    assert_eq!((stat.uid, stat.gid), (1000, 1000));
}
