//! The file tree the busybox test suite runs in, described once and
//! written either into the Linux peer's initramfs or into a host directory
//! Abide's root tree takes with `--add`.
//!
//! [`system_part`] is what `../shared/conformance/README.md` asks of the
//! root around the suite (`/bin/busybox` and a link per applet, the `/dev`
//! nodes, `/proc`, `/etc/passwd`, `/etc/group`, a writable `/tmp`): Abide's
//! root tree has it already, the Linux peer gets it here. [`suite_part`] is
//! `/suite`: the binary again (`runtest` runs `../busybox`), an empty
//! `.config` and the test suite, read from `../shared/conformance` at run
//! time — never copied into the repository.

use std::fs;
use std::path::{Path, PathBuf};

use crate::bench::initramfs::Archive;

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Bytes(Vec<u8>),
    /// A host file, read when the tree is written.
    Host(PathBuf),
}

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory,
    File(Content),
    Symlink(String),
    CharDevice(u32, u32),
}

/// A path (relative, without a leading `/`), its permission bits and node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub permissions: u32,
    pub node: Node,
}

/// A tree, parents before children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pub entries: Vec<Entry>,
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// A tree whose entries go under `prefix` (see [`under`]): it holds
    /// that directory, unless `prefix` is empty.
    pub fn rooted(prefix: &str) -> Tree {
        let mut tree = Tree::new();
        if !prefix.is_empty() {
            tree.directory(prefix, 0o755);
        }
        tree
    }

    pub fn directory(&mut self, path: &str, permissions: u32) {
        self.push(path, permissions, Node::Directory);
    }

    pub fn file(&mut self, path: &str, permissions: u32, content: Content) {
        self.push(path, permissions, Node::File(content));
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.push(path, 0o777, Node::Symlink(target.to_string()));
    }

    pub fn char_device(&mut self, path: &str, permissions: u32, major: u32, minor: u32) {
        self.push(path, permissions, Node::CharDevice(major, minor));
    }

    /// The trees one after the other.
    pub fn append(&mut self, other: Tree) {
        self.entries.extend(other.entries);
    }

    fn push(&mut self, path: &str, permissions: u32, node: Node) {
        self.entries.push(Entry {
            path: path.trim_start_matches('/').to_string(),
            permissions,
            node,
        });
    }

    /// Adds the host directory `host` as `path`, recursively, in name
    /// order. Permissions are the host's with the owner's write bit added
    /// (the suite writes next to its files; the shared copy is read-only).
    pub fn host_directory(&mut self, path: &str, host: &Path) -> Result<(), String> {
        self.directory(path, permissions_of(host)? | 0o200);
        let mut children = fs::read_dir(host)
            .map_err(|e| format!("cannot list {}: {e}", host.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("cannot list {}: {e}", host.display()))?;
        children.sort();
        for child in children {
            let name = child
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: not a UTF-8 name", child.display()))?;
            let inner = format!("{path}/{name}");
            let meta = fs::symlink_metadata(&child)
                .map_err(|e| format!("cannot stat {}: {e}", child.display()))?;
            if meta.is_dir() {
                self.host_directory(&inner, &child)?;
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&child)
                    .map_err(|e| format!("cannot read {}: {e}", child.display()))?;
                self.symlink(&inner, &target.to_string_lossy());
            } else {
                self.file(
                    &inner,
                    permissions_of(&child)? | 0o200,
                    Content::Host(child.clone()),
                );
            }
        }
        Ok(())
    }

    /// The tree as a newc archive (for an initramfs).
    pub fn to_cpio(&self) -> Result<Vec<u8>, String> {
        let mut archive = Archive::new();
        for entry in &self.entries {
            match &entry.node {
                Node::Directory => archive.directory(&entry.path, entry.permissions),
                Node::File(content) => {
                    archive.file(&entry.path, entry.permissions, &read(content)?)
                }
                Node::Symlink(target) => archive.symlink(&entry.path, target),
                Node::CharDevice(major, minor) => {
                    archive.char_device(&entry.path, entry.permissions, *major, *minor)
                }
            }
        }
        Ok(archive.finish())
    }

    /// Writes the tree under the host directory `dir` (emptied first), for
    /// `--add DIR:/PATH`. Device nodes cannot be made without root: a tree
    /// holding one is refused.
    pub fn stage(&self, dir: &Path) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for entry in &self.entries {
            let path = dir.join(&entry.path);
            let failed = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
            match &entry.node {
                Node::Directory => fs::create_dir_all(&path).map_err(failed)?,
                Node::File(content) => fs::write(&path, read(content)?).map_err(failed)?,
                Node::Symlink(target) => {
                    std::os::unix::fs::symlink(target, &path).map_err(failed)?
                }
                Node::CharDevice(..) => {
                    return Err(format!(
                        "{}: a device node cannot be staged in a host directory",
                        entry.path
                    ))
                }
            }
            if !matches!(entry.node, Node::Symlink(_)) {
                fs::set_permissions(&path, fs::Permissions::from_mode(entry.permissions))
                    .map_err(failed)?;
            }
        }
        Ok(())
    }
}

fn read(content: &Content) -> Result<Vec<u8>, String> {
    match content {
        Content::Bytes(bytes) => Ok(bytes.clone()),
        Content::Host(path) => {
            fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        }
    }
}

