//! Taking a checkpoint's image: which pages to save (and which the CPU
//! dirtied since the last checkpoint), and the object state.
//!
//! Dirty pages are found from the page tables' dirty bits: every user
//! write sets the bit of the page it lands in (the kernel writes to user
//! memory only through user addresses, after the loader filled a new
//! process's pages — which no checkpoint has saved yet). Reading a bit
//! clears it; the caller flushes the TLB before user code runs again. A
//! mapping of a memory object that goes away (its process ended) hands its
//! dirty bits to the object's page set first, and the walk takes those too.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use abide_mm::paging::PageTables;
use abide_mm::PAGE_SIZE;
use abide_store::PageKey;

use super::image::{
    page_set_page, process_page, AccountImage, ImageOut, KindOut, LimitsImage, LingeringImage,
    MemoryImage, ObjectOut, PageSetImage, ProcessOut, SpaceImage, ThreadImage, IMAGE_FORMAT,
};

use crate::arch::context::UserContext;
use crate::mm::{AddressSpace, PageFlags, PageSet};
use crate::object::{Kernel, Object, ObjectId};
use crate::sched::ThreadState;

/// One page a checkpoint saves: its key, the frame holding it now,
/// whether it was written since the last checkpoint, and where it is
/// mapped (page tables and address), to protect it until it is saved.
pub struct PageToSave {
    pub key: PageKey,
    pub frame: u64,
    pub dirty: bool,
    pub mappings: Vec<(PageTables, u64)>,
    /// The page-table root of the space owning it (a process's own page).
    pub owner: Option<u64>,
}

/// What the pages walk found.
pub struct Pages {
    pub pages: Vec<PageToSave>,
    pub page_sets: Vec<PageSetImage>,
    /// The RAM page sets, kept alive until their pages are written.
    pub sets: Vec<Arc<PageSet>>,
}

/// A page set's pages as the walk collects them: dirty bits and mappings.
struct SetPages {
    set: Arc<PageSet>,
    dirty: Vec<bool>,
    mappings: Vec<(PageTables, u64)>,
}

/// Walks every address space and memory object: the pages to save, with
/// their dirty bits taken (and cleared), and the page sets to describe.
/// A process that is not persistent keeps no pages of its own in the
/// store, but the page sets it maps do (a driver's stash outlives it).
pub fn collect_pages(kernel: &mut Kernel) -> Pages {
    let mut pages = Vec::new();
    let mut sets: BTreeMap<u64, SetPages> = BTreeMap::new();
    let processes: Vec<ObjectId> = kernel
        .objects
        .iter()
        .filter(|(_, object, _)| matches!(object, Object::Process(_)))
        .map(|(id, _, _)| id)
        .collect();
    for id in processes {
        let Some(process) = kernel.objects.process_mut(id) else {
            continue;
        };
        let persistent = process.persistent;
        let Some(space) = process.space.as_mut() else {
            continue;
        };
        let tables = space.page_tables();
        if persistent {
            let own: Vec<(u64, u64)> = space.own_pages().to_vec();
            for (virt, frame) in own {
                let dirty = space.take_dirty(virt);
                pages.push(PageToSave {
                    key: process_page(id, virt),
                    frame,
                    dirty,
                    mappings: alloc::vec![(tables, virt)],
                    owner: Some(tables.root()),
                });
            }
        }
        let shared: Vec<(u64, Arc<PageSet>)> = space.shared_mappings().to_vec();
        for (base, set) in shared {
            let count = set.frames().len();
            let entry = sets.entry(set.id()).or_insert_with(|| SetPages {
                set: set.clone(),
                dirty: alloc::vec![false; count],
                mappings: Vec::new(),
            });
            if set.is_device() {
                continue;
            }
            entry.mappings.push((tables, base));
            for (index, mark) in entry.dirty.iter_mut().enumerate() {
                if space.take_dirty(base + index as u64 * PAGE_SIZE) {
                    *mark = true;
                }
            }
        }
    }
    for (_, object, _) in kernel.objects.iter() {
        if let Object::Memory(memory) = object {
            let count = memory.pages.frames().len();
            sets.entry(memory.pages.id()).or_insert_with(|| SetPages {
                set: memory.pages.clone(),
                dirty: alloc::vec![false; count],
                mappings: Vec::new(),
            });
        }
    }
    let mut page_sets = Vec::with_capacity(sets.len());
    let mut held = Vec::new();
    for (id, entry) in sets {
        let SetPages {
            set,
            mut dirty,
            mappings,
        } = entry;
        let device = set.is_device().then(|| set.frames().to_vec());
        if device.is_none() {
            // Writes through mappings that are gone since the last
            // checkpoint left their mark on the set instead.
            set.take_dirty(&mut dirty);
            for (index, (&frame, &dirty)) in set.frames().iter().zip(&dirty).enumerate() {
                let offset = index as u64 * PAGE_SIZE;
                pages.push(PageToSave {
                    key: page_set_page(id, index as u64),
                    frame,
                    dirty,
                    mappings: mappings
                        .iter()
                        .map(|&(tables, base)| (tables, base + offset))
                        .collect(),
                    owner: None,
                });
            }
            held.push(set.clone());
        }
        page_sets.push(PageSetImage {
            id,
            pages: set.frames().len() as u64,
            device,
        });
    }
    Pages {
        pages,
        page_sets,
        sets: held,
    }
}

