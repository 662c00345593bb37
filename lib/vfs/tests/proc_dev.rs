//! `/dev` (null, zero, full, urandom, and the terminal the component
//! serves) and `/proc` (the provider's files, `self`, listings).

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::{AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use abide_linux::fs::mode::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use abide_linux::fs::open::{O_RDONLY, O_RDWR, O_WRONLY};
use abide_vfs::{Device, Error, PROC_DEV};
use support::*;

#[test]
fn dev_null_zero_full_urandom() {
    let (mut vfs, mut files) = system();
    let c = root();
    let null = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDWR, 0)
        .unwrap();
    let mut buf = [1u8; 8];
    assert_eq!(vfs.read(&files, &c, null, &mut buf).unwrap(), 0);
    assert_eq!(vfs.write(&files, &c, null, b"gone").unwrap(), 4);
    assert_eq!(vfs.lseek(&files, null, 10, 0).unwrap(), 0);
    let zero = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/zero", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.read(&files, &c, zero, &mut buf).unwrap(), 8);
    assert_eq!(buf, [0; 8]);
    let full = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/full", O_WRONLY, 0)
        .unwrap();
    assert_eq!(errno(vfs.write(&files, &c, full, b"x")), ENOSPC);
    let random = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/urandom", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.read(&files, &c, random, &mut buf).unwrap(), 8);
    assert_eq!(buf, [0x5a; 8]);
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/dev/null", 0).unwrap();
    assert_eq!((stat.mode, stat.rdev), (S_IFCHR | 0o666, 0x103));
    assert_eq!(vfs.device(&files, null).unwrap(), Some(Device::Null));
}

#[test]
fn the_terminal_is_the_components() {
    let (mut vfs, mut files) = system();
    let c = root();
    let tty = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/tty", O_RDWR, 0)
        .unwrap();
    assert_eq!(
        vfs.read(&files, &c, tty, &mut [0u8; 4]),
        Err(Error::Device(Device::Tty))
    );
    assert_eq!(
        vfs.write(&files, &c, tty, b"x"),
        Err(Error::Device(Device::Tty))
    );
    assert_eq!(errno(vfs.lseek(&files, tty, 0, 0)), ESPIPE);
    let console = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/console", O_WRONLY, 0)
        .unwrap();
    assert_eq!(vfs.device(&files, console).unwrap(), Some(Device::Console));
    assert_eq!(Device::from_rdev(Device::Console.rdev()), Device::Console);
    vfs.mknodat(&files, &c, AT_FDCWD, b"/tmp/odd", S_IFCHR | 0o600, 0x4242)
        .unwrap();
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/tmp/odd", O_RDONLY, 0)),
        ENXIO
    );
}

#[test]
fn proc_files_come_from_the_provider() {
    let (mut vfs, mut files) = system();
    let c = root();
    assert_eq!(
        get(&mut vfs, &mut files, "/proc/meminfo"),
        b"MemTotal: 1024 kB\n"
    );
    assert_eq!(
        get(&mut vfs, &mut files, "/proc/self/stat"),
        b"7 (sh) S 1\n"
    );
    assert_eq!(get(&mut vfs, &mut files, "/proc/1/stat"), b"1 (init) S 0\n");
    let link = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/proc/self", AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!((link.mode & S_IFMT, link.dev), (S_IFLNK, PROC_DEV));
    assert_eq!(
        vfs.readlinkat(&files, &c, AT_FDCWD, b"/proc/self").unwrap(),
        b"7"
    );
    assert_eq!(
        vfs.readlinkat(&files, &c, AT_FDCWD, b"/proc/self/exe")
            .unwrap(),
        b"/bin/busybox"
    );
    let dir = vfs.fstatat(&files, &c, AT_FDCWD, b"/proc/self", 0).unwrap();
    assert_eq!(dir.mode & S_IFMT, S_IFDIR);
    let file = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/proc/7/stat", 0)
        .unwrap();
    assert_eq!(file.mode, S_IFREG | 0o444);
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/proc/99", 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/proc/meminfo", O_WRONLY, 0)),
        EACCES
    );
    assert_eq!(
        errno(vfs.mkdirat(&files, &c, AT_FDCWD, b"/proc/new", 0o755)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/proc/meminfo", 0)),
        EPERM
    );
    assert_eq!(
        list(&mut vfs, &mut files, "/proc", 4096),
        [".", "..", "self", "1", "7", "meminfo"]
    );
    assert_eq!(
        list(&mut vfs, &mut files, "/proc/self", 32),
        [".", "..", "stat"]
    );
    // An open file keeps what it read at open time; seeking works.
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/proc/meminfo", O_RDONLY, 0)
        .unwrap();
    vfs.lseek(&files, fd, 9, 0).unwrap();
    let mut buf = [0u8; 4];
    vfs.read(&files, &c, fd, &mut buf).unwrap();
    assert_eq!(&buf, b" 102");
}

#[test]
fn dev_lists_its_nodes() {
    let (mut vfs, mut files) = system();
    let names = list(&mut vfs, &mut files, "/dev", 4096);
    for name in [
        "null", "zero", "full", "random", "urandom", "tty", "console", "fd", "stdin",
    ] {
        assert!(
            names.iter().any(|listed| listed == name),
            "{name} in {names:?}"
        );
    }
}

#[test]
fn dev_fd_reaches_the_callers_own_descriptors() {
    let (mut vfs, mut files) = system();
    let c = root();
    let first = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/proc/meminfo", O_RDONLY, 0)
        .unwrap();
    assert_eq!(first, 0);
    // Process substitution: a pipe's read end, opened again by name.
    let (read_end, write_end) = vfs.pipe2(&mut files, &c, 0).unwrap();
    let name = format!("/dev/fd/{read_end}");
    let again = vfs
        .openat(&mut files, &c, AT_FDCWD, name.as_bytes(), O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.write(&files, &c, write_end, b"piped").unwrap(), 5);
    let mut buf = [0u8; 8];
    assert_eq!(vfs.read(&files, &c, again, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"piped");
    // Once the writers are gone, the reopened end reads end-of-file.
    vfs.close(&mut files, write_end).unwrap();
    assert_eq!(vfs.read(&files, &c, again, &mut buf).unwrap(), 0);
    let stat = vfs
        .fstatat(&files, &c, AT_FDCWD, name.as_bytes(), 0)
        .unwrap();
    assert_eq!(stat, vfs.fstat(&files, &c, read_end).unwrap());
    // Opened after the writers are gone, it reads end-of-file at once.
    let late = vfs
        .openat(&mut files, &c, AT_FDCWD, name.as_bytes(), O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.read(&files, &c, late, &mut buf).unwrap(), 0);
    // The same through /proc/self/fd and /dev/stdin (descriptor 0).
    let by_proc = format!("/proc/self/fd/{read_end}");
    assert!(vfs
        .openat(&mut files, &c, AT_FDCWD, by_proc.as_bytes(), O_RDONLY, 0)
        .is_ok());
    let stdin = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/stdin", O_RDONLY, 0)
        .unwrap();
    assert_eq!(vfs.read(&files, &c, stdin, &mut buf).unwrap(), 8);
    assert_eq!(&buf, b"MemTotal");
    // A descriptor that is not open is not there; nor another's.
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/dev/fd/99", O_RDONLY, 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.openat(&mut files, &c, AT_FDCWD, b"/proc/1/fd/0", O_RDONLY, 0)),
        ENOENT
    );
}
