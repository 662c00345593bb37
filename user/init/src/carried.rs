//! What the image carries: the shipped image holds the system's programs
//! alone, so a configuration may name a program (or `config=` a
//! configuration) that only the full image, with the test and benchmark
//! programs, has. init refuses such a configuration by name before starting
//! any of it, rather than letting its supervisor retry a start that cannot
//! succeed.

use alloc::format;
use alloc::string::String;

use abide_config::System;
use abide_rt::syscall;

/// Where a person finds what this image lacks (init cannot tell which image
/// it runs in, so it says both).
pub const FULL_IMAGE_HINT: &str = "the image `cargo run` boots carries the system alone; \
     test and benchmark programs and their configurations are in the full image: \
     `cargo run -- --with-tests`";

/// `Err` naming the first program the configuration `file` names that the
/// image does not carry.
pub fn check_programs(system: &System, file: &str) -> Result<(), String> {
    match system
        .components()
        .into_iter()
        .find(|component| syscall::bundle_len(&component.program).is_err())
    {
        Some(component) => Err(format!(
            "the configuration {file} names the program {}, which this image does not carry ({FULL_IMAGE_HINT})",
            component.program
        )),
        None => Ok(()),
    }
}
