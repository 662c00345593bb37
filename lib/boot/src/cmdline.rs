//! The kernel command line, copied out of boot memory and split into options.
//!
//! Boot loaders hand over the command line as raw bytes of unknown quality. The
//! kernel keeps a cleaned-up copy (valid UTF-8, no control characters, bounded
//! size) and reads its options from it: the log level, which kernel tests to
//! run, and so on.

use crate::{BootInfoError, PhysMemory};
use core::fmt;

/// Longest command line kept, in bytes; longer ones are truncated.
pub const MAX_CMDLINE: usize = 1024;

/// How many bytes [`Cmdline::read`] fetches per read.
const READ_CHUNK: usize = 64;

/// A cleaned-up copy of the kernel command line.
#[derive(Clone)]
pub struct Cmdline {
    bytes: [u8; MAX_CMDLINE],
    len: usize,
}

impl Cmdline {
    /// An empty command line.
    pub const fn empty() -> Self {
        Self {
            bytes: [0; MAX_CMDLINE],
            len: 0,
        }
    }

    /// Copies a command line: stops at the first NUL, truncates to MAX_CMDLINE
    /// bytes (at a char boundary), replaces invalid UTF-8 and control chars by
    /// '?'; trims surrounding whitespace.
    ///
    /// Whitespace control characters (tab, newline, carriage return, form feed)
    /// become spaces rather than '?', so they still separate words.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let until_nul = bytes.split(|&b| b == 0).next().unwrap_or(&[]);
        let mut this = Self::empty();
        for chunk in until_nul.utf8_chunks() {
            for c in chunk.valid().chars() {
                if !this.push_char(clean_char(c)) {
                    return this.trimmed();
                }
            }
            if !chunk.invalid().is_empty() && !this.push_char('?') {
                break;
            }
        }
        this.trimmed()
    }

    /// Reads a NUL-terminated command line at physical address `phys`, in
    /// chunks, taking at most about [`MAX_CMDLINE`] bytes. Err(Unreadable) when
    /// memory ends before the NUL and before that limit.
    pub fn read(mem: &impl PhysMemory, phys: u64) -> Result<Self, BootInfoError> {
        // A few spare bytes so a character cut at the limit is dropped whole.
        let mut buf = [0u8; MAX_CMDLINE + 4];
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
            let want = rest.len().min(READ_CHUNK);
            let addr = add_offset(phys, filled)?;
            let chunk = rest.get_mut(..want).ok_or(BootInfoError::Unreadable)?;
            let got = read_prefix(mem, addr, chunk);
            let chunk = chunk.get(..got).unwrap_or(&[]);
            if chunk.contains(&0) {
                break;
            }
            if got < want {
                return Err(BootInfoError::Unreadable);
            }
            filled += got;
        }
        Ok(Self::from_bytes(&buf))
    }

    /// The command line as text.
    pub fn as_str(&self) -> &str {
        let bytes = self.bytes.get(..self.len).unwrap_or(&[]);
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Words separated by ASCII whitespace: `key=value` gives (key, Some(value)),
    /// a bare word gives (word, None). A value may be double-quoted to contain
    /// spaces: key="a b" gives Some("a b") (quotes removed). An unterminated
    /// quote runs to the end.
    ///
    /// A quoted value ends at its closing quote; anything directly after it
    /// starts the next word.
    pub fn options(&self) -> Options<'_> {
        Options {
            rest: self.as_str(),
        }
    }

    /// The value of the LAST `key=value` with this key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.options()
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, v)| v)
            .last()
    }

    /// True if a bare word `key` or any `key=...` is present.
    pub fn has(&self, key: &str) -> bool {
        self.options().any(|(k, _)| k == key)
    }

    /// Appends `c` if it fits; false when the buffer is full.
    fn push_char(&mut self, c: char) -> bool {
        let mut utf8 = [0u8; 4];
        let encoded = c.encode_utf8(&mut utf8).as_bytes();
        let Some(end) = self.len.checked_add(encoded.len()) else {
            return false;
        };
        match self.bytes.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(encoded);
                self.len = end;
                true
            }
            None => false,
        }
    }

    /// This command line with surrounding whitespace removed.
    fn trimmed(mut self) -> Self {
        let text = self.as_str();
        let start = text.len() - text.trim_start().len();
        let len = text.trim().len();
        // Rotating the prefix that ends with the text moves the text to the front.
        if let Some(prefix) = self.bytes.get_mut(..start + len) {
            prefix.rotate_left(start);
            self.len = len;
        }
        self
    }
}

