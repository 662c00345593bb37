//! Abide's typed interfaces: each is declared once here with
//! [`abide_ipc::interface!`], which generates the client's request encoding
//! and reply decoding and the server's dispatch. A client and a server that
//! both depend on this crate agree on the messages by construction.
//!
//! Records that cross an interface (like [`Entry`]) are plain structs with
//! `serde` derives: data between programs is structured, never text to parse.
//!
//! The crate is `no_std` (it needs `alloc`) and unit-tested on the host; the
//! transport (channels, the async client and server loop) is in `abide-rt`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

pub use abide_records::Table;

pub mod component;

/// One key of a [`KeyValue`] store, as `list` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The length of its value in bytes.
    pub len: u64,
}

abide_ipc::interface! {
    /// A key-value store: byte values under non-empty text keys.
    pub interface KeyValue {
        /// The value stored under `key`, if any.
        1 => fn get(key: String) -> Option<Vec<u8>>;
        /// Stores `value` under `key`, replacing what was there.
        2 => fn set(key: String, value: Vec<u8>) -> ();
        /// Every key with the size of its value, in key order.
        3 => fn list() -> Vec<Entry>;
        /// Removes `key` and its value; whether it was there.
        4 => fn del(key: String) -> bool;
    }
}

abide_ipc::interface! {
    /// A counter that counts on its own: the persistent demo
    /// (`user/services/counter`) adds one every 10 ms, in ordinary memory,
    /// so the count goes on where it was after the system is restored.
    pub interface Counter {
        /// The count now.
        1 => fn get() -> u64;
    }
}

abide_ipc::interface! {
    /// The smallest useful service, for tests and examples.
    pub interface Echo {
        /// Returns `text` unchanged.
        1 => fn echo(text: String) -> String;
        /// Returns `a + b`; an overflow is an error.
        2 => fn add(a: u64, b: u64) -> u64;
    }
}

abide_ipc::interface! {
    /// A text console: the serial driver serves it.
    pub interface Console {
        /// Writes `bytes` (the console turns `\n` into `\r\n`).
        1 => fn write(bytes: Vec<u8>) -> ();
        /// Up to `max` received bytes, waiting until there is at least one.
        2 => fn read(max: u32) -> Vec<u8>;
    }
}

/// Log levels, most severe first.
pub mod level {
    /// Something failed.
    pub const ERROR: u8 = 1;
    /// Something is wrong but went on.
    pub const WARN: u8 = 2;
    /// What happened.
    pub const INFO: u8 = 3;
    /// Details for whoever debugs.
    pub const DEBUG: u8 = 4;

    /// The level's name (`info`); `?` for an unknown one.
    pub fn name(level: u8) -> &'static str {
        match level {
            ERROR => "error",
            WARN => "warn",
            INFO => "info",
            DEBUG => "debug",
            _ => "?",
        }
    }

    /// The level called `name`.
    pub fn parse(name: &str) -> Option<u8> {
        [ERROR, WARN, INFO, DEBUG]
            .into_iter()
            .find(|level| self::name(*level) == name)
    }
}

/// Which log entries a [`Log::query`] returns; `None` fields match all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFilter {
    /// Only entries from this component.
    pub component: Option<String>,
    /// Only entries at this level or more severe.
    pub level: Option<u8>,
    /// Only entries at or after this time (ns since boot).
    pub since_ns: Option<u64>,
    /// Only entries whose text contains this.
    pub text: Option<String>,
    /// At most this many, the newest.
    pub last: Option<u32>,
    /// Only entries numbered above this (to page through the log: a reply
    /// holds at most [`LOG_QUERY_MAX_ROWS`] entries).
    pub after_seq: Option<u64>,
}

/// The most entries one [`Log::query`] reply holds (the oldest that match,
/// or with `last` the newest); ask again with `after_seq` for more.
pub const LOG_QUERY_MAX_ROWS: usize = 256;

abide_ipc::interface! {
    /// The log service: a ring of entries, written by every component and
    /// queried by the shell. The writer's component name comes from the
    /// route the entry arrived on, not from the entry.
    pub interface Log {
        /// Appends an entry; returns its sequence number. Exactly once per
        /// request, also when retried after `Restarted`.
        1 => fn write(level: u8, text: String) -> u64;
        /// The entries `filter` selects, oldest first (columns `seq`,
        /// `time`, `component`, `level`, `text`).
        2 => fn query(filter: LogFilter) -> Table;
    }
}

