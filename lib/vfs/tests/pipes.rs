//! Pipes and FIFOs: data, would-block and end-of-file on read; partial,
//! would-block and `EPIPE` on write; `PIPE_BUF` atomicity; the 64 KiB
//! capacity; `poll` readiness; FIFO opens that wait for their peer.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::AT_FDCWD;
use abide_linux::fs::mode::S_IFIFO;
use abide_linux::fs::open::{O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY};
use abide_linux::fs::poll::{POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT};
use abide_vfs::{Error, PIPE_CAPACITY};
use support::*;

#[test]
fn a_pipe_carries_bytes_then_ends() {
    let (mut vfs, mut files) = system();
    let c = root();
    let (r, w) = vfs.pipe2(&mut files, &c, 0).unwrap();
    assert_eq!((r, w), (0, 1));
    let mut buf = [0u8; 16];
    assert_eq!(vfs.read(&files, &c, r, &mut buf), Err(Error::WouldBlock));
    assert_eq!(vfs.write(&files, &c, w, b"hello").unwrap(), 5);
    assert_eq!(vfs.read(&files, &c, r, &mut buf[..3]).unwrap(), 3);
    assert_eq!(vfs.read(&files, &c, r, &mut buf).unwrap(), 2);
    assert_eq!(&buf[..2], b"lo");
    vfs.close(&mut files, w).unwrap();
    assert_eq!(vfs.read(&files, &c, r, &mut buf).unwrap(), 0);
    assert_eq!(vfs.poll(&files, r).unwrap() & POLLHUP, POLLHUP);
    vfs.close(&mut files, r).unwrap();
    assert_eq!(vfs.open_file_count(), 0);
}

#[test]
fn writing_with_no_reader_is_epipe() {
    let (mut vfs, mut files) = system();
    let c = root();
    let (r, w) = vfs.pipe2(&mut files, &c, 0).unwrap();
    vfs.close(&mut files, r).unwrap();
    assert_eq!(errno(vfs.write(&files, &c, w, b"x")), EPIPE);
    assert_eq!(vfs.poll(&files, w).unwrap(), POLLERR);
}

#[test]
fn a_full_pipe_takes_partial_writes_and_keeps_small_ones_whole() {
    let (mut vfs, mut files) = system();
    let c = root();
    let (r, w) = vfs.pipe2(&mut files, &c, O_NONBLOCK).unwrap();
    let big = vec![7u8; PIPE_CAPACITY + 100];
    assert_eq!(vfs.write(&files, &c, w, &big).unwrap(), PIPE_CAPACITY);
    assert_eq!(errno(vfs.write(&files, &c, w, b"x")), EAGAIN);
    assert_eq!(vfs.poll(&files, w).unwrap() & POLLOUT, 0);
    let mut buf = vec![0u8; 100];
    assert_eq!(vfs.read(&files, &c, r, &mut buf).unwrap(), 100);
    // 200 bytes (< PIPE_BUF) do not fit in 100: all or nothing.
    assert_eq!(errno(vfs.write(&files, &c, w, &[1u8; 200])), EAGAIN);
    assert_eq!(vfs.write(&files, &c, w, &[1u8; 100]).unwrap(), 100);
    let mut drain = vec![0u8; PIPE_CAPACITY];
    assert_eq!(vfs.read(&files, &c, r, &mut drain).unwrap(), PIPE_CAPACITY);
    assert_eq!(errno(vfs.read(&files, &c, r, &mut drain)), EAGAIN);
    assert_eq!(vfs.poll(&files, w).unwrap(), POLLOUT);
}

