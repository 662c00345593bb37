//! Where the comparison is written: always `target/abide/bench/`
//! (`comparison.md`, `comparison.svg`, `persistence.md`); with `abide
//! bench --update-docs` also docs/perf.md, whose section between [`BEGIN`]
//! and [`END`] is replaced (the command, the date, the commit, the tables),
//! and the chart docs/perf-linux.svg it shows. The persistence figures go
//! between [`PERSIST_BEGIN`] and [`PERSIST_END`], in perf.md's Persistence
//! section; `--only persist` writes only those. `--only unix` writes
//! `unix.md`, and with `--update-docs` the section of perf.md between
//! [`UNIX_BEGIN`] and [`UNIX_END`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use super::chart::render_svg;
use super::compare::{caption, combine, render_markdown};
use super::persist::PersistFigures;
use super::Outcome;
use crate::build::{output_dir, repo_root};

/// The line before the generated section of docs/perf.md.
pub const BEGIN: &str = "<!-- begin: written by `cargo run -- bench --update-docs` -->";
/// The line after it.
pub const END: &str = "<!-- end: written by `cargo run -- bench --update-docs` -->";
/// The chart's file name, beside perf.md.
pub const CHART: &str = "perf-linux.svg";
/// The line before the generated part of perf.md's Persistence section.
pub const PERSIST_BEGIN: &str =
    "<!-- begin: persistence, written by `cargo run -- bench --update-docs` -->";
/// The line after it.
pub const PERSIST_END: &str =
    "<!-- end: persistence, written by `cargo run -- bench --update-docs` -->";
/// The persistence figures' file in `target/abide/bench/`.
pub const PERSIST_FILE: &str = "persistence.md";
/// The line before the figures of `--only unix` in perf.md's section on
/// the Unix personality.
pub const UNIX_BEGIN: &str =
    "<!-- begin: Linux ABI, written by `cargo run -- bench --only unix --update-docs` -->";
/// The line after them.
pub const UNIX_END: &str =
    "<!-- end: Linux ABI, written by `cargo run -- bench --only unix --update-docs` -->";
/// The file of `--only unix` in `target/abide/bench/`.
pub const UNIX_FILE: &str = "unix.md";

/// The files written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub markdown: PathBuf,
    pub chart: PathBuf,
}

/// Writes the tables and the chart to `target/abide/bench/`.
pub fn write_outputs(outcome: &Outcome, command: &str) -> Result<Written, String> {
    let dir = output_dir().join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let written = Written {
        markdown: dir.join("comparison.md"),
        chart: dir.join("comparison.svg"),
    };
    let section = section(
        outcome,
        command,
        &today(),
        commit().as_deref(),
        "comparison.svg",
    );
    write(&written.markdown, &section)?;
    write(&written.chart, &chart(outcome))?;
    write_persist_outputs(&outcome.persist, command)?;
    Ok(written)
}

/// Writes the persistence figures to `target/abide/bench/persistence.md`.
pub fn write_persist_outputs(figures: &PersistFigures, command: &str) -> Result<PathBuf, String> {
    write_bench_file(
        PERSIST_FILE,
        &persist_section(figures, command, &today(), commit().as_deref()),
    )
}

/// Replaces the persistence figures in docs/perf.md.
pub fn update_persist_docs(figures: &PersistFigures, command: &str) -> Result<PathBuf, String> {
    let section = persist_section(figures, command, &today(), commit().as_deref());
    update_perf_md(PERSIST_BEGIN, PERSIST_END, &section)
}

/// The generated persistence Markdown: how and when, then the tables.
pub fn persist_section(
    figures: &PersistFigures,
    command: &str,
    date: &str,
    commit: Option<&str>,
) -> String {
    stamped(
        command,
        date,
        commit,
        &super::persist::render_markdown(figures),
    )
}

/// The generated Markdown of `--only unix`: how and when, then `tables`.
pub fn unix_section(tables: &str, command: &str, date: &str, commit: Option<&str>) -> String {
    stamped(command, date, commit, tables)
}

/// Writes the figures of `--only unix` (`tables`, the Markdown printed) to
/// `target/abide/bench/unix.md`.
pub fn write_unix_outputs(tables: &str, command: &str) -> Result<PathBuf, String> {
    write_bench_file(
        UNIX_FILE,
        &unix_section(tables, command, &today(), commit().as_deref()),
    )
}

/// Replaces the figures of `--only unix` in docs/perf.md.
pub fn update_unix_docs(tables: &str, command: &str) -> Result<PathBuf, String> {
    let section = unix_section(tables, command, &today(), commit().as_deref());
    update_perf_md(UNIX_BEGIN, UNIX_END, &section)
}

/// `body` after the line that says how and when it was measured.
fn stamped(command: &str, date: &str, commit: Option<&str>, body: &str) -> String {
    let at = commit.map_or_else(String::new, |c| format!(", at commit {c}"));
    format!("Command: `{command}`, {date}{at}.\n\n{body}")
}

/// Writes `text` to `target/abide/bench/<name>`.
fn write_bench_file(name: &str, text: &str) -> Result<PathBuf, String> {
    let dir = output_dir().join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    write(&path, text)?;
    Ok(path)
}

