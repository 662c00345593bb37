//! The image-mutation fuzzer: a realistic checkpoint image (see
//! `support/sample.rs`), changed one field at a time — every scalar at its
//! extremes and off by one around its value, ids swapped for the ids of
//! other objects (wrong kinds, duplicates, derivation cycles), named
//! mutations that must be refused, and random byte flips of the encoded
//! blob — must always give a clean answer: a named `ImageError`, or an
//! image that the kernel's next steps (revoking every handle, issuing the
//! next ids, reading every message) handle without panicking or looping.
//!
//! The random parts use a seed printed at the start of each test; set
//! `ABIDE_IMAGE_SEED` to replay one, and `ABIDE_IMAGE_CASES` for more
//! random cases (default 5,000).

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use abide_image::testing::{make_derivation_cycle, with_open_caps, OpenCaps};
use abide_image::{
    decode, decode_valid, ChargeImage, Image, ImageError, KindImage, COUNTER_LIMIT, IMAGE_FORMAT,
};
use abide_splitmix::SplitMix64;
use support::sample;
use support::tracer::{trace, Scalar, Slot};

fn seed(test: &str) -> u64 {
    let seed = std::env::var("ABIDE_IMAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x000a_b1de_2026);
    println!("{test}: seed {seed} (replay with ABIDE_IMAGE_SEED={seed})");
    seed
}

fn cases() -> u64 {
    std::env::var("ABIDE_IMAGE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000)
}

/// What the kernel does with an accepted image that could go wrong on a
/// crafted one: issue the next ids, read every queued message, revoke
/// every handle of every table (a derivation cycle would loop here).
fn exercise(image: Image) {
    let rules = sample::rules();
    image.last_object_id.checked_add(1).expect("next object id");
    image
        .last_page_set_id
        .checked_add(1)
        .expect("next page-set id");
    image
        .kernel_log_position
        .checked_add(1 << 32)
        .expect("log position");
    image.now_ns.checked_add(1 << 40).expect("clock");
    let mut caps = image.caps.clone();
    let tables: Vec<u64> = caps.tables().collect();
    for table in tables {
        let handles: Vec<_> = caps.handles(table).map(|(h, _)| h).collect();
        for handle in handles {
            let _ = caps.revoke(table, handle);
        }
    }
    let mut caps = image.caps.clone();
    for object in image.objects {
        match object.kind {
            KindImage::Channel(end) => {
                let mut queue = end.queue.map_handles(|payload| payload.handles);
                while let Ok(message) = queue.pop_if_fits(usize::MAX, usize::MAX) {
                    let _ = caps.discard(message.handles);
                }
            }
            KindImage::Process(process) => {
                for (virt, _) in process.space.map(|s| s.pages).unwrap_or_default() {
                    assert!(virt >= rules.user.start && virt < rules.user.end);
                }
            }
            _ => {}
        }
    }
}

/// The outcome of restoring `blob`: refused by name, or accepted and
/// exercised. A panic or a case slower than a second fails the test with
/// `what` to reproduce it.
fn restore(blob: &[u8], what: &dyn Fn() -> String) -> Result<(), ImageError> {
    let began = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let rules = sample::rules();
        decode_valid(blob, &rules).map(exercise)
    }));
    let elapsed = began.elapsed();
    let outcome = outcome.unwrap_or_else(|_| panic!("a restore panicked on {}", what()));
    assert!(
        elapsed < Duration::from_secs(1),
        "a restore took {elapsed:?} on {}",
        what()
    );
    outcome
}

fn sample_blob() -> (Vec<u8>, Vec<Slot>) {
    trace(&sample::image(), None)
}

/// The candidate values of one scalar: its extremes, around its value,
/// around the counter limit, and a random one.
fn candidates(slot: &Slot, rng: &mut SplitMix64) -> Vec<u64> {
    let v = slot.value;
    let mut values = match slot.scalar {
        Scalar::Unsigned(bits) | Scalar::Signed(bits) => {
            let max = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            let mut values = vec![
                0,
                1,
                2,
                max - 1,
                max,
                v.wrapping_sub(1) & max,
                v.wrapping_add(1) & max,
                (1 << (bits - 1)) & max,
                rng.next() & max,
            ];
            if bits == 64 {
                values.extend([COUNTER_LIMIT - 1, COUNTER_LIMIT]);
            }
            values
        }
        Scalar::Length => vec![
            0,
            v.wrapping_sub(1),
            v + 1,
            v + 2,
            u64::from(u32::MAX),
            u64::MAX,
        ],
        Scalar::Variant => vec![v.wrapping_sub(1), v + 1, 9, 255, u64::from(u32::MAX)],
        Scalar::Bool | Scalar::OptionTag => vec![0, 1, 2, 255],
    };
    values.retain(|&x| x != v);
    values.sort_unstable();
    values.dedup();
    values
}

