//! [`Image::validate`]: every field of an image against the kernel's rules.
//!
//! The checks follow the image from the outside in: the layout version and
//! the counters, the ids of objects and page sets, the handle tables (with
//! the handles in transit in channel queues), each object against the
//! rules of the system calls that create and change it, the handle count
//! of every object, the memory accounting (parents, budgets set aside,
//! kernel memory charged), then the observers, deadlines and run queue
//! that name objects. The first fault found is the refusal.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use abide_abi::object::{ProcessState, Signals};
use abide_mm::paging::PageFlags;
use abide_mm::PAGE_SIZE;
use abide_objects::budget::UNLIMITED;
use abide_objects::caps::InTransit;

use crate::{
    ChannelImage, ChargeImage, Image, ImageError, KindImage, ObjectId, PageSetImage, ProcessImage,
    Rules, SpaceImage, ThreadImage, COUNTER_LIMIT, FPU_BYTES, IMAGE_FORMAT, RIP, RSP,
};

/// The page-table flags a user page may have: what the loader and the
/// fault handler set, and the bits the CPU sets. Cache modes, global and
/// huge pages, and the bits the kernel or the CPU reserves, never.
const USER_PAGE_FLAGS: PageFlags = PageFlags::PRESENT
    .union(PageFlags::WRITABLE)
    .union(PageFlags::USER)
    .union(PageFlags::ACCESSED)
    .union(PageFlags::DIRTY)
    .union(PageFlags::NO_EXECUTE);

/// The image's objects and page sets by id.
struct Index<'a> {
    objects: BTreeMap<ObjectId, &'a KindImage>,
    sets: BTreeMap<u64, &'a PageSetImage>,
    last_object_id: ObjectId,
}

impl<'a> Index<'a> {
    /// The object `names` (named by `object`) if it is of the kind `pick`
    /// accepts, else a [`ImageError::Reference`].
    fn expect<T>(
        &self,
        object: ObjectId,
        names: ObjectId,
        expected: &'static str,
        pick: impl FnOnce(&'a KindImage) -> Option<T>,
    ) -> Result<T, ImageError> {
        self.objects
            .get(&names)
            .and_then(|kind| pick(kind))
            .ok_or(ImageError::Reference {
                object,
                names,
                expected,
            })
    }

    /// Like [`Index::expect`] for the lists the kernel does not prune when
    /// an object goes (port waiters, observers, deadlines): a name of an
    /// object that is gone is stale and harmless — the kernel finds nothing
    /// under it, and ids are never reused — as long as it was issued.
    fn expect_or_gone(
        &self,
        object: ObjectId,
        names: ObjectId,
        expected: &'static str,
        pick: impl FnOnce(&'a KindImage) -> bool,
    ) -> Result<(), ImageError> {
        let fits = match self.objects.get(&names) {
            Some(kind) => pick(kind),
            None => names != 0 && names <= self.last_object_id,
        };
        if fits {
            Ok(())
        } else {
            Err(ImageError::Reference {
                object,
                names,
                expected,
            })
        }
    }

    fn thread(&self, object: ObjectId, names: ObjectId) -> Result<&'a ThreadImage, ImageError> {
        self.expect(object, names, "thread", |kind| match kind {
            KindImage::Thread(thread) => Some(thread),
            _ => None,
        })
    }
}

pub fn validate(image: &Image, rules: &Rules) -> Result<(), ImageError> {
    if image.format != IMAGE_FORMAT {
        return Err(ImageError::Format(image.format));
    }
    check_counters(image, rules)?;
    let index = index(image, rules)?;
    let transit: Vec<&InTransit<ObjectId>> = channels(image)
        .flat_map(|(_, end)| end.queue.messages().map(|m| &m.handles.handles))
        .collect();
    image.caps.validate(transit.iter().copied())?;
    check_objects(image, &index, rules)?;
    check_handle_counts(image, &index, &transit)?;
    check_accounts(image, &index, rules)?;
    check_waits(image, &index)
}

fn check_counters(image: &Image, rules: &Rules) -> Result<(), ImageError> {
    let counters = [
        (image.now_ns, "the clock"),
        (image.last_object_id, "the last object id"),
        (image.last_page_set_id, "the last page-set id"),
        (image.kernel_log_position, "the kernel log position"),
    ];
    for (value, what) in counters {
        if value >= COUNTER_LIMIT {
            return Err(ImageError::Counter(what));
        }
    }
    if image.period_ms > rules.max_period_ms {
        return Err(ImageError::Counter("the checkpoint period"));
    }
    Ok(())
}

fn index<'a>(image: &'a Image, rules: &Rules) -> Result<Index<'a>, ImageError> {
    let mut objects = BTreeMap::new();
    for object in &image.objects {
        if object.id == 0
            || object.id > image.last_object_id
            || objects.insert(object.id, &object.kind).is_some()
        {
            return Err(ImageError::ObjectId(object.id));
        }
    }
    let window_pages = (rules.shared.end.saturating_sub(rules.shared.start)) / PAGE_SIZE;
    let mut sets = BTreeMap::new();
    for set in &image.page_sets {
        if set.id == 0 || set.id > image.last_page_set_id || sets.insert(set.id, set).is_some() {
            return Err(ImageError::PageSetId(set.id));
        }
        if set.pages > window_pages {
            return Err(ImageError::PageSet(set.id));
        }
        if let Some(frames) = &set.device {
            let allowed = |&phys: &u64| phys % PAGE_SIZE == 0 && rules.hardware.mmio_allowed(phys);
            if frames.len() as u64 != set.pages || !frames.iter().all(allowed) {
                return Err(ImageError::PageSet(set.id));
            }
        }
    }
    Ok(Index {
        objects,
        sets,
        last_object_id: image.last_object_id,
    })
}

