//! The system configuration as the image builder sees it: every build reads
//! `system/default.conf` (or the file in `ABIDE_CONFIG`) and the other
//! `system/*.conf` files, and an invalid one stops the build with
//! `file:line:column: what is wrong` for each error. They go into the image
//! as `config-<name>` ([`bundle_entries`]): `config-default` is what `init`
//! applies at boot, the others are what `config apply <name>` can switch to.
//! An image carries only the configurations whose programs it carries (the
//! test configurations only the full image, see `image.rs`), and the build
//! stops if the default configuration names a program the image lacks.
//!
//! The format and its rules are `abide_config`'s (see docs/config.md); this
//! module only finds the file and reports.

use std::fs;
use std::path::{Path, PathBuf};

use abide_config::System;

/// The environment variable naming another configuration file to build.
pub const CONFIG_ENV: &str = "ABIDE_CONFIG";

/// The configuration file the build uses.
pub fn config_path(root: &Path) -> PathBuf {
    match std::env::var_os(CONFIG_ENV) {
        Some(path) => PathBuf::from(path),
        None => root.join("system").join("default.conf"),
    }
}

/// Reads and checks the configuration; the error lists every problem found.
pub fn load(root: &Path) -> Result<System, String> {
    read_checked(root, &config_path(root))
}

/// Reads and checks the configuration in `path` (shown relative to `root`).
fn read_checked(root: &Path, path: &Path) -> Result<System, String> {
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let text = fs::read_to_string(path)
        .map_err(|error| format!("cannot read the system configuration {shown}: {error}"))?;
    check(&text, &shown)
}

/// The file of configuration `name`: `system/<name>.conf`, or for
/// `default` the file [`config_path`] names.
pub fn path_of(root: &Path, name: &str) -> PathBuf {
    if name == "default" {
        config_path(root)
    } else {
        root.join("system").join(format!("{name}.conf"))
    }
}

/// Whether the configuration in `path` names only programs of `programs`.
pub fn names_only(root: &Path, path: &Path, programs: &[String]) -> Result<bool, String> {
    Ok(missing_program(&read_checked(root, path)?, programs).is_none())
}

/// The first program `system` names that is not one of `programs`.
fn missing_program<'a>(system: &'a System, programs: &[String]) -> Option<&'a str> {
    system
        .components()
        .into_iter()
        .map(|component| component.program.as_str())
        .find(|program| !programs.iter().any(|p| p == program))
}

/// The configurations an image carrying `programs` gets, checked, as bundle
/// entries: `config-default` (the file [`config_path`] names, which must
/// name only `programs`) and `config-<stem>` for each other
/// `system/<stem>.conf` that names only `programs`.
pub fn bundle_entries(root: &Path, programs: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let system = load(root)?;
    if let Some(program) = missing_program(&system, programs) {
        return Err(format!(
            "the system configuration {} names the program {program}, which this image does not carry \
             (test and benchmark programs are only in the full image: `cargo run -- --with-tests`)",
            config_path(root).display()
        ));
    }
    let default = config_path(root);
    let read =
        |path: &Path| fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let mut entries = vec![(abide_abi::host::DEFAULT_CONFIG.to_string(), read(&default)?)];
    let dir = root.join("system");
    let mut others: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "conf"))
        .filter(|path| path.file_stem().is_some_and(|stem| stem != "default"))
        .collect();
    others.sort();
    for path in others {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?;
        let bytes = read(&path)?;
        let shown = format!("system/{stem}.conf");
        let system = check(&String::from_utf8_lossy(&bytes), &shown)?;
        if missing_program(&system, programs).is_none() {
            entries.push((format!("{}{stem}", abide_abi::host::CONFIG_PREFIX), bytes));
        }
    }
    Ok(entries)
}

/// Parses `text` (from the file shown as `shown`).
pub fn check(text: &str, shown: &str) -> Result<System, String> {
    abide_config::parse(text).map_err(|errors| {
        let mut report = format!(
            "the system configuration {shown} is invalid ({} error{}):",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        for error in &errors {
            report.push_str(&format!("\n  {}", error.in_file(shown)));
        }
        report
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_configuration_is_valid() {
        let root = crate::build::repo_root();
        let text = fs::read_to_string(root.join("system/default.conf")).unwrap();
        assert!(check(&text, "system/default.conf").is_ok());
    }

    #[test]
    fn an_image_carries_the_configurations_of_its_programs() {
        let root = crate::build::repo_root();
        let names = |parts: &[&str]| crate::user::program_names(&root, parts).unwrap();
        let stems = |entries: Vec<(String, Vec<u8>)>| -> Vec<String> {
            entries.into_iter().map(|(name, _)| name).collect()
        };
        let system = stems(bundle_entries(&root, &names(crate::user::SYSTEM_PARTS)).unwrap());
        assert!(system.contains(&"config-default".to_string()), "{system:?}");
        for test_only in [
            "config-faults",
            "config-confine",
            "config-bench",
            "config-stash-check",
        ] {
            assert!(!system.contains(&test_only.to_string()), "{system:?}");
        }
        let full = crate::image::Image::Full.parts();
        let full = stems(bundle_entries(&root, &names(&full)).unwrap());
        for config in [
            "config-default",
            "config-faults",
            "config-confine",
            "config-bench",
        ] {
            assert!(full.contains(&config.to_string()), "{full:?}");
        }
        // The default configuration must name only programs the image has.
        let error = bundle_entries(&root, &["init".to_string()]).unwrap_err();
        assert!(error.contains("this image does not carry"), "{error}");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let text = "group root {\n    component a { restart sometimes }\n}\n";
        let error = check(text, "bad.conf").unwrap_err();
        assert!(error.contains("bad.conf:2:"), "{error}");
        assert!(error.contains("sometimes"), "{error}");
    }
}