abide_ipc::interface! {
    /// What `init` offers the shell: the system's state and its controls.
    /// Every listing is a [`Table`] the shell can filter and sort.
    pub interface System {
        /// One row per component: `id`, `name`, `state`, `mem`, `handles`,
        /// `restarts`, `cpu`.
        1 => fn ps() -> Table;
        /// The supervision tree: `node` (indented), `kind`, `state`,
        /// `strategy`, `restarts`.
        2 => fn tree() -> Table;
        /// The handles of process `id`: `handle`, `kind`, `rights`, `badge`,
        /// `object`.
        3 => fn caps(id: u64) -> Table;
        /// Ends process `id` (it is restarted as its policy says).
        4 => fn kill(id: u64) -> String;
        /// Makes component `name` fault (fault injection).
        5 => fn crash(name: String) -> String;
        /// Stops and starts component `name`.
        6 => fn restart(name: String) -> String;
        /// The configuration in force, as text.
        7 => fn config_show() -> String;
        /// Replaces the configuration with the image's `system/<name>.conf`;
        /// one row per change: `component`, `change`.
        8 => fn config_apply(name: String) -> Table;
        /// Memory: `what`, `used`, `total`.
        9 => fn mem() -> Table;
        /// Time since boot, in nanoseconds.
        10 => fn uptime() -> u64;
        /// Stops every component and powers the machine off.
        11 => fn poweroff() -> ();
        /// The component names (for completion).
        12 => fn names() -> Vec<String>;
    }
}

abide_ipc::interface! {
    /// The PCI bus service: it enumerated the bus at start and hands each
    /// device's capabilities to the one component that claims it.
    pub interface Pci {
        /// One row per function: `address` (`bb:dd.f`), `vendor`, `device`,
        /// `class` (hexadecimal), `name`, `bars`, `irq`, `claimed` (the
        /// claimant's component name, or `-`).
        1 => fn list() -> Table;
        /// Claims the function at `address` (`bb:dd.f`). The reply message
        /// carries handles: the one [`pci::Claim`] describes, in its order.
        /// Refused while another claim holds the function; see
        /// [`pci::Grant::Lease`] for how long a claim lasts.
        2 => fn claim(address: String) -> pci::Claim;
        /// Ends the caller's claim on `address`; the handles it gave are
        /// revoked.
        3 => fn release(address: String) -> String;
    }
}

/// What the [`Pci`] bus service describes and hands out, and the rules both
/// sides follow: address notation, the listing's rows, which capabilities a
/// claim of a function grants, and how the reply's handles pair with what
/// they are.
pub mod pci {
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

    use abide_records::{Record, Value};
    use serde::{Deserialize, Serialize};

    /// Device memory is granted in whole pages of this many bytes.
    pub const PAGE_BYTES: u64 = 4096;

