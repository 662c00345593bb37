//! The counter interface: the persistent demo's count, which goes on where
//! it was after the system is restored.

abide_ipc::interface! {
    /// A counter that counts on its own: the persistent demo
    /// (`user/services/counter`) adds one every 10 ms, in ordinary memory,
    /// so the count goes on where it was after the system is restored.
    pub interface Counter {
        /// The count now.
        1 => fn get() -> u64;
    }
}
