//! Kernel-object logic for Abide, as pure code the host can test.
//!
//! The kernel's security rests on two pieces of bookkeeping: who holds which
//! capability ([`caps`]: every process's handle table, the rights and badges
//! of handles, and the derivation tree that makes revocation reach every copy
//! of a handle) and how channel messages queue up between endpoints
//! ([`queue`]). Both live here, free of hardware, locks and scheduling, so
//! their rules can be proven by unit and property tests on the host. The
//! kernel holds one [`caps::Capabilities`] behind a lock and one
//! [`queue::MessageQueue`] per channel endpoint; before a channel write it
//! asks [`enclose`] whether the message would make an endpoint reachable
//! only through itself. How a child's memory limit comes out of its
//! parent's is [`budget`]. What one insert into the kernel's maps may
//! allocate at worst is [`heap_cost`].
//!
//! Nothing in this crate uses `unsafe` or panics on bad input: every handle,
//! right and size comes from user space and is checked. Tables and queues
//! read back from a checkpoint image are checked too, by
//! [`caps::Capabilities::validate`] and [`queue::MessageQueue::validate`],
//! before a restore trusts them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod budget;
pub mod caps;
pub mod enclose;
pub mod heap_cost;
pub mod queue;
