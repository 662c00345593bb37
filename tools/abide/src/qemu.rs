//! The one place that knows how Abide is booted in QEMU.
//!
//! `cargo run` and the system tests must boot the same virtual machine, or a
//! test would pass on a machine nobody runs. So both describe what they want in
//! a [`QemuConfig`] and get their command line from [`QemuConfig::args`]; only
//! the console differs: a person's terminal ([`Console::Interactive`]) or pipes
//! a test reads and writes ([`Console::Captured`]).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use abide_abi::host::DEBUG_EXIT_PORT;

use crate::prereqs;
use crate::rootfs::placement::{self, Placed};

/// The port QEMU's GDB stub listens on with `-s`.
pub const GDB_PORT: u16 = 1234;

/// How QEMU runs the guest's instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Accel {
    /// Emulation: works everywhere (CI has no KVM), slower.
    #[default]
    Tcg,
    /// Hardware virtualization through /dev/kvm.
    Kvm,
}

impl Accel {
    /// The name QEMU's `-accel` takes.
    pub fn name(self) -> &'static str {
        match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        }
    }

    /// The CPU model used when none is asked for: every feature TCG emulates,
    /// or the host's own CPU under KVM.
    pub fn default_cpu(self) -> &'static str {
        match self {
            Accel::Tcg => "max",
            Accel::Kvm => "host",
        }
    }
}

/// Where the serial console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Console {
    /// The terminal: serial console and QEMU monitor multiplexed on stdio
    /// (Ctrl-A X quits, Ctrl-A C switches to the monitor, Ctrl-A H helps).
    Interactive,
    /// Pipes: serial console on QEMU's stdin/stdout, no monitor.
    Captured,
}

/// What QEMU boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Medium {
    /// The kernel ELF directly (`-kernel`, PVH entry) with a command line.
    Kernel { elf: PathBuf, cmdline: String },
    /// A GRUB ISO (`-cdrom`); its grub.cfg holds the command line.
    Iso(PathBuf),
    /// A Linux kernel (bzImage) with an initramfs and a command line
    /// (`-kernel`, `-initrd`, `-append`): the Linux guest `abide bench`
    /// compares Abide with, in the same machine.
    LinuxKernel {
        kernel: PathBuf,
        initrd: PathBuf,
        cmdline: String,
    },
}

/// A QEMU virtual machine for Abide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    pub medium: Medium,
    pub console: Console,
    pub accel: Accel,
    /// `-cpu`; `None` means [`Accel::default_cpu`].
    pub cpu: Option<String>,
    pub memory_mib: u32,
    /// Open a window; otherwise `-display none`.
    pub graphics: bool,
    /// Start the GDB stub and wait for the debugger (`-s -S`).
    pub gdb: bool,
    /// The store image to attach as the kernel's store disk
    /// ([`crate::store::qemu_args`]); `None`: no store.
    pub store: Option<PathBuf>,
    /// Archives loaded into guest RAM beside the kernel (the root tree,
    /// `--add`), named on its command line; only with [`Medium::Kernel`].
    pub archives: Vec<Placed>,
    /// Appended to the command line as they are.
    pub extra_args: Vec<String>,
}

impl QemuConfig {
    /// The defaults: TCG, 256 MiB, headless, no GDB.
    pub fn new(medium: Medium, console: Console) -> Self {
        QemuConfig {
            medium,
            console,
            accel: Accel::Tcg,
            cpu: None,
            memory_mib: 256,
            graphics: false,
            gdb: false,
            store: None,
            archives: Vec::new(),
            extra_args: Vec::new(),
        }
    }

    /// The CPU model QEMU gets.
    pub fn cpu(&self) -> &str {
        self.cpu.as_deref().unwrap_or(self.accel.default_cpu())
    }