impl Default for Cmdline {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Cmdline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Control characters become '?' (whitespace ones a space).
fn clean_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' | '\x0c' => ' ',
        c if c.is_control() => '?',
        c => c,
    }
}

/// `phys + offset`, or Err(Unreadable) past the end of the address space.
fn add_offset(phys: u64, offset: usize) -> Result<u64, BootInfoError> {
    u64::try_from(offset)
        .ok()
        .and_then(|o| phys.checked_add(o))
        .ok_or(BootInfoError::Unreadable)
}

/// Reads as much of `buf` as is readable at `phys`: the whole chunk at once,
/// or byte by byte when the chunk runs into unreadable memory. Returns how
/// many bytes were read.
fn read_prefix(mem: &impl PhysMemory, phys: u64, buf: &mut [u8]) -> usize {
    if mem.read(phys, buf) {
        return buf.len();
    }
    let mut got = 0;
    for (i, byte) in buf.iter_mut().enumerate() {
        let Ok(addr) = add_offset(phys, i) else { break };
        if !mem.read(addr, core::slice::from_mut(byte)) {
            break;
        }
        got += 1;
    }
    got
}

/// Iterator over the options of a [`Cmdline`]; see [`Cmdline::options`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Options<'a> {
    type Item = (&'a str, Option<&'a str>);

    fn next(&mut self) -> Option<Self::Item> {
        let text = self
            .rest
            .trim_start_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            self.rest = text;
            return None;
        }
        let word_end = text.find(|c: char| c.is_ascii_whitespace() || c == '=');
        let Some((key, after_key)) = word_end.map(|i| text.split_at(i)) else {
            self.rest = "";
            return Some((text, None));
        };
        match after_key.strip_prefix('=') {
            Some(value_and_rest) => {
                let (value, rest) = split_value(value_and_rest);
                self.rest = rest;
                Some((key, Some(value)))
            }
            None => {
                self.rest = after_key;
                Some((key, None))
            }
        }
    }
}

/// Splits the text after `=` into the value and what follows it.
fn split_value(text: &str) -> (&str, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        return match quoted.split_once('"') {
            Some((value, rest)) => (value, rest),
            None => (quoted, ""),
        };
    }
    match text.find(|c: char| c.is_ascii_whitespace()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    }
}

/// How much the kernel logs, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings.
    Warn,
    /// Normal operation messages.
    Info,
    /// Details for debugging.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    const ALL: [LogLevel; 5] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];

    /// Parses a level name ("error", "warn", "info", "debug", "trace"),
    /// ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.name().eq_ignore_ascii_case(s))
    }

    /// The level's lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Which kernel tests the `test=` option selects: "all", or comma-separated
/// names; a name selects a test when it equals the test's name or is a prefix
/// of it ending at a "::" boundary (so "paging" selects "paging::map_unmap" but
/// "pag" does not). Empty entries are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestSelection<'a> {
    /// Every test.
    All,
    /// The tests matching these comma-separated names.
    Names(&'a str),
}

impl<'a> TestSelection<'a> {
    /// Interprets the value of the `test=` option.
    pub fn parse(value: &'a str) -> Self {
        if value.trim() == "all" {
            TestSelection::All
        } else {
            TestSelection::Names(value)
        }
    }

