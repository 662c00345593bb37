//! Calls that cannot finish now (a read on an empty pipe, `wait4`,
//! `nanosleep`, a futex wait, `poll`, `rt_sigsuspend`, a console read),
//! parked by thread until what they wait for changes or their deadline
//! passes.
//!
//! The list holds, per parked thread, the key it waits on (`K`: the
//! component's `WaitOn`), an optional deadline (clock nanoseconds) and the
//! request itself (`T`: the trapped registers, to run the call again).
//! [`Waits::wake`] takes every thread waiting on a key, [`Waits::expired`]
//! every thread whose deadline passed; the caller runs those calls again,
//! and a call that still cannot finish parks anew. A thread parks at most
//! once: parking it again (a second trap of the same thread) replaces its
//! old request.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::table::Pid;

/// One parked call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked<K, T> {
    pub on: K,
    pub deadline: Option<u64>,
    pub request: T,
}

/// The parked calls, by thread id.
#[derive(Debug, Clone)]
pub struct Waits<K, T> {
    parked: BTreeMap<Pid, Parked<K, T>>,
}

impl<K, T> Default for Waits<K, T> {
    fn default() -> Self {
        Waits {
            parked: BTreeMap::new(),
        }
    }
}

impl<K: PartialEq, T> Waits<K, T> {
    /// Parks `thread`'s call; returns the request it replaces, if it was
    /// parked already.
    pub fn park(&mut self, thread: Pid, on: K, deadline: Option<u64>, request: T) -> Option<T> {
        self.parked
            .insert(
                thread,
                Parked {
                    on,
                    deadline,
                    request,
                },
            )
            .map(|old| old.request)
    }

    /// Takes `thread`'s parked call, if any (a signal interrupts it, or the
    /// thread trapped anew).
    pub fn take(&mut self, thread: Pid) -> Option<Parked<K, T>> {
        self.parked.remove(&thread)
    }

    /// Whether `thread` is parked.
    pub fn is_parked(&self, thread: Pid) -> bool {
        self.parked.contains_key(&thread)
    }

    /// What `thread` waits on.
    pub fn waiting_on(&self, thread: Pid) -> Option<&K> {
        self.parked.get(&thread).map(|p| &p.on)
    }

    /// The threads waiting on `on`, in thread order (left parked).
    pub fn threads_on(&self, on: &K) -> Vec<Pid> {
        self.parked
            .iter()
            .filter(|(_, p)| p.on == *on)
            .map(|(t, _)| *t)
            .collect()
    }

    /// Takes every call waiting on `on`, in thread order.
    pub fn wake(&mut self, on: &K) -> Vec<(Pid, Parked<K, T>)> {
        self.take_where(|p| p.on == *on)
    }

    /// Takes every call waiting on a key `matches` accepts.
    pub fn wake_matching(&mut self, matches: impl Fn(&K) -> bool) -> Vec<(Pid, Parked<K, T>)> {
        self.take_where(|p| matches(&p.on))
    }

    /// Takes every call whose deadline is at or before `now`.
    pub fn expired(&mut self, now: u64) -> Vec<(Pid, Parked<K, T>)> {
        self.take_where(|p| p.deadline.is_some_and(|d| d <= now))
    }

    /// The earliest deadline of a parked call.
    pub fn next_deadline(&self) -> Option<u64> {
        self.parked.values().filter_map(|p| p.deadline).min()
    }

    /// How many calls are parked.
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// Whether no call is parked.
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    fn take_where(&mut self, pick: impl Fn(&Parked<K, T>) -> bool) -> Vec<(Pid, Parked<K, T>)> {
        let threads: Vec<Pid> = self
            .parked
            .iter()
            .filter(|(_, p)| pick(p))
            .map(|(t, _)| *t)
            .collect();
        threads
            .into_iter()
            .filter_map(|t| self.parked.remove(&t).map(|p| (t, p)))
            .collect()
    }
}
