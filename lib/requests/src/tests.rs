//! Host tests: the table's operations, and crashes simulated at every store
//! and every hand-over to the device, followed by the next instance's
//! recovery and the client's resend.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::table::{CLIENTS_AT, CLIENT_LEN, PENDING_AT, PENDING_LEN};
use crate::{
    Kind, Recovery, Region, Requests, Transmitter, CLIENT_SLOTS, MAGIC, PENDING_SLOTS, RECENT,
    TABLE_LEN,
};

const LEN: usize = TABLE_LEN + 64;

/// A device that keeps what it was given.
#[derive(Default)]
struct Device(Vec<u8>);

impl Transmitter for Device {
    type Error = ();

    fn wait_ready(&mut self) -> Result<(), ()> {
        Ok(())
    }

    fn put(&mut self, byte: u8) -> Result<(), ()> {
        self.0.push(byte);
        Ok(())
    }
}

fn open(bytes: &mut [u8]) -> Requests<&mut [u8]> {
    Requests::open(bytes).expect("the region is large enough")
}

/// Serves a write as the driver does: send, reply, forget.
fn write<R: Region>(requests: &mut Requests<R>, client: u32, txid: u64, text: &[u8]) -> Vec<u8> {
    let mut device = Device::default();
    let slot = requests.write(client, txid, text, &mut device).unwrap();
    if let Some(slot) = slot {
        requests.forget(slot);
    }
    device.0
}

#[test]
fn a_region_too_small_holds_no_table() {
    let mut bytes = vec![0u8; TABLE_LEN - 1];
    assert!(Requests::open(&mut bytes[..]).is_none());
}

#[test]
fn blank_and_garbage_regions_are_formatted_and_a_table_is_recovered() {
    let mut bytes = vec![0u8; LEN];
    assert_eq!(open(&mut bytes).recovery(), Recovery::Formatted);
    assert_eq!(&bytes[..8], &MAGIC.to_le_bytes());
    assert_eq!(open(&mut bytes).recovery(), Recovery::Recovered);

    let mut garbage: Vec<u8> = (0..LEN).map(|i| (i * 7 + 3) as u8).collect();
    let requests = open(&mut garbage);
    assert_eq!(requests.recovery(), Recovery::Formatted);
    assert_eq!(requests.noted().count(), 0);
    assert!(!requests.is_complete(1, 1));
    // Only the table's bytes are touched.
    assert!(garbage[TABLE_LEN..]
        .iter()
        .enumerate()
        .all(|(i, &b)| b == ((i + TABLE_LEN) * 7 + 3) as u8));
}

#[test]
fn a_tag_this_format_never_writes_frees_its_slot() {
    let mut bytes = vec![0u8; LEN];
    open(&mut bytes);
    let tag: u64 = (1 << 63) | (9 << 32) | 5;
    bytes[PENDING_AT..PENDING_AT + 8].copy_from_slice(&tag.to_le_bytes());
    let requests = open(&mut bytes);
    assert_eq!(requests.noted().count(), 0);
    assert_eq!(&bytes[PENDING_AT..PENDING_AT + 8], &[0; 8]);
}

#[test]
fn notes_survive_reopening_and_a_repeat_keeps_its_note() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    let read = requests.note(7, 100, Kind::Read).unwrap();
    assert_eq!((read.client, read.txid, read.kind), (7, 100, Kind::Read));
    // The client sent the same read again: one note.
    assert_eq!(requests.note(7, 100, Kind::Read), Some(read));
    let other = requests.note(8, 100, Kind::Read).unwrap();
    assert_ne!(other.slot, read.slot);
    requests.forget(other.slot);
    assert_eq!(requests.noted().collect::<Vec<_>>(), [read]);
    let requests = open(&mut bytes);
    assert_eq!(requests.find(7, 100), Some(read));
    assert_eq!(requests.find(8, 100), None);
}

#[test]
fn a_write_is_sent_once_and_a_repeat_is_not_sent_again() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"line 1\r\n");
    assert!(requests.is_complete(3, 10));
    assert_eq!(requests.noted().count(), 0);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"");
    // Another client's txids are its own.
    assert_eq!(write(&mut requests, 4, 10, b"x"), b"x");
    // And the record outlives the instance.
    let mut requests = open(&mut bytes);
    assert_eq!(write(&mut requests, 3, 10, b"line 1\r\n"), b"");
    assert_eq!(write(&mut requests, 3, 11, b"line 2\r\n"), b"line 2\r\n");
}

#[test]
fn a_client_remembers_its_last_writes_only() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for txid in 1..=RECENT as u64 + 1 {
        write(&mut requests, 1, txid, b"a");
    }
    assert!(!requests.is_complete(1, 1));
    assert!((2..=RECENT as u64 + 1).all(|txid| requests.is_complete(1, txid)));
    // Txid 0 is never a client's.
    assert!(!requests.is_complete(1, 0));
}