    /// A decoded, implemented base address register.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Bar {
        /// I/O ports `port..port + size`.
        Io {
            /// The register's number (0..6).
            index: u8,
            /// The first port.
            port: u32,
            /// How many ports.
            size: u32,
        },
        /// Device memory `address..address + size`.
        Memory {
            /// The register's number (0..6).
            index: u8,
            /// The physical address the firmware assigned.
            address: u64,
            /// The window's size in bytes.
            size: u64,
            /// Reads have no side effects.
            prefetchable: bool,
        },
    }

    impl Bar {
        /// The register's number.
        pub fn index(&self) -> u8 {
            match *self {
                Bar::Io { index, .. } | Bar::Memory { index, .. } => index,
            }
        }
    }

    /// A PCI function as the bus service found it.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Function {
        /// Bus number.
        pub bus: u8,
        /// Device number on the bus (below 32).
        pub device: u8,
        /// Function number (below 8).
        pub function: u8,
        /// Vendor ID.
        pub vendor_id: u16,
        /// Device ID.
        pub device_id: u16,
        /// Base class.
        pub class: u8,
        /// Subclass.
        pub subclass: u8,
        /// Programming interface.
        pub prog_if: u8,
        /// The interrupt line the firmware routed (0xFF: none).
        pub interrupt_line: u8,
        /// The interrupt pin, 1..=4 for INTA#..INTD#, 0 for none.
        pub interrupt_pin: u8,
        /// The implemented base address registers.
        pub bars: Vec<Bar>,
        /// The kernel drives it (the persistent store's disk): its
        /// configuration refuses writes, so its BARs are not sized, and no
        /// component may claim it.
        pub kernel: bool,
    }

    impl Function {
        /// Its address, `bb:dd.f`.
        pub fn address(&self) -> String {
            format_address(self.bus, self.device, self.function)
        }

        /// The ISA IRQ its interrupt pin is routed to, if it uses one: a
        /// pin, and a line the firmware set to an ISA IRQ other than the
        /// timer's (1..=15).
        pub fn irq(&self) -> Option<u8> {
            (self.interrupt_pin != 0 && (1..=15).contains(&self.interrupt_line))
                .then_some(self.interrupt_line)
        }
    }

    /// What one handle of a [`Claim`] reply is.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    pub enum Grant {
        /// A channel endpoint, always the first handle. The claim lasts
        /// while the claimant holds it: closing it (or ending: a restarted
        /// driver claims its device again like the first time) or calling
        /// `release` ends the claim, and the bus service then revokes every
        /// other handle it granted for the claim (duplicates included).
        Lease,
        /// An I/O ports object over `port..port + count`, BAR `bar`.
        Io {
            /// The BAR.
            bar: u8,
            /// The first port.
            port: u16,
            /// How many ports.
            count: u16,
        },
        /// A memory object over device memory: the `len` bytes from `base`,
        /// the whole pages that hold BAR `bar` (`address..address + size`).
        /// The BAR starts `address - base` bytes into the object.
        Memory {
            /// The BAR.
            bar: u8,
            /// The BAR's physical address.
            address: u64,
            /// The BAR's size.
            size: u64,
            /// The object's first physical address (page-aligned).
            base: u64,
            /// The object's length (whole pages).
            len: u64,
            /// Reads have no side effects.
            prefetchable: bool,
        },
        /// An interrupt object for ISA IRQ `irq`, the line the firmware
        /// routed the function's pin to.
        Interrupt {
            /// The IRQ.
            irq: u8,
        },
    }

    impl Grant {
        /// The kind of kernel object the handle names, as `caps` shows it.
        pub fn kind(&self) -> &'static str {
            match self {
                Grant::Lease => "channel",
                Grant::Io { .. } => "ioports",
                Grant::Memory { .. } => "memory",
                Grant::Interrupt { .. } => "interrupt",
            }
        }

        /// A one-line description.
        pub fn describe(&self) -> String {
            match *self {
                Grant::Lease => String::from("lease: the claim lasts while it is held"),
                Grant::Io { bar, port, count } => {
                    let last = u32::from(port) + u32::from(count).max(1) - 1;
                    format!("BAR {bar}: ports {port:#x}..={last:#x}")
                }
                Grant::Memory {
                    bar,
                    address,
                    size,
                    base,
                    len,
                    ..
                } => {
                    let last = address.saturating_add(size.max(1) - 1);
                    let mut text = format!(
                        "BAR {bar}: memory {address:#x}..={last:#x} ({})",
                        short_size(size)
                    );
                    if (base, len) != (address, size) {
                        text.push_str(&format!(", in the pages {base:#x}+{}", short_size(len)));
                    }
                    text
                }
                Grant::Interrupt { irq } => format!("IRQ {irq}"),
            }
        }
    }

    /// The reply to `Pci::claim`. The reply message carries exactly one
    /// handle per entry of `grants`, in the same order ([`Claim::pair`]);
    /// the first is always the [`Grant::Lease`].
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Claim {
        /// The function, `bb:dd.f`.
        pub address: String,
        /// What each handle of the reply is.
        pub grants: Vec<Grant>,
        /// What the function has that the claim does not grant, and why
        /// (a BAR without an address, one sharing a page with another
        /// device's, an IRQ the kernel keeps or another driver owns).
        pub withheld: Vec<String>,
    }

    impl Claim {
        /// Pairs each grant with the handle that came in its place.
        /// `Err` gives the handles back (to close) when their number is not
        /// the number of grants: the reply is not a claim's.
        pub fn pair<H>(&self, handles: Vec<H>) -> Result<Vec<(Grant, H)>, Vec<H>> {
            if handles.len() != self.grants.len() {
                return Err(handles);
            }
            Ok(self.grants.iter().copied().zip(handles).collect())
        }
    }

    /// `bb:dd.f` in hexadecimal, as `lspci` writes it.
    pub fn format_address(bus: u8, device: u8, function: u8) -> String {
        format!("{bus:02x}:{device:02x}.{function:x}")
    }

    /// Reads `bb:dd.f` (hexadecimal; an optional domain `0000:` before it)
    /// into bus, device (below 32) and function (below 8).
    pub fn parse_address(text: &str) -> Result<(u8, u8, u8), String> {
        let bad = || format!("`{text}` is not a PCI address (bus:device.function, like 00:1f.2)");
        let rest = match text.split_once(':') {
            Some((domain, rest)) if rest.contains(':') => {
                if hex(domain, 4).ok_or_else(bad)? != 0 {
                    return Err(format!("`{text}`: only PCI domain 0 exists here"));
                }
                rest
            }
            _ => text,
        };
        let (bus, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (device, function) = rest.split_once('.').ok_or_else(bad)?;
        let bus = hex(bus, 2).ok_or_else(bad)?;
        let device = hex(device, 2).ok_or_else(bad)?;
        let function = hex(function, 1).ok_or_else(bad)?;
        if device >= 32 || function >= 8 {
            return Err(format!("`{text}`: devices are 00..1f and functions 0..7"));
        }
        Ok((bus as u8, device as u8, function as u8))
    }

    /// 1 to `digits` hexadecimal digits.
    fn hex(text: &str, digits: usize) -> Option<u32> {
        if text.is_empty() || text.len() > digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    /// A size in the shortest binary unit that divides it: `16M`, `4K`, `32`.
    pub fn short_size(bytes: u64) -> String {
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
                return format!("{}{unit}", bytes >> shift);
            }
        }
        format!("{bytes}")
    }

    /// The BARs in one line: `io c000/32, mem febd1000/4K`.
    pub fn describe_bars(bars: &[Bar]) -> String {
        let parts: Vec<String> = bars
            .iter()
            .map(|bar| match *bar {
                Bar::Io { port, size, .. } => format!("io {port:x}/{}", short_size(size.into())),
                Bar::Memory {
                    address,
                    size,
                    prefetchable,
                    ..
                } => format!(
                    "mem {address:x}/{}{}",
                    short_size(size),
                    if prefetchable { " pf" } else { "" }
                ),
            })
            .collect();
        if parts.is_empty() {
            String::from("-")
        } else {
            parts.join(", ")
        }
    }

    /// The columns of `Pci::list`, in order.
    pub const LIST_COLUMNS: &[&str] = &[
        "address", "vendor", "device", "class", "name", "bars", "irq", "claimed",
    ];

    /// The `Pci::list` row of `function`, called `name`, claimed by
    /// `holder`.
    pub fn record(function: &Function, name: &str, holder: Option<&str>) -> Record {
        let irq = match function.irq() {
            Some(irq) => Value::Int(i64::from(irq)),
            None => Value::text("-"),
        };
        Record::new()
            .with("address", Value::Text(function.address()))
            .with("vendor", Value::Text(format!("{:04x}", function.vendor_id)))
            .with("device", Value::Text(format!("{:04x}", function.device_id)))
            .with(
                "class",
                Value::Text(format!("{:02x}{:02x}", function.class, function.subclass)),
            )
            .with("name", Value::text(name))
            .with("bars", Value::Text(describe_bars(&function.bars)))
            .with("irq", irq)
            .with(
                "claimed",
                Value::text(
                    holder
                        .or(function.kernel.then_some("kernel"))
                        .unwrap_or("-"),
                ),
            )
    }

    /// What a claim of `function` grants, in handle order, and what it
    /// withholds and why; `others` are the bus's other functions.
    ///
    /// First the [`Grant::Lease`]; then one grant per BAR that has an
    /// address, in BAR order: its ports exactly, or the whole pages that
    /// hold its memory unless another function's memory BAR lies in those
    /// pages (that would grant a part of the other device); then the
    /// function's IRQ ([`Function::irq`]). The kernel may still refuse a
    /// grant (device memory that is RAM, an IRQ it keeps or another driver
    /// owns); the bus service moves those to the withheld list.
    pub fn plan(function: &Function, others: &[Function]) -> (Vec<Grant>, Vec<String>) {
        let mut grants = alloc::vec![Grant::Lease];
        let mut withheld = Vec::new();
        for bar in &function.bars {
            match plan_bar(bar, others) {
                Ok(grant) => grants.push(grant),
                Err(why) => withheld.push(format!("BAR {}: {why}", bar.index())),
            }
        }
        match function.irq() {
            Some(irq) => grants.push(Grant::Interrupt { irq }),
            None if function.interrupt_pin != 0 => withheld.push(format!(
                "interrupt pin {}: no ISA IRQ routed (line {:#04x})",
                function.interrupt_pin, function.interrupt_line
            )),
            None => {}
        }
        (grants, withheld)
    }

    fn plan_bar(bar: &Bar, others: &[Function]) -> Result<Grant, String> {
        match *bar {
            Bar::Io { index, port, size } => {
                if port == 0 {
                    return Err(String::from("no I/O address assigned"));
                }
                let end = port.checked_add(size).filter(|end| *end <= 0x1_0000);
                let (Some(_), Ok(port), Ok(count)) =
                    (end, u16::try_from(port), u16::try_from(size))
                else {
                    return Err(format!("ports {port:#x}+{size:#x} lie beyond 0xffff"));
                };
                Ok(Grant::Io {
                    bar: index,
                    port,
                    count,
                })
            }
            Bar::Memory {
                index,
                address,
                size,
                prefetchable,
            } => {
                if address == 0 {
                    return Err(String::from("no memory address assigned"));
                }
                let (base, end) = pages(address, size)
                    .ok_or_else(|| format!("{address:#x}+{size:#x} overflows"))?;
                for other in others {
                    for theirs in &other.bars {
                        if let Bar::Memory {
                            index: their_index,
                            address: start,
                            size: their_size,
                            ..
                        } = *theirs
                        {
                            let stop = start.saturating_add(their_size);
                            if start != 0 && start < end && base < stop {
                                return Err(format!(
                                    "shares a page with {} BAR {their_index}",
                                    other.address()
                                ));
                            }
                        }
                    }
                }
                Ok(Grant::Memory {
                    bar: index,
                    address,
                    size,
                    base,
                    len: end - base,
                    prefetchable,
                })
            }
        }
    }

    /// The whole pages holding `address..address + size`: their start and end.
    fn pages(address: u64, size: u64) -> Option<(u64, u64)> {
        let base = address - address % PAGE_BYTES;
        let end = address.checked_add(size.max(1))?;
        let end = end.checked_add(PAGE_BYTES - 1)? / PAGE_BYTES * PAGE_BYTES;
        Some((base, end))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use alloc::string::ToString;

        /// q35's AHCI controller: an I/O BAR, a memory BAR, IRQ 10 on pin A.
        fn sata() -> Function {
            function(
                0x1f,
                alloc::vec![
                    Bar::Io {
                        index: 4,
                        port: 0xc060,
                        size: 32
                    },
                    mem(5, 0xfebd_1000, 0x1000),
                ],
                10,
                1,
            )
        }

        fn function(device: u8, bars: Vec<Bar>, line: u8, pin: u8) -> Function {
            Function {
                bus: 0,
                device,
                function: 0,
                vendor_id: 0x8086,
                device_id: 0x2922,
                class: 1,
                subclass: 6,
                prog_if: 1,
                interrupt_line: line,
                interrupt_pin: pin,
                bars,
                kernel: false,
            }
        }

        fn mem(index: u8, address: u64, size: u64) -> Bar {
            Bar::Memory {
                index,
                address,
                size,
                prefetchable: false,
            }
        }

        #[test]
        fn addresses_parse_and_print() {
            assert_eq!(parse_address("00:1f.2"), Ok((0, 0x1f, 2)));
            assert_eq!(parse_address("0:2.0"), Ok((0, 2, 0)));
            assert_eq!(parse_address("0000:ff:1F.7"), Ok((0xff, 0x1f, 7)));
            assert_eq!(format_address(0, 0x1f, 2), "00:1f.2");
            for (bus, device, function) in [(0, 0, 0), (1, 31, 7), (255, 2, 3)] {
                let text = format_address(bus, device, function);
                assert_eq!(parse_address(&text), Ok((bus, device, function)));
            }
        }

        #[test]
        fn bad_addresses_say_what_is_expected() {
            for bad in [
                "",
                "1f.2",
                "00:1f",
                "00:1f.",
                "x0:1f.2",
                "00:1f.2.3",
                "000:1f.2",
                "00:1f.22",
                "00:+1.2",
                "0000:00:00:00.0",
            ] {
                let error = parse_address(bad).unwrap_err();
                assert!(error.contains("is not a PCI address"), "{bad}: {error}");
            }
            assert!(parse_address("00:20.0").unwrap_err().contains("00..1f"));
            assert!(parse_address("00:1f.8").unwrap_err().contains("0..7"));
            assert!(parse_address("0001:00:1f.2")
                .unwrap_err()
                .contains("domain 0"));
        }

        #[test]
        fn irq_needs_a_pin_and_an_isa_line() {
            assert_eq!(function(2, Vec::new(), 11, 1).irq(), Some(11));
            assert_eq!(function(2, Vec::new(), 11, 0).irq(), None);
            assert_eq!(function(2, Vec::new(), 0xff, 1).irq(), None);
            assert_eq!(function(2, Vec::new(), 0, 1).irq(), None);
            assert_eq!(function(2, Vec::new(), 16, 1).irq(), None);
        }

        #[test]
        fn a_claim_grants_the_lease_the_bars_and_the_irq_in_order() {
            let sata = sata();
            let (grants, withheld) = plan(&sata, &[]);
            assert_eq!(
                grants,
                alloc::vec![
                    Grant::Lease,
                    Grant::Io {
                        bar: 4,
                        port: 0xc060,
                        count: 32
                    },
                    Grant::Memory {
                        bar: 5,
                        address: 0xfebd_1000,
                        size: 0x1000,
                        base: 0xfebd_1000,
                        len: 0x1000,
                        prefetchable: false
                    },
                    Grant::Interrupt { irq: 10 },
                ]
            );
            assert!(withheld.is_empty());
            let kinds: Vec<&str> = grants.iter().map(Grant::kind).collect();
            assert_eq!(kinds, ["channel", "ioports", "memory", "interrupt"]);
            assert_eq!(grants[1].describe(), "BAR 4: ports 0xc060..=0xc07f");
            assert_eq!(
                grants[2].describe(),
                "BAR 5: memory 0xfebd1000..=0xfebd1fff (4K)"
            );
        }

        #[test]
        fn small_memory_bars_are_granted_as_whole_pages_unless_shared() {
            let alone = function(3, alloc::vec![mem(0, 0xfebd_2010, 0x20)], 0, 0);
            let (grants, _) = plan(&alone, &[]);
            assert_eq!(
                grants[1].describe(),
                "BAR 0: memory 0xfebd2010..=0xfebd202f (32), in the pages 0xfebd2000+4K"
            );
            assert_eq!(
                grants[1],
                Grant::Memory {
                    bar: 0,
                    address: 0xfebd_2010,
                    size: 0x20,
                    base: 0xfebd_2000,
                    len: 0x1000,
                    prefetchable: false
                }
            );
            let neighbour = function(4, alloc::vec![mem(1, 0xfebd_2800, 0x100)], 0, 0);
            let elsewhere = function(5, alloc::vec![mem(0, 0xfebd_3000, 0x1000)], 0, 0);
            let (grants, withheld) = plan(&alone, &[elsewhere.clone(), neighbour]);
            assert_eq!(grants, alloc::vec![Grant::Lease]);
            assert_eq!(withheld, ["BAR 0: shares a page with 00:04.0 BAR 1"]);
            // A window spanning pages is granted whole.
            let big = function(6, alloc::vec![mem(2, 0xfd00_0000, 16 << 20)], 0, 0);
            let (grants, withheld) = plan(&big, &[elsewhere]);
            assert!(withheld.is_empty());
            assert!(matches!(grants[1], Grant::Memory { len, .. } if len == 16 << 20));
        }

        #[test]
        fn unassigned_or_impossible_bars_are_withheld_with_the_reason() {
            let odd = function(
                7,
                alloc::vec![
                    mem(0, 0, 0x1000),
                    Bar::Io {
                        index: 1,
                        port: 0,
                        size: 8
                    },
                    Bar::Io {
                        index: 2,
                        port: 0xfff8,
                        size: 16
                    },
                    mem(3, u64::MAX - 0xff, 0x1000),
                ],
                0xff,
                2,
            );
            let (grants, withheld) = plan(&odd, &[]);
            assert_eq!(grants, alloc::vec![Grant::Lease]);
            assert_eq!(withheld.len(), 5, "{withheld:?}");
            assert!(withheld[0].starts_with("BAR 0: no memory address"));
            assert!(withheld[1].starts_with("BAR 1: no I/O address"));
            assert!(withheld[2].contains("beyond 0xffff"));
            assert!(withheld[3].contains("overflows"));
            assert!(withheld[4].contains("no ISA IRQ routed (line 0xff)"));
        }

        #[test]
        fn handles_pair_with_grants_or_come_back() {
            let claim = Claim {
                address: "00:1f.2".to_string(),
                grants: alloc::vec![Grant::Lease, Grant::Interrupt { irq: 10 }],
                withheld: Vec::new(),
            };
            assert_eq!(
                claim.pair(alloc::vec![7, 8]),
                Ok(alloc::vec![
                    (Grant::Lease, 7),
                    (Grant::Interrupt { irq: 10 }, 8)
                ])
            );
            assert_eq!(claim.pair(alloc::vec![7]), Err(alloc::vec![7]));
        }

        #[test]
        fn list_rows_have_the_list_columns() {
            let sata = sata();
            let store = Function {
                kernel: true,
                ..function(2, Vec::new(), 0, 0)
            };
            let table = abide_records::Table::from_records(alloc::vec![
                record(&sata, "SATA controller", Some("ahci")),
                record(&function(0, Vec::new(), 0, 0), "Host bridge", None),
                record(&store, "Mass storage", None),
            ])
            .unwrap();
            let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
            assert_eq!(columns, LIST_COLUMNS);
            let text = table.render();
            assert!(
                text.contains("00:1f.0  8086    2922    0106   SATA controller"),
                "{text}"
            );
            assert!(text.contains("io c060/32, mem febd1000/4K"), "{text}");
            assert_eq!(table.get(0, "irq"), Some(&Value::Int(10)));
            assert_eq!(table.get(0, "claimed"), Some(&Value::text("ahci")));
            assert_eq!(table.get(1, "irq"), Some(&Value::text("-")));
            assert_eq!(table.get(1, "bars"), Some(&Value::text("-")));
            assert_eq!(table.get(1, "claimed"), Some(&Value::text("-")));
            assert_eq!(table.get(2, "claimed"), Some(&Value::text("kernel")));
        }

        #[test]
        fn the_interface_carries_a_claim() {
            use abide_ipc::wire;
            let claim = Claim {
                address: "00:02.0".to_string(),
                grants: alloc::vec![Grant::Lease],
                withheld: alloc::vec!["IRQ 11: busy".to_string()],
            };
            let request = super::super::Pci::claim::encode(3, "00:02.0".to_string()).unwrap();
            let (header, payload) = wire::Header::decode(&request).unwrap();
            assert_eq!(
                super::super::Pci::Request::decode_args(header.ordinal, payload),
                Ok(super::super::Pci::Request::claim {
                    address: "00:02.0".to_string()
                })
            );
            let reply = abide_ipc::server::reply(&header, Ok(claim.clone()));
            assert_eq!(
                super::super::Pci::claim::decode_reply(&reply, Some(3)),
                Ok(claim)
            );
            assert_eq!(short_size(16 << 20), "16M");
            assert_eq!(short_size(0x1800), "6K");
            assert_eq!(short_size(24), "24");
        }
    }
}

