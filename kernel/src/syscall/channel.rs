//! `channel_create`, `channel_write`, `channel_read`.
//!
//! Both directions are all or nothing. A write checks the sizes, the rights,
//! the room at the peer and the user buffers before the handles leave the
//! writer's table. A read copies the message out (and proves the handle
//! buffer writable) before it takes the message off the queue, so a bad
//! buffer costs the reader an error, never the message. A write that would
//! put an endpoint where only it could reach itself (its own queue, or a
//! longer loop of queues) is refused `InvalidArgument` before anything
//! moves: such an endpoint could never be read or closed again.

use abide_abi::object::{pack_pair, MessageInfo, MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES};
use abide_abi::record::Record;
use abide_abi::syscall::{Error, Rights};
use abide_objects::queue::ReadError;
use alloc::vec;
use alloc::vec::Vec;

use super::{caller_table, copy_handles_in, copy_in, handle_arg, handles_to_bytes};
use crate::arch::probe;
use crate::object::account;
use crate::object::channel::{self, Payload};
use crate::object::{self, port, Kernel};

pub fn create(kernel: &mut Kernel) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let (first, second) = channel::create(kernel, table)?;
    Ok(pack_pair(first.0, second.0))
}

pub fn write(
    kernel: &mut Kernel,
    channel: u64,
    bytes_ptr: u64,
    len: u64,
    handles_ptr: u64,
    count: u64,
) -> Result<u64, Error> {
    let table = caller_table(kernel)?;
    let channel = handle_arg(channel)?;
    let cap = kernel.caps.check(table, channel, Rights::WRITE)?;
    let (end_id, badge) = (cap.object, cap.badge);
    let end = kernel.objects.channel(end_id).ok_or(Error::WrongType)?;
    if len > MAX_MESSAGE_BYTES as u64 || count > MAX_MESSAGE_HANDLES as u64 {
        return Err(Error::InvalidArgument);
    }
    let peer_id = end.peer.ok_or(Error::PeerClosed)?;
    let peer = kernel.objects.channel(peer_id).ok_or(Error::PeerClosed)?;
    peer.queue.check_push(len as usize, count as usize)?;
    let bytes = copy_in(bytes_ptr, len, MAX_MESSAGE_BYTES as u64)?;
    let handles = copy_handles_in(handles_ptr, count, MAX_MESSAGE_HANDLES as u64)?;
    // A handle that names nothing is `take_for_transfer`'s to refuse.
    let mut sent = Vec::new();
    sent.try_reserve_exact(handles.len())
        .map_err(|_| Error::NoMemory)?;
    sent.extend(
        handles
            .iter()
            .filter_map(|&handle| kernel.caps.get(table, handle).ok().map(|cap| cap.object)),
    );
    channel::check_enclosure(kernel, end_id, peer_id, &sent)?;
    let writer = crate::object::process::current_process(kernel).ok_or(Error::BadHandle)?;
    let charge = account::charge_message(kernel, writer, len, count)?;
    let transit = match kernel
        .caps
        .take_for_transfer(table, &handles, Some(channel))
    {
        Ok(transit) => transit,
        Err(error) => {
            account::uncharge_bytes(kernel, charge);
            return Err(error);
        }
    };
    channel::deliver(
        kernel,
        peer_id,
        bytes,
        Payload {
            handles: transit,
            badge,
            charge,
        },
    )?;
    Ok(0)
}

/// `channel_read(channel, bytes, capacity, handles, capacity, info)`.
pub fn read(kernel: &mut Kernel, args: [u64; 6]) -> Result<u64, Error> {
    let [channel, bytes_ptr, byte_capacity, handles_ptr, handle_capacity, info_ptr] = args;
    let table = caller_table(kernel)?;
    let end_id = kernel.object_of(table, handle_arg(channel)?, Rights::READ)?;
    let end = kernel.objects.channel(end_id).ok_or(Error::WrongType)?;
    let capacity = |value: u64, max: usize| usize::try_from(value).unwrap_or(usize::MAX).min(max);
    let sizes = end.queue.check_pop(
        capacity(byte_capacity, MAX_MESSAGE_BYTES),
        capacity(handle_capacity, MAX_MESSAGE_HANDLES),
    );
    let badge = end.queue.peek().map_or(0, |message| message.handles.badge);
    let info = |bytes: usize, handles: usize| MessageInfo {
        bytes: bytes as u32,
        handles: handles as u32,
        badge,
    };
    let (bytes, handles) = match sizes {
        Ok(sizes) => sizes,
        Err(ReadError::TooSmall { bytes, handles }) => {
            write_info(info_ptr, &info(bytes, handles))?;
            return Err(Error::BufferTooSmall);
        }
        Err(error) => return Err(error.error()),
    };
    kernel.caps.check_room(table, handles)?;
    // Everything that can fail happens before the message leaves the queue.
    if let Some(message) = end.queue.peek() {
        probe::copy_to_user(bytes_ptr, &message.bytes)?;
    }
    probe::copy_to_user(handles_ptr, &vec![0u8; handles * 4])?;
    write_info(info_ptr, &info(bytes, handles))?;

    let message = kernel
        .objects
        .channel_mut(end_id)
        .and_then(|end| end.queue.pop_if_fits(bytes, handles).ok())
        .ok_or(Error::ShouldWait)?;
    account::uncharge_bytes(kernel, message.handles.charge);
    let installed = match kernel.caps.install(table, message.handles.handles) {
        Ok(installed) => installed,
        Err((error, transit)) => {
            let orphans = kernel.caps.discard(transit);
            object::release(kernel, orphans);
            return Err(error);
        }
    };
    object::release(kernel, installed.revoked);
    // The buffer was proven writable above and nothing ran since.
    probe::copy_to_user(handles_ptr, &handles_to_bytes(&installed.handles))?;
    // The writer may have room again.
    if let Some(peer) = kernel.objects.channel(end_id).and_then(|end| end.peer) {
        port::notify(kernel, peer);
    }
    Ok(bytes as u64)
}

/// Writes `info` to `ptr` unless it is 0 (the caller does not want it).
fn write_info(ptr: u64, info: &MessageInfo) -> Result<(), Error> {
    if ptr == 0 {
        return Ok(());
    }
    probe::copy_to_user(ptr, info.encode())
}
