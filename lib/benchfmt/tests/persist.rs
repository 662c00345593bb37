//! The persistence benchmark's modes and value names.

use abide_benchfmt::persist::*;

#[test]
fn modes_round_trip() {
    for (mode, text) in [
        (
            Mode::Dirty {
                mib: 64,
                snapshots: 5,
            },
            "dirty-64x5",
        ),
        (Mode::Fill { mib: 1 }, "fill-1"),
        (
            Mode::Overhead {
                window_ms: 2000,
                rounds: 2,
            },
            "overhead-2000x2",
        ),
    ] {
        assert_eq!(mode.to_string(), text);
        assert_eq!(Mode::parse(text), Some(mode));
    }
    for bad in [
        "",
        "dirty-64",
        "dirty-x5",
        "dirty-+1x5",
        "fill-",
        "fill-1x",
        "overhead-1",
        "other-1",
    ] {
        assert_eq!(Mode::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn names_are_single_words_and_unique() {
    let mut names = vec![
        PAUSE_NS, WRITE_NS, PAGES, CALL_NS, GENERATION, RESUMED, FILLED_MIB,
    ];
    for list in [
        OPS,
        ELAPSED_NS,
        CHECKPOINTS,
        PERIOD_PAUSE_NS,
        PERIOD_WRITE_NS,
    ] {
        names.extend(list);
    }
    for (i, name) in names.iter().enumerate() {
        assert!(!name.is_empty() && !name.contains(char::is_whitespace));
        assert!(!name.contains('='));
        assert!(!names[..i].contains(name), "{name} twice");
    }
}
