//! The Unix personality's logic as plain data (`user/services/unix` is the
//! component that drives it with kernel calls): everything about Linux
//! processes that can be decided without touching another process's memory
//! lives here, so the host tests it.
//!
//! - [`table`]: processes, their parents, process groups and sessions,
//!   zombies and the children `wait4` may reap.
//! - [`status`]: the wait status word (exit code, signal, stop).
//! - [`signals`]: signal numbers, sets, actions and what to do with a
//!   pending signal.
//! - [`waits`]: calls that cannot finish now, parked until what they wait
//!   for changes or a deadline passes.
//! - [`elf`] and [`stack`]: planning an `execve` (segments to map, the
//!   initial stack with argv, envp and auxv).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod elf;
pub mod signals;
pub mod stack;
pub mod status;
pub mod table;
pub mod waits;
