//! The one table of kernel objects, and the kernel state around it.
//!
//! Every kernel object has a stable 64-bit id (never reused) and lives in
//! [`ObjectTable`], the single place a checkpoint will walk. Objects refer to
//! each other by id, not by pointer. All kernel state sits in [`Kernel`]
//! behind one lock; kernel code runs with interrupts off on one CPU, so the
//! lock is never contended today and marks where SMP will need care.
//!
//! Handles keep objects alive: the table counts, per object, the handles
//! naming it (in tables or in messages in flight). When the last one goes,
//! [`release`] retires the object the way its kind needs — a channel endpoint
//! closes (its peer sees `PEER_CLOSED`), an interrupt masks its line, a
//! running process runs on.

pub mod account;
pub mod channel;
pub mod foreign;
pub mod hardware;
pub mod memory;
pub mod port;
pub mod process;
pub mod timer;
pub mod traps;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use abide_abi::object::Signals;
use abide_abi::syscall::{Error, Handle, Rights};
use abide_objects::caps::{Capabilities, TableId};

use crate::process::account::Lingering;
use crate::process::Process;
use crate::sched::{self, Scheduler, Thread};
use crate::sync::IrqSpinLock;

pub use channel::ChannelEnd;
pub use hardware::{Interrupt, IoPorts};
pub use memory::Memory;
pub use port::{Observer, Port};
pub use timer::Timer;

pub use crate::ids::ObjectId;

/// Every kernel object.
pub enum Object {
    Process(Process),
    Thread(Thread),
    Channel(ChannelEnd),
    Port(Port),
    Memory(Memory),
    Timer(Timer),
    Interrupt(Interrupt),
    IoPorts(IoPorts),
    /// The authority over the machine's devices (IRQs, I/O ports, device
    /// memory), given to the programs the kernel starts.
    HardwareResource,
}

/// An object and the number of handles naming it.
struct Slot {
    object: Object,
    handles: usize,
}

/// The objects, by id.
#[derive(Default)]
pub struct ObjectTable {
    objects: BTreeMap<ObjectId, Slot>,
    next_id: ObjectId,
}

impl ObjectTable {
    /// Reserves a new id; `None` once every id was issued (ids are never
    /// reused, and a restore refuses an image whose ids come near the end).
    pub fn new_id(&mut self) -> Option<ObjectId> {
        self.next_id = self.next_id.checked_add(1)?;
        Some(self.next_id)
    }

    /// Adds `object` under `id` (from [`ObjectTable::new_id`]), with no handles.
    pub fn insert(&mut self, id: ObjectId, object: Object) {
        self.objects.insert(id, Slot { object, handles: 0 });
    }

