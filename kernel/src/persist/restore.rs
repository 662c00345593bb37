//! Resuming a system from the store: the image checked, objects rebuilt,
//! page tables rebuilt from the saved address spaces, pages brought back
//! (eagerly), threads made ready or waiting again, time continued.
//!
//! The state blob is decoded into `abide_image::Image` and checked against
//! the kernel's rules before anything changes: a checksum proves only that
//! the blob is the one written, so a crafted image with valid checksums is
//! refused by name ([`RestoreError::Refused`]) and the kernel is left as it
//! was, to start the system afresh without persistence. Every page is then
//! read and checked against its checksum before anything runs; a damaged
//! page stops the restore with a report naming it. Then processes that are
//! not persistent are ended, as if they crashed at the power cut: their
//! supervisor sees them end and starts them fresh, and what persistent
//! processes asked of them is answered `Restarted`.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::fmt;

use abide_image::ImageError;
use abide_store::{Disk, PageKey, Store, BLOCK_SIZE};

use super::image::{page_set_page, process_page, ImageIn, KindIn, PageSetImage, SpaceImage};
use super::pages;
use crate::arch::context::UserContext;
use crate::mm::{self, AddressSpace, PageFlags, PageSet};
use crate::object::channel::{ChannelEnd, Payload};
use crate::object::{foreign, process};
use crate::object::{hardware, Interrupt, IoPorts, Kernel, Memory, Object, ObjectId, Observer};
use crate::object::{Port, Timer};
use crate::process::account::{Account, Charge, Lingering};
use crate::process::{ExitReason, Limits, Process};
use crate::sched::{Thread, ThreadState};

/// The largest state blob a restore decodes: far beyond any system's
/// (every queue full would not reach it), well within the kernel heap.
const MAX_STATE_BYTES: u64 = 64 << 20;

/// Why a restore stopped.
#[derive(Debug)]
pub enum RestoreError {
    /// The image breaks the kernel's rules (or has another layout): it was
    /// refused before anything changed.
    Refused(ImageError),
    /// The state blob could not be read, or the image could not be rebuilt.
    Image(String),
    /// A page could not be read back intact.
    Page { key: PageKey, reason: String },
    /// Memory ran out while bringing pages back.
    OutOfMemory,
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RestoreError::Refused(why) => write!(f, "{why}"),
            RestoreError::Image(why) => write!(f, "the object state is damaged: {why}"),
            RestoreError::Page { key, reason } => write!(
                f,
                "page {:#x} of owner {:#x} is damaged: {reason}",
                key.index, key.owner
            ),
            RestoreError::OutOfMemory => f.write_str("out of memory bringing pages back"),
        }
    }
}

/// What a restore brought back.
pub struct Restored {
    /// Pages back in memory, by key, with their frames: they equal the
    /// committed generation until written again.
    pub saved: BTreeMap<PageKey, u64>,
    /// Processes ended because they are not persistent.
    pub ended: usize,
    /// The checkpoint period the system had.
    pub period_ms: u64,
}

/// Reads and checks the committed image; nothing changes on an error.
fn read_image<D: Disk>(store: &mut Store<D>) -> Result<ImageIn, RestoreError> {
    if store.state_len() > MAX_STATE_BYTES {
        return Err(RestoreError::Refused(ImageError::Counter(
            "the size of the object state",
        )));
    }
    let state = store
        .state()
        .map_err(|error| RestoreError::Image(error.to_string()))?;
    abide_image::decode_valid(&state, &super::image::rules()).map_err(RestoreError::Refused)
}

