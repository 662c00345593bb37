//! The calls that change names — `mkdirat`, `unlinkat`, `renameat2`,
//! `linkat`, `symlinkat`, `mknodat` — and their errno.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::*;
use abide_linux::fs::mode::{S_IFCHR, S_IFDIR, S_IFMT};
use support::*;

#[test]
fn mkdir_and_rmdir() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d", 0o777).unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/d", 0).unwrap();
    assert_eq!((stat.mode, stat.nlink), (S_IFDIR | 0o755, 2));
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp", 0).unwrap().nlink,
        3
    );
    assert_eq!(
        errno(vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d", 0o777)),
        EEXIST
    );
    assert_eq!(
        errno(vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d/", 0o777)),
        EEXIST
    );
    assert_eq!(
        errno(vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/x/y", 0o777)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.mkdirat(&files, &c, AT_FDCWD, b"/", 0o777)),
        EEXIST
    );
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d/e/", 0o777)
        .unwrap();
    put(&mut vfs, &mut files, "/tmp/f", b"x");
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d", AT_REMOVEDIR)),
        ENOTEMPTY
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/f", AT_REMOVEDIR)),
        ENOTDIR
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d", 0)),
        EISDIR
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d/.", AT_REMOVEDIR)),
        EINVAL
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d/..", AT_REMOVEDIR)),
        ENOTEMPTY
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/", AT_REMOVEDIR)),
        EBUSY
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/proc", AT_REMOVEDIR)),
        EBUSY
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/f/", 0)),
        ENOTDIR
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/none", 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/f", 0x1)),
        EINVAL
    );
    vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d/e", AT_REMOVEDIR)
        .unwrap();
    vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/d/", AT_REMOVEDIR)
        .unwrap();
    vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/f", 0).unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp", 0).unwrap().nlink,
        2
    );
    assert_eq!(list(&mut vfs, &mut files, "/tmp", 4096), [".", ".."]);
}

#[test]
fn rename_moves_and_replaces() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/a", b"A");
    put(&mut vfs, &mut files, "/tmp/b", b"B");
    vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/a", AT_FDCWD, b"/tmp/b", 0)
        .unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/b"), b"A");
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/a", 0)),
        ENOENT
    );
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/b", 0)
            .unwrap()
            .nlink,
        1
    );
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d", 0o755).unwrap();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/e", 0o755).unwrap();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/e/sub", 0o755)
        .unwrap();
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/b", AT_FDCWD, b"/tmp/d", 0)),
        EISDIR
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/d", AT_FDCWD, b"/tmp/b", 0)),
        ENOTDIR
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/d", AT_FDCWD, b"/tmp/e", 0)),
        ENOTEMPTY
    );
    assert_eq!(
        errno(vfs.renameat2(
            &files,
            &c,
            AT_FDCWD,
            b"/tmp/e",
            AT_FDCWD,
            b"/tmp/e/sub/x",
            0
        )),
        EINVAL
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/none", AT_FDCWD, b"/tmp/x", 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/b", AT_FDCWD, b"/proc/x", 0)),
        EXDEV
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/b/", AT_FDCWD, b"/tmp/c", 0)),
        ENOTDIR
    );
    // A directory moves with its `..`.
    vfs.renameat2(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/e/sub",
        AT_FDCWD,
        b"/tmp/d/moved",
        0,
    )
    .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/d", 0)
            .unwrap()
            .nlink,
        3
    );
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/e", 0)
            .unwrap()
            .nlink,
        2
    );
    vfs.chdir(&mut files, &c, b"/tmp/d/moved/..").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/tmp/d");
    // Onto an empty directory, and onto itself.
    vfs.renameat2(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/d/moved",
        AT_FDCWD,
        b"/tmp/e",
        0,
    )
    .unwrap();
    vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/b", AT_FDCWD, b"/tmp/b", 0)
        .unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/b"), b"A");
}

#[test]
fn rename_flags() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/a", b"A");
    put(&mut vfs, &mut files, "/tmp/b", b"B");
    assert_eq!(
        errno(vfs.renameat2(
            &files,
            &c,
            AT_FDCWD,
            b"/tmp/a",
            AT_FDCWD,
            b"/tmp/b",
            RENAME_NOREPLACE
        )),
        EEXIST
    );
    vfs.renameat2(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/a",
        AT_FDCWD,
        b"/tmp/b",
        RENAME_EXCHANGE,
    )
    .unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/a"), b"B");
    assert_eq!(get(&mut vfs, &mut files, "/tmp/b"), b"A");
    assert_eq!(
        errno(vfs.renameat2(
            &files,
            &c,
            AT_FDCWD,
            b"/tmp/a",
            AT_FDCWD,
            b"/tmp/c",
            RENAME_EXCHANGE
        )),
        ENOENT
    );
    assert_eq!(
        errno(vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/a", AT_FDCWD, b"/tmp/c", 8)),
        EINVAL
    );
}

