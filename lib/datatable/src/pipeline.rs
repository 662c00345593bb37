//! The pipeline language: a command followed by stages that filter, sort,
//! cut and narrow the table it produces.
//!
//! ```text
//! ps | where restarts > 0 | sort-by mem desc | first 5 | select name mem
//! ```
//!
//! [`parse_pipeline`] splits a line at the `|`s outside quotes into the
//! command's text (left for the shell to split into words) and the parsed
//! [`Stage`]s; [`apply`](crate::apply) runs the stages over a table. The
//! stages:
//!
//! - `where <column> <op> <literal>` keeps the rows whose cell compares as
//!   asked; `<op>` is one of `== != < <= > >=` or `=~` (the cell's text
//!   contains the literal). The literal is read as the kind of the cell it is
//!   compared with (see the `literal` module): `mem > 1MiB` and `mem > 4096`
//!   both compare sizes.
//! - `sort-by <column> [asc|desc]`, or `sort-by --reverse <column>`: a stable
//!   sort by the column, ascending unless `desc` or `--reverse`.
//! - `first <n>` keeps the first `n` rows.
//! - `select <column>...` keeps those columns, in that order.
//!
//! Syntax errors are found by [`parse_pipeline`]; errors that need the table
//! (unknown columns, literals the column's kind cannot read) by `apply`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Display, Formatter};

use crate::words::{split_pipes, split_words, UnterminatedQuote};
use crate::Kind;

/// The names of the stages, as listed in error messages.
pub const STAGES: [&str; 4] = ["where", "sort-by", "first", "select"];

/// A comparison in a `where` stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~`: the cell, as text, contains the literal.
    Contains,
}

impl Op {
    /// Every operator, in the order error messages list them.
    pub const ALL: [Op; 7] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Contains];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "=~",
        }
    }

    /// The operator written `symbol`, if there is one.
    pub fn from_symbol(symbol: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.symbol() == symbol)
    }
}

impl Display for Op {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `where <column> <op> <literal>`: keep the rows whose `column` compares
    /// to `literal` as `op` says.
    Where {
        /// The column compared.
        column: String,
        /// The comparison.
        op: Op,
        /// The literal as written (unquoted); it is read as the kind of each
        /// cell it is compared with.
        literal: String,
    },
    /// `sort-by <column> [asc|desc]`: a stable sort by `column`.
    SortBy {
        /// The column sorted by.
        column: String,
        /// Largest first (`desc` or `--reverse`).
        descending: bool,
    },
    /// `first <n>`: keep the first `n` rows.
    First(usize),
    /// `select <column>...`: keep these columns, in this order.
    Select(Vec<String>),
}

impl Display for Stage {
    /// The stage as it would be written, words quoted where needed; it
    /// parses back to an equal stage.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Where {
                column,
                op,
                literal,
            } => {
                write!(f, "where {} {op} {}", Quoted(column), Quoted(literal))
            }
            Stage::SortBy { column, descending } => {
                write!(f, "sort-by {}", Quoted(column))?;
                if *descending {
                    f.write_str(" desc")?;
                }
                Ok(())
            }
            Stage::First(n) => write!(f, "first {n}"),
            Stage::Select(columns) => {
                f.write_str("select")?;
                columns
                    .iter()
                    .try_for_each(|column| write!(f, " {}", Quoted(column)))
            }
        }
    }
}

/// A word written bare if it can be, otherwise in quotes.
struct Quoted<'a>(&'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let special = |c: char| matches!(c, ' ' | '\t' | '"' | '|' | '\\');
        if !self.0.is_empty() && !self.0.contains(special) {
            return f.write_str(self.0);
        }
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, '"' | '\\') {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}

