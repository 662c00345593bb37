//! A single-threaded async executor, so a program can wait for many things at
//! once (messages on many channels, timers, processes, interrupts) without
//! threads and without busy loops.
//!
//! - [`block_on`] runs a future to completion on this thread, and with it
//!   every task [`spawn`]ed (`async_entry!` wraps `main` in it).
//! - [`wait_signals`] waits until a kernel object asserts one of some
//!   [`Signals`]; channel I/O (`crate::ipc::Channel`) is built on it.
//! - [`sleep`], [`sleep_until`] and [`timeout_at`] wait for the clock.
//! - [`FutureSet`] and [`join_all`] run many futures inside one task; unlike
//!   spawned tasks they may borrow (a server's state in a `RefCell`).
//!
//! How it waits: the executor owns one kernel port. A [`WaitSignals`] binds
//! its object to the port (`port_bind`, one-shot) under a key of its own and
//! leaves its waker under that key; timers are a list in the executor. When
//! no task is ready, the executor blocks in `port_wait` until the earliest
//! timer (or forever), then wakes the waker of the packet's key, or of every
//! timer that is due. A task is polled only when something woke it.
//!
//! Spawned tasks must be `Send`: the queues live in statics behind spin
//! locks, which is what makes them sound without `unsafe` should a process
//! ever have more than one thread. Only one [`block_on`] runs at a time;
//! locks are never held while a future is polled or a waker is woken.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

use abide_abi::object::{Packet, Signals};
use abide_abi::syscall::{Error, Handle};

use crate::syscall::{self, FOREVER};

/// Identifies a task; [`MAIN`] is the future given to [`block_on`].
type TaskId = u64;

/// The task id of [`block_on`]'s own future.
const MAIN: TaskId = 0;

/// Tasks woken and not yet polled, in the order they were woken.
static READY: spin::Mutex<VecDeque<TaskId>> = spin::Mutex::new(VecDeque::new());

/// Spawned tasks that have not finished (a task being polled is not here).
static TASKS: spin::Mutex<Tasks> = spin::Mutex::new(Tasks {
    next_id: MAIN + 1,
    tasks: BTreeMap::new(),
});

/// What tasks wait for: kernel objects bound to the port, and timers.
static REACTOR: spin::Mutex<Reactor> = spin::Mutex::new(Reactor {
    port: None,
    next_key: 1,
    waits: BTreeMap::new(),
    timers: BTreeMap::new(),
});

/// Whether a [`block_on`] is running.
static RUNNING: AtomicBool = AtomicBool::new(false);

struct Tasks {
    next_id: TaskId,
    tasks: BTreeMap<TaskId, Task>,
}

struct Task {
    future: Pin<Box<dyn Future<Output = ()> + Send>>,
    waker: Arc<TaskWaker>,
}

/// Wakes a task by queueing its id in [`READY`] (once until it is polled).
struct TaskWaker {
    id: TaskId,
    queued: AtomicBool,
}

impl TaskWaker {
    fn new(id: TaskId) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
        })
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            READY.lock().push_back(self.id);
        }
    }
}

struct Reactor {
    /// The executor's port, created at the first wait.
    port: Option<Handle>,
    /// The next key for a bind or a timer; keys are never reused, so a
    /// packet for a wait that was dropped finds nobody.
    next_key: u64,
    /// Binds by key.
    waits: BTreeMap<u64, Wait>,
    /// Timers by (deadline, key).
    timers: BTreeMap<(u64, u64), Waker>,
}

/// A bind: still waiting (with the waker to wake), or fired (with the
/// signals the packet reported).
enum Wait {
    Armed(Waker),
    Fired(Signals),
}

impl Reactor {
    fn port(&mut self) -> Result<Handle, Error> {
        match self.port {
            Some(port) => Ok(port),
            None => {
                let port = syscall::port_create()?;
                self.port = Some(port);
                Ok(port)
            }
        }
    }

    fn new_key(&mut self) -> u64 {
        let key = self.next_key;
        self.next_key += 1;
        key
    }
}

/// Runs `future` on this thread until it completes, together with every
/// spawned task, and returns its output.
///
/// Tasks still pending when `future` completes stay queued (a later
/// `block_on` would run them); when `main` returns, the process exits.
///
/// # Panics
///
/// When called from inside a `block_on` (a task must `.await`, not block),
/// when the executor cannot create its port or wait on it, and when every
/// task waits for something nothing can deliver (no bind, no timer): that
/// would otherwise hang forever.
pub fn block_on<F: Future>(future: F) -> F::Output {
    assert!(
        !RUNNING.swap(true, Ordering::AcqRel),
        "block_on called inside block_on"
    );
    let mut future = pin!(future);
    let main = TaskWaker::new(MAIN);
    let main_waker = Waker::from(main.clone());
    main.wake_by_ref();
    loop {
        let next = READY.lock().pop_front();
        match next {
            Some(MAIN) => {
                main.queued.store(false, Ordering::Release);
                let mut cx = Context::from_waker(&main_waker);
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    RUNNING.store(false, Ordering::Release);
                    return output;
                }
            }
            Some(id) => run_task(id),
            None => wait_for_events(),
        }
    }
}