/// Rebuilds the system saved in `store`'s committed generation into the
/// empty `kernel`. On [`RestoreError::Refused`] the kernel is untouched.
pub fn restore<D: Disk>(
    kernel: &mut Kernel,
    store: &mut Store<D>,
) -> Result<Restored, RestoreError> {
    let image = read_image(store)?;
    let mut saved = BTreeMap::new();
    let sets = restore_page_sets(store, &image.page_sets, &mut saved)?;
    let mut interrupts = Vec::new();
    for object in image.objects {
        let restored = match object.kind {
            KindIn::Process(p) => {
                let space = match p.space {
                    Some(space) => Some(restore_space(store, object.id, space, &sets, &mut saved)?),
                    None => None,
                };
                Object::Process(Process {
                    id: object.id,
                    name: p.name,
                    table: p.table,
                    space,
                    threads: p.threads,
                    status: p.status,
                    limits: Limits {
                        priority: p.limits.priority,
                        memory_pages: p.limits.memory_pages,
                        handle_quota: usize::try_from(p.limits.handle_quota)
                            .map_err(|_| RestoreError::Image("handle quota".into()))?,
                    },
                    memory_pages: p.memory_pages,
                    account: Account {
                        parent: p.account.parent,
                        reserved: p.account.reserved,
                        kernel_bytes: p.account.kernel_bytes,
                    },
                    cpu_ns: p.cpu_ns,
                    persistent: p.persistent,
                    trap_channel: p.trap_channel,
                })
            }
            KindIn::Thread(t) => {
                let fpu: [u8; 512] = t
                    .fpu
                    .as_slice()
                    .try_into()
                    .map_err(|_| RestoreError::Image("FPU area size".into()))?;
                let mut context = UserContext::from_saved(&t.registers, &fpu)
                    .ok_or_else(|| RestoreError::Image("a thread's rip or rsp".into()))?;
                // Checked below USER_END by the image's rules.
                (context.fs_base, context.gs_base) = (t.fs_base, t.gs_base);
                Object::Thread(Thread {
                    process: t.process,
                    priority: t.priority.min((abide_sched::PRIORITIES - 1) as u8),
                    state: match t.blocked_until {
                        Some(deadline) => ThreadState::Blocked { deadline },
                        None => ThreadState::Ready,
                    },
                    context: alloc::boxed::Box::new(context),
                    trap_key: t.trap_key,
                })
            }
            KindIn::Channel(end) => Object::Channel(ChannelEnd {
                peer: end.peer,
                queue: end.queue.map_handles(|payload| Payload {
                    handles: payload.handles,
                    badge: payload.badge,
                    charge: charge(payload.charge),
                }),
            }),
            KindIn::Port(port) => Object::Port(Port::restored(
                port.packets,
                usize::try_from(port.armed)
                    .map_err(|_| RestoreError::Image("a port's observers".into()))?,
                port.waiters,
                port.charges.into_iter().map(charge).collect(),
            )),
            KindIn::Memory(memory) => Object::Memory(Memory {
                pages: sets
                    .get(&memory.page_set)
                    .cloned()
                    .ok_or_else(|| RestoreError::Image("a memory object's pages".into()))?,
                charged_to: memory.charged_to,
                charged_pages: memory.charged_pages,
            }),
            KindIn::Timer(timer) => Object::Timer(Timer::restored(timer.deadline, timer.fired)),
            KindIn::Interrupt(interrupt) => {
                interrupts.push((interrupt.irq, object.id));
                // The device was reset with the machine: nothing is pending.
                Object::Interrupt(Interrupt {
                    irq: interrupt.irq,
                    pending: false,
                })
            }
            KindIn::IoPorts(ports) => Object::IoPorts(IoPorts {
                base: ports.base,
                count: ports.count,
            }),
            KindIn::HardwareResource => Object::HardwareResource,
        };
        let handles = usize::try_from(object.handles)
            .map_err(|_| RestoreError::Image("a handle count".into()))?;
        kernel.objects.restore(object.id, restored, handles);
    }
    kernel.objects.continue_ids_after(image.last_object_id);
    PageSet::continue_ids_after(image.last_page_set_id);
    kernel.caps = image.caps;
    kernel.sched.run_queue = image.run_queue;
    if let Some(running) = image.running {
        if let Some(thread) = kernel.objects.thread(running) {
            let priority = thread.priority;
            kernel.sched.run_queue.push(running, priority);
        }
    }
    foreign::restored(kernel);
    kernel.observers = image
        .observers
        .into_iter()
        .map(|(object, observers)| {
            let observers = observers
                .into_iter()
                .map(|o| Observer {
                    port: o.port,
                    key: o.key,
                    signals: o.signals,
                    charge: charge(o.charge),
                })
                .collect();
            (object, observers)
        })
        .collect();
    kernel.sched.deadlines = image.deadlines;
    // Pages of closed objects still mapped stay charged until freed; those
    // whose set no restored mapping holds (or that were freed before the
    // checkpoint) are given back at the next settling (ending a process,
    // or a request that finds no room, settles).
    kernel.lingering = image
        .lingering
        .into_iter()
        .map(|entry| Lingering {
            pages: sets
                .get(&entry.page_set)
                .map_or(Weak::new(), Arc::downgrade),
            owner: entry.owner,
            count: entry.pages,
        })
        .collect();
    drop(sets);
    for (irq, id) in interrupts {
        if hardware::irq_allowed(u64::from(irq)) {
            hardware::own_irq(kernel, irq, id);
        }
    }
    crate::time::continue_from(image.now_ns);
    crate::console::continue_log_after(image.kernel_log_position);
    let ended = end_transient_processes(kernel);
    Ok(Restored {
        saved,
        ended,
        period_ms: image.period_ms,
    })
}
/// A charge as the image saved it (checked: its owner is a running
/// process or nobody, within the owner's kernel bytes).
fn charge(saved: abide_image::ChargeImage) -> Charge {
    Charge {
        owner: saved.owner,
        bytes: saved.bytes,
    }
}

