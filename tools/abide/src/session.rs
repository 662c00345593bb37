//! Driving a booted Abide from a system test.
//!
//! A system test boots the kernel in QEMU, waits for lines on the serial
//! console, types into it, and checks how QEMU exits. [`Session`] does the
//! plumbing once, robustly: output is read by background threads so QEMU never
//! blocks on a full pipe, every wait has a timeout, every failure message
//! carries the whole serial output so far, and no QEMU outlives its test (the
//! session kills it on drop, and the process's death kills it too).
//!
//! ```no_run
//! use std::time::Duration;
//! use abide_tool::session::{BootOptions, Session};
//!
//! let mut s = Session::boot(BootOptions::default()).unwrap();
//! s.expect("abide> ", Duration::from_secs(30)).unwrap();
//! s.send("help\n").unwrap();
//! s.expect_next("abide> ", Duration::from_secs(10)).unwrap();
//! ```

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ExitStatus};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::build::repo_root;
pub use crate::image::Image;
pub use crate::qemu::Accel;
use crate::qemu::{self, Console, Medium, QemuConfig};
pub use crate::rootfs::{AddSpec, RootTree};
use crate::{build, prereqs, rootfs, store};

/// How to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootOptions {
    /// The kernel command line (ignored with `iso`: the ISO's grub.cfg has it).
    pub cmdline: String,
    pub memory_mib: u32,
    /// Boot this ISO (see `iso::build_iso_named`) instead of the kernel ELF.
    pub iso: Option<PathBuf>,
    pub accel: Accel,
    /// Appended to QEMU's command line.
    pub extra_qemu_args: Vec<String>,
    /// Attach this file as the store disk (`None`, the default: no store,
    /// the system runs without persistence). A missing file is created
    /// with [`store::DEFAULT_SIZE_MIB`] (sparse); an existing one is used as
    /// it is, so boots of one test that name the same file see what the
    /// earlier ones wrote. `Session::kill` is the power cut.
    pub store: Option<PathBuf>,
    /// The kernel image to boot (ignored with `iso`): by default the full
    /// one, which carries the test and benchmark programs the system tests
    /// start; [`Image::System`] is the image a user boots.
    pub image: Image,
    /// Whether the boot gets the Linux root tree (`rootfs` archive; by
    /// default not, so tests that do not need it do not fetch busybox).
    pub root_tree: RootTree,
    /// Host directories for the `add` archive (`--add HOSTDIR:/PATH`).
    pub add: Vec<AddSpec>,
}

impl Default for BootOptions {
    fn default() -> Self {
        BootOptions {
            cmdline: String::new(),
            memory_mib: 256,
            iso: None,
            accel: Accel::Tcg,
            extra_qemu_args: Vec::new(),
            store: None,
            image: Image::Full,
            root_tree: RootTree::Without,
            add: Vec::new(),
        }
    }
}

impl BootOptions {
    /// The defaults with a kernel command line.
    pub fn with_cmdline(cmdline: &str) -> Self {
        BootOptions {
            cmdline: cmdline.to_string(),
            ..BootOptions::default()
        }
    }

    /// The same options with `path` attached as the store disk.
    pub fn with_store(self, path: impl Into<PathBuf>) -> Self {
        BootOptions {
            store: Some(path.into()),
            ..self
        }
    }
}

/// What the reader threads collected.
#[derive(Default)]
struct Output {
    stdout: Vec<u8>,
    /// For each read of the serial output, in order: the length of `stdout`
    /// after it, and when it returned.
    arrivals: Vec<(usize, Instant)>,
    stderr: Vec<u8>,
    stdout_closed: bool,
    stderr_closed: bool,
}