/// A parsed line: the command's text and the stages after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    /// The text before the first `|` outside quotes, trimmed, quotes left in
    /// (split it with [`split_words`](crate::split_words)).
    pub command: String,
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// Why a pipeline could not be parsed or applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PipelineError {
    /// A `"` was never closed.
    UnterminatedQuote,
    /// Nothing between two `|`s, before the first or after the last. `index`
    /// counts the pieces of the line from 0, the command.
    EmptyStage {
        /// Which piece is empty (0: the command).
        index: usize,
    },
    /// A stage name that is not one of [`STAGES`].
    UnknownStage {
        /// The name written.
        name: String,
    },
    /// A stage lacks an argument.
    MissingArgument {
        /// The stage.
        stage: &'static str,
        /// The argument missing, as its usage names it (`<column>`).
        argument: &'static str,
    },
    /// A stage has an argument too many, or one it does not understand.
    UnexpectedArgument {
        /// The stage.
        stage: &'static str,
        /// The argument.
        argument: String,
    },
    /// A `where` operator that is not one of [`Op::ALL`].
    UnknownOperator {
        /// The operator written.
        op: String,
    },
    /// `first`'s count is not a whole number.
    BadCount {
        /// The count written.
        count: String,
    },
    /// A stage names a column the table lacks.
    UnknownColumn {
        /// The column named.
        column: String,
        /// The columns the table has.
        columns: Vec<String>,
    },
    /// A `where` literal cannot be read as the kind of a cell it is compared
    /// with.
    BadLiteral {
        /// The column compared.
        column: String,
        /// The literal written.
        literal: String,
        /// The cell's kind.
        kind: Kind,
    },
}

impl From<UnterminatedQuote> for PipelineError {
    fn from(_: UnterminatedQuote) -> PipelineError {
        PipelineError::UnterminatedQuote
    }
}

impl Display for PipelineError {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::UnterminatedQuote => UnterminatedQuote.fmt(f),
            PipelineError::EmptyStage { index: 0 } => f.write_str("empty command before \"|\""),
            PipelineError::EmptyStage { index } => {
                write!(f, "empty pipeline stage {index} (nothing after a \"|\")")
            }
            PipelineError::UnknownStage { name } => write!(
                f,
                "unknown stage \"{name}\" (known stages: {})",
                STAGES.join(", ")
            ),
            PipelineError::MissingArgument { stage, argument } => {
                write!(f, "{stage}: missing {argument} (usage: {})", usage(stage))
            }
            PipelineError::UnexpectedArgument { stage, argument } => write!(
                f,
                "{stage}: unexpected argument \"{argument}\" (usage: {})",
                usage(stage)
            ),
            PipelineError::UnknownOperator { op } => {
                write!(f, "where: unknown operator \"{op}\" (operators:")?;
                Op::ALL.iter().try_for_each(|op| write!(f, " {op}"))?;
                f.write_str(")")
            }
            PipelineError::BadCount { count } => {
                write!(
                    f,
                    "first: bad count \"{count}\" (expected a whole number like 5)"
                )
            }
            PipelineError::UnknownColumn { column, columns } if columns.is_empty() => {
                write!(f, "unknown column \"{column}\" (the table has no columns)")
            }
            PipelineError::UnknownColumn { column, columns } => write!(
                f,
                "unknown column \"{column}\" (columns: {})",
                columns.join(", ")
            ),
            PipelineError::BadLiteral {
                column,
                literal,
                kind,
            } => write!(
                f,
                "bad literal \"{literal}\" for {kind} column {column}: expected {}",
                crate::literal::hint(*kind)
            ),
        }
    }
}

/// How a stage is written, for error messages.
fn usage(stage: &str) -> &'static str {
    match stage {
        "where" => "where <column> <op> <literal>",
        "sort-by" => "sort-by <column> [asc|desc]",
        "first" => "first <n>",
        "select" => "select <column>...",
        _ => "",
    }
}

