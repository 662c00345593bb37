//! Unit tests for each queue rule, and a property test against a model.

use abide_abi::syscall::{Error, Rights};
use abide_objects::caps::Capabilities;
use abide_objects::queue::*;
use proptest::prelude::*;
use std::collections::VecDeque;

type Queue = MessageQueue<Vec<u32>>;

fn msg(bytes: usize, handles: usize) -> Message<Vec<u32>> {
    let fill = (bytes % 251) as u8;
    Message {
        bytes: vec![fill; bytes],
        handles: (0..handles as u32).collect(),
    }
}

fn tagged(tag: u8, bytes: usize) -> Message<Vec<u32>> {
    Message {
        bytes: vec![tag; bytes],
        handles: vec![u32::from(tag)],
    }
}

#[test]
fn messages_come_out_in_order() {
    let mut q = Queue::new(4, 100);
    for tag in 1..=3 {
        q.push(tagged(tag, 5)).unwrap();
    }
    assert_eq!(q.len(), 3);
    assert_eq!(q.bytes(), 15);
    for tag in 1..=3 {
        assert_eq!(q.pop_if_fits(100, 16), Ok(tagged(tag, 5)));
    }
    assert!(q.is_empty());
    assert_eq!(q.bytes(), 0);
    assert_eq!(q.pop_if_fits(100, 16), Err(ReadError::Empty));
}

#[test]
fn oversized_messages_are_invalid_and_given_back() {
    let mut q = Queue::new(4, 2 * MAX_MESSAGE_BYTES);
    let (error, back) = q.push(msg(MAX_MESSAGE_BYTES + 1, 0)).unwrap_err();
    assert_eq!(
        (error, back.bytes.len()),
        (Error::InvalidArgument, MAX_MESSAGE_BYTES + 1)
    );
    let (error, back) = q.push(msg(0, MAX_MESSAGE_HANDLES + 1)).unwrap_err();
    assert_eq!(
        (error, back.handles.len()),
        (Error::InvalidArgument, MAX_MESSAGE_HANDLES + 1)
    );
    assert!(q.is_empty());
    q.push(msg(MAX_MESSAGE_BYTES, MAX_MESSAGE_HANDLES)).unwrap();
    assert_eq!(q.len(), 1);
}

#[test]
fn messages_that_could_never_fit_are_invalid() {
    let mut small = Queue::new(4, 10);
    assert_eq!(
        small.push(msg(11, 0)).unwrap_err().0,
        Error::InvalidArgument
    );
    small.push(msg(10, 0)).unwrap();
    let mut no_count = Queue::new(0, 10);
    assert_eq!(
        no_count.push(msg(0, 0)).unwrap_err().0,
        Error::InvalidArgument
    );
    let mut no_bytes = Queue::new(4, 0);
    assert_eq!(
        no_bytes.push(msg(0, 1)).unwrap_err().0,
        Error::InvalidArgument
    );
}

#[test]
fn a_full_queue_makes_the_writer_wait() {
    let mut by_count = Queue::new(2, 100);
    by_count.push(tagged(1, 1)).unwrap();
    by_count.push(tagged(2, 1)).unwrap();
    assert!(by_count.is_full());
    let (error, back) = by_count.push(tagged(3, 1)).unwrap_err();
    assert_eq!((error, back), (Error::ShouldWait, tagged(3, 1)));
    by_count.pop_if_fits(10, 10).unwrap();
    assert!(!by_count.is_full());
    by_count.push(tagged(3, 1)).unwrap();

    let mut by_bytes = Queue::new(10, 10);
    by_bytes.push(tagged(1, 6)).unwrap();
    assert!(!by_bytes.is_full());
    assert_eq!(
        by_bytes.push(tagged(2, 5)).unwrap_err().0,
        Error::ShouldWait
    );
    by_bytes.push(tagged(2, 4)).unwrap();
    assert!(by_bytes.is_full());
    assert_eq!(
        by_bytes.push(tagged(3, 0)).unwrap_err().0,
        Error::ShouldWait
    );
    assert_eq!(by_bytes.bytes(), 10);
}

#[test]
fn a_small_buffer_leaves_the_message_and_reports_its_size() {
    let mut q = Queue::new(4, 100);
    q.push(msg(20, 3)).unwrap();
    q.push(msg(1, 0)).unwrap();
    let too_small = Err(ReadError::TooSmall {
        bytes: 20,
        handles: 3,
    });
    assert_eq!(q.pop_if_fits(19, 16), too_small);
    assert_eq!(q.pop_if_fits(20, 2), too_small);
    assert_eq!(q.pop_if_fits(0, 0), too_small);
    assert_eq!((q.len(), q.bytes()), (2, 21));
    assert_eq!(q.pop_if_fits(20, 3), Ok(msg(20, 3)));
    assert_eq!(q.pop_if_fits(1, 0), Ok(msg(1, 0)));
}

