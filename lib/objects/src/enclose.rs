//! Refusing channel writes that would leave endpoints unreachable but alive.
//!
//! A handle in a queued message keeps its object alive, and an endpoint's
//! queue lives as long as the endpoint. So if endpoint `B` is written into
//! its own queue (through its peer `A`) and the writer then closes `B`, the
//! only handle to `B` is inside `B`: nothing can ever read it, nothing will
//! ever close it, and everything queued behind it leaks — and is
//! checkpointed and restored on every boot. Longer loops do the same: with
//! channels `A–B` and `C–D`, `D` written through `A` sits in `B`'s queue;
//! then `B` written through `C` sits in `D`'s queue; close every handle and
//! `B` and `D` keep each other alive.
//!
//! Think of a graph whose nodes are endpoints and whose edge `X → Y` means
//! "a handle to `Y` is queued at `X`". Reference counting frees everything
//! that graph holds exactly when it has no cycle. Writing a handle to `H`
//! into the queue of `R` adds the edge `R → H`, which closes a cycle exactly
//! when `R == H` or `R` is reachable from `H`: the endpoints queued at `H`,
//! the endpoints queued at those, and so on. [`check_write`] refuses that
//! write, so the graph never has a cycle and no endpoint outlives its last
//! reachable handle. It also refuses, as Zircon does, sending the endpoint
//! a message is written through: a channel cannot carry its own end.
//!
//! The walk visits each endpoint once and stops after [`WALK_BUDGET`]
//! queued handles; a write that would need a longer walk is refused too
//! (never a false acceptance), so a write costs a bounded amount of work.

use alloc::vec::Vec;

/// The most queued handles one write's check looks at before it refuses.
/// Each endpoint queues at most 64 messages of 16 handles (1,024); a
/// legitimate program nests far less than this.
pub const WALK_BUDGET: usize = 16 * 1024;

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The message carries the endpoint it is written through.
    OwnEndpoint,
    /// The message carries the receiving endpoint, or an endpoint from
    /// whose queue the receiving endpoint is reachable: a cycle.
    Cycle,
    /// The queues behind the carried endpoints hold more handles than
    /// [`WALK_BUDGET`]; refused rather than left unchecked.
    TooDeep,
    /// The walk's bookkeeping could not be allocated.
    NoMemory,
}

/// Answers, for an endpoint, the objects of the handles queued at it (in
/// any order). A non-endpoint object has none.
pub trait Queues<O> {
    /// Calls `visit` with the object of every handle queued at `endpoint`.
    fn for_each_queued(&self, endpoint: O, visit: &mut dyn FnMut(O));
}

/// Checks a write of handles to `sent` through endpoint `writer` into the
/// queue of `receiver` (the writer's peer). `Ok` if no endpoint would
/// become reachable only through itself.
pub fn check_write<O: Ord + Copy>(
    queues: &impl Queues<O>,
    writer: O,
    receiver: O,
    sent: &[O],
) -> Result<(), Refusal> {
    if sent.contains(&writer) {
        return Err(Refusal::OwnEndpoint);
    }
    // Depth-first from every sent object; `seen` is kept sorted.
    let mut seen: Vec<O> = Vec::new();
    let mut stack: Vec<O> = Vec::new();
    let mut examined = 0usize;
    for &object in sent {
        push_unseen(&mut seen, &mut stack, object)?;
    }
    while let Some(object) = stack.pop() {
        if object == receiver {
            return Err(Refusal::Cycle);
        }
        let mut failed = None;
        queues.for_each_queued(object, &mut |inner| {
            if failed.is_some() {
                return;
            }
            examined += 1;
            if examined > WALK_BUDGET {
                failed = Some(Refusal::TooDeep);
            } else if let Err(refusal) = push_unseen(&mut seen, &mut stack, inner) {
                failed = Some(refusal);
            }
        });
        if let Some(refusal) = failed {
            return Err(refusal);
        }
    }
    Ok(())
}

/// Adds `object` to `seen` and `stack` unless it is in `seen` already.
fn push_unseen<O: Ord + Copy>(
    seen: &mut Vec<O>,
    stack: &mut Vec<O>,
    object: O,
) -> Result<(), Refusal> {
    if let Err(at) = seen.binary_search(&object) {
        seen.try_reserve(1).map_err(|_| Refusal::NoMemory)?;
        stack.try_reserve(1).map_err(|_| Refusal::NoMemory)?;
        seen.insert(at, object);
        stack.push(object);
    }
    Ok(())
}