/// The `restarts` figure of component `name` in a [`System::ps`] table.
pub fn ps_restarts(ps: &Table, name: &str) -> Option<i64> {
    let row = (0..ps.len()).find(|&row| {
        matches!(ps.get(row, "name"), Some(abide_records::Value::Text(text)) if text == name)
    })?;
    match ps.get(row, "restarts") {
        Some(abide_records::Value::Int(count)) => Some(*count),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abide_ipc::wire::{self, Header, Kind};
    use abide_ipc::{CallError, RemoteError};
    use std::collections::BTreeMap;

    /// An in-memory `KeyValue` server.
    #[derive(Default)]
    struct Store(BTreeMap<String, Vec<u8>>);

    impl KeyValue::Server for Store {
        fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, RemoteError> {
            Ok(self.0.get(&key).cloned())
        }

        fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), RemoteError> {
            if key.is_empty() {
                return Err(RemoteError::app("empty key"));
            }
            self.0.insert(key, value);
            Ok(())
        }

        fn list(&mut self) -> Result<Vec<Entry>, RemoteError> {
            Ok(self
                .0
                .iter()
                .map(|(key, value)| Entry {
                    key: key.clone(),
                    len: value.len() as u64,
                })
                .collect())
        }

        fn del(&mut self, key: String) -> Result<bool, RemoteError> {
            Ok(self.0.remove(&key).is_some())
        }
    }

    /// A `Counter` that counts its calls.
    struct Calls(u64);

    impl Counter::Server for Calls {
        fn get(&mut self) -> Result<u64, RemoteError> {
            self.0 += 1;
            Ok(self.0)
        }
    }

    struct Echoer;

    impl Echo::Server for Echoer {
        fn echo(&mut self, text: String) -> Result<String, RemoteError> {
            Ok(text)
        }

        fn add(&mut self, a: u64, b: u64) -> Result<u64, RemoteError> {
            a.checked_add(b).ok_or_else(|| RemoteError::app("overflow"))
        }
    }

    #[test]
    fn ps_restarts_reads_the_row_of_the_component() {
        use abide_records::{Record, Value};
        let row = |name: &str, restarts| {
            Record::new()
                .with("name", Value::text(name))
                .with("restarts", Value::Int(restarts))
        };
        let ps = Table::from_records(vec![row("serial", 3), row("log", 100)]).unwrap();
        assert_eq!(ps_restarts(&ps, "log"), Some(100));
        assert_eq!(ps_restarts(&ps, "serial"), Some(3));
        assert_eq!(ps_restarts(&ps, "shell"), None);
    }

    #[test]
    fn names_and_ordinals_are_stable() {
        assert_eq!(KeyValue::NAME, "KeyValue");
        assert_eq!(KeyValue::ORDINALS, &[1, 2, 3, 4]);
        assert_eq!(Counter::NAME, "Counter");
        assert_eq!(Counter::ORDINALS, &[1]);
        assert_eq!(Echo::NAME, "Echo");
        assert_eq!(Echo::ORDINALS, &[1, 2]);
    }

    #[test]
    fn key_value_round_trips_through_dispatch() {
        let mut store = Store::default();
        let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(1, "a".into()).unwrap());
        assert_eq!(KeyValue::get::decode_reply(&reply, Some(1)), Ok(None));

        let request = KeyValue::set::encode(2, "b".into(), vec![1, 2, 3]).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(KeyValue::set::decode_reply(&reply, Some(2)), Ok(()));
        let request = KeyValue::set::encode(3, "a".into(), vec![]).unwrap();
        KeyValue::dispatch(&mut store, &request);

        let reply = KeyValue::dispatch(&mut store, &KeyValue::get::encode(4, "b".into()).unwrap());
        assert_eq!(
            KeyValue::get::decode_reply(&reply, Some(4)),
            Ok(Some(vec![1, 2, 3]))
        );
        let reply = KeyValue::dispatch(&mut store, &KeyValue::list::encode(5).unwrap());
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(5)),
            Ok(vec![
                Entry {
                    key: "a".into(),
                    len: 0
                },
                Entry {
                    key: "b".into(),
                    len: 3
                },
            ])
        );
    }

    #[test]
    fn key_value_del_says_whether_the_key_was_there() {
        let mut store = Store::default();
        let request = KeyValue::set::encode(1, "a".into(), vec![1]).unwrap();
        KeyValue::dispatch(&mut store, &request);
        for (txid, was_there) in [(2, true), (3, false)] {
            let reply = KeyValue::dispatch(
                &mut store,
                &KeyValue::del::encode(txid, "a".into()).unwrap(),
            );
            assert_eq!(
                KeyValue::del::decode_reply(&reply, Some(txid)),
                Ok(was_there)
            );
        }
        assert!(store.0.is_empty());
    }

    #[test]
    fn counter_round_trips_through_dispatch() {
        let mut counter = Calls(41);
        let reply = Counter::dispatch(&mut counter, &Counter::get::encode(1).unwrap());
        assert_eq!(Counter::get::decode_reply(&reply, Some(1)), Ok(42));
    }

    #[test]
    fn key_value_errors_reach_the_client() {
        let mut store = Store::default();
        let request = KeyValue::set::encode(7, String::new(), vec![1]).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            KeyValue::set::decode_reply(&reply, Some(7)),
            Err(CallError::Remote(RemoteError::app("empty key")))
        );
    }

    #[test]
    fn echo_round_trips_through_dispatch() {
        let mut echo = Echoer;
        let reply = Echo::dispatch(&mut echo, &Echo::echo::encode(1, "hi".into()).unwrap());
        assert_eq!(Echo::echo::decode_reply(&reply, Some(1)), Ok("hi".into()));
        let reply = Echo::dispatch(&mut echo, &Echo::add::encode(2, 40, 2).unwrap());
        assert_eq!(Echo::add::decode_reply(&reply, Some(2)), Ok(42));
        let reply = Echo::dispatch(&mut echo, &Echo::add::encode(3, u64::MAX, 1).unwrap());
        assert_eq!(
            Echo::add::decode_reply(&reply, Some(3)),
            Err(CallError::Remote(RemoteError::app("overflow")))
        );
    }

    #[test]
    fn garbage_gets_a_malformed_reply_with_txid_zero() {
        let mut store = Store::default();
        // Not starting with the magic: the header is unreadable.
        for garbage in [&b""[..], b"\x00", &[0x5a; 64]] {
            let reply = KeyValue::dispatch(&mut store, garbage);
            let (header, _) = Header::decode(&reply).unwrap();
            assert_eq!((header.kind, header.txid), (Kind::ReplyError, 0));
            assert_eq!(
                KeyValue::get::decode_reply(&reply, Some(0)),
                Err(CallError::Remote(RemoteError::Malformed))
            );
        }
        assert!(store.0.is_empty());
    }

    #[test]
    fn a_request_for_one_interface_is_refused_by_another() {
        // `Echo::add(40, 2)` (ordinal 2) sent to a `KeyValue` server, whose
        // ordinal 2 is `set`: the payload [40, 2] reads as a 40-byte key
        // with one byte behind it, which does not decode.
        let mut store = Store::default();
        let reply = KeyValue::dispatch(&mut store, &Echo::add::encode(9, 40, 2).unwrap());
        assert_eq!(
            KeyValue::set::decode_reply(&reply, Some(9)),
            Err(CallError::Remote(RemoteError::Malformed))
        );
        // An ordinal `KeyValue` does not have.
        let request = wire::encode_message(&Header::request(99, 10), &()).unwrap();
        let reply = KeyValue::dispatch(&mut store, &request);
        assert_eq!(
            KeyValue::list::decode_reply(&reply, Some(10)),
            Err(CallError::Remote(RemoteError::UnknownMethod(99)))
        );
    }
}
