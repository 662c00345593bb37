//! A QMP client, for system tests and benchmarks that must reach the
//! machine beyond its serial line: press keys on its PS/2 keyboard, read
//! its physical memory (the VGA text screen), run human-monitor commands
//! (`savevm`, which the persistence benchmark times).
//!
//! Captured sessions run QEMU with `-monitor none`; a test that needs the
//! monitor adds [`Qmp::qemu_args`] to `BootOptions::extra_qemu_args`, a
//! QMP socket that QEMU listens on, and connects once QEMU runs. QMP is
//! line-framed JSON: one command a line, one answer a line, with
//! asynchronous events interleaved, which the client skips. The few
//! commands needed are written by hand, so no JSON library is needed.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long QEMU may take to answer a command.
const ANSWER: Duration = Duration::from_secs(30);

/// A connection to QEMU's QMP socket.
pub struct Qmp {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
    path: PathBuf,
}

impl Qmp {
    /// A socket path of its own for a test called `name` (in the temporary
    /// directory, with the process id: tests run in parallel).
    pub fn socket_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("abide-{name}-{}.qmp", std::process::id()))
    }

    /// The QEMU arguments that make it listen for QMP on `path`.
    pub fn qemu_args(path: &Path) -> Vec<String> {
        // A stale socket from an earlier run would make QEMU fail to bind.
        let _ = fs::remove_file(path);
        vec![
            "-qmp".into(),
            format!("unix:{},server=on,wait=off", path.display()),
        ]
    }

    /// Connects to the socket at `path` (waiting up to `timeout` for QEMU
    /// to create it) and leaves the capabilities negotiation.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Qmp, String> {
        Self::connect_waiting(path, timeout, ANSWER)
    }

    /// Like [`Qmp::connect`], waiting at most `answer` for each answer.
    pub fn connect_waiting(
        path: &Path,
        timeout: Duration,
        answer: Duration,
    ) -> Result<Qmp, String> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(stream) => break stream,
                Err(error) if Instant::now() >= deadline => {
                    return Err(format!(
                        "cannot connect to QMP at {}: {error}",
                        path.display()
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        let fail = |error: std::io::Error| format!("QMP socket {}: {error}", path.display());
        stream.set_read_timeout(Some(answer)).map_err(fail)?;
        let writer = stream.try_clone().map_err(fail)?;
        let mut qmp = Qmp {
            writer,
            reader: BufReader::new(stream),
            path: path.to_path_buf(),
        };
        let greeting = qmp.line()?;
        if !greeting.contains("\"QMP\"") {
            return Err(format!("not a QMP greeting: {greeting}"));
        }
        qmp.execute(r#"{"execute": "qmp_capabilities"}"#)?;
        Ok(qmp)
    }

    /// Sends one command (a JSON object) and returns its answer's line;
    /// `Err` when QEMU answers with an error.
    pub fn execute(&mut self, command: &str) -> Result<String, String> {
        writeln!(self.writer, "{command}")
            .and_then(|()| self.writer.flush())
            .map_err(|e| format!("cannot send {command} to QMP: {e}"))?;
        loop {
            let line = self.line()?;
            if line.starts_with("{\"return\"") {
                return Ok(line);
            }
            if line.starts_with("{\"error\"") {
                return Err(format!("QMP refused {command}: {line}"));
            }
            // An event ({"timestamp": ..., "event": ...}): not the answer.
        }
    }

    /// Presses the keys `keys` together and releases them (QEMU's key
    /// names, `qcode`s: `a`, `1`, `spc`, `minus`, `ret`, `shift`, `left`,
    /// `backspace`, ...).
    pub fn press(&mut self, keys: &[&str]) -> Result<(), String> {
        let keys: Vec<String> = keys
            .iter()
            .map(|key| format!(r#"{{"type": "qcode", "data": "{key}"}}"#))
            .collect();
        self.execute(&format!(
            r#"{{"execute": "send-key", "arguments": {{"keys": [{}]}}}}"#,
            keys.join(", ")
        ))
        .map(drop)
    }

    /// `len` bytes of guest physical memory from `address` (RAM or device
    /// memory: QEMU reads them as the CPU would).
    pub fn read_physical(&mut self, address: u64, len: usize) -> Result<Vec<u8>, String> {
        let file = self.path.with_extension(format!("mem-{address:x}"));
        let _ = fs::remove_file(&file);
        let file_name = file
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", file.display()))?;
        self.execute(&format!(
            r#"{{"execute": "pmemsave", "arguments": {{"val": {address}, "size": {len}, "filename": "{file_name}"}}}}"#
        ))?;
        let bytes = fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()));
        let _ = fs::remove_file(&file);
        bytes
    }

    /// Runs a command of the human monitor (HMP), such as `savevm NAME`.
    /// Its output comes back as the answer's string; HMP reports failures
    /// there too, so any output is taken as an error for the commands used
    /// here, which print nothing when they succeed.
    pub fn human_silent(&mut self, command_line: &str) -> Result<(), String> {
        let answer = self.execute(&format!(
            r#"{{"execute": "human-monitor-command", "arguments": {{"command-line": "{command_line}"}}}}"#
        ))?;
        if answer.replace(' ', "") == r#"{"return":""}"# {
            Ok(())
        } else {
            Err(format!("`{command_line}` failed: {answer}"))
        }
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Err(String::from("QMP closed (has QEMU exited?)")),
            Ok(_) => Ok(line.trim().to_string()),
            Err(error) => Err(format!("reading QMP: {error}")),
        }
    }
}

impl Drop for Qmp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
