//! The PCI bus service: the bus is a service that hands out device
//! capabilities.
//!
//! Why it exists: a driver for a PCI device needs that device's I/O ports,
//! device memory and interrupt, and nothing more. The configuration-space
//! ports would let it move any device's windows over another's, and the
//! hardware resource reaches every device; neither belongs in a driver. So
//! one component holds both (`uses pci-config from init`, `uses hardware
//! from init`), scans the bus once with `abide_pci`, and serves `pci`
//! ([`abide_interfaces::Pci`]) to the components routed to it:
//!
//! - `list`: every function, with its BARs, IRQ and claimant.
//! - `claim(address)`: makes, from the hardware resource, an I/O ports
//!   object per I/O BAR, a memory object per memory BAR and an interrupt
//!   object for the function's IRQ ([`abide_pci::claim::plan`] says
//!   which), and moves duplicates of them to the claimant in the reply,
//!   after a lease channel. What it cannot grant is listed in the reply
//!   with the reason, never silently dropped.
//! - `release(address)`: the claimant gives the function back.
//!
//! A function has at most one claim. It lasts while the claimant holds the
//! lease: when the lease's other end closes (the claimant closed it, or
//! ended: a restarted driver claims again like the first time) or the
//! claimant calls `release`, this service revokes the handles it made for
//! the claim, and every duplicate of them with them. A claim while another
//! is in force is refused with the holder's name.
//!
//! The function list and the claims are kept in the stash, so a restarted
//! instance neither probes the BARs again (which switches decoding off under
//! running drivers) nor forgets who holds what. The leases and the handles
//! to revoke die with an instance, though: a claim made before a restart
//! stays with its component until that component claims the function again
//! (it may) or releases it.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle, Rights};
use abide_interfaces::pci::{self, Claim, Grant};
use abide_interfaces::{Pci, Table};
use abide_ipc::{server, wire, RemoteError};
use abide_pci::claim::{self, Resource};
use abide_pci::{Address, Device, Mechanism1, PortIo, WriteRefused};
use abide_rt::component::Component;
use abide_rt::ipc::{next_request, read_message, Channel};
use abide_rt::{println, syscall};

abide_rt::entry!(main);

/// Port keys: client `i` has key `i`, the lease of function `j` has
/// `LEASE_KEYS + j`.
const LEASE_KEYS: u64 = 1 << 32;

/// The stash starts with this, then the payload's length (u32, little
/// endian), then the payload: the functions and the claims.
const STASH_MAGIC: [u8; 4] = *b"PCI2";
const STASH_HEADER: usize = 8;

/// What the stash keeps: the functions, and (function index, holder) per
/// claim.
type Saved = (Vec<Device>, Vec<(u32, String)>);

/// Configuration mechanism #1 through the `pci-config` ports. A failed
/// access reads as all ones, which enumeration takes for "no device".
struct ConfigPorts(Handle);

impl PortIo for ConfigPorts {
    fn inl(&mut self, port: u16) -> u32 {
        syscall::ioport_read(self.0, port, 4).unwrap_or(u32::MAX)
    }

    fn outl(&mut self, port: u16, value: u32) -> Result<(), WriteRefused> {
        match syscall::ioport_write(self.0, port, 4, value) {
            // The kernel's own device (the store's disk).
            Err(Error::AccessDenied) => Err(WriteRefused),
            // Anything else fails like a write to no device: silently.
            _ => Ok(()),
        }
    }
}

/// A claim in force.
struct Held {
    /// The claimant's component name (its route's client).
    holder: String,
    /// This service's end of the lease; `None` for a claim an earlier
    /// instance made.
    lease: Option<Handle>,
    /// The handles the claimant's are duplicates of: revoking them takes
    /// the claimant's away.
    roots: Vec<Handle>,
}