/// Reads page `key` into a new frame.
fn read_into_new_frame<D: Disk>(store: &mut Store<D>, key: PageKey) -> Result<u64, RestoreError> {
    let frame = mm::alloc_user_frame().ok_or(RestoreError::OutOfMemory)?;
    let mut page = [0u8; BLOCK_SIZE];
    if let Err(error) = store.read_page(key, &mut page) {
        let _ = mm::free_frame(frame);
        return Err(RestoreError::Page {
            key,
            reason: error.to_string(),
        });
    }
    pages::fill(frame, &page);
    Ok(frame)
}

/// Brings back every page set: RAM pages from the store, device pages as
/// they were (if they still are not RAM).
fn restore_page_sets<D: Disk>(
    store: &mut Store<D>,
    images: &[PageSetImage],
    saved: &mut BTreeMap<PageKey, u64>,
) -> Result<BTreeMap<u64, Arc<PageSet>>, RestoreError> {
    let mut sets = BTreeMap::new();
    for image in images {
        let set = match &image.device {
            Some(frames) => {
                if frames.len() as u64 != image.pages
                    || !frames
                        .iter()
                        .all(|&phys| hardware::mmio_allowed(phys, abide_mm::PAGE_SIZE))
                {
                    return Err(RestoreError::Image("device memory that is now RAM".into()));
                }
                PageSet::restored_device(image.id, frames.clone())
            }
            None => {
                let mut frames = Vec::new();
                for index in 0..image.pages {
                    let key = page_set_page(image.id, index);
                    match read_into_new_frame(store, key) {
                        Ok(frame) => {
                            frames.push(frame);
                            saved.insert(key, frame);
                        }
                        Err(error) => {
                            // Dropping the partial set frees its frames.
                            drop(PageSet::restored(image.id, frames));
                            return Err(error);
                        }
                    }
                }
                PageSet::restored(image.id, frames)
            }
        };
        sets.insert(image.id, Arc::new(set));
    }
    Ok(sets)
}

/// Rebuilds process `id`'s address space: its own pages from the store and
/// its page-set mappings where they were.
fn restore_space<D: Disk>(
    store: &mut Store<D>,
    id: ObjectId,
    image: SpaceImage,
    sets: &BTreeMap<u64, Arc<PageSet>>,
    saved: &mut BTreeMap<PageKey, u64>,
) -> Result<AddressSpace, RestoreError> {
    let mut space = AddressSpace::new().map_err(|_| RestoreError::OutOfMemory)?;
    for (virt, flags) in image.pages {
        let key = process_page(id, virt);
        let frame = read_into_new_frame(store, key)?;
        let flags = PageFlags::from_bits_truncate(flags);
        if space.map_own(virt, frame, flags).is_err() {
            let _ = mm::free_frame(frame);
            return Err(RestoreError::Image(alloc::format!(
                "page {virt:#x} of process {id}"
            )));
        }
        saved.insert(key, frame);
    }
    for (base, set, writable) in image.shared {
        let set = sets
            .get(&set)
            .cloned()
            .ok_or_else(|| RestoreError::Image("a mapping of unknown pages".into()))?;
        space
            .map_shared_at(base, set, writable)
            .map_err(|_| RestoreError::Image(alloc::format!("a mapping at {base:#x}")))?;
    }
    space.set_next_shared(image.next_shared);
    Ok(space)
}

/// Ends every live process that is not persistent, as if it crashed at the
/// power cut; returns how many.
fn end_transient_processes(kernel: &mut Kernel) -> usize {
    let transient: Vec<ObjectId> = kernel
        .objects
        .iter()
        .filter_map(|(id, object, _)| match object {
            Object::Process(process) if process.is_alive() && !process.persistent => Some(id),
            _ => None,
        })
        .collect();
    for &id in &transient {
        process::end_process(kernel, id, ExitReason::Lost);
    }
    transient.len()
}