/// Bulk bytes (message payloads, FPU areas) are sampled: the first 32 and
/// one in 64 after that.
fn worth_mutating(slot: &Slot, index_in_run: usize) -> bool {
    let bulk = slot.scalar == Scalar::Unsigned(8)
        && (slot.path.ends_with("bytes") || slot.path.ends_with("fpu"));
    !bulk || index_in_run < 32 || index_in_run.is_multiple_of(64)
}

#[test]
fn the_sample_image_is_valid_and_encodes_like_the_kernel() {
    let image = sample::image();
    assert_eq!(image.validate(&sample::rules()), Ok(()));
    let (traced, slots) = trace(&image, None);
    assert_eq!(
        traced,
        image.encode().unwrap(),
        "the tracer writes postcard"
    );
    assert!(slots.len() > 1000, "{} scalars", slots.len());
    exercise(decode(&traced).unwrap());
}

#[test]
fn every_scalar_at_its_extremes_and_off_by_one() {
    let mut rng = SplitMix64::new(seed("every_scalar_at_its_extremes_and_off_by_one"));
    let (_, slots) = sample_blob();
    let image = sample::image();
    let (mut refused, mut accepted, mut run) = (0u64, 0u64, 0usize);
    let mut last_path = String::new();
    for (index, slot) in slots.iter().enumerate() {
        run = if slot.path == last_path { run + 1 } else { 0 };
        last_path.clone_from(&slot.path);
        if !worth_mutating(slot, run) {
            continue;
        }
        for value in candidates(slot, &mut rng) {
            let (blob, _) = trace(&image, Some((index, value)));
            let what = || {
                format!(
                    "scalar {index} ({}, {:?}) = {value:#x}",
                    slot.path, slot.scalar
                )
            };
            match restore(&blob, &what) {
                Ok(()) => accepted += 1,
                Err(_) => refused += 1,
            }
        }
    }
    println!(
        "{} scalars: {refused} mutations refused, {accepted} accepted",
        slots.len()
    );
    assert!(refused + accepted > 5_000, "thousands of cases");
}

#[test]
fn ids_replaced_by_other_ids() {
    // Every 64-bit scalar that names an id (objects, nodes, tables, page
    // sets, ports, peers, parents) takes every other small id: missing
    // objects, wrong kinds, duplicates, derivation cycles.
    let (_, slots) = sample_blob();
    let image = sample::image();
    let top = image.last_object_id + 3;
    let mut cases = 0u64;
    for (index, slot) in slots.iter().enumerate() {
        if slot.scalar != Scalar::Unsigned(64) || slot.value > top {
            continue;
        }
        for value in 0..=top {
            if value == slot.value {
                continue;
            }
            let (blob, _) = trace(&image, Some((index, value)));
            let what = || format!("id {index} ({}) = {value}", slot.path);
            let _ = restore(&blob, &what);
            cases += 1;
        }
    }
    println!("{cases} id replacements");
    assert!(cases > 1_000);
}

