//! The wire layout of every record that crosses the system-call boundary,
//! pinned byte by byte: a record's fields at their offsets, little-endian,
//! reserved bytes zero. User programs and the kernel both read these
//! layouts, so a change here is a change of the ABI.

use abide_abi::object::{
    HandleInfo, MemoryStats, MessageInfo, ObjectKind, Packet, ProcessState, ProcessStatus, Signals,
    SpawnOptions, SPAWN_PERSISTENT,
};
use abide_abi::persist::PersistStatus;
use abide_abi::record::Record;

/// `bytes` with the little-endian `value` of `width` bytes written at `at`.
fn put(bytes: &mut [u8], at: usize, width: usize, value: u64) {
    bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
}

#[test]
fn handle_info() {
    let info = HandleInfo {
        handle: 0x0102_0304,
        kind: ObjectKind::Channel,
        rights: 0x0a0b_0c0d,
        reserved: [0; 4],
        badge: 0x1112_1314_1516_1718,
        object: 0x2122_2324_2526_2728,
    };
    let mut bytes = [0u8; 32];
    put(&mut bytes, 0, 4, 0x0102_0304);
    put(&mut bytes, 4, 4, 3);
    put(&mut bytes, 8, 4, 0x0a0b_0c0d);
    put(&mut bytes, 16, 8, 0x1112_1314_1516_1718);
    put(&mut bytes, 24, 8, 0x2122_2324_2526_2728);
    assert_eq!(HandleInfo::LEN, 32);
    assert_eq!(info.encode(), bytes);
    assert_eq!(HandleInfo::decode(&bytes), Some(info));
}

#[test]
fn packet() {
    let packet = Packet {
        key: 0x0102_0304_0506_0708,
        signals: Signals::READABLE.union(Signals::PEER_CLOSED),
        reserved: [0; 4],
        timestamp_ns: 0x1112_1314_1516_1718,
    };
    let mut bytes = [0u8; 24];
    put(&mut bytes, 0, 8, 0x0102_0304_0506_0708);
    put(&mut bytes, 8, 4, 0b101);
    put(&mut bytes, 16, 8, 0x1112_1314_1516_1718);
    assert_eq!(Packet::LEN, 24);
    assert_eq!(packet.encode(), bytes);
    assert_eq!(Packet::decode(&bytes), Some(packet));
}

#[test]
fn message_info() {
    let info = MessageInfo {
        bytes: 65536,
        handles: 16,
        badge: 0x1112_1314_1516_1718,
    };
    let mut bytes = [0u8; 16];
    put(&mut bytes, 0, 4, 65536);
    put(&mut bytes, 4, 4, 16);
    put(&mut bytes, 8, 8, 0x1112_1314_1516_1718);
    assert_eq!(MessageInfo::LEN, 16);
    assert_eq!(info.encode(), bytes);
    assert_eq!(MessageInfo::decode(&bytes), Some(info));
}

#[test]
fn process_status() {
    let status = ProcessStatus {
        state: ProcessState::Faulted,
        code: -2,
        vector: 14,
        error_code: 6,
        address: 0xdead_0000,
        rip: 0x40_1000,
        memory_pages: 300,
        memory_limit: u64::MAX,
        handles: 12,
        handle_quota: 1024,
        cpu_ns: 1 << 40,
    };
    let mut bytes = [0u8; 64];
    put(&mut bytes, 0, 4, 2);
    put(&mut bytes, 4, 4, 0xffff_fffe);
    put(&mut bytes, 8, 4, 14);
    put(&mut bytes, 12, 4, 6);
    put(&mut bytes, 16, 8, 0xdead_0000);
    put(&mut bytes, 24, 8, 0x40_1000);
    put(&mut bytes, 32, 8, 300);
    put(&mut bytes, 40, 8, u64::MAX);
    put(&mut bytes, 48, 4, 12);
    put(&mut bytes, 52, 4, 1024);
    put(&mut bytes, 56, 8, 1 << 40);
    assert_eq!(ProcessStatus::LEN, 64);
    assert_eq!(status.encode(), bytes);
    assert_eq!(ProcessStatus::decode(&bytes), Some(status));
}

#[test]
fn process_states_and_object_kinds_keep_their_codes() {
    let states = [
        (ProcessState::Running, 0),
        (ProcessState::Exited, 1),
        (ProcessState::Faulted, 2),
        (ProcessState::Killed, 3),
        (ProcessState::Lost, 4),
    ];
    for (state, code) in states {
        assert_eq!(state as u32, code);
    }
    for (code, kind) in ObjectKind::ALL.iter().enumerate() {
        assert_eq!(*kind as u32, code as u32);
    }
    assert_eq!(ObjectKind::HardwareResource as u32, 9);
}

