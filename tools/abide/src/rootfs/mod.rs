//! The Linux root tree and the user's `--add` directories, as the two
//! archives the unix component reads at its start (`rootfs` and `add`), and
//! their way into the guest beside the kernel.
//!
//! - [`tree`]: a file tree as data, from host directories; [`ustar`] writes
//!   it as a POSIX ustar archive (uid/gid 0, fixed mtime: reproducible).
//! - [`busybox`]: Debian's `busybox-static` (fetched and cached by
//!   [`crate::debian`]) as `/bin/busybox` with its applet links.
//! - [`bash`]: Debian's `bash-static` (fetched and cached the same way) as
//!   `/bin/bash`, when it can be had.
//! - [`add`]: `--add HOSTDIR:/PATH`.
//! - [`placement`]: where the archives go in guest RAM, QEMU's loader
//!   arguments and the kernel's `archive=` options.
//!
//! The root tree is `system/rootfs/` of the repository, the directories of
//! [`EMPTY_DIRS`] (git keeps no empty directory), busybox and bash. Without
//! busybox (offline, no apt, nothing cached) there is no root tree: the tool
//! says so and boots without one, unless the caller needs it
//! ([`RootTree::Required`]). The files go to `target/abide/rootfs.tar` and
//! `target/abide/add-<checksum>.tar`, never into the kernel image.

pub mod add;
pub mod bash;
pub mod busybox;
pub mod placement;
pub mod tree;
pub mod ustar;

use std::fs;
use std::path::{Path, PathBuf};

use abide_abi::host::{ADD_ARCHIVE, ROOTFS_ARCHIVE};

pub use add::AddSpec;
pub use placement::Placed;
use tree::{Node, Tree};

use crate::build::{output_dir, repo_root};
use crate::debian;

/// The repository's files of the root tree (`/etc/passwd`, ...).
pub const SYSTEM_ROOTFS: &str = "system/rootfs";

/// Directories every root tree has, with their modes: the mount points of
/// the unix component's file systems, and root's home.
pub const EMPTY_DIRS: &[(&str, u32)] = &[
    ("dev", 0o755),
    ("home", 0o755),
    ("proc", 0o755),
    ("root", 0o700),
    ("tmp", 0o1777),
];

/// Whether a boot gets the root tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootTree {
    /// No root tree.
    Without,
    /// The root tree when busybox can be had; otherwise the tool says so
    /// and boots without one.
    IfAvailable,
    /// The root tree, or an error.
    Required,
}