struct Bus {
    hardware: Handle,
    port: Handle,
    /// Each client's component name and route channel.
    clients: Vec<(String, Channel)>,
    functions: Vec<Device>,
    /// By function index.
    claims: Vec<Option<Held>>,
    stash: Option<&'static mut [u8]>,
}

fn main() -> i32 {
    abide_rt::exit_status("pci", run())
}

fn run() -> Result<(), Error> {
    let component = Component::get()?;
    let config = component
        .device("pci-config-ports")
        .ok_or(Error::BadHandle)?;
    let hardware = component.device("hardware").ok_or(Error::BadHandle)?;
    let stash = component.map_stash();
    let (functions, held) = match stash.as_deref().and_then(load) {
        Some(saved) => {
            println!(
                "pci: {} functions, as scanned before a restart",
                saved.0.len()
            );
            saved
        }
        None => {
            let functions = scan(config);
            for function in &functions {
                println!(
                    "pci: {} {:04x}:{:04x} {}",
                    function.address,
                    function.vendor_id,
                    function.device_id,
                    function.class_name()
                );
            }
            (functions, Vec::new())
        }
    };
    // Configuration space is not touched again.
    let _ = syscall::handle_close(config);
    let mut claims: Vec<Option<Held>> = functions.iter().map(|_| None).collect();
    for (index, holder) in held {
        if let Some(slot) = claims.get_mut(index as usize) {
            *slot = Some(Held {
                holder,
                lease: None,
                roots: Vec::new(),
            });
        }
    }
    let mut bus = Bus {
        hardware,
        port: syscall::port_create()?,
        clients: component.serves("pci"),
        functions,
        claims,
        stash,
    };
    bus.save();
    for index in 0..bus.clients.len() {
        bus.bind(index)?;
    }
    loop {
        let packet = syscall::port_wait(bus.port, syscall::FOREVER)?;
        match packet.key.checked_sub(LEASE_KEYS) {
            Some(index) => bus.check_lease(usize::try_from(index).unwrap_or(usize::MAX)),
            None => bus.serve(usize::try_from(packet.key).unwrap_or(usize::MAX))?,
        }
    }
}

/// Every function on the bus.
fn scan(config: Handle) -> Vec<Device> {
    abide_pci::enumerate(&mut Mechanism1::new(ConfigPorts(config)))
}

/// What an earlier instance saved, if the stash holds it.
fn load(stash: &[u8]) -> Option<Saved> {
    let header = stash.get(..STASH_HEADER)?;
    if header[..4] != STASH_MAGIC {
        return None;
    }
    let len = abide_le::u32_at(header, 4)? as usize;
    let payload = stash.get(STASH_HEADER..STASH_HEADER.checked_add(len)?)?;
    wire::decode_payload(payload).ok()
}

/// Closes handles that arrived where none are expected.
fn close_all(handles: &[Handle]) {
    for handle in handles {
        let _ = syscall::handle_close(*handle);
    }
}

/// True when the claimant's end of `lease` is gone (or the lease is not a
/// channel any more). Messages on a lease mean nothing and are dropped.
fn lease_ended(lease: Handle) -> bool {
    loop {
        match read_message(lease) {
            Ok(message) => close_all(&message.handles),
            Err(Error::ShouldWait) => return false,
            Err(_) => return true,
        }
    }
}

fn app(message: String) -> RemoteError {
    RemoteError::App(message)
}

impl Bus {
    fn bind(&self, index: usize) -> Result<(), Error> {
        let Some((_, channel)) = self.clients.get(index) else {
            return Ok(());
        };
        syscall::port_bind(self.port, channel.handle(), index as u64, Signals::READABLE)
    }

