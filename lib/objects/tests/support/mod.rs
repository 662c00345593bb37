//! Helpers shared by the tests of handle tables (`caps.rs`,
//! `caps_model.rs`): short names for rights, and a store with one table.
#![allow(dead_code)]

use abide_abi::syscall::{Handle, Rights};
use abide_objects::caps::{Capabilities, TableId};

pub const R: Rights = Rights::READ;
pub const W: Rights = Rights::WRITE;
pub const DUP: Rights = Rights::DUPLICATE;
pub const XFER: Rights = Rights::TRANSFER;

/// The union of `list`.
pub fn rights(list: &[Rights]) -> Rights {
    list.iter().fold(Rights::NONE, |acc, r| acc.union(*r))
}

/// `v` in ascending order.
pub fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

/// A store with one table of quota 16 and a root handle to object 7 with
/// every right.
pub fn one_table() -> (Capabilities<u32>, TableId, Handle) {
    let mut caps = Capabilities::new();
    let t = caps.create_table(16);
    let h = caps.insert(t, 7, Rights::ALL).unwrap();
    (caps, t, h)
}
