//! Ports: where a thread waits for many objects at once.
//!
//! `port_bind` arms a one-shot observer on an object: as soon as the object
//! asserts one of the watched signals (at once, if it already does), a packet
//! with the caller's key is queued on the port and the observer is gone. A
//! thread in `port_wait` sleeps until a packet or its deadline arrives, and
//! then runs its system call again from the start: a wait is never lost if
//! it is interrupted, because re-issuing it is all a waiter ever does.
//!
//! A port holds at most [`PORT_CAPACITY`] packets and armed observers
//! together, so every armed observer has room for its packet: the room is
//! allocated when the observer is armed, so firing never allocates.
//!
//! Observers and their packets are kernel memory held for the process that
//! armed them, charged to it ([`OBSERVER_BYTES`] each) until the packet is
//! taken. An observer dies with the object it watches, with its port, and
//! with the process that armed it.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abide_abi::object::{Packet, Signals};
use abide_abi::syscall::Error;

use super::{account, Kernel, ObjectId, ObjectTable};
use crate::process::account::{Charge, OBSERVER_BYTES};
use crate::sched;
use crate::time;

/// Packets plus armed observers one port may hold.
pub const PORT_CAPACITY: usize = 1024;

/// A pending `port_bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Observer {
    pub port: ObjectId,
    pub key: u64,
    pub signals: Signals,
    /// Who is charged for it (saved with it).
    pub charge: Charge,
}

/// A port: queued packets and the threads waiting for them.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Port {
    packets: VecDeque<Packet>,
    /// Observers armed for this port (each has room reserved).
    armed: usize,
    /// Threads blocked in `port_wait` on this port.
    waiters: Vec<ObjectId>,
    /// Who is charged for the newest packets, oldest first (one for each
    /// packet; a checkpoint saves them, `abide_image` checks the count).
    charges: VecDeque<Charge>,
}

impl Port {
    /// A port as a checkpoint saved it (checked by `abide_image`: within
    /// [`PORT_CAPACITY`], `armed` equal to its observers, one charge for
    /// each packet).
    pub fn restored(
        packets: VecDeque<Packet>,
        armed: usize,
        waiters: Vec<ObjectId>,
        charges: VecDeque<Charge>,
    ) -> Self {
        Port {
            packets,
            armed,
            waiters,
            charges,
        }
    }

    /// The oldest packet, left queued.
    pub fn front(&self) -> Option<&Packet> {
        self.packets.front()
    }

    /// Takes the oldest packet, with who was charged for it.
    pub fn pop(&mut self) -> Option<(Packet, Charge)> {
        let charged = self.charges.len() >= self.packets.len();
        let packet = self.packets.pop_front()?;
        let charge = if charged {
            self.charges.pop_front().unwrap_or_default()
        } else {
            Charge::default()
        };
        Some((packet, charge))
    }

    /// Makes room for one more packet (and its charge) beyond the queued
    /// ones and those armed observers will queue.
    fn reserve_packet(&mut self) -> Result<(), Error> {
        let wanted = self.armed + 1;
        self.packets
            .try_reserve(wanted)
            .and_then(|()| self.charges.try_reserve(wanted))
            .map_err(|_| Error::NoMemory)
    }

    /// Charges the packets charged to `from` to `to` instead; returns
    /// their bytes.
    pub fn recharge(&mut self, from: ObjectId, to: ObjectId) -> u64 {
        let mut bytes = 0u64;
        for charge in self.charges.iter_mut().filter(|c| c.owner == from) {
            charge.owner = to;
            bytes = bytes.saturating_add(charge.bytes);
        }
        bytes
    }

    /// Records a thread blocked in `port_wait`.
    pub fn add_waiter(&mut self, thread: ObjectId) {
        if !self.waiters.contains(&thread) {
            self.waiters.push(thread);
        }
    }
}

/// Arms an observer of `object` for `signals` on `port` for process
/// `owner` (charged for it), or queues the packet at once if the object
/// already asserts one of them.
pub fn bind(
    kernel: &mut Kernel,
    owner: ObjectId,
    port_id: ObjectId,
    object: ObjectId,
    key: u64,
    signals: Signals,
) -> Result<(), Error> {
    if signals == Signals::NONE || !Signals::ALL.contains(signals) {
        return Err(Error::InvalidArgument);
    }
    let current = kernel.signals(object).ok_or(Error::WrongType)?;
    let port = kernel.objects.port_mut(port_id).ok_or(Error::WrongType)?;
    if port.packets.len() + port.armed >= PORT_CAPACITY {
        return Err(Error::NoMemory);
    }
    port.reserve_packet()?;
    let charge = account::charge_bytes(kernel, owner, OBSERVER_BYTES)?;
    if current.intersects(signals) {
        queue(kernel, port_id, key, current, charge);
        return Ok(());
    }
    let list = kernel.observers.entry(object).or_default();
    if list.try_reserve(1).is_err() {
        if list.is_empty() {
            kernel.observers.remove(&object);
        }
        account::uncharge_bytes(kernel, charge);
        return Err(Error::NoMemory);
    }
    if let Some(port) = kernel.objects.port_mut(port_id) {
        port.armed += 1;
    }
    kernel.observers.entry(object).or_default().push(Observer {
        port: port_id,
        key,
        signals,
        charge,
    });
    Ok(())
}

