//! `/proc/<pid>/fd/N` of the caller itself — and so `/dev/fd/N`,
//! `/dev/stdin`, `/dev/stdout`, `/dev/stderr`, which link there: opening or
//! `stat`ing one reaches the file descriptor `N` has open, as Linux's
//! "magic links" do (a pipe's end opens the same pipe: bash's process
//! substitution `<(...)` passes `/dev/fd/63`). The names exist for every
//! `N` (the walk has no descriptor table); a closed `N` is `ENOENT` when
//! it is reached. `/proc/<pid>/fd` lists nothing, and other processes'
//! descriptors are not shown.

use alloc::vec::Vec;

use crate::caller::{Caller, ProcEntry};
use crate::error::{Error, Result};
use crate::fdtable::Files;
use crate::path::push_decimal;
use crate::vfs::{Node, Vfs};
use abide_linux::errno::ENOENT;

/// What `/proc/path` is when it is the caller's `fd` directory or a name
/// in it; `None` for any other path.
pub(crate) fn own_fd_entry(caller: &Caller, path: &[u8]) -> Option<ProcEntry> {
    match own_fd_name(caller, path)? {
        None => Some(ProcEntry::Dir),
        Some(_) => Some(ProcEntry::File),
    }
}

/// `Some(None)` for the caller's `<pid>/fd`, `Some(Some(N))` for its
/// `<pid>/fd/N`, `None` otherwise.
fn own_fd_name(caller: &Caller, path: &[u8]) -> Option<Option<i32>> {
    let mut dir = Vec::new();
    push_decimal(&mut dir, u64::from(caller.pid));
    dir.extend_from_slice(b"/fd");
    let rest = path.strip_prefix(dir.as_slice())?;
    if rest.is_empty() {
        return Some(None);
    }
    let digits = rest.strip_prefix(b"/")?;
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let fd = digits
        .iter()
        .fold(0i32, |n, digit| n * 10 + i32::from(digit - b'0'));
    Some(Some(fd))
}

impl Vfs {
    /// The node `node` stands for: the file of descriptor `N` when it is
    /// the caller's `/proc/<pid>/fd/N` (`ENOENT` if `N` is not open),
    /// otherwise `node` itself.
    pub(crate) fn through_descriptor(
        &self,
        files: &Files,
        caller: &Caller,
        node: Node,
    ) -> Result<Node> {
        let Node::Proc(path) = &node else {
            return Ok(node);
        };
        match own_fd_name(caller, path) {
            Some(Some(fd)) => self.fd_node(files, fd).map_err(|_| Error::Errno(ENOENT)),
            _ => Ok(node),
        }
    }
}
