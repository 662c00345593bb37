//! The system configuration: what runs, under which supervisor, with which
//! resources and which capabilities.
//!
//! One human-written text file (`system/default.conf`) describes the whole
//! system as a tree of supervision groups whose leaves are components. The
//! host tool checks it when it builds the image, and `init` parses it again
//! when it applies it. The format is described in `docs/config.md`; in short:
//!
//! ```text
//! checkpoint_period_ms 1000          # optional
//!
//! group root {
//!     strategy one_for_one
//!     intensity 5 per 10s
//!
//!     component log {
//!         provides log
//!     }
//!     component shell {
//!         args --prompt "abide> "
//!         uses log from log
//!     }
//! }
//! ```
//!
//! - [`parse`] turns text into a checked [`System`], or returns every
//!   [`ConfigError`] found, each with a line and column (1-based; the column
//!   counts characters).
//! - [`System::validate`] checks a [`System`] built in code by the same
//!   rules.
//! - `Display` on [`System`] prints it back in the canonical form, which
//!   parses to an equal system.
//!
//! Positions ([`Pos`]) are kept in the model so that checks made after
//! parsing can point into the file; they are not part of a configuration's
//! meaning, so the model's `==` ignores them.
//!
//! The crate is `no_std` (it needs `alloc`), has no `unsafe`, and is
//! unit- and property-tested on the host.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod interpret;
mod print;
mod syntax;
mod validate;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use print::quote;

/// Highest component priority (0 is the lowest; the scheduler has 8 levels).
pub const MAX_PRIORITY: u8 = 7;
/// Largest memory quota a component may be given, in 4 KiB pages (16 TiB).
pub const MAX_MEMORY_PAGES: u64 = 1 << 32;
/// Largest handle quota a component may be given.
pub const MAX_HANDLE_QUOTA: u32 = 1 << 20;
/// Most restarts an intensity may allow.
pub const MAX_INTENSITY_RESTARTS: u32 = 1000;
/// Longest intensity window, in seconds (one day).
pub const MAX_INTENSITY_SECONDS: u32 = 86_400;
/// Longest checkpoint period, in milliseconds (one hour).
pub const MAX_CHECKPOINT_PERIOD_MS: u64 = 3_600_000;
/// Deepest nesting of groups: the root group is level 1.
pub const MAX_DEPTH: usize = 32;

/// Defaults for everything a file may leave out.
pub mod defaults {
    use super::{Intensity, RestartType, Strategy};

    /// A component's priority: the middle of the scheduler's 0..=7.
    pub const PRIORITY: u8 = 4;
    /// A component's memory quota in pages (4 MiB).
    pub const MEMORY_PAGES: u64 = 1024;
    /// A component's handle quota.
    pub const HANDLE_QUOTA: u32 = 256;
    /// A component is not persistent unless it says so.
    pub const PERSISTENT: bool = false;
    /// A component is restarted whenever it ends.
    pub const RESTART: RestartType = RestartType::Permanent;
    /// A group restarts only the child that ended.
    pub const STRATEGY: Strategy = Strategy::OneForOne;
    /// A group tolerates 3 restarts in 5 seconds.
    pub const INTENSITY: Intensity = Intensity {
        restarts: 3,
        seconds: 5,
    };
}

/// Where something is in the configuration text: 1-based line and column
/// (the column counts characters, a tab is one). `0:0` means unknown (the
/// item was built in code).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub column: u32,
}

impl Pos {
    /// The position `line:column`.
    pub const fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    /// Whether this position is known.
    pub const fn is_known(self) -> bool {
        self.line != 0
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// What is wrong with a configuration, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Line, from 1 (0 if the problem has no place in a file).
    pub line: u32,
    /// Column, from 1, in characters (0 if unknown).
    pub column: u32,
    /// What is wrong, as a sentence fragment without a final period.
    pub message: String,
}

impl ConfigError {
    /// An error at `at`.
    pub fn new(at: Pos, message: impl Into<String>) -> Self {
        ConfigError {
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }

    /// Where the error is.
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.column)
    }

    /// The error as a compiler would print it for `file`:
    /// `system/default.conf:12:5: message`.
    pub fn in_file<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        InFile { error: self, file }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos().is_known() {
            write!(f, "{}: {}", self.pos(), self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

struct InFile<'a> {
    error: &'a ConfigError,
    file: &'a str,
}

impl fmt::Display for InFile<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.error;
        if e.pos().is_known() {
            write!(f, "{}:{}:{}: {}", self.file, e.line, e.column, e.message)
        } else {
            write!(f, "{}: {}", self.file, e.message)
        }
    }
}

/// The name routes use for `init` itself (`uses system from init`); no
/// component may take it.
pub const INIT: &str = "init";

