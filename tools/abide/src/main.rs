//! `abide`: builds the Abide kernel and boots it in QEMU (`cargo run`).
//! Everything lives in the `abide_tool` library; see `abide --help`.

fn main() -> std::process::ExitCode {
    abide_tool::commands::main()
}
