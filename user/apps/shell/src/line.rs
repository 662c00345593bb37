//! Reading lines from the console with `abide_lineedit`: echo, editing,
//! history and tab completion of command and component names. The bytes
//! the editor wants shown go back out through the console.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use abide_lineedit::{complete_words, word_start, Completer, Completion, Editor, Event};

use crate::commands::COMMANDS;
use crate::Shell;

/// Lines of history kept.
const HISTORY: usize = 100;

/// The editor and input not yet fed to it.
pub struct Reader {
    editor: Editor,
    pending: VecDeque<u8>,
    /// Component names, for completion (asked once from init).
    names: Vec<String>,
    prompted: bool,
}

/// Completes the first word from the commands, later words from the
/// component names and the commands' keywords.
struct Names<'a>(&'a [String]);

impl Completer for Names<'_> {
    fn complete(&self, line: &str, cursor: usize) -> Completion {
        let start = word_start(line, cursor);
        let word = &line[start..cursor];
        let first = line[..start].trim().is_empty();
        let candidates: Vec<&str> = if first {
            COMMANDS.iter().map(|(name, _)| *name).collect()
        } else {
            let mut names: Vec<&str> = self.0.iter().map(String::as_str).collect();
            names.extend([
                "show",
                "apply",
                "where",
                "sort-by",
                "first",
                "select",
                "component",
                "level",
                "last",
                "set",
                "get",
                "del",
                "list",
            ]);
            names
        };
        Completion {
            start,
            candidates: complete_words(word, &candidates),
        }
    }
}

impl Reader {
    pub fn new(names: Vec<String>) -> Reader {
        Reader {
            editor: Editor::new(abide_abi::host::SHELL_PROMPT, HISTORY),
            pending: VecDeque::new(),
            names,
            prompted: false,
        }
    }

    /// The next line; `None` at end of input (Ctrl-D) or when the console
    /// is gone.
    pub async fn read_line(&mut self, shell: &Shell) -> Option<String> {
        if !self.prompted {
            let prompt = self.editor.start();
            shell.write_bytes(prompt).await;
            self.prompted = true;
        }
        loop {
            let mut echo = Vec::new();
            let mut event = Event::None;
            while let Some(byte) = self.pending.pop_front() {
                event = self.editor.feed(byte, &Names(&self.names), &mut echo);
                if !matches!(event, Event::None) {
                    break;
                }
            }
            if !echo.is_empty() {
                shell.write_bytes(echo).await;
            }
            match event {
                Event::Line(line) => {
                    self.prompted = false;
                    return Some(line);
                }
                Event::Eof => return None,
                Event::Interrupt => {
                    self.prompted = false;
                    return Some(String::new());
                }
                Event::None => {}
            }
            let input = shell.read().await?;
            self.pending.extend(input);
        }
    }
}
