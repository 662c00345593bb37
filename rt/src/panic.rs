//! The panic handler, and the unwinding symbols the precompiled `core` refers to.

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::io::LineWriter;
use crate::syscall;

/// The exit code of a process that panicked.
pub const PANIC_EXIT_CODE: i32 = 101;

/// Prints `panic: <message> at <file>:<line>` and exits with [`PANIC_EXIT_CODE`].
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    static PANICKING: AtomicBool = AtomicBool::new(false);
    // A panic while printing the panic (a `Display` impl that panics) must
    // not recurse.
    if !PANICKING.swap(true, Ordering::Relaxed) {
        let mut out = LineWriter::new();
        let _ = write!(out, "panic: {}", info.message());
        if let Some(location) = info.location() {
            let _ = write!(out, " at {}:{}", location.file(), location.line());
        }
        let _ = out.write_str("\n");
        out.flush();
    }
    syscall::exit(PANIC_EXIT_CODE)
}

/// The precompiled `core` refers to these unwinding symbols even with
/// `panic = "abort"`; they are never called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// See [`rust_eh_personality`].
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    syscall::exit(PANIC_EXIT_CODE)
}
