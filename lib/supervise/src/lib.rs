//! The supervisor's decisions for Abide, as pure code the host can test.
//!
//! `init` is the root supervisor. It starts the components of the system
//! configuration, learns when one ends, and must decide what follows; when
//! the configuration is replaced while the system runs, it must decide what
//! to stop, start and restart. Both decisions are made here, free of
//! processes, clocks and I/O: the caller describes the supervision [`Tree`],
//! reports endings with the time to a [`Supervisor`], and carries out the
//! [`Action`]s it gets back. The tree's names (`N`) and component
//! specifications (`S`) are the caller's own types.
//!
//! # Semantics
//!
//! These are Erlang/OTP's supervisor semantics (`supervisor.erl` in OTP's
//! `stdlib`, and its documentation, "Supervision Principles"), applied to a
//! tree of groups that all live in the one `init` process. Where Abide
//! differs, it says so.
//!
//! **Start order.** A group starts its children in the order written; a nested
//! group starts its own children when it is started. Stopping goes in reverse
//! start order at every level.
//!
//! **Restart types.** When a component ends, its [`RestartType`] says whether
//! it is to be restarted: a *permanent* one always, a *transient* one only if
//! it ended abnormally ([`Ending::Abnormal`]: a fault, a kill, a nonzero exit
//! status, or a failure to start), a *temporary* one never. A child that is
//! not to be restarted just stays ended: nothing else happens, no restart is
//! counted, its siblings are not touched.
//!
//! **Strategies.** When a child is to be restarted, its group's [`Strategy`]
//! says what else is restarted with it:
//!
//! - *one_for_one*: only the child.
//! - *one_for_all*: every other child is stopped (reverse start order), then
//!   the children are started again (start order).
//! - *rest_for_one*: the children started after it are stopped (reverse start
//!   order), then it and they are started again (start order); the children
//!   started before it are not touched.
//!
//! Under one_for_all and rest_for_one, a sibling that is *temporary* is
//! stopped if it runs and is never started again, and a *transient* sibling
//! that had ended normally **is** started again along with the others: OTP
//! keeps a transient child that exited normally in its child list without a
//! process, removes a temporary child from it as soon as it ends or is
//! stopped (`terminate_children`: "Temporary children should not be restarted
//! and thus should be skipped"), and `restart_multiple_children` starts every
//! child still in the list. The OTP documentation says the same of temporary
//! children: "never restarted (even when the supervisor's restart strategy is
//! rest_for_one or one_for_all and a sibling's death causes the temporary
//! process to be terminated)".
//!
//! A nested group restarted by its parent starts afresh, like a new OTP
//! supervisor process running its `init` again: *all* its components start —
//! temporary ones and ended transient ones included — and its restart history
//! is empty.
//!
//! **Intensity.** Every restart decision (one per ending that is to be
//! restarted, however many children the strategy restarts) is counted against
//! the group's [`Intensity`] of R restarts in T seconds. A restart counts
//! while it is at most T seconds old — exactly T seconds old still counts,
//! one millisecond more and it is forgotten; OTP's `add_restart` keeps
//! restarts with `R >= Now - Period` in whole seconds. If, with the new one,
//! more than R restarts count, the group gives up instead of restarting: it
//! stops all its components (reverse start order) and *fails*. R = 0 means
//! any restart makes the group fail.
//!
//! **Escalation.** A group that failed is, to its parent, a child that ended
//! abnormally, and the parent applies the same rules to it: its restart type
//! in the parent (permanent by default) says whether it is restarted, the
//! parent's strategy what else is, the parent's intensity whether the parent
//! fails in turn — to any depth. (OTP's supervisor exits with reason
//! `shutdown` when it reaches its intensity, which a parent does not restart
//! if the supervisor is transient; Abide treats a failure as abnormal, so a
//! transient group is restarted: the escalation always reaches the parent's
//! policy.) When the root group fails, every component has been stopped and
//! the last action is [`Action::Shutdown`]: the system shuts down.
//!
//! **Reconfiguration.** [`plan`] compares an old and a new tree component by
//! component: removed ones are stopped, added ones started, changed ones (a
//! different specification, or moved to another group) restarted, the others
//! left running. A group whose strategy or intensity changed keeps its
//! children running; only the policy changes. Stops go in reverse start order
//! of the old tree, starts in start order of the new one.
//! [`Supervisor::reconfigure`] does the same on a running supervisor.
//!
//! # Using it
//!
//! ```
//! use abide_supervise::*;
//!
//! let root = Group::new("system", Strategy::OneForOne, Intensity::new(3, 10))
//!     .with(Component::new("log", RestartType::Permanent, ()))
//!     .with(
//!         Group::new("net", Strategy::RestForOne, Intensity::new(1, 5))
//!             .with(Component::new("driver", RestartType::Permanent, ()))
//!             .with(Component::new("stack", RestartType::Permanent, ())),
//!     );
//! let mut sup = Supervisor::new(Tree::new(root).unwrap());
//! let boot = sup.boot();
//! assert_eq!(boot, ["log", "driver", "stack"].map(Action::Start));
//!
//! // The driver faults: rest_for_one restarts it and the stack after it.
//! let actions = sup.child_ended("driver", Ending::Abnormal, 1_000);
//! assert_eq!(
//!     actions,
//!     [Action::Stop("stack"), Action::Start("driver"), Action::Start("stack")]
//! );
//! ```
//!
//! The caller reports only the endings of the instances it started on the
//! latest [`Action::Start`]; the end of an instance it stopped on an
//! [`Action::Stop`] is expected and not reported (it would be ignored: the
//! supervisor knows the component is not running).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod plan;
mod supervisor;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tree;

pub use plan::{plan, Plan};
pub use supervisor::{Action, Ending, Reconfiguration, Supervisor};
pub use tree::{Child, Component, Group, Intensity, RestartType, Strategy, Tree, TreeError};