/// Parses a line into its command and stages: `ps | where restarts > 0`.
///
/// An empty (or blank) line is an empty command without stages; a `|` with
/// nothing before or after it is an error.
pub fn parse_pipeline(line: &str) -> Result<Pipeline, PipelineError> {
    let pieces = split_pipes(line)?;
    let command = pieces[0].trim();
    if command.is_empty() && pieces.len() > 1 {
        return Err(PipelineError::EmptyStage { index: 0 });
    }
    let mut stages = Vec::with_capacity(pieces.len() - 1);
    for (index, piece) in pieces.iter().enumerate().skip(1) {
        let words = split_words(piece)?;
        if words.is_empty() {
            return Err(PipelineError::EmptyStage { index });
        }
        stages.push(parse_stage(words)?);
    }
    Ok(Pipeline {
        command: String::from(command),
        stages,
    })
}

/// One stage from its words (at least one).
fn parse_stage(words: Vec<String>) -> Result<Stage, PipelineError> {
    let mut words = words.into_iter();
    let name = words.next().unwrap_or_default();
    let mut arguments = Arguments {
        stage: "",
        words: words.collect(),
    };
    match name.as_str() {
        "where" => {
            arguments.stage = "where";
            parse_where(arguments)
        }
        "sort-by" => {
            arguments.stage = "sort-by";
            parse_sort_by(arguments)
        }
        "first" => {
            arguments.stage = "first";
            let count = arguments.take("<n>")?;
            arguments.finish()?;
            let n = count
                .parse()
                .map_err(|_| PipelineError::BadCount { count })?;
            Ok(Stage::First(n))
        }
        "select" => {
            arguments.stage = "select";
            if arguments.words.is_empty() {
                return Err(arguments.missing("<column>"));
            }
            Ok(Stage::Select(arguments.words))
        }
        _ => Err(PipelineError::UnknownStage { name }),
    }
}

fn parse_where(mut arguments: Arguments) -> Result<Stage, PipelineError> {
    let column = arguments.take("<column>")?;
    let op = arguments.take("<op>")?;
    let op = Op::from_symbol(&op).ok_or(PipelineError::UnknownOperator { op })?;
    let literal = arguments.take("<literal>")?;
    arguments.finish()?;
    Ok(Stage::Where {
        column,
        op,
        literal,
    })
}

fn parse_sort_by(mut arguments: Arguments) -> Result<Stage, PipelineError> {
    let before = arguments.words.len();
    arguments.words.retain(|word| word != "--reverse");
    let mut descending = arguments.words.len() != before;
    let column = arguments.take("<column>")?;
    if let Some(order) = arguments.words.first() {
        match order.as_str() {
            "asc" => {}
            "desc" => descending = true,
            _ => return Err(arguments.unexpected()),
        }
        arguments.words.remove(0);
    }
    arguments.finish()?;
    Ok(Stage::SortBy { column, descending })
}

/// A stage's arguments, taken from the front.
struct Arguments {
    stage: &'static str,
    words: Vec<String>,
}

impl Arguments {
    /// The next argument, which the usage calls `name`.
    fn take(&mut self, name: &'static str) -> Result<String, PipelineError> {
        if self.words.is_empty() {
            return Err(self.missing(name));
        }
        Ok(self.words.remove(0))
    }

