//! Debian packages the host tool needs, fetched from the Debian archive and
//! cached: the Linux guest's kernel (`abide bench`), the static busybox
//! (the Linux guest's, and the root tree's, `rootfs`) and the static bash
//! (the root tree's `/bin/bash`).
//!
//! The kernel is Debian's cloud kernel: the metapackage
//! [`METAPACKAGE`] depends on the current versioned image package
//! (`linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)`). [`cloud_kernel`]
//! reads that dependency with `apt-cache show`; [`busybox`] and
//! [`bash_static`] read the current version of [`BUSYBOX`] and
//! [`BASH_STATIC`] the same way. Each package is downloaded
//! with `apt-get download` (no installation, no root needed once apt has
//! its package lists) and unpacked with `dpkg -x`, and only the one file
//! the guest needs is kept: `target/linux-peer/<package>_<version>/vmlinuz`
//! and `.../busybox`, `.../bash` ([`cache_dir`]; [`lock_cache`] serializes the tool's
//! processes). A cached file is used without going to the network;
//! when apt has no package lists (or stale ones) the tool runs
//! `apt-get update` itself if it is root, and otherwise says to. Without
//! apt but with a cached file, the newest cached one is used.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::repo_root;
use crate::prereqs::{self, APT, DPKG};

/// `<repo>/target/linux-peer`: the cached packages' files (and the Linux
/// peer's build, which named it).
pub fn cache_dir() -> PathBuf {
    repo_root().join("target").join("linux-peer")
}

/// Creates `dir` and takes its `lock` file, so one process at a time
/// fetches into it; the lock holds until the file is dropped.
pub fn lock_cache(dir: &Path) -> Result<File, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let lock_path = dir.join("lock");
    File::create(&lock_path)
        .and_then(|lock| lock.lock().map(|()| lock))
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))
}

/// The metapackage whose dependency names the current cloud kernel.
pub const METAPACKAGE: &str = "linux-image-cloud-amd64";
/// The versioned image packages start with this.
const IMAGE_PREFIX: &str = "linux-image-";
/// The package holding a statically linked busybox, as `bin/busybox`.
pub const BUSYBOX: &str = "busybox-static";
/// The package holding a statically linked bash, as `bin/bash-static`.
pub const BASH_STATIC: &str = "bash-static";

/// One file taken from a Debian package and cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// `linux-image-6.1.0-56-cloud-amd64`, `busybox-static`.
    pub package: String,
    /// `6.1.192-2`.
    pub version: String,
    /// The cached file.
    pub path: PathBuf,
}

/// The kernel ready to boot: `path` is its `vmlinuz` (a bzImage).
pub type Kernel = Fetched;

/// What to take from a package, and where its version comes from.
struct Wanted {
    /// The package (or metapackage) `apt-cache show` is asked about.
    asked: &'static str,
    /// The concrete package and version from that `apt-cache show` text.
    resolve: fn(&str) -> Option<(String, String)>,
    /// Packages whose cached copies may stand in: their names start so.
    cached_prefix: &'static str,
    /// The name the file is cached under.
    file_name: &'static str,
    /// The file inside the unpacked package.
    pick: fn(&Path) -> Result<PathBuf, String>,
}

/// The current cloud kernel, from the cache in `cache` or fetched into it.
pub fn cloud_kernel(cache: &Path) -> Result<Kernel, String> {
    obtain(
        cache,
        &Wanted {
            asked: METAPACKAGE,
            resolve: |show| match image_dependency(show) {
                Some((package, Some(version))) => Some((package, version)),
                _ => None,
            },
            cached_prefix: IMAGE_PREFIX,
            file_name: "vmlinuz",
            pick: |root| {
                let boot = root.join("boot");
                fs::read_dir(&boot)
                    .map_err(|e| format!("the package has no boot/: {e}"))?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .find(|path| {
                        path.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with("vmlinuz-"))
                    })
                    .ok_or_else(|| "the package has no boot/vmlinuz-*".to_string())
            },
        },
    )
}

