//! Crashes simulated at every store and every hand-over to the device,
//! followed by the next instance's recovery and the client's resend: a
//! write is printed once, less at most one byte per crash, and a note is
//! whole or absent.

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use abide_inflight::{Kind, Region, Requests, Transmitter, RECENT};
use support::*;

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
