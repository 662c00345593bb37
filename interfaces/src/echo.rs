//! The echo interface: the smallest useful service, for tests and examples.

use alloc::string::String;

abide_ipc::interface! {
    /// The smallest useful service, for tests and examples.
    pub interface Echo {
        /// Returns `text` unchanged.
        1 => fn echo(text: String) -> String;
        /// Returns `a + b`; an overflow is an error.
        2 => fn add(a: u64, b: u64) -> u64;
    }
}
