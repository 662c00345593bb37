//! The scheduler's decision, as pure logic: which ready thread runs next.
//!
//! Threads have a priority (0 lowest .. [`PRIORITIES`]-1 highest). The highest
//! non-empty priority always runs first; threads of equal priority take turns
//! (round robin): a preempted or yielding thread goes to the back of its
//! level. The kernel owns the threads; this queue holds only their ids.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::collections::VecDeque;

/// Number of priority levels.
pub const PRIORITIES: usize = 8;
/// The priority programs get unless configured otherwise.
pub const DEFAULT_PRIORITY: u8 = 4;

/// Ready threads by priority.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RunQueue<T> {
    levels: [VecDeque<T>; PRIORITIES],
}

impl<T: PartialEq + Copy> Default for RunQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: PartialEq + Copy> RunQueue<T> {
    pub fn new() -> Self {
        RunQueue {
            levels: core::array::from_fn(|_| VecDeque::new()),
        }
    }

    /// Makes `thread` ready at `priority` (clamped to the highest level), at
    /// the back of its level. A thread already queued is not queued twice.
    pub fn push(&mut self, thread: T, priority: u8) {
        if self.contains(thread) {
            return;
        }
        let level = (priority as usize).min(PRIORITIES - 1);
        self.levels[level].push_back(thread);
    }

    /// Takes the next thread to run: the front of the highest non-empty level.
    pub fn pop(&mut self) -> Option<T> {
        self.levels
            .iter_mut()
            .rev()
            .find_map(|level| level.pop_front())
    }

    /// Removes `thread` wherever it is queued (it blocked or ended).
    pub fn remove(&mut self, thread: T) {
        for level in &mut self.levels {
            level.retain(|queued| *queued != thread);
        }
    }

    /// True when `thread` is queued.
    pub fn contains(&self, thread: T) -> bool {
        self.levels.iter().any(|level| level.contains(&thread))
    }

    /// The highest priority with a ready thread.
    pub fn highest_ready(&self) -> Option<u8> {
        self.levels
            .iter()
            .rposition(|level| !level.is_empty())
            .map(|p| p as u8)
    }

    /// Number of ready threads.
    pub fn len(&self) -> usize {
        self.levels.iter().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn higher_priority_runs_first() {
        let mut q = RunQueue::new();
        q.push(1, 2);
        q.push(2, 6);
        q.push(3, 4);
        assert_eq!(q.pop(), Some(2));
        assert_eq!(q.pop(), Some(3));
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn equal_priority_takes_turns() {
        let mut q = RunQueue::new();
        for t in [1, 2, 3] {
            q.push(t, DEFAULT_PRIORITY);
        }
        let mut order = Vec::new();
        for _ in 0..6 {
            let t = q.pop().unwrap();
            order.push(t);
            q.push(t, DEFAULT_PRIORITY); // preempted: back of the line
        }
        assert_eq!(order, [1, 2, 3, 1, 2, 3]);
    }

    #[test]
    fn no_duplicates_and_removal() {
        let mut q = RunQueue::new();
        q.push(7, 1);
        q.push(7, 5);
        assert_eq!(q.len(), 1);
        q.remove(7);
        assert!(q.is_empty());
        q.push(9, 200); // clamped
        assert_eq!(q.highest_ready(), Some(PRIORITIES as u8 - 1));
    }

    proptest! {
        /// Whatever the pushes, pop order is by descending priority and, within
        /// a priority, first in first out.
        #[test]
        fn pop_order_matches_a_sorted_model(prios in proptest::collection::vec(0u8..12, 0..40)) {
            let mut q = RunQueue::new();
            for (id, p) in prios.iter().enumerate() {
                q.push(id, *p);
            }
            let mut model: Vec<(usize, usize)> = prios
                .iter()
                .enumerate()
                .map(|(id, p)| ((*p as usize).min(PRIORITIES - 1), id))
                .collect();
            model.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let popped: Vec<usize> = std::iter::from_fn(|| q.pop()).collect();
            prop_assert_eq!(popped, model.into_iter().map(|(_, id)| id).collect::<Vec<_>>());
        }
    }
}