#[test]
fn poll_reports_readiness() {
    let (mut vfs, mut files) = system();
    let c = root();
    let (r, w) = vfs.pipe2(&mut files, &c, 0).unwrap();
    assert_eq!(vfs.poll(&files, r).unwrap(), 0);
    assert_eq!(vfs.poll(&files, w).unwrap(), POLLOUT);
    vfs.write(&files, &c, w, b"x").unwrap();
    assert_eq!(vfs.poll(&files, r).unwrap(), POLLIN);
    assert_eq!(vfs.poll(&files, 99).unwrap(), POLLNVAL);
    put(&mut vfs, &mut files, "/tmp/f", b"");
    let f = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/f", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.poll(&files, f).unwrap(), POLLIN | POLLOUT);
    let tty = vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/dev/tty",
            abide_linux::fs::open::O_RDWR,
            0,
        )
        .unwrap();
    assert_eq!(
        vfs.poll(&files, tty),
        Err(Error::Device(abide_vfs::Device::Tty))
    );
}

#[test]
fn pipe_ends_have_no_offset() {
    let (mut vfs, mut files) = system();
    let c = root();
    let (r, w) = vfs.pipe2(&mut files, &c, O_CLOEXEC).unwrap();
    assert_eq!(errno(vfs.lseek(&files, r, 0, 0)), ESPIPE);
    assert_eq!(errno(vfs.pwrite(&files, &c, w, b"x", 0)), ESPIPE);
    assert_eq!(errno(vfs.read(&files, &c, w, &mut [0u8; 1])), EBADF);
    assert_eq!(errno(vfs.write(&files, &c, r, b"x")), EBADF);
    assert!(files.cloexec(r).unwrap());
    assert_eq!(errno(vfs.pipe2(&mut files, &c, 0o1)), EINVAL);
}

#[test]
fn a_fifo_waits_for_its_peer() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mknodat(&files, &c, AT_FDCWD, b"/tmp/fifo", S_IFIFO | 0o644, 0)
        .unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/fifo", 0).unwrap();
    assert_eq!(stat.mode, S_IFIFO | 0o644);
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/fifo",
            O_WRONLY | O_NONBLOCK,
            0
        )),
        ENXIO
    );
    let r = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/fifo", O_RDONLY, 0)
        .unwrap();
    let mut buf = [0u8; 8];
    // No writer has come yet: the reader waits rather than seeing EOF.
    assert_eq!(vfs.read(&files, &c, r, &mut buf), Err(Error::WouldBlock));
    let w = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/fifo", O_WRONLY, 0)
        .unwrap();
    vfs.write(&files, &c, w, b"hi").unwrap();
    vfs.close(&mut files, w).unwrap();
    assert_eq!(vfs.read(&files, &c, r, &mut buf).unwrap(), 2);
    assert_eq!(vfs.read(&files, &c, r, &mut buf).unwrap(), 0);
    vfs.close(&mut files, r).unwrap();
    // A writer that comes first waits for a reader.
    let w = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/fifo", O_WRONLY, 0)
        .unwrap();
    assert_eq!(vfs.write(&files, &c, w, b"x"), Err(Error::WouldBlock));
    let r = vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/fifo",
            O_RDONLY | O_NONBLOCK,
            0,
        )
        .unwrap();
    assert_eq!(vfs.write(&files, &c, w, b"x").unwrap(), 1);
    assert_eq!(
        vfs.wait_key(&files, r).unwrap(),
        vfs.wait_key(&files, w).unwrap()
    );
}

#[test]
fn sendfile_copies_between_files_and_pipes() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/src", b"0123456789");
    let src = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/src", O_RDONLY, 0)
        .unwrap();
    let (r, w) = vfs.pipe2(&mut files, &c, 0).unwrap();
    assert_eq!(
        vfs.sendfile(&files, &c, w, src, None, 4).unwrap(),
        (4, None)
    );
    assert_eq!(
        vfs.sendfile(&files, &c, w, src, Some(8), 100).unwrap(),
        (2, Some(10))
    );
    assert_eq!(
        vfs.sendfile(&files, &c, w, src, None, 100).unwrap(),
        (6, None)
    );
    let mut buf = [0u8; 32];
    let n = vfs.read(&files, &c, r, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"012389456789");
    let tty = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/tty", O_WRONLY, 0)
        .unwrap();
    assert_eq!(
        vfs.sendfile(&files, &c, tty, src, Some(0), 4),
        Err(Error::Device(abide_vfs::Device::Tty))
    );
}