/// The channel endpoints of the image.
fn channels(image: &Image) -> impl Iterator<Item = (ObjectId, &ChannelImage)> + '_ {
    image
        .objects
        .iter()
        .filter_map(|object| match &object.kind {
            KindImage::Channel(end) => Some((object.id, end)),
            _ => None,
        })
}

fn check_objects(image: &Image, index: &Index, rules: &Rules) -> Result<(), ImageError> {
    let tables: BTreeSet<u64> = image.caps.tables().collect();
    let mut owned_tables = BTreeSet::new();
    let mut irqs = BTreeSet::new();
    let mut armed: BTreeMap<ObjectId, u64> = BTreeMap::new();
    for observers in image.observers.values() {
        for observer in observers {
            let count = armed.entry(observer.port).or_insert(0);
            *count = count.saturating_add(1);
        }
    }
    for object in &image.objects {
        let id = object.id;
        let field = |what| ImageError::Field { object: id, what };
        match &object.kind {
            KindImage::Process(process) => {
                if !owned_tables.insert(process.table) {
                    return Err(field("its handle table is another process's"));
                }
                check_process(id, process, &tables, index, rules)?;
            }
            KindImage::Thread(thread) => {
                let process =
                    index.expect(id, thread.process, "live process", |kind| match kind {
                        KindImage::Process(p) if p.status.state == ProcessState::Running => Some(p),
                        _ => None,
                    })?;
                if !process.threads.contains(&id) {
                    return Err(field("its process does not list it"));
                }
                if usize::from(thread.priority) >= abide_sched::PRIORITIES {
                    return Err(field("a priority beyond the levels"));
                }
                if thread.fpu.len() != FPU_BYTES {
                    return Err(field("an FPU area of the wrong size"));
                }
                if thread.registers[RIP] >= rules.user.end || thread.registers[RSP] > rules.user.end
                {
                    return Err(field("an instruction or stack pointer outside user space"));
                }
                if thread.fs_base >= rules.user.end || thread.gs_base >= rules.user.end {
                    return Err(field("a segment base outside user space"));
                }
                if thread.trap_key.is_some() != process.trap_channel.is_some() {
                    return Err(field("a trap key unlike its process's ABI"));
                }
            }
            KindImage::Channel(end) => {
                if let Some(peer) = end.peer {
                    index.expect(id, peer, "channel whose peer it is", |kind| match kind {
                        KindImage::Channel(other) if other.peer == Some(id) && peer != id => {
                            Some(())
                        }
                        _ => None,
                    })?;
                }
                end.queue
                    .validate(rules.queue_messages, rules.queue_bytes, |payload| {
                        payload.handles.len()
                    })
                    .map_err(|error| ImageError::Queue(id, error))?;
            }
            KindImage::Port(port) => {
                let bound = armed.get(&id).copied().unwrap_or(0);
                if port.armed != bound {
                    return Err(field("its armed count is not its observers'"));
                }
                let held = (port.packets.len() as u64).saturating_add(port.armed);
                if held > rules.port_capacity as u64 {
                    return Err(field("more packets and observers than a port holds"));
                }
                let mut waiters = BTreeSet::new();
                for &waiter in &port.waiters {
                    // A waiter whose process ended stays listed until the
                    // port wakes its waiters.
                    index.expect_or_gone(id, waiter, "thread", |kind| {
                        matches!(kind, KindImage::Thread(_))
                    })?;
                    if !waiters.insert(waiter) {
                        return Err(field("a waiter listed twice"));
                    }
                }
            }
            KindImage::Memory(memory) => {
                let set = index
                    .sets
                    .get(&memory.page_set)
                    .ok_or(field("unknown pages"))?;
                if memory.charged_pages > set.pages {
                    return Err(field("charged more pages than it has"));
                }
            }
            // Any deadline and state: as `timer_set` allows.
            KindImage::Timer(_) => {}
            KindImage::Interrupt(interrupt) => {
                if !rules.hardware.irq_allowed(u64::from(interrupt.irq)) {
                    return Err(field("an IRQ no driver may own"));
                }
                if !irqs.insert(interrupt.irq) {
                    return Err(field("an IRQ another interrupt owns"));
                }
            }
            KindImage::IoPorts(ports) => {
                let allowed = rules
                    .hardware
                    .ports_allowed(u64::from(ports.base), u64::from(ports.count));
                if !allowed {
                    return Err(field("I/O ports no driver may be granted"));
                }
            }
            KindImage::HardwareResource => {}
        }
    }
    Ok(())
}

