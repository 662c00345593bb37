//! One cell of a table: a [`Value`] of one of five [`Kind`]s, how it prints
//! (sizes and durations in human units) and how values order when sorted.
//!
//! Sizes and durations are integers of their smallest unit (bytes,
//! nanoseconds) so that comparing and sorting them is exact; only printing
//! scales them.

use alloc::string::String;
use core::cmp::Ordering;
use core::fmt::{self, Display, Formatter};

use serde::{Deserialize, Serialize};

/// One cell of a table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// A plain integer (a count, an id). Printed as is.
    Int(i64),
    /// Text. Printed as is.
    Text(String),
    /// A size in bytes, printed in binary units: `512 B`, `12.0 KiB`,
    /// `3.4 MiB` (see [`format_bytes`]).
    Bytes(u64),
    /// A duration in nanoseconds, printed in the largest unit it reaches:
    /// `250 ns`, `15 ms`, `1.234 s` (see [`format_duration`]).
    Duration(u64),
    /// A truth value, printed `true` or `false`.
    Bool(bool),
}

/// The kind of a [`Value`], without its contents.
///
/// Kinds are declared in their *rank* order: values of different kinds sort
/// by rank (every `Int` before every `Text`, and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// [`Value::Int`].
    Int,
    /// [`Value::Text`].
    Text,
    /// [`Value::Bytes`].
    Bytes,
    /// [`Value::Duration`].
    Duration,
    /// [`Value::Bool`].
    Bool,
}

impl Kind {
    /// The kind's name as users see it in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "integer",
            Kind::Text => "text",
            Kind::Bytes => "size",
            Kind::Duration => "duration",
            Kind::Bool => "boolean",
        }
    }

    /// Whether values of this kind are numbers (rendered right-aligned).
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::Bytes | Kind::Duration)
    }
}

impl Display for Kind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Value {
    /// A text value.
    pub fn text(text: &str) -> Value {
        Value::Text(String::from(text))
    }

    /// This value's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Int(_) => Kind::Int,
            Value::Text(_) => Kind::Text,
            Value::Bytes(_) => Kind::Bytes,
            Value::Duration(_) => Kind::Duration,
            Value::Bool(_) => Kind::Bool,
        }
    }

    /// The total order used for sorting: values of the same kind compare
    /// naturally (numbers by value, text bytewise, `false` before `true`);
    /// values of different kinds compare by their [`Kind`]'s rank.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            (Value::Duration(a), Value::Duration(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            _ => self.kind().cmp(&other.kind()),
        }
    }
}

impl Ord for Value {
    /// [`Value::total_cmp`].
    fn cmp(&self, other: &Value) -> Ordering {
        self.total_cmp(other)
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Text(text) => f.write_str(text),
            Value::Bytes(bytes) => f.write_str(&format_bytes(*bytes)),
            Value::Duration(nanos) => f.write_str(&format_duration(*nanos)),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Binary size units after bytes, each 1024 times the one before.
const SIZE_UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// A size for people: below 1 KiB in bytes (`512 B`), otherwise in the
/// largest binary unit it reaches with one decimal, rounded to nearest
/// (`12.0 KiB`, `3.4 MiB`). A value that rounds up to 1024 of a unit is
/// shown in the next unit (`1048575` is `1.0 MiB`, not `1024.0 KiB`).
pub fn format_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return alloc::format!("{bytes} B");
    }
    let mut unit = 0;
    while unit + 1 < SIZE_UNITS.len() && bytes >> (10 * (unit + 2)) > 0 {
        unit += 1;
    }
    let mut tenths = rounded(bytes, 1 << (10 * (unit + 1)), 10);
    if tenths >= 10240 && unit + 1 < SIZE_UNITS.len() {
        unit += 1;
        tenths = rounded(bytes, 1 << (10 * (unit + 1)), 10);
    }
    alloc::format!("{}.{} {}", tenths / 10, tenths % 10, SIZE_UNITS[unit])
}

/// Duration units: (nanoseconds per unit, symbol), smallest first.
const TIME_UNITS: [(u64, &str); 4] = [
    (1, "ns"),
    (1_000, "µs"),
    (1_000_000, "ms"),
    (1_000_000_000, "s"),
];

/// A duration for people: in the largest of `ns`, `µs`, `ms` and `s` that it
/// reaches, with up to three decimals (rounded to nearest, trailing zeros
/// dropped): `0 ns`, `250 ns`, `250 µs`, `15 ms`, `1.5 s`, `1.234 s`,
/// `3600 s`. A value that rounds up to 1000 of a unit is shown in the next
/// unit (`999_999_999` ns is `1 s`).
pub fn format_duration(nanos: u64) -> String {
    let mut unit = TIME_UNITS
        .iter()
        .rposition(|&(size, _)| nanos >= size)
        .unwrap_or(0);
    let mut thousandths = rounded(nanos, TIME_UNITS[unit].0, 1000);
    if thousandths >= 1_000_000 && unit + 1 < TIME_UNITS.len() {
        unit += 1;
        thousandths = rounded(nanos, TIME_UNITS[unit].0, 1000);
    }
    let whole = thousandths / 1000;
    let symbol = TIME_UNITS[unit].1;
    let mut fraction = thousandths % 1000;
    if fraction == 0 {
        return alloc::format!("{whole} {symbol}");
    }
    let mut digits = 3;
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        digits -= 1;
    }
    alloc::format!("{whole}.{fraction:0digits$} {symbol}")
}