/// What `init` provides itself, with what a route to it grants: its own
/// `system` service, and devices it makes from the hardware resource.
pub const INIT_SERVICES: &[(&str, &str)] = &[
    (
        "system",
        "the system's state and controls (ps, tree, kill, config, poweroff)",
    ),
    (
        "hardware",
        "the whole hardware resource: every IRQ, I/O port and device memory",
    ),
    (
        "com1",
        "the first serial port: I/O ports 0x3f8..0x3ff and IRQ 4",
    ),
    (
        "ps2",
        "the PS/2 controller: I/O ports 0x60 and 0x64 and IRQ 1",
    ),
    (
        "vga-text",
        "the VGA text buffer at 0xb8000 (4 KiB) and its CRT ports 0x3d4..0x3d5",
    ),
    (
        "pci-config",
        "PCI configuration space: I/O ports 0xcf8..0xcff",
    ),
    (
        "checkpoint",
        "checkpoints on demand (snapshot, sync): the hardware resource with WRITE only",
    ),
    (
        "kernel-log",
        "the kernel's log, every process's debug output in it (kernel_log_read): the hardware resource with READ only",
    ),
    (
        "spawn",
        "starting processes (process_spawn): the hardware resource with SPAWN only",
    ),
];

/// What a route to `service` from `init` grants, if init provides it.
pub fn init_service(service: &str) -> Option<&'static str> {
    INIT_SERVICES
        .iter()
        .find(|(name, _)| *name == service)
        .map(|(_, grants)| *grants)
}

/// Parses and checks a configuration.
///
/// Returns every error found, sorted by position. Syntax and per-setting
/// errors are all reported; the checks that relate items to each other
/// (unique names, routes, providers) run only when there are none, so a typo
/// does not also produce a cascade of errors about what it broke.
///
/// ```
/// let text = "group root {\n    component log { provides log }\n}\n";
/// let system = abide_config::parse(text).unwrap();
/// assert_eq!(system.provider_of("log").unwrap().program, "log");
///
/// let errors = abide_config::parse("group root {\n    component log { restart sometimes }\n}\n")
///     .unwrap_err();
/// assert_eq!(
///     errors[0].to_string(),
///     "line 2, column 29: unknown restart type `sometimes` (expected permanent, transient or temporary)"
/// );
/// ```
pub fn parse(text: &str) -> Result<System, Vec<ConfigError>> {
    // A byte order mark some editors write is not part of the text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let nodes = syntax::parse(text, &mut errors);
    let system = interpret::system(&nodes, &mut errors);
    if errors.is_empty() {
        if let Some(system) = system {
            return match system.validate() {
                Ok(()) => Ok(system),
                Err(errors) => Err(errors),
            };
        }
    }
    errors.sort_by_key(ConfigError::pos);
    Err(errors)
}

/// The whole system: a tree of groups whose leaves are components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct System {
    /// How often the system is checkpointed, in milliseconds; `None` leaves
    /// it to the system (1 s).
    pub checkpoint_period_ms: Option<u64>,
    /// The root group: `init` supervises it; when it fails, the system
    /// restarts.
    pub root: Group,
}

impl System {
    /// Checks the system by the rules [`parse`] applies (see
    /// `docs/config.md`); errors are sorted by position.
    pub fn validate(&self) -> Result<(), Vec<ConfigError>> {
        let errors = validate::system(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Every component, in the order the file lists them (depth first).
    pub fn components(&self) -> Vec<&Component> {
        let mut out = Vec::new();
        let mut stack: Vec<core::slice::Iter<'_, Child>> = alloc::vec![self.root.children.iter()];
        while let Some(top) = stack.last_mut() {
            match top.next() {
                Some(Child::Component(c)) => out.push(c),
                Some(Child::Group(g)) => stack.push(g.children.iter()),
                None => {
                    stack.pop();
                }
            }
        }
        out
    }

    /// The component named `name`.
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components().into_iter().find(|c| c.name == name)
    }

    /// The component that provides `service`.
    pub fn provider_of(&self, service: &str) -> Option<&Component> {
        self.components()
            .into_iter()
            .find(|c| c.provides.iter().any(|s| s.name == service))
    }
}

/// A supervision group: children started in order, restarted by a strategy
/// within an intensity.
#[derive(Clone, Debug, Eq)]
pub struct Group {
    /// Unique among all groups and components.
    pub name: String,
    /// Which children restart when one ends.
    pub strategy: Strategy,
    /// How many restarts the group tolerates before it fails itself.
    pub intensity: Intensity,
    /// Components and groups, in start order (stopped in reverse).
    pub children: Vec<Child>,
    /// Where the group's name is.
    pub at: Pos,
}

impl PartialEq for Group {
    fn eq(&self, other: &Self) -> bool {
        let Group {
            name,
            strategy,
            intensity,
            children,
            at: _,
        } = self;
        *name == other.name
            && *strategy == other.strategy
            && *intensity == other.intensity
            && *children == other.children
    }
}

/// What a group restarts when a child ends and must be restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Only that child.
    OneForOne,
    /// Every child: all are stopped (in reverse order) and started again.
    OneForAll,
    /// That child and the children started after it.
    RestForOne,
}

