//! Debian's static busybox in the root tree: `/bin/busybox` and a link
//! `/bin/<applet> -> busybox` for every name `busybox --list` prints — the
//! layout busybox's test suite is run with on Linux
//! (`../shared/conformance/README.md`), so the two runs compare.

use std::path::Path;
use std::process::Command;

use super::tree::{Node, Tree};
use crate::prereqs;

/// Where the binary goes.
pub const BINARY: &str = "bin/busybox";

/// The applets the host copy of the binary lists (it is a static x86_64
/// Linux program, so the host runs it).
pub fn applets(binary: &Path) -> Result<Vec<String>, String> {
    let listed = prereqs::run_captured(Command::new(binary).arg("--list"))
        .map_err(|e| format!("cannot list busybox's applets: {e}"))?;
    parse_list(&listed)
}

/// The names of `busybox --list`, one a line.
pub fn parse_list(listed: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = listed
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = names
        .iter()
        .find(|name| name.contains('/') || name.starts_with('.'))
    {
        return Err(format!(
            "`busybox --list` printed a strange applet name {bad:?}"
        ));
    }
    if names.is_empty() {
        return Err("`busybox --list` printed no applet".into());
    }
    Ok(names)
}

/// Puts the binary and its applet links into `tree`.
pub fn install(tree: &mut Tree, binary: Vec<u8>, applets: &[String]) -> Result<(), String> {
    tree.insert(
        BINARY,
        Node::File {
            mode: 0o755,
            data: binary,
        },
    )?;
    for applet in applets.iter().filter(|a| *a != "busybox") {
        tree.insert(
            &format!("bin/{applet}"),
            Node::Symlink {
                target: "busybox".into(),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_read_and_checked() {
        assert_eq!(
            parse_list("[\n[[\nash\nsh\n\n").unwrap(),
            ["[", "[[", "ash", "sh"]
        );
        assert!(parse_list("").is_err());
        assert!(parse_list("ash\n../etc\n").is_err());
    }

    #[test]
    fn applets_link_to_the_binary() {
        let mut tree = Tree::new();
        let applets = ["sh".to_string(), "busybox".into(), "ls".into()];
        install(&mut tree, b"ELF".to_vec(), &applets).unwrap();
        assert!(matches!(
            tree.get("bin/busybox"),
            Some(Node::File { mode: 0o755, .. })
        ));
        assert_eq!(
            tree.get("bin/sh"),
            Some(&Node::Symlink {
                target: "busybox".into()
            })
        );
        assert!(tree.get("bin/ls").is_some());
        assert_eq!(tree.len(), 4);
    }
}