    /// Succeeds if every argument was taken.
    fn finish(&self) -> Result<(), PipelineError> {
        if self.words.is_empty() {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn missing(&self, argument: &'static str) -> PipelineError {
        PipelineError::MissingArgument {
            stage: self.stage,
            argument,
        }
    }

    /// The error for the first argument left.
    fn unexpected(&self) -> PipelineError {
        PipelineError::UnexpectedArgument {
            stage: self.stage,
            argument: self.words.first().cloned().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn words(words: &[&str]) -> Vec<String> {
        words.iter().map(|&word| String::from(word)).collect()
    }

    fn stages(line: &str) -> Vec<Stage> {
        match parse_pipeline(line) {
            Ok(pipeline) => pipeline.stages,
            Err(error) => panic!("{line:?}: {error}"),
        }
    }

    fn where_(column: &str, op: Op, literal: &str) -> Stage {
        Stage::Where {
            column: String::from(column),
            op,
            literal: String::from(literal),
        }
    }

    fn sort_by(column: &str, descending: bool) -> Stage {
        Stage::SortBy {
            column: String::from(column),
            descending,
        }
    }

    #[test]
    fn parses_the_example() {
        let pipeline = parse_pipeline("ps | where restarts > 0 | sort-by mem | first 5").unwrap();
        assert_eq!(pipeline.command, "ps");
        assert_eq!(
            pipeline.stages,
            [
                where_("restarts", Op::Gt, "0"),
                sort_by("mem", false),
                Stage::First(5)
            ]
        );
    }

    #[test]
    fn keeps_the_command_text_raw() {
        let cases = [
            ("", ""),
            ("   ", ""),
            ("ps", "ps"),
            ("  spawn  \"a b\"  ", "spawn  \"a b\""),
            ("echo \"x | y\" | first 1", "echo \"x | y\""),
        ];
        for (line, command) in cases {
            assert_eq!(parse_pipeline(line).unwrap().command, command, "{line:?}");
        }
    }

    #[test]
    fn parses_every_operator() {
        for op in Op::ALL {
            let line = alloc::format!("ps | where name {op} init");
            assert_eq!(stages(&line), [where_("name", op, "init")], "{line}");
            assert_eq!(Op::from_symbol(op.symbol()), Some(op));
        }
        assert_eq!(Op::from_symbol("="), None);
    }

    #[test]
    fn parses_every_stage() {
        let cases: &[(&str, Stage)] = &[
            ("where mem >= 4KiB", where_("mem", Op::Ge, "4KiB")),
            ("where name == \"a b\"", where_("name", Op::Eq, "a b")),
            ("where name =~ \"|\"", where_("name", Op::Contains, "|")),
            ("where name != \"\"", where_("name", Op::Ne, "")),
            ("sort-by mem", sort_by("mem", false)),
            ("sort-by mem asc", sort_by("mem", false)),
            ("sort-by mem desc", sort_by("mem", true)),
            ("sort-by mem --reverse", sort_by("mem", true)),
            ("sort-by --reverse mem", sort_by("mem", true)),
            ("first 0", Stage::First(0)),
            ("first 12", Stage::First(12)),
            ("select name", Stage::Select(words(&["name"]))),
            (
                "select name mem id",
                Stage::Select(words(&["name", "mem", "id"])),
            ),
            (
                "  select   \"odd name\"  ",
                Stage::Select(words(&["odd name"])),
            ),
        ];
        for (text, stage) in cases {
            let line = alloc::format!("ps |{text}");
            assert_eq!(&stages(&line), core::slice::from_ref(stage), "{line}");
        }
    }

    #[test]
    fn stages_print_as_they_parse() {
        let cases: &[(Stage, &str)] = &[
            (where_("mem", Op::Gt, "1MiB"), "where mem > 1MiB"),
            (
                where_("name", Op::Contains, "a \"b\" | \\"),
                r#"where name =~ "a \"b\" | \\""#,
            ),
            (where_("name", Op::Eq, ""), r#"where name == """#),
            (sort_by("cpu", true), "sort-by cpu desc"),
            (sort_by("odd name", false), r#"sort-by "odd name""#),
            (Stage::First(3), "first 3"),
            (Stage::Select(words(&["a", "b c"])), r#"select a "b c""#),
        ];
        for (stage, text) in cases {
            assert_eq!(stage.to_string(), *text);
            let line = alloc::format!("x | {stage}");
            assert_eq!(&stages(&line), core::slice::from_ref(stage), "{line}");
        }
    }

    #[test]
    fn syntax_errors() {
        use PipelineError as E;
        let cases: Vec<(&str, PipelineError, &str)> = vec![
            (
                "ps | | x",
                E::EmptyStage { index: 1 },
                "empty pipeline stage 1 (nothing after a \"|\")",
            ),
            (
                "ps | first 1 |",
                E::EmptyStage { index: 2 },
                "empty pipeline stage 2 (nothing after a \"|\")",
            ),
            (
                "| first 1",
                E::EmptyStage { index: 0 },
                "empty command before \"|\"",
            ),
            (
                "ps | where name == \"init",
                E::UnterminatedQuote,
                "unterminated quote (a \" without its closing \")",
            ),
            (
                "ps | grep x",
                E::UnknownStage {
                    name: String::from("grep"),
                },
                "unknown stage \"grep\" (known stages: where, sort-by, first, select)",
            ),
            (
                "ps | where",
                E::MissingArgument {
                    stage: "where",
                    argument: "<column>",
                },
                "where: missing <column> (usage: where <column> <op> <literal>)",
            ),
            (
                "ps | where mem",
                E::MissingArgument {
                    stage: "where",
                    argument: "<op>",
                },
                "where: missing <op> (usage: where <column> <op> <literal>)",
            ),
            (
                "ps | where mem >",
                E::MissingArgument {
                    stage: "where",
                    argument: "<literal>",
                },
                "where: missing <literal> (usage: where <column> <op> <literal>)",
            ),
            (
                "ps | where mem > 1 2",
                E::UnexpectedArgument {
                    stage: "where",
                    argument: String::from("2"),
                },
                "where: unexpected argument \"2\" (usage: where <column> <op> <literal>)",
            ),
            (
                "ps | where mem = 1",
                E::UnknownOperator {
                    op: String::from("="),
                },
                "where: unknown operator \"=\" (operators: == != < <= > >= =~)",
            ),
            (
                "ps | sort-by",
                E::MissingArgument {
                    stage: "sort-by",
                    argument: "<column>",
                },
                "sort-by: missing <column> (usage: sort-by <column> [asc|desc])",
            ),
            (
                "ps | sort-by --reverse",
                E::MissingArgument {
                    stage: "sort-by",
                    argument: "<column>",
                },
                "sort-by: missing <column> (usage: sort-by <column> [asc|desc])",
            ),
            (
                "ps | sort-by mem down",
                E::UnexpectedArgument {
                    stage: "sort-by",
                    argument: String::from("down"),
                },
                "sort-by: unexpected argument \"down\" (usage: sort-by <column> [asc|desc])",
            ),
            (
                "ps | sort-by mem desc id",
                E::UnexpectedArgument {
                    stage: "sort-by",
                    argument: String::from("id"),
                },
                "sort-by: unexpected argument \"id\" (usage: sort-by <column> [asc|desc])",
            ),
            (
                "ps | first",
                E::MissingArgument {
                    stage: "first",
                    argument: "<n>",
                },
                "first: missing <n> (usage: first <n>)",
            ),
            (
                "ps | first five",
                E::BadCount {
                    count: String::from("five"),
                },
                "first: bad count \"five\" (expected a whole number like 5)",
            ),
            (
                "ps | first -1",
                E::BadCount {
                    count: String::from("-1"),
                },
                "first: bad count \"-1\" (expected a whole number like 5)",
            ),
            (
                "ps | first 1 2",
                E::UnexpectedArgument {
                    stage: "first",
                    argument: String::from("2"),
                },
                "first: unexpected argument \"2\" (usage: first <n>)",
            ),
            (
                "ps | select",
                E::MissingArgument {
                    stage: "select",
                    argument: "<column>",
                },
                "select: missing <column> (usage: select <column>...)",
            ),
        ];
        for (line, error, message) in cases {
            assert_eq!(parse_pipeline(line), Err(error.clone()), "{line:?}");
            assert_eq!(error.to_string(), message, "{line:?}");
        }
    }

    #[test]
    fn pipes_inside_quotes_do_not_split() {
        assert_eq!(
            stages("ps | where name =~ \"a|b\" | first 1"),
            [where_("name", Op::Contains, "a|b"), Stage::First(1)]
        );
    }
}
