//! Running a pipeline's stages over a table.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::literal::convert;
use crate::{Op, Pipeline, PipelineError, Stage, Table, Value};

impl Pipeline {
    /// Runs this pipeline's stages over `table`, the command's output.
    pub fn apply(&self, table: Table) -> Result<Table, PipelineError> {
        apply(table, &self.stages)
    }
}

/// Runs `stages` over `table`, in order.
///
/// Each stage checks the columns it names against the table it receives (so
/// after `select name`, only `name` is left to name). A `where` literal is
/// read as the kind of each cell it is compared with; one that cannot be is
/// an error, found only if there is such a cell. A row too short to have the
/// column never matches a `where`, and sorts first.
pub fn apply(table: Table, stages: &[Stage]) -> Result<Table, PipelineError> {
    stages.iter().try_fold(table, apply_stage)
}

fn apply_stage(mut table: Table, stage: &Stage) -> Result<Table, PipelineError> {
    match stage {
        Stage::Where {
            column,
            op,
            literal,
        } => {
            let index = column_index(&table, column)?;
            let mut kept = Vec::with_capacity(table.rows.len());
            for row in table.rows {
                if matches(row.get(index), *op, literal, column)? {
                    kept.push(row);
                }
            }
            table.rows = kept;
        }
        Stage::SortBy { column, descending } => {
            let index = column_index(&table, column)?;
            let ascending = |a: &Vec<Value>, b: &Vec<Value>| a.get(index).cmp(&b.get(index));
            if *descending {
                table.rows.sort_by(|a, b| ascending(b, a));
            } else {
                table.rows.sort_by(ascending);
            }
        }
        Stage::First(n) => table.rows.truncate(*n),
        Stage::Select(columns) => table = select(table, columns)?,
    }
    Ok(table)
}

/// Whether `cell` compares to `literal` as `op` says.
fn matches(
    cell: Option<&Value>,
    op: Op,
    literal: &str,
    column: &str,
) -> Result<bool, PipelineError> {
    let Some(cell) = cell else {
        return Ok(false);
    };
    if op == Op::Contains {
        return Ok(match cell {
            Value::Text(text) => text.contains(literal),
            other => other.to_string().contains(literal),
        });
    }
    let kind = cell.kind();
    let literal = convert(literal, kind).ok_or_else(|| PipelineError::BadLiteral {
        column: String::from(column),
        literal: String::from(literal),
        kind,
    })?;
    let ordering = cell.total_cmp(&literal);
    Ok(match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Contains => unreachable!("handled above"),
    })
}

/// The table with only `columns`, in that order. A cell missing from a
/// ragged row becomes empty text.
fn select(table: Table, columns: &[String]) -> Result<Table, PipelineError> {
    let indices = columns
        .iter()
        .map(|column| column_index(&table, column))
        .collect::<Result<Vec<usize>, PipelineError>>()?;
    let rows = table
        .rows
        .iter()
        .map(|row| {
            indices
                .iter()
                .map(|&index| {
                    row.get(index)
                        .cloned()
                        .unwrap_or(Value::Text(String::new()))
                })
                .collect()
        })
        .collect();
    Ok(Table {
        columns: columns.to_vec(),
        rows,
    })
}

