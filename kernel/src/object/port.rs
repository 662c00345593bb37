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
//! together, so every armed observer has room for its packet.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use abide_abi::object::{Packet, Signals};
use abide_abi::syscall::Error;

use super::{Kernel, ObjectId};
use crate::process::ThreadState;
use crate::time;

/// Packets plus armed observers one port may hold.
pub const PORT_CAPACITY: usize = 1024;

/// A pending `port_bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Observer {
    pub port: ObjectId,
    pub key: u64,
    pub signals: Signals,
}

/// A port: queued packets and the threads waiting for them.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Port {
    packets: VecDeque<Packet>,
    /// Observers armed for this port (each has room reserved).
    armed: usize,
    /// Threads blocked in `port_wait` on this port.
    waiters: Vec<ObjectId>,
}

impl Port {
    /// A port as a checkpoint saved it (checked by `abide_image`: within
    /// [`PORT_CAPACITY`], `armed` equal to its observers).
    pub fn restored(packets: VecDeque<Packet>, armed: usize, waiters: Vec<ObjectId>) -> Self {
        Port {
            packets,
            armed,
            waiters,
        }
    }

    /// The oldest packet, left queued.
    pub fn front(&self) -> Option<&Packet> {
        self.packets.front()
    }

    /// Takes the oldest packet.
    pub fn pop(&mut self) -> Option<Packet> {
        self.packets.pop_front()
    }

    /// Records a thread blocked in `port_wait`.
    pub fn add_waiter(&mut self, thread: ObjectId) {
        if !self.waiters.contains(&thread) {
            self.waiters.push(thread);
        }
    }
}

/// Arms an observer of `object` for `signals` on `port`, or queues the packet
/// at once if the object already asserts one of them.
pub fn bind(
    kernel: &mut Kernel,
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
    if current.intersects(signals) {
        queue(kernel, port_id, key, current);
        return Ok(());
    }
    port.armed += 1;
    kernel.observers.entry(object).or_default().push(Observer {
        port: port_id,
        key,
        signals,
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
            queue(kernel, observer.port, observer.key, current);
        }
    }
}

/// Object `id` is gone: its observers will never fire.
pub fn forget_observers(kernel: &mut Kernel, id: ObjectId) {
    for observer in kernel.observers.remove(&id).unwrap_or_default() {
        if let Some(port) = kernel.objects.port_mut(observer.port) {
            port.armed = port.armed.saturating_sub(1);
        }
    }
}

/// Queues a packet on `port_id` (room is reserved) and wakes its waiters.
fn queue(kernel: &mut Kernel, port_id: ObjectId, key: u64, signals: Signals) {
    let Some(port) = kernel.objects.port_mut(port_id) else {
        return;
    };
    port.packets.push_back(Packet {
        key,
        signals,
        timestamp_ns: time::now_ns(),
    });
    let waiters = core::mem::take(&mut port.waiters);
    for thread in waiters {
        wake(kernel, thread);
    }
}

/// The last handle to a port is gone: its waiters run again (and find the
/// handle invalid).
pub fn close(kernel: &mut Kernel, port: Port) {
    for thread in port.waiters {
        wake(kernel, thread);
    }
}

/// Makes a thread blocked in `port_wait` ready; it re-issues the call.
pub fn wake(kernel: &mut Kernel, thread_id: ObjectId) {
    let Some(thread) = kernel.objects.thread_mut(thread_id) else {
        return;
    };
    let ThreadState::Blocked { deadline } = thread.state else {
        return;
    };
    thread.state = ThreadState::Ready;
    let priority = thread.priority;
    kernel.deadlines.remove(&(deadline, thread_id));
    kernel.run_queue.push(thread_id, priority);
}