/// The current static busybox, from the cache in `cache` or fetched into it.
pub fn busybox(cache: &Path) -> Result<Fetched, String> {
    obtain(
        cache,
        &Wanted {
            asked: BUSYBOX,
            resolve: |show| Some((BUSYBOX.to_string(), field(show, "Version")?.to_string())),
            cached_prefix: BUSYBOX,
            file_name: "busybox",
            pick: |root| packaged_file(root, "bin/busybox"),
        },
    )
}

/// The current static bash (`/bin/bash-static` of [`BASH_STATIC`]), from
/// the cache in `cache` or fetched into it.
pub fn bash_static(cache: &Path) -> Result<Fetched, String> {
    obtain(
        cache,
        &Wanted {
            asked: BASH_STATIC,
            resolve: |show| Some((BASH_STATIC.to_string(), field(show, "Version")?.to_string())),
            cached_prefix: BASH_STATIC,
            file_name: "bash",
            pick: |root| packaged_file(root, "bin/bash-static"),
        },
    )
}

/// `relative` inside the unpacked package at `root`, if it is a file.
fn packaged_file(root: &Path, relative: &str) -> Result<PathBuf, String> {
    let path = root.join(relative);
    path.is_file()
        .then_some(path)
        .ok_or_else(|| format!("the package has no {relative}"))
}

/// The file `wanted` names, cached or fetched.
fn obtain(cache: &Path, wanted: &Wanted) -> Result<Fetched, String> {
    if let Err(missing) = prereqs::check(&[APT, DPKG]) {
        // Without apt, a cached copy still serves (as the module says).
        return cached_instead(cache, wanted, missing, "no apt to ask");
    }
    fs::create_dir_all(cache).map_err(|e| format!("cannot create {}: {e}", cache.display()))?;
    let resolved = resolve(wanted).or_else(|first| {
        update_package_lists(&first)?;
        resolve(wanted)
    });
    let (package, version) = match resolved {
        Ok(found) => found,
        Err(e) => return cached_instead(cache, wanted, e, "cannot ask apt"),
    };
    let fetched = Fetched {
        path: cache
            .join(format!("{package}_{version}"))
            .join(wanted.file_name),
        package,
        version,
    };
    if fetched.path.is_file() {
        return Ok(fetched);
    }
    eprintln!(
        "abide: fetching {} from Debian: {} {} (apt-get download, dpkg -x)",
        wanted.file_name, fetched.package, fetched.version
    );
    fetch(cache, &fetched, wanted.pick).or_else(|first| {
        // The lists may name a version the mirror no longer has.
        update_package_lists(&first)?;
        fetch(cache, &fetched, wanted.pick)
    })?;
    Ok(fetched)
}

/// The newest cached copy of what `wanted` names, said on stderr (`why`:
/// the reason apt was not asked); `error` when there is none.
fn cached_instead(
    cache: &Path,
    wanted: &Wanted,
    error: String,
    why: &str,
) -> Result<Fetched, String> {
    newest_cached(cache, wanted.cached_prefix, wanted.file_name)
        .ok_or(error)
        .inspect(|cached| {
            eprintln!(
                "abide: {why} for the current {}; using the cached {} {}",
                wanted.asked, cached.package, cached.version
            )
        })
}

/// The concrete package and version, from `apt-cache show`.
fn resolve(wanted: &Wanted) -> Result<(String, String), String> {
    let show = run(Command::new("apt-cache").args(["show", "--no-all-versions", wanted.asked]))?;
    (wanted.resolve)(&show).ok_or_else(|| {
        format!(
            "`apt-cache show {}` does not say which package and version to fetch:\n{show}",
            wanted.asked
        )
    })
}

/// The value of the first `name:` field of a control text.
fn field<'a>(control: &'a str, name: &str) -> Option<&'a str> {
    control.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(':')?.trim();
        (!value.is_empty()).then_some(value)
    })
}

