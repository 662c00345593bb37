//! Orthogonal persistence, seen from outside: the default system on a
//! store survives SIGKILL of QEMU (a power cut) with its programs' memory
//! intact, keeps surviving cuts at random moments, and a damaged store is
//! detected — a torn newest header falls back a generation, a damaged data
//! block is reported and never resumed.
//!
//! Drives: the default system (`user/init`, `user/drivers/{serial,vga,pci}`,
//! `user/services/{log,kv,counter}`, `user/apps/shell`);
//! `user/tests/persist-check` (with `user/drivers/serial` and
//! `user/apps/shell`); `user/tests/stash-check`. Configs:
//! `system/default.conf`, `system/persist-check.conf`,
//! `system/stash-check.conf`.

mod support;

use std::path::{Path, PathBuf};

use abide_tool::crashtest::{self, CrashtestOptions};
use support::*;

/// A fresh store file for one test.
fn store(name: &str) -> PathBuf {
    let dir = abide_tool::repo_root().join("target/abide/test-stores");
    std::fs::create_dir_all(&dir).expect("create the test store directory");
    let path = dir.join(format!("{name}.img"));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn keys_and_the_counter_survive_a_power_cut() {
    let path = store("power-cut");
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    assert_contains(&session.output(), "store: formatted a new store");
    command(&mut session, "kv set colour blue", "set colour");
    command(&mut session, "kv set answer 42", "set answer");
    let before = number_after(&command(&mut session, "counter", "counter"), "counter");
    let synced = command(&mut session, "sync", "synced generation");
    let generation = number_after(&synced, "generation");
    step(session.kill());

    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    let output = session.output();
    assert_contains(&output, "store: resumed generation");
    let resumed = number_after(&output, "generation");
    assert!(
        resumed >= generation,
        "resumed {resumed}, older than the synced {generation}"
    );
    command(&mut session, "kv get colour", "blue");
    command(&mut session, "kv get answer", "42");
    let after = number_after(&command(&mut session, "counter", "counter"), "counter");
    assert!(
        after >= before,
        "the counter went back from {before} to {after}"
    );
    // It keeps counting from there.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let later = number_after(&command(&mut session, "counter", "counter"), "counter");
    assert!(later > after, "the counter stopped at {after}");
    let status = command(&mut session, "persist", "resumed_from");
    assert_contains(&status, &resumed.to_string());
    power_off(&mut session);
}

#[test]
fn twenty_power_cuts_at_random_moments() {
    let seed = 0x005e_ed00_05c0_ffee;
    let options = CrashtestOptions {
        runs: 20,
        seed,
        store: store("crashtest"),
        max_cut_delay_ms: 1500,
        unix: false,
        add: Vec::new(),
    };
    println!("power-cut loop seed {seed:#x}");
    let report = crashtest::run(&options).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(report.runs, 20);
    assert_eq!(report.resumed, 20);
    assert_eq!(report.synced_keys, 20);
}

/// A store image on the host, as a `Disk`: to inspect what the guest wrote
/// (opened read-only, where a write fails) or to commit a crafted
/// generation with valid checksums as the kernel would.
struct FileDisk(std::fs::File);

impl abide_store::Disk for FileDisk {
    type Error = std::io::Error;

    fn block_count(&self) -> u64 {
        self.0.metadata().map_or(0, |m| m.len()) / abide_store::BLOCK_SIZE as u64
    }

    fn read(&mut self, block: u64, buf: &mut [u8]) -> Result<(), Self::Error> {
        use std::os::unix::fs::FileExt;
        self.0
            .read_exact_at(buf, block * abide_store::BLOCK_SIZE as u64)
    }

    fn write(&mut self, block: u64, buf: &[u8]) -> Result<(), Self::Error> {
        use std::os::unix::fs::FileExt;
        self.0
            .write_all_at(buf, block * abide_store::BLOCK_SIZE as u64)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.sync_data()
    }
}

/// Opens the store at `path` for writing on the host.
fn open_writable(path: &Path) -> abide_store::Store<FileDisk> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open the store image");
    abide_store::Store::open(FileDisk(file))
        .unwrap_or_else(|error| panic!("the store does not open on the host: {error}"))
}

/// Commits a new generation to the store at `path` with the same pages and
/// the object state `base` changed by `change`: a crafted image with valid
/// checksums. Returns the new generation.
fn commit_crafted_state(
    path: &Path,
    base: &[u8],
    change: impl FnOnce(&mut abide_image::Image),
) -> u64 {
    let mut store = open_writable(path);
    let mut image = abide_image::decode(base).expect("the saved image decodes");
    change(&mut image);
    let keys: Vec<abide_store::PageKey> = store.keys().collect();
    let mut next = store.begin();
    for key in keys {
        assert!(next.keep(key), "keep page {key:?}");
    }
    next.set_state(&image.encode().expect("encode the crafted image"));
    next.commit().expect("commit the crafted generation")
}

