//! Random operations with random crashes, checked against a model: the
//! log is the list of committed requests, each (client, token) at most
//! once, and the ring holds its newest part.

mod support;

use std::collections::HashMap;

use abide_logring::layout::{DATA_AT, HEAD_AT};
use abide_logring::{Appended, Filter, Level, Recovery, Ring};
use support::{crashed, recs, Rec, Recorder, Rng, Store};

const CLIENTS: u32 = 20;
const COMPONENTS: [&str; 4] = ["net", "disk", "init", "log"];

#[derive(Default)]
struct Model {
    /// Every committed request, in order.
    committed: Vec<Rec>,
    /// Each client's highest committed token and its seq.
    newest: HashMap<u32, (u64, u64)>,
    /// Each client's last token used.
    last_token: HashMap<u32, u64>,
    /// The request the journal should hold.
    in_flight: Option<(u32, u64)>,
}

impl Model {
    fn commit(&mut self, rec: Rec) {
        let key = (rec.client, rec.token);
        assert!(
            !self.committed.iter().any(|r| (r.client, r.token) == key),
            "{key:?} committed twice"
        );
        assert_eq!(rec.seq, self.committed.len() as u64);
        self.newest.insert(rec.client, (rec.token, rec.seq));
        self.committed.push(rec);
    }

    /// What appending `rec` must answer, given the ring's oldest seq.
    fn expected(&self, rec: &Rec, first_seq: u64) -> Appended {
        match self.newest.get(&rec.client) {
            Some(&(token, seq)) if rec.token == token => Appended::Duplicate(Some(seq)),
            Some(&(token, _)) if rec.token < token => {
                let earlier = self
                    .committed
                    .iter()
                    .find(|r| (r.client, r.token) == (rec.client, rec.token));
                Appended::Duplicate(earlier.map(|r| r.seq).filter(|&s| s >= first_seq))
            }
            _ => Appended::New(self.committed.len() as u64),
        }
    }

    /// The ring must hold the newest committed requests.
    fn check<S: abide_logring::Region>(&self, ring: &Ring<S>, what: &str) {
        let got = recs(ring);
        assert_eq!(ring.head(), self.committed.len() as u64, "{what}");
        assert_eq!(
            got[..],
            self.committed[self.committed.len() - got.len()..],
            "{what}"
        );
        for (&client, &(token, seq)) in &self.newest {
            let record = ring.client_record(client).unwrap();
            assert_eq!(
                (record.token, record.seq),
                (token, seq),
                "{what}: client {client}"
            );
        }
        assert_eq!(ring.client_records().count(), self.newest.len(), "{what}");
    }

