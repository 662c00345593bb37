//! The Linux guest's kernel, fetched from the Debian archive and cached.
//!
//! The kernel is Debian's cloud kernel: the metapackage
//! [`METAPACKAGE`] depends on the current versioned image package
//! (`linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)`). [`cloud_kernel`]
//! reads that dependency with `apt-cache show`, downloads the package with
//! `apt-get download` (no installation, no root needed once apt has its
//! package lists), unpacks it with `dpkg -x` and keeps only
//! `boot/vmlinuz-*`, as `target/linux-peer/<package>_<version>/vmlinuz`.
//! A cached kernel is used without going to the network; when apt has no
//! package lists (or stale ones) the tool runs `apt-get update` itself if
//! it is root, and otherwise says to. Without apt but with a cached kernel,
//! the newest cached one is used.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{self, APT, DPKG};

/// The metapackage whose dependency names the current cloud kernel.
pub const METAPACKAGE: &str = "linux-image-cloud-amd64";
/// The versioned image packages start with this.
const IMAGE_PREFIX: &str = "linux-image-";

/// A kernel ready to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// `linux-image-6.1.0-56-cloud-amd64`.
    pub package: String,
    /// `6.1.192-2`.
    pub version: String,
    /// The cached `vmlinuz` (a bzImage).
    pub vmlinuz: PathBuf,
}

/// The current cloud kernel, from the cache in `cache` or fetched into it.
pub fn cloud_kernel(cache: &Path) -> Result<Kernel, String> {
    tools::check(&[APT, DPKG])?;
    fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let resolved = resolve().or_else(|first| {
        update_package_lists(&first)?;
        resolve()
    });
    let (package, version) = match resolved {
        Ok(found) => found,
        Err(e) => {
            return newest_cached(cache).ok_or(e).inspect(|kernel| {
                eprintln!(
                    "abide: cannot ask apt for the current {METAPACKAGE}; using the cached {} {}",
                    kernel.package, kernel.version
                )
            })
        }
    };
    let kernel = Kernel {
        vmlinuz: cache.join(format!("{package}_{version}")).join("vmlinuz"),
        package,
        version,
    };
    if kernel.vmlinuz.is_file() {
        return Ok(kernel);
    }
    eprintln!(
        "abide: fetching the Linux guest's kernel: {} {} (apt-get download, dpkg -x)",
        kernel.package, kernel.version
    );
    fetch(cache, &kernel).or_else(|first| {
        // The lists may name a version the mirror no longer has.
        update_package_lists(&first)?;
        fetch(cache, &kernel)
    })?;
    Ok(kernel)
}

/// The versioned package the metapackage depends on, from `apt-cache show`.
fn resolve() -> Result<(String, String), String> {
    let show = run(Command::new("apt-cache").args(["show", "--no-all-versions", METAPACKAGE]))?;
    match image_dependency(&show) {
        Some((package, Some(version))) => Ok((package, version)),
        _ => Err(format!(
            "`apt-cache show {METAPACKAGE}` names no `{IMAGE_PREFIX}... (= version)` dependency:\n{show}"
        )),
    }
}

/// The first `linux-image-*` package of the first `Depends:` field of an
/// `apt-cache show` (or `dpkg-deb -f`) text, with its `(= version)` if any.
pub fn image_dependency(control: &str) -> Option<(String, Option<String>)> {
    let depends = control
        .lines()
        .find_map(|line| line.strip_prefix("Depends:"))?;
    depends
        .split([',', '|'])
        .map(str::trim)
        .find(|item| item.starts_with(IMAGE_PREFIX))
        .map(|item| {
            let (name, rest) = item.split_once(' ').unwrap_or((item, ""));
            let version = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|r| r.trim().strip_prefix('='))
                .map(|v| v.trim().to_string());
            (name.to_string(), version)
        })
}

