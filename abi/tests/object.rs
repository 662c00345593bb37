//! The object vocabulary's small helpers: signal sets, the memory figures
//! and the packed handle pair of `channel_create`.

use abide_abi::object::{pack_pair, unpack_pair, MemoryStats, Signals};

#[test]
fn signals_are_sets() {
    let rw = Signals::READABLE.union(Signals::WRITABLE);
    assert!(rw.intersects(Signals::READABLE));
    assert!(!rw.intersects(Signals::TIMER));
    assert!(Signals::ALL.contains(rw));
    assert!(!Signals::READABLE.contains(rw));
}

#[test]
fn used_memory_is_usable_less_free() {
    let memory = MemoryStats {
        usable_bytes: 256 << 20,
        free_bytes: 200 << 20,
        ..MemoryStats::default()
    };
    assert_eq!(memory.used_bytes(), 56 << 20);
    let odd = MemoryStats {
        free_bytes: 1,
        ..MemoryStats::default()
    };
    assert_eq!(odd.used_bytes(), 0);
}

#[test]
fn handle_pairs_unpack_to_what_was_packed() {
    assert_eq!(unpack_pair(pack_pair(7, u32::MAX)), (7, u32::MAX));
    assert_eq!(pack_pair(1, 2), 0x2_0000_0001);
}
