//! Literals in `where` stages, read as the kind of the column they are
//! compared with: `mem > 4096` and `mem > 4KiB` both compare sizes, while
//! `name == 4096` compares text.
//!
//! The forms each kind accepts:
//!
//! | kind     | forms                                                        |
//! |----------|--------------------------------------------------------------|
//! | integer  | `42`, `-3`, `+7`                                             |
//! | size     | bytes (`4096`), or a number and a unit `B KiB MiB GiB TiB PiB EiB` (`4KiB`, `1.5MiB`, `2 GiB` quoted) |
//! | duration | nanoseconds (`1500`), or a number and a unit `ns us µs ms s min h` (`250us`, `10ms`, `1.5s`) |
//! | boolean  | `true`, `false`                                              |
//! | text     | any word                                                     |
//!
//! Units are matched without regard to ASCII case; one space may separate the
//! number from the unit. Fractions are truncated to whole bytes and
//! nanoseconds.

use alloc::string::String;

use crate::{Kind, Value};

/// Size units and their sizes in bytes.
const SIZE_UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("EiB", 1 << 60),
];

/// Duration units and their lengths in nanoseconds.
const TIME_UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// `literal` read as a value of `kind`, or `None` if it has no such reading.
pub fn convert(literal: &str, kind: Kind) -> Option<Value> {
    match kind {
        Kind::Int => literal.parse().ok().map(Value::Int),
        Kind::Text => Some(Value::Text(String::from(literal))),
        Kind::Bytes => scaled(literal, &SIZE_UNITS).map(Value::Bytes),
        Kind::Duration => scaled(literal, &TIME_UNITS).map(Value::Duration),
        Kind::Bool => match literal {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

/// What a literal of `kind` looks like, for error messages.
pub fn hint(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "an integer like 5 or -3",
        Kind::Text => "any text",
        Kind::Bytes => "a size like 4096, 4KiB or 1.5MiB",
        Kind::Duration => "a duration like 250us, 10ms or 2s (a bare number is nanoseconds)",
        Kind::Bool => "true or false",
    }
}

/// A number with an optional unit from `units` (none: the first unit, which
/// must be 1), in the smallest unit, if it fits in a `u64`.
fn scaled(literal: &str, units: &[(&str, u64)]) -> Option<u64> {
    let split = literal
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(literal.len());
    let (number, unit) = literal.split_at(split);
    let unit = unit.strip_prefix(' ').unwrap_or(unit);
    let size = if unit.is_empty() {
        1
    } else {
        units
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(unit))?
            .1
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    let dotted = number.len() != whole.len();
    if whole.is_empty() || (dotted && fraction.is_empty()) || fraction.len() > 18 {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().ok()?
    };
    let size = u128::from(size);
    let scale = 10u128.pow(fraction.len() as u32);
    let total = whole.checked_mul(size)? + fraction_value * size / scale;
    u64::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("42", Some(42)),
            ("-3", Some(-3)),
            ("+7", Some(7)),
            ("9223372036854775807", Some(i64::MAX)),
            ("9223372036854775808", None),
            ("4KiB", None),
            ("1.5", None),
            ("", None),
            ("x", None),
        ];
        for &(literal, expected) in cases {
            assert_eq!(
                convert(literal, Kind::Int),
                expected.map(Value::Int),
                "{literal:?}"
            );
        }
    }

    #[test]
    fn sizes() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("4096", Some(4096)),
            ("17B", Some(17)),
            ("4KiB", Some(4096)),
            ("4kib", Some(4096)),
            ("4 KiB", Some(4096)),
            ("2MiB", Some(2 << 20)),
            ("1.5MiB", Some(3 << 19)),
            ("0.5KiB", Some(512)),
            ("1.0001KiB", Some(1024)),
            ("3GiB", Some(3 << 30)),
            ("1TiB", Some(1 << 40)),
            ("1PiB", Some(1 << 50)),
            ("15EiB", Some(15 << 60)),
            ("16EiB", None),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("4KB", None),
            ("4K", None),
            ("4  KiB", None),
            ("KiB", None),
            (".5KiB", None),
            ("1.KiB", None),
            ("1.2.3KiB", None),
            ("-1", None),
            ("", None),
        ];
        for &(literal, expected) in cases {
            assert_eq!(
                convert(literal, Kind::Bytes),
                expected.map(Value::Bytes),
                "{literal:?}"
            );
        }
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("1500", Some(1500)),
            ("7ns", Some(7)),
            ("250us", Some(250_000)),
            ("250µs", Some(250_000)),
            ("10ms", Some(10_000_000)),
            ("10MS", Some(10_000_000)),
            ("2s", Some(2_000_000_000)),
            ("1.5s", Some(1_500_000_000)),
            ("1.234567891s", Some(1_234_567_891)),
            ("1.2345678919s", Some(1_234_567_891)),
            ("2min", Some(120_000_000_000)),
            ("1h", Some(3_600_000_000_000)),
            ("1 s", Some(1_000_000_000)),
            ("1m", None),
            ("2sec", None),
            ("s", None),
            ("", None),
        ];
        for &(literal, expected) in cases {
            assert_eq!(
                convert(literal, Kind::Duration),
                expected.map(Value::Duration),
                "{literal:?}"
            );
        }
    }

    #[test]
    fn booleans_and_text() {
        let cases: &[(&str, Option<Value>)] = &[
            ("true", Some(Value::Bool(true))),
            ("false", Some(Value::Bool(false))),
            ("True", None),
            ("1", None),
            ("yes", None),
        ];
        for (literal, expected) in cases {
            assert_eq!(&convert(literal, Kind::Bool), expected, "{literal:?}");
        }
        for literal in ["", "42", "4KiB", "true", "a b"] {
            assert_eq!(convert(literal, Kind::Text), Some(Value::text(literal)));
        }
    }

    #[test]
    fn every_kind_has_a_hint() {
        for kind in [
            Kind::Int,
            Kind::Text,
            Kind::Bytes,
            Kind::Duration,
            Kind::Bool,
        ] {
            assert!(!hint(kind).is_empty());
        }
        assert_eq!(hint(Kind::Bytes), "a size like 4096, 4KiB or 1.5MiB");
    }
}