fn column_index(table: &Table, column: &str) -> Result<usize, PipelineError> {
    table
        .column(column)
        .ok_or_else(|| PipelineError::UnknownColumn {
            column: String::from(column),
            columns: table.columns.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_pipeline, Kind};
    use alloc::vec;

    const MIB: u64 = 1 << 20;
    const MS: u64 = 1_000_000;

    /// A `ps`-like table: id, name, restarts, mem, cpu, up.
    fn ps() -> Table {
        let mut table = Table::new(&["id", "name", "restarts", "mem", "cpu", "up"]);
        let rows = [
            (1, "init", 0, 2 * MIB, 120 * MS, true),
            (2, "log", 3, 512 * 1024, 15 * MS, true),
            (3, "net driver", 1, 6 * MIB, 2_500 * MS, false),
            (4, "shell", 0, 4096, 250_000, true),
            (5, "blk", 7, MIB, 40 * MS, true),
        ];
        for (id, name, restarts, mem, cpu, up) in rows {
            table
                .push_row(vec![
                    Value::Int(id),
                    Value::text(name),
                    Value::Int(restarts),
                    Value::Bytes(mem),
                    Value::Duration(cpu),
                    Value::Bool(up),
                ])
                .unwrap();
        }
        table
    }

    /// The table after the stages of `line`.
    fn run(line: &str) -> Result<Table, PipelineError> {
        let pipeline = parse_pipeline(line).unwrap_or_else(|error| panic!("{line:?}: {error}"));
        pipeline.apply(ps())
    }

    /// The ids of the rows left after `line`.
    fn ids(line: &str) -> Vec<i64> {
        let table = run(line).unwrap_or_else(|error| panic!("{line:?}: {error}"));
        let id = table.column("id").expect("id column");
        table
            .rows
            .iter()
            .map(|row| match row[id] {
                Value::Int(id) => id,
                ref other => panic!("id {other:?}"),
            })
            .collect()
    }

    #[test]
    fn where_compares_every_kind_with_every_operator() {
        let cases: &[(&str, &[i64])] = &[
            // Integers.
            ("where restarts == 0", &[1, 4]),
            ("where restarts != 0", &[2, 3, 5]),
            ("where restarts < 3", &[1, 3, 4]),
            ("where restarts <= 3", &[1, 2, 3, 4]),
            ("where restarts > 0", &[2, 3, 5]),
            ("where restarts >= 3", &[2, 5]),
            ("where restarts > -1", &[1, 2, 3, 4, 5]),
            // Text, bytewise.
            ("where name == log", &[2]),
            ("where name == \"net driver\"", &[3]),
            ("where name != log", &[1, 3, 4, 5]),
            ("where name < l", &[5, 1]),
            ("where name <= log", &[1, 2, 5]),
            ("where name > m", &[3, 4]),
            ("where name >= net", &[3, 4]),
            ("where name =~ l", &[2, 4, 5]),
            ("where name =~ \" d\"", &[3]),
            ("where name =~ \"\"", &[1, 2, 3, 4, 5]),
            // Sizes, bare bytes or with units.
            ("where mem == 4096", &[4]),
            ("where mem == 4KiB", &[4]),
            ("where mem != 1MiB", &[1, 2, 3, 4]),
            ("where mem < 1MiB", &[2, 4]),
            ("where mem <= 1MiB", &[2, 4, 5]),
            ("where mem > 1MiB", &[1, 3]),
            ("where mem >= 0.5MiB", &[1, 2, 3, 5]),
            ("where mem > 1048576", &[1, 3]),
            ("where mem =~ MiB", &[1, 3, 5]),
            // Durations, bare nanoseconds or with units.
            ("where cpu == 250us", &[4]),
            ("where cpu == 250000", &[4]),
            ("where cpu != 15ms", &[1, 3, 4, 5]),
            ("where cpu < 40ms", &[2, 4]),
            ("where cpu <= 40ms", &[2, 4, 5]),
            ("where cpu > 1s", &[3]),
            ("where cpu >= 0.12s", &[1, 3]),
            ("where cpu =~ ms", &[1, 2, 5]),
            // Booleans.
            ("where up == true", &[1, 2, 4, 5]),
            ("where up != true", &[3]),
            ("where up < true", &[3]),
            ("where up >= false", &[1, 2, 3, 4, 5]),
            ("where up =~ fal", &[3]),
        ];
        for &(stage, expected) in cases {
            let line = alloc::format!("ps | {stage} | sort-by name");
            let mut got = ids(&line);
            let mut expected = expected.to_vec();
            got.sort_unstable();
            expected.sort_unstable();
            assert_eq!(got, expected, "{stage}");
        }
    }

    #[test]
    fn literals_that_do_not_fit_the_column_are_errors() {
        let cases: &[(&str, &str, &str, Kind, &str)] = &[
            (
                "where restarts > 1KiB",
                "restarts",
                "1KiB",
                Kind::Int,
                "bad literal \"1KiB\" for integer column restarts: expected an integer like 5 or -3",
            ),
            (
                "where mem > 4XiB",
                "mem",
                "4XiB",
                Kind::Bytes,
                "bad literal \"4XiB\" for size column mem: expected a size like 4096, 4KiB or 1.5MiB",
            ),
            (
                "where mem > 10ms",
                "mem",
                "10ms",
                Kind::Bytes,
                "bad literal \"10ms\" for size column mem: expected a size like 4096, 4KiB or 1.5MiB",
            ),
            (
                "where cpu < 4KiB",
                "cpu",
                "4KiB",
                Kind::Duration,
                "bad literal \"4KiB\" for duration column cpu: expected a duration like 250us, \
                 10ms or 2s (a bare number is nanoseconds)",
            ),
            (
                "where up == yes",
                "up",
                "yes",
                Kind::Bool,
                "bad literal \"yes\" for boolean column up: expected true or false",
            ),
        ];
        for &(stage, column, literal, kind, message) in cases {
            let error = run(&alloc::format!("ps | {stage}")).unwrap_err();
            let expected = PipelineError::BadLiteral {
                column: String::from(column),
                literal: String::from(literal),
                kind,
            };
            assert_eq!(error, expected, "{stage}");
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn bad_literals_go_unnoticed_without_rows() {
        let table = Table::new(&["mem"]);
        let pipeline = parse_pipeline("x | where mem > lots").unwrap();
        assert_eq!(pipeline.apply(table.clone()), Ok(table));
    }

    #[test]
    fn unknown_columns_are_errors_listing_the_columns() {
        let columns = "id, name, restarts, mem, cpu, up";
        let cases = [
            ("ps | where memory > 1", "memory", columns),
            ("ps | sort-by size", "size", columns),
            ("ps | select name size", "size", columns),
            ("ps | select name | where id == 1", "id", "name"),
        ];
        for (line, column, listed) in cases {
            let error = run(line).unwrap_err();
            assert!(
                matches!(&error, PipelineError::UnknownColumn { column: c, .. } if c == column),
                "{line}: {error:?}"
            );
            assert_eq!(
                error.to_string(),
                alloc::format!("unknown column \"{column}\" (columns: {listed})")
            );
        }
        let error = apply(
            Table::default(),
            &[Stage::First(1), Stage::Select(vec![String::from("x")])],
        );
        assert_eq!(
            error.unwrap_err().to_string(),
            "unknown column \"x\" (the table has no columns)"
        );
    }

    #[test]
    fn sorts_stably_both_ways() {
        let cases: &[(&str, &[i64])] = &[
            ("sort-by mem", &[4, 2, 5, 1, 3]),
            ("sort-by mem desc", &[3, 1, 5, 2, 4]),
            ("sort-by mem --reverse", &[3, 1, 5, 2, 4]),
            ("sort-by cpu", &[4, 2, 5, 1, 3]),
            ("sort-by name", &[5, 1, 2, 3, 4]),
            ("sort-by restarts", &[1, 4, 3, 2, 5]),
            ("sort-by restarts desc", &[5, 2, 3, 1, 4]),
            ("sort-by up", &[3, 1, 2, 4, 5]),
            ("sort-by up desc", &[1, 2, 4, 5, 3]),
        ];
        for &(stage, expected) in cases {
            assert_eq!(ids(&alloc::format!("ps | {stage}")), expected, "{stage}");
        }
    }

    #[test]
    fn first_and_select() {
        assert_eq!(ids("ps | first 2"), [1, 2]);
        assert_eq!(ids("ps | first 0"), [] as [i64; 0]);
        assert_eq!(ids("ps | first 99"), [1, 2, 3, 4, 5]);
        let table = run("ps | select name id | first 2").unwrap();
        assert_eq!(table.columns, ["name", "id"]);
        assert_eq!(
            table.rows,
            [
                vec![Value::text("init"), Value::Int(1)],
                vec![Value::text("log"), Value::Int(2)]
            ]
        );
    }

    #[test]
    fn the_example_pipeline_renders() {
        let table =
            run("ps | where restarts > 0 | sort-by mem desc | first 2 | select name mem restarts")
                .unwrap();
        assert_eq!(
            table.render(),
            "name            mem  restarts\nnet driver  6.0 MiB         1\nblk         1.0 MiB         7\n"
        );
        let empty = run("ps | where restarts > 100 | select name").unwrap();
        assert_eq!(empty.render(), "name\n(no rows)\n");
    }

    #[test]
    fn ragged_rows_neither_match_nor_break() {
        let table = Table {
            columns: vec![String::from("a"), String::from("b")],
            rows: vec![vec![Value::Int(1)], vec![Value::Int(2), Value::Int(5)]],
        };
        let stages = parse_pipeline("x | where b >= 0").unwrap().stages;
        assert_eq!(
            apply(table.clone(), &stages).unwrap().rows,
            [vec![Value::Int(2), Value::Int(5)]]
        );
        let stages = parse_pipeline("x | sort-by b desc | select b a")
            .unwrap()
            .stages;
        assert_eq!(
            apply(table, &stages).unwrap().rows,
            [
                vec![Value::Int(5), Value::Int(2)],
                vec![Value::text(""), Value::Int(1)]
            ]
        );
    }

    #[test]
    fn no_stages_leave_the_table_alone() {
        assert_eq!(apply(ps(), &[]), Ok(ps()));
    }
}