#[derive(Default)]
struct Shared {
    output: Mutex<Output>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Output> {
        // A panicking reader cannot leave the buffers inconsistent.
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running QEMU in Captured mode; Drop kills it (and waits) so no QEMU is
/// ever left behind.
pub struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    readers: Vec<JoinHandle<()>>,
    /// Where `expect_next` starts looking: the end of the last match.
    cursor: usize,
    exit: Option<ExitStatus>,
    command_line: String,
    /// Taken right before QEMU was spawned.
    started: Instant,
}

impl Session {
    /// Builds the kernel image `opts.image` (memoized) unless opts.iso is given, checks QEMU is
    /// installed — if not, returns Err with the message naming the apt package
    /// (tests must FAIL, never skip) — and starts QEMU. A reader thread appends
    /// serial output (stdout, and stderr separately) to a shared buffer.
    pub fn boot(opts: BootOptions) -> Result<Session, String> {
        prereqs::check(prereqs::RUN_TOOLS)?;
        if let Some(path) = &opts.store {
            store::prepare(path, store::DEFAULT_SIZE_MIB, false)?;
        }
        let (medium, archives) = match opts.iso {
            Some(iso) => (Medium::Iso(iso), Vec::new()),
            None => (
                Medium::Kernel {
                    elf: build::build_kernel(opts.image)?,
                    cmdline: opts.cmdline,
                },
                rootfs::prepare(opts.root_tree, &opts.add, opts.memory_mib)?,
            ),
        };
        let mut config = QemuConfig::new(medium, Console::Captured);
        config.archives = archives;
        config.accel = opts.accel;
        config.memory_mib = opts.memory_mib;
        config.extra_args = opts.extra_qemu_args;
        config.store = opts.store;
        Session::start(config)
    }

    /// Starts QEMU as `config` says, whatever it boots (nothing is built),
    /// with the console captured.
    pub fn start(mut config: QemuConfig) -> Result<Session, String> {
        prereqs::check(prereqs::RUN_TOOLS)?;
        config.console = Console::Captured;
        let command = config.command();
        let command_line = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let started = Instant::now();
        let mut child = qemu::spawn_tied_to_process(command, qemu::OnParentDeath::Kill)
            .map_err(|e| format!("cannot start {}: {e}", prereqs::QEMU.program))?;

        let shared = Arc::new(Shared::default());
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(spawn_reader(stdout, Arc::clone(&shared), false));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(spawn_reader(stderr, Arc::clone(&shared), true));
        }
        Ok(Session {
            stdin: child.stdin.take(),
            child,
            shared,
            readers,
            cursor: 0,
            exit: None,
            command_line,
            started,
        })
    }

    /// Waits until the output (from the start) contains `needle`; Err(message
    /// with the whole output so far) on timeout or if QEMU exits first.
    pub fn expect(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        self.wait_for(0, needle, timeout)
    }

    /// Like expect but only considers output after the previous successful
    /// expect's match (a cursor).
    pub fn expect_next(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        self.wait_for(self.cursor, needle, timeout)
    }

