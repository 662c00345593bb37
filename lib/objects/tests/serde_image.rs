//! The kernel's checkpoint image carries the handle tables (with the
//! derivation tree and the handles in transit) and the message queues
//! through serde; a restored table must be the same table.
#![cfg(feature = "serde")]

use abide_abi::syscall::{Handle, Rights};
use abide_objects::caps::Capabilities;
use abide_objects::queue::{HandleCount, Message, MessageQueue};

/// A payload with no handles.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct NoHandles;

impl HandleCount for NoHandles {
    fn count(&self) -> usize {
        0
    }
}

#[test]
fn handle_tables_and_transit_survive_an_image_round_trip() {
    let mut caps: Capabilities<u64> = Capabilities::new();
    let a = caps.create_table(16);
    let b = caps.create_table(16);
    let root = caps.insert(a, 100, Rights::ALL).unwrap();
    let derived = caps
        .duplicate(a, root, Rights(Rights::READ.0 | Rights::TRANSFER.0))
        .unwrap();
    let minted = caps.mint(a, root, Rights::ALL, 42).unwrap();
    let transit = caps.take_for_transfer(a, &[derived], None).unwrap();

    let bytes = postcard::to_allocvec(&(&caps, &transit)).unwrap();
    let (mut restored, restored_transit): (Capabilities<u64>, _) =
        postcard::from_bytes(&bytes).unwrap();
    assert_eq!(restored, caps);
    assert_eq!(restored_transit, transit);
    assert_eq!(restored.get(a, Handle(minted.0)).unwrap().object, 100);

    // The derivation tree still works: revoking the root reaches the
    // handle in transit and the minted one.
    let installed = restored.install(b, restored_transit).unwrap();
    assert_eq!(installed.handles.len(), 1);
    assert_eq!(restored.get(a, minted).unwrap().badge, 42);
    restored.revoke(a, root).unwrap();
    assert!(restored.get(a, minted).is_err());
    assert!(restored.get(b, installed.handles[0]).is_err());

    // And it behaves exactly like the table it was taken from.
    let original_installed = caps.install(b, transit).unwrap();
    assert_eq!(original_installed.handles, installed.handles);
    caps.revoke(a, root).unwrap();
    assert_eq!(restored, caps);
}

#[test]
fn message_queues_survive_an_image_round_trip() {
    let mut queue: MessageQueue<NoHandles> = MessageQueue::new(4, 1024);
    queue
        .push(Message {
            bytes: vec![1, 2, 3],
            handles: NoHandles,
        })
        .unwrap();
    queue.close_writer();
    let bytes = postcard::to_allocvec(&queue).unwrap();
    let restored: MessageQueue<NoHandles> = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(restored.len(), 1);
    assert_eq!(restored.bytes(), 3);
    assert!(restored.is_writer_closed());
    assert_eq!(restored.peek().unwrap().bytes, vec![1, 2, 3]);
}
