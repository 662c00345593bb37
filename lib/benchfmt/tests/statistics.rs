//! The statistics every benchmark reader and writer shares: nearest-rank
//! percentiles, summaries and the warm-up rounds.

use abide_benchfmt::{percentile, warmup, Summary, ITERATIONS, QUICK_ITERATIONS};

#[test]
fn nearest_rank_percentiles() {
    let samples: Vec<u64> = (1..=100).collect();
    assert_eq!(percentile(&samples, 50), Some(50));
    assert_eq!(percentile(&samples, 99), Some(99));
    assert_eq!(percentile(&samples, 100), Some(100));
    assert_eq!(percentile(&samples, 1), Some(1));
    assert_eq!(percentile(&[7], 50), Some(7));
    assert_eq!(percentile(&[7], 99), Some(7));
    // Two samples: the median is the lower one, p99 the upper.
    assert_eq!(percentile(&[1, 9], 50), Some(1));
    assert_eq!(percentile(&[1, 9], 99), Some(9));
    let ten_thousand: Vec<u64> = (0..10_000).collect();
    assert_eq!(percentile(&ten_thousand, 50), Some(4_999));
    assert_eq!(percentile(&ten_thousand, 99), Some(9_899));
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(percentile(&samples, 0), None);
    assert_eq!(percentile(&samples, 101), None);
}

#[test]
fn summary_sorts_first() {
    let mut samples = [5, 1, 4, 2, 3, 100];
    let summary = Summary::of(&mut samples).unwrap();
    assert_eq!(
        summary,
        Summary {
            iterations: 6,
            median: 3,
            p99: 100
        }
    );
    assert_eq!(samples, [1, 2, 3, 4, 5, 100]);
    assert_eq!(Summary::of(&mut []), None);
}

#[test]
fn warmup_is_one_percent_and_at_least_one() {
    assert_eq!(warmup(ITERATIONS), 100);
    assert_eq!(warmup(QUICK_ITERATIONS), 2);
    assert_eq!(warmup(99), 1);
    assert_eq!(warmup(0), 1);
}
