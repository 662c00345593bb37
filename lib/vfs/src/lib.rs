//! The Unix personality's file systems as plain data (`no_std` + `alloc`,
//! tested on the host): a RAM tree preloaded from ustar archives whose
//! files borrow the archive's bytes until written, `/dev`, a `/proc`
//! whose files the component generates, pipes and FIFOs, open file
//! descriptions and per-process descriptor tables — every call with
//! Linux's semantics and errno values. `user/services/unix` drives it;
//! docs/unix.md ("File systems") has the design.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod attrs;
mod caller;
mod dev;
mod error;
mod fdops;
mod fdtable;
mod file;
mod inode;
mod load;
mod names;
mod open;
mod path;
mod perm;
mod pipe;
mod procfd;
pub mod tar;
mod vfs;

pub use attrs::{PROC_DEV, RAM_DEV};
pub use caller::{Caller, EmptyProc, ProcEntry, ProcFs};
pub use dev::{Device, DEV_NODES};
pub use error::{Error, Result};
pub use fdtable::{Files, MAX_FDS};
pub use inode::Ino;
pub use pipe::PIPE_CAPACITY;
pub use vfs::{Node, Vfs, ROOT_INO};
