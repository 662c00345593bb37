//! The clock tick's housekeeping, run on every timer interrupt
//! (`time::TICK_HZ`) before the scheduler decides who runs next: timers
//! whose deadline passed fire, `port_wait`s whose deadline passed are woken
//! (their call, issued again, reports `TimedOut`), and the checkpoint
//! engine gets its period and its write-out budget.

use crate::arch::context::FpuState;
use crate::arch::idt::TrapFrame;
use crate::object::{timer, Kernel, Object};
use crate::{persist, sched, time};

/// One tick: deadlines first, then the checkpoint engine (which may pause
/// the interrupted user thread, `from_user`, to take a checkpoint).
pub fn run(kernel: &mut Kernel, frame: &TrapFrame, fpu: &FpuState, from_user: bool) {
    expire(kernel, time::now_ns());
    persist::tick(kernel, frame, fpu, from_user);
}

/// Fires every timer and times out every wait whose deadline is `now_ns` or
/// earlier.
pub fn expire(kernel: &mut Kernel, now_ns: u64) {
    while let Some(&(deadline, id)) = kernel.sched.deadlines.first() {
        if deadline > now_ns {
            break;
        }
        kernel.sched.deadlines.remove(&(deadline, id));
        match kernel.objects.get(id) {
            Some(Object::Timer(_)) => timer::fire(kernel, id),
            // Only a thread blocked in `port_wait` is woken.
            Some(Object::Thread(_)) => sched::wake(kernel, id),
            _ => {}
        }
    }
}
