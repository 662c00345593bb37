//! Timers, and the one list of deadlines the clock tick works through.
//!
//! A timer asserts `TIMER` once the clock reaches its deadline; setting it
//! again clears the signal. The same deadline list also ends `port_wait`s
//! whose deadline passed: the thread runs its call again, which then reports
//! `TimedOut`. Deadlines are checked on every timer tick (`time::TICK_HZ`).

use abide_abi::object::Signals;

use super::{port, Kernel, Object, ObjectId};
use crate::process::ThreadState;

/// A timer object.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Timer {
    /// When it fires, if set.
    deadline: Option<u64>,
    /// It fired and was not set again since.
    fired: bool,
}

impl Timer {
    /// A timer as a checkpoint saved it (the restore puts the deadline
    /// list back too).
    pub fn restored(deadline: Option<u64>, fired: bool) -> Self {
        Timer { deadline, fired }
    }

    pub fn signals(&self) -> Signals {
        if self.fired {
            Signals::TIMER
        } else {
            Signals::NONE
        }
    }
}

/// Sets timer `id` to fire at `deadline_ns` (0 cancels); a deadline already
/// past fires at once.
pub fn set(kernel: &mut Kernel, id: ObjectId, deadline_ns: u64, now_ns: u64) {
    let Some(Object::Timer(timer)) = kernel.objects.get_mut(id) else {
        return;
    };
    if let Some(old) = timer.deadline.take() {
        kernel.deadlines.remove(&(old, id));
    }
    timer.fired = false;
    if deadline_ns == 0 {
        return;
    }
    if deadline_ns <= now_ns {
        timer.fired = true;
        port::notify(kernel, id);
    } else {
        timer.deadline = Some(deadline_ns);
        kernel.deadlines.insert((deadline_ns, id));
    }
}

/// The last handle to a timer is gone.
pub fn close(kernel: &mut Kernel, id: ObjectId, timer: &Timer) {
    if let Some(deadline) = timer.deadline {
        kernel.deadlines.remove(&(deadline, id));
    }
}

/// Fires every timer and times out every wait whose deadline is `now_ns` or
/// earlier.
pub fn expire(kernel: &mut Kernel, now_ns: u64) {
    while let Some(&(deadline, id)) = kernel.deadlines.first() {
        if deadline > now_ns {
            break;
        }
        kernel.deadlines.remove(&(deadline, id));
        match kernel.objects.get_mut(id) {
            Some(Object::Timer(timer)) => {
                timer.deadline = None;
                timer.fired = true;
                port::notify(kernel, id);
            }
            Some(Object::Thread(thread)) if matches!(thread.state, ThreadState::Blocked { .. }) => {
                port::wake(kernel, id);
            }
            _ => {}
        }
    }
}
