//! A realistic image built with the kernel's own bookkeeping types, the
//! way a running system fills them: a supervisor, a persistent service
//! with a waiting thread, a driver with I/O ports, an IRQ and device
//! memory, an ended process, channels with queued messages carrying
//! handles (one revoked in transit), a port with a packet and an armed
//! observer, a timer, shared memory, and derivation trees across tables
//! (duplicates, mints, transfers), and the stale names the kernel leaves
//! behind (a closed port's observer, an ended thread's wait). The memory
//! accounting is a live system's: init has no limit, kv is limited and has
//! set aside the budget of its limited child serial, and every message,
//! observer and packet is charged to the process that wrote or armed it,
//! each process's kernel bytes being its records plus its charges.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use abide_abi::object::{Packet, ProcessState, ProcessStatus, Signals, USER_IRQS};
use abide_abi::syscall::{Handle, Rights};
use abide_image::*;
use abide_mm::paging::PageFlags;
use abide_objects::caps::Capabilities;
use abide_objects::queue::{Message, MessageQueue};
use abide_sched::RunQueue;
use abide_splitmix::GAMMA;

pub const QUEUE_MESSAGES: usize = 64;
pub const QUEUE_BYTES: usize = 256 * 1024;
/// A limit of none (`abide_objects::budget::UNLIMITED`).
const UNLIMITED_PAGES: u64 = u64::MAX;

/// The kernel's hardware checks, as a model of the QEMU machine.
pub struct Machine;

impl Hardware for Machine {
    fn ports_allowed(&self, base: u64, count: u64) -> bool {
        const KERNEL_PORTS: &[(u64, u64)] = &[(0x20, 2), (0x40, 4), (0xa0, 2), (0xf4, 4)];
        let Some(end) = base.checked_add(count).filter(|end| *end <= 0x1_0000) else {
            return false;
        };
        count > 0
            && KERNEL_PORTS
                .iter()
                .all(|&(start, len)| end <= start || base >= start + len)
    }

    fn irq_allowed(&self, irq: u64) -> bool {
        USER_IRQS.iter().any(|&line| u64::from(line) == irq)
    }

    fn mmio_allowed(&self, phys: u64) -> bool {
        // RAM below 256 MiB, the APICs, nothing past 2^46.
        phys >= 0x1000_0000 && !(0xfec0_0000..0xff00_0000).contains(&phys) && phys < 1 << 46
    }
}

pub fn rules() -> Rules<'static> {
    Rules {
        user: 0x1_0000..0x7fff_ffff_f000,
        shared: 0x1000_0000_0000..0x7000_0000_0000,
        queue_messages: QUEUE_MESSAGES,
        queue_bytes: QUEUE_BYTES,
        port_capacity: 1024,
        max_name: 64,
        max_period_ms: 3_600_000,
        process_bytes: PROCESS_BYTES,
        hardware: &Machine,
    }
}

const CODE: u64 = 0x40_0000;
const STACK_TOP: u64 = 0x7fff_ffff_0000;

fn space(shared: Vec<(u64, u64, bool)>) -> SpaceImage {
    let present = PageFlags::PRESENT | PageFlags::USER | PageFlags::ACCESSED;
    let text = present;
    let data = present | PageFlags::WRITABLE | PageFlags::NO_EXECUTE | PageFlags::DIRTY;
    let next_shared = shared
        .iter()
        .map(|&(base, _, _)| base + 0x10_0000)
        .max()
        .unwrap_or(0x1000_0000_0000);
    SpaceImage {
        pages: vec![
            (CODE, text.bits()),
            (CODE + 0x1000, text.bits()),
            (CODE + 0x2000, (present | PageFlags::NO_EXECUTE).bits()),
            (CODE + 0x3000, data.bits()),
            (STACK_TOP - 0x1000, data.bits()),
            (STACK_TOP - 0x2000, data.bits()),
        ],
        shared,
        next_shared,
    }
}

/// The kernel bytes of a process's own records (the kernel's
/// `account::PROCESS_BYTES`).
const PROCESS_BYTES: u64 = 4096;
/// A message's charge besides its bytes, and per handle in transit (the
/// kernel's `account::MESSAGE_BYTES`, `TRANSIT_HANDLE_BYTES`).
const MESSAGE_BYTES: u64 = 64;
const TRANSIT_HANDLE_BYTES: u64 = 32;
/// An armed observer's charge, kept by its packet (`OBSERVER_BYTES`).
const OBSERVER_BYTES: u64 = 160;

