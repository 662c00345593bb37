//! Checks configuration files and prints the canonical form of each good one:
//! `cargo run -p abide-config --example check -- system/default.conf`.
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in std::env::args().skip(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("{path}: {e}");
                status = ExitCode::FAILURE;
                continue;
            }
        };
        match abide_config::parse(&text) {
            Ok(system) => print!("{system}"),
            Err(errors) => {
                for error in &errors {
                    eprintln!("{}", error.in_file(&path));
                }
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