fn check_process(
    id: ObjectId,
    process: &ProcessImage,
    tables: &BTreeSet<u64>,
    index: &Index,
    rules: &Rules,
) -> Result<(), ImageError> {
    let field = |what| ImageError::Field { object: id, what };
    if process.name.len() > rules.max_name {
        return Err(field("a name longer than a process may have"));
    }
    if usize::from(process.limits.priority) >= abide_sched::PRIORITIES {
        return Err(field("a priority beyond the levels"));
    }
    if usize::try_from(process.limits.handle_quota).is_err() {
        return Err(field("a handle quota beyond the address space"));
    }
    let alive = process.status.state == ProcessState::Running;
    if alive != tables.contains(&process.table) {
        return Err(field("a handle table that does not match its state"));
    }
    if !alive && (!process.threads.is_empty() || process.space.is_some()) {
        return Err(field("ended with threads or pages"));
    }
    if alive && process.persistent && process.space.is_none() && !process.threads.is_empty() {
        return Err(field("threads without an address space"));
    }
    let mut threads = BTreeSet::new();
    for &thread in &process.threads {
        let image = index.thread(id, thread)?;
        if image.process != id || !threads.insert(thread) {
            return Err(field("a thread that is not its own, or listed twice"));
        }
    }
    if let Some(space) = &process.space {
        // A foreign process's personality maps memory objects where its
        // program asks (`process_map_memory`); Abide's own programs get
        // them in the window.
        let window = match process.trap_channel {
            Some(_) => &rules.user,
            None => &rules.shared,
        };
        check_space(id, space, index, rules, window)?;
    }
    if let Some(channel) = process.trap_channel {
        if !alive {
            return Err(field("ended with a trap channel"));
        }
        index.expect(id, channel, "trap channel end", |kind| match kind {
            KindImage::Channel(_) => Some(()),
            _ => None,
        })?;
    }
    Ok(())
}