fn process(name: &str, table: u64, threads: Vec<u64>, space: Option<SpaceImage>) -> KindImage {
    KindImage::Process(ProcessImage {
        name: name.into(),
        table,
        threads,
        status: ProcessStatus::default(),
        limits: LimitsImage {
            priority: 4,
            memory_pages: 1024,
            handle_quota: 64,
        },
        memory_pages: 10,
        account: AccountImage {
            parent: 0,
            reserved: 0,
            kernel_bytes: PROCESS_BYTES,
        },
        cpu_ns: 123_456_789,
        persistent: space.is_some(),
        space,
        trap_channel: None,
    })
}

fn thread(process: u64, blocked_until: Option<u64>, seed: u64) -> KindImage {
    let mut registers = [0u64; SAVED_REGISTERS];
    for (i, r) in registers.iter_mut().enumerate() {
        *r = seed.wrapping_mul(GAMMA).rotate_left(i as u32);
    }
    registers[RIP] = CODE + 0x123;
    registers[RSP] = STACK_TOP - 0x80;
    registers[16] = 0x246;
    let mut fpu = vec![0u8; FPU_BYTES];
    fpu[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    fpu[0] = 0x7f;
    fpu[1] = 0x03;
    KindImage::Thread(ThreadImage {
        process,
        priority: 4,
        blocked_until,
        registers,
        fpu,
        fs_base: 0,
        gs_base: 0,
        trap_key: None,
    })
}

fn channel(peer: Option<u64>, queue: MessageQueue<PayloadImage>) -> KindImage {
    KindImage::Channel(ChannelImage { peer, queue })
}

fn empty_queue() -> MessageQueue<PayloadImage> {
    MessageQueue::new(QUEUE_MESSAGES, QUEUE_BYTES)
}

/// Builds the image; every handle count is what the tables and messages
/// hold, counted the way the kernel counts them.
pub fn image() -> Image {
    let mut caps: Capabilities<u64> = Capabilities::new();
    let init_t = caps.create_table(256);
    let kv_t = caps.create_table(64);
    let serial_t = caps.create_table(64);
    let gone_t = caps.create_table(16);
    let _ = caps.destroy_table(gone_t);

    // Objects, by id.
    const INIT: u64 = 1;
    const INIT_THREAD: u64 = 2;
    const KV: u64 = 3;
    const KV_WAITER: u64 = 4;
    const KV_WORKER: u64 = 5;
    const SERIAL: u64 = 6;
    const SERIAL_THREAD: u64 = 7;
    const PORTS: u64 = 8;
    const IRQ: u64 = 9;
    const DEVICE: u64 = 10;
    const TO_KV: u64 = 11;
    const FROM_INIT: u64 = 12;
    const KV_PORT: u64 = 13;
    const TIMER: u64 = 14;
    const SHARED: u64 = 15;
    const RESOURCE: u64 = 16;
    const ENDED: u64 = 17;
    const LONE: u64 = 18;

    // init: its own process, the hardware resource, both channel ends
    // (one handed to kv), the shared memory; a badged mint of its end.
    caps.insert(init_t, INIT, Rights::ALL).unwrap();
    let resource = caps.insert(init_t, RESOURCE, Rights::ALL).unwrap();
    let to_kv = caps.insert(init_t, TO_KV, Rights::ALL).unwrap();
    let from_init = caps.insert(init_t, FROM_INIT, Rights::ALL).unwrap();
    let shared = caps.insert(init_t, SHARED, Rights::ALL).unwrap();
    caps.insert(init_t, KV, Rights::ALL).unwrap();
    caps.insert(init_t, SERIAL, Rights::ALL).unwrap();
    let badged = caps
        .mint(
            init_t,
            to_kv,
            Rights::WRITE
                .union(Rights::DUPLICATE)
                .union(Rights::TRANSFER),
            42,
        )
        .unwrap();
    caps.duplicate(init_t, badged, Rights::WRITE).unwrap();
    let moved = caps.take_for_transfer(init_t, &[from_init], None).unwrap();
    caps.install(kv_t, moved).unwrap();
    let for_kv = caps
        .duplicate(
            init_t,
            shared,
            Rights::MAP.union(Rights::READ).union(Rights::TRANSFER),
        )
        .unwrap();
    caps.duplicate(init_t, resource, Rights::MANAGE.union(Rights::TRANSFER))
        .unwrap();

    // kv: a port, a timer, a lone channel end.
    caps.insert(kv_t, KV_PORT, Rights::ALL).unwrap();
    let timer = caps.insert(kv_t, TIMER, Rights::ALL).unwrap();
    caps.insert(kv_t, LONE, Rights::ALL).unwrap();
    let timer_copy = caps
        .duplicate(kv_t, timer, Rights::WAIT.union(Rights::TRANSFER))
        .unwrap();

    // serial: its ports, IRQ and device memory.
    caps.insert(serial_t, PORTS, Rights::ALL).unwrap();
    caps.insert(serial_t, IRQ, Rights::ALL).unwrap();
    let device = caps.insert(serial_t, DEVICE, Rights::ALL).unwrap();
    caps.duplicate(serial_t, device, Rights::MAP.union(Rights::READ))
        .unwrap();

    // Messages queued at kv's end: the shared memory handle, and a timer
    // handle whose source is then revoked (it stays counted in transit).
    let first = caps.take_for_transfer(init_t, &[for_kv], None).unwrap();
    let second = caps.take_for_transfer(kv_t, &[timer_copy], None).unwrap();
    let revoke_root = caps.duplicate(kv_t, timer, Rights::ALL).unwrap();
    let third_handle = caps
        .duplicate(kv_t, revoke_root, Rights::WAIT.union(Rights::TRANSFER))
        .unwrap();
    let third = caps.take_for_transfer(kv_t, &[third_handle], None).unwrap();
    caps.revoke(kv_t, revoke_root).unwrap();
    // Kernel bytes charged to each process (its records first).
    let mut kernel_bytes: BTreeMap<u64, u64> = BTreeMap::new();
    let mut charge = |owner: u64, bytes: u64| {
        *kernel_bytes.entry(owner).or_insert(PROCESS_BYTES) += bytes;
        ChargeImage { owner, bytes }
    };
    let message_charge = |bytes: usize, handles: usize| {
        MESSAGE_BYTES + bytes as u64 + handles as u64 * TRANSIT_HANDLE_BYTES
    };
    let mut queue = empty_queue();
    for (n, handles) in [first, second, third].into_iter().enumerate() {
        let bytes = vec![n as u8; 100 + n * 1000];
        let charge = charge(INIT, message_charge(bytes.len(), handles.len()));
        queue
            .push(Message {
                bytes,
                handles: PayloadImage {
                    handles,
                    badge: 42,
                    charge,
                },
            })
            .map_err(|(error, _)| error)
            .unwrap();
    }
    let mut to_kv_queue = empty_queue();
    to_kv_queue
        .push(Message {
            bytes: b"reply".to_vec(),
            handles: PayloadImage {
                handles: caps.take_for_transfer(kv_t, &[], None).unwrap(),
                badge: 0,
                charge: charge(KV, message_charge(5, 0)),
            },
        })
        .map_err(|(error, _)| error)
        .unwrap();
    let packet_charge = charge(KV, OBSERVER_BYTES);
    let observer_charge = charge(KV, OBSERVER_BYTES);
    let stale_observer_charge = charge(KV, OBSERVER_BYTES);
    let _ = Handle(0);

    let now = 5_000_000_000u64;
    let mut objects = vec![
        (
            INIT,
            process(
                "init",
                init_t,
                vec![INIT_THREAD],
                Some(space(vec![(0x1000_0000_0000, 1, true)])),
            ),
        ),
        (INIT_THREAD, thread(INIT, None, 1)),
        (
            KV,
            process(
                "kv",
                kv_t,
                vec![KV_WAITER, KV_WORKER],
                // Page set 3: a memory object kv closed while mapped.
                Some(space(vec![(0x1000_0000_0000, 3, true)])),
            ),
        ),
        (KV_WAITER, thread(KV, Some(now + 1_000_000), 2)),
        (KV_WORKER, thread(KV, None, 3)),
        (
            SERIAL,
            process("serial", serial_t, vec![SERIAL_THREAD], None),
        ),
        (SERIAL_THREAD, thread(SERIAL, None, 4)),
        (
            PORTS,
            KindImage::IoPorts(IoPortsImage {
                base: 0x3f8,
                count: 8,
            }),
        ),
        (
            IRQ,
            KindImage::Interrupt(InterruptImage {
                irq: 4,
                pending: true,
            }),
        ),
        (
            DEVICE,
            KindImage::Memory(MemoryImage {
                page_set: 2,
                charged_to: SERIAL,
                charged_pages: 0,
            }),
        ),
        (TO_KV, channel(Some(FROM_INIT), to_kv_queue)),
        (FROM_INIT, channel(Some(TO_KV), queue)),
        (
            KV_PORT,
            KindImage::Port(PortImage {
                packets: VecDeque::from([Packet {
                    key: 7,
                    signals: Signals::TIMER,
                    timestamp_ns: now - 10,
                    ..Packet::default()
                }]),
                armed: 1,
                // Thread 19 ended while it waited: the kernel leaves it
                // listed until the port wakes its waiters.
                waiters: vec![KV_WAITER, 19],
                charges: VecDeque::from([packet_charge]),
            }),
        ),
        (
            TIMER,
            KindImage::Timer(TimerImage {
                deadline: Some(now + 500_000_000),
                fired: false,
            }),
        ),
        (
            SHARED,
            KindImage::Memory(MemoryImage {
                page_set: 1,
                charged_to: INIT,
                charged_pages: 4,
            }),
        ),
        (RESOURCE, KindImage::HardwareResource),
        (
            ENDED,
            KindImage::Process(ProcessImage {
                status: ProcessStatus {
                    state: ProcessState::Exited,
                    code: 3,
                    ..ProcessStatus::default()
                },
                ..match process("ended", gone_t, vec![], None) {
                    KindImage::Process(p) => p,
                    _ => unreachable!(),
                }
            }),
        ),
        (LONE, channel(None, empty_queue())),
    ];
    objects.sort_by_key(|(id, _)| *id);

    // The accounts: init has no limit; kv, limited, started serial with a
    // limit of its own, set aside from kv's budget; the ended process
    // holds nothing; kernel bytes are records plus charges.
    for (id, kind) in &mut objects {
        let KindImage::Process(process) = kind else {
            continue;
        };
        match *id {
            INIT => process.limits.memory_pages = UNLIMITED_PAGES,
            SERIAL => {
                process.limits.memory_pages = 64;
                process.account.parent = KV;
                process.account.reserved = 64;
            }
            KV => {
                process.account.parent = INIT;
                // Its own, serial's budget, the lingering page set 3.
                process.memory_pages = 10 + 64 + 2;
            }
            ENDED => {
                process.account = AccountImage {
                    parent: KV,
                    reserved: 1024,
                    kernel_bytes: 0,
                };
                process.memory_pages = 0;
            }
            _ => {}
        }
        if process.status.state == ProcessState::Running {
            process.account.kernel_bytes = kernel_bytes.get(id).copied().unwrap_or(PROCESS_BYTES);
        }
    }

    // Handle counts, as the kernel keeps them.
    let mut counts: BTreeMap<u64, u64> = BTreeMap::new();
    for table in caps.tables() {
        for (_, cap) in caps.handles(table) {
            *counts.entry(cap.object).or_default() += 1;
        }
    }
    for (_, kind) in &objects {
        if let KindImage::Channel(end) = kind {
            for message in end.queue.messages() {
                for object in message.handles.handles.objects() {
                    *counts.entry(*object).or_default() += 1;
                }
            }
        }
    }
    let objects = objects
        .into_iter()
        .map(|(id, kind)| ObjectImage {
            id,
            handles: counts.get(&id).copied().unwrap_or(0),
            kind,
        })
        .collect();

    let mut run_queue = RunQueue::new();
    run_queue.push(KV_WORKER, 4);
    run_queue.push(SERIAL_THREAD, 6);
    let mut observers = BTreeMap::new();
    observers.insert(
        FROM_INIT,
        vec![ObserverImage {
            port: KV_PORT,
            key: 1,
            signals: Signals::READABLE.union(Signals::PEER_CLOSED),
            charge: observer_charge,
        }],
    );
    // Port 20 was closed with an observer armed on the lone channel: the
    // observer stays until it fires, and finds no port.
    observers.insert(
        LONE,
        vec![ObserverImage {
            port: 20,
            key: 2,
            signals: Signals::READABLE,
            charge: stale_observer_charge,
        }],
    );
    let deadlines = BTreeSet::from([
        (now + 1_000_000, KV_WAITER),
        (now + 500_000_000, TIMER),
        (now + 7, 19), // thread 19 ended while blocked
    ]);
    Image {
        format: IMAGE_FORMAT,
        now_ns: now,
        last_object_id: LONE + 3,
        last_page_set_id: 3,
        kernel_log_position: 123_456,
        period_ms: 1000,
        objects,
        page_sets: vec![
            PageSetImage {
                id: 1,
                pages: 4,
                device: None,
            },
            PageSetImage {
                id: 2,
                pages: 2,
                device: Some(vec![0xfebf_0000, 0xfebf_1000]),
            },
            PageSetImage {
                id: 3,
                pages: 2,
                device: None,
            },
        ],
        caps,
        run_queue,
        running: Some(INIT_THREAD),
        observers,
        deadlines,
        lingering: vec![
            // kv closed the object of page set 3 while mapping it.
            LingeringImage {
                page_set: 3,
                owner: KV,
                pages: 2,
            },
            // Freed before the checkpoint, not yet given back to init.
            LingeringImage {
                page_set: 0,
                owner: INIT,
                pages: 1,
            },
        ],
    }
}
