//! A process's signal dispositions and what taking a signal does, as plain
//! data. Numbers, sets and layouts are Linux's, in `abide_linux::signal`;
//! the frame a handler runs on is `abide_linux::sigframe`.

use abide_linux::signal::{
    default_action, is_valid, DefaultAction, SigAction, SigSet, SIGKILL, SIGSTOP, SIG_DFL, SIG_IGN,
};

/// What taking a signal does, given its action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Nothing (ignored, explicitly or by default).
    Ignore,
    /// The process ends, killed by the signal (`core`: the default dumps core).
    Kill { core: bool },
    /// The process stops (job control).
    Stop,
    /// The process continues (already done when the signal was sent).
    Continue,
    /// Run the handler.
    Handle(SigAction),
}

/// What taking `signal` with `action` does.
pub fn disposition(signal: u32, action: &SigAction) -> Disposition {
    if signal == SIGKILL {
        return Disposition::Kill { core: false };
    }
    if signal == SIGSTOP {
        return Disposition::Stop;
    }
    match action.handler {
        SIG_IGN => Disposition::Ignore,
        SIG_DFL => match default_action(signal) {
            DefaultAction::Terminate => Disposition::Kill { core: false },
            DefaultAction::CoreDump => Disposition::Kill { core: true },
            DefaultAction::Ignore => Disposition::Ignore,
            DefaultAction::Stop => Disposition::Stop,
            DefaultAction::Continue => Disposition::Continue,
        },
        _ => Disposition::Handle(*action),
    }
}

/// The number of signals (`NSIG`), as an array length.
const SIGNALS: usize = abide_linux::signal::NSIG as usize;

/// A process's signal actions (shared by its threads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actions {
    actions: [SigAction; SIGNALS],
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            actions: [SigAction::default(); SIGNALS],
        }
    }
}

impl Actions {
    /// The action of `signal` (the default one for a bad number).
    pub fn get(&self, signal: u32) -> SigAction {
        (signal as usize)
            .checked_sub(1)
            .and_then(|i| self.actions.get(i))
            .copied()
            .unwrap_or_default()
    }

    /// Sets the action of `signal`; false for a number that has none to set
    /// (`SIGKILL`, `SIGSTOP`, out of range).
    pub fn set(&mut self, signal: u32, action: SigAction) -> bool {
        if signal == SIGKILL || signal == SIGSTOP || !is_valid(signal) {
            return false;
        }
        match (signal as usize)
            .checked_sub(1)
            .and_then(|i| self.actions.get_mut(i))
        {
            Some(slot) => {
                *slot = action;
                true
            }
            None => false,
        }
    }

    /// What `execve` keeps: handled signals go back to their default,
    /// ignored ones stay ignored.
    pub fn reset_for_exec(&mut self) {
        for action in &mut self.actions {
            if action.handler != SIG_IGN {
                *action = SigAction::default();
            }
        }
    }

    /// Whether `signal` would be ignored if taken now (so sending it drops
    /// it at once, as Linux does).
    pub fn ignores(&self, signal: u32) -> bool {
        matches!(disposition(signal, &self.get(signal)), Disposition::Ignore)
    }
}

/// The next signal to take from `pending` under `mask`: the lowest one
/// not blocked (`SIGKILL` and `SIGSTOP` cannot be).
pub fn next_deliverable(pending: SigSet, mask: SigSet) -> Option<u32> {
    pending.minus(mask.blockable()).first()
}

/// The signal a thread that stopped at a system call takes *before* the
/// call runs, if any: one it can take now (under `mask`) was sent while it
/// ran in user mode, and Linux takes a signal on the way back to user mode,
/// so before the thread gets to its next `syscall` instruction. That
/// instruction runs again after the signal (after the handler, or when a
/// stopped process continues); a killing signal ends the process with the
/// call never made.
///
/// The case that shows it: a forked child has not run yet when its parent
/// sends it a signal. On Linux the child takes the signal before its first
/// instruction, so its first call (ash's `rt_sigaction(SIGINT, SIG_IGN)`
/// for a background job) cannot ignore a `SIGINT` already sent.
pub fn taken_before_call(pending: SigSet, mask: SigSet) -> Option<u32> {
    next_deliverable(pending, mask)
}
