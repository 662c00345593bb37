//! Rows of values under named columns: the [`Record`] a command produces for
//! one thing, the [`Table`] of many, and a table's aligned text rendering.
//!
//! A table's rows are plain vectors in column order; [`Table::push_row`]
//! and [`Table::push_record`] keep them the right length. The fields are
//! public, so code may still build a ragged table by hand: rendering and the
//! pipeline treat a missing cell as empty rather than failing.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Display, Formatter, Write};

use serde::{Deserialize, Serialize};

use crate::Value;

/// One row with its column names: an ordered list of (column, value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The fields in column order.
    pub fields: Vec<(String, Value)>,
}

impl Record {
    /// A record without fields.
    pub fn new() -> Record {
        Record::default()
    }

    /// This record with `value` in `column` (see [`Record::set`]), for
    /// building records in one expression.
    pub fn with(mut self, column: &str, value: Value) -> Record {
        self.set(column, value);
        self
    }

    /// Puts `value` in `column`: replaces the value if the column exists,
    /// otherwise appends the column.
    pub fn set(&mut self, column: &str, value: Value) {
        match self.fields.iter_mut().find(|(name, _)| name == column) {
            Some((_, old)) => *old = value,
            None => self.fields.push((String::from(column), value)),
        }
    }

    /// The value in `column`, if the record has that column.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, value)| value)
    }

    /// The column names in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }
}

/// Why a row or record does not fit a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// A row has a different number of values than the table has columns.
    RowLength {
        /// The table's column count.
        expected: usize,
        /// The row's length.
        found: usize,
    },
    /// A record lacks one of the table's columns.
    MissingColumn(String),
    /// A record has a column the table lacks.
    ExtraColumn(String),
}

impl Display for TableError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TableError::RowLength { expected, found } => write!(
                f,
                "row has {found} values but the table has {expected} columns"
            ),
            TableError::MissingColumn(column) => write!(f, "record lacks column {column}"),
            TableError::ExtraColumn(column) => {
                write!(f, "record has column {column}, which the table lacks")
            }
        }
    }
}

/// Rows of values under named columns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The column names, in order.
    pub columns: Vec<String>,
    /// The rows; each holds one value per column, in column order.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// An empty table with these columns: `Table::new(&["id", "name"])`.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|&name| String::from(name)).collect(),
            rows: Vec::new(),
        }
    }

    /// A table with the columns of the first record (none if there is no
    /// record) and a row for each record.
    pub fn from_records(records: Vec<Record>) -> Result<Table, TableError> {
        let mut table = Table::default();
        if let Some(first) = records.first() {
            table.columns = first.columns().map(String::from).collect();
        }
        for record in records {
            table.push_record(record)?;
        }
        Ok(table)
    }

    /// Appends a row, which must hold one value per column.
    pub fn push_row(&mut self, row: Vec<Value>) -> Result<(), TableError> {
        if row.len() != self.columns.len() {
            return Err(TableError::RowLength {
                expected: self.columns.len(),
                found: row.len(),
            });
        }
        self.rows.push(row);
        Ok(())
    }

    /// Appends a record as a row, its values put in the table's column
    /// order; it must have exactly the table's columns (in any order).
    pub fn push_record(&mut self, record: Record) -> Result<(), TableError> {
        if let Some(extra) = record.columns().find(|name| self.column(name).is_none()) {
            return Err(TableError::ExtraColumn(String::from(extra)));
        }
        let mut fields = record.fields;
        let mut row = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let Some(at) = fields.iter().position(|(name, _)| name == column) else {
                return Err(TableError::MissingColumn(column.clone()));
            };
            row.push(fields.swap_remove(at).1);
        }
        if let Some((duplicate, _)) = fields.into_iter().next() {
            return Err(TableError::ExtraColumn(duplicate));
        }
        self.rows.push(row);
        Ok(())
    }

    /// Row `index` as a record, if there is such a row.
    pub fn record(&self, index: usize) -> Option<Record> {
        let row = self.rows.get(index)?;
        let fields = self.columns.iter().cloned().zip(row.iter().cloned());
        Some(Record {
            fields: fields.collect(),
        })
    }

    /// The index of the (first) column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// The value in row `row`, column `column`.
    pub fn get(&self, row: usize, column: &str) -> Option<&Value> {
        self.rows.get(row)?.get(self.column(column)?)
    }

    /// How many rows the table has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as aligned text, one line per row after a header line of
    /// column names, every line ending in `\n`.
    ///
    /// Columns are as wide as their widest cell or name (counted in
    /// characters) and separated by two spaces. Numbers (integers, sizes and
    /// durations) are right-aligned, other values left-aligned; a column's
    /// name is right-aligned if all its cells are numbers. Trailing spaces
    /// are trimmed. Control characters in text are shown escaped (`\n`,
    /// `\u{1b}`) so that no cell can break a line or drive the terminal.
    /// A table without rows renders its header and then `(no rows)`.
    pub fn render(&self) -> String {
        let cells: Vec<Vec<Cell>> = self.rows.iter().map(|row| self.cells(row)).collect();
        let widths = self.widths(&cells);
        let mut out = String::new();
        if !self.columns.is_empty() {
            let header = self.columns.iter().enumerate().map(|(index, name)| Cell {
                text: printable(name),
                right: !cells.is_empty() && cells.iter().all(|row| row[index].right),
            });
            push_line(&mut out, header, &widths);
        }
        for row in cells {
            push_line(&mut out, row.into_iter(), &widths);
        }
        if self.rows.is_empty() {
            out.push_str("(no rows)\n");
        }
        out
    }

    /// A row's cells as text, exactly one per column.
    fn cells(&self, row: &[Value]) -> Vec<Cell> {
        (0..self.columns.len())
            .map(|index| match row.get(index) {
                Some(value) => Cell {
                    text: printable(&value.to_string()),
                    right: value.kind().is_numeric(),
                },
                None => Cell {
                    text: String::new(),
                    right: false,
                },
            })
            .collect()
    }

    /// Each column's width in characters.
    fn widths(&self, cells: &[Vec<Cell>]) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|name| width(&printable(name)))
            .collect();
        for row in cells {
            for (width_so_far, cell) in widths.iter_mut().zip(row) {
                *width_so_far = (*width_so_far).max(width(&cell.text));
            }
        }
        widths
    }
}

