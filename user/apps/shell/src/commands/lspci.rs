//! `lspci`: the PCI bus service's functions, and claims made from the
//! shell, which show what a claim hands out (the handles land in the
//! shell's table: `caps` lists them) and that a second claim is refused.
//!
//! - `lspci`: one row per function (a table: `lspci | where claimed ==
//!   shell`).
//! - `lspci claim ADDRESS`: claims the function; one row per handle the
//!   reply carried (handle, kind, what it grants) and per thing withheld.
//!   The shell keeps the handles, and so the claim.
//! - `lspci release ADDRESS`: closes the handles of the shell's claims on
//!   ADDRESS (closing the lease ends the claim) and tells the service, which
//!   also ends a claim the shell made before the service restarted.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use abide_abi::syscall::{Error, Handle};
use abide_datatable::{Table, Value};
use abide_interfaces::pci::Claim;
use abide_interfaces::Pci as Interface;
use abide_ipc::wire::Header;
use abide_ipc::{CallError, RemoteError};
use abide_pci::Address;
use abide_rt::ipc::{Channel, Client, Message};
use abide_rt::syscall;

use super::{call, Output};
use crate::Shell;

/// The route to the bus service and the claims the shell holds.
pub struct Pci {
    client: Client,
    held: RefCell<Vec<Held>>,
}

/// A claim the shell holds: the handles its reply carried, lease first.
struct Held {
    address: String,
    handles: Vec<Handle>,
}

impl Pci {
    /// The client of the `pci` route.
    pub fn new(channel: Channel) -> Pci {
        Pci {
            client: Client::new(channel),
            held: RefCell::new(Vec::new()),
        }
    }
}

const USAGE: &str = "lspci | lspci claim ADDRESS | lspci release ADDRESS";

/// Runs `lspci` with `words` (what follows the command's name).
pub(super) async fn command(shell: &Shell, words: &[&str]) -> Result<Output, String> {
    let pci = shell
        .pci
        .as_ref()
        .ok_or("no route to the PCI bus service")?;
    match words {
        [] => call(
            &pci.client,
            Interface::list::encode,
            Interface::list::decode_reply,
        )
        .await
        .map(Output::Table),
        ["claim", address] => pci.claim(address).await.map(Output::Table),
        ["release", address] => pci.release(address).await.map(Output::Text),
        _ => Err(format!("usage: {USAGE}")),
    }
}

impl Pci {
    async fn claim(&self, address: &str) -> Result<Table, String> {
        let txid = self.client.new_txid();
        let request =
            Interface::claim::encode(txid, address.to_string()).map_err(|e| e.to_string())?;
        let reply = call_with_handles(&self.client, txid, &request)
            .await
            .map_err(|error| format!("channel: {error}"))?;
        let claim: Claim = match Interface::claim::decode_reply(&reply.bytes, Some(txid)) {
            Ok(claim) => claim,
            Err(error) => {
                close_all(&reply.handles);
                return Err(match error {
                    CallError::Remote(RemoteError::App(text)) => text,
                    other => other.to_string(),
                });
            }
        };
        let pairs = claim.pair(reply.handles).map_err(|handles| {
            close_all(&handles);
            String::from("the reply's handles do not match what it says they are")
        })?;
        let mut table = Table::new(&["handle", "kind", "grant"]);
        for (grant, handle) in &pairs {
            let row = alloc::vec![
                Value::Int(i64::from(handle.0)),
                Value::text(grant.kind()),
                Value::Text(grant.describe()),
            ];
            let _ = table.push_row(row);
        }
        for why in &claim.withheld {
            let row = alloc::vec![Value::text("-"), Value::text("withheld"), Value::text(why)];
            let _ = table.push_row(row);
        }
        self.held.borrow_mut().push(Held {
            address: claim.address,
            handles: pairs.into_iter().map(|(_, handle)| handle).collect(),
        });
        Ok(table)
    }

    async fn release(&self, address: &str) -> Result<String, String> {
        let canonical = Address::parse(address)?.to_string();
        let closed = {
            let mut held = self.held.borrow_mut();
            let before = held.len();
            held.retain(|claim| {
                if claim.address != canonical {
                    return true;
                }
                close_all(&claim.handles);
                false
            });
            held.len() != before
        };
        // Closing the lease ended a claim in force; the service still needs
        // telling about a claim from before it restarted.
        let told = call(
            &self.client,
            |txid| Interface::release::encode(txid, canonical.clone()),
            Interface::release::decode_reply,
        )
        .await;
        match told {
            Err(_) if closed => Ok(format!("released {canonical}")),
            other => other,
        }
    }
}

/// Sends `request` (transaction `txid`) on `client`'s channel and returns
/// the whole reply, handles included.
///
/// [`Client::call`] closes the handles a reply carries, and `Pci::claim`'s
/// reply is made of them. The message is still the interface's: the bytes
/// decode with the generated `decode_reply`, and [`Claim::pair`] says what
/// each handle is. Replies to other transactions are dropped with their
/// handles (the shell makes one call at a time).
async fn call_with_handles(client: &Client, txid: u64, request: &[u8]) -> Result<Message, Error> {
    let channel = client.channel();
    channel.send(request, &[]).await?;
    loop {
        let message = channel.recv().await?;
        match Header::decode(&message.bytes) {
            Ok((header, _)) if header.txid == txid => return Ok(message),
            _ => close_all(&message.handles),
        }
    }
}

fn close_all(handles: &[Handle]) {
    for handle in handles {
        let _ = syscall::handle_close(*handle);
    }
}