#[test]
fn the_client_that_completed_least_recently_gives_up_its_slot() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for client in 1..=CLIENT_SLOTS as u32 {
        write(&mut requests, client, 50, b"a");
    }
    // Client 1 writes again, so client 2 is the least recent.
    write(&mut requests, 1, 51, b"a");
    write(&mut requests, 1000, 50, b"a");
    assert!(!requests.is_complete(2, 50));
    assert!(requests.is_complete(1, 50) && requests.is_complete(1, 51));
    assert!((3..=CLIENT_SLOTS as u32).all(|client| requests.is_complete(client, 50)));
    assert!(requests.is_complete(1000, 50));
    // The evicted slot kept none of client 2's txids.
    let slot = (0..CLIENT_SLOTS)
        .find(|slot| {
            let at = CLIENTS_AT + slot * CLIENT_LEN;
            bytes[at..at + 4] == 1000u32.to_le_bytes()
        })
        .unwrap();
    let at = CLIENTS_AT + slot * CLIENT_LEN + 24;
    let txids: Vec<u64> = (0..RECENT)
        .map(|i| u64::from_le_bytes(bytes[at + i * 8..at + i * 8 + 8].try_into().unwrap()))
        .collect();
    assert_eq!(txids.iter().filter(|&&t| t != 0).count(), 1);
}

/// A device that accepts `limit` bytes, then fails.
struct Breaking {
    sent: Vec<u8>,
    limit: usize,
}

impl Transmitter for Breaking {
    type Error = ();

    fn wait_ready(&mut self) -> Result<(), ()> {
        Ok(())
    }

    fn put(&mut self, byte: u8) -> Result<(), ()> {
        if self.sent.len() == self.limit {
            return Err(());
        }
        self.sent.push(byte);
        Ok(())
    }
}

#[test]
fn a_new_instance_answers_what_its_predecessor_held_and_resumes_its_write() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    requests.note(1, 10, Kind::Read).unwrap();
    // A write cut after 4 bytes (the store counted a fifth, which failed).
    let mut device = Breaking {
        sent: Vec::new(),
        limit: 4,
    };
    assert!(requests.write(2, 20, b"line 9\r\n", &mut device).is_err());
    assert_eq!(device.sent, b"line");
    // A write noted but not begun, and one complete but not forgotten.
    requests.note(2, 21, Kind::Write).unwrap();
    let mut done = Device::default();
    requests.write(3, 30, b"ok", &mut done).unwrap();

    let mut requests = open(&mut bytes);
    let unfinished: Vec<_> = requests.unfinished().map(|n| (n.client, n.txid)).collect();
    assert_eq!(unfinished, [(2, 20)]);
    let mut answered = Vec::new();
    requests.answer_predecessors(|noted| answered.push((noted.client, noted.txid, noted.kind)));
    answered.sort();
    assert_eq!(
        answered,
        [
            (1, 10, Kind::Read),
            (2, 20, Kind::Write),
            (2, 21, Kind::Write),
            (3, 30, Kind::Write)
        ]
    );
    // Only the write with bytes out stays noted, for its resend.
    let left: Vec<_> = requests
        .noted()
        .map(|n| (n.client, n.txid, n.sent))
        .collect();
    assert_eq!(left, [(2, 20, 5)]);
    // The resend gives the device the rest (the fifth byte was lost).
    assert_eq!(write(&mut requests, 2, 20, b"line 9\r\n"), b"9\r\n");
    assert_eq!(requests.unfinished().count(), 0);
    assert_eq!(write(&mut requests, 3, 30, b"ok"), b"");
    assert_eq!(requests.noted().count(), 0);
}

#[test]
fn a_full_table_gives_inherited_slots_to_new_requests() {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    for txid in 0..PENDING_SLOTS as u64 {
        requests.note(1, txid + 1, Kind::Read).unwrap();
    }
    assert_eq!(requests.note(2, 1, Kind::Read), None);
    // Unnoted, the write is still sent.
    assert_eq!(write(&mut requests, 2, 2, b"hi"), b"hi");

    let mut requests = open(&mut bytes);
    // Taken up again by this instance: not given away.
    let kept = requests.note(1, 1, Kind::Read).unwrap();
    for txid in 0..PENDING_SLOTS as u64 - 1 {
        assert!(requests.note(3, txid + 1, Kind::Read).is_some());
    }
    assert_eq!(requests.note(3, 999, Kind::Read), None);
    assert_eq!(requests.find(1, 1), Some(kept));
}