    /// True if the test called `test_name` is selected.
    pub fn selects(&self, test_name: &str) -> bool {
        match self {
            TestSelection::All => true,
            TestSelection::Names(names) => names
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .any(|name| name_selects(name, test_name)),
        }
    }
}

/// True if `name` is `test_name` or a prefix of it ending at a "::" boundary.
fn name_selects(name: &str, test_name: &str) -> bool {
    match test_name.strip_prefix(name) {
        Some(rest) => rest.is_empty() || rest.starts_with("::") || name.ends_with("::"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testmem::TestMem;
    use proptest::prelude::*;

    fn opts(c: &Cmdline) -> Vec<(&str, Option<&str>)> {
        c.options().collect()
    }

    #[test]
    fn copies_until_nul_and_trims() {
        let c = Cmdline::from_bytes(b"  log=debug test=all \0garbage");
        assert_eq!(c.as_str(), "log=debug test=all");
        assert_eq!(format!("{c:?}"), "\"log=debug test=all\"");
        assert_eq!(Cmdline::from_bytes(b"").as_str(), "");
        assert_eq!(Cmdline::from_bytes(b"\0abc").as_str(), "");
        assert_eq!(Cmdline::default().as_str(), "");
    }

    #[test]
    fn replaces_invalid_utf8_and_control_chars() {
        let c = Cmdline::from_bytes(b"a\xffb\x01c\td\ne\r\n");
        assert_eq!(c.as_str(), "a?b?c d e");
        let c = Cmdline::from_bytes("prénom=émile".as_bytes());
        assert_eq!(c.as_str(), "prénom=émile");
        assert_eq!(c.get("prénom"), Some("émile"));
    }

    #[test]
    fn truncates_at_a_char_boundary() {
        let long = [b'x'; 2000];
        assert_eq!(Cmdline::from_bytes(&long).as_str().len(), MAX_CMDLINE);
        // 1023 ASCII bytes then a 2-byte char: the char does not fit.
        let mut bytes = vec![b'a'; MAX_CMDLINE - 1];
        bytes.extend_from_slice("é".as_bytes());
        let c = Cmdline::from_bytes(&bytes);
        assert_eq!(c.as_str().len(), MAX_CMDLINE - 1);
        assert!(c.as_str().bytes().all(|b| b == b'a'));
    }

    #[test]
    fn splits_options() {
        let c = Cmdline::from_bytes(b"quiet log=info  test=paging,sched x==y =v");
        assert_eq!(
            opts(&c),
            vec![
                ("quiet", None),
                ("log", Some("info")),
                ("test", Some("paging,sched")),
                ("x", Some("=y")),
                ("", Some("v")),
            ]
        );
    }

    #[test]
    fn quoted_values() {
        let c = Cmdline::from_bytes(br#"a="x y" b="" c=d"e" e="unterminated rest"#);
        assert_eq!(
            opts(&c),
            vec![
                ("a", Some("x y")),
                ("b", Some("")),
                ("c", Some("d\"e\"")),
                ("e", Some("unterminated rest")),
            ]
        );
        let c = Cmdline::from_bytes(br#"k="v"next"#);
        assert_eq!(opts(&c), vec![("k", Some("v")), ("next", None)]);
        let c = Cmdline::from_bytes(b"empty=");
        assert_eq!(opts(&c), vec![("empty", Some(""))]);
    }

    #[test]
    fn get_takes_the_last_value_and_has_sees_bare_words() {
        let c = Cmdline::from_bytes(b"log=warn verbose log=trace log");
        assert_eq!(c.get("log"), Some("trace"));
        assert_eq!(c.get("verbose"), None);
        assert_eq!(c.get("missing"), None);
        assert!(c.has("verbose"));
        assert!(c.has("log"));
        assert!(!c.has("verb"));
        assert!(!c.has("missing"));
    }

    #[test]
    fn reads_from_physical_memory() {
        let mut mem = TestMem::new();
        mem.add(0x1000, b"console=ttyS0 log=debug\0junk");
        let c = Cmdline::read(&mem, 0x1000).unwrap();
        assert_eq!(c.as_str(), "console=ttyS0 log=debug");
    }

    #[test]
    fn reads_a_string_ending_near_the_end_of_memory() {
        let mut mem = TestMem::new();
        mem.add(0x1000, b"abc\0");
        assert_eq!(Cmdline::read(&mem, 0x1000).unwrap().as_str(), "abc");
        assert_eq!(
            Cmdline::read(&mem, 0x1004).unwrap_err(),
            BootInfoError::Unreadable
        );
        let mut mem = TestMem::new();
        mem.add(0x1000, b"no terminator");
        assert_eq!(
            Cmdline::read(&mem, 0x1000).unwrap_err(),
            BootInfoError::Unreadable
        );
        assert_eq!(
            Cmdline::read(&mem, u64::MAX - 2).unwrap_err(),
            BootInfoError::Unreadable
        );
    }

    #[test]
    fn reads_at_most_the_limit() {
        let mut mem = TestMem::new();
        mem.add(0, &[b'z'; 3000]);
        let c = Cmdline::read(&mem, 0).unwrap();
        assert_eq!(c.as_str().len(), MAX_CMDLINE);
    }

    #[test]
    fn log_levels() {
        assert_eq!(LogLevel::parse("debug"), Some(LogLevel::Debug));
        assert_eq!(LogLevel::parse("WARN"), Some(LogLevel::Warn));
        assert_eq!(LogLevel::parse("Trace"), Some(LogLevel::Trace));
        assert_eq!(LogLevel::parse("warning"), None);
        assert_eq!(LogLevel::parse(""), None);
        assert!(LogLevel::Error < LogLevel::Trace);
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::parse(level.name()), Some(level));
        }
    }

    #[test]
    fn test_selection() {
        assert_eq!(TestSelection::parse("all"), TestSelection::All);
        assert!(TestSelection::All.selects("anything::at_all"));
        let s = TestSelection::parse("paging,,sched::yield,");
        assert_eq!(s, TestSelection::Names("paging,,sched::yield,"));
        assert!(s.selects("paging"));
        assert!(s.selects("paging::map_unmap"));
        assert!(s.selects("paging::huge::split"));
        assert!(s.selects("sched::yield"));
        assert!(!s.selects("sched::yield_now"));
        assert!(!s.selects("sched::spawn"));
        assert!(!s.selects("pagingx"));
        assert!(!s.selects("mm::paging"));
        let s = TestSelection::parse("pag");
        assert!(!s.selects("paging::map_unmap"));
        assert!(!TestSelection::parse("").selects("paging"));
        assert!(!TestSelection::parse(",").selects(""));
        assert!(TestSelection::parse("paging::").selects("paging::map"));
    }

    proptest! {
        #[test]
        fn from_bytes_is_clean(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
            let c = Cmdline::from_bytes(&bytes);
            let s = c.as_str();
            prop_assert!(s.len() <= MAX_CMDLINE);
            prop_assert_eq!(s, s.trim());
            prop_assert!(!s.chars().any(char::is_control));
            for (key, value) in c.options() {
                prop_assert!(!key.contains(|c: char| c.is_ascii_whitespace()));
                if let Some(v) = value {
                    let _ = c.get(key);
                    prop_assert!(v.len() <= s.len());
                }
                prop_assert!(c.has(key));
            }
        }

        #[test]
        fn clean_text_round_trips(s in "[a-z0-9=,. ]{0,200}") {
            let c = Cmdline::from_bytes(s.as_bytes());
            prop_assert_eq!(c.as_str(), s.trim());
            let words: Vec<&str> = s.split_ascii_whitespace().collect();
            prop_assert_eq!(c.options().count(), words.len());
        }

        #[test]
        fn selection_never_panics(names in ".{0,40}", test in ".{0,40}") {
            let _ = TestSelection::parse(&names).selects(&test);
        }
    }
}