/// `value / unit` in units of `1 / scale`, rounded to nearest (halves up).
fn rounded(value: u64, unit: u64, scale: u64) -> u128 {
    let unit = u128::from(unit);
    (u128::from(value) * u128::from(scale) + unit / 2) / unit
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn bytes_print_in_binary_units() {
        let cases: &[(u64, &str)] = &[
            (0, "0 B"),
            (1, "1 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (12 * 1024, "12.0 KiB"),
            (12 * 1024 + 51, "12.0 KiB"),
            (12 * 1024 + 52, "12.1 KiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (1024 * 1024, "1.0 MiB"),
            (3_565_158, "3.4 MiB"),
            (5 << 30, "5.0 GiB"),
            (7 << 40, "7.0 TiB"),
            (1 << 50, "1.0 PiB"),
            (1 << 60, "1.0 EiB"),
            (u64::MAX, "16.0 EiB"),
        ];
        for &(bytes, text) in cases {
            assert_eq!(format_bytes(bytes), text, "{bytes} bytes");
            assert_eq!(Value::Bytes(bytes).to_string(), text);
        }
    }

    #[test]
    fn durations_print_in_the_largest_unit_reached() {
        let cases: &[(u64, &str)] = &[
            (0, "0 ns"),
            (1, "1 ns"),
            (999, "999 ns"),
            (1_000, "1 µs"),
            (1_500, "1.5 µs"),
            (250_000, "250 µs"),
            (999_999, "999.999 µs"),
            (9_999_996, "10 ms"),
            (15_000_000, "15 ms"),
            (15_250_000, "15.25 ms"),
            (999_999_999, "1 s"),
            (1_000_000_000, "1 s"),
            (1_234_000_000, "1.234 s"),
            (1_234_500_000, "1.235 s"),
            (1_050_000_000, "1.05 s"),
            (3_600_000_000_000, "3600 s"),
            (u64::MAX, "18446744073.71 s"),
        ];
        for &(nanos, text) in cases {
            assert_eq!(format_duration(nanos), text, "{nanos} ns");
            assert_eq!(Value::Duration(nanos).to_string(), text);
        }
    }

    #[test]
    fn other_values_print_as_is() {
        assert_eq!(Value::Int(-42).to_string(), "-42");
        assert_eq!(Value::text("hello world").to_string(), "hello world");
        assert_eq!(Value::Bool(true).to_string(), "true");
        assert_eq!(Value::Bool(false).to_string(), "false");
    }

    #[test]
    fn same_kind_values_compare_naturally() {
        let cases: &[(Value, Value, Ordering)] = &[
            (Value::Int(-1), Value::Int(2), Ordering::Less),
            (Value::Int(2), Value::Int(2), Ordering::Equal),
            (Value::text("b"), Value::text("a"), Ordering::Greater),
            (Value::text("a"), Value::text("ab"), Ordering::Less),
            (Value::Bytes(4096), Value::Bytes(1024), Ordering::Greater),
            (Value::Duration(5), Value::Duration(5), Ordering::Equal),
            (Value::Bool(false), Value::Bool(true), Ordering::Less),
        ];
        for (a, b, ordering) in cases {
            assert_eq!(a.total_cmp(b), *ordering, "{a:?} vs {b:?}");
            assert_eq!(b.total_cmp(a), ordering.reverse(), "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn different_kinds_compare_by_rank() {
        let mut values = [
            Value::Bool(false),
            Value::Duration(1),
            Value::Bytes(1),
            Value::text("z"),
            Value::Int(i64::MAX),
        ];
        values.sort();
        let kinds: Vec<Kind> = values.iter().map(Value::kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Int,
                Kind::Text,
                Kind::Bytes,
                Kind::Duration,
                Kind::Bool
            ]
        );
    }

    #[test]
    fn kinds_know_their_names_and_alignment() {
        let cases = [
            (Kind::Int, "integer", true),
            (Kind::Text, "text", false),
            (Kind::Bytes, "size", true),
            (Kind::Duration, "duration", true),
            (Kind::Bool, "boolean", false),
        ];
        for (kind, name, numeric) in cases {
            assert_eq!(kind.to_string(), name);
            assert_eq!(kind.is_numeric(), numeric, "{kind}");
        }
    }
}