/// Opens the store image at `path` on the host.
fn open_on_host(path: &Path) -> abide_store::Store<FileDisk> {
    let file = std::fs::File::open(path).expect("open the store image");
    abide_store::Store::open(FileDisk(file))
        .unwrap_or_else(|error| panic!("the store does not open on the host: {error}"))
}

/// Flips one byte of the image at `offset`.
fn flip_byte(path: &Path, offset: u64) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open the store image");
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, offset).expect("read a byte");
    byte[0] ^= 0x5a;
    file.write_all_at(&byte, offset).expect("write a byte");
}

/// The generation number in header slot `slot` (see docs/store.md).
fn slot_generation(path: &Path, slot: u64) -> u64 {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).expect("open the store image");
    let mut word = [0u8; 8];
    file.read_exact_at(&mut word, slot * abide_store::BLOCK_SIZE as u64 + 16)
        .expect("read a header");
    u64::from_le_bytes(word)
}

#[test]
fn a_damaged_header_falls_back_and_a_damaged_page_is_reported() {
    let path = store("damage");
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    command(&mut session, "kv set colour blue", "set colour");
    command(&mut session, "sync", "synced generation");
    command(&mut session, "kv set colour green", "set colour");
    command(&mut session, "sync", "synced generation");
    step(session.kill());

    // A flipped byte in the newest header: the previous generation resumes.
    let newest = open_on_host(&path).generation();
    let slot = if slot_generation(&path, 0) == newest {
        0
    } else {
        1
    };
    assert_eq!(slot_generation(&path, slot), newest);
    flip_byte(&path, slot * abide_store::BLOCK_SIZE as u64 + 20);
    let fallback = open_on_host(&path);
    let previous = fallback.generation();
    assert!(
        previous < newest,
        "the host opened {previous}, not an older generation"
    );
    assert!(fallback.fallback().is_some());
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    let output = session.output();
    assert_contains(&output, "store: the newest header was rejected");
    assert_contains(&output, &format!("store: resumed generation {previous} "));
    command(&mut session, "kv get colour", "blue");
    command(&mut session, "sync", "synced generation");
    step(session.kill());

    // A flipped byte in a data block: reported, never resumed, and the
    // store is left as it was.
    let store = open_on_host(&path);
    let generation = store.generation();
    let key = store.keys().next().expect("the store holds pages");
    let block = store.block_of(key).expect("a stored page has a block");
    flip_byte(&path, block * abide_store::BLOCK_SIZE as u64 + 123);
    let before = std::fs::read(&path).expect("read the store image");
    let mut session = step(Session::boot(BootOptions::default().with_store(&path)));
    let status = step(session.wait_exit(std::time::Duration::from_secs(60)));
    let output = session.output();
    assert_ne!(status, 0, "a damaged store resumed:\n{output}");
    assert_contains(&output, &format!("cannot resume generation {generation}"));
    assert_contains(&output, "is damaged");
    assert_contains(&output, "checksum");
    assert!(
        std::fs::read(&path).expect("read the store image") == before,
        "the damaged store was written to"
    );
}

#[test]
fn no_driver_can_claim_the_store_disk() {
    let path = store("claim");
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    let lspci = command(&mut session, "lspci", "1af4");
    let store_line = lspci
        .lines()
        .find(|line| line.contains("1af4"))
        .unwrap_or_else(|| panic!("no virtio-blk in:\n{lspci}"));
    let address = store_line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    // The kernel drives the store: its configuration refuses the PCI
    // service's writes, so the service lists it as the kernel's, unsized...
    assert!(
        store_line.trim_end().ends_with("kernel"),
        "the store is not listed as the kernel's:\n{lspci}"
    );
    // ...and no component may claim it.
    let claim = command(
        &mut session,
        &format!("lspci claim {address}"),
        "no component may claim it",
    );
    assert_contains(&claim, "is the kernel's");
    // Every other function was sized as before: the SATA controller has
    // its BARs.
    let sata = lspci
        .lines()
        .find(|line| line.contains("SATA"))
        .unwrap_or_else(|| panic!("no SATA controller in:\n{lspci}"));
    assert_contains(sata, "mem ");
    power_off(&mut session);
}

