//! What the boot protocol told the kernel (memory map, command line, ACPI
//! pointer), kept for the kernel's lifetime: read once at boot, then only
//! looked up.

use abide_boot::BootInfo;
use spin::Once;

static BOOT_INFO: Once<BootInfo> = Once::new();

/// Keeps the boot information (once, at boot) and returns the kept copy.
pub fn keep(info: BootInfo) -> &'static BootInfo {
    BOOT_INFO.call_once(|| info)
}

/// The boot information (after the first steps of `kernel_entry`).
pub fn info() -> Option<&'static BootInfo> {
    BOOT_INFO.get()
}