#[test]
fn a_stash_holds_the_table_as_a_slice_does() {
    let mut memory = vec![0u8; LEN + 8];
    let skip = (8 - memory.as_ptr().addr() % 8) % 8;
    let aligned = &mut memory[skip..skip + LEN];
    let mut plain = vec![0u8; LEN];
    {
        let mut requests = Requests::open(crate::Stash::new(aligned)).unwrap();
        assert_eq!(write(&mut requests, 1, 2, b"ab"), b"ab");
        requests.note(1, 3, Kind::Read).unwrap();
    }
    {
        let mut requests = open(&mut plain);
        assert_eq!(write(&mut requests, 1, 2, b"ab"), b"ab");
        requests.note(1, 3, Kind::Read).unwrap();
    }
    assert!(memory[skip..skip + LEN] == plain[..]);
}

// ---- Crashes ----

/// What the simulated process did, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// A store to the region (its offset).
    Store(usize),
    /// A byte handed to the device.
    Put(u8),
    /// A reply written to the client's channel.
    Reply,
}

/// The process's life: it makes `budget` more events, then it is dead and
/// nothing it does has an effect any more.
#[derive(Clone)]
struct Life {
    budget: Rc<Cell<usize>>,
    /// The events made, and the first one refused (where it died).
    events: Rc<RefCell<Vec<(Event, bool)>>>,
}

impl Life {
    fn new(budget: usize) -> Self {
        Life {
            budget: Rc::new(Cell::new(budget)),
            events: Rc::default(),
        }
    }

    /// Whether `event` happens (the process is still alive).
    fn attempt(&self, event: Event) -> bool {
        let alive = self.budget.get() > 0;
        if alive {
            self.budget.set(self.budget.get() - 1);
        }
        self.events.borrow_mut().push((event, alive));
        alive
    }

    fn events(&self) -> Vec<(Event, bool)> {
        self.events.borrow().clone()
    }
}

/// A region whose stores stop when the process dies.
struct Mortal {
    bytes: Vec<u8>,
    life: Life,
}

impl Region for Mortal {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn store(&mut self, _: usize, _: &[u8]) {
        panic!("the table makes only u64 stores");
    }

    fn store_u64(&mut self, offset: usize, value: u64) {
        assert_eq!(offset % 8, 0, "unaligned store at {offset}");
        if self.life.attempt(Event::Store(offset)) {
            self.bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        }
    }
}

/// The UART, shared by every instance; it refuses a dead one's bytes.
struct Uart<'a> {
    output: &'a RefCell<Vec<u8>>,
    life: Life,
}

impl Transmitter for Uart<'_> {
    type Error = ();

    fn wait_ready(&mut self) -> Result<(), ()> {
        Ok(())
    }

    fn put(&mut self, byte: u8) -> Result<(), ()> {
        if !self.life.attempt(Event::Put(byte)) {
            return Err(());
        }
        self.output.borrow_mut().push(byte);
        Ok(())
    }
}

const CLIENT: u32 = 0x5eed;
const TXID: u64 = 1_000_000;
const LINE: &[u8] = b"line 57\r\n";

/// One instance of the driver, as `user/drivers/serial` runs it: answers
/// its predecessor's requests, then serves `requests` (txids of `LINE`
/// from `CLIENT`). Returns the replies it sent: (txid, restarted).
fn instance(
    bytes: Vec<u8>,
    life: &Life,
    output: &RefCell<Vec<u8>>,
    requests: &[u64],
) -> (Vec<u8>, Vec<(u64, bool)>) {
    let region = Mortal {
        bytes,
        life: life.clone(),
    };
    let mut table = Requests::open(region).unwrap();
    let mut replies = Vec::new();
    table.answer_predecessors(|noted| {
        if life.attempt(Event::Reply) {
            replies.push((noted.txid, true));
        }
    });
    let mut uart = Uart {
        output,
        life: life.clone(),
    };
    for &txid in requests {
        if let Ok(slot) = table.write(CLIENT, txid, LINE, &mut uart) {
            if life.attempt(Event::Reply) {
                replies.push((txid, false));
            }
            if let Some(slot) = slot {
                table.forget(slot);
            }
        }
    }
    (table.into_region().bytes, replies)
}

/// A region with history: other clients' notes and writes, and this
/// client's earlier writes (its ring full and wrapped).
fn history() -> Vec<u8> {
    let mut bytes = vec![0u8; LEN];
    let mut requests = open(&mut bytes);
    requests.note(9, 5, Kind::Read).unwrap();
    for txid in 1..=RECENT as u64 + 3 {
        write(&mut requests, CLIENT, TXID - 100 + txid, b"old\r\n");
        write(&mut requests, 10 + txid as u32, txid, b"other\r\n");
    }
    bytes
}

/// Whether a crash after the events `life` made loses a byte: the last
/// event was the progress store counting a byte, and the byte was next.
fn loses_a_byte(life: &Life) -> bool {
    let events = life.events();
    let Some(died) = events.iter().position(|(_, happened)| !happened) else {
        return false;
    };
    died > 0
        && matches!(events[died].0, Event::Put(_))
        && matches!(events[died - 1].0, Event::Store(_))
}

