//! Unix permission checks: owner, group, other bits, and root, who may
//! read and write anything and execute what has any execute bit.

use crate::caller::Caller;

/// Read permission.
pub const R: u32 = 4;
/// Write permission.
pub const W: u32 = 2;
/// Execute (search, for a directory) permission.
pub const X: u32 = 1;

/// Whether `caller` has all of `want` (`R | W | X`) on a file with
/// permission bits `perm` owned by `uid:gid`.
pub fn may(perm: u32, uid: u32, gid: u32, caller: &Caller, want: u32, is_dir: bool) -> bool {
    if caller.uid == 0 {
        return want & X == 0 || is_dir || perm & 0o111 != 0;
    }
    let bits = if caller.uid == uid {
        perm >> 6
    } else if caller.gid == gid {
        perm >> 3
    } else {
        perm
    } & 7;
    bits & want == want
}