#[test]
fn a_closed_writer_is_seen_once_the_queue_is_drained() {
    let mut q = Queue::new(4, 100);
    q.push(tagged(1, 2)).unwrap();
    q.close_writer();
    assert!(q.is_writer_closed());
    assert!(!q.is_reader_closed());
    assert_eq!(
        q.pop_if_fits(0, 0),
        Err(ReadError::TooSmall {
            bytes: 2,
            handles: 1
        })
    );
    assert_eq!(q.pop_if_fits(2, 1), Ok(tagged(1, 2)));
    assert_eq!(q.pop_if_fits(2, 1), Err(ReadError::PeerClosed));
    let (error, back) = q.push(tagged(2, 1)).unwrap_err();
    assert_eq!((error, back), (Error::BadHandle, tagged(2, 1)));
}

#[test]
fn closing_the_reader_hands_back_every_message() {
    let mut q = Queue::new(4, 100);
    q.push(tagged(1, 2)).unwrap();
    q.push(tagged(2, 3)).unwrap();
    assert_eq!(q.close_reader(), vec![tagged(1, 2), tagged(2, 3)]);
    assert!(q.is_reader_closed());
    assert!(q.is_empty());
    assert_eq!(q.bytes(), 0);
    let (error, back) = q.push(tagged(3, 1)).unwrap_err();
    assert_eq!((error, back), (Error::PeerClosed, tagged(3, 1)));
    assert_eq!(q.pop_if_fits(10, 10), Err(ReadError::Empty));
    assert!(q.close_reader().is_empty());
}

#[test]
fn read_errors_map_to_abi_errors() {
    assert_eq!(Error::from(ReadError::Empty), Error::ShouldWait);
    assert_eq!(Error::from(ReadError::PeerClosed), Error::PeerClosed);
    let too_small = ReadError::TooSmall {
        bytes: 1,
        handles: 0,
    };
    assert_eq!(too_small.error(), Error::BufferTooSmall);
}

#[test]
fn messages_carry_handles_in_transit() {
    let mut caps = Capabilities::new();
    let t = caps.create_table(8);
    let a = caps.insert(t, 'a', Rights::ALL).unwrap();
    let b = caps.insert(t, 'b', Rights::ALL).unwrap();
    let transit = caps.take_for_transfer(t, &[b, a], None).unwrap();
    let mut q = MessageQueue::new(1, 10);
    q.push(Message {
        bytes: vec![1],
        handles: transit,
    })
    .unwrap();
    assert_eq!(
        q.pop_if_fits(1, 1).unwrap_err(),
        ReadError::TooSmall {
            bytes: 1,
            handles: 2
        }
    );
    let got = q.pop_if_fits(1, 2).unwrap();
    assert_eq!(got.handles.count(), 2);
    assert_eq!(got.handles.objects().copied().collect::<String>(), "ba");
    assert_eq!(
        caps.install(t, got.handles).unwrap().handles,
        vec![Handle(3), Handle(4)]
    );
}

use abide_abi::syscall::Handle;

#[derive(Debug, Clone)]
enum Op {
    Push { bytes: usize, handles: usize },
    Pop { bytes: usize, handles: usize },
    CloseWriter,
    CloseReader,
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![
        12 => 0usize..16,
        8 => 0usize..300,
        1 => Just(MAX_MESSAGE_BYTES),
        1 => Just(MAX_MESSAGE_BYTES + 1),
    ];
    prop_oneof![
        12 => (size, prop_oneof![8 => 0usize..4, 1 => 0usize..20])
            .prop_map(|(bytes, handles)| Op::Push { bytes, handles }),
        10 => (prop_oneof![0usize..20, 0usize..300, Just(usize::MAX)], 0usize..5)
            .prop_map(|(bytes, handles)| Op::Pop { bytes, handles }),
        1 => Just(Op::CloseWriter),
        1 => Just(Op::CloseReader),
    ]
}

/// A message whose every byte and handle names its sequence number, so any
/// mix-up shows.
fn numbered(seq: u32, bytes: usize, handles: usize) -> Message<Vec<u32>> {
    let pattern = seq.to_le_bytes();
    Message {
        bytes: (0..bytes).map(|i| pattern[i % 4] ^ (i as u8)).collect(),
        handles: (0..handles as u32).map(|i| seq * 100 + i).collect(),
    }
}