fn check_space(
    id: ObjectId,
    space: &SpaceImage,
    index: &Index,
    rules: &Rules,
    window: &core::ops::Range<u64>,
) -> Result<(), ImageError> {
    // The shared mappings: in the window, apart from one another.
    let mut mapped: BTreeMap<u64, u64> = BTreeMap::new();
    for &(base, set, _writable) in &space.shared {
        let bad = ImageError::Mapping { process: id, base };
        let pages = index.sets.get(&set).ok_or(bad.clone())?.pages;
        let end = pages
            .checked_mul(PAGE_SIZE)
            .and_then(|len| base.checked_add(len))
            .ok_or(bad.clone())?;
        if base % PAGE_SIZE != 0 || base < window.start || end > window.end {
            return Err(bad);
        }
        let before = mapped.range(..end).next_back();
        if before.is_some_and(|(_, &other_end)| other_end > base) {
            return Err(bad);
        }
        mapped.insert(base, end);
    }
    let in_mapping = |virt: u64| {
        mapped
            .range(..=virt)
            .next_back()
            .is_some_and(|(_, &end)| virt < end)
    };
    let mut pages = BTreeSet::new();
    for &(virt, flags) in &space.pages {
        let bad = ImageError::Page { process: id, virt };
        let Some(flags) = PageFlags::from_bits(flags) else {
            return Err(bad);
        };
        let end = virt.checked_add(PAGE_SIZE).ok_or(bad.clone())?;
        let user = virt % PAGE_SIZE == 0 && virt >= rules.user.start && end <= rules.user.end;
        let write_xor_execute =
            !flags.contains(PageFlags::WRITABLE) || flags.contains(PageFlags::NO_EXECUTE);
        if !user
            || !USER_PAGE_FLAGS.contains(flags)
            || !write_xor_execute
            || in_mapping(virt)
            || !pages.insert(virt)
        {
            return Err(bad);
        }
    }
    if space.next_shared < rules.shared.start || space.next_shared > rules.shared.end {
        return Err(ImageError::Field {
            object: id,
            what: "the next mapping address is outside the shared window",
        });
    }
    Ok(())
}

/// Every object's handle count equals the handles naming it, in tables and
/// in messages (handles revoked in transit still count until their
/// message is read); every handle names an object that exists.
fn check_handle_counts(
    image: &Image,
    index: &Index,
    transit: &[&InTransit<ObjectId>],
) -> Result<(), ImageError> {
    let mut found: BTreeMap<ObjectId, u64> = BTreeMap::new();
    let mut count = |object: ObjectId| -> Result<(), ImageError> {
        index.expect(0, object, "object", |_| Some(()))?;
        let n = found.entry(object).or_insert(0);
        *n = n.saturating_add(1);
        Ok(())
    };
    for table in image.caps.tables() {
        for (_, cap) in image.caps.handles(table) {
            count(cap.object)?;
        }
    }
    for message in transit {
        for object in message.objects() {
            count(*object)?;
        }
    }
    // A foreign process's reference to its trap channel counts as a handle.
    for object in &image.objects {
        if let KindImage::Process(ProcessImage {
            trap_channel: Some(channel),
            ..
        }) = &object.kind
        {
            count(*channel)?;
        }
    }
    for object in &image.objects {
        let named = found.get(&object.id).copied().unwrap_or(0);
        if object.handles != named {
            return Err(ImageError::HandleCount {
                object: object.id,
                saved: object.handles,
                found: named,
            });
        }
    }
    Ok(())
}