#[test]
fn hard_links_count() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/a", b"A");
    vfs.linkat(&files, &c, AT_FDCWD, b"/tmp/a", AT_FDCWD, b"/tmp/b", 0)
        .unwrap();
    let a = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/a", 0).unwrap();
    let b = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/b", 0).unwrap();
    assert_eq!((a.ino, a.nlink), (b.ino, 2));
    assert_eq!(
        errno(vfs.linkat(&files, &c, AT_FDCWD, b"/tmp/a", AT_FDCWD, b"/tmp/b", 0)),
        EEXIST
    );
    assert_eq!(
        errno(vfs.linkat(&files, &c, AT_FDCWD, b"/tmp", AT_FDCWD, b"/tmp/dir", 0)),
        EPERM
    );
    assert_eq!(
        errno(vfs.linkat(&files, &c, AT_FDCWD, b"/tmp/none", AT_FDCWD, b"/tmp/x", 0)),
        ENOENT
    );
    // Renaming one link onto another of the same inode does nothing.
    vfs.renameat2(&files, &c, AT_FDCWD, b"/tmp/a", AT_FDCWD, b"/tmp/b", 0)
        .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/a", 0)
            .unwrap()
            .nlink,
        2
    );
    vfs.unlinkat(&files, &c, AT_FDCWD, b"/tmp/a", 0).unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/b", 0)
            .unwrap()
            .nlink,
        1
    );
    // A link to a symbolic link, and through it with AT_SYMLINK_FOLLOW.
    vfs.symlinkat(&files, &c, b"b", AT_FDCWD, b"/tmp/s")
        .unwrap();
    vfs.linkat(&files, &c, AT_FDCWD, b"/tmp/s", AT_FDCWD, b"/tmp/s2", 0)
        .unwrap();
    assert_eq!(
        vfs.readlinkat(&files, &c, AT_FDCWD, b"/tmp/s2").unwrap(),
        b"b"
    );
    vfs.linkat(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/s",
        AT_FDCWD,
        b"/tmp/b2",
        AT_SYMLINK_FOLLOW,
    )
    .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/b2", 0)
            .unwrap()
            .nlink,
        2
    );
}

#[test]
fn symlinks_and_nodes() {
    let (mut vfs, files) = system();
    let c = root();
    assert_eq!(
        errno(vfs.symlinkat(&files, &c, b"", AT_FDCWD, b"/tmp/s")),
        ENOENT
    );
    vfs.symlinkat(&files, &c, b"x", AT_FDCWD, b"/tmp/s")
        .unwrap();
    assert_eq!(
        errno(vfs.symlinkat(&files, &c, b"x", AT_FDCWD, b"/tmp/s")),
        EEXIST
    );
    vfs.mknodat(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/null",
        S_IFCHR | 0o666,
        abide_linux::fs::makedev(1, 3),
    )
    .unwrap();
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/null", 0).unwrap();
    assert_eq!((stat.mode & S_IFMT, stat.rdev), (S_IFCHR, 0x103));
    assert_eq!(
        errno(vfs.mknodat(
            &files,
            &user(),
            AT_FDCWD,
            b"/tmp/n2",
            S_IFCHR | 0o666,
            0x103
        )),
        EPERM
    );
    assert_eq!(
        errno(vfs.mknodat(&files, &c, AT_FDCWD, b"/tmp/d", S_IFDIR | 0o755, 0)),
        EPERM
    );
    vfs.mknodat(&files, &c, AT_FDCWD, b"/tmp/plain", 0o644, 0)
        .unwrap();
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/plain", 0)
            .unwrap()
            .mode,
        0o100644
    );
}

#[test]
fn listing_survives_removal_while_reading() {
    let (mut vfs, mut files) = system();
    let c = root();
    for n in 0..50 {
        put(&mut vfs, &mut files, &format!("/tmp/file{n:02}"), b"");
    }
    let names = list(&mut vfs, &mut files, "/tmp", 64);
    assert_eq!(names.len(), 52);
    assert_eq!(&names[..3], [".", "..", "file00"]);
    // Remove entries between getdents64 calls, like `rm -r` does.
    use abide_linux::fs::open::{O_DIRECTORY, O_RDONLY};
    let fd = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    let mut seen = 0;
    let mut buf = vec![0u8; 200];
    loop {
        let count = vfs.getdents64(&files, &c, fd, &mut buf).unwrap();
        if count == 0 {
            break;
        }
        let mut at = 0;
        while at < count {
            let len = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
            let name = &buf[at + 19..at + len];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap()];
            if name.starts_with(b"file") {
                let mut path = b"/tmp/".to_vec();
                path.extend_from_slice(name);
                vfs.unlinkat(&files, &c, AT_FDCWD, &path, 0).unwrap();
                seen += 1;
            }
            at += len;
        }
    }
    assert_eq!(seen, 50);
    assert_eq!(
        vfs.getdents64(&files, &c, fd, &mut [0u8; 8]).unwrap(),
        0,
        "the end"
    );
    vfs.lseek(&files, fd, 0, 0).unwrap();
    assert_eq!(errno(vfs.getdents64(&files, &c, fd, &mut [0u8; 8])), EINVAL);
    let f = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/dev/null", O_RDONLY, 0)
        .unwrap();
    assert_eq!(errno(vfs.getdents64(&files, &c, f, &mut buf)), ENOTDIR);
}
