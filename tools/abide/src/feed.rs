//! Piped standard input for `cargo run`: fed to the guest one line per
//! prompt, and the machine powered off cleanly at its end.
//!
//! A person types at the pace the shell answers; a pipe (`printf 'ps\n' |
//! cargo run`) offers everything at once, before the kernel has booted.
//! Handing such input straight to QEMU's serial port made the guest hold all
//! of it in buffers of its own while its console driver was not yet running,
//! and input that outran them was lost. And a pipe without `poweroff` left
//! the machine running after its last command, with nobody to type.
//!
//! So when standard input is not a terminal, `abide run` sits between it and
//! QEMU's standard input and output ([`feed`]; QEMU's console is the same
//! as on a terminal, Ctrl-A X included): it copies the console to standard
//! output, counts the prompts the guest prints (the shell's `abide$ ` and
//! the kernel console's `abide> `, [`PromptCounter`]), and sends each input
//! line only once a new prompt has appeared since the one before was sent —
//! the guest asked for it, so it has somewhere to put it. Bytes after the
//! last newline go as they are once no more input comes for a moment. At
//! the end of the input it waits for the prompt that follows the last
//! command (that command has finished) and sends `poweroff`.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, ExitStatus};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use abide_abi::host::{KERNEL_CONSOLE_PROMPT, SHELL_PROMPT};

/// What ends the machine at the end of the input: the shell's and the
/// kernel console's command.
pub const POWEROFF_LINE: &[u8] = b"poweroff\n";

/// Counts the prompts in a stream of console output that arrives in pieces
/// of any size (a prompt may be split between two reads).
#[derive(Debug, Default)]
pub struct PromptCounter {
    /// The end of the output so far, as long as the longest prompt less
    /// one byte: a prompt split across reads is found whole.
    tail: Vec<u8>,
    count: u64,
}