/// The memory accounting, as `process::account` keeps it: every charge
/// (of a queued message, an armed observer, a queued packet) is owned by a
/// running process or by nobody, and a running process is charged at
/// least the kernel bytes of its records and its charges (more would only
/// limit it sooner); a running process's parent is a
/// running process (or none: the kernel, or a parent that ended with no
/// heir) and the parents form no cycle; a budget set aside is the
/// process's own limit, and within a limited parent's limit and charge;
/// a limited process is charged no more than its limit; an ended process
/// holds no kernel memory; lingering pages are charged to a running
/// process (or nobody), within its charge, and name a page set that was
/// issued and holds at least as many RAM pages, or none (freed since). Sums are checked, never wrapped.
fn check_accounts(image: &Image, index: &Index, rules: &Rules) -> Result<(), ImageError> {
    let processes: BTreeMap<ObjectId, &ProcessImage> = image
        .objects
        .iter()
        .filter_map(|object| match &object.kind {
            KindImage::Process(process) => Some((object.id, process)),
            _ => None,
        })
        .collect();
    let running = |id: ObjectId| {
        processes
            .get(&id)
            .copied()
            .filter(|p| p.status.state == ProcessState::Running)
    };
    let overflow = |object| ImageError::Field {
        object,
        what: "charges whose sum overflows",
    };

    // The kernel bytes each owner's charges add up to.
    let mut owned: BTreeMap<ObjectId, u64> = BTreeMap::new();
    let mut charge = |object: ObjectId, charge: &ChargeImage| -> Result<(), ImageError> {
        if charge.owner != 0 && running(charge.owner).is_none() {
            return Err(ImageError::Reference {
                object,
                names: charge.owner,
                expected: "running process to charge",
            });
        }
        let sum = owned.entry(charge.owner).or_insert(0);
        *sum = sum.checked_add(charge.bytes).ok_or(overflow(object))?;
        Ok(())
    };
    for (id, end) in channels(image) {
        for message in end.queue.messages() {
            charge(id, &message.handles.charge)?;
        }
    }
    for object in &image.objects {
        if let KindImage::Port(port) = &object.kind {
            if port.charges.len() != port.packets.len() {
                return Err(ImageError::Field {
                    object: object.id,
                    what: "not one charge for each packet",
                });
            }
            for packet_charge in &port.charges {
                charge(object.id, packet_charge)?;
            }
        }
    }
    for (&object, observers) in &image.observers {
        for observer in observers {
            charge(object, &observer.charge)?;
        }
    }

    // Pages each process's charge must cover besides its own: the
    // lingering pages of its closed objects, its children's budgets.
    let mut held: BTreeMap<ObjectId, u64> = BTreeMap::new();
    for entry in &image.lingering {
        let bad = ImageError::Field {
            object: entry.owner,
            what: "a lingering charge that is impossible",
        };
        if (entry.owner != 0 && running(entry.owner).is_none())
            || entry.page_set > image.last_page_set_id
        {
            return Err(bad);
        }
        if let Some(set) = index.sets.get(&entry.page_set) {
            if entry.pages > set.pages || set.device.is_some() {
                return Err(bad);
            }
        }
        let sum = held.entry(entry.owner).or_insert(0);
        *sum = sum.checked_add(entry.pages).ok_or(bad)?;
    }
    for (&id, process) in &processes {
        let field = |what| ImageError::Field { object: id, what };
        let account = process.account;
        let limit = process.limits.memory_pages;
        if account.reserved != 0 && account.reserved != limit {
            return Err(field("a budget set aside that is not its limit"));
        }
        if process.status.state != ProcessState::Running {
            // Its parent may be gone since (ids are never reused).
            if account.parent != 0 {
                index.expect_or_gone(id, account.parent, "process", |kind| {
                    matches!(kind, KindImage::Process(_))
                })?;
            }
            if account.kernel_bytes != 0 {
                return Err(field("ended, yet charged kernel memory"));
            }
            continue;
        }
        let parent = match account.parent {
            0 => None,
            parent => Some(running(parent).filter(|_| parent != id).ok_or(
                ImageError::Reference {
                    object: id,
                    names: parent,
                    expected: "running parent process",
                },
            )?),
        };
        let records_and_charges = owned
            .get(&id)
            .copied()
            .unwrap_or(0)
            .checked_add(rules.process_bytes)
            .ok_or(overflow(id))?;
        if account.kernel_bytes < records_and_charges {
            return Err(field(
                "charged fewer kernel bytes than its records, messages, observers and packets hold",
            ));
        }
        if limit != UNLIMITED {
            let kernel_pages = account.kernel_bytes.div_ceil(PAGE_SIZE);
            let charged = process.memory_pages.checked_add(kernel_pages);
            if charged.is_none_or(|charged| charged > limit) {
                return Err(field("charged beyond its limit"));
            }
        }
        if let Some(parent) = parent.filter(|p| p.limits.memory_pages != UNLIMITED) {
            if account.reserved != limit || limit > parent.limits.memory_pages {
                return Err(field("a budget its limited parent did not set aside"));
            }
            let sum = held.entry(account.parent).or_insert(0);
            *sum = sum.checked_add(account.reserved).ok_or(overflow(id))?;
        }
    }
    for (&owner, &pages) in &held {
        if running(owner).is_some_and(|process| pages > process.memory_pages) {
            return Err(ImageError::Field {
                object: owner,
                what: "charged less than its children's budgets and its lingering pages",
            });
        }
    }

    // No cycle of parents: each walk up ends at none, or at a process
    // whose walk ended there before; every process joins a walk once.
    let mut settled: BTreeSet<ObjectId> = BTreeSet::new();
    for (&start, process) in &processes {
        if process.status.state != ProcessState::Running {
            continue;
        }
        let mut walk = BTreeSet::new();
        let mut at = start;
        while at != 0 && !settled.contains(&at) {
            if !walk.insert(at) {
                return Err(ImageError::Field {
                    object: start,
                    what: "its parents form a cycle",
                });
            }
            at = running(at).map_or(0, |p| p.account.parent);
        }
        settled.extend(walk);
    }
    Ok(())
}