/// Replaces the lines between `begin` and `end` in docs/perf.md.
fn update_perf_md(begin: &str, end: &str, section: &str) -> Result<PathBuf, String> {
    let path = repo_root().join("docs").join("perf.md");
    let doc =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc = replace_between(&doc, begin, end, section)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    write(&path, &doc)?;
    Ok(path)
}

/// Replaces the section of docs/perf.md and writes docs/perf-linux.svg.
pub fn update_docs(outcome: &Outcome, command: &str) -> Result<Written, String> {
    let docs = repo_root().join("docs");
    let written = Written {
        markdown: docs.join("perf.md"),
        chart: docs.join(CHART),
    };
    let doc = fs::read_to_string(&written.markdown)
        .map_err(|e| format!("cannot read {}: {e}", written.markdown.display()))?;
    let section = section(outcome, command, &today(), commit().as_deref(), CHART);
    let doc = replace_section(&doc, &section)
        .map_err(|e| format!("{}: {e}", written.markdown.display()))?;
    let persist = persist_section(&outcome.persist, command, &today(), commit().as_deref());
    let doc = replace_between(&doc, PERSIST_BEGIN, PERSIST_END, &persist)
        .map_err(|e| format!("{}: {e}", written.markdown.display()))?;
    write(&written.chart, &chart(outcome))?;
    write(&written.markdown, &doc)?;
    Ok(written)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn chart(outcome: &Outcome) -> String {
    let hz = combine(&outcome.abide.runs).tsc_hz;
    render_svg(&outcome.comparison, &caption(&outcome.machine, hz))
}

/// The generated Markdown: how and when it was measured, the tables, and
/// the chart at `chart` (relative to the Markdown file).
pub fn section(
    outcome: &Outcome,
    command: &str,
    date: &str,
    commit: Option<&str>,
    chart: &str,
) -> String {
    let body = format!(
        "{}\n![Abide ÷ Linux, medians, log scale]({chart})\n",
        render_markdown(outcome)
    );
    stamped(command, date, commit, &body)
}

/// `doc` with the lines between [`BEGIN`] and [`END`] replaced by `section`.
pub fn replace_section(doc: &str, section: &str) -> Result<String, String> {
    replace_between(doc, BEGIN, END, section)
}

/// `doc` with the lines between the lines `begin` and `end` replaced by
/// `section`.
pub fn replace_between(doc: &str, begin: &str, end: &str, section: &str) -> Result<String, String> {
    let missing = || format!("no section between the lines\n{begin}\nand\n{end}");
    let after_begin = doc.find(begin).ok_or_else(missing)? + begin.len();
    let end_at = after_begin + doc[after_begin..].find(end).ok_or_else(missing)?;
    let mut out = String::with_capacity(doc.len() + section.len());
    out.push_str(&doc[..after_begin]);
    out.push_str("\n\n");
    out.push_str(section.trim_end());
    out.push_str("\n\n");
    out.push_str(&doc[end_at..]);
    Ok(out)
}

/// Today's date (UTC), `YYYY-MM-DD`.
pub fn today() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The checked-out commit, `abc1234` (`abc1234 with uncommitted changes`);
/// `None` outside a git checkout.
fn commit() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(repo_root())
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|status| !status.is_empty());
    Some(if dirty {
        format!("{head} with uncommitted changes")
    } else {
        head
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(31), (1970, 2, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn perf_md_has_every_generated_section() {
        let doc = fs::read_to_string(repo_root().join("docs/perf.md")).unwrap();
        let doc = replace_section(&doc, "results").unwrap();
        let doc = replace_between(&doc, UNIX_BEGIN, UNIX_END, "unix").unwrap();
        let doc = replace_between(&doc, PERSIST_BEGIN, PERSIST_END, "persistence").unwrap();
        let results = doc.find("\nresults\n").unwrap();
        let unix = doc.find("\nunix\n").unwrap();
        let persistence = doc.find("\npersistence\n").unwrap();
        assert!(results < unix && unix < persistence);
        assert_eq!(
            unix_section(
                "tables\n",
                "cargo run -- bench --only unix",
                "2026-12-07",
                None
            ),
            "Command: `cargo run -- bench --only unix`, 2026-12-07.\n\ntables\n"
        );
    }

    #[test]
    fn the_section_is_replaced_and_the_rest_kept() {
        let doc = format!("# Perf\n\nbefore\n\n{BEGIN}\nold table\n{END}\n\nafter\n");
        let new = replace_section(&doc, "new table\n").unwrap();
        assert_eq!(
            new,
            format!("# Perf\n\nbefore\n\n{BEGIN}\n\nnew table\n\n{END}\n\nafter\n")
        );
        // Replacing again gives the same document.
        assert_eq!(replace_section(&new, "new table").unwrap(), new);
        let err = replace_section("# Perf\n", "x").unwrap_err();
        assert!(err.starts_with("no section between the lines"), "{err}");
        assert!(replace_section(&format!("{END}\n{BEGIN}\n"), "x").is_err());
    }
}