/// Polls spawned task `id` once; it goes back to [`TASKS`] unless it finished.
fn run_task(id: TaskId) {
    // A task that finished may still have been woken: nothing to do.
    let Some(mut task) = TASKS.lock().tasks.remove(&id) else {
        return;
    };
    task.waker.queued.store(false, Ordering::Release);
    let waker = Waker::from(task.waker.clone());
    if task
        .future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending()
    {
        TASKS.lock().tasks.insert(id, task);
    }
}

/// Blocks until a bound object signals or the earliest timer is due, and
/// wakes whoever waited for it.
fn wait_for_events() {
    let (port, deadline) = {
        let mut reactor = REACTOR.lock();
        let deadline = reactor.timers.keys().next().map(|&(deadline, _)| deadline);
        if deadline.is_none() && reactor.waits.is_empty() {
            drop(reactor);
            panic!("executor: every task waits, and nothing can wake one");
        }
        match reactor.port() {
            Ok(port) => (port, deadline),
            Err(error) => {
                drop(reactor);
                panic!("executor: cannot create its port: {error}");
            }
        }
    };
    match syscall::port_wait(port, deadline.unwrap_or(FOREVER)) {
        Ok(packet) => {
            deliver(packet);
            // Take whatever else is queued without blocking.
            while let Ok(packet) = syscall::port_wait(port, 0) {
                deliver(packet);
            }
        }
        Err(Error::TimedOut | Error::ShouldWait) => {}
        Err(error) => panic!("executor: port_wait failed: {error}"),
    }
    fire_timers();
}

/// Marks the bind of `packet`'s key fired and wakes its waiter.
fn deliver(packet: Packet) {
    let waker = {
        let mut reactor = REACTOR.lock();
        match reactor.waits.get_mut(&packet.key) {
            Some(wait @ Wait::Armed(_)) => {
                match core::mem::replace(wait, Wait::Fired(packet.signals)) {
                    Wait::Armed(waker) => Some(waker),
                    Wait::Fired(_) => None,
                }
            }
            // Fired already, or its future was dropped: nobody to wake.
            _ => None,
        }
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Wakes every timer whose deadline has passed.
fn fire_timers() {
    let now = syscall::clock_ns();
    let mut due = Vec::new();
    {
        let mut reactor = REACTOR.lock();
        while let Some(entry) = reactor.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
    }
    for waker in due {
        waker.wake();
    }
}

/// Starts `future` as a task of its own, run by [`block_on`] alongside the
/// others; its output is collected through the returned [`JoinHandle`]
/// (which may be dropped: the task runs on).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = Arc::new(spin::Mutex::new(JoinState {
        output: None,
        waker: None,
    }));
    let result = shared.clone();
    let task = async move {
        let output = future.await;
        let waker = {
            let mut state = result.lock();
            state.output = Some(output);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    };
    let waker = {
        let mut tasks = TASKS.lock();
        let id = tasks.next_id;
        tasks.next_id += 1;
        let waker = TaskWaker::new(id);
        tasks.tasks.insert(
            id,
            Task {
                future: Box::pin(task),
                waker: waker.clone(),
            },
        );
        waker
    };
    waker.wake_by_ref();
    JoinHandle { shared }
}

/// The output of a spawned task, once it finishes: `.await` it.
pub struct JoinHandle<T> {
    shared: Arc<spin::Mutex<JoinState<T>>>,
}

struct JoinState<T> {
    output: Option<T>,
    waker: Option<Waker>,
}