#[test]
fn memory_stats() {
    let stats = MemoryStats {
        usable_bytes: 0x0102_0304_0506_0708,
        free_bytes: 0x1112_1314_1516_1718,
        heap_used_bytes: 0x2122_2324_2526_2728,
        heap_bytes: 0x3132_3334_3536_3738,
    };
    let mut bytes = [0u8; 32];
    put(&mut bytes, 0, 8, 0x0102_0304_0506_0708);
    put(&mut bytes, 8, 8, 0x1112_1314_1516_1718);
    put(&mut bytes, 16, 8, 0x2122_2324_2526_2728);
    put(&mut bytes, 24, 8, 0x3132_3334_3536_3738);
    assert_eq!(MemoryStats::LEN, 32);
    assert_eq!(stats.encode(), bytes);
    assert_eq!(MemoryStats::decode(&bytes), Some(stats));
}

#[test]
fn spawn_options() {
    let options = SpawnOptions {
        priority: 3,
        memory_pages: 0x1112_1314_1516_1718,
        handle_quota: 0x0102_0304,
        flags: SPAWN_PERSISTENT,
        authority: 0xdead_beef,
        ..SpawnOptions::default()
    };
    let mut bytes = [0u8; 24];
    bytes[0] = 3;
    bytes[1] = SPAWN_PERSISTENT;
    put(&mut bytes, 4, 4, 0x0102_0304);
    put(&mut bytes, 8, 8, 0x1112_1314_1516_1718);
    put(&mut bytes, 16, 4, 0xdead_beef);
    assert_eq!(SpawnOptions::LEN, 24);
    assert_eq!(options.encode(), bytes);
    assert_eq!(SpawnOptions::decode(&bytes), Some(options));
    // The kernel reads options from user memory: the reserved bytes are
    // not looked at.
    let mut noisy = bytes;
    noisy[2] = 0xff;
    noisy[3] = 0xff;
    noisy[20..24].fill(0xff);
    let read = SpawnOptions::decode(&noisy).unwrap();
    assert_eq!(
        (read.priority, read.flags, read.handle_quota),
        (3, SPAWN_PERSISTENT, 0x0102_0304)
    );
    assert_eq!(
        (read.memory_pages, read.authority),
        (0x1112_1314_1516_1718, 0xdead_beef)
    );
}

#[test]
fn persist_status() {
    let status = PersistStatus {
        enabled: 1,
        generation: 2,
        resumed_from: 3,
        period_ms: 4,
        checkpoints: 5,
        last_pause_ns: 6,
        last_write_ns: 7,
        last_pages_written: 8,
        store_blocks: 9,
        used_blocks: 0x0102_0304_0506_0708,
    };
    let mut bytes = [0u8; 80];
    for (i, value) in (1..=9).enumerate() {
        put(&mut bytes, i * 8, 8, value);
    }
    put(&mut bytes, 72, 8, 0x0102_0304_0506_0708);
    assert_eq!(PersistStatus::LEN, 80);
    assert_eq!(status.encode(), bytes);
    assert_eq!(PersistStatus::decode(&bytes), Some(status));
}

#[test]
fn records_are_read_from_unaligned_bytes_of_the_exact_length() {
    let status = ProcessStatus {
        state: ProcessState::Exited,
        code: 7,
        cpu_ns: 9,
        ..ProcessStatus::default()
    };
    let mut buffer = [0u8; 1 + 64 + 1];
    buffer[1..65].copy_from_slice(status.encode());
    assert_eq!(ProcessStatus::decode(&buffer[1..65]), Some(status));
    assert_eq!(ProcessStatus::decode(&buffer[1..64]), None);
    assert_eq!(ProcessStatus::decode(&buffer[..]), None);
}

#[test]
fn unknown_codes_are_refused() {
    let mut bytes = [0u8; 64];
    put(&mut bytes, 0, 4, 5);
    assert_eq!(ProcessStatus::decode(&bytes), None);
    let mut bytes = [0u8; 32];
    put(&mut bytes, 4, 4, 10);
    assert_eq!(HandleInfo::decode(&bytes), None);
    put(&mut bytes, 4, 4, 9);
    assert_eq!(
        HandleInfo::decode(&bytes).map(|info| info.kind),
        Some(ObjectKind::HardwareResource)
    );
}