/// Observers watch objects that have signals, deadlines belong to timers
/// and waiting threads (or to objects gone since, see
/// [`Index::expect_or_gone`]), and the run queue holds threads, once each.
fn check_waits(image: &Image, index: &Index) -> Result<(), ImageError> {
    for (&object, observers) in &image.observers {
        let waitable = index
            .expect_or_gone(object, object, "waitable object", |kind| {
                matches!(
                    kind,
                    KindImage::Channel(_)
                        | KindImage::Process(_)
                        | KindImage::Timer(_)
                        | KindImage::Interrupt(_)
                )
            })
            .is_ok();
        let signals_ok = observers
            .iter()
            .all(|o| o.signals != Signals::NONE && Signals::ALL.contains(o.signals));
        if !waitable || observers.is_empty() || !signals_ok {
            return Err(ImageError::Wait(object));
        }
        // Observers name ports (or ports closed since: a closed port's
        // observers stay until they fire, and find no port).
        for observer in observers {
            index.expect_or_gone(object, observer.port, "port", |kind| {
                matches!(kind, KindImage::Port(_))
            })?;
        }
    }
    for &(_, object) in &image.deadlines {
        let timed = index
            .expect_or_gone(object, object, "timer or thread", |kind| {
                matches!(kind, KindImage::Timer(_) | KindImage::Thread(_))
            })
            .is_ok();
        if !timed {
            return Err(ImageError::Wait(object));
        }
    }
    // Every entry of the run queue is a thread counted once: any other
    // entry, or a thread queued twice, makes the length differ.
    let queued = image
        .objects
        .iter()
        .filter(|o| matches!(o.kind, KindImage::Thread(_)) && image.run_queue.contains(o.id))
        .count();
    if image.run_queue.len() != queued {
        return Err(ImageError::RunQueue);
    }
    if let Some(running) = image.running {
        index.thread(0, running)?;
    }
    Ok(())
}