impl<T> JoinHandle<T> {
    /// Whether the task has finished (and its output not been taken).
    pub fn is_finished(&self) -> bool {
        self.shared.lock().output.is_some()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    /// Ready with the task's output once it finished. Polling again after
    /// that never completes.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.shared.lock();
        match state.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                state.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Waits until `handle`'s object asserts any of `signals` and returns the
/// signals it had then. Fails at once if the object cannot be bound (a bad
/// handle, or one without the `WAIT` right).
pub fn wait_signals(handle: Handle, signals: Signals) -> WaitSignals {
    WaitSignals {
        handle,
        signals,
        key: None,
    }
}

/// The future of [`wait_signals`].
#[must_use = "futures do nothing unless polled"]
pub struct WaitSignals {
    handle: Handle,
    signals: Signals,
    /// The key it is bound under, once bound.
    key: Option<u64>,
}

impl Future for WaitSignals {
    type Output = Result<Signals, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(key) = this.key {
            let mut reactor = REACTOR.lock();
            match reactor.waits.get_mut(&key) {
                Some(Wait::Fired(signals)) => {
                    let signals = *signals;
                    reactor.waits.remove(&key);
                    this.key = None;
                    return Poll::Ready(Ok(signals));
                }
                Some(Wait::Armed(waker)) => {
                    if !waker.will_wake(cx.waker()) {
                        *waker = cx.waker().clone();
                    }
                    return Poll::Pending;
                }
                // Only this future removes its entry; bind anew if it is gone.
                None => this.key = None,
            }
        }
        let bound = {
            let mut reactor = REACTOR.lock();
            reactor.port().map(|port| (port, reactor.new_key()))
        };
        let result = bound.and_then(|(port, key)| {
            syscall::port_bind(port, this.handle, key, this.signals).map(|()| key)
        });
        match result {
            Ok(key) => {
                // The packet cannot have been taken yet: only this thread's
                // executor takes packets, and it is polling us.
                REACTOR
                    .lock()
                    .waits
                    .insert(key, Wait::Armed(cx.waker().clone()));
                this.key = Some(key);
                Poll::Pending
            }
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl Drop for WaitSignals {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            // The kernel may still deliver the packet; nobody will wake.
            let wait = REACTOR.lock().waits.remove(&key);
            drop(wait);
        }
    }
}

/// Waits until the monotonic clock reaches `deadline_ns`.
pub fn sleep_until(deadline_ns: u64) -> Sleep {
    Sleep {
        deadline: deadline_ns,
        key: None,
    }
}

/// Waits `ns` nanoseconds from now.
pub fn sleep(ns: u64) -> Sleep {
    sleep_until(syscall::clock_ns().saturating_add(ns))
}

/// The future of [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: u64,
    /// The key of its timer entry, once it has one.
    key: Option<u64>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut reactor = REACTOR.lock();
        if syscall::clock_ns() >= this.deadline {
            if let Some(key) = this.key.take() {
                reactor.timers.remove(&(this.deadline, key));
            }
            return Poll::Ready(());
        }
        let key = match this.key {
            Some(key) => key,
            None => {
                let key = reactor.new_key();
                this.key = Some(key);
                key
            }
        };
        // Insert again: the entry is gone once the timer fired.
        let old = reactor
            .timers
            .insert((this.deadline, key), cx.waker().clone());
        drop(reactor);
        drop(old);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let timer = REACTOR.lock().timers.remove(&(self.deadline, key));
            drop(timer);
        }
    }
}

/// Runs `future` until it completes or the clock reaches `deadline_ns`,
/// whichever comes first ([`Error::TimedOut`]; `future` is dropped).
pub async fn timeout_at<F: Future>(deadline_ns: u64, future: F) -> Result<F::Output, Error> {
    let mut future = pin!(future);
    let mut timer = sleep_until(deadline_ns);
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        Pin::new(&mut timer).poll(cx).map(|()| Err(Error::TimedOut))
    })
    .await
}

/// Futures run together inside one task: each is polled whenever the task
/// is woken, and the outputs come out in the order they finish.
///
/// Unlike [`spawn`], the futures need be neither `Send` nor `'static`: they
/// may borrow from the task, such as the state a server keeps in a
/// `RefCell`. Every future is polled on every wake of the task, so this
/// suits tens of futures, not thousands.
pub struct FutureSet<'a, T> {
    futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>,
    /// Outputs of futures that finished, not yet returned.
    done: VecDeque<T>,
}

impl<'a, T> FutureSet<'a, T> {
    /// An empty set.
    pub const fn new() -> Self {
        FutureSet {
            futures: Vec::new(),
            done: VecDeque::new(),
        }
    }

    /// Adds `future`; it is first polled at the next [`FutureSet::poll_next`].
    pub fn push(&mut self, future: impl Future<Output = T> + 'a) {
        self.futures.push(Box::pin(future));
    }

    /// How many futures have not finished, or finished with their output
    /// not yet returned.
    pub fn len(&self) -> usize {
        self.futures.len() + self.done.len()
    }

    /// Whether [`FutureSet::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The output of a finished future, polling every unfinished one if
    /// none is at hand; `Ready(None)` when the set is empty.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.done.is_empty() {
            let mut i = 0;
            while i < self.futures.len() {
                match self.futures[i].as_mut().poll(cx) {
                    Poll::Ready(output) => {
                        self.done.push_back(output);
                        drop(self.futures.swap_remove(i));
                    }
                    Poll::Pending => i += 1,
                }
            }
        }
        match self.done.pop_front() {
            Some(output) => Poll::Ready(Some(output)),
            None if self.futures.is_empty() => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    /// Waits for the next future to finish and returns its output; `None`
    /// when the set is empty.
    pub async fn next(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_next(cx)).await
    }
}

impl<T> Default for FutureSet<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs every future concurrently in this task and returns their outputs in
/// the order of `futures`.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = FutureSet::new();
    let mut outputs = Vec::new();
    for (index, future) in futures.into_iter().enumerate() {
        set.push(async move { (index, future.await) });
        outputs.push(None);
    }
    while let Some((index, output)) = set.next().await {
        if let Some(slot) = outputs.get_mut(index) {
            *slot = Some(output);
        }
    }
    outputs.into_iter().flatten().collect()
}
