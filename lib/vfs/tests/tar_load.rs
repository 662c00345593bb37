//! Loading ustar archives: directories, files borrowed until written,
//! symbolic and hard links, modes and owners, long names, an archive
//! placed below a path, entries replacing earlier ones, bad archives.

mod support;

use abide_linux::fs::at::{AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use abide_linux::fs::mode::{S_IFDIR, S_IFLNK, S_IFMT};
use abide_linux::fs::open::{O_RDWR, O_WRONLY};
use abide_vfs::tar::{entries, EntryKind};
use abide_vfs::Vfs;
use support::*;

fn busybox_like() -> &'static [u8] {
    ArchiveBuilder::new()
        .dir("bin", 0o755)
        .file("bin/busybox", 0o755, b"\x7fELF busybox")
        .symlink("bin/sh", "busybox")
        .dir("etc", 0o755)
        .file("etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n")
        .hardlink("etc/passwd-", "etc/passwd")
        .finish()
}

#[test]
fn the_archive_becomes_the_tree() {
    let (mut vfs, mut files) = system();
    assert_eq!(vfs.load_tar(busybox_like(), b"/", NOW).unwrap(), 6);
    let c = root();
    let busybox = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/bin/busybox", 0)
        .unwrap();
    assert_eq!(busybox.mode, 0o100755);
    assert_eq!(busybox.size, 12);
    assert_eq!(busybox.mtime.sec, 1_600_000_000);
    let sh = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/bin/sh", AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(sh.mode & S_IFMT, S_IFLNK);
    assert_eq!(
        vfs.exec_image(&files, &c, AT_FDCWD, b"/bin/sh").unwrap(),
        b"\x7fELF busybox"
    );
    let passwd = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/etc/passwd", 0)
        .unwrap();
    let backup = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/etc/passwd-", 0)
        .unwrap();
    assert_eq!((passwd.ino, passwd.nlink), (backup.ino, 2));
    assert_eq!(
        get(&mut vfs, &mut files, "/etc/passwd-"),
        b"root:x:0:0:root:/root:/bin/sh\n"
    );
}

#[test]
fn files_borrow_the_archive_until_written() {
    let (mut vfs, mut files) = system();
    vfs.load_tar(busybox_like(), b"/", NOW).unwrap();
    assert_eq!(vfs.borrows_archive(b"/etc/passwd"), Some(true));
    let _ = get(&mut vfs, &mut files, "/etc/passwd");
    assert_eq!(vfs.borrows_archive(b"/etc/passwd"), Some(true));
    let c = root();
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/etc/passwd", O_RDWR, 0)
        .unwrap();
    vfs.pwrite(&files, &c, fd, b"ROOT", 0).unwrap();
    assert_eq!(vfs.borrows_archive(b"/etc/passwd"), Some(false));
    // The hard link sees the change, the archive is unchanged.
    assert_eq!(
        get(&mut vfs, &mut files, "/etc/passwd-"),
        b"ROOT:x:0:0:root:/root:/bin/sh\n"
    );
    assert_eq!(vfs.borrows_archive(b"/bin/busybox"), Some(true));
}

#[test]
fn an_archive_can_be_placed_below_a_path_and_replace_files() {
    let (mut vfs, mut files) = system();
    vfs.load_tar(busybox_like(), b"/", NOW).unwrap();
    let add = ArchiveBuilder::new()
        .file("data.txt", 0o600, b"mine")
        .dir("sub", 0o700)
        .file("sub/deep/x", 0o644, b"x")
        .finish();
    assert_eq!(vfs.load_tar(add, b"/home/user", NOW).unwrap(), 3);
    assert_eq!(get(&mut vfs, &mut files, "/home/user/data.txt"), b"mine");
    assert_eq!(get(&mut vfs, &mut files, "/home/user/sub/deep/x"), b"x");
    let c = root();
    let sub = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/home/user/sub", 0)
        .unwrap();
    assert_eq!(sub.mode, S_IFDIR | 0o700);
    let replace = ArchiveBuilder::new()
        .file("etc/passwd", 0o644, b"new")
        .finish();
    vfs.load_tar(replace, b"/", NOW).unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/etc/passwd"), b"new");
    assert_eq!(
        get(&mut vfs, &mut files, "/etc/passwd-"),
        b"root:x:0:0:root:/root:/bin/sh\n"
    );
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/etc/passwd-", 0)
            .unwrap()
            .nlink,
        1
    );
}

#[test]
fn long_names_and_prefixes_are_read() {
    let long = format!("{}/{}", "d".repeat(120), "f".repeat(130));
    let archive = ArchiveBuilder::new().file(&long, 0o644, b"long").finish();
    let list = entries(archive).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].path(), long.as_bytes());
    assert_eq!(list[0].kind, EntryKind::File);
    let mut vfs = Vfs::new(NOW);
    let mut files = vfs.new_files();
    vfs.load_tar(archive, b"/", NOW).unwrap();
    assert_eq!(get(&mut vfs, &mut files, &format!("/{long}")), b"long");
}

#[test]
fn written_files_stay_writable() {
    let (mut vfs, mut files) = system();
    vfs.load_tar(busybox_like(), b"/", NOW).unwrap();
    let c = root();
    let fd = vfs
        .openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/etc/passwd",
            O_WRONLY | abide_linux::fs::open::O_APPEND,
            0,
        )
        .unwrap();
    vfs.write(&files, &c, fd, b"user:x:1000:1000::/home/user:/bin/sh\n")
        .unwrap();
    let contents = get(&mut vfs, &mut files, "/etc/passwd");
    assert!(contents.ends_with(b"/home/user:/bin/sh\n"));
    assert!(contents.starts_with(b"root:"));
}

#[test]
fn damaged_archives_are_refused() {
    let archive = ArchiveBuilder::new().file("a", 0o644, b"data").finish();
    let mut damaged = archive.to_vec();
    damaged[0] = b'b';
    assert_eq!(entries(&damaged).unwrap_err().what, "bad header checksum");
    let truncated = &archive[..514];
    assert!(entries(truncated).is_err());
    assert!(entries(&archive[..1100]).is_err());
    assert!(entries(&[]).unwrap().is_empty());
}
