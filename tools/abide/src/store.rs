//! The store image: the file behind the virtio-blk disk on which the kernel
//! keeps its persistent store.
//!
//! `cargo run` creates it on first use at `target/abide/store.img`
//! ([`default_path`], [`DEFAULT_SIZE_MIB`]) as a sparse file and reuses it
//! afterwards; system tests attach one only when they ask
//! (`BootOptions::store`). QEMU gets it through [`qemu_args`].
//!
//! Durability: QEMU opens the file with `cache=writeback`, so a write the
//! guest saw complete is in the host's page cache — it survives QEMU being
//! killed (SIGKILL, the test suite's power cut), though not a crash of the
//! host — and a virtio-blk FLUSH request becomes an `fdatasync` of the file.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::build;

/// Size of a new store unless asked otherwise.
pub const DEFAULT_SIZE_MIB: u64 = 256;
/// The smallest store `--store-size` accepts.
pub const MIN_SIZE_MIB: u64 = 16;
/// The largest store `--store-size` accepts (1 TiB; the file is sparse).
pub const MAX_SIZE_MIB: u64 = 1 << 20;
/// The store's block size: an image must hold whole blocks.
pub const BLOCK_SIZE: u64 = 4096;

/// `target/abide/store.img` in the repository.
pub fn default_path() -> PathBuf {
    build::output_dir().join("store.img")
}

/// Checks a size for a new store.
pub fn check_size(size_mib: u64) -> Result<(), String> {
    if size_mib < MIN_SIZE_MIB {
        return Err(format!(
            "a store of {size_mib} MiB is too small: at least {MIN_SIZE_MIB} MiB"
        ));
    }
    if size_mib > MAX_SIZE_MIB {
        return Err(format!(
            "a store of {size_mib} MiB is too large: at most {MAX_SIZE_MIB} MiB"
        ));
    }
    Ok(())
}

/// Creates (or truncates) a store of `size_mib` MiB at `path`, creating its
/// directory: a sparse file, so it costs no disk space until written.
pub fn create(path: &Path, size_mib: u64) -> Result<(), String> {
    check_size(size_mib)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| format!("cannot create the store {}: {e}", path.display()))?;
    file.set_len(size_mib << 20)
        .map_err(|e| format!("cannot size the store {}: {e}", path.display()))
}

/// Checks that `path` is a store QEMU can attach: a regular file of whole
/// 4 KiB blocks, at least [`MIN_SIZE_MIB`]. Returns its size in bytes.
pub fn check_existing(path: &Path) -> Result<u64, String> {
    let meta =
        fs::metadata(path).map_err(|e| format!("cannot use the store {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "the store {} is not a regular file",
            path.display()
        ));
    }
    let len = meta.len();
    if len < MIN_SIZE_MIB << 20 || len % BLOCK_SIZE != 0 {
        return Err(format!(
            "the store {} is {len} bytes: a store is whole {BLOCK_SIZE}-byte blocks, at least {MIN_SIZE_MIB} MiB \
             (--fresh recreates it)",
            path.display()
        ));
    }
    Ok(len)
}

/// What [`prepare`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prepared {
    /// A new store of this many MiB.
    Created { size_mib: u64 },
    /// The existing store, of this many bytes.
    Reused { size_bytes: u64 },
}

/// Makes `path` ready to boot with: deletes it first when `fresh`, creates it
/// with `size_mib` when missing, otherwise checks it.
pub fn prepare(path: &Path, size_mib: u64, fresh: bool) -> Result<Prepared, String> {
    check_size(size_mib)?;
    if path.to_str().is_none() {
        return Err(format!(
            "the store path {} is not valid UTF-8 (QEMU's -drive needs text)",
            path.display()
        ));
    }
    if fresh {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot delete the store {}: {e}", path.display())),
        }
    }
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create(path, size_mib)?;
            Ok(Prepared::Created { size_mib })
        }
        _ => check_existing(path).map(|size_bytes| Prepared::Reused { size_bytes }),
    }
}

/// QEMU's arguments attaching `path` as the store: a raw image on a
/// modern-only virtio-blk PCI device (what the kernel's driver speaks),
/// write-back cached with flushes honoured.
pub fn qemu_args(path: &Path) -> Vec<OsString> {
    // QEMU's option syntax doubles a comma inside a value.
    let file = path.to_string_lossy().replace(',', ",,");
    vec![
        "-drive".into(),
        format!("file={file},if=none,id=store,format=raw,cache=writeback").into(),
        "-device".into(),
        "virtio-blk-pci,drive=store,disable-legacy=on".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own for one test, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("abide-store-test-{}-{test}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn join(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn sizes_are_checked() {
        assert!(check_size(16).is_ok());
        assert!(check_size(256).is_ok());
        assert!(check_size(15).unwrap_err().contains("at least 16 MiB"));
        assert!(check_size(0).is_err());
        assert!(check_size(MAX_SIZE_MIB + 1).is_err());
    }

    #[test]
    fn created_once_reused_then_recreated_when_fresh() {
        let temp = TempDir::new("fresh");
        let path = temp.join("sub/dir/store.img");
        assert_eq!(
            prepare(&path, 32, false).unwrap(),
            Prepared::Created { size_mib: 32 }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), 32 << 20);
        // Sparse: (almost) nothing allocated.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert!(fs::metadata(&path).unwrap().blocks() * 512 < 1 << 20);
        }
        fs::write(&path, vec![7u8; 16 << 20]).unwrap();
        // Reused as it is, whatever size is asked for.
        assert_eq!(
            prepare(&path, 64, false).unwrap(),
            Prepared::Reused {
                size_bytes: 16 << 20
            }
        );
        assert_eq!(fs::read(&path).unwrap()[0], 7);
        assert_eq!(
            prepare(&path, 64, true).unwrap(),
            Prepared::Created { size_mib: 64 }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), 64 << 20);
        assert_eq!(fs::read(&path).unwrap()[0], 0);
    }

    #[test]
    fn bad_existing_stores_are_refused() {
        let temp = TempDir::new("bad");
        let small = temp.join("small.img");
        fs::write(&small, vec![0u8; 4096]).unwrap();
        let error = prepare(&small, 256, false).unwrap_err();
        assert!(error.contains("at least 16 MiB"), "{error}");
        assert!(error.contains("--fresh"), "{error}");
        let ragged = temp.join("ragged.img");
        OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&ragged)
            .unwrap()
            .set_len((16 << 20) + 1)
            .unwrap();
        assert!(prepare(&ragged, 256, false).is_err());
        let dir = temp.join("a-directory");
        fs::create_dir_all(&dir).unwrap();
        assert!(prepare(&dir, 256, false)
            .unwrap_err()
            .contains("not a regular file"));
        assert!(prepare(&temp.join("x.img"), 8, false)
            .unwrap_err()
            .contains("too small"));
    }

    #[test]
    fn qemu_gets_a_modern_virtio_blk_with_writeback_cache() {
        let args: Vec<String> = qemu_args(Path::new("/r/target/abide/store.img"))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "-drive",
                "file=/r/target/abide/store.img,if=none,id=store,format=raw,cache=writeback",
                "-device",
                "virtio-blk-pci,drive=store,disable-legacy=on",
            ]
        );
        let odd = qemu_args(Path::new("/tmp/a,b.img"));
        assert_eq!(
            odd[1].to_str().unwrap(),
            "file=/tmp/a,,b.img,if=none,id=store,format=raw,cache=writeback"
        );
    }
}
