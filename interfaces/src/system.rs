//! The system interface: what `init` offers the shell, the system's state as
//! tables and its controls, and [`ps_restarts`] to read one figure of `ps`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::Table;

abide_ipc::interface! {
    /// What `init` offers the shell: the system's state and its controls.
    /// Every listing is a [`Table`] the shell can filter and sort.
    pub interface System {
        /// One row per component: `id`, `name`, `state`, `mem`, `handles`,
        /// `restarts`, `cpu`.
        1 => fn ps() -> Table;
        /// The supervision tree: `node` (indented), `kind`, `state`,
        /// `strategy`, `restarts`.
        2 => fn tree() -> Table;
        /// The handles of process `id`: `handle`, `kind`, `rights`, `badge`,
        /// `object`.
        3 => fn caps(id: u64) -> Table;
        /// Ends process `id` (it is restarted as its policy says).
        4 => fn kill(id: u64) -> String;
        /// Makes component `name` fault (fault injection).
        5 => fn crash(name: String) -> String;
        /// Stops and starts component `name`.
        6 => fn restart(name: String) -> String;
        /// The configuration in force, as text.
        7 => fn config_show() -> String;
        /// Replaces the configuration with the image's `system/<name>.conf`;
        /// one row per change: `component`, `change`.
        8 => fn config_apply(name: String) -> Table;
        /// Memory: `what`, `used`, `total`.
        9 => fn mem() -> Table;
        /// Time since boot, in nanoseconds.
        10 => fn uptime() -> u64;
        /// Stops every component and powers the machine off.
        11 => fn poweroff() -> ();
        /// The component names (for completion).
        12 => fn names() -> Vec<String>;
    }
}

/// The `restarts` figure of component `name` in a [`System::ps`] table.
pub fn ps_restarts(ps: &Table, name: &str) -> Option<i64> {
    let row = (0..ps.len()).find(|&row| {
        matches!(ps.get(row, "name"), Some(abide_datatable::Value::Text(text)) if text == name)
    })?;
    match ps.get(row, "restarts") {
        Some(abide_datatable::Value::Int(count)) => Some(*count),
        _ => None,
    }
}