    /// Every object with the number of handles naming it, by id (the
    /// checkpoint walks this).
    pub fn iter(&self) -> impl Iterator<Item = (ObjectId, &Object, usize)> + '_ {
        self.objects
            .iter()
            .map(|(id, slot)| (*id, &slot.object, slot.handles))
    }

    /// The last id issued.
    pub fn last_id(&self) -> ObjectId {
        self.next_id
    }

    /// Puts back an object a checkpoint saved, with its handle count, and
    /// continues issuing ids after it.
    pub fn restore(&mut self, id: ObjectId, object: Object, handles: usize) {
        self.objects.insert(id, Slot { object, handles });
        self.next_id = self.next_id.max(id);
    }

    /// Continues issuing ids after `last` (after a restore).
    pub fn continue_ids_after(&mut self, last: ObjectId) {
        self.next_id = self.next_id.max(last);
    }

    pub fn remove(&mut self, id: ObjectId) -> Option<Object> {
        self.objects.remove(&id).map(|slot| slot.object)
    }

    pub fn get(&self, id: ObjectId) -> Option<&Object> {
        self.objects.get(&id).map(|slot| &slot.object)
    }

    pub fn get_mut(&mut self, id: ObjectId) -> Option<&mut Object> {
        self.objects.get_mut(&id).map(|slot| &mut slot.object)
    }

    /// How many handles name `id`.
    pub fn handle_count(&self, id: ObjectId) -> usize {
        self.objects.get(&id).map_or(0, |slot| slot.handles)
    }

    /// A handle to `id` was created.
    fn add_handle(&mut self, id: ObjectId) {
        if let Some(slot) = self.objects.get_mut(&id) {
            slot.handles += 1;
        }
    }

    /// A handle to `id` went away; true if it was the last.
    fn drop_handle(&mut self, id: ObjectId) -> bool {
        match self.objects.get_mut(&id) {
            Some(slot) => {
                slot.handles = slot.handles.saturating_sub(1);
                slot.handles == 0
            }
            None => false,
        }
    }

    pub fn process(&self, id: ObjectId) -> Option<&Process> {
        match self.get(id) {
            Some(Object::Process(process)) => Some(process),
            _ => None,
        }
    }

    pub fn process_mut(&mut self, id: ObjectId) -> Option<&mut Process> {
        match self.get_mut(id) {
            Some(Object::Process(process)) => Some(process),
            _ => None,
        }
    }

    pub fn thread(&self, id: ObjectId) -> Option<&Thread> {
        match self.get(id) {
            Some(Object::Thread(thread)) => Some(thread),
            _ => None,
        }
    }

    pub fn thread_mut(&mut self, id: ObjectId) -> Option<&mut Thread> {
        match self.get_mut(id) {
            Some(Object::Thread(thread)) => Some(thread),
            _ => None,
        }
    }

    pub fn channel(&self, id: ObjectId) -> Option<&ChannelEnd> {
        match self.get(id) {
            Some(Object::Channel(end)) => Some(end),
            _ => None,
        }
    }

    pub fn channel_mut(&mut self, id: ObjectId) -> Option<&mut ChannelEnd> {
        match self.get_mut(id) {
            Some(Object::Channel(end)) => Some(end),
            _ => None,
        }
    }

    pub fn port_mut(&mut self, id: ObjectId) -> Option<&mut Port> {
        match self.get_mut(id) {
            Some(Object::Port(port)) => Some(port),
            _ => None,
        }
    }

    /// Number of processes that have not ended.
    pub fn live_process_count(&self) -> usize {
        self.objects
            .values()
            .filter(|slot| matches!(&slot.object, Object::Process(p) if p.is_alive()))
            .count()
    }
}

/// All kernel state.
#[derive(Default)]
pub struct Kernel {
    pub objects: ObjectTable,
    /// Every process's handle table, and what derives from what.
    pub caps: Capabilities<ObjectId>,
    /// The run queue, the thread on the CPU, the deadlines: `sched`'s.
    pub sched: Scheduler,
    /// Pending `port_bind`s, by the object they watch.
    pub observers: BTreeMap<ObjectId, Vec<Observer>>,
    /// The interrupt object owning each ISA IRQ line.
    pub irq_owners: [Option<ObjectId>; 16],
    /// Pages of closed memory objects still mapped, charged to their
    /// creators until freed.
    pub lingering: Vec<Lingering>,
    /// Foreign processes by the trap channel end they hold: (end,
    /// process). Derived from the process records (`object::foreign`), so
    /// a restore rebuilds it.
    pub trap_clients: BTreeSet<(ObjectId, ObjectId)>,
}

/// The scheduler works on its own part of the kernel state and on the
/// thread records in the table.
impl sched::Host for Kernel {
    type Threads = ObjectTable;

    fn parts(&mut self) -> (&mut Scheduler, &mut ObjectTable) {
        (&mut self.sched, &mut self.objects)
    }
}

/// The thread and process records the scheduler reaches.
impl sched::Threads for ObjectTable {
    fn thread_mut(&mut self, id: ObjectId) -> Option<&mut Thread> {
        ObjectTable::thread_mut(self, id)
    }

    fn remove_thread(&mut self, id: ObjectId) {
        self.remove(id);
    }

    fn live_process_count(&self) -> usize {
        ObjectTable::live_process_count(self)
    }

    fn charge_cpu_time(&mut self, process: ObjectId, ns: u64) {
        if let Some(process) = self.process_mut(process) {
            process.cpu_ns = process.cpu_ns.saturating_add(ns);
        }
    }

    fn activate_space(&self, process: ObjectId) {
        if let Some(space) = self
            .process(process)
            .and_then(|process| process.space.as_ref())
        {
            space.activate();
        }
    }
}

pub static KERNEL: IrqSpinLock<Option<Kernel>> = IrqSpinLock::new(None);

/// Runs `f` with the kernel state (created on first use).
pub fn with_kernel<R>(f: impl FnOnce(&mut Kernel) -> R) -> R {
    let mut guard = KERNEL.lock();
    f(guard.get_or_insert_with(Kernel::default))
}