    /// QEMU's arguments (without the program name).
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        push(&["-machine", "q35"]);
        push(&["-accel", self.accel.name()]);
        push(&["-cpu", self.cpu()]);
        push(&["-m", &format!("{}M", self.memory_mib)]);
        // A triple fault ends QEMU instead of looping through resets.
        push(&["-no-reboot"]);
        push(&[
            "-device",
            &format!("isa-debug-exit,iobase={DEBUG_EXIT_PORT:#x},iosize=0x04"),
        ]);
        match &self.medium {
            Medium::Kernel { elf, cmdline } => {
                args.push("-kernel".into());
                args.push(elf.into());
                args.push("-append".into());
                args.push(placement::with_options(cmdline, &self.archives).into());
                for archive in &self.archives {
                    args.extend(archive.qemu_args());
                }
            }
            Medium::Iso(iso) => {
                args.push("-cdrom".into());
                args.push(iso.into());
            }
            Medium::LinuxKernel {
                kernel,
                initrd,
                cmdline,
            } => {
                args.push("-kernel".into());
                args.push(kernel.into());
                args.push("-initrd".into());
                args.push(initrd.into());
                args.push("-append".into());
                args.push(cmdline.into());
            }
        }
        let mut push = |items: &[&str]| args.extend(items.iter().map(OsString::from));
        if !self.graphics {
            push(&["-display", "none"]);
        }
        match self.console {
            Console::Interactive => push(&[
                // signal=off: Ctrl-C goes to the guest instead of killing QEMU.
                "-chardev",
                "stdio,id=con0,mux=on,signal=off",
                "-serial",
                "chardev:con0",
                "-mon",
                "chardev=con0",
            ]),
            Console::Captured => push(&["-serial", "stdio", "-monitor", "none"]),
        }
        if self.gdb {
            push(&["-s", "-S"]);
        }
        if let Some(store) = &self.store {
            args.extend(crate::store::qemu_args(store));
        }
        args.extend(self.extra_args.iter().map(OsString::from));
        args
    }

    /// The command, with stdio set up for the console mode.
    pub fn command(&self) -> Command {
        let mut command = Command::new(prereqs::QEMU.program);
        command.args(self.args());
        match self.console {
            Console::Interactive => {
                // QEMU's stdio chardev fails on a closed stdin; a pipe, a file
                // or /dev/null all work (input ends, output goes on).
                let stdin = if stdin_is_open() {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                };
                command
                    .stdin(stdin)
                    .stdout(Stdio::inherit())
                    .stderr(Stdio::inherit());
            }
            Console::Captured => {
                command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
            }
        }
        command
    }

    /// One line for the person at the terminal, e.g.
    /// `abide: booting target/abide/abide.elf in QEMU (tcg, 256 MiB); Ctrl-A X quits`.
    pub fn describe(&self) -> String {
        let what = match &self.medium {
            Medium::Kernel { elf, .. } => display_path(elf),
            Medium::Iso(iso) => display_path(iso),
            Medium::LinuxKernel { kernel, .. } => display_path(kernel),
        };
        let mut line = format!(
            "abide: booting {what} in QEMU ({}, {} MiB)",
            self.accel.name(),
            self.memory_mib
        );
        match &self.store {
            Some(store) => line.push_str(&format!(" with the store {}", display_path(store))),
            None => line.push_str(" without a store"),
        }
        if !self.archives.is_empty() {
            let names: Vec<&str> = self.archives.iter().map(|a| a.name).collect();
            line.push_str(&format!(", the archives {}", names.join(" and ")));
        }
        if self.console == Console::Interactive {
            line.push_str("; Ctrl-A X quits");
        }
        line
    }

    /// How to attach GDB when [`QemuConfig::gdb`] is set.
    pub fn gdb_hint(&self, elf: &Path) -> String {
        format!(
            "abide: QEMU waits for GDB on port {GDB_PORT}. Attach with: gdb {} -ex 'target remote :{GDB_PORT}'",
            display_path(elf)
        )
    }
}

/// Whether file descriptor 0 is open.
#[cfg(unix)]
fn stdin_is_open() -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    unsafe { libc::fcntl(0, libc::F_GETFD) != -1 }
}

#[cfg(not(unix))]
fn stdin_is_open() -> bool {
    true
}

/// Whether standard input is a terminal (a person types), rather than a
/// pipe, a file or closed.
#[cfg(unix)]
pub fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only queries the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

#[cfg(not(unix))]
pub fn stdin_is_terminal() -> bool {
    true
}

/// Standard input to read from: empty when it is closed.
pub fn standard_input() -> Box<dyn io::Read + Send> {
    if stdin_is_open() {
        Box::new(io::stdin())
    } else {
        Box::new(io::empty())
    }
}

/// `path` relative to the current directory when it is below it (shorter to
/// read and to paste), otherwise as it is.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// What the child gets when this process dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnParentDeath {
    /// SIGKILL: certain, for captured QEMUs in tests.
    Kill,
    /// SIGTERM: QEMU exits cleanly and restores the terminal it put in raw mode.
    Terminate,
}