/// The client: it sends the write, and again after each `Restarted` or
/// when no reply came (`Client::resending_after`); a resend may also
/// arrive after the reply did. Checks every crash point of `crashes`
/// nested instances leaves the line printed exactly once, less at most the
/// one byte per crash that was between its progress store and the device.
fn check_crashes(depth: usize, bytes: Vec<u8>, output: Vec<u8>, lost: usize, what: &str) {
    for budget in 0.. {
        let life = Life::new(if depth == 0 { usize::MAX } else { budget });
        let out = RefCell::new(output.clone());
        // The request, and a copy the client resent while it waited.
        let (after, replies) = instance(bytes.clone(), &life, &out, &[TXID, TXID]);
        let finished = life.budget.get() > 0;
        let what = format!("{what} / cut after {budget} events");
        let lost = lost + usize::from(!finished && loses_a_byte(&life));
        if depth == 0 || finished {
            // Nobody died: the client has its reply, the line is there.
            assert!(replies.contains(&(TXID, false)), "{what}: {replies:?}");
            let printed = out.into_inner();
            let shown = String::from_utf8_lossy(&printed);
            assert_eq!(printed.len(), LINE.len() - lost, "{what}: {shown:?}");
            assert!(is_subsequence(&printed, LINE), "{what}: {shown:?}");
            // Nothing is left noted of it once the next instance started.
            let mut region = after;
            let mut requests = open(&mut region);
            requests.answer_predecessors(|_| {});
            assert_eq!(requests.find(CLIENT, TXID), None, "{what}");
            assert!(requests.is_complete(CLIENT, TXID), "{what}");
            if depth == 0 {
                return;
            }
            break;
        }
        check_crashes(depth - 1, after, out.into_inner(), lost, &what);
    }
}

fn is_subsequence(part: &[u8], whole: &[u8]) -> bool {
    let mut rest = whole.iter();
    part.iter().all(|byte| rest.any(|b| b == byte))
}

#[test]
fn a_crash_at_any_point_of_a_write_prints_it_once_less_at_most_a_byte() {
    check_crashes(1, history(), Vec::new(), 0, "one crash");
}

#[test]
fn crashes_of_the_instance_that_resumes_a_write_do_not_double_it_either() {
    check_crashes(2, history(), Vec::new(), 0, "two crashes");
}

#[test]
fn the_byte_can_be_lost_only_between_its_store_and_the_device() {
    // The cuts that lose a byte: one per byte of the line, the store of its
    // progress made and the byte not.
    let mut losing = 0;
    for budget in 0.. {
        let life = Life::new(budget);
        let out = RefCell::new(Vec::new());
        instance(history(), &life, &out, &[TXID]);
        if life.budget.get() > 0 {
            break;
        }
        losing += usize::from(loses_a_byte(&life));
    }
    assert_eq!(losing, LINE.len());
}

#[test]
fn a_crash_while_noting_leaves_a_whole_note_or_none() {
    let before = {
        let mut bytes = vec![0u8; LEN];
        open(&mut bytes);
        bytes
    };
    for budget in 0.. {
        let life = Life::new(budget);
        let region = Mortal {
            bytes: before.clone(),
            life: life.clone(),
        };
        let mut requests = Requests::open(region).unwrap();
        requests.note(4, 77, Kind::Read);
        let mut bytes = requests.into_region().bytes;
        let requests = open(&mut bytes);
        match requests.noted().collect::<Vec<_>>()[..] {
            [] => assert_eq!(life.budget.get(), 0),
            [noted] => assert_eq!((noted.client, noted.txid, noted.kind), (4, 77, Kind::Read)),
            ref more => panic!("{more:?}"),
        }
        if life.budget.get() > 0 {
            break;
        }
    }
}

#[test]
fn a_crash_while_formatting_is_formatted_again() {
    let garbage: Vec<u8> = (0..LEN).map(|i| (i * 13 + 1) as u8).collect();
    for budget in 0.. {
        let life = Life::new(budget);
        let region = Mortal {
            bytes: garbage.clone(),
            life: life.clone(),
        };
        let cut = Requests::open(region).unwrap().into_region().bytes;
        let mut bytes = cut;
        let requests = open(&mut bytes);
        assert_eq!(requests.noted().count(), 0);
        assert!(!requests.is_complete(CLIENT, TXID));
        if life.budget.get() > 0 {
            break;
        }
    }
}

#[test]
fn slots_are_where_the_format_says() {
    assert_eq!(PENDING_AT, 32);
    assert_eq!(PENDING_LEN, 32);
    assert_eq!(CLIENTS_AT, 2080);
    assert_eq!(TABLE_LEN, 2080 + CLIENT_SLOTS * (24 + RECENT * 8));
}
