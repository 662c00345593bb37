//! Path resolution: relative to the working directory and to directory
//! descriptors, `..` (also out of `/proc`), symbolic links and `ELOOP`,
//! trailing slashes, `ENAMETOOLONG`, `ENOTDIR`, `ENOENT`, `EACCES`.

mod support;

use abide_linux::errno::*;
use abide_linux::fs::at::{AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use abide_linux::fs::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use abide_linux::fs::open::{O_DIRECTORY, O_NOFOLLOW, O_PATH, O_RDONLY};
use support::*;

#[test]
fn relative_paths_start_at_the_working_directory() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/a", 0o755).unwrap();
    put(&mut vfs, &mut files, "/tmp/a/f", b"x");
    vfs.chdir(&mut files, &c, b"/tmp/a").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/tmp/a");
    let stat = vfs.fstatat(&files, &c, AT_FDCWD, b"f", 0).unwrap();
    assert_eq!(stat.mode & S_IFMT, S_IFREG);
    vfs.chdir(&mut files, &c, b"../..").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/");
    vfs.chdir(&mut files, &c, b"..").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/");
}

#[test]
fn relative_paths_start_at_a_directory_descriptor() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"x");
    let dir = vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    assert_eq!(vfs.fstatat(&files, &c, dir, b"f", 0).unwrap().size, 1);
    let file = vfs.openat(&mut files, &c, dir, b"f", O_RDONLY, 0).unwrap();
    assert_eq!(errno(vfs.fstatat(&files, &c, file, b"g", 0)), ENOTDIR);
    assert_eq!(errno(vfs.fstatat(&files, &c, 55, b"g", 0)), EBADF);
    // An absolute path ignores the descriptor.
    assert!(vfs.fstatat(&files, &c, 55, b"/tmp", 0).is_ok());
}

#[test]
fn missing_and_non_directory_components_fail_like_linux() {
    let (mut vfs, mut files) = system();
    let c = root();
    put(&mut vfs, &mut files, "/tmp/f", b"x");
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/missing", 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/missing/x", 0)),
        ENOENT
    );
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f/x", 0)),
        ENOTDIR
    );
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/f/", 0)),
        ENOTDIR
    );
    assert_eq!(errno(vfs.fstatat(&files, &c, AT_FDCWD, b"", 0)), ENOENT);
    assert_eq!(errno(vfs.chdir(&mut files, &c, b"/tmp/f")), ENOTDIR);
    assert_eq!(
        vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp//./", 0)
            .unwrap()
            .mode
            & S_IFMT,
        S_IFDIR
    );
}

#[test]
fn overlong_names_and_paths_fail_with_enametoolong() {
    let (vfs, files) = system();
    let c = root();
    let name = vec![b'a'; 256];
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, &name, 0)),
        ENAMETOOLONG
    );
    let path = b"a/".repeat(2048);
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, &path, 0)),
        ENAMETOOLONG
    );
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, &vec![b'a'; 255], 0)),
        ENOENT
    );
}

#[test]
fn symbolic_links_are_followed_relative_to_their_directory() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/d", 0o755).unwrap();
    put(&mut vfs, &mut files, "/tmp/d/target", b"hello");
    vfs.symlinkat(&files, &c, b"target", AT_FDCWD, b"/tmp/d/rel")
        .unwrap();
    vfs.symlinkat(&files, &c, b"/tmp/d", AT_FDCWD, b"/tmp/abs")
        .unwrap();
    assert_eq!(get(&mut vfs, &mut files, "/tmp/d/rel"), b"hello");
    assert_eq!(get(&mut vfs, &mut files, "/tmp/abs/rel"), b"hello");
    let link = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/tmp/abs", AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(link.mode & S_IFMT, S_IFLNK);
    assert_eq!(link.size, 6);
    // A trailing slash follows even without following.
    let dir = vfs
        .fstatat(&files, &c, AT_FDCWD, b"/tmp/abs/", AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(dir.mode & S_IFMT, S_IFDIR);
    assert_eq!(
        vfs.readlinkat(&files, &c, AT_FDCWD, b"/tmp/d/rel").unwrap(),
        b"target"
    );
    assert_eq!(
        errno(vfs.readlinkat(&files, &c, AT_FDCWD, b"/tmp/d/target")),
        EINVAL
    );
    // `..` after a link to a directory is the link target's parent.
    vfs.chdir(&mut files, &c, b"/tmp/abs/..").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/tmp");
}

#[test]
fn link_loops_fail_with_eloop() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.symlinkat(&files, &c, b"b", AT_FDCWD, b"/tmp/a")
        .unwrap();
    vfs.symlinkat(&files, &c, b"a", AT_FDCWD, b"/tmp/b")
        .unwrap();
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/a", 0)),
        ELOOP
    );
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/a/x", 0)),
        ELOOP
    );
    // 40 links in a row resolve, 41 do not.
    put(&mut vfs, &mut files, "/tmp/l0", b"end");
    for n in 1..=41 {
        let target = format!("l{}", n - 1);
        vfs.symlinkat(
            &files,
            &c,
            target.as_bytes(),
            AT_FDCWD,
            format!("/tmp/l{n}").as_bytes(),
        )
        .unwrap();
    }
    assert!(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/l40", 0).is_ok());
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/l41", 0)),
        ELOOP
    );
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"/tmp/l1",
            O_RDONLY | O_NOFOLLOW,
            0
        )),
        ELOOP
    );
    assert!(vfs
        .openat(&mut files, &c, AT_FDCWD, b"/tmp/l1", O_PATH | O_NOFOLLOW, 0)
        .is_ok());
    // A dangling link.
    vfs.symlinkat(&files, &c, b"nowhere", AT_FDCWD, b"/tmp/dangling")
        .unwrap();
    assert_eq!(
        errno(vfs.fstatat(&files, &c, AT_FDCWD, b"/tmp/dangling", 0)),
        ENOENT
    );
}

#[test]
fn searching_needs_execute_permission() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/closed", 0o700)
        .unwrap();
    put(&mut vfs, &mut files, "/tmp/closed/f", b"x");
    assert_eq!(
        errno(vfs.fstatat(&files, &user(), AT_FDCWD, b"/tmp/closed/f", 0)),
        EACCES
    );
    assert!(vfs
        .fstatat(&files, &c, AT_FDCWD, b"/tmp/closed/f", 0)
        .is_ok());
}

#[test]
fn dot_dot_leaves_proc_for_the_root() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.chdir(&mut files, &c, b"/proc/7").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/proc/7");
    vfs.chdir(&mut files, &c, b"../..").unwrap();
    assert_eq!(vfs.getcwd(&files).unwrap(), b"/");
    assert!(vfs
        .fstatat(&files, &c, AT_FDCWD, b"/proc/../tmp", 0)
        .is_ok());
}

#[test]
fn a_removed_working_directory_has_no_path() {
    let (mut vfs, mut files) = system();
    let c = root();
    vfs.mkdirat(&files, &c, AT_FDCWD, b"/tmp/gone", 0o755)
        .unwrap();
    vfs.chdir(&mut files, &c, b"/tmp/gone").unwrap();
    vfs.unlinkat(
        &files,
        &c,
        AT_FDCWD,
        b"/tmp/gone",
        abide_linux::fs::at::AT_REMOVEDIR,
    )
    .unwrap();
    assert_eq!(errno(vfs.getcwd(&files)), ENOENT);
    assert_eq!(
        errno(vfs.openat(
            &mut files,
            &c,
            AT_FDCWD,
            b"new",
            abide_linux::fs::open::O_CREAT | O_RDONLY,
            0o644
        )),
        ENOENT
    );
}