    /// Answers the requests queued by client `index`.
    fn serve(&mut self, index: usize) -> Result<(), Error> {
        let Some((name, channel)) = self.clients.get(index) else {
            return Ok(());
        };
        let (name, handle) = (name.clone(), channel.handle());
        // Requests carry no handles: `next_request` closes any that come.
        while let Some(request) = next_request(handle) {
            let (header, payload) = (request.header, request.payload());
            let reply = match Pci::Request::decode_args(header.ordinal, payload) {
                Ok(Pci::Request::list {}) => server::reply(&header, Ok(self.list())),
                Ok(Pci::Request::release { address }) => {
                    server::reply(&header, self.release_for(&name, &address))
                }
                Ok(Pci::Request::claim { address }) => match self.claim(&name, &address) {
                    Ok((claim, handles, function)) => {
                        let reply = server::reply(&header, Ok(claim));
                        if syscall::channel_write(handle, &reply, &handles).is_err() {
                            // The handles stayed here: the claim never
                            // reached its claimant.
                            close_all(&handles);
                            self.release(function);
                        }
                        continue;
                    }
                    Err(error) => server::error(&header, &error),
                },
                Err(error) => server::error(&header, &error),
            };
            let _ = syscall::channel_write(handle, &reply, &[]);
        }
        self.bind(index)
    }

    /// Ends claims whose claimant let go of the lease.
    fn reap(&mut self) {
        for index in 0..self.claims.len() {
            self.check_lease(index);
        }
    }

    /// Ends the claim on function `index` if its lease has ended.
    fn check_lease(&mut self, index: usize) {
        let Some(Some(held)) = self.claims.get(index) else {
            return;
        };
        if held.lease.is_some_and(lease_ended) {
            self.release(index);
        }
    }

    fn list(&mut self) -> Table {
        self.reap();
        let records: Vec<_> = self
            .functions
            .iter()
            .zip(&self.claims)
            .map(|(function, held)| pci::record(function, held.as_ref().map(|h| h.holder.as_str())))
            .collect();
        if records.is_empty() {
            return Table::new(pci::LIST_COLUMNS);
        }
        Table::from_records(records).unwrap_or_else(|_| Table::new(pci::LIST_COLUMNS))
    }

    /// The index of the function at `address`.
    fn find(&self, address: &str) -> Result<usize, RemoteError> {
        let address = Address::parse(address).map_err(app)?;
        self.functions
            .iter()
            .position(|f| f.address == address)
            .ok_or_else(|| app(format!("no PCI function at {address}; `lspci` lists them")))
    }

