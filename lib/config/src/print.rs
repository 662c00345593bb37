//! The printer: a [`System`] in the canonical form (every setting written
//! out, four-space indentation), which parses back to an equal system.

use alloc::string::String;
use core::fmt::{self, Display, Formatter, Write};

use crate::syntax::is_bare;
use crate::{Child, Component, Group, System};

/// `text` as a word of the format: bare if it can be, otherwise in quotes
/// with `\\ \" \n \t \r` escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_word(&mut out, text);
    out
}

fn write_word(out: &mut impl Write, text: &str) -> fmt::Result {
    if !text.is_empty() && text.chars().all(is_bare) {
        return out.write_str(text);
    }
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '"' => out.write_str("\\\"")?,
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            '\r' => out.write_str("\\r")?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// A word, quoted if need be.
struct W<'a>(&'a str);

impl Display for W<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_word(f, self.0)
    }
}

const INDENT: &str = "    ";

fn indent(f: &mut Formatter<'_>, depth: usize) -> fmt::Result {
    for _ in 0..depth {
        f.write_str(INDENT)?;
    }
    Ok(())
}

fn group(f: &mut Formatter<'_>, g: &Group, depth: usize) -> fmt::Result {
    indent(f, depth)?;
    writeln!(f, "group {} {{", W(&g.name))?;
    indent(f, depth + 1)?;
    writeln!(f, "strategy {}", g.strategy)?;
    indent(f, depth + 1)?;
    writeln!(
        f,
        "intensity {} per {}s",
        g.intensity.restarts, g.intensity.seconds
    )?;
    for child in &g.children {
        writeln!(f)?;
        match child {
            Child::Component(c) => component(f, c, depth + 1)?,
            Child::Group(g) => group(f, g, depth + 1)?,
        }
    }
    indent(f, depth)?;
    writeln!(f, "}}")
}

fn component(f: &mut Formatter<'_>, c: &Component, depth: usize) -> fmt::Result {
    indent(f, depth)?;
    writeln!(f, "component {} {{", W(&c.name))?;
    let inner = depth + 1;
    indent(f, inner)?;
    writeln!(f, "program {}", W(&c.program))?;
    if !c.args.is_empty() {
        indent(f, inner)?;
        f.write_str("args")?;
        for arg in &c.args {
            write!(f, " {}", W(arg))?;
        }
        writeln!(f)?;
    }
    indent(f, inner)?;
    writeln!(f, "priority {}", c.priority)?;
    indent(f, inner)?;
    writeln!(f, "memory_pages {}", c.memory_pages)?;
    indent(f, inner)?;
    writeln!(f, "handle_quota {}", c.handle_quota)?;
    if !c.provides.is_empty() {
        indent(f, inner)?;
        f.write_str("provides")?;
        for service in &c.provides {
            write!(f, " {}", W(&service.name))?;
        }
        writeln!(f)?;
    }
    for route in &c.uses {
        indent(f, inner)?;
        writeln!(f, "uses {} from {}", W(&route.service), W(&route.from))?;
    }
    if c.persistent {
        indent(f, inner)?;
        writeln!(f, "persistent")?;
    }
    indent(f, inner)?;
    writeln!(f, "restart {}", c.restart)?;
    indent(f, depth)?;
    writeln!(f, "}}")
}

impl Display for System {
    /// The canonical text of the system.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(ms) = self.checkpoint_period_ms {
            writeln!(f, "checkpoint_period_ms {ms}")?;
            writeln!(f)?;
        }
        group(f, &self.root, 0)
    }
}

impl Display for Group {
    /// The group as it would appear at the top level.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        group(f, self, 0)
    }
}

impl Display for Component {
    /// The component as it would appear at the top level.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        component(f, self, 0)
    }
}
