//! The Abide ABI: everything that crosses a boundary is declared here once.
//!
//! Two boundaries exist so far:
//! - [`host`]: what the kernel and the host tool (`cargo run`, the system tests)
//!   agree on — exit codes through QEMU's `isa-debug-exit` device and the fixed
//!   lines the kernel prints on the serial console that tools look for.
//! - [`syscall`]: the system-call ABI between kernel and user space, and
//!   [`object`]: the signals, structures and limits its calls use; the
//!   structures are [`record::Record`]s.
//!
//! The crate is `no_std`, depends only on `zerocopy` (for the records'
//! layout), and is tested on the host.
#![cfg_attr(not(test), no_std)]

pub mod host;
pub mod object;
pub mod persist;
pub mod record;
pub mod syscall;
pub mod trap;

/// The Abide version, shared by the kernel banner and the host tool.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