/// The archives of one boot, placed in guest RAM for `memory_mib` MiB:
/// the root tree as `root` says, the `add` archive when `add` names
/// directories. Warnings (files skipped, no busybox) go to stderr.
pub fn prepare(root: RootTree, add: &[AddSpec], memory_mib: u32) -> Result<Vec<Placed>, String> {
    let mut files: Vec<(&'static str, PathBuf, u64)> = Vec::new();
    if root != RootTree::Without {
        match root_archive() {
            Ok(file) => files.push((ROOTFS_ARCHIVE, file.0, file.1)),
            Err(e) if root == RootTree::Required => return Err(e),
            Err(e) => eprintln!(
                "abide: booting without a root tree (the unix component will say there is none): {e}"
            ),
        }
    }
    if !add.is_empty() {
        let (tree, warnings) = add::add_tree(add)?;
        for warning in warnings {
            eprintln!("abide: warning: {warning}");
        }
        let bytes = tree.to_ustar().map_err(|e| format!("--add: {e}"))?;
        let checksum = abide_store::crc::crc32c(&bytes);
        let path = write_archive(&format!("add-{checksum:08x}.tar"), &bytes)?;
        files.push((ADD_ARCHIVE, path, bytes.len() as u64));
    }
    placement::place(&files, memory_mib)
}

/// The root tree written to `target/abide/rootfs.tar`: its path and length.
fn root_archive() -> Result<(PathBuf, u64), String> {
    let (binary, applets) = fetch_busybox()?;
    let mut tree = root_tree(&repo_root().join(SYSTEM_ROOTFS), binary, &applets)?;
    match fetch_bash() {
        Ok(bash) => bash::install(&mut tree, bash)?,
        Err(e) => eprintln!("abide: the root tree has no /bin/bash: {e}"),
    }
    let bytes = tree.to_ustar()?;
    let path = write_archive("rootfs.tar", &bytes)?;
    Ok((path, bytes.len() as u64))
}

/// Debian's static busybox (cached, or fetched) and its applets.
fn fetch_busybox() -> Result<(Vec<u8>, Vec<String>), String> {
    let (path, binary) = fetch_binary(debian::busybox, debian::BUSYBOX, busybox::BINARY)?;
    let applets = busybox::applets(&path)?;
    Ok((binary, applets))
}

/// Debian's static bash (cached, or fetched).
fn fetch_bash() -> Result<Vec<u8>, String> {
    fetch_binary(debian::bash_static, debian::BASH_STATIC, bash::BINARY).map(|(_, binary)| binary)
}

/// The cached file `fetch` gives for `package` (fetched under the cache's
/// lock), and its bytes; `goes_to` is its path in the tree, for errors.
fn fetch_binary(
    fetch: fn(&Path) -> Result<debian::Fetched, String>,
    package: &str,
    goes_to: &str,
) -> Result<(PathBuf, Vec<u8>), String> {
    let dir = debian::cache_dir();
    let lock = debian::lock_cache(&dir)?;
    let fetched = fetch(&dir)
        .map_err(|e| format!("cannot get Debian's {package} (needed for /{goes_to}): {e}"))?;
    drop(lock);
    let binary = fs::read(&fetched.path)
        .map_err(|e| format!("cannot read {}: {e}", fetched.path.display()))?;
    Ok((fetched.path, binary))
}

/// The root tree: the files of `system_rootfs`, [`EMPTY_DIRS`], and busybox
/// with its applet links.
pub fn root_tree(
    system_rootfs: &Path,
    busybox: Vec<u8>,
    applets: &[String],
) -> Result<Tree, String> {
    let mut tree = Tree::new();
    for (dir, mode) in EMPTY_DIRS {
        tree.insert(dir, Node::Directory { mode: *mode })?;
    }
    let warnings = tree
        .add_host_dir(system_rootfs, "/")
        .map_err(|e| format!("{SYSTEM_ROOTFS}: {e}"))?;
    if let Some(warning) = warnings.first() {
        return Err(format!("{SYSTEM_ROOTFS}: {warning}"));
    }
    // The repository's checkout decides the files' modes; the directories
    // that must keep theirs get them back.
    for (dir, mode) in EMPTY_DIRS {
        tree.insert(dir, Node::Directory { mode: *mode })?;
    }
    busybox::install(&mut tree, busybox, applets)?;
    Ok(tree)
}

/// Writes `bytes` to `target/abide/<name>` (through a temporary file and a
/// rename, so a QEMU starting meanwhile reads a whole file).
fn write_archive(name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let dir = output_dir();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let partial = dir.join(format!("{name}.{}.partial", std::process::id()));
    fs::write(&partial, bytes)
        .and_then(|()| fs::rename(&partial, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, type flag, mode) of every entry of a ustar archive.
    fn entries(tar: &[u8]) -> Vec<(String, u8, u32)> {
        let mut found = Vec::new();
        let mut at = 0;
        while at + 512 <= tar.len() && tar[at] != 0 {
            let header = &tar[at..at + 512];
            let text = |from: usize, width: usize| {
                let raw = &header[from..from + width];
                let end = raw.iter().position(|&b| b == 0).unwrap_or(width);
                String::from_utf8(raw[..end].to_vec()).unwrap()
            };
            let size = u64::from_str_radix(&text(124, 11), 8).unwrap();
            let mode = u32::from_str_radix(&text(100, 7), 8).unwrap();
            found.push((text(0, 100), header[156], mode));
            at += 512 + (size as usize).next_multiple_of(512);
        }
        found
    }

    #[test]
    fn the_root_tree_holds_busybox_the_system_files_and_the_mount_points() {
        let system = repo_root().join(SYSTEM_ROOTFS);
        let applets = ["sh".to_string(), "ls".into(), "cat".into()];
        let tree = root_tree(&system, b"\x7fELF busybox".to_vec(), &applets).unwrap();
        let tar = tree.to_ustar().unwrap();
        let found = entries(&tar);
        let has = |name: &str, flag: u8| found.iter().any(|(n, f, _)| n == name && *f == flag);
        assert!(has("bin/busybox", b'0'));
        for applet in applets {
            assert!(has(&format!("bin/{applet}"), b'2'), "bin/{applet}");
        }
        for file in [
            "etc/passwd",
            "etc/group",
            "etc/profile",
            "etc/hostname",
            "etc/hosts",
            "etc/shells",
        ] {
            assert!(has(file, b'0'), "{file} in {found:?}");
        }
        for (dir, mode) in EMPTY_DIRS {
            let entry = found.iter().find(|(n, _, _)| *n == format!("{dir}/"));
            assert_eq!(entry.map(|e| (e.1, e.2)), Some((b'5', *mode)), "{dir}");
        }
        match tree.get("etc/passwd") {
            Some(Node::File { data, .. }) => {
                let text = String::from_utf8_lossy(data);
                assert!(
                    text.starts_with("root:x:0:0:root:/root:/bin/sh\n"),
                    "{text}"
                );
            }
            other => panic!("etc/passwd is {other:?}"),
        }
        // Parents come before their entries.
        let bin = found.iter().position(|(n, _, _)| n == "bin/").unwrap();
        let sh = found.iter().position(|(n, _, _)| n == "bin/sh").unwrap();
        assert!(bin < sh);
        // Reproducible.
        assert_eq!(tar, tree.to_ustar().unwrap());
    }
}