/// What the model predicts for a push.
fn predict_push(
    model: &VecDeque<Message<Vec<u32>>>,
    m: &Message<Vec<u32>>,
    limits: (usize, usize),
    closed: (bool, bool),
) -> Result<(), Error> {
    let (max_messages, max_bytes) = limits;
    let queued: usize = model.iter().map(|m| m.bytes.len()).sum();
    let size = m.bytes.len();
    if size > MAX_MESSAGE_BYTES
        || m.handles.len() > MAX_MESSAGE_HANDLES
        || max_messages == 0
        || max_bytes == 0
        || size > max_bytes
    {
        Err(Error::InvalidArgument)
    } else if closed.0 {
        Err(Error::BadHandle)
    } else if closed.1 {
        Err(Error::PeerClosed)
    } else if model.len() >= max_messages || queued >= max_bytes || queued + size > max_bytes {
        Err(Error::ShouldWait)
    } else {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random pushes, pops and closes agree with a plain FIFO model: order,
    /// contents (bytes and handles), exact sizes on short buffers, bounds,
    /// and close semantics.
    #[test]
    fn queue_agrees_with_a_fifo_model(
        max_messages in 0usize..8,
        max_bytes in prop_oneof![0usize..64, 0usize..1000, Just(2 * MAX_MESSAGE_BYTES)],
        ops in proptest::collection::vec(op(), 0..100),
    ) {
        let mut q = Queue::new(max_messages, max_bytes);
        let mut model: VecDeque<Message<Vec<u32>>> = VecDeque::new();
        let (mut writer_closed, mut reader_closed) = (false, false);
        for (seq, op) in ops.into_iter().enumerate() {
            match op {
                Op::Push { bytes, handles } => {
                    let m = numbered(seq as u32, bytes, handles);
                    let expected = predict_push(&model, &m, (max_messages, max_bytes), (writer_closed, reader_closed));
                    prop_assert_eq!(q.check_push(bytes, handles), expected);
                    match q.push(m.clone()) {
                        Ok(()) => {
                            prop_assert_eq!(expected, Ok(()));
                            model.push_back(m);
                        }
                        Err((error, back)) => {
                            prop_assert_eq!(expected, Err(error));
                            prop_assert_eq!(back, m);
                        }
                    }
                }
                Op::Pop { bytes, handles } => {
                    let expected = match model.front() {
                        None if writer_closed => Err(ReadError::PeerClosed),
                        None => Err(ReadError::Empty),
                        Some(m) if m.bytes.len() > bytes || m.handles.len() > handles => {
                            Err(ReadError::TooSmall { bytes: m.bytes.len(), handles: m.handles.len() })
                        }
                        Some(_) => Ok(model.pop_front()),
                    };
                    prop_assert_eq!(q.pop_if_fits(bytes, handles).map(Some), expected);
                }
                Op::CloseWriter => {
                    q.close_writer();
                    writer_closed = true;
                }
                Op::CloseReader => {
                    prop_assert_eq!(q.close_reader(), model.drain(..).collect::<Vec<_>>());
                    reader_closed = true;
                }
            }
            let queued: usize = model.iter().map(|m| m.bytes.len()).sum();
            prop_assert_eq!(q.len(), model.len());
            prop_assert_eq!(q.bytes(), queued);
            prop_assert!(q.len() <= max_messages && q.bytes() <= max_bytes);
            prop_assert_eq!(q.is_empty(), model.is_empty());
            prop_assert_eq!(q.is_full(), model.len() >= max_messages || queued >= max_bytes);
            prop_assert_eq!((q.is_writer_closed(), q.is_reader_closed()), (writer_closed, reader_closed));
        }
    }
}

#[test]
fn check_pop_agrees_with_pop_if_fits() {
    let mut queue: MessageQueue<Vec<u32>> = MessageQueue::new(4, 1024);
    assert_eq!(queue.check_pop(10, 1), Err(ReadError::Empty));
    queue
        .push(Message {
            bytes: vec![1, 2, 3],
            handles: vec![7],
        })
        .unwrap();
    assert_eq!(
        queue.check_pop(2, 1),
        Err(ReadError::TooSmall {
            bytes: 3,
            handles: 1
        })
    );
    assert_eq!(queue.peek().map(|m| m.bytes.len()), Some(3));
    assert_eq!(queue.check_pop(3, 1), Ok((3, 1)));
    assert_eq!(queue.len(), 1, "check_pop takes nothing");
    assert!(queue.pop_if_fits(3, 1).is_ok());
    queue.close_writer();
    assert_eq!(queue.check_pop(3, 1), Err(ReadError::PeerClosed));
}

#[test]
fn payloads_can_be_updated_in_place() {
    let mut queue: MessageQueue<Vec<u32>> = MessageQueue::new(4, 1024);
    for value in 0..3u32 {
        let message = Message {
            bytes: vec![value as u8],
            handles: vec![value],
        };
        assert!(queue.push(message).is_ok());
    }
    for payload in queue.payloads_mut() {
        payload[0] += 10;
    }
    let message = queue.pop_if_fits(1024, 16).ok().unwrap();
    assert_eq!(message.handles, vec![10]);
    assert_eq!(queue.payloads_mut().count(), 2);
}