impl Kernel {
    /// Adds `object` to the table and a handle to it with `rights` to
    /// `table`. Nothing stays if the handle does not fit.
    pub fn create(
        &mut self,
        table: TableId,
        object: Object,
        rights: Rights,
    ) -> Result<(ObjectId, Handle), Error> {
        self.caps.check_room(table, 1)?;
        let id = self.objects.new_id().ok_or(Error::NoMemory)?;
        self.objects.insert(id, object);
        match self.new_handle(table, id, rights) {
            Ok(handle) => Ok((id, handle)),
            Err(error) => {
                self.objects.remove(id);
                Err(error)
            }
        }
    }

    /// A new root handle to the existing object `id` in `table`.
    pub fn new_handle(
        &mut self,
        table: TableId,
        id: ObjectId,
        rights: Rights,
    ) -> Result<Handle, Error> {
        let handle = self.caps.insert(table, id, rights)?;
        self.objects.add_handle(id);
        Ok(handle)
    }

    /// Like `Capabilities::duplicate`, counting the new handle.
    pub fn duplicate(
        &mut self,
        table: TableId,
        handle: Handle,
        rights: Rights,
    ) -> Result<Handle, Error> {
        let new = self.caps.duplicate(table, handle, rights)?;
        self.count_new_handle(table, new);
        Ok(new)
    }

    /// Like `Capabilities::mint`, counting the new handle.
    pub fn mint(
        &mut self,
        table: TableId,
        handle: Handle,
        rights: Rights,
        badge: u64,
    ) -> Result<Handle, Error> {
        let new = self.caps.mint(table, handle, rights, badge)?;
        self.count_new_handle(table, new);
        Ok(new)
    }

    fn count_new_handle(&mut self, table: TableId, handle: Handle) {
        if let Ok(cap) = self.caps.get(table, handle) {
            let id = cap.object;
            self.objects.add_handle(id);
        }
    }

    /// The object `handle` names in `table` if the handle has `rights`.
    pub fn object_of(
        &self,
        table: TableId,
        handle: Handle,
        rights: Rights,
    ) -> Result<ObjectId, Error> {
        Ok(self.caps.check(table, handle, rights)?.object)
    }

    /// The signals object `id` asserts now; `None` for objects nothing can
    /// wait for.
    pub fn signals(&self, id: ObjectId) -> Option<Signals> {
        match self.objects.get(id)? {
            Object::Channel(end) => Some(channel::signals(self, end)),
            Object::Process(process) => Some(if process.is_alive() {
                Signals::NONE
            } else {
                Signals::TERMINATED
            }),
            Object::Timer(timer) => Some(timer.signals()),
            Object::Interrupt(interrupt) => Some(interrupt.signals()),
            _ => None,
        }
    }
}

/// Handles to `ids` went away (closed, revoked, their table or message
/// destroyed): retire every object whose last handle that was, and the
/// objects in their queues in turn.
pub fn release(kernel: &mut Kernel, ids: Vec<ObjectId>) {
    let mut work = ids;
    while let Some(id) = work.pop() {
        if kernel.objects.drop_handle(id) {
            retire(kernel, id, &mut work);
        }
    }
}

/// The last handle to `id` is gone. Handles inside messages that die with
/// it are added to `work`.
fn retire(kernel: &mut Kernel, id: ObjectId, work: &mut Vec<ObjectId>) {
    match kernel.objects.get(id) {
        // A process lives on without handles; it is removed when it ends.
        Some(Object::Process(process)) if process.is_alive() => return,
        Some(Object::Thread(_)) | None => return,
        _ => {}
    }
    let Some(object) = kernel.objects.remove(id) else {
        return;
    };
    port::forget_observers(kernel, id);
    match object {
        Object::Channel(end) => channel::close(kernel, end, work),
        Object::Port(port) => port::close(kernel, id, port),
        Object::Timer(timer) => timer::close(kernel, id, &timer),
        Object::Interrupt(interrupt) => hardware::close_interrupt(kernel, &interrupt),
        Object::Memory(memory) => memory::close(kernel, &memory),
        Object::Process(_) | Object::Thread(_) | Object::IoPorts(_) | Object::HardwareResource => {}
    }
}

/// Removes an ended process's object if no handle names it any more.
pub fn remove_if_unreferenced(kernel: &mut Kernel, id: ObjectId) {
    if kernel.objects.handle_count(id) == 0 {
        kernel.objects.remove(id);
    }
}