#[test]
fn a_busy_writer_resumes_from_a_consistent_cut_after_every_power_cut() {
    // persist-check writes across 64 pages without pause while checkpoints
    // (every 100 ms) write its pages out: each resume must find the
    // sequence intact, so it never ends and is never restarted. The shell
    // is persistent in this system: it resumes waiting for a line, which
    // the restarted serial driver answers `Restarted`, and it reads on.
    let path = store("busy-writer");
    let options = || BootOptions::with_cmdline("config=persist-check").with_store(&path);
    let mut session = boot_to_shell(options());
    // One committed generation before the first cut, however slow the host.
    command(&mut session, "snapshot", "committed");
    for cut in 0..6u64 {
        std::thread::sleep(std::time::Duration::from_millis(250 + 137 * cut));
        step(session.kill());
        session = step(Session::boot(options()));
        step(session.expect("store: resumed generation", BOOT));
        // The serial driver starts afresh; the shell's read is asked again.
        step(session.expect("did not survive the power cut", BOOT));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let restarts = command(
            &mut session,
            "ps | where name == persist-check | select restarts",
            "restarts",
        );
        let state = command(
            &mut session,
            "ps | where name == persist-check | select state",
            "state",
        );
        assert!(
            first_number(&restarts, "restarts") == 0 && state.contains("running"),
            "persist-check ended after power cut {cut}:\n{restarts}{state}\n{}",
            session.output()
        );
        // The system's checkpoint period went on as it was (100 ms).
        let period = command(&mut session, "persist | select period_ms", "period_ms");
        assert_eq!(
            first_number(&period, "period_ms"),
            100,
            "{}",
            session.output()
        );
        // The shell itself was never restarted: it resumed.
        let shell = command(
            &mut session,
            "ps | where name == shell | select restarts",
            "restarts",
        );
        assert_eq!(first_number(&shell, "restarts"), 0, "{}", session.output());
    }
    power_off(&mut session);
}

#[test]
fn a_store_of_another_format_version_is_refused_and_left_untouched() {
    let path = store("other-version");
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    command(&mut session, "sync", "synced generation");
    step(session.kill());

    // Make the newest header one of format version 99, validly checksummed.
    use std::os::unix::fs::FileExt;
    let newest = open_on_host(&path).generation();
    let slot = if slot_generation(&path, 0) == newest {
        0
    } else {
        1
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open the store image");
    let offset = slot * abide_store::BLOCK_SIZE as u64;
    let mut header = vec![0u8; abide_store::BLOCK_SIZE];
    file.read_exact_at(&mut header, offset)
        .expect("read the header");
    header[8..12].copy_from_slice(&99u32.to_le_bytes());
    let crc = abide_store::crc::crc32c(&header[..4092]);
    header[4092..].copy_from_slice(&crc.to_le_bytes());
    file.write_all_at(&header, offset)
        .expect("write the header");
    drop(file);
    let before = std::fs::read(&path).expect("read the store image");

    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    let output = session.output();
    assert_contains(&output, "store: written in format version 99");
    assert_contains(&output, "left untouched");
    assert_contains(&output, "--fresh");
    let status = command(&mut session, "persist | select enabled", "enabled");
    assert_eq!(first_number(&status, "enabled"), 0);
    power_off(&mut session);
    assert!(
        std::fs::read(&path).expect("read the store image") == before,
        "a store of another version was written to"
    );
}

/// The number after `word` on the last line of `output` that starts with
/// `prefix`.
fn number_on_line(output: &str, prefix: &str, word: &str) -> u64 {
    let line = output
        .lines()
        .rev()
        .find(|line| line.contains(prefix))
        .unwrap_or_else(|| panic!("no line with {prefix:?} in:\n{output}"));
    number_after(line, word)
}

#[test]
fn a_write_by_an_ended_process_and_the_sync_generation_survive_a_power_cut() {
    // stash-check (persistent) writes OLD into a memory object and syncs;
    // its non-persistent child maps the object, writes NEW and exits; the
    // parent reads NEW and syncs, that sync first finishing a periodic
    // write-out still in progress. The only page table that saw NEW died
    // with the child, yet the resumed parent must read NEW, and see its
    // sync return the generation it resumed from.
    const NEW: &str = "0xe000e000e000e00";
    let path = store("stash");
    let options = || BootOptions::with_cmdline("config=stash-check").with_store(&path);
    let mut session = step(Session::boot(options()));
    step(session.expect("cut the power", BOOT));
    let output = session.output();
    assert_contains(&output, &format!("the non-persistent child wrote {NEW}"));
    let line = "stash-check: synced generation";
    let synced = number_on_line(&output, line, "generation");
    assert_eq!(
        number_on_line(&output, line, "after"),
        2,
        "the sync found no write-out in progress (the scenario did not happen):\n{output}"
    );
    assert_eq!(number_on_line(&output, line, "committed"), synced);
    step(session.kill());

    // The generation before the sync's own is the periodic one that was
    // writing out when the program mapped a page waiting in it: resumed
    // from it (a copy of the store, newest header damaged), the program
    // maps that page again and must find it as it was at the pause.
    let fallback = store("stash-fallback");
    std::fs::copy(&path, &fallback).expect("copy the store image");
    let newest = open_on_host(&fallback).generation();
    let slot = if slot_generation(&fallback, 0) == newest {
        0
    } else {
        1
    };
    flip_byte(&fallback, slot * abide_store::BLOCK_SIZE as u64 + 20);
    let mut session = step(Session::boot(
        BootOptions::with_cmdline("config=stash-check").with_store(&fallback),
    ));
    // Back in its loop, it goes on to the sync (as a resumed program).
    step(session.expect("stash-check: done", BOOT));
    let output = session.output();
    assert_contains(
        &output,
        &format!("store: resumed generation {} ", synced - 1),
    );
    let late = "stash-check: a page mapped during the write-out held";
    assert!(
        output
            .lines()
            .any(|line| host::untagged(line.trim_end()) == format!("{late} 0x0")),
        "the page mapped during the write-out was saved as it was later:\n{output}"
    );
    assert_contains(&output, &format!("the stash holds {NEW}"));
    step(session.kill());

    let mut session = step(Session::boot(options()));
    step(session.expect("stash-check: done", BOOT));
    let output = session.output();
    assert_kernel_healthy(&output);
    assert_contains(&output, &format!("store: resumed generation {synced} "));
    let line = "stash-check: resumed from generation";
    assert_eq!(number_on_line(&output, line, "generation"), synced);
    let returned = number_on_line(&output, line, "returned");
    assert_eq!(
        returned, synced,
        "resumed from generation {synced}, the sync said {returned}:\n{output}"
    );
    assert!(
        output.contains(&format!("the stash holds {NEW}")),
        "the child's write was lost at the power cut:\n{output}"
    );
    let syncs: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("stash-check: sync returned"))
        .collect();
    assert_eq!(syncs.len(), 2, "{output}");
    for (index, line) in syncs.iter().enumerate() {
        let returned = number_after(line, "returned");
        assert_eq!(returned, synced + 1 + index as u64, "{output}");
        assert_eq!(number_after(line, "committed"), returned, "{output}");
    }
    step(session.kill());
}