#[test]
fn random_byte_flips_of_the_blob() {
    let mut rng = SplitMix64::new(seed("random_byte_flips_of_the_blob"));
    let (blob, _) = sample_blob();
    let (mut refused, mut accepted) = (0u64, 0u64);
    for case in 0..cases() {
        let mut mutated = blob.clone();
        match rng.below(4) {
            0 => mutated.truncate(rng.below(blob.len() as u64) as usize),
            1 => {
                let at = rng.below(blob.len() as u64) as usize;
                mutated.insert(at, rng.next() as u8);
            }
            _ => {
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(blob.len() as u64) as usize;
                    mutated[at] ^= 1 << rng.below(8);
                }
            }
        }
        match restore(&mutated, &|| format!("random case {case}")) {
            Ok(()) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    println!("random flips: {refused} refused, {accepted} accepted");
}

/// The image with the `nth` integer (not a tag or a length) at `path`
/// set to `value` of it.
fn with_scalar(path: &str, nth: usize, value: impl Fn(u64) -> u64) -> Vec<u8> {
    let image = sample::image();
    let (_, slots) = trace(&image, None);
    let (index, slot) = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.path == path && matches!(s.scalar, Scalar::Unsigned(_) | Scalar::Signed(_))
        })
        .nth(nth)
        .unwrap_or_else(|| panic!("no scalar {path} #{nth}"));
    let value = value(slot.value);
    assert_ne!(value, slot.value, "{path} #{nth} is unchanged");
    trace(&image, Some((index, value))).0
}

/// The sample image changed by `change`.
fn with_image(change: impl FnOnce(&mut Image)) -> Vec<u8> {
    let mut image = sample::image();
    change(&mut image);
    image.encode().unwrap()
}

fn refused(blob: &[u8], what: &str) -> ImageError {
    match restore(blob, &|| what.to_string()) {
        Err(error) => {
            println!("{what}: {error}");
            error
        }
        Ok(()) => panic!("accepted: {what}"),
    }
}

