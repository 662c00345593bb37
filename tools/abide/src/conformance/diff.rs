//! The differential suite: the shell scripts of `tests/unix/*.sh` run on
//! the Linux peer and on Abide with the same busybox; each script's
//! standard output and exit status must be the same on both.
//!
//! The scripts and their driver ([`super::guest::diff_driver`]) land in
//! `/diff` of each guest; each script runs in a fresh empty directory with
//! standard input `/dev/null` and standard error discarded. [`outcomes`]
//! reads what each printed and how it exited from the console.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::guest::{self, DIFF_BEGIN, DIFF_DONE, DIFF_END};
use super::layout::{self, Content, Tree};
use super::run::{self, GuestOutput, Machine};
use super::System;
use crate::build::repo_root;

/// `tests/unix`: the scripts.
pub fn scripts_dir() -> PathBuf {
    repo_root().join("tests").join("unix")
}

/// The scripts' names (`*.sh`), in name order.
pub fn script_names() -> Result<Vec<String>, String> {
    let dir = scripts_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sh"))
        .collect();
    names.sort();
    Ok(names)
}

/// What one script printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub status: i32,
}

/// Each script's outcome, by name, from a guest's cleaned console text.
pub fn outcomes(text: &str) -> BTreeMap<String, Outcome> {
    let mut found = BTreeMap::new();
    let mut rest = text;
    while let Some(at) = rest.find(&format!("{DIFF_BEGIN} ")) {
        let after = &rest[at + DIFF_BEGIN.len() + 1..];
        let Some((name, body)) = after.split_once('\n') else {
            break;
        };
        let end_marker = format!("{DIFF_END} {name} ");
        let Some(end) = body.find(&end_marker) else {
            break;
        };
        let stdout = body[..end].to_string();
        let tail = &body[end + end_marker.len()..];
        let (status, next) = tail.split_once('\n').unwrap_or((tail, ""));
        if let Ok(status) = status.trim().parse() {
            found.insert(name.to_string(), Outcome { stdout, status });
        }
        rest = next;
    }
    found
}

/// The tree of `/diff`: the scripts and the driver (`prefix` as in
/// [`layout::suite_part`]).
fn diff_tree(prefix: &str, names: &[String]) -> Tree {
    let at = |name: &str| layout::under(prefix, name);
    let mut tree = Tree::rooted(prefix);
    tree.file(
        &at(guest::DRIVER_NAME),
        0o755,
        Content::Bytes(guest::diff_driver().into()),
    );
    for name in names {
        tree.file(&at(name), 0o755, Content::Host(scripts_dir().join(name)));
    }
    tree
}

/// Runs every script on `system`; `on_line` gets the console's lines.
pub fn run_scripts(
    system: System,
    machine: Machine,
    timeout: Duration,
    on_line: &mut dyn FnMut(&str),
) -> Result<(GuestOutput, BTreeMap<String, Outcome>), String> {
    let names = script_names()?;
    let driver = format!("/diff/{}", guest::DRIVER_NAME);
    let guest = match system {
        System::Linux => {
            let busybox = run::busybox()?;
            let mut tree = layout::system_part(&busybox, &layout::applets(&busybox)?);
            tree.append(diff_tree("diff", &names));
            run::linux_peer("diff", tree, &driver, DIFF_DONE, machine, timeout, on_line)?
        }
        System::Abide => {
            let add = run::stage("diff", &diff_tree("", &names), "/diff")?;
            run::abide(
                &[add],
                &format!("sh -c 'sh {driver}'"),
                guest::DIFF_START,
                DIFF_DONE,
                machine,
                timeout,
                on_line,
            )?
        }
    };
    let found = outcomes(&guest.text);
    Ok((guest, found))
}

/// One script's comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub name: String,
    pub linux: Option<Outcome>,
    pub abide: Option<Outcome>,
}

impl Verdict {
    /// Same output and status on both (a script missing on either differs).
    pub fn same(&self) -> bool {
        self.linux.is_some() && self.linux == self.abide
    }

    /// What differs, for the report.
    pub fn explain(&self) -> String {
        match (&self.linux, &self.abide) {
            (None, _) => "it did not run on Linux".into(),
            (_, None) => "it did not run on Abide".into(),
            (Some(l), Some(a)) if l.status != a.status => {
                format!("exit status {} on Linux, {} on Abide", l.status, a.status)
            }
            (Some(l), Some(a)) if l.stdout != a.stdout => format!(
                "standard output differs:\n--- Linux\n{}--- Abide\n{}---",
                l.stdout, a.stdout
            ),
            _ => "same".into(),
        }
    }
}

/// Pairs the two systems' outcomes, script by script.
pub fn compare(
    names: &[String],
    linux: &BTreeMap<String, Outcome>,
    abide: &BTreeMap<String, Outcome>,
) -> Vec<Verdict> {
    names
        .iter()
        .map(|name| Verdict {
            name: name.clone(),
            linux: linux.get(name).cloned(),
            abide: abide.get(name).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_read_between_the_markers() {
        let text = "noise\n@@diff begin a.sh\nhello\nworld\n@@diff end a.sh 0\n\
                    @@diff begin b.sh\nno newline@@diff end b.sh 3\n\
                    @@diff begin c.sh\n@@diff end c.sh 0\n@@diff done\n";
        let found = outcomes(text);
        assert_eq!(
            found["a.sh"],
            Outcome {
                stdout: "hello\nworld\n".into(),
                status: 0
            }
        );
        assert_eq!(found["b.sh"].stdout, "no newline");
        assert_eq!(found["b.sh"].status, 3);
        assert_eq!(found["c.sh"].stdout, "");
        let names = ["a.sh".to_string(), "b.sh".to_string(), "d.sh".to_string()];
        let mut abide = found.clone();
        abide.get_mut("b.sh").unwrap().status = 4;
        let verdicts = compare(&names, &found, &abide);
        assert!(verdicts[0].same());
        assert!(!verdicts[1].same());
        assert_eq!(verdicts[1].explain(), "exit status 3 on Linux, 4 on Abide");
        assert!(!verdicts[2].same());
    }

    #[test]
    fn every_script_is_a_shell_script() {
        let names = script_names().unwrap();
        assert!(names.len() >= 20, "{names:?}");
        for name in names {
            let text = fs::read_to_string(scripts_dir().join(&name)).unwrap();
            assert!(
                text.starts_with("#!/bin/sh\n# "),
                "{name} needs #!/bin/sh and a comment"
            );
        }
    }
}
