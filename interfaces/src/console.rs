//! The console interface: text in and out, served by the serial and VGA
//! drivers.

use alloc::vec::Vec;

abide_ipc::interface! {
    /// A text console: the serial driver serves it.
    pub interface Console {
        /// Writes `bytes` (the console turns `\n` into `\r\n`).
        1 => fn write(bytes: Vec<u8>) -> ();
        /// Up to `max` received bytes, waiting until there is at least one.
        2 => fn read(max: u32) -> Vec<u8>;
    }
}