impl PromptCounter {
    /// The prompts a new line of input is sent at.
    const PROMPTS: [&'static str; 2] = [SHELL_PROMPT, KERNEL_CONSOLE_PROMPT];

    /// Takes the next piece of output; returns the prompts seen so far.
    pub fn feed(&mut self, bytes: &[u8]) -> u64 {
        let longest = Self::PROMPTS.iter().map(|p| p.len()).max().unwrap_or(1);
        let kept = self.tail.len();
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(bytes);
        for prompt in Self::PROMPTS {
            let prompt = prompt.as_bytes();
            // Only matches that end in the new bytes: the tail alone holds
            // no whole prompt.
            self.count += window
                .windows(prompt.len())
                .enumerate()
                .filter(|(at, w)| *w == prompt && at + prompt.len() > kept)
                .count() as u64;
        }
        let keep = (longest - 1).min(window.len());
        self.tail = window.split_off(window.len() - keep);
        self.count
    }

    /// The prompts seen so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// What the console copier tells the line feeder.
#[derive(Default)]
struct State {
    prompts: PromptCounter,
    /// QEMU closed its output: it has ended.
    ended: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until more than `seen` prompts have appeared; false if QEMU
    /// ended first.
    fn wait_for_prompt(&self, seen: u64) -> bool {
        let mut state = self.lock();
        while state.prompts.count() <= seen && !state.ended {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        !state.ended
    }
}

/// Copies `console` to `out`, counting prompts, until QEMU closes it.
fn copy_console(mut console: ChildStdout, mut out: impl Write, shared: &Shared) {
    let mut buffer = [0u8; 4096];
    loop {
        let n = match console.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // A closed standard output must not stop the guest: keep reading.
        let _ = out.write_all(&buffer[..n]).and_then(|()| out.flush());
        shared.lock().prompts.feed(&buffer[..n]);
        shared.changed.notify_all();
    }
    shared.lock().ended = true;
    shared.changed.notify_all();
}

/// How long a line without its newline may stay unsent while no more input
/// comes: then it goes as it is (keys such as Ctrl-A X for QEMU, or a
/// program that writes a prompt's answer without a newline).
const PARTIAL_LINE_WAIT: Duration = Duration::from_millis(200);

/// What the input reader hands the sender.
enum Chunk {
    Bytes(Vec<u8>),
    End,
}

/// Reads `input` in chunks, as they come, until its end.
fn read_input(mut input: impl Read, chunks: mpsc::Sender<Chunk>) {
    let mut buffer = [0u8; 4096];
    loop {
        match input.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if chunks.send(Chunk::Bytes(buffer[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
    let _ = chunks.send(Chunk::End);
}

/// Sends the input to `console` one line per new prompt, then `poweroff`
/// once the last line's command has finished. Returns when the input is
/// sent or QEMU has ended.
fn send_lines(chunks: mpsc::Receiver<Chunk>, mut console: ChildStdin, shared: &Shared) {
    let mut pending: Vec<u8> = Vec::new();
    let mut ended = false;
    let mut sent_at = 0;
    loop {
        // Take what has come (waiting a little for the rest of a line).
        let wait = if pending.contains(&b'\n') || ended {
            Duration::ZERO
        } else if pending.is_empty() {
            Duration::from_secs(3600)
        } else {
            PARTIAL_LINE_WAIT
        };
        match chunks.recv_timeout(wait) {
            Ok(Chunk::Bytes(bytes)) => {
                pending.extend_from_slice(&bytes);
                continue;
            }
            Ok(Chunk::End) | Err(mpsc::RecvTimeoutError::Disconnected) => ended = true,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        let line: Vec<u8> = match pending.iter().position(|&b| b == b'\n') {
            Some(at) => pending.drain(..=at).collect(),
            // The last line may lack its newline: a command all the same.
            None if ended && !pending.is_empty() => {
                let mut line = std::mem::take(&mut pending);
                line.push(b'\n');
                line
            }
            None if ended => POWEROFF_LINE.to_vec(),
            // A line without its newline, and no more input for now.
            None if !pending.is_empty() => std::mem::take(&mut pending),
            None => continue,
        };
        let last = ended && pending.is_empty() && line == POWEROFF_LINE;
        if !shared.wait_for_prompt(sent_at) {
            return;
        }
        // After a whole line the next waits for a new prompt; after a
        // partial one, its rest does not (the guest prints none between).
        if line.ends_with(b"\n") {
            sent_at = shared.lock().prompts.count();
        }
        if console
            .write_all(&line)
            .and_then(|()| console.flush())
            .is_err()
            || last
        {
            return;
        }
    }
}

/// Runs QEMU `child` (spawned with its standard input and output on pipes)
/// with `input` fed line by line at the guest's prompts and its console
/// copied to standard output; powers the machine off at the end of the
/// input. Returns QEMU's exit status.
pub fn feed(mut child: Child, input: impl Read + Send + 'static) -> io::Result<ExitStatus> {
    let shared = Arc::new(Shared::default());
    let console_out = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let console_in = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin"))?;
    let copier = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || copy_console(console_out, io::stdout(), &shared))
    };
    let (chunks_tx, chunks) = mpsc::channel();
    // Neither is joined: the reader may wait on an input that never ends
    // after QEMU has (the process ends it), and the sender on a prompt.
    std::thread::spawn(move || read_input(input, chunks_tx));
    {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || send_lines(chunks, console_in, &shared));
    }
    let status = child.wait()?;
    let _ = copier.join();
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_prompts_split_across_reads() {
        let mut counter = PromptCounter::default();
        assert_eq!(counter.feed(b"Abide shell.\r\nabi"), 0);
        assert_eq!(counter.feed(b"de$ "), 1);
        assert_eq!(counter.feed(b"ps\r\n..."), 1);
        assert_eq!(counter.feed(b"abide$ "), 2);
        assert_eq!(counter.feed(b"a"), 2);
        assert_eq!(counter.feed(b"b"), 2);
        assert_eq!(counter.feed(b"ide> x abide$ abide$ "), 5);
    }

    #[test]
    fn a_prompt_is_counted_once_whatever_the_pieces() {
        let text = b"x abide$ y abide> z abide$ ";
        for size in 1..text.len() {
            let mut counter = PromptCounter::default();
            for piece in text.chunks(size) {
                counter.feed(piece);
            }
            assert_eq!(counter.count(), 3, "pieces of {size}");
        }
    }
}