/// Downloads and unpacks the package; only its `vmlinuz` is kept.
fn fetch(cache: &Path, kernel: &Kernel) -> Result<(), String> {
    let work = cache.join("download");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    run(Command::new("apt-get")
        .current_dir(&work)
        .args(["download", "-q"])
        .arg(format!("{}={}", kernel.package, kernel.version)))?;
    let deb = fs::read_dir(&work)
        .map_err(|e| format!("cannot list {}: {e}", work.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or_else(|| format!("apt-get download left no .deb in {}", work.display()))?;
    let unpacked = work.join("root");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    let boot = unpacked.join("boot");
    let vmlinuz = fs::read_dir(&boot)
        .map_err(|e| format!("{} has no boot/: {e}", deb.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .ok_or_else(|| format!("{} has no boot/vmlinuz-*", deb.display()))?;
    let dir = kernel.vmlinuz.parent().unwrap_or(cache);
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Copy under a temporary name and rename, so a half-written kernel is
    // never taken for a cached one.
    let partial = dir.join("vmlinuz.partial");
    fs::copy(&vmlinuz, &partial)
        .and_then(|_| fs::rename(&partial, &kernel.vmlinuz))
        .map_err(|e| format!("cannot store {}: {e}", kernel.vmlinuz.display()))?;
    // The modules (90 MiB) are of no use: the guest has no disk to load them from.
    let _ = fs::remove_dir_all(&work);
    Ok(())
}

/// `apt-get update`, when we may; `why` is the failure that calls for it.
fn update_package_lists(why: &str) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return Err(format!(
            "{why}\nabide: apt's package lists may be missing or stale; run `sudo apt-get update` and try again"
        ));
    }
    eprintln!("abide: apt could not find the Linux kernel package; running apt-get update");
    run(Command::new("apt-get").args(["update", "-q"]))
        .map(drop)
        .map_err(|e| format!("{why}\nabide: apt-get update failed too: {e}"))
}

/// The most recently stored kernel in the cache.
fn newest_cached(cache: &Path) -> Option<Kernel> {
    fs::read_dir(cache)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|dir| {
            let name = dir.file_name()?.to_str()?;
            let (package, version) = name.split_once('_')?;
            let vmlinuz = dir.join("vmlinuz");
            let modified = vmlinuz.metadata().ok()?.modified().ok()?;
            package.starts_with(IMAGE_PREFIX).then(|| {
                let kernel = Kernel {
                    package: package.to_string(),
                    version: version.to_string(),
                    vmlinuz,
                };
                (modified, kernel)
            })
        })
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, kernel)| kernel)
}

/// Runs `command` in the C locale (apt's messages are quoted in errors).
fn run(command: &mut Command) -> Result<String, String> {
    tools::run_captured(command.env("LC_ALL", "C"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_versioned_image_is_found() {
        let show = "Package: linux-image-cloud-amd64\n\
                    Source: linux-signed-amd64 (6.1.192+2)\n\
                    Version: 6.1.192-2\n\
                    Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)\n\
                    Description: Linux for x86-64 cloud (meta-package)\n\n\
                    Package: linux-image-cloud-amd64\n\
                    Depends: linux-image-6.1.0-50-cloud-amd64 (= 6.1.176-1)\n";
        assert_eq!(
            image_dependency(show),
            Some((
                "linux-image-6.1.0-56-cloud-amd64".into(),
                Some("6.1.192-2".into())
            ))
        );
    }

    #[test]
    fn other_dependencies_and_forms() {
        let show =
            "Depends: initramfs-tools | linux-initramfs-tool, linux-image-6.12.9-cloud-amd64\n";
        assert_eq!(
            image_dependency(show),
            Some(("linux-image-6.12.9-cloud-amd64".into(), None))
        );
        let spaced = "Depends: linux-image-6.1.0-9-cloud-amd64 ( =  6.1.27-1 )\n";
        assert_eq!(
            image_dependency(spaced).and_then(|(_, v)| v),
            Some("6.1.27-1".into())
        );
        assert_eq!(image_dependency("Depends: busybox\n"), None);
        assert_eq!(image_dependency("Package: x\n"), None);
        assert_eq!(image_dependency(""), None);
    }

    #[test]
    fn the_newest_cached_kernel_is_found() {
        let cache = std::env::temp_dir().join(format!("abide-debian-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&cache);
        assert_eq!(newest_cached(&cache), None);
        let dir = cache.join("linux-image-6.1.0-9-cloud-amd64_6.1.27-1");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(cache.join("download")).unwrap();
        assert_eq!(newest_cached(&cache), None);
        fs::write(dir.join("vmlinuz"), b"kernel").unwrap();
        let kernel = newest_cached(&cache).unwrap();
        assert_eq!(kernel.package, "linux-image-6.1.0-9-cloud-amd64");
        assert_eq!(kernel.version, "6.1.27-1");
        assert_eq!(kernel.vmlinuz, dir.join("vmlinuz"));
        fs::remove_dir_all(&cache).unwrap();
    }
}