#[test]
fn named_mutations_are_refused() {
    type Change<'a> = &'a dyn Fn(u64) -> u64;
    let cases: &[(&str, usize, Change)] = &[
        ("format", 0, &|v| v.wrapping_add(1)),
        ("format", 0, &|v| v.wrapping_sub(1)),
        ("now_ns", 0, &|_| u64::MAX),
        ("last_object_id", 0, &|_| u64::MAX),
        ("last_object_id", 0, &|_| COUNTER_LIMIT),
        ("last_object_id", 0, &|_| 17), // one below the highest id
        ("last_page_set_id", 0, &|_| u64::MAX),
        ("last_page_set_id", 0, &|v| v.wrapping_sub(1)),
        ("kernel_log_position", 0, &|_| u64::MAX - 1),
        ("period_ms", 0, &|_| 3_600_001),
        ("objects.id", 1, &|_| 1),                      // a duplicated id
        ("objects.id", 0, &|_| 0),                      // id 0
        ("objects.handles", 0, &|v| v.wrapping_add(1)), // one handle too many
        ("objects.handles", 2, &|v| v.wrapping_sub(1)), // one too few
        ("objects.kind.Thread.process", 0, &|_| 11),    // a channel
        ("objects.kind.Thread.process", 0, &|_| 19),    // nothing
        ("objects.kind.Thread.priority", 0, &|_| 8),
        ("objects.kind.Thread.registers", 15, &|_| 0x7fff_ffff_f000), // rip at the user end
        ("objects.kind.Thread.registers", 17, &|_| u64::MAX),         // rsp
        ("objects.kind.Channel.peer", 0, &|_| 13),                    // a port
        ("objects.kind.Channel.peer", 0, &|_| 11),                    // itself
        ("objects.kind.Channel.peer", 0, &|_| 18), // a channel that is not its peer
        ("objects.kind.Channel.queue.max_messages", 0, &|v| {
            v.wrapping_add(1)
        }),
        ("objects.kind.Channel.queue.max_bytes", 0, &|v| {
            v.wrapping_sub(1)
        }),
        ("objects.kind.Channel.queue.bytes", 1, &|v| {
            v.wrapping_sub(1)
        }),
        ("objects.kind.Port.armed", 0, &|v| v.wrapping_add(1)),
        ("objects.kind.Port.armed", 0, &|_| u64::MAX),
        ("objects.kind.Port.waiters", 0, &|_| 13),
        ("objects.kind.IoPorts.base", 0, &|_| 0x20), // the PIC
        ("objects.kind.IoPorts.base", 0, &|_| 0xfff9), // past 0xffff by one
        ("objects.kind.IoPorts.count", 0, &|_| 0),
        ("objects.kind.IoPorts.base", 0, &|_| 0xf0), // reaches 0xf4 (debug exit)
        ("objects.kind.Interrupt.irq", 0, &|_| 0),   // the timer
        ("objects.kind.Interrupt.irq", 0, &|_| 2),
        ("objects.kind.Interrupt.irq", 0, &|_| 16),
        ("objects.kind.Memory.page_set", 0, &|_| 4),
        ("objects.kind.Memory.charged_pages", 1, &|v| {
            v.wrapping_add(1)
        }),
        ("objects.kind.Process.limits.priority", 0, &|_| 8),
        ("objects.kind.Process.space.pages", 0, &|_| {
            0x1_0000 - 0x1000
        }), // below user space
        ("objects.kind.Process.space.pages", 0, &|v| {
            v.wrapping_add(1)
        }), // unaligned
        ("objects.kind.Process.space.pages", 0, &|_| 0x7fff_ffff_f000), // at the user end
        ("objects.kind.Process.space.pages", 1, &|v| v | 1 << 3),       // write-through
        ("objects.kind.Process.space.pages", 1, &|v| v | 1 << 4),       // uncached
        ("objects.kind.Process.space.pages", 1, &|v| v | 1 << 7),       // huge
        ("objects.kind.Process.space.pages", 1, &|v| v | 1 << 8),       // global
        ("objects.kind.Process.space.pages", 1, &|v| v | 1 << 9),       // reserved
        ("objects.kind.Process.space.pages", 7, &|v| v & !(1 << 63)),   // W+X data page
        ("objects.kind.Process.space.pages", 6, &|_| {
            0x40_0000 + 0x1000
        }), // twice
        ("objects.kind.Process.space.pages", 2, &|_| 0x40_0000),        // twice
        ("objects.kind.Process.space.shared", 0, &|_| 0xfff_ffff_f000), // below the window
        ("objects.kind.Process.space.shared", 1, &|_| 4),               // unknown pages
        ("objects.kind.Process.space.next_shared", 0, &|_| {
            0x7000_0000_1000
        }),
        ("page_sets.id", 1, &|_| 1),
        ("page_sets.pages", 1, &|v| v.wrapping_add(1)),
        ("page_sets.device", 1, &|_| 0x1000),            // RAM
        ("page_sets.device", 1, &|_| 0xfec0_0000),       // the I/O APIC
        ("page_sets.device", 1, &|v| v.wrapping_add(1)), // unaligned
        ("caps.tables.entries.node", 0, &|_| 999),
        ("caps.tables.next_handle", 0, &|_| 0),
        ("caps.tables.next_handle", 0, &|_| u64::from(u32::MAX) + 2),
        ("caps.tables.next_handle", 0, &|_| 2), // below an issued handle
        ("caps.tables.quota", 0, &|_| 1),
        ("caps.tables.entries.cap.rights", 0, &|_| {
            u64::from(abide_abi::syscall::Rights::ALL.0) + 1
        }), // the first bit beyond every right
        ("caps.tables.entries.cap.rights", 0, &|_| {
            u64::from(u32::MAX)
        }),
        ("caps.tables.entries.cap.badge", 7, &|_| 7), // a derived handle re-badged
        ("caps.nodes.parent", 0, &|_| 1),             // its own parent, or a cycle
        ("caps.next_node", 0, &|_| 1),
        ("caps.next_table", 0, &|_| 1),
        ("running", 0, &|_| 1), // a process
        ("running", 0, &|_| 99),
        ("deadlines", 1, &|_| 13),                   // a port's deadline
        ("objects.kind.Memory.page_set", 1, &|_| 2), // the device set, charged 4 pages
        ("observers.port", 0, &|_| 12),
        ("observers.port", 0, &|_| 99), // never issued
        ("observers.port", 1, &|_| 0),
        ("observers.signals", 0, &|_| 0),
        ("observers.signals", 0, &|_| 0x40),
        // The memory accounting (processes 1 init, 3 kv, 6 serial, 17 ended).
        ("objects.kind.Process.account.parent", 2, &|_| 6), // its own parent
        ("objects.kind.Process.account.parent", 2, &|_| 17), // an ended parent
        ("objects.kind.Process.account.parent", 2, &|_| 13), // a port
        ("objects.kind.Process.account.parent", 2, &|_| 99), // never issued
        ("objects.kind.Process.account.parent", 3, &|_| 13), // an ended one's port
        ("objects.kind.Process.account.reserved", 2, &|v| {
            v.wrapping_sub(1)
        }),
        ("objects.kind.Process.account.reserved", 2, &|_| u64::MAX),
        ("objects.kind.Process.account.reserved", 0, &|_| 1), // init's limit is none
        ("objects.kind.Process.account.kernel_bytes", 1, &|v| {
            v.wrapping_sub(1)
        }), // less than its charges
        ("objects.kind.Process.account.kernel_bytes", 2, &|_| {
            64 * 4096
        }), // beyond its limit
        ("objects.kind.Process.account.kernel_bytes", 2, &|_| {
            u64::MAX
        }),
        ("objects.kind.Process.account.kernel_bytes", 3, &|_| 1), // ended, still charged
        ("objects.kind.Process.memory_pages", 1, &|_| 63),        // below serial's budget
        ("objects.kind.Process.memory_pages", 2, &|_| 64),        // its records beyond its limit
        ("objects.kind.Process.memory_pages", 2, &|_| u64::MAX),
        ("objects.kind.Process.limits.memory_pages", 2, &|_| 65), // not what was set aside
        ("objects.kind.Process.limits.memory_pages", 1, &|_| 63), // below its child's
        (
            "objects.kind.Channel.queue.messages.handles.charge.owner",
            0,
            &|_| 17,
        ),
        (
            "objects.kind.Channel.queue.messages.handles.charge.owner",
            1,
            &|_| 13,
        ),
        (
            "objects.kind.Channel.queue.messages.handles.charge.owner",
            1,
            &|_| 99,
        ),
        (
            "objects.kind.Channel.queue.messages.handles.charge.bytes",
            0,
            &|v| v.wrapping_add(1),
        ), // kv charged one byte more than it holds
        (
            "objects.kind.Channel.queue.messages.handles.charge.bytes",
            1,
            &|_| u64::MAX,
        ),
        ("objects.kind.Port.charges.owner", 0, &|_| 17),
        ("objects.kind.Port.charges.bytes", 0, &|_| u64::MAX),
        ("observers.charge.owner", 0, &|_| 2), // a thread
        ("observers.charge.owner", 1, &|_| 17),
        ("observers.charge.bytes", 1, &|_| u64::MAX - 100), // the sum overflows
        ("lingering.owner", 0, &|_| 17),                    // ended
        ("lingering.owner", 0, &|_| 13),                    // a port
        ("lingering.owner", 0, &|_| 99),                    // never issued
        ("lingering.page_set", 0, &|_| 4),                  // never issued
        ("lingering.page_set", 0, &|_| 2),                  // device memory
        ("lingering.pages", 0, &|v| v.wrapping_add(1)),     // more than the set has
        ("lingering.pages", 1, &|_| u64::MAX),              // more than init is charged
        ("objects.kind.Process.memory_pages", 1, &|_| 65),  // below its budgets and lingering pages
    ];
    let mut names = std::collections::BTreeSet::new();
    for (path, nth, value) in cases {
        let blob = with_scalar(path, *nth, value);
        let error = refused(&blob, &format!("{path} #{nth}"));
        names.insert(
            format!("{error:?}")
                .split(['(', ' '])
                .next()
                .unwrap()
                .to_string(),
        );
    }
    println!("refusals seen: {names:?}");
}

