//! A file tree as plain data — directories, regular files, symbolic links —
//! built from the repository's `system/rootfs/`, busybox and the user's
//! `--add` directories, and written out as one ustar archive.
//!
//! Paths are relative to the root (`bin/busybox`), normalized: no empty,
//! `.` or `..` component. Adding an entry adds its missing parent
//! directories (mode 0755); a later entry at the same path replaces the
//! earlier one.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Component, Path};

use super::ustar::{Kind, Ustar};

/// What a path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Directory { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink { target: String },
}

/// A tree of [`Node`]s by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    pub fn new() -> Self {
        Tree::default()
    }

    /// The node at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// How many entries the tree holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Puts `node` at `path` (normalized, see [`normalize`]), with its
    /// missing parents. Err when a parent is not a directory.
    pub fn insert(&mut self, path: &str, node: Node) -> Result<(), String> {
        let path = normalize(path)?;
        if path.is_empty() {
            return Err("the root itself is not an entry".into());
        }
        let mut parent = String::new();
        for component in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(component);
            match self.nodes.get(&parent) {
                None => {
                    self.nodes
                        .insert(parent.clone(), Node::Directory { mode: 0o755 });
                }
                Some(Node::Directory { .. }) => {}
                Some(_) => return Err(format!("/{parent} is not a directory (for /{path})")),
            }
        }
        if !matches!(node, Node::Directory { .. }) {
            // A file or link replacing a directory takes its contents away.
            let inside = format!("{path}/");
            self.nodes.retain(|p, _| !p.starts_with(&inside));
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Adds the tree below the host directory `host` under `under` (a
    /// guest path): directories, regular files with their permission bits,
    /// and symbolic links that stay inside `host`. A link pointing out of it
    /// (absolute, or climbing above it) is an error; anything else (a
    /// device, a socket, a FIFO) is skipped, and the returned warnings say
    /// so.
    pub fn add_host_dir(&mut self, host: &Path, under: &str) -> Result<Vec<String>, String> {
        let meta = fs::metadata(host)
            .map_err(|e| format!("cannot read the directory {}: {e}", host.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", host.display()));
        }
        let under = normalize(under)?;
        if !under.is_empty() {
            self.insert(&under, Node::Directory { mode: 0o755 })?;
        }
        let mut warnings = Vec::new();
        self.walk(host, host, &under, &mut warnings)?;
        Ok(warnings)
    }

    /// Adds the entries of `dir` (inside `root`) under `under`, sorted.
    fn walk(
        &mut self,
        root: &Path,
        dir: &Path,
        under: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        let mut entries = fs::read_dir(dir)
            .and_then(|list| {
                list.map(|e| e.map(|e| e.path()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?;
            let guest = if under.is_empty() {
                name.to_string()
            } else {
                format!("{under}/{name}")
            };
            let meta = fs::symlink_metadata(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let kind = meta.file_type();
            let mode = meta.permissions().mode() & 0o7777;
            if kind.is_dir() {
                self.insert(&guest, Node::Directory { mode })?;
                self.walk(root, &path, &guest, warnings)?;
            } else if kind.is_file() {
                let data =
                    fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                self.insert(&guest, Node::File { mode, data })?;
            } else if kind.is_symlink() {
                let target = fs::read_link(&path)
                    .map_err(|e| format!("cannot read the link {}: {e}", path.display()))?;
                let inside = path.strip_prefix(root).unwrap_or(&path);
                if !stays_inside(inside, &target) {
                    return Err(format!(
                        "the link {} -> {} points out of {}: only links inside the added directory are copied",
                        path.display(),
                        target.display(),
                        root.display()
                    ));
                }
                let target = target
                    .to_str()
                    .ok_or_else(|| format!("{}: the link target is not UTF-8", path.display()))?;
                self.insert(
                    &guest,
                    Node::Symlink {
                        target: target.to_string(),
                    },
                )?;
            } else {
                let what = if kind.is_fifo() {
                    "a FIFO"
                } else if kind.is_socket() {
                    "a socket"
                } else {
                    "a device"
                };
                warnings.push(format!(
                    "skipped {}: {what}, not a regular file, directory or symbolic link",
                    path.display()
                ));
            }
        }
        Ok(())
    }

    /// The tree as a ustar archive, entries in path order (parents first).
    pub fn to_ustar(&self) -> Result<Vec<u8>, String> {
        let mut tar = Ustar::new();
        for (path, node) in &self.nodes {
            match node {
                Node::Directory { mode } => tar.append(path, *mode, &Kind::Directory)?,
                Node::File { mode, data } => tar.append(path, *mode, &Kind::File(data))?,
                Node::Symlink { target } => tar.append(path, 0o777, &Kind::Symlink(target))?,
            }
        }
        Ok(tar.finish())
    }
}

/// `path` relative to the root without empty or `.` components
/// (`/usr//bin/.` is `usr/bin`); `..` is refused.
pub fn normalize(path: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("{path}: `..` is not allowed in a guest path")),
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Whether the link at `link` (relative to the added directory) with
/// `target` resolves inside that directory, read lexically.
fn stays_inside(link: &Path, target: &Path) -> bool {
    let mut depth: usize = link.components().count().saturating_sub(1);
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_and_parents_added() {
        assert_eq!(normalize("/usr//bin/./").unwrap(), "usr/bin");
        assert_eq!(normalize("/").unwrap(), "");
        assert!(normalize("/a/../b").is_err());
        let mut tree = Tree::new();
        tree.insert(
            "/usr/bin/tool",
            Node::File {
                mode: 0o755,
                data: b"x".to_vec(),
            },
        )
        .unwrap();
        assert_eq!(tree.get("usr"), Some(&Node::Directory { mode: 0o755 }));
        assert_eq!(tree.get("usr/bin"), Some(&Node::Directory { mode: 0o755 }));
        assert!(tree
            .insert("usr/bin/tool/x", Node::Directory { mode: 0o755 })
            .unwrap_err()
            .contains("not a directory"));
        assert!(tree.insert("/", Node::Directory { mode: 0o755 }).is_err());
        // A link over a directory takes its contents away.
        tree.insert("usr", Node::Symlink { target: "x".into() })
            .unwrap();
        assert_eq!(tree.len(), 1);
    }

    #[test]
    fn links_must_stay_inside() {
        let inside = |link: &str, target: &str| stays_inside(Path::new(link), Path::new(target));
        assert!(inside("a", "b"));
        assert!(inside("d/a", "../b"));
        assert!(inside("d/a", "./x/../../y"));
        assert!(!inside("a", "../b"));
        assert!(!inside("d/a", "../../b"));
        assert!(!inside("a", "/etc/passwd"));
    }
}
