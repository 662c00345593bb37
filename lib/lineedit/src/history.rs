//! The lines entered before, for Up and Down to walk.

use alloc::collections::VecDeque;
use alloc::string::String;

/// The most recent lines entered, oldest first, at most `capacity` of them.
#[derive(Clone, Debug)]
pub struct History {
    entries: VecDeque<String>,
    capacity: usize,
}

impl History {
    /// An empty history that keeps at most `capacity` lines.
    pub fn new(capacity: usize) -> History {
        History {
            entries: VecDeque::new(),
            capacity,
        }
    }

    /// Records `line`, unless it is blank or the same as the newest line;
    /// forgets the oldest line if the history is full.
    pub fn push(&mut self, line: &str) {
        if self.capacity == 0 || line.trim().is_empty() || self.newest(0) == Some(line) {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(String::from(line));
    }

    /// The line `back` steps before the newest (0: the newest).
    pub fn newest(&self, back: usize) -> Option<&str> {
        let index = self.entries.len().checked_sub(back + 1)?;
        self.entries.get(index).map(String::as_str)
    }

    /// The lines, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn lines(history: &History) -> Vec<&str> {
        history.iter().collect()
    }

    #[test]
    fn keeps_non_blank_lines_without_consecutive_duplicates() {
        let mut history = History::new(10);
        for line in ["ps", "", "  ", "ps", "mem", "ps", "ps"] {
            history.push(line);
        }
        assert_eq!(lines(&history), ["ps", "mem", "ps"]);
        assert_eq!(history.newest(0), Some("ps"));
        assert_eq!(history.newest(1), Some("mem"));
        assert_eq!(history.newest(2), Some("ps"));
        assert_eq!(history.newest(3), None);
        assert_eq!(history.iter().count(), 3);
    }

    #[test]
    fn forgets_the_oldest_beyond_capacity() {
        let mut history = History::new(2);
        for line in ["a", "b", "c"] {
            history.push(line);
        }
        assert_eq!(lines(&history), ["b", "c"]);
        let mut none = History::new(0);
        none.push("a");
        assert_eq!(none.iter().count(), 0);
        assert_eq!(none.newest(0), None);
    }
}
