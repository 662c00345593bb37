//! Abide's typed interfaces: each is declared once, in its own file, with
//! [`abide_ipc::interface!`], which generates the client's request encoding
//! and reply decoding and the server's dispatch. A client and a server that
//! both depend on this crate agree on the messages by construction.
//!
//! One file per interface, with the records that cross it:
//!
//! | file | interface | served by |
//! | --- | --- | --- |
//! | `console.rs` | [`Console`] | the serial and VGA drivers |
//! | `log.rs` | [`Log`] (with [`level`], [`LogFilter`]) | `log` |
//! | `kv.rs` | [`KeyValue`] (with [`Entry`]) | `kv`, `kv-server` |
//! | `counter.rs` | [`Counter`] | `counter` |
//! | `echo.rs` | [`Echo`] | tests and examples |
//! | `system.rs` | [`System`] | `init` |
//! | `pci.rs` | [`Pci`] (with [`pci::Claim`]) | `pci` |
//! | `unix.rs` | [`Unix`] (with [`unix::Command`], [`unix::ExitStatus`], [`unix::Stats`]) | `unix` |
//! | `component.rs` | the [`component::Manifest`] `init` sends a component it starts | `init` |
//!
//! Records that cross an interface (like [`Entry`]) are plain structs with
//! `serde` derives: data between programs is structured, never text to parse.
//!
//! The crate is `no_std` (it needs `alloc`) and tested on the host
//! (`interfaces/tests/`); the transport (channels, the async client and
//! server loop) is in `abide-rt`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub use abide_datatable::Table;

pub mod component;
pub mod console;
pub mod counter;
pub mod echo;
pub mod kv;
pub mod log;
pub mod pci;
pub mod system;
pub mod unix;

pub use console::Console;
pub use counter::Counter;
pub use echo::Echo;
pub use kv::{Entry, KeyValue};
pub use log::{level, Log, LogFilter, LOG_QUERY_MAX_ROWS};
pub use pci::Pci;
pub use system::{ps_restarts, System};
pub use unix::Unix;