impl Display for Table {
    /// [`Table::render`].
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// A rendered cell: its text and whether it is right-aligned.
struct Cell {
    text: String,
    right: bool,
}

/// Appends one line of cells padded to `widths`, trailing spaces trimmed.
fn push_line(out: &mut String, cells: impl Iterator<Item = Cell>, widths: &[usize]) {
    let start = out.len();
    for (index, (cell, &column_width)) in cells.zip(widths).enumerate() {
        if index > 0 {
            out.push_str("  ");
        }
        let padding = column_width - width(&cell.text);
        if cell.right {
            pad(out, padding);
            out.push_str(&cell.text);
        } else {
            out.push_str(&cell.text);
            pad(out, padding);
        }
    }
    let trimmed = out[start..].trim_end_matches(' ').len();
    out.truncate(start + trimmed);
    out.push('\n');
}

fn pad(out: &mut String, spaces: usize) {
    out.extend(core::iter::repeat_n(' ', spaces));
}

/// Width on the terminal, counting one column per character.
fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` with control characters escaped.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            // Writing to a String cannot fail.
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn processes() -> Table {
        let mut table = Table::new(&["id", "name", "mem", "cpu", "up"]);
        let rows = [
            (1, "init", 12 * 1024, 1_234_000_000, true),
            (12, "log", 3_565_158, 15_000_000, true),
            (7, "shell", 512, 250_000, false),
        ];
        for (id, name, mem, cpu, up) in rows {
            table
                .push_row(vec![
                    Value::Int(id),
                    Value::text(name),
                    Value::Bytes(mem),
                    Value::Duration(cpu),
                    Value::Bool(up),
                ])
                .unwrap();
        }
        table
    }

    #[test]
    fn renders_numbers_right_and_text_left() {
        let expected = "\
id  name        mem      cpu  up
 1  init   12.0 KiB  1.234 s  true
12  log     3.4 MiB    15 ms  true
 7  shell     512 B   250 µs  false
";
        assert_eq!(processes().render(), expected);
        assert_eq!(processes().to_string(), expected);
    }

    #[test]
    fn renders_an_empty_table_with_its_header() {
        assert_eq!(
            Table::new(&["id", "name"]).render(),
            "id  name\n(no rows)\n"
        );
        assert_eq!(Table::default().render(), "(no rows)\n");
    }

    #[test]
    fn header_wider_than_cells_pads_the_cells() {
        let mut table = Table::new(&["restarts", "x"]);
        table
            .push_row(vec![Value::Int(3), Value::text("a")])
            .unwrap();
        assert_eq!(table.render(), "restarts  x\n       3  a\n");
    }

    #[test]
    fn mixed_column_header_is_left_aligned() {
        let mut table = Table::new(&["value", "n"]);
        table.push_row(vec![Value::Int(1), Value::Int(1)]).unwrap();
        table
            .push_row(vec![Value::text("abcdefg"), Value::Int(22)])
            .unwrap();
        assert_eq!(table.render(), "value     n\n      1   1\nabcdefg  22\n");
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        let mut table = Table::new(&["a", "b"]);
        table
            .push_row(vec![Value::text("µµ"), Value::text("x")])
            .unwrap();
        table
            .push_row(vec![Value::text("abc"), Value::text("y")])
            .unwrap();
        assert_eq!(table.render(), "a    b\nµµ   x\nabc  y\n");
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut table = Table::new(&["text"]);
        table.push_row(vec![Value::text("a\nb\x1b[2J")]).unwrap();
        assert_eq!(table.render(), "text\na\\nb\\u{1b}[2J\n");
    }

    #[test]
    fn ragged_rows_render_missing_cells_empty_and_drop_extra_ones() {
        let table = Table {
            columns: vec![String::from("a"), String::from("b")],
            rows: vec![
                vec![Value::Int(1)],
                vec![Value::Int(2), Value::Int(3), Value::Int(4)],
            ],
        };
        assert_eq!(table.render(), "a  b\n1\n2  3\n");
    }

    #[test]
    fn push_row_checks_the_length() {
        let mut table = Table::new(&["id", "name"]);
        let error = table.push_row(vec![Value::Int(1)]).unwrap_err();
        assert_eq!(
            error,
            TableError::RowLength {
                expected: 2,
                found: 1
            }
        );
        assert_eq!(
            error.to_string(),
            "row has 1 values but the table has 2 columns"
        );
        assert!(table.is_empty());
        table
            .push_row(vec![Value::Int(1), Value::text("x")])
            .unwrap();
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn records_build_and_read_back() {
        let record = Record::new()
            .with("name", Value::text("log"))
            .with("id", Value::Int(2))
            .with("name", Value::text("init"));
        assert_eq!(record.columns().collect::<Vec<_>>(), ["name", "id"]);
        assert_eq!(record.get("name"), Some(&Value::text("init")));
        assert_eq!(record.get("mem"), None);

        let mut table = Table::new(&["id", "name"]);
        table.push_record(record.clone()).unwrap();
        assert_eq!(table.rows, [vec![Value::Int(2), Value::text("init")]]);
        assert_eq!(table.get(0, "name"), Some(&Value::text("init")));
        assert_eq!(table.get(0, "mem"), None);
        assert_eq!(table.get(1, "id"), None);
        let back = table.record(0).unwrap();
        assert_eq!(back.columns().collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(back.get("id"), Some(&Value::Int(2)));
        assert_eq!(table.record(1), None);
    }

    #[test]
    fn push_record_needs_exactly_the_columns() {
        let mut table = Table::new(&["id", "name"]);
        let missing = Record::new().with("id", Value::Int(1));
        let extra = missing
            .clone()
            .with("name", Value::text("x"))
            .with("mem", Value::Bytes(1));
        let cases = [
            (
                missing,
                TableError::MissingColumn(String::from("name")),
                "record lacks column name",
            ),
            (
                extra,
                TableError::ExtraColumn(String::from("mem")),
                "record has column mem, which the table lacks",
            ),
        ];
        for (record, error, message) in cases {
            assert_eq!(table.push_record(record), Err(error.clone()));
            assert_eq!(error.to_string(), message);
        }
        assert!(table.is_empty());
    }

    #[test]
    fn from_records_takes_the_first_records_columns() {
        let records = vec![
            Record::new()
                .with("a", Value::Int(1))
                .with("b", Value::Bool(true)),
            Record::new()
                .with("b", Value::Bool(false))
                .with("a", Value::Int(2)),
        ];
        let table = Table::from_records(records).unwrap();
        assert_eq!(table.columns, ["a", "b"]);
        assert_eq!(
            table.rows,
            [
                vec![Value::Int(1), Value::Bool(true)],
                vec![Value::Int(2), Value::Bool(false)]
            ]
        );
        assert_eq!(Table::from_records(Vec::new()).unwrap(), Table::default());
        let bad = vec![Record::new().with("a", Value::Int(1)), Record::new()];
        assert_eq!(
            Table::from_records(bad),
            Err(TableError::MissingColumn(String::from("a")))
        );
    }
}
