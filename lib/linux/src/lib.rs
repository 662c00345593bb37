//! The Linux x86_64 user ABI, as the Unix personality (`user/services/unix`)
//! implements it: one place for the numbers and layouts Linux programs
//! depend on, so the component, its libraries and their tests agree.
//!
//! Only what user programs see is here: system-call numbers ([`syscalls`]),
//! errno values ([`errno`]), the file-system ABI ([`fs`]) and, module by
//! module, the structures calls pass through memory: terminals
//! ([`termios`]), signals ([`signal`]) and the frame a handler runs on
//! ([`sigframe`]), `wait4`'s status ([`wait`]). Layouts are Linux's for
//! x86_64 (LP64, little-endian).
#![cfg_attr(not(test), no_std)]

pub mod errno;
pub mod fs;
pub mod sigframe;
pub mod signal;
pub mod syscalls;
pub mod termios;
pub mod wait;
