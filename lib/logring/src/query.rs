//! Reading the log: the committed entries oldest first, all of them, the
//! last few, or those a [`Filter`] selects.

use crate::{Entry, Level, Region, Ring};

/// Which levels a [`Filter`] lets through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LevelFilter {
    /// Every level.
    #[default]
    Any,
    /// This level and the more severe ones (`AtLeast(Warn)`: warnings and
    /// errors).
    AtLeast(Level),
    /// This level only.
    Exactly(Level),
}

/// What a query selects; every condition set must hold. The default
/// selects everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter<'a> {
    /// Only entries of the component with exactly this name.
    pub component: Option<&'a str>,
    /// Only entries of these levels.
    pub level: LevelFilter,
    /// Only entries with `time_ns` at or after this.
    pub since_ns: Option<u64>,
    /// Only entries with `time_ns` at or before this.
    pub until_ns: Option<u64>,
    /// Only entries whose text contains this.
    pub text: Option<&'a str>,
}

impl<'a> Filter<'a> {
    /// The filter that selects everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only entries of `component`.
    pub fn component(self, component: &'a str) -> Self {
        Self {
            component: Some(component),
            ..self
        }
    }

    /// Only entries at least as severe as `level`.
    pub fn at_least(self, level: Level) -> Self {
        Self {
            level: LevelFilter::AtLeast(level),
            ..self
        }
    }

    /// Only entries of `level`.
    pub fn level(self, level: Level) -> Self {
        Self {
            level: LevelFilter::Exactly(level),
            ..self
        }
    }

    /// Only entries at or after `time_ns`.
    pub fn since(self, time_ns: u64) -> Self {
        Self {
            since_ns: Some(time_ns),
            ..self
        }
    }

    /// Only entries at or before `time_ns`.
    pub fn until(self, time_ns: u64) -> Self {
        Self {
            until_ns: Some(time_ns),
            ..self
        }
    }

    /// Only entries whose text contains `text`.
    pub fn containing(self, text: &'a str) -> Self {
        Self {
            text: Some(text),
            ..self
        }
    }

    /// Whether `entry` is selected.
    pub fn matches(&self, entry: &Entry) -> bool {
        let level = match self.level {
            LevelFilter::Any => true,
            LevelFilter::AtLeast(level) => entry.level <= level,
            LevelFilter::Exactly(level) => entry.level == level,
        };
        level
            && self.component.is_none_or(|c| entry.component() == c)
            && self.since_ns.is_none_or(|t| entry.time_ns >= t)
            && self.until_ns.is_none_or(|t| entry.time_ns <= t)
            && self.text.is_none_or(|t| entry.text().contains(t))
    }
}

impl<S: Region> Ring<S> {
    /// The entries, oldest first.
    pub fn iter(&self) -> Entries<'_, S> {
        Entries {
            ring: self,
            pos: self.tail_pos,
            seq: self.tail_seq,
        }
    }

    /// The newest `n` entries (all if there are fewer), oldest first.
    pub fn last(&self, n: usize) -> Entries<'_, S> {
        let mut entries = self.iter();
        entries.skip_entries(self.len().saturating_sub(n));
        entries
    }

    /// The entry with sequence number `seq`, if the ring still holds it.
    pub fn get(&self, seq: u64) -> Option<Entry> {
        if seq < self.tail_seq || seq >= self.head {
            return None;
        }
        let mut entries = self.iter();
        entries.skip_entries((seq - self.tail_seq) as usize);
        entries.next()
    }

    /// The entries `filter` selects, oldest first.
    pub fn query<'f>(&self, filter: Filter<'f>) -> Matching<'_, 'f, S> {
        Matching {
            entries: self.iter(),
            filter,
            skip: 0,
        }
    }

    /// The newest `n` entries `filter` selects, oldest first.
    pub fn last_matching<'f>(&self, filter: Filter<'f>, n: usize) -> Matching<'_, 'f, S> {
        let selected = self.query(filter).count();
        Matching {
            entries: self.iter(),
            filter,
            skip: selected.saturating_sub(n),
        }
    }
}

/// The committed entries of a [`Ring`], oldest first.
#[derive(Debug)]
pub struct Entries<'r, S> {
    ring: &'r Ring<S>,
    /// Where the next entry is.
    pos: u64,
    /// Its sequence number.
    seq: u64,
}

impl<S: Region> Entries<'_, S> {
    /// Steps over `n` entries without reading more than their lengths.
    fn skip_entries(&mut self, n: usize) {
        for _ in 0..n.min(self.len()) {
            self.pos += self.ring.size_at(self.pos);
            self.seq += 1;
        }
    }
}

impl<S: Region> Iterator for Entries<'_, S> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        if self.seq >= self.ring.head {
            return None;
        }
        let Some((entry, size)) = self.ring.read_entry(self.pos) else {
            // Cannot happen in a ring `open` validated; end rather than loop.
            self.seq = self.ring.head;
            return None;
        };
        self.pos += size;
        self.seq += 1;
        Some(entry)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.ring.head - self.seq) as usize;
        (left, Some(left))
    }
}

impl<S: Region> ExactSizeIterator for Entries<'_, S> {}

/// The entries of a [`Ring`] a [`Filter`] selects, oldest first.
#[derive(Debug)]
pub struct Matching<'r, 'f, S> {
    entries: Entries<'r, S>,
    filter: Filter<'f>,
    /// Selected entries still to pass over (for [`Ring::last_matching`]).
    skip: usize,
}

impl<S: Region> Iterator for Matching<'_, '_, S> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            let entry = self.entries.next()?;
            if !self.filter.matches(&entry) {
                continue;
            }
            if self.skip == 0 {
                return Some(entry);
            }
            self.skip -= 1;
        }
    }
}