/// Starts `command` so that the child dies with this process.
///
/// A QEMU left behind by a killed test run would run forever (a QEMU with its
/// serial console on a pipe does not stop when the pipe closes). On Linux the
/// child gets `PR_SET_PDEATHSIG`. That signal fires when the *thread* that
/// forked the child ends, so children are forked by one thread that lives as
/// long as the process, and a `Child` can be handed between threads freely.
pub fn spawn_tied_to_process(command: Command, on_death: OnParentDeath) -> io::Result<Child> {
    type Request = (Command, OnParentDeath, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("abide-spawner".into())
            .spawn(move || {
                for (mut command, on_death, reply) in rx {
                    let _ = reply.send(spawn_with_death_signal(&mut command, on_death));
                }
            })
            .expect("cannot start the process-spawning thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, on_death, reply_tx))
        .map_err(|_| io::Error::other("the process-spawning thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the process-spawning thread is gone"))?
}

#[cfg(target_os = "linux")]
fn spawn_with_death_signal(command: &mut Command, on_death: OnParentDeath) -> io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    let signal = match on_death {
        OnParentDeath::Kill => libc::SIGKILL,
        OnParentDeath::Terminate => libc::SIGTERM,
    };
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

#[cfg(not(target_os = "linux"))]
fn spawn_with_death_signal(command: &mut Command, _: OnParentDeath) -> io::Result<Child> {
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(config: &QemuConfig) -> Vec<String> {
        config
            .args()
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    fn kernel(cmdline: &str) -> Medium {
        Medium::Kernel {
            elf: PathBuf::from("/r/target/abide/abide.elf"),
            cmdline: cmdline.into(),
        }
    }

    /// Whether `args` holds `window` as consecutive items.
    fn has(args: &[String], window: &[&str]) -> bool {
        args.windows(window.len()).any(|w| w == window)
    }

    #[test]
    fn captured_kernel_boot_with_tcg() {
        let args = strings(&QemuConfig::new(
            kernel("log=debug test=all"),
            Console::Captured,
        ));
        assert_eq!(
            args,
            [
                "-machine",
                "q35",
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-m",
                "256M",
                "-no-reboot",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-kernel",
                "/r/target/abide/abide.elf",
                "-append",
                "log=debug test=all",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-monitor",
                "none",
            ]
        );
    }

    #[test]
    fn interactive_console_multiplexes_serial_and_monitor() {
        let args = strings(&QemuConfig::new(kernel(""), Console::Interactive));
        assert!(has(
            &args,
            &[
                "-chardev",
                "stdio,id=con0,mux=on,signal=off",
                "-serial",
                "chardev:con0",
                "-mon",
                "chardev=con0"
            ]
        ));
        assert!(!args.iter().any(|a| a == "-monitor"));
        assert!(!has(&args, &["-serial", "stdio"]));
        assert!(has(&args, &["-append", ""]));
    }

    #[test]
    fn kvm_uses_the_host_cpu_unless_told() {
        let mut config = QemuConfig::new(kernel(""), Console::Captured);
        config.accel = Accel::Kvm;
        let args = strings(&config);
        assert!(has(&args, &["-accel", "kvm"]));
        assert!(has(&args, &["-cpu", "host"]));
        config.cpu = Some("Skylake-Client".into());
        assert!(has(&strings(&config), &["-cpu", "Skylake-Client"]));
        config.accel = Accel::Tcg;
        config.cpu = None;
        assert!(has(&strings(&config), &["-cpu", "max"]));
    }

    #[test]
    fn iso_boots_from_cdrom_without_kernel_or_append() {
        let mut config = QemuConfig::new(
            Medium::Iso(PathBuf::from("/r/target/abide/abide.iso")),
            Console::Captured,
        );
        config.memory_mib = 512;
        let args = strings(&config);
        assert!(has(&args, &["-cdrom", "/r/target/abide/abide.iso"]));
        assert!(has(&args, &["-m", "512M"]));
        assert!(!args.iter().any(|a| a == "-kernel" || a == "-append"));
    }

    #[test]
    fn linux_boots_with_its_initrd_in_the_same_machine() {
        let abide = strings(&QemuConfig::new(kernel("init=bench"), Console::Captured));
        let linux = strings(&QemuConfig::new(
            Medium::LinuxKernel {
                kernel: PathBuf::from("/c/vmlinuz"),
                initrd: PathBuf::from("/c/initramfs.cpio"),
                cmdline: "console=ttyS0 -- 200".into(),
            },
            Console::Captured,
        ));
        assert!(has(
            &linux,
            &[
                "-kernel",
                "/c/vmlinuz",
                "-initrd",
                "/c/initramfs.cpio",
                "-append",
                "console=ttyS0 -- 200"
            ]
        ));
        // Everything else is the same machine.
        let without_medium = |args: &[String]| {
            let at = args.iter().position(|a| a == "-kernel").unwrap();
            let end = args.iter().position(|a| a == "-append").unwrap() + 2;
            [&args[..at], &args[end..]].concat()
        };
        assert_eq!(without_medium(&abide), without_medium(&linux));
    }

    #[test]
    fn a_store_is_attached_only_when_asked_for() {
        let mut config = QemuConfig::new(kernel(""), Console::Captured);
        let args = strings(&config);
        assert!(!args
            .iter()
            .any(|a| a == "-drive" || a.contains("virtio-blk")));
        config.store = Some(PathBuf::from("/r/s.img"));
        config.extra_args = vec!["-smp".into(), "2".into()];
        let args = strings(&config);
        assert!(has(
            &args,
            &[
                "-drive",
                "file=/r/s.img,if=none,id=store,format=raw,cache=writeback",
                "-device",
                "virtio-blk-pci,drive=store,disable-legacy=on",
                "-smp",
                "2"
            ]
        ));
    }

    #[test]
    fn archives_are_loaded_and_named_on_the_kernel_command_line() {
        let mut config = QemuConfig::new(kernel("log=debug"), Console::Captured);
        config.archives = vec![Placed {
            name: "rootfs",
            path: PathBuf::from("/r/target/abide/rootfs.tar"),
            start: 0xe000000,
            len: 0x1234,
        }];
        let args = strings(&config);
        assert!(has(
            &args,
            &[
                "-append",
                "log=debug archive=rootfs@0xe000000+0x1234",
                "-device",
                "loader,file=/r/target/abide/rootfs.tar,addr=0xe000000,force-raw=on"
            ]
        ));
    }

    #[test]
    fn gdb_graphics_and_extra_args() {
        let mut config = QemuConfig::new(kernel(""), Console::Interactive);
        assert!(!strings(&config).iter().any(|a| a == "-s" || a == "-S"));
        config.gdb = true;
        config.graphics = true;
        config.extra_args = vec!["-smp".into(), "2".into()];
        let args = strings(&config);
        assert!(has(&args, &["-s", "-S"]));
        assert!(!args.iter().any(|a| a == "-display"));
        assert!(args.ends_with(&["-smp".to_string(), "2".to_string()]));
        let hint = config.gdb_hint(Path::new("/r/target/abide/abide.elf"));
        assert!(hint.contains("gdb /r/target/abide/abide.elf -ex 'target remote :1234'"));
    }

    #[test]
    fn describe_names_what_boots_and_how_to_quit() {
        let mut config = QemuConfig::new(kernel(""), Console::Interactive);
        assert_eq!(
            config.describe(),
            "abide: booting /r/target/abide/abide.elf in QEMU (tcg, 256 MiB) without a store; Ctrl-A X quits"
        );
        config.store = Some(PathBuf::from("/r/target/abide/store.img"));
        assert_eq!(
            config.describe(),
            "abide: booting /r/target/abide/abide.elf in QEMU (tcg, 256 MiB) with the store /r/target/abide/store.img; Ctrl-A X quits"
        );
        let captured = QemuConfig::new(kernel(""), Console::Captured);
        assert!(!captured.describe().contains("Ctrl-A"));
    }

    #[test]
    fn display_path_is_relative_below_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(display_path(&cwd.join("target/x")), "target/x");
        assert_eq!(display_path(Path::new("/elsewhere/x")), "/elsewhere/x");
    }

    #[test]
    fn children_are_spawned_from_any_thread() {
        let handles: Vec<_> = (0..3)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut command = Command::new("true");
                    command.stdout(Stdio::null());
                    spawn_tied_to_process(command, OnParentDeath::Kill)
                        .unwrap()
                        .wait()
                        .unwrap()
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap().success());
        }
    }
}