/// Encodes the object state. `running` is the thread that was on the CPU
/// with its live registers (its saved context is stale).
pub fn encode_image(
    kernel: &Kernel,
    page_sets: Vec<PageSetImage>,
    running: Option<(ObjectId, &UserContext)>,
    now_ns: u64,
    period_ms: u64,
) -> Result<Vec<u8>, postcard::Error> {
    let mut objects = Vec::new();
    for (id, object, handles) in kernel.objects.iter() {
        let kind = match object {
            Object::Process(process) => KindOut::Process(ProcessOut {
                name: &process.name,
                table: process.table,
                threads: &process.threads,
                status: process.status,
                limits: LimitsImage {
                    priority: process.limits.priority,
                    memory_pages: process.limits.memory_pages,
                    handle_quota: process.limits.handle_quota as u64,
                },
                memory_pages: process.memory_pages,
                account: AccountImage {
                    parent: process.account.parent,
                    reserved: process.account.reserved,
                    kernel_bytes: process.account.kernel_bytes,
                },
                cpu_ns: process.cpu_ns,
                persistent: process.persistent,
                space: process
                    .space
                    .as_ref()
                    .filter(|_| process.persistent)
                    .map(space_image),
                trap_channel: process.trap_channel,
            }),
            Object::Thread(thread) => {
                let context = match running {
                    Some((running_id, live)) if running_id == id => live,
                    _ => &*thread.context,
                };
                // A thread stopped in a trap is saved as it is, in no
                // queue: the restore keeps it stopped, for its handler's
                // answer (`object::foreign::restored`).
                let registers = context.saved_registers();
                KindOut::Thread(ThreadImage {
                    process: thread.process,
                    priority: thread.priority,
                    blocked_until: match thread.state {
                        ThreadState::Blocked { deadline } => Some(deadline),
                        ThreadState::Ready | ThreadState::Running | ThreadState::Stopped => None,
                    },
                    registers,
                    fpu: context.fpu.0.to_vec(),
                    fs_base: context.fs_base,
                    gs_base: context.gs_base,
                    trap_key: thread.trap_key,
                })
            }
            Object::Channel(end) => KindOut::Channel(end),
            Object::Port(port) => KindOut::Port(port),
            Object::Memory(memory) => KindOut::Memory(MemoryImage {
                page_set: memory.pages.id(),
                charged_to: memory.charged_to,
                charged_pages: memory.charged_pages,
            }),
            Object::Timer(timer) => KindOut::Timer(timer),
            Object::Interrupt(interrupt) => KindOut::Interrupt(interrupt),
            Object::IoPorts(ports) => KindOut::IoPorts(ports),
            Object::HardwareResource => KindOut::HardwareResource,
        };
        objects.push(ObjectOut {
            id,
            handles: handles as u64,
            kind,
        });
    }
    let image = ImageOut {
        format: IMAGE_FORMAT,
        now_ns,
        last_object_id: kernel.objects.last_id(),
        last_page_set_id: PageSet::last_id(),
        kernel_log_position: crate::console::log_position(),
        period_ms,
        objects,
        page_sets,
        caps: &kernel.caps,
        run_queue: &kernel.sched.run_queue,
        running: running.map(|(id, _)| id),
        observers: &kernel.observers,
        deadlines: &kernel.sched.deadlines,
        lingering: kernel
            .lingering
            .iter()
            .map(|entry| LingeringImage {
                // 0: freed, the charge not yet given back.
                page_set: entry.pages.upgrade().map_or(0, |set| set.id()),
                owner: entry.owner,
                pages: entry.count,
            })
            .collect(),
    };
    postcard::to_allocvec(&image)
}

/// An address space as the image keeps it.
/// A copy-on-write page is saved writable: every process's pages are
/// saved on their own (a frame shared copy-on-write once per process
/// mapping it) and come back in frames of their own.
fn space_image(space: &AddressSpace) -> SpaceImage {
    let flags = |virt: u64| space.page_flags(virt).unwrap_or(PageFlags::empty());
    let saved = |virt: u64| {
        let flags = flags(virt);
        if flags.contains(PageFlags::COPY_ON_WRITE) {
            (flags - PageFlags::COPY_ON_WRITE) | PageFlags::WRITABLE
        } else {
            flags
        }
    };
    SpaceImage {
        pages: space
            .own_pages()
            .iter()
            .map(|&(virt, _)| (virt, saved(virt).bits()))
            .collect(),
        shared: space
            .shared_mappings()
            .iter()
            .map(|(base, set)| (*base, set.id(), flags(*base).contains(PageFlags::WRITABLE)))
            .collect(),
        next_shared: space.next_shared(),
    }
}