/// The first `linux-image-*` package of the first `Depends:` field of an
/// `apt-cache show` (or `dpkg-deb -f`) text, with its `(= version)` if any.
pub fn image_dependency(control: &str) -> Option<(String, Option<String>)> {
    let depends = field(control, "Depends")?;
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

/// Downloads and unpacks the package; only the file `pick` finds is kept.
fn fetch(
    cache: &Path,
    fetched: &Fetched,
    pick: fn(&Path) -> Result<PathBuf, String>,
) -> Result<(), String> {
    let work = cache.join("download");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    run(Command::new("apt-get")
        .current_dir(&work)
        .args(["download", "-q"])
        .arg(format!("{}={}", fetched.package, fetched.version)))?;
    let deb = fs::read_dir(&work)
        .map_err(|e| format!("cannot list {}: {e}", work.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .ok_or_else(|| format!("apt-get download left no .deb in {}", work.display()))?;
    let unpacked = work.join("root");
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&unpacked))?;
    let file = pick(&unpacked).map_err(|e| format!("{}: {e}", deb.display()))?;
    let dir = fetched.path.parent().unwrap_or(cache);
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // Copy under a temporary name and rename, so a half-written file is
    // never taken for a cached one.
    let partial = dir.join("partial");
    fs::copy(&file, &partial)
        .and_then(|_| fs::rename(&partial, &fetched.path))
        .map_err(|e| format!("cannot store {}: {e}", fetched.path.display()))?;
    // The rest (the kernel's 90 MiB of modules) is of no use: the guest has
    // no disk to load them from.
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
    eprintln!("abide: apt could not find a package; running apt-get update");
    run(Command::new("apt-get").args(["update", "-q"]))
        .map(drop)
        .map_err(|e| format!("{why}\nabide: apt-get update failed too: {e}"))
}

/// The most recently stored `file_name` of a package whose name starts
/// with `prefix`.
fn newest_cached(cache: &Path, prefix: &str, file_name: &str) -> Option<Fetched> {
    fs::read_dir(cache)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter_map(|dir| {
            let name = dir.file_name()?.to_str()?;
            let (package, version) = name.split_once('_')?;
            let path = dir.join(file_name);
            let modified = path.metadata().ok()?.modified().ok()?;
            package.starts_with(prefix).then(|| {
                let fetched = Fetched {
                    package: package.to_string(),
                    version: version.to_string(),
                    path,
                };
                (modified, fetched)
            })
        })
        .max_by_key(|(modified, _)| *modified)
        .map(|(_, fetched)| fetched)
}

/// Runs `command` in the C locale (apt's messages are quoted in errors).
fn run(command: &mut Command) -> Result<String, String> {
    prereqs::run_captured(command.env("LC_ALL", "C"))
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
    fn fields_are_read_by_name() {
        let show = "Package: busybox-static\nVersion: 1:1.35.0-4+deb12u1+b1\nDepends: libc6\n";
        assert_eq!(field(show, "Version"), Some("1:1.35.0-4+deb12u1+b1"));
        assert_eq!(field(show, "Depends"), Some("libc6"));
        assert_eq!(field(show, "Vers"), None);
        assert_eq!(field("Version:\n", "Version"), None);
    }

    #[test]
    fn the_newest_cached_kernel_is_found() {
        let cache = std::env::temp_dir().join(format!("abide-debian-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&cache);
        assert_eq!(newest_cached(&cache, IMAGE_PREFIX, "vmlinuz"), None);
        let dir = cache.join("linux-image-6.1.0-9-cloud-amd64_6.1.27-1");
        fs::create_dir_all(&dir).unwrap();
        fs::create_dir_all(cache.join("download")).unwrap();
        assert_eq!(newest_cached(&cache, IMAGE_PREFIX, "vmlinuz"), None);
        fs::write(dir.join("vmlinuz"), b"kernel").unwrap();
        assert_eq!(newest_cached(&cache, BUSYBOX, "busybox"), None);
        let kernel = newest_cached(&cache, IMAGE_PREFIX, "vmlinuz").unwrap();
        assert_eq!(kernel.package, "linux-image-6.1.0-9-cloud-amd64");
        assert_eq!(kernel.version, "6.1.27-1");
        assert_eq!(kernel.path, dir.join("vmlinuz"));
        fs::remove_dir_all(&cache).unwrap();
    }
}
