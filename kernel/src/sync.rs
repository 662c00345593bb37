//! Locks for state shared with interrupt handlers.
//!
//! A spin lock that an interrupt handler also takes would deadlock if the
//! handler interrupted its holder on the same CPU, so [`IrqSpinLock`] disables
//! interrupts while it is held and restores the previous state on release.

use core::ops::{Deref, DerefMut};

use crate::arch::cpu;

/// A spin lock held with interrupts disabled.
pub struct IrqSpinLock<T> {
    inner: spin::Mutex<T>,
}

/// Access to the data of a held [`IrqSpinLock`].
pub struct IrqSpinLockGuard<'a, T> {
    guard: Option<spin::MutexGuard<'a, T>>,
    interrupts_were_enabled: bool,
}

impl<T> IrqSpinLock<T> {
    pub const fn new(value: T) -> Self {
        IrqSpinLock {
            inner: spin::Mutex::new(value),
        }
    }

    /// Disables interrupts, then takes the lock.
    pub fn lock(&self) -> IrqSpinLockGuard<'_, T> {
        let interrupts_were_enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        IrqSpinLockGuard {
            guard: Some(self.inner.lock()),
            interrupts_were_enabled,
        }
    }
}

impl<T> Deref for IrqSpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // The guard is only taken out in `drop`.
        self.guard.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl<T> DerefMut for IrqSpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<T> Drop for IrqSpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // Release the lock before interrupts can come back.
        drop(self.guard.take());
        if self.interrupts_were_enabled {
            cpu::enable_interrupts();
        }
    }
}
