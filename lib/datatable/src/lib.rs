//! Structured data for the Abide shell.
//!
//! Shell commands that report on the system (`ps`, `mem`, `uptime`...)
//! produce a [`Table`] of typed [`Value`]s rather than preformatted text, so
//! the shell can filter, sort and narrow the output before printing it, and
//! so a size is compared as a size and not as a string:
//!
//! ```text
//! abide> ps | where restarts > 0 | sort-by mem desc | first 5 | select name mem
//! ```
//!
//! - [`Value`]: an integer, text, a size in bytes, a duration in nanoseconds
//!   or a boolean; sizes and durations print in human units (`3.4 MiB`,
//!   `1.234 s`), and values have a total order for sorting.
//! - [`Record`] and [`Table`]: rows of values under named columns, with
//!   [`Table::render`] printing them as aligned text.
//! - [`parse_pipeline`] and [`apply`]: the pipeline language (its stages are
//!   described in the `pipeline` module, the literals `where` accepts in the
//!   `literal` module).
//! - [`split_words`]: splitting a command's arguments, respecting `"quotes"`;
//!   [`split_sh_words`]: a line for `/bin/sh`, with its `'...'` and `"..."`.
//!
//! Everything is pure data and text: the crate is `no_std` (it needs
//! `alloc`), has no `unsafe`, and is unit-tested on the host. The types
//! derive serde's traits so that a component can send a table to the shell
//! in any serde format.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod apply;
mod literal;
mod pipeline;
mod table;
mod value;
mod words;

pub use apply::apply;
pub use literal::{convert, hint};
pub use pipeline::{parse_pipeline, Op, Pipeline, PipelineError, Stage, STAGES};
pub use table::{Record, Table, TableError};
pub use value::{format_bytes, format_duration, Kind, Value};
pub use words::{split_pipes, split_sh_words, split_words, ShWord, UnterminatedQuote};
