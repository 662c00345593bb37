//! Debian's static bash in the root tree as `/bin/bash`: the second real
//! program of the Unix personality (issue 15), beside busybox. It is
//! optional: without it (offline and nothing cached) the tree is busybox's
//! alone, and the tool says so.

use super::tree::{Node, Tree};

/// Where the binary goes.
pub const BINARY: &str = "bin/bash";

/// Puts the binary into `tree`.
pub fn install(tree: &mut Tree, binary: Vec<u8>) -> Result<(), String> {
    tree.insert(
        BINARY,
        Node::File {
            mode: 0o755,
            data: binary,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bash_goes_to_bin_bash() {
        let mut tree = Tree::new();
        install(&mut tree, b"\x7fELF bash".to_vec()).unwrap();
        assert_eq!(
            tree.get("bin/bash"),
            Some(&Node::File {
                mode: 0o755,
                data: b"\x7fELF bash".to_vec()
            })
        );
    }
}