#[test]
fn an_image_of_an_older_format_is_refused_as_such() {
    // Format 4 had no trap channels, trap keys or segment bases: its
    // layout does not decode as this one, and must be refused by its
    // format, not as damage.
    let mut image = sample::image();
    image.format = IMAGE_FORMAT - 1;
    let mut blob = image.encode().unwrap();
    blob.truncate(blob.len() / 2);
    assert_eq!(
        decode_valid(&blob, &sample::rules()).map(|_| ()),
        Err(ImageError::Format(IMAGE_FORMAT - 1))
    );
    let error = refused(&blob, "an image of format 4");
    assert_eq!(
        error.to_string(),
        format!("image format 4 (this kernel reads {IMAGE_FORMAT})")
    );
}

#[test]
fn named_changes_of_whole_values_are_refused() {
    fn process(image: &mut Image, id: u64) -> &mut abide_image::ProcessImage {
        let object = image.objects.iter_mut().find(|o| o.id == id).unwrap();
        match &mut object.kind {
            KindImage::Process(p) => p,
            _ => panic!("object {id} is no process"),
        }
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a name longer than a process may have",
            with_image(|image| {
                process(image, 1).name = "x".repeat(65);
            }),
        ),
        (
            "a duplicated object",
            with_image(|image| {
                let twin = sample::image().objects.remove(17);
                image.objects.push(twin);
            }),
        ),
        (
            "an ended process with a thread",
            with_image(|image| {
                process(image, 17).threads.push(2);
            }),
        ),
        (
            "two processes sharing a handle table",
            with_image(|image| {
                process(image, 3).table = 1;
            }),
        ),
        (
            "a live persistent process with threads and no pages",
            with_image(|image| {
                process(image, 3).space = None;
            }),
        ),
        (
            "a port in the run queue",
            with_image(|image| image.run_queue.push(13, 3)),
        ),
        (
            "an observer of a port",
            with_image(|image| {
                let observer = image.observers.values().next().unwrap()[0];
                image.observers.insert(13, vec![observer]);
            }),
        ),
        (
            "a deadline of nothing",
            with_image(|image| {
                image.deadlines.insert((1, 99));
            }),
        ),
        (
            "a packet without its charge",
            with_image(|image| {
                for object in &mut image.objects {
                    if let KindImage::Port(port) = &mut object.kind {
                        port.charges.clear();
                    }
                }
            }),
        ),
        (
            "a trap channel that is a port",
            with_image(|image| {
                process(image, 3).trap_channel = Some(13);
            }),
        ),
        (
            "a thread with an FS base outside user space",
            with_image(|image| {
                for object in &mut image.objects {
                    if let KindImage::Thread(thread) = &mut object.kind {
                        thread.fs_base = u64::MAX;
                    }
                }
            }),
        ),
        (
            "a trap key on a thread of an Abide process",
            with_image(|image| {
                for object in &mut image.objects {
                    if let KindImage::Thread(thread) = &mut object.kind {
                        thread.trap_key = Some(1);
                    }
                }
            }),
        ),
        (
            "a charge without its packet",
            with_image(|image| {
                for object in &mut image.objects {
                    if let KindImage::Port(port) = &mut object.kind {
                        port.charges.push_back(ChargeImage::default());
                    }
                }
            }),
        ),
    ];
    for (what, blob) in cases {
        refused(&blob, what);
    }
    // Parents without limits, so that only the cycle is wrong.
    let cycles: Vec<(&str, Vec<u8>)> = vec![
        (
            "three processes each other's parent",
            with_image(|image| {
                process(image, 3).limits.memory_pages = u64::MAX;
                let serial = process(image, 6);
                serial.limits.memory_pages = u64::MAX;
                serial.account.reserved = 0;
                process(image, 1).account.parent = 6;
            }),
        ),
        (
            "two processes each other's parent",
            with_image(|image| {
                process(image, 1).account.parent = 3;
                process(image, 3).limits.memory_pages = u64::MAX;
            }),
        ),
    ];
    for (what, blob) in cycles {
        let error = refused(&blob, what);
        assert!(error.to_string().contains("cycle"), "{what}: {error}");
    }
}

/// The sample image with its handle tables changed by `change`.
fn with_caps(change: impl FnOnce(&mut OpenCaps)) -> Vec<u8> {
    let mut image = sample::image();
    with_open_caps(&mut image, change);
    image.encode().unwrap()
}

#[test]
fn a_derivation_cycle_is_refused() {
    // A root A with a child B, linked both ways; then A's parent becomes B
    // (and B lists A): revoke would walk A, B, A, ... forever. Rights and
    // badges are made equal so only the cycle is wrong.
    let blob = with_caps(|caps| {
        make_derivation_cycle(caps).expect("a root with a child");
    });
    let error = refused(&blob, "a derivation cycle");
    assert!(
        matches!(
            error,
            ImageError::Caps(abide_objects::caps::CapsError::Cycle(_))
        ),
        "{error:?}"
    );
}

#[test]
fn a_node_linked_one_way_is_refused() {
    let blob = with_caps(|caps| {
        let (&id, _) = caps.nodes.iter().find(|(_, n)| n.parent.is_some()).unwrap();
        let parent = caps.nodes[&id].parent.unwrap();
        caps.nodes.get_mut(&parent).unwrap().children.remove(&id);
    });
    refused(&blob, "a node its parent does not list");
}
