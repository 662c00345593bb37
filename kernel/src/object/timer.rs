//! Timers: objects that assert `TIMER` once the clock reaches their deadline.
//!
//! Setting a timer again clears the signal. Its deadline sits in the one
//! deadline list (`Kernel::deadlines`, shared with `port_wait` deadlines),
//! which `tick` works through on every timer tick (`time::TICK_HZ`) and
//! calls [`fire`] for each timer whose deadline passed.

use abide_abi::object::Signals;

use super::{port, Kernel, Object, ObjectId};

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
        kernel.sched.deadlines.remove(&(old, id));
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
        kernel.sched.deadlines.insert((deadline_ns, id));
    }
}

/// The last handle to a timer is gone.
pub fn close(kernel: &mut Kernel, id: ObjectId, timer: &Timer) {
    if let Some(deadline) = timer.deadline {
        kernel.sched.deadlines.remove(&(deadline, id));
    }
}

/// The clock reached timer `id`'s deadline (taken off the deadline list
/// by the tick): it fires.
pub fn fire(kernel: &mut Kernel, id: ObjectId) {
    let Some(Object::Timer(timer)) = kernel.objects.get_mut(id) else {
        return;
    };
    timer.deadline = None;
    timer.fired = true;
    port::notify(kernel, id);
}