    /// Claims the function at `address` for client `holder`: the reply,
    /// the handles to move with it, and the function's index.
    fn claim(
        &mut self,
        holder: &str,
        address: &str,
    ) -> Result<(Claim, Vec<Handle>, usize), RemoteError> {
        let index = self.find(address)?;
        let address = format!("{}", self.functions[index].address);
        if self.functions[index].kernel {
            return Err(app(format!(
                "{address} is the kernel's (the persistent store's disk): no component may claim it"
            )));
        }
        self.check_lease(index);
        if let Some(Some(held)) = self.claims.get(index) {
            match held.lease {
                Some(_) => return Err(app(format!("{address} is claimed by {}", held.holder))),
                None if held.holder != holder => {
                    return Err(app(format!(
                        "{address} is claimed by {} (since before the PCI service restarted)",
                        held.holder
                    )))
                }
                // Its own claim from before a restart: made again below.
                None => {}
            }
            self.release(index);
        }
        let others: Vec<Device> = self
            .functions
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, function)| function.clone())
            .collect();
        let (plan, mut withheld) = claim::plan(&self.functions[index], &others);
        let (lease, lease_for_claimant) = syscall::channel_create()?;
        let mut grants = alloc::vec![Grant::Lease];
        let mut handles = alloc::vec![lease_for_claimant];
        let mut roots = Vec::new();
        for resource in plan {
            match self.make(&resource) {
                Ok((root, copy)) => {
                    grants.push(Grant::Resource(resource));
                    handles.push(copy);
                    roots.push(root);
                }
                Err(why) => withheld.push(why),
            }
        }
        let key = LEASE_KEYS + index as u64;
        let _ = syscall::port_bind(self.port, lease, key, Signals::PEER_CLOSED);
        if let Some(slot) = self.claims.get_mut(index) {
            *slot = Some(Held {
                holder: String::from(holder),
                lease: Some(lease),
                roots,
            });
        }
        self.save();
        println!("pci: {address} claimed by {holder}");
        let claim = Claim {
            address,
            grants,
            withheld,
        };
        Ok((claim, handles, index))
    }

    /// Makes the object that holds `resource`: the handle kept here and
    /// the duplicate for the claimant; or why the kernel refused.
    fn make(&self, resource: &Resource) -> Result<(Handle, Handle), String> {
        let hardware = self.hardware;
        let root = match *resource {
            Resource::Io { bar, port, count } => syscall::ioports_create(hardware, port, count)
                .map_err(|error| {
                    format!("BAR {bar}: the kernel refused ports {port:#x}+{count:#x}: {error}")
                }),
            Resource::Memory { bar, base, len, .. } => syscall::mmio_create(hardware, base, len)
                .map_err(|error| {
                    format!("BAR {bar}: the kernel refused memory {base:#x}+{len:#x}: {error}")
                }),
            Resource::Interrupt { irq } => {
                syscall::interrupt_create(hardware, irq).map_err(|error| match error {
                    Error::Busy => format!("IRQ {irq}: another driver owns the line"),
                    Error::InvalidArgument => format!("IRQ {irq}: the kernel keeps this line"),
                    other => format!("IRQ {irq}: {other}"),
                })
            }
        }?;
        match syscall::handle_duplicate(root, Rights::ALL) {
            Ok(copy) => Ok((root, copy)),
            Err(error) => {
                let _ = syscall::handle_close(root);
                Err(format!("{}: {error}", resource.describe()))
            }
        }
    }

    /// `release(address)` from client `holder`.
    fn release_for(&mut self, holder: &str, address: &str) -> Result<String, RemoteError> {
        let index = self.find(address)?;
        let address = self.functions[index].address;
        match self.claims.get(index) {
            Some(Some(held)) if held.holder == holder => {
                self.release(index);
                Ok(format!("released {address}"))
            }
            Some(Some(held)) => Err(app(format!(
                "{address} is claimed by {}, not by {holder}",
                held.holder
            ))),
            _ => Err(app(format!("{address} is not claimed"))),
        }
    }

    /// Ends the claim on function `index`: revokes what it granted.
    fn release(&mut self, index: usize) {
        let Some(held) = self.claims.get_mut(index).and_then(Option::take) else {
            return;
        };
        for root in held.roots {
            let _ = syscall::handle_revoke(root);
        }
        if let Some(lease) = held.lease {
            let _ = syscall::handle_close(lease);
        }
        if let Some(function) = self.functions.get(index) {
            println!("pci: {} released by {}", function.address, held.holder);
        }
        self.save();
    }

    /// Writes the functions and claims to the stash. The magic goes last,
    /// so an instance that dies halfway leaves no half-written state (its
    /// successor scans again and knows no claims).
    fn save(&mut self) {
        let Some(stash) = self
            .stash
            .as_deref_mut()
            .filter(|s| s.len() >= STASH_HEADER)
        else {
            return;
        };
        let claims: Vec<(u32, String)> = self
            .claims
            .iter()
            .enumerate()
            .filter_map(|(index, held)| Some((index as u32, held.as_ref()?.holder.clone())))
            .collect();
        let Ok(payload) = wire::encode_payload(&(&self.functions, claims)) else {
            return;
        };
        stash[..4].fill(0);
        let Some(room) = stash.get_mut(STASH_HEADER..STASH_HEADER + payload.len()) else {
            println!("pci: the state does not fit the stash; a restart will scan again");
            return;
        };
        room.copy_from_slice(&payload);
        abide_le::put_u32(stash, 4, payload.len() as u32);
        stash[..4].copy_from_slice(&STASH_MAGIC);
    }
}
