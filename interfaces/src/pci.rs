//! The PCI bus interface: the messages of the bus service
//! (`user/drivers/pci`): its listing's columns and rows, and a claim's
//! reply, whose handles pair with the grants it lists.
//!
//! The PCI rules these are made of (address notation, what a claim grants
//! and withholds, names and BAR notation) are `abide_pci`'s.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_datatable::{Record, Value};
use abide_pci::claim::Resource;
use abide_pci::{describe_bars, Device};
use serde::{Deserialize, Serialize};

use crate::Table;

abide_ipc::interface! {
    /// The PCI bus service: it enumerated the bus at start and hands each
    /// device's capabilities to the one component that claims it.
    pub interface Pci {
        /// One row per function ([`record`]): `address` (`bb:dd.f`),
        /// `vendor`, `device`, `class` (hexadecimal), `name`, `bars`,
        /// `irq`, `claimed` (the claimant's component name, or `-`).
        1 => fn list() -> Table;
        /// Claims the function at `address` (`bb:dd.f`, as
        /// `abide_pci::Address::parse` reads it). The reply message
        /// carries handles: the one [`Claim`] describes, in its order.
        /// Refused while another claim holds the function; see
        /// [`Grant::Lease`] for how long a claim lasts.
        2 => fn claim(address: String) -> Claim;
        /// Ends the caller's claim on `address`; the handles it gave are
        /// revoked.
        3 => fn release(address: String) -> String;
    }
}

/// What one handle of a [`Claim`] reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grant {
    /// A channel endpoint, always the first handle. The claim lasts
    /// while the claimant holds it: closing it (or ending: a restarted
    /// driver claims its device again like the first time) or calling
    /// `release` ends the claim, and the bus service then revokes every
    /// other handle it granted for the claim (duplicates included).
    Lease,
    /// A device resource: I/O ports, device memory or an interrupt, as
    /// `abide_pci::claim::plan` decided.
    Resource(Resource),
}

impl Grant {
    /// The kind of kernel object the handle names, as `caps` shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            Grant::Lease => "channel",
            Grant::Resource(resource) => resource.kind(),
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            Grant::Lease => String::from("lease: the claim lasts while it is held"),
            Grant::Resource(resource) => resource.describe(),
        }
    }
}

/// The reply to `Pci::claim`. The reply message carries exactly one
/// handle per entry of `grants`, in the same order ([`Claim::pair`]);
/// the first is always the [`Grant::Lease`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The function, `bb:dd.f`.
    pub address: String,
    /// What each handle of the reply is.
    pub grants: Vec<Grant>,
    /// What the function has that the claim does not grant, and why
    /// (a BAR without an address, one sharing a page with another
    /// device's, an IRQ the kernel keeps or another driver owns).
    pub withheld: Vec<String>,
}

impl Claim {
    /// Pairs each grant with the handle that came in its place.
    /// `Err` gives the handles back (to close) when their number is not
    /// the number of grants: the reply is not a claim's.
    pub fn pair<H>(&self, handles: Vec<H>) -> Result<Vec<(Grant, H)>, Vec<H>> {
        if handles.len() != self.grants.len() {
            return Err(handles);
        }
        Ok(self.grants.iter().copied().zip(handles).collect())
    }
}

/// The columns of `Pci::list`, in order.
pub const LIST_COLUMNS: &[&str] = &[
    "address", "vendor", "device", "class", "name", "bars", "irq", "claimed",
];

/// The `Pci::list` row of `device`, claimed by `holder` (`kernel` when the
/// kernel drives it).
pub fn record(device: &Device, holder: Option<&str>) -> Record {
    let irq = match device.irq() {
        Some(irq) => Value::Int(i64::from(irq)),
        None => Value::text("-"),
    };
    Record::new()
        .with("address", Value::Text(format!("{}", device.address)))
        .with("vendor", Value::Text(format!("{:04x}", device.vendor_id)))
        .with("device", Value::Text(format!("{:04x}", device.device_id)))
        .with(
            "class",
            Value::Text(format!("{:02x}{:02x}", device.class, device.subclass)),
        )
        .with("name", Value::text(device.class_name()))
        .with("bars", Value::Text(describe_bars(&device.bars)))
        .with("irq", irq)
        .with(
            "claimed",
            Value::text(holder.or(device.kernel.then_some("kernel")).unwrap_or("-")),
        )
}