/// Object `id`'s signals may have changed: fire the observers that now match.
pub fn notify(kernel: &mut Kernel, id: ObjectId) {
    let Some(current) = kernel.signals(id) else {
        return;
    };
    let Some(observers) = kernel.observers.get_mut(&id) else {
        return;
    };
    let mut fired = Vec::new();
    observers.retain(|observer| {
        let fires = current.intersects(observer.signals);
        if fires {
            fired.push(*observer);
        }
        !fires
    });
    if observers.is_empty() {
        kernel.observers.remove(&id);
    }
    for observer in fired {
        if let Some(port) = kernel.objects.port_mut(observer.port) {
            port.armed = port.armed.saturating_sub(1);
            // The observer's charge stays with its packet.
            queue(
                kernel,
                observer.port,
                observer.key,
                current,
                observer.charge,
            );
        } else {
            account::uncharge_bytes(kernel, observer.charge);
        }
    }
}

/// Object `id` is gone: its observers will never fire.
pub fn forget_observers(kernel: &mut Kernel, id: ObjectId) {
    for observer in kernel.observers.remove(&id).unwrap_or_default() {
        disarm(kernel, observer);
    }
}

/// Removes every observer `matches` accepts, wherever it watches, each
/// disarmed as it goes: nothing is allocated, so its port's armed count
/// and its owner's charge come back even with the kernel heap exhausted.
fn forget_where(kernel: &mut Kernel, matches: impl Fn(&Observer) -> bool) {
    let Kernel {
        observers, objects, ..
    } = kernel;
    observers.retain(|_, list| {
        list.retain(|observer| {
            let gone = matches(observer);
            if gone {
                disarm_in(objects, observer);
            }
            !gone
        });
        !list.is_empty()
    });
}

/// Process `id` ended: the observers it armed go with it.
pub fn forget_observers_of(kernel: &mut Kernel, id: ObjectId) {
    forget_where(kernel, |observer| observer.charge.owner == id);
}

/// An observer that will never fire: its port's room and its charge come
/// back.
fn disarm(kernel: &mut Kernel, observer: Observer) {
    disarm_in(&mut kernel.objects, &observer);
}

/// [`disarm`] on the object table alone (for [`forget_where`], which holds
/// the observers).
fn disarm_in(objects: &mut ObjectTable, observer: &Observer) {
    if let Some(port) = objects.port_mut(observer.port) {
        port.armed = port.armed.saturating_sub(1);
    }
    account::uncharge_bytes_in(objects, observer.charge);
}

/// Queues a packet on `port_id` (room is reserved) charged as `charge`, and
/// wakes its waiters.
fn queue(kernel: &mut Kernel, port_id: ObjectId, key: u64, signals: Signals, charge: Charge) {
    let Some(port) = kernel.objects.port_mut(port_id) else {
        account::uncharge_bytes(kernel, charge);
        return;
    };
    // Capacity was reserved when the observer was armed, so neither push
    // allocates (but after a restore); should the heap be exhausted, the
    // packet is dropped, never a panic.
    if port.packets.try_reserve(1).is_err() || port.charges.try_reserve(1).is_err() {
        account::uncharge_bytes(kernel, charge);
        return;
    }
    port.packets.push_back(Packet {
        key,
        signals,
        timestamp_ns: time::now_ns(),
        ..Packet::default()
    });
    port.charges.push_back(charge);
    let waiters = core::mem::take(&mut port.waiters);
    for thread in waiters {
        sched::wake(kernel, thread);
    }
}

/// The last handle to a port is gone: its waiters run again (and find the
/// handle invalid).
pub fn close(kernel: &mut Kernel, id: ObjectId, port: Port) {
    for thread in port.waiters {
        sched::wake(kernel, thread);
    }
    for charge in port.charges {
        account::uncharge_bytes(kernel, charge);
    }
    forget_where(kernel, |observer| observer.port == id);
}