    fn request(&mut self, rng: &mut Rng, time: u64) -> Rec {
        let client = rng.below(u64::from(CLIENTS)) as u32;
        let last = self.last_token.entry(client).or_insert(0);
        let token = if *last > 0 && rng.chance(10) {
            1 + rng.below(*last) // a stale or repeated request
        } else {
            *last += 1 + rng.below(3);
            *last
        };
        let len = if rng.chance(5) {
            rng.below(513)
        } else {
            rng.below(80)
        } as usize;
        Rec {
            seq: u64::MAX,
            time_ns: time,
            level: Level::from_u8(1 + rng.below(4) as u8).unwrap(),
            component: COMPONENTS[rng.below(4) as usize].into(),
            client,
            token,
            text: rng.text(len),
        }
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    let mut region = vec![0u8; DATA_AT + 2048 + rng.below(4096) as usize];
    let mut model = Model::default();
    let mut pending: Option<Rec> = None;
    let mut time = 0;
    let (mut crashes, mut committed_in_crash) = (0, 0);
    for step in 0..steps {
        let what = format!("seed {seed} step {step}");
        // A new instance: recovery, perhaps cut by a crash itself.
        let mut ring = Ring::open(Recorder::new(region.clone()));
        assert!(
            step == 0 || ring.recovery() == Recovery::Recovered,
            "{what}"
        );
        if !ring.region().log.is_empty() && step > 0 && rng.chance(30) {
            let log = &ring.region().log;
            region = crashed(&region, log, rng.below(log.len() as u64) as usize);
            continue;
        }
        model.check(&ring, &what);
        assert_eq!(ring.take_in_flight(), model.in_flight.take(), "{what}");

        time += rng.below(1000);
        let request = pending
            .take()
            .unwrap_or_else(|| model.request(&mut rng, time));
        let before = ring.region().bytes.clone();
        ring.region_mut().log.clear();
        ring.region_mut().reverse = rng.chance(50);
        let expected = model.expected(&request, ring.first_seq());
        let txid = step as u64;
        ring.begin(request.client, txid);
        let begun = ring.region().log.len();
        let result = ring.append(&request.new_entry()).unwrap();
        let appended = ring.region().log.len();
        ring.end();
        assert_eq!(result, expected, "{what}");
        let new_seq = model.committed.len() as u64;
        let recorder = ring.into_region();
        let log = recorder.log;

        if rng.chance(30) {
            let k = rng.below(log.len() as u64 + 1) as usize;
            region = crashed(&before, &log, k);
            let commit = log
                .iter()
                .position(|s| matches!(s, Store::Word(HEAD_AT, _)));
            if commit.is_some_and(|c| k > c) {
                model.commit(Rec {
                    seq: new_seq,
                    ..request.clone()
                });
                committed_in_crash += 1;
            }
            if (begun..=appended).contains(&k) {
                model.in_flight = Some((request.client, txid));
            }
            pending = Some(request); // the client saw no answer and retries
            crashes += 1;
        } else {
            region = recorder.bytes;
            if result == Appended::New(new_seq) {
                model.commit(Rec {
                    seq: new_seq,
                    ..request
                });
            }
        }
        if step % 25 == 0 {
            check_queries(&mut region.clone(), &model, &mut rng, &what);
        }
    }
    assert!(
        crashes > steps / 5 && committed_in_crash > 0,
        "the run exercised crashes"
    );
    assert!(model.committed.len() > steps / 2);
}

/// Random filters over the ring select what they select over the model's
/// newest requests.
fn check_queries(region: &mut [u8], model: &Model, rng: &mut Rng, what: &str) {
    let ring = Ring::open(region);
    let held = &model.committed[model.committed.len() - ring.len()..];
    for _ in 0..5 {
        let mut filter = Filter::new();
        if rng.chance(50) {
            filter = filter.component(COMPONENTS[rng.below(4) as usize]);
        }
        let level = Level::from_u8(1 + rng.below(4) as u8).unwrap();
        match rng.below(3) {
            0 => filter = filter.at_least(level),
            1 => filter = filter.level(level),
            _ => {}
        }
        let last_time = held.last().map_or(0, |r| r.time_ns);
        if rng.chance(50) {
            filter = filter.since(rng.below(last_time + 1));
        }
        if rng.chance(50) {
            filter = filter.until(rng.below(last_time + 1));
        }
        if rng.chance(30) {
            filter = filter.containing(["a", "b ", "xyz", ""][rng.below(4) as usize]);
        }
        let expected: Vec<&Rec> = held.iter().filter(|r| model_matches(&filter, r)).collect();
        let got: Vec<Rec> = ring.query(filter).map(Rec::from).collect();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            expected,
            "{what}: {filter:?}"
        );
        let n = rng.below(5) as usize;
        let last: Vec<Rec> = ring.last_matching(filter, n).map(Rec::from).collect();
        assert_eq!(
            last.iter().collect::<Vec<_>>(),
            expected[expected.len().saturating_sub(n)..]
        );
    }
    let n = rng.below(20) as usize;
    let last: Vec<Rec> = ring.last(n).map(Rec::from).collect();
    assert_eq!(
        last[..],
        held[held.len().saturating_sub(n)..],
        "{what}: last({n})"
    );
}

/// The filter's meaning, written independently of `Filter::matches`.
fn model_matches(f: &Filter, r: &Rec) -> bool {
    use abide_logring::LevelFilter::*;
    let level = match f.level {
        Any => true,
        AtLeast(l) => (r.level as u8) <= (l as u8),
        Exactly(l) => r.level == l,
    };
    level
        && f.component.is_none_or(|c| r.component == c)
        && f.since_ns.is_none_or(|t| r.time_ns >= t)
        && f.until_ns.is_none_or(|t| r.time_ns <= t)
        && f.text.is_none_or(|t| r.text.contains(t))
}

#[test]
fn random_operations_with_random_crashes() {
    for seed in 1..=6 {
        run(seed, 1500);
    }
}
