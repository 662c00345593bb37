//! The two kernel images and which one a boot needs.
//!
//! The bundle of user programs is part of the kernel binary
//! (`include_bytes!(env!("ABIDE_BUNDLE"))`), so a set of programs is a kernel
//! image of its own. The image a user boots carries the system alone; the
//! test and benchmark programs (`user/tests`, `user/bench`) and the
//! configurations that name them go only into the full image, which the
//! system tests, `abide bench` and `abide fuzz` boot. `abide run` picks the
//! full image when asked (`--with-tests`) or when its kernel command line
//! names what only the full image carries ([`Image::needed_by`]).

use std::path::Path;

use abide_abi::host::cmdline;

use crate::{config, user};

/// Which kernel image: the bundle it embeds holds the system's programs
/// alone, or those and the test and benchmark programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Image {
    /// What a user boots (`cargo run`): `init` and the programs of
    /// `user/drivers`, `user/services` and `user/apps`
    /// ([`user::SYSTEM_PARTS`]), and the configurations that name only them.
    System,
    /// The system and the programs of `user/tests` and `user/bench`
    /// ([`user::TEST_PARTS`]), and every configuration: what the system
    /// tests, `abide bench` and `abide fuzz` boot.
    Full,
}

impl Image {
    /// The parts of `user/` whose programs the image carries.
    pub fn parts(self) -> Vec<&'static str> {
        match self {
            Image::System => user::SYSTEM_PARTS.to_vec(),
            Image::Full => [user::SYSTEM_PARTS, user::TEST_PARTS].concat(),
        }
    }

    /// `name` for the system image, `name-full` for the full one, then
    /// `extension`: the name of the image's own file or directory under
    /// `target/abide` (`abide.elf`, `abide-full.elf`, `kernel-full`).
    pub fn own_name(self, name: &str, extension: &str) -> String {
        let suffix = match self {
            Image::System => "",
            Image::Full => "-full",
        };
        format!("{name}{suffix}{extension}")
    }

    /// The image a boot with kernel command line `line` needs: the full one
    /// when `init=` names a program, or `config=` a configuration, that the
    /// system image does not carry; otherwise the system image. A name that
    /// neither carries is left to the guest, which reports it.
    pub fn needed_by(root: &Path, line: &str) -> Result<Image, String> {
        let system = user::program_names(root, user::SYSTEM_PARTS)?;
        for word in line.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            let outside = if key == cmdline::INIT {
                value
                    .split(',')
                    .any(|program| !program.is_empty() && !system.iter().any(|p| p == program))
            } else if key == cmdline::CONFIG {
                let path = config::path_of(root, value);
                path.is_file() && !config::names_only(root, &path, &system)?
            } else {
                false
            };
            if outside {
                return Ok(Image::Full);
            }
        }
        Ok(Image::System)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_image_adds_the_test_parts() {
        assert_eq!(Image::System.parts(), user::SYSTEM_PARTS);
        let full = Image::Full.parts();
        assert!(user::SYSTEM_PARTS.iter().all(|p| full.contains(p)));
        assert!(user::TEST_PARTS.iter().all(|p| full.contains(p)));
    }

    #[test]
    fn own_names_tell_the_images_apart() {
        assert_eq!(Image::System.own_name("abide", ".elf"), "abide.elf");
        assert_eq!(Image::Full.own_name("abide", ".elf"), "abide-full.elf");
        assert_eq!(Image::Full.own_name("kernel", ""), "kernel-full");
    }

    #[test]
    fn a_command_line_naming_test_programs_needs_the_full_image() {
        let root = crate::build::repo_root();
        let needs = |line: &str| Image::needed_by(&root, line).unwrap();
        for line in [
            "",
            "log=debug",
            "test=all",
            "monitor",
            "init=init",
            "config=default",
            "config=no-such-config",
        ] {
            assert_eq!(needs(line), Image::System, "{line:?}");
        }
        for line in [
            "init=hello",
            "log=warn init=spinner,spinner,hello",
            "init=bench log=warn",
            "init=no-such-program",
            "config=faults",
            "config=confine",
            "config=bench",
            "config=bench-persist",
            "config=persist-check",
            "config=stash-check",
        ] {
            assert_eq!(needs(line), Image::Full, "{line:?}");
        }
    }
}