#[test]
fn a_crafted_image_with_valid_checksums_is_refused_and_left_untouched() {
    use abide_image::{Image, KindImage};
    let path = store("crafted-image");
    let mut session = boot_to_shell(BootOptions::default().with_store(&path));
    command(&mut session, "sync", "synced generation");
    step(session.kill());
    let real = open_writable(&path).state().expect("read the object state");

    type Craft = fn(&mut Image);
    let crafts: [(&str, Craft); 4] = [
        // The last object id at the end of its space: the next object the
        // kernel creates would overflow it.
        ("the last object id is out of range", |image| {
            image.last_object_id = u64::MAX
        }),
        // A derivation cycle: revoking any handle in it would loop forever.
        ("is its own ancestor", |image| {
            abide_image::testing::with_open_caps(image, |caps| {
                abide_image::testing::make_derivation_cycle(caps).expect("a root with a child");
            })
        }),
        // A writable and executable page in a persistent process.
        ("is not a user page", |image| {
            let page = image
                .objects
                .iter_mut()
                .find_map(|object| match &mut object.kind {
                    KindImage::Process(process) => process.space.as_mut()?.pages.first_mut(),
                    _ => None,
                })
                .expect("a persistent process with pages");
            page.1 = (page.1 | 1 << 1) & !(1 << 63);
        }),
        // A running process charged no kernel memory: it could fill the
        // kernel heap beyond its limit.
        ("charged fewer kernel bytes", |image| {
            let account = image
                .objects
                .iter_mut()
                .find_map(|object| match &mut object.kind {
                    KindImage::Process(process) => Some(&mut process.account),
                    _ => None,
                })
                .expect("a process");
            account.kernel_bytes = 0;
        }),
    ];
    for (refusal, craft) in crafts {
        let crafted = commit_crafted_state(&path, &real, craft);
        assert_eq!(open_on_host(&path).generation(), crafted);
        let before = std::fs::read(&path).expect("read the store image");

        let mut session = boot_to_shell(BootOptions::default().with_store(&path));
        let output = session.output();
        assert_contains(
            &output,
            &format!("store: generation {crafted} is refused: "),
        );
        assert_contains(&output, refusal);
        assert_contains(&output, "left untouched");
        assert_contains(&output, "--fresh");
        let status = command(&mut session, "persist | select enabled", "enabled");
        assert_eq!(first_number(&status, "enabled"), 0);
        power_off(&mut session);
        assert!(
            std::fs::read(&path).expect("read the store image") == before,
            "a refused store was written to"
        );
    }
}
