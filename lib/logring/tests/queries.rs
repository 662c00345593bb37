//! Queries on the ring: by component, level and time, newest first and
//! bounded.

mod support;

use abide_logring::{Filter, Level, LevelFilter, Ring};
use support::{recs, req, Rec};

/// A log of 12 entries: components net/disk/init in turn, levels
/// cycling Error, Warn, Info, Debug, time 100 × seq.
fn sample(region: &mut [u8]) -> Ring<&mut [u8]> {
    let mut ring = Ring::open(&mut region[..]);
    for i in 0..12u64 {
        let rec = Rec {
            time_ns: 100 * i,
            level: Level::from_u8((i % 4) as u8 + 1).unwrap(),
            component: ["net", "disk", "init"][(i % 3) as usize].into(),
            ..req(
                1,
                i + 1,
                &format!("message {i} {}", if i % 5 == 0 { "boom" } else { "ok" }),
            )
        };
        ring.append(&rec.new_entry()).unwrap();
    }
    ring
}

fn seqs(ring: &Ring<&mut [u8]>, filter: Filter) -> Vec<u64> {
    ring.query(filter).map(|e| e.seq).collect()
}

#[test]
fn the_default_filter_selects_everything() {
    let mut region = vec![0u8; 16 * 1024];
    let ring = sample(&mut region);
    assert_eq!(seqs(&ring, Filter::new()), (0..12).collect::<Vec<_>>());
    assert_eq!(Filter::default().level, LevelFilter::Any);
    assert_eq!(
        ring.query(Filter::new()).map(Rec::from).collect::<Vec<_>>(),
        recs(&ring)
    );
}

#[test]
fn filters_by_component_level_time_and_text() {
    let mut region = vec![0u8; 16 * 1024];
    let ring = sample(&mut region);
    assert_eq!(seqs(&ring, Filter::new().component("disk")), [1, 4, 7, 10]);
    assert_eq!(seqs(&ring, Filter::new().component("dis")), [] as [u64; 0]);
    assert_eq!(seqs(&ring, Filter::new().level(Level::Warn)), [1, 5, 9]);
    assert_eq!(
        seqs(&ring, Filter::new().at_least(Level::Warn)),
        [0, 1, 4, 5, 8, 9]
    );
    assert_eq!(seqs(&ring, Filter::new().at_least(Level::Error)), [0, 4, 8]);
    assert_eq!(seqs(&ring, Filter::new().at_least(Level::Debug)).len(), 12);
    assert_eq!(seqs(&ring, Filter::new().since(300).until(500)), [3, 4, 5]);
    assert_eq!(seqs(&ring, Filter::new().since(1100)), [11]);
    assert_eq!(seqs(&ring, Filter::new().until(0)), [0]);
    assert_eq!(seqs(&ring, Filter::new().containing("boom")), [0, 5, 10]);
    assert_eq!(
        seqs(&ring, Filter::new().containing("message 1")),
        [1, 10, 11]
    );
    assert_eq!(
        seqs(&ring, Filter::new().component("net").at_least(Level::Warn)),
        [0, 9]
    );
    assert_eq!(
        seqs(
            &ring,
            Filter::new()
                .component("init")
                .containing("boom")
                .since(600)
        ),
        [] as [u64; 0]
    );
}

#[test]
fn last_matching_returns_the_newest_selected_entries() {
    let mut region = vec![0u8; 16 * 1024];
    let ring = sample(&mut region);
    let f = Filter::new().component("net");
    let last2: Vec<u64> = ring.last_matching(f, 2).map(|e| e.seq).collect();
    assert_eq!(last2, [6, 9]);
    assert_eq!(ring.last_matching(f, 100).count(), 4);
    assert_eq!(ring.last_matching(f, 0).count(), 0);
}

#[test]
fn queries_see_only_the_entries_still_in_the_ring() {
    let mut region = vec![0u8; abide_logring::layout::DATA_AT + 1024];
    let mut ring = Ring::open(&mut region[..]);
    for token in 1..=100 {
        ring.append(&req(token as u32 % 2, token, "x").new_entry())
            .unwrap();
    }
    let got = seqs(&ring, Filter::new().component("comp1"));
    assert!(!got.is_empty());
    assert!(got.iter().all(|&s| s >= ring.first_seq() && s % 2 == 0));
}
