//! What `init` tells a component it starts: the first message on the
//! component's bootstrap channel (startup handle 0).
//!
//! A component's authority is exactly the handles `init` passes it, and the
//! routes of the system configuration decide which. The [`Manifest`] names
//! them: `grants[i]` describes startup handle `i + 1`. The bootstrap
//! channel stays open for the component's life; `init` holds the other end.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The component's identity and the handles it got, in startup order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The component's name in the configuration.
    pub name: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// `grants[i]` describes startup handle `i + 1`.
    pub grants: Vec<Grant>,
}

/// One startup handle and why the component holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// A channel to `service`, served by component `from` (`uses`).
    Uses {
        /// The service.
        service: String,
        /// The component that serves it (or `init`).
        from: String,
    },
    /// The server's end of `client`'s channel to `service` (`provides`).
    /// `init` keeps it while the server restarts, so requests wait.
    Serves {
        /// The service.
        service: String,
        /// The component on the other end.
        client: String,
    },
    /// Memory that outlives the component's restarts (for state a new
    /// instance must find: a log's entries, a journal of requests in
    /// progress).
    Stash {
        /// Its size.
        bytes: u64,
    },
    /// A device `init` made for it from the hardware resource (`uses
    /// <device> from init`): I/O ports, an interrupt, device memory, the
    /// whole hardware resource (`hardware`), or the hardware resource with
    /// `WRITE` only (`checkpoint`: checkpoints on demand) or `SPAWN` only
    /// (`spawn`: starting processes).
    Device {
        /// `com1-ports`, `com1-irq`, `hardware`, `checkpoint`, `spawn`, ...
        name: String,
    },
}

impl Manifest {
    /// The startup-handle index (for `abide_rt::startup_handle`) of the
    /// first grant `matches` accepts.
    pub fn find(&self, matches: impl Fn(&Grant) -> bool) -> Option<u32> {
        self.grants
            .iter()
            .position(matches)
            .and_then(|index| u32::try_from(index + 1).ok())
    }
}

/// The id of the client component called `name`, as servers key what they
/// keep about their clients across their own restarts (the log's
/// deduplication, the drivers' noted requests): FNV-1a (32-bit) of the
/// name, never 0 (which their records use for "free").
pub fn client_id(name: &str) -> u32 {
    let hash = name.bytes().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash.max(1)
}
