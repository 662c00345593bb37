//! The build script of every user program (each package's `build = "../../build.rs"`,
//! `"../build.rs"` for `init`):
//! passes the linker script `user/user.ld` to the linker with an absolute
//! path, and relinks when it changes.
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    // The nearest user.ld above the package: programs sit at different depths
    // (user/init, user/drivers/serial), the script stays at the top of the
    // workspace.
    let script = manifest
        .ancestors()
        .map(|dir| dir.join("user.ld"))
        .find(|path| path.is_file())
        .expect("user.ld not found above the package");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rerun-if-changed={}", script.display());
}
