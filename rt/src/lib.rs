//! The Abide user runtime: what every user program links.
//!
//! Abide's user programs are freestanding binaries for the host target
//! (`x86_64-unknown-linux-gnu`, like the kernel): stable Rust offers no
//! Abide target, and the precompiled `core` and `alloc` of the host target
//! work anywhere as long as someone supplies what the C library and the
//! Linux start files normally would. This crate supplies it:
//!
//! - `_start`, the ELF entry point: it aligns the stack, calls the program's
//!   `main` (named with [`entry!`]) and exits with its return value;
//! - [`syscall`]: the raw `syscall` instruction and typed, safe wrappers for
//!   the calls in `abide_abi::syscall`;
//! - [`print!`] and [`println!`] through the kernel's debug console;
//! - a panic handler that prints `panic: <message> at <file>:<line>` and exits
//!   with [`PANIC_EXIT_CODE`];
//! - `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp`, which the compiler
//!   calls and the host target expects from libc;
//! - a global allocator (`talc`) over memory objects it maps as the heap
//!   grows, so `alloc` (`Vec`, `Box`, `String`, `format!`) works;
//! - [`executor`]: a single-threaded async executor (`async fn main` with
//!   [`async_entry!`], tasks, timers, waiting on kernel objects);
//! - [`ipc`]: async channels and the client and server halves of the typed
//!   interfaces `abide_ipc::interface!` declares;
//! - [`chaos`]: the harness of the fault-injection programs, which crash a
//!   component again and again while they write to it.
//!
//! A program:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! abide_rt::entry!(main);
//!
//! fn main() -> i32 {
//!     abide_rt::println!("hello from user space");
//!     0
//! }
//! ```
//!
//! or, to wait for many things at once:
//!
//! ```ignore
//! abide_rt::async_entry!(main);
//!
//! async fn main() -> i32 {
//!     abide_rt::executor::sleep(1_000_000).await;
//!     0
//! }
//! ```
//!
//! Programs live in the user workspace (`user/`), whose `.cargo/config.toml`
//! and linker script (`user/user.ld`) make them static ELF executables linked
//! at 4 MiB; the host tool builds them and embeds them in the kernel image.
#![no_std]

extern crate alloc;

pub mod blocking;
pub mod chaos;
pub mod component;
pub mod executor;
mod heap;
pub mod io;
pub mod ipc;
// memcpy & co: the compiler calls them, no C library provides them.
use abide_intrinsics as _;
mod panic;
mod start;
pub mod syscall;

pub use abide_abi::object::{
    MessageInfo, Packet, ProcessState, ProcessStatus, Signals, SpawnOptions,
};
pub use abide_abi::syscall::{Error, Handle, Rights};
pub use panic::PANIC_EXIT_CODE;
pub use start::{process_self, startup_handle, startup_handle_count};

/// The exit status of a program whose work ended with `result`: 0 for
/// `Ok`; for `Err`, the error is printed as `<program>: <error>` and the
/// status is 1. For `fn main() -> i32 { exit_status("name", run()) }`.
pub fn exit_status<E: core::fmt::Display>(program: &str, result: Result<(), E>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => {
            crate::println!("{program}: {error}");
            1
        }
    }
}

/// Names the program's entry function: `abide_rt::entry!(main)` with
/// `fn main() -> i32`. `_start` calls it and exits with the value it returns.
///
/// Every program must use this exactly once; without it the link fails with
/// an undefined `__abide_rt_main`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        fn __abide_rt_main() -> i32 {
            let main: fn() -> i32 = $main;
            main()
        }
    };
}

/// Names the program's async entry function: `abide_rt::async_entry!(main)`
/// with `async fn main() -> i32`. It runs on [`executor::block_on`] (with
/// every task it spawns) and the process exits with the value it returns.
///
/// Use it instead of [`entry!`], exactly once.
#[macro_export]
macro_rules! async_entry {
    ($main:path) => {
        $crate::entry!(__abide_rt_async_main);

        #[doc(hidden)]
        fn __abide_rt_async_main() -> i32 {
            $crate::executor::block_on($main())
        }
    };
}
