//! Helpers shared by the configuration's tests: parse a text that must be
//! valid or must be refused, and find a component by name.
#![allow(dead_code)]

use abide_config::{parse, Component, ConfigError, System};

/// The system `cargo run` boots.
pub const DEFAULT: &str = include_str!("../../../../system/default.conf");

/// `text` parsed; the errors printed if it is refused.
pub fn ok(text: &str) -> System {
    match parse(text) {
        Ok(system) => system,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("unexpected errors:\n{}\nin:\n{text}", errors.join("\n"));
        }
    }
}

/// The errors `text` is refused with; a panic if it parses.
pub fn errors(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok(system) => panic!("expected errors, parsed:\n{system}\nfrom:\n{text}"),
        Err(errors) => errors,
    }
}

/// The component `name` of `system`.
pub fn component<'s>(system: &'s System, name: &str) -> &'s Component {
    system
        .component(name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

/// A file of one root group holding `body`, and the line `body` starts on.
pub fn in_root(body: &str) -> String {
    format!("group root {{\n{body}\n}}\n")
}