impl Strategy {
    /// Every strategy, in the order the documentation lists them.
    pub const ALL: [Strategy; 3] = [
        Strategy::OneForOne,
        Strategy::OneForAll,
        Strategy::RestForOne,
    ];

    /// The word the file uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Strategy::OneForOne => "one_for_one",
            Strategy::OneForAll => "one_for_all",
            Strategy::RestForOne => "rest_for_one",
        }
    }

    /// The strategy a word names.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// At most `restarts` restarts within `seconds` seconds; one more and the
/// group stops its children and fails, and its parent group decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// Restarts tolerated in the window (0: the first failure fails the group).
    pub restarts: u32,
    /// The window, in seconds (at least 1).
    pub seconds: u32,
}

/// A group's child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Child {
    /// A program to run.
    Component(Component),
    /// A nested group.
    Group(Group),
}

impl Child {
    /// The child's name.
    pub fn name(&self) -> &str {
        match self {
            Child::Component(c) => &c.name,
            Child::Group(g) => &g.name,
        }
    }

    /// Where the child's name is.
    pub fn at(&self) -> Pos {
        match self {
            Child::Component(c) => c.at,
            Child::Group(g) => g.at,
        }
    }
}

/// A program the system runs, with what it may use and what it offers.
#[derive(Clone, Debug, Eq)]
pub struct Component {
    /// Unique among all groups and components.
    pub name: String,
    /// The program in the image's bundle (default: the component's name).
    pub program: String,
    /// Arguments passed to the program.
    pub args: Vec<String>,
    /// Scheduling priority, 0 (lowest) ..= [`MAX_PRIORITY`].
    pub priority: u8,
    /// Memory quota in 4 KiB pages.
    pub memory_pages: u64,
    /// Most handles the component's table may hold.
    pub handle_quota: u32,
    /// Services the component serves; each service has one provider.
    pub provides: Vec<ServiceName>,
    /// Services the component uses, each with the component it comes from:
    /// the only capabilities the component is given.
    pub uses: Vec<Route>,
    /// Whether the component's state is checkpointed and restored after a
    /// power loss (otherwise it starts afresh).
    pub persistent: bool,
    /// When the component is restarted after it ends.
    pub restart: RestartType,
    /// Where the component's name is.
    pub at: Pos,
}

impl Component {
    /// A component named `name` with every setting at its default.
    pub fn new(name: &str) -> Self {
        Component {
            name: name.into(),
            program: name.into(),
            args: Vec::new(),
            priority: defaults::PRIORITY,
            memory_pages: defaults::MEMORY_PAGES,
            handle_quota: defaults::HANDLE_QUOTA,
            provides: Vec::new(),
            uses: Vec::new(),
            persistent: defaults::PERSISTENT,
            restart: defaults::RESTART,
            at: Pos::default(),
        }
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Self) -> bool {
        let Component {
            name,
            program,
            args,
            priority,
            memory_pages,
            handle_quota,
            provides,
            uses,
            persistent,
            restart,
            at: _,
        } = self;
        *name == other.name
            && *program == other.program
            && *args == other.args
            && *priority == other.priority
            && *memory_pages == other.memory_pages
            && *handle_quota == other.handle_quota
            && *provides == other.provides
            && *uses == other.uses
            && *persistent == other.persistent
            && *restart == other.restart
    }
}

/// The name of a service, where it is provided.
#[derive(Clone, Debug, Eq)]
pub struct ServiceName {
    /// The service's name.
    pub name: String,
    /// Where the name is.
    pub at: Pos,
}

impl ServiceName {
    /// The service `name`, at no position.
    pub fn new(name: &str) -> Self {
        ServiceName {
            name: name.into(),
            at: Pos::default(),
        }
    }
}

impl PartialEq for ServiceName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A service a component uses and the component that provides it.
#[derive(Clone, Debug, Eq)]
pub struct Route {
    /// The service.
    pub service: String,
    /// The component providing it.
    pub from: String,
    /// Where the service's name is in the `uses` line.
    pub at: Pos,
    /// Where the provider's name is in the `uses` line.
    pub from_at: Pos,
}

impl Route {
    /// The route `service from from`, at no position.
    pub fn new(service: &str, from: &str) -> Self {
        Route {
            service: service.into(),
            from: from.into(),
            at: Pos::default(),
            from_at: Pos::default(),
        }
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.service == other.service && self.from == other.from
    }
}

/// When a component that ended is restarted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RestartType {
    /// Always.
    Permanent,
    /// Only when it ended abnormally (a fault, or a non-zero exit status).
    Transient,
    /// Never.
    Temporary,
}

impl RestartType {
    /// Every restart type, in the order the documentation lists them.
    pub const ALL: [RestartType; 3] = [
        RestartType::Permanent,
        RestartType::Transient,
        RestartType::Temporary,
    ];

    /// The word the file uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            RestartType::Permanent => "permanent",
            RestartType::Transient => "transient",
            RestartType::Temporary => "temporary",
        }
    }

    /// The restart type a word names.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == word)
    }
}

impl fmt::Display for RestartType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
