//! The `bench:` lines: how records print and parse, what is not a record,
//! and the benchmark names they carry.

use abide_benchfmt::{linux, Record, RecordError, Summary, CONTEXT_SWITCH, NAMES, NULL_SYSCALL};

#[test]
fn a_tagged_line_is_read_without_its_tag() {
    assert_eq!(
        Record::parse("<4 bench> bench: done\r"),
        Ok(Some(Record::Done))
    );
}

#[test]
fn records_round_trip() {
    let summary = Summary {
        iterations: 10_000,
        median: 812,
        p99: 1204,
    };
    let records = [
        Record::Start {
            entry: 81_234_567,
            now: 81_240_011,
        },
        Record::Value {
            name: linux::MEMORY_FREE_KIB,
            value: 230_112,
        },
        Record::Tsc { hz: 2_995_200_000 },
        Record::Result {
            name: NULL_SYSCALL,
            summary,
        },
        Record::Failed {
            name: CONTEXT_SWITCH,
            reason: "port_wait:BadHandle",
        },
        Record::Done,
    ];
    let lines = [
        "bench: start entry=81234567 now=81240011",
        "bench: value name=memory-free-kib value=230112",
        "bench: tsc hz=2995200000",
        "bench: result name=null-syscall iterations=10000 median=812 p99=1204",
        "bench: failed name=context-switch reason=port_wait:BadHandle",
        "bench: done",
    ];
    for (record, line) in records.iter().zip(lines) {
        assert_eq!(record.to_string(), line);
        assert_eq!(Record::parse(line), Ok(Some(*record)));
    }
}

#[test]
fn parsing_is_tolerant_of_order_extra_fields_and_line_ends() {
    assert_eq!(
        Record::parse("bench: result p99=3 median=2 name=x iterations=1 min=1\r"),
        Ok(Some(Record::Result {
            name: "x",
            summary: Summary {
                iterations: 1,
                median: 2,
                p99: 3
            }
        }))
    );
    assert_eq!(Record::parse("  bench: done  \r\n"), Ok(Some(Record::Done)));
}

#[test]
fn other_lines_are_not_records() {
    for line in [
        "",
        "hello from user space",
        "process 3 (bench) exited with status 0",
        "bench:done",
        "benchmarks: done",
        "xbench: done",
    ] {
        assert_eq!(Record::parse(line), Ok(None), "{line:?}");
    }
}

#[test]
fn malformed_records_are_errors() {
    assert_eq!(Record::parse("bench: "), Err(RecordError::UnknownKind));
    assert_eq!(Record::parse("bench: frob"), Err(RecordError::UnknownKind));
    assert_eq!(
        Record::parse("bench: tsc"),
        Err(RecordError::MissingField("hz"))
    );
    assert_eq!(
        Record::parse("bench: tsc hz=fast"),
        Err(RecordError::BadNumber("hz"))
    );
    assert_eq!(
        Record::parse("bench: result name=x iterations=1 median=-2 p99=3"),
        Err(RecordError::BadNumber("median"))
    );
    assert_eq!(
        Record::parse("bench: failed name=x"),
        Err(RecordError::MissingField("reason"))
    );
    assert_eq!(
        Record::parse("bench: start entry=1"),
        Err(RecordError::MissingField("now"))
    );
    assert_eq!(
        Record::parse("bench: value name=x value=1.5"),
        Err(RecordError::BadNumber("value"))
    );
    assert_eq!(
        RecordError::MissingField("p99").to_string(),
        "no p99= field"
    );
}

#[test]
fn names_are_single_words_and_unique() {
    for names in [NAMES, linux::NAMES] {
        for (i, name) in names.iter().enumerate() {
            assert!(!name.is_empty() && !name.contains(char::is_whitespace));
            assert!(!name.contains('='));
            assert!(!names[..i].contains(name), "{name} twice");
        }
    }
}