fn permissions_of(path: &Path) -> Result<u32, String> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))
}

/// `name` inside `prefix`: `suite/run` for an initramfs (`prefix` is where
/// the directory lands in it), `run` for a directory added as `/suite`
/// (`prefix` empty).
pub fn under(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// `/etc/passwd` and `/etc/group` as the README gives them.
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n";
pub const GROUP: &str = "root:x:0:\n";

/// The root around the suite: `bin/busybox` and a link `bin/<applet>` ->
/// `busybox` for every applet, `dev/{console,null,zero,urandom}`, `proc`,
/// `etc/passwd`, `etc/group`, `tmp` and `root`.
pub fn system_part(busybox: &Path, applets: &[String]) -> Tree {
    let mut tree = Tree::new();
    tree.directory("bin", 0o755);
    tree.file("bin/busybox", 0o755, Content::Host(busybox.to_path_buf()));
    for applet in applets.iter().filter(|a| a.as_str() != "busybox") {
        tree.symlink(&format!("bin/{applet}"), "busybox");
    }
    tree.directory("dev", 0o755);
    // The Linux kernel opens the console for `/init`'s standard streams.
    tree.char_device("dev/console", 0o600, 5, 1);
    tree.char_device("dev/null", 0o666, 1, 3);
    tree.char_device("dev/zero", 0o666, 1, 5);
    tree.char_device("dev/urandom", 0o666, 1, 9);
    tree.directory("proc", 0o555);
    tree.directory("etc", 0o755);
    tree.file("etc/passwd", 0o644, Content::Bytes(PASSWD.into()));
    tree.file("etc/group", 0o644, Content::Bytes(GROUP.into()));
    tree.directory("tmp", 0o1777);
    tree.directory("root", 0o700);
    tree
}

/// `/suite` (relative to where the tree lands: `prefix` is `suite` for an
/// initramfs, empty for a directory added as `/suite`): `busybox`, an empty
/// `.config`, `testsuite/` from the host folder `testsuite`, and the
/// guest's driver script `run` ([`super::guest`]).
pub fn suite_part(
    prefix: &str,
    busybox: &Path,
    testsuite: &Path,
    driver: &str,
) -> Result<Tree, String> {
    let at = |name: &str| under(prefix, name);
    let mut tree = Tree::rooted(prefix);
    tree.file(&at("busybox"), 0o755, Content::Host(busybox.to_path_buf()));
    tree.file(&at(".config"), 0o644, Content::Bytes(Vec::new()));
    tree.file(
        &at(super::guest::DRIVER_NAME),
        0o755,
        Content::Bytes(driver.into()),
    );
    tree.host_directory(&at("testsuite"), testsuite)?;
    Ok(tree)
}

/// The applets `busybox --list` names, run on the host (the binary is a
/// static x86_64 Linux program).
pub fn applets(busybox: &Path) -> Result<Vec<String>, String> {
    let output = std::process::Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot run {} --list: {e}", busybox.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} --list failed: {}",
            busybox.display(),
            output.status
        ));
    }
    let list: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if list.is_empty() {
        return Err(format!("{} --list printed no applets", busybox.display()));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_part_has_what_the_readme_asks() {
        let tree = system_part(Path::new("/x/busybox"), &["busybox".into(), "cat".into()]);
        let paths: Vec<&str> = tree.entries.iter().map(|e| e.path.as_str()).collect();
        for wanted in [
            "bin/busybox",
            "bin/cat",
            "dev/null",
            "dev/zero",
            "dev/urandom",
            "proc",
            "etc/passwd",
            "etc/group",
            "tmp",
        ] {
            assert!(paths.contains(&wanted), "{wanted} missing from {paths:?}");
        }
        // busybox --list names busybox itself: the binary is not replaced by a link.
        assert_eq!(paths.iter().filter(|p| **p == "bin/busybox").count(), 1);
        let cat = tree.entries.iter().find(|e| e.path == "bin/cat").unwrap();
        assert_eq!(cat.node, Node::Symlink("busybox".into()));
    }

    #[test]
    fn a_host_directory_is_staged_and_archived() {
        let base = std::env::temp_dir().join(format!("abide-layout-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let source = base.join("source");
        fs::create_dir_all(source.join("cat")).unwrap();
        fs::write(source.join("runtest"), "#!/bin/sh\n").unwrap();
        fs::write(source.join("cat/cat-prints-a-file"), "test\n").unwrap();
        let tree = suite_part("", Path::new("/bin/true"), &source, "driver\n").unwrap();
        let staged = base.join("staged");
        tree.stage(&staged).unwrap();
        assert_eq!(
            fs::read_to_string(staged.join("testsuite/cat/cat-prints-a-file")).unwrap(),
            "test\n"
        );
        assert_eq!(fs::read(staged.join(".config")).unwrap(), b"");
        assert_eq!(fs::read_to_string(staged.join("run")).unwrap(), "driver\n");
        let prefixed = suite_part("suite", Path::new("/bin/true"), &source, "d").unwrap();
        let cpio = prefixed.to_cpio().unwrap();
        let text = String::from_utf8_lossy(&cpio);
        assert!(text.contains("suite/testsuite/runtest\0"));
        assert!(text.contains("suite/.config\0"));
        fs::remove_dir_all(&base).unwrap();
    }
}
