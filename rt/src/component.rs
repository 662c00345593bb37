//! A component's view of what `init` gave it.
//!
//! `init` starts every component of the system configuration with a
//! bootstrap channel as startup handle 0, on which the first message is
//! the component's [`Manifest`]: its name, arguments and what each further
//! startup handle is ([`Grant`]). [`Component::get`] reads it once; a
//! program then asks for its routes by service name. A service without a
//! route is simply not there: there is nothing else to look it up in.

use alloc::string::String;
use alloc::vec::Vec;

use core::sync::atomic::{AtomicBool, Ordering};

use abide_abi::object::MAP_WRITE;
use abide_abi::syscall::{Error, Handle};
use abide_interfaces::component::{Grant, Manifest};
use abide_ipc::wire;

use crate::ipc::{read_message, Channel};
use crate::start::startup_handle;
use crate::syscall;

/// The manifest and the handles it describes.
#[derive(Debug)]
pub struct Component {
    manifest: Manifest,
    /// The channel to `init` (startup handle 0).
    bootstrap: Handle,
}

impl Component {
    /// Reads the manifest `init` queued on the bootstrap channel.
    /// `Err(BadHandle)` when the program was not started by `init` (no
    /// startup handle), `Err(InvalidArgument)` when the first message is
    /// not a manifest.
    pub fn get() -> Result<Component, Error> {
        let bootstrap = startup_handle(0).ok_or(Error::BadHandle)?;
        let message = read_message(bootstrap)?;
        let manifest: Manifest =
            wire::decode_payload(&message.bytes).map_err(|_| Error::InvalidArgument)?;
        let component = Component {
            manifest,
            bootstrap,
        };
        // The authority to start processes, if init granted it (`uses
        // spawn from init`, or the whole hardware resource): the spawn
        // calls pass it from now on.
        if let Some(authority) = component
            .device("spawn")
            .or_else(|| component.device("hardware"))
        {
            syscall::set_spawn_authority(authority);
        }
        Ok(component)
    }

    /// The component's name in the configuration.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Its arguments.
    pub fn args(&self) -> &[String] {
        &self.manifest.args
    }

    /// Everything `init` said.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The channel to `init`.
    pub fn bootstrap(&self) -> Handle {
        self.bootstrap
    }

    /// The channel of the route to `service`, if the configuration gives
    /// this component one.
    pub fn uses(&self, service: &str) -> Option<Channel> {
        self.handle(|grant| matches!(grant, Grant::Uses { service: s, .. } if s == service))
            .map(Channel::from_handle)
    }

    /// The channels of the routes to each of `services`, in their order;
    /// `None` if the configuration lacks any of them.
    pub fn uses_all<const N: usize>(&self, services: [&str; N]) -> Option<[Channel; N]> {
        let channels: Vec<Channel> = services
            .iter()
            .map(|service| self.uses(service))
            .collect::<Option<_>>()?;
        channels.try_into().ok()
    }

    /// The server ends of every route to `service`, with the client's name.
    pub fn serves(&self, service: &str) -> Vec<(String, Channel)> {
        self.manifest
            .grants
            .iter()
            .enumerate()
            .filter_map(|(index, grant)| match grant {
                Grant::Serves { service: s, client } if s == service => {
                    let handle = startup_handle(u32::try_from(index + 1).ok()?)?;
                    Some((client.clone(), Channel::from_handle(handle)))
                }
                _ => None,
            })
            .collect()
    }

    /// The memory object that outlives this component's restarts, and its size.
    pub fn stash(&self) -> Option<(Handle, u64)> {
        let bytes = self.manifest.grants.iter().find_map(|grant| match grant {
            Grant::Stash { bytes } => Some(*bytes),
            _ => None,
        })?;
        Some((
            self.handle(|grant| matches!(grant, Grant::Stash { .. }))?,
            bytes,
        ))
    }

    /// The stash mapped into this process, writable: the bytes of the
    /// previous instance. Maps it on the first call; later calls return
    /// `None`, so there is only ever one mutable view of it.
    pub fn map_stash(&self) -> Option<&'static mut [u8]> {
        static MAPPED: AtomicBool = AtomicBool::new(false);
        let (memory, bytes) = self.stash()?;
        if MAPPED.swap(true, Ordering::AcqRel) {
            return None;
        }
        let base = syscall::memory_map(memory, MAP_WRITE).ok()?;
        let len = usize::try_from(bytes).ok()?;
        // SAFETY: the kernel mapped the whole memory object at `base`,
        // writable, for the life of the process. `init` made the object
        // with the size its manifest states (`len`), and `MAPPED` makes
        // this the only reference to it in the process.
        Some(unsafe { core::slice::from_raw_parts_mut(base, len) })
    }

    /// The device `name` `init` made for this component.
    pub fn device(&self, name: &str) -> Option<Handle> {
        self.handle(|grant| matches!(grant, Grant::Device { name: n } if n == name))
    }

    fn handle(&self, matches: impl Fn(&Grant) -> bool) -> Option<Handle> {
        startup_handle(self.manifest.find(matches)?)
    }
}
