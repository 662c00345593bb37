//! The Abide host tool as a library: what `cargo run` does, and what the
//! system tests in `tests/` use to boot Abide.
//!
//! - [`build`]: builds a kernel image (own workspace, clean environment,
//!   embedded symbol table) into `target/abide/abide.elf` (or
//!   `abide-full.elf`).
//! - [`image`]: the two images (the system alone, or with the test and
//!   benchmark programs) and which one a kernel command line needs.
//! - [`user`]: builds the user programs (`user/`) and the bundle of them the
//!   kernel embeds, `target/abide/bundle.bin`.
//! - [`symbols`]: extracts the kernel's function symbols for that table.
//! - [`qemu`]: the one QEMU command line, for people and for tests.
//! - [`iso`]: the GRUB ISO.
//! - [`qmp`]: QEMU's monitor protocol, for tests and the benchmark.
//! - [`feed`]: piped standard input for `abide run`: a line per prompt,
//!   and a clean power-off at its end.
//! - [`fuzz`]: `abide fuzz`, hostile system calls at scale with a verdict.
//! - [`session`]: boots QEMU for a system test and drives its serial console.
//! - [`store`]: the store image (the kernel's persistent disk) and how QEMU
//!   attaches it.
//! - [`prereqs`]: checks the external programs, naming the packages to install.
//! - [`debian`]: Debian packages fetched with apt and cached (the Linux
//!   guest's kernel, busybox).
//! - [`rootfs`]: the root tree and `--add` archives, and how they reach the
//!   guest.
//! - [`bench`]: runs the benchmark suite in the guest and reads its report.
//! - [`conformance`]: busybox's test suite and the differential scripts on
//!   the Unix personality and on the Linux peer.
//! - [`cli`] and [`commands`]: the `abide` command itself.

pub mod bench;
pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod conformance;
pub mod crashtest;
pub mod debian;
pub mod feed;
pub mod fuzz;
pub mod image;
pub mod iso;
pub mod prereqs;
pub mod qemu;
pub mod qmp;
pub mod rootfs;
pub mod session;
pub mod store;
pub mod symbols;
pub mod user;

pub use build::{build_kernel, repo_root};