    fn wait_for(&mut self, from: usize, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let shared = Arc::clone(&self.shared);
        let mut output = shared.lock();
        loop {
            if let Some(at) = find(output.stdout.get(from..).unwrap_or(&[]), needle.as_bytes()) {
                self.cursor = from + at + needle.len();
                return Ok(());
            }
            let where_ = if from == 0 {
                String::new()
            } else {
                format!(" after byte {from} (the end of the previous match)")
            };
            if output.stdout_closed {
                drop(output);
                let status = self.reap(Duration::from_secs(5));
                return Err(self.failure(&format!(
                    "QEMU {} before printing {needle:?}{where_}",
                    describe_exit(status)
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                drop(output);
                return Err(self.failure(&format!(
                    "timed out after {timeout:?} waiting for {needle:?}{where_}"
                )));
            }
            output = shared
                .changed
                .wait_timeout(output, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Writes to QEMU's stdin (serial input) and flushes.
    pub fn send(&mut self, text: &str) -> Result<(), String> {
        let result = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(text.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin was closed")),
        };
        result.map_err(|e| {
            self.failure(&format!(
                "cannot send {text:?} to the serial console: {e} (has QEMU exited?)"
            ))
        })
    }

    /// Waits for QEMU to exit; returns the raw exit status code (signal → Err).
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<i32, String> {
        match self.reap(timeout) {
            Some(status) => match status.code() {
                Some(code) => Ok(code),
                None => Err(self.failure(&format!("QEMU {}", describe_exit(Some(status))))),
            },
            None => Err(self.failure(&format!(
                "timed out after {timeout:?} waiting for QEMU to exit"
            ))),
        }
    }

    /// The serial output so far (invalid UTF-8 replaced).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stdout).into_owned()
    }

    /// What QEMU printed on its stderr so far (its own warnings and errors).
    pub fn qemu_stderr(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().stderr).into_owned()
    }

    /// When QEMU was started (taken right before its process was spawned).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// When byte `offset` of the serial output reached the host: the moment
    /// the read that delivered it returned. `None` if it has not arrived.
    /// (`abide bench` times boots with it.)
    pub fn arrival(&self, offset: usize) -> Option<Instant> {
        let output = self.shared.lock();
        let index = output.arrivals.partition_point(|&(end, _)| end <= offset);
        output.arrivals.get(index).map(|&(_, at)| at)
    }

    /// Whether QEMU has exited (without waiting).
    pub fn has_exited(&mut self) -> bool {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status);
            }
        }
        self.exit.is_some()
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills QEMU at once (SIGKILL), as a power cut would, and waits for it.
    pub fn kill(&mut self) -> Result<(), String> {
        if self.exit.is_none() {
            // Fails only if it has already exited; wait() then reaps it.
            let _ = self.child.kill();
            let status = self
                .child
                .wait()
                .map_err(|e| format!("cannot wait for QEMU: {e}"))?;
            self.exit = Some(status);
        }
        self.stdin = None;
        self.wait_for_readers(Duration::from_secs(5));
        Ok(())
    }

    /// Polls for QEMU's exit until `timeout`; once it has exited, waits briefly
    /// for the readers to collect the last output.
    fn reap(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while self.exit.is_none() {
            match self.child.try_wait() {
                Ok(Some(status)) => self.exit = Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) | Err(_) => return None,
            }
        }
        self.wait_for_readers(Duration::from_secs(2));
        self.exit
    }

    fn wait_for_readers(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut output = self.shared.lock();
        while !(output.stdout_closed && output.stderr_closed) {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            output = self
                .shared
                .changed
                .wait_timeout(output, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A failure message with everything needed to understand it.
    fn failure(&self, what: &str) -> String {
        let output = self.shared.lock();
        let mut message = format!(
            "{what}\n--- serial output ({} bytes) ---\n{}",
            output.stdout.len(),
            String::from_utf8_lossy(&output.stdout)
        );
        if !message.ends_with('\n') {
            message.push('\n');
        }
        message.push_str("--- end of serial output ---\n");
        if !output.stderr.is_empty() {
            message.push_str("--- QEMU stderr ---\n");
            message.push_str(&String::from_utf8_lossy(&output.stderr));
            if !message.ends_with('\n') {
                message.push('\n');
            }
        }
        message.push_str(&format!("(QEMU command: {})", self.command_line));
        message
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.kill();
        for reader in self.readers.drain(..) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }
}

/// Boots, waits for exit (timeout), returns (output, status).
pub fn run_to_exit(opts: BootOptions, timeout: Duration) -> Result<(String, i32), String> {
    let mut session = Session::boot(opts)?;
    let status = session.wait_exit(timeout)?;
    Ok((session.output(), status))
}

fn spawn_reader(
    mut pipe: impl Read + Send + 'static,
    shared: Arc<Shared>,
    is_stderr: bool,
) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(
            if is_stderr {
                "qemu-stderr"
            } else {
                "qemu-serial"
            }
            .into(),
        )
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = match pipe.read(&mut buf) {
                    Ok(0) => 0,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => 0,
                };
                let arrived = Instant::now();
                let mut guard = shared.lock();
                let output = &mut *guard;
                let (data, closed) = if is_stderr {
                    (&mut output.stderr, &mut output.stderr_closed)
                } else {
                    (&mut output.stdout, &mut output.stdout_closed)
                };
                if n == 0 {
                    *closed = true;
                } else {
                    data.extend_from_slice(&buf[..n]);
                    if !is_stderr {
                        let end = output.stdout.len();
                        output.arrivals.push((end, arrived));
                    }
                }
                drop(guard);
                shared.changed.notify_all();
                if n == 0 {
                    return;
                }
            }
        })
        .expect("cannot start a QEMU output reader thread")
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn describe_exit(status: Option<ExitStatus>) -> String {
    match status {
        None => "closed its output".to_string(),
        Some(status) => match status.code() {
            Some(code) => format!(
                "exited with status {code} ({:?})",
                abide_abi::host::exit_status_meaning(code)
            ),
            None => format!("was killed ({status})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_options_default() {
        let opts = BootOptions::default();
        assert_eq!(opts.cmdline, "");
        assert_eq!(opts.memory_mib, 256);
        assert_eq!(opts.iso, None);
        assert_eq!(opts.accel, Accel::Tcg);
        assert!(opts.extra_qemu_args.is_empty());
        assert_eq!(BootOptions::with_cmdline("test=all").cmdline, "test=all");
    }

    #[test]
    fn find_bytes() {
        assert_eq!(find(b"hello world", b"world"), Some(6));
        assert_eq!(find(b"hello", b"world"), None);
        assert_eq!(find(b"", b"x"), None);
        assert_eq!(find(b"abc", b""), Some(0));
    }

    // The session machinery is tested against a tiny stand-in guest, so it is
    // known to work whatever state the kernel is in.

    /// What the fake guest prints at start.
    const FAKE_BANNER: &str = "fake kernel ready\nprompt> ";

    /// A Multiboot (v1, a.out kludge) image QEMU's `-kernel` loads at 1 MiB.
    /// It prints [`FAKE_BANNER`] on COM1, then echoes every byte it receives;
    /// `q` exits QEMU through isa-debug-exit with code 0x10 (status 33), `f`
    /// with 0x11 (status 35).
    fn fake_kernel() -> Vec<u8> {
        const LOAD: u32 = 0x10_0000;
        const MAGIC: u32 = 0x1bad_b002;
        const FLAGS: u32 = 1 << 16; // the address fields below are valid
        const HEADER_LEN: u32 = 32;
        #[rustfmt::skip]
        let code: &[u8] = &[
            0xbe, 0, 0, 0, 0,       //     mov esi, banner (patched below)
            0x66, 0xba, 0xf8, 0x03, //     mov dx, 0x3f8
            0xac,                   // 1:  lodsb
            0x84, 0xc0,             //     test al, al
            0x74, 0x03,             //     jz 2
            0xee,                   //     out dx, al
            0xeb, 0xf8,             //     jmp 1
            0x66, 0xba, 0xfd, 0x03, // 2:  mov dx, 0x3fd (line status)
            0xec,                   // 3:  in al, dx
            0xa8, 0x01,             //     test al, 1 (data ready)
            0x74, 0xfb,             //     jz 3
            0x66, 0xba, 0xf8, 0x03, //     mov dx, 0x3f8
            0xec,                   //     in al, dx
            0xee,                   //     out dx, al (echo)
            0x3c, b'q',             //     cmp al, 'q'
            0x74, 0x06,             //     je 4
            0x3c, b'f',             //     cmp al, 'f'
            0x74, 0x09,             //     je 5
            0xeb, 0xe7,             //     jmp 2
            0xb8, 0x10, 0, 0, 0,    // 4:  mov eax, 0x10
            0xeb, 0x05,             //     jmp 6
            0xb8, 0x11, 0, 0, 0,    // 5:  mov eax, 0x11
            0x66, 0xba, 0xf4, 0x00, // 6:  mov dx, 0xf4
            0xef,                   //     out dx, eax
            0xf4,                   // 7:  hlt
            0xeb, 0xfd,             //     jmp 7
        ];
        let mut image = Vec::new();
        for word in [
            MAGIC,
            FLAGS,
            0u32.wrapping_sub(MAGIC + FLAGS), // checksum
            LOAD,                             // header_addr
            LOAD,                             // load_addr
            0,                                // load_end_addr: the whole file
            0,                                // bss_end_addr: none
            LOAD + HEADER_LEN,                // entry_addr
        ] {
            image.extend_from_slice(&word.to_le_bytes());
        }
        let banner_addr = LOAD + HEADER_LEN + code.len() as u32;
        image.extend_from_slice(code);
        image[HEADER_LEN as usize + 1..HEADER_LEN as usize + 5]
            .copy_from_slice(&banner_addr.to_le_bytes());
        image.extend_from_slice(FAKE_BANNER.as_bytes());
        image.push(0);
        image
    }

    fn fake_config(name: &str) -> QemuConfig {
        let dir = std::env::temp_dir().join(format!("abide-session-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let elf = dir.join(format!("{name}.bin"));
        std::fs::write(&elf, fake_kernel()).unwrap();
        QemuConfig::new(
            Medium::Kernel {
                elf,
                cmdline: String::new(),
            },
            // start() must switch this to Captured.
            Console::Interactive,
        )
    }

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn expect_send_and_exit_status() {
        let mut s = Session::start(fake_config("success")).unwrap();
        s.expect("fake kernel ready", LONG).unwrap();
        s.expect_next("prompt> ", LONG).unwrap();
        s.send("hello").unwrap();
        s.expect_next("hello", LONG).unwrap();
        s.send("q").unwrap();
        assert_eq!(s.wait_exit(LONG).unwrap(), 33);
        assert_eq!(s.output(), format!("{FAKE_BANNER}helloq"));
        // Every byte has an arrival time, in order, after the start.
        let (first, last) = (
            s.arrival(0).unwrap(),
            s.arrival(s.output().len() - 1).unwrap(),
        );
        assert!(s.started() <= first && first <= last);
        assert!(s.arrival(FAKE_BANNER.len()).unwrap() >= s.arrival(5).unwrap());
        assert_eq!(s.arrival(s.output().len()), None);
        // Waiting again gives the same answer.
        assert_eq!(s.wait_exit(Duration::ZERO).unwrap(), 33);
        assert!(s.send("x").is_err());
    }

    #[test]
    fn failure_status_is_reported() {
        let mut s = Session::start(fake_config("failure")).unwrap();
        s.expect("prompt> ", LONG).unwrap();
        s.send("f").unwrap();
        assert_eq!(s.wait_exit(LONG).unwrap(), 35);
    }

    #[test]
    fn expect_next_only_looks_after_the_previous_match() {
        let mut s = Session::start(fake_config("cursor")).unwrap();
        s.expect("prompt> ", LONG).unwrap();
        let err = s
            .expect_next("fake kernel", Duration::from_millis(300))
            .unwrap_err();
        assert!(
            err.starts_with("timed out after 300ms waiting for \"fake kernel\" after byte"),
            "{err}"
        );
        // The failure shows the whole output and the QEMU command.
        assert!(err.contains(FAKE_BANNER), "{err}");
        assert!(
            err.contains("(QEMU command: qemu-system-x86_64 -machine q35"),
            "{err}"
        );
        // expect still searches from the start.
        s.expect("fake kernel", LONG).unwrap();
        s.send("ab").unwrap();
        s.expect_next("ab", LONG).unwrap();
    }

    #[test]
    fn exit_before_the_needle_fails_at_once() {
        let mut s = Session::start(fake_config("early-exit")).unwrap();
        s.expect("prompt> ", LONG).unwrap();
        s.send("q").unwrap();
        let started = Instant::now();
        let err = s.expect_next("never printed", LONG).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(
            err.starts_with(
                "QEMU exited with status 33 (Success) before printing \"never printed\""
            ),
            "{err}"
        );
    }

    #[test]
    fn wait_exit_times_out_and_drop_kills_qemu() {
        let mut s = Session::start(fake_config("drop")).unwrap();
        s.expect("prompt> ", LONG).unwrap();
        let err = s.wait_exit(Duration::from_millis(200)).unwrap_err();
        assert!(
            err.starts_with("timed out after 200ms waiting for QEMU to exit"),
            "{err}"
        );
        let pid = s.pid();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
        drop(s);
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "QEMU {pid} is still there"
        );
    }

    #[test]
    fn killed_qemu_is_an_error_for_wait_exit() {
        let mut s = Session::start(fake_config("kill")).unwrap();
        s.expect("prompt> ", LONG).unwrap();
        s.kill().unwrap();
        let err = s.wait_exit(LONG).unwrap_err();
        assert!(err.starts_with("QEMU was killed"), "{err}");
    }

    #[test]
    fn qemu_errors_show_its_stderr() {
        let mut config = fake_config("bad-arg");
        config.extra_args = vec!["-no-such-option".into()];
        let mut s = Session::start(config).unwrap();
        let err = s.expect("prompt> ", LONG).unwrap_err();
        assert!(err.starts_with("QEMU exited with status 1"), "{err}");
        assert!(err.contains("--- QEMU stderr ---"), "{err}");
        assert!(err.contains("-no-such-option"), "{err}");
        assert_eq!(s.wait_exit(LONG).unwrap(), 1);
    }
}
