//! `--add HOSTDIR:/PATH`: a host directory to copy into the guest's tree at
//! `PATH` for one boot (the `add` archive; the unix component copies it
//! into its writable RAM file system).

use std::path::PathBuf;

use super::tree::{normalize, Tree};

/// One `--add` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddSpec {
    /// The host directory.
    pub host: PathBuf,
    /// Where it goes in the guest: absolute, normalized (`/`, `/opt/tools`).
    pub guest: String,
}

impl std::str::FromStr for AddSpec {
    type Err = String;

    /// `HOSTDIR:/PATH`, split at the last `:` (a host path may hold one).
    fn from_str(text: &str) -> Result<Self, String> {
        let (host, guest) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("`{text}` is not HOSTDIR:/PATH"))?;
        if host.is_empty() {
            return Err(format!("`{text}` names no host directory (HOSTDIR:/PATH)"));
        }
        if !guest.starts_with('/') {
            return Err(format!(
                "`{guest}` is not an absolute guest path: write HOSTDIR:/PATH, e.g. ./tools:/opt/tools"
            ));
        }
        let guest = format!("/{}", normalize(guest)?);
        Ok(AddSpec {
            host: PathBuf::from(host),
            guest,
        })
    }
}

/// The tree of all `specs`, in order (a later one wins where they
/// overlap), and the warnings about what was skipped. Err names the option
/// at fault: a missing directory, a link pointing out of it.
pub fn add_tree(specs: &[AddSpec]) -> Result<(Tree, Vec<String>), String> {
    let mut tree = Tree::new();
    let mut warnings = Vec::new();
    for spec in specs {
        if !spec.host.is_dir() {
            return Err(format!(
                "--add {}:{}: there is no directory {}",
                spec.host.display(),
                spec.guest,
                spec.host.display()
            ));
        }
        let found = tree
            .add_host_dir(&spec.host, &spec.guest)
            .map_err(|e| format!("--add {}:{}: {e}", spec.host.display(), spec.guest))?;
        warnings.extend(found.into_iter().map(|w| format!("--add: {w}")));
    }
    Ok((tree, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::tree::Node;
    use std::fs;

    fn spec(text: &str) -> Result<AddSpec, String> {
        text.parse()
    }

    #[test]
    fn specs_are_parsed() {
        assert_eq!(
            spec("./tools:/opt/tools/").unwrap(),
            AddSpec {
                host: "./tools".into(),
                guest: "/opt/tools".into()
            }
        );
        assert_eq!(spec("a:b:/x").unwrap().host, PathBuf::from("a:b"));
        assert_eq!(spec("d:/").unwrap().guest, "/");
        assert!(spec("tools").unwrap_err().contains("HOSTDIR:/PATH"));
        assert!(spec("tools:opt").unwrap_err().contains("not an absolute"));
        assert!(spec(":/opt").unwrap_err().contains("no host directory"));
        assert!(spec("d:/a/../b").unwrap_err().contains(".."));
    }

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("abide-add-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_directory_is_copied_under_its_path() {
        let dir = scratch("copy");
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("sub/data"), b"hello").unwrap();
        fs::write(dir.join("run"), b"#!/bin/sh\n").unwrap();
        fs::set_permissions(dir.join("run"), fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("sub/data", dir.join("link")).unwrap();
        let specs = [spec(&format!("{}:/opt/x", dir.display())).unwrap()];
        let (tree, warnings) = add_tree(&specs).unwrap();
        assert!(warnings.is_empty());
        assert!(matches!(tree.get("opt"), Some(Node::Directory { .. })));
        assert_eq!(
            tree.get("opt/x/sub/data"),
            Some(&Node::File {
                mode: 0o644 & !umask(),
                data: b"hello".to_vec()
            })
        );
        assert!(matches!(
            tree.get("opt/x/run"),
            Some(Node::File { mode: 0o755, .. })
        ));
        assert_eq!(
            tree.get("opt/x/link"),
            Some(&Node::Symlink {
                target: "sub/data".into()
            })
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The process's umask (files the tests create get 0666 & !umask).
    fn umask() -> u32 {
        let probe = std::env::temp_dir().join(format!("abide-umask-{}", std::process::id()));
        fs::write(&probe, b"").unwrap();
        let mode = fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        fs::remove_file(&probe).unwrap();
        0o666 & !mode
    }

    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn errors_name_the_option_and_the_cause() {
        let missing = spec("/nonexistent/abide-add:/x").unwrap();
        let error = add_tree(&[missing]).unwrap_err();
        assert!(error.contains("--add /nonexistent/abide-add:/x"), "{error}");
        assert!(error.contains("there is no directory"), "{error}");

        let dir = scratch("out");
        std::os::unix::fs::symlink("../../etc/passwd", dir.join("escape")).unwrap();
        let error = add_tree(&[spec(&format!("{}:/x", dir.display())).unwrap()]).unwrap_err();
        assert!(error.contains("points out of"), "{error}");
        fs::remove_file(dir.join("escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("absolute")).unwrap();
        let error = add_tree(&[spec(&format!("{}:/x", dir.display())).unwrap()]).unwrap_err();
        assert!(error.contains("points out of"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn special_files_are_skipped_with_a_warning() {
        let dir = scratch("fifo");
        fs::write(dir.join("kept"), b"x").unwrap();
        let fifo = std::ffi::CString::new(dir.join("pipe").to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let (tree, warnings) = add_tree(&[spec(&format!("{}:/", dir.display())).unwrap()]).unwrap();
        assert!(tree.get("kept").is_some());
        assert!(tree.get("pipe").is_none());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("a FIFO"), "{}", warnings[0]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
