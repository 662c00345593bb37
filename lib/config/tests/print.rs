//! Printing a configuration: the canonical form parses back to an equal
//! system, words are quoted when they must be, and equality ignores
//! positions.

mod support;

use abide_config::*;
use support::{ok, DEFAULT};

#[test]
fn the_default_system_prints_in_canonical_form_and_parses_back() {
    let system = ok(DEFAULT);
    let printed = system.to_string();
    let again = ok(&printed);
    assert_eq!(again, system);
    assert_eq!(again.to_string(), printed);
    assert!(printed.starts_with("checkpoint_period_ms 1000\n\ngroup root {\n    strategy one_for_one\n    intensity 5 per 10s\n\n    group drivers {\n        strategy one_for_one\n"));
}

#[test]
fn the_printer_quotes_what_must_be_quoted() {
    assert_eq!(quote("plain-word=1"), "plain-word=1");
    assert_eq!(quote(""), "\"\"");
    assert_eq!(quote("two words"), "\"two words\"");
    assert_eq!(quote("a\"b\\c\nd\te\rf"), "\"a\\\"b\\\\c\\nd\\te\\rf\"");
    for special in ["{", "}", ";", "#", "a\u{a0}b"] {
        assert!(quote(special).starts_with('"'), "{special:?}");
    }
    assert_eq!(quote("é"), "é");
}

#[test]
fn equality_ignores_positions() {
    let a = ok("group r { component a {} }");
    let b = ok("\n\n   group r {\n component a {}\n}");
    assert_ne!(a.root.at, b.root.at);
    assert_eq!(a, b);
    let c = ok("group r { component a { priority 1 } }");
    assert_ne!(a, c);
}
