//! The user programs embedded in the kernel image (QEMU passes no initrd to a
//! PVH kernel, and one image is the whole appliance). The host tool builds
//! them and packs them in the `abide-bundle` format.
//!
//! The files `bundle_read` serves are those, plus the archives the host tool
//! loaded beside the kernel (`rootfs`, `add`; see `mm::archive_bytes`).

use abide_bundle::Bundle;

/// 16-byte alignment for the bundle, whose programs start at 16-byte offsets:
/// the ELF loader needs 8-byte-aligned images.
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);

static BUNDLE: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("ABIDE_BUNDLE")));

/// The embedded bundle (empty if it is malformed, which the host tool's tests rule out).
pub fn programs() -> Bundle<'static> {
    Bundle::parse(&BUNDLE.0).unwrap_or_else(|error| {
        log::error!("the embedded program bundle is malformed: {error:?}");
        Bundle::parse(&[]).unwrap_or_else(|_| unreachable!())
    })
}

/// The file `bundle_read` serves under `name`: a bundle file, or an archive
/// loaded beside the kernel.
pub fn file(name: &str) -> Option<&'static [u8]> {
    crate::mm::archive_bytes(name).or_else(|| programs().get(name))
}
