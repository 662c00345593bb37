//! The console input buffer and its waiting reads, through the public API.

use abide_console::{Input, INPUT_CAPACITY};

/// Every answer `input` gives now, in order.
fn answers(input: &mut Input<&'static str>) -> Vec<(&'static str, Vec<u8>)> {
    let mut given = Vec::new();
    input.answer(|read, bytes| given.push((read, bytes)));
    given
}

fn push_all(input: &mut Input<&'static str>, bytes: &[u8]) {
    for &byte in bytes {
        input.push(byte);
    }
}

#[test]
fn reads_take_what_they_asked_for_oldest_first() {
    let mut input = Input::new();
    input.wait("first", 2);
    input.wait("second", 10);
    input.wait("third", 1);
    push_all(&mut input, b"hello");
    assert_eq!(
        answers(&mut input),
        [("first", b"he".to_vec()), ("second", b"llo".to_vec())]
    );
    assert_eq!(input.waiting(), 1);
    assert!(input.is_empty());
}

#[test]
fn input_waits_for_a_read_and_a_read_for_input() {
    let mut input = Input::new();
    push_all(&mut input, b"ab");
    assert!(answers(&mut input).is_empty());
    assert_eq!(input.len(), 2);
    input.wait("late", 5);
    assert!(answers(&mut input) == [("late", b"ab".to_vec())]);
    input.wait("early", 5);
    assert!(answers(&mut input).is_empty());
    assert_eq!(input.waiting(), 1);
}

#[test]
fn a_read_of_nothing_takes_one_byte() {
    let mut input = Input::new();
    input.wait("zero", 0);
    push_all(&mut input, b"xyz");
    assert_eq!(answers(&mut input), [("zero", b"x".to_vec())]);
}

#[test]
fn a_full_buffer_drops_the_oldest_bytes() {
    let mut input = Input::with_capacity(3);
    push_all(&mut input, b"abcde");
    input.wait("reader", 10);
    assert_eq!(answers(&mut input), [("reader", b"cde".to_vec())]);
    let mut default: Input<&str> = Input::new();
    for _ in 0..INPUT_CAPACITY + 5 {
        default.push(b'.');
    }
    assert_eq!(default.len(), INPUT_CAPACITY);
}

#[test]
fn a_read_from_the_same_client_replaces_the_waiting_one_in_place() {
    let mut input = Input::new();
    input.wait("a1", 1);
    input.wait("b1", 1);
    assert_eq!(
        input.wait_replacing("a2", 4, |old| old.starts_with('a')),
        Some("a1")
    );
    assert_eq!(
        input.wait_replacing("c1", 1, |old| old.starts_with('c')),
        None
    );
    push_all(&mut input, b"123456");
    assert_eq!(
        answers(&mut input),
        [
            ("a2", b"1234".to_vec()),
            ("b1", b"5".to_vec()),
            ("c1", b"6".to_vec())
        ]
    );
}
