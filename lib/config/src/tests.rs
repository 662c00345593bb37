use super::*;
use crate::Strategy;
use alloc::string::ToString;
use alloc::vec;
use proptest::prelude::*;
use proptest::strategy::Strategy as Gen;

const DEFAULT: &str = include_str!("../../../system/default.conf");

fn ok(text: &str) -> System {
    match parse(text) {
        Ok(system) => system,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("unexpected errors:\n{}\nin:\n{text}", errors.join("\n"));
        }
    }
}

fn errors(text: &str) -> Vec<ConfigError> {
    match parse(text) {
        Ok(system) => panic!("expected errors, parsed:\n{system}\nfrom:\n{text}"),
        Err(errors) => errors,
    }
}

fn component<'s>(system: &'s System, name: &str) -> &'s Component {
    system
        .component(name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

#[test]
fn the_default_system_parses_as_described() {
    let system = ok(DEFAULT);
    assert_eq!(system.checkpoint_period_ms, Some(1000));
    let root = &system.root;
    assert_eq!(root.name, "root");
    assert_eq!(root.strategy, Strategy::OneForOne);
    assert_eq!(
        root.intensity,
        Intensity {
            restarts: 5,
            seconds: 10
        }
    );
    let top: Vec<&str> = root.children.iter().map(Child::name).collect();
    assert_eq!(top, ["drivers", "services", "apps", "shell", "vga-shell"]);
    let Child::Group(drivers) = &root.children[0] else {
        panic!("drivers is not a group");
    };
    assert_eq!(drivers.strategy, Strategy::OneForOne);
    let names: Vec<&str> = system
        .components()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "serial",
            "vga",
            "pci",
            "log",
            "counter",
            "kv",
            "shell",
            "vga-shell"
        ]
    );
    let serial = component(&system, "serial");
    assert_eq!(serial.provides, [ServiceName::new("console")]);
    assert_eq!(serial.uses, [Route::new("com1", "init")]);
    let vga = component(&system, "vga");
    assert_eq!(vga.provides, [ServiceName::new("vga-console")]);
    assert_eq!(
        vga.uses,
        [Route::new("ps2", "init"), Route::new("vga-text", "init")]
    );
    let shell = component(&system, "shell");
    assert_eq!(
        shell.uses,
        [
            Route::new("console", "serial"),
            Route::new("system", "init"),
            Route::new("log", "log"),
            Route::new("pci", "pci"),
            Route::new("counter", "counter"),
            Route::new("kv", "kv"),
            Route::new("checkpoint", "init")
        ]
    );
    // Both shells may take checkpoints; nothing else in the default system.
    let checkpointers: Vec<&str> = system
        .components()
        .iter()
        .filter(|c| c.uses.contains(&Route::new("checkpoint", "init")))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(checkpointers, ["shell", "vga-shell"]);
    assert_eq!(shell.restart, RestartType::Permanent);
    assert!(!shell.persistent);
    assert!(!serial.persistent);
    for persistent in ["log", "counter", "kv"] {
        assert!(component(&system, persistent).persistent, "{persistent}");
    }
    assert_eq!(
        system.provider_of("console").map(|c| c.name.as_str()),
        Some("serial")
    );
    assert!(system.provider_of("nothing").is_none());
}

#[test]
fn init_provides_checkpoint_and_every_service_it_lists() {
    let grants = init_service("checkpoint").expect("init provides checkpoint");
    assert!(grants.contains("WRITE"), "{grants}");
    let system = ok(&in_root(
        "component a { uses checkpoint from init; uses system from init }",
    ));
    assert_eq!(
        component(&system, "a").uses,
        [
            Route::new("checkpoint", "init"),
            Route::new("system", "init")
        ]
    );
    for (service, _) in INIT_SERVICES {
        ok(&in_root(&format!(
            "component a {{ uses {service} from init }}"
        )));
    }
    // The refusal names it with the others.
    let refused = errors(&in_root("component a { uses disk from init }"));
    assert!(refused[0].message.contains("checkpoint"), "{}", refused[0]);
}

#[test]
fn init_provides_spawn_and_no_shipped_component_takes_it() {
    let grants = init_service("spawn").expect("init provides spawn");
    assert!(grants.contains("SPAWN"), "{grants}");
    let system = ok(&in_root("component a { uses spawn from init }"));
    assert_eq!(component(&system, "a").uses, [Route::new("spawn", "init")]);
    let refused = errors(&in_root("component a { uses disk from init }"));
    assert!(refused[0].message.contains("spawn"), "{}", refused[0]);
    // Only init starts processes in the default system.
    let system = ok(include_str!("../../../system/default.conf"));
    assert!(system
        .components()
        .iter()
        .all(|c| !c.uses.contains(&Route::new("spawn", "init"))));
}

#[test]
fn the_examples_in_the_documentation_parse() {
    let docs = include_str!("../../../docs/config.md");
    let example = docs
        .split("## A complete example")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .expect("docs/config.md has a complete example");
    let system = ok(example);
    assert_eq!(system.components().len(), 4);
    let shell = component(&system, "shell");
    assert_eq!(shell.args, ["--prompt", "abide> ", "--history", "100"]);

    let crate_docs = include_str!("lib.rs");
    let example: String = crate_docs
        .split("```text")
        .nth(1)
        .and_then(|rest| rest.split("//! ```").next())
        .expect("the crate documentation has an example")
        .lines()
        .map(|line| line.trim_start_matches("//!").trim_start_matches(' '))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(ok(&example).components().len(), 2);
}

#[test]
fn left_out_settings_take_their_defaults() {
    let system = ok("group g {\n  component a {}\n}\n");
    assert_eq!(system.checkpoint_period_ms, None);
    assert_eq!(system.root.strategy, defaults::STRATEGY);
    assert_eq!(system.root.intensity, defaults::INTENSITY);
    let a = component(&system, "a");
    assert_eq!(*a, Component::new("a"));
    assert_eq!(a.program, "a");
    assert_eq!(a.priority, 4);
    assert_eq!(a.memory_pages, 1024);
    assert_eq!(a.handle_quota, 256);
    assert_eq!(a.restart, RestartType::Permanent);
    assert!(!a.persistent);
    assert_eq!(a.at, Pos::new(2, 13));
}

#[test]
fn every_setting_is_read() {
    let text = r#"
checkpoint_period_ms 250
group top {
    strategy rest_for_one
    intensity 0 per 1s
    component p {
        provides one two
        provides three
    }
    group inner {
        strategy one_for_all
        component c {
            program some-prog
            args -v "two words" "quote \" back \\ nl \n tab \t cr \r" x=1
            args more
            priority 7
            memory_pages 1
            handle_quota 1048576
            uses one from p
            uses three from p
            persistent true
            restart temporary
        }
        component d { persistent false; restart transient; priority 0 }
    }
}
"#;
    let system = ok(text);
    assert_eq!(system.checkpoint_period_ms, Some(250));
    assert_eq!(system.root.strategy, Strategy::RestForOne);
    assert_eq!(
        system.root.intensity,
        Intensity {
            restarts: 0,
            seconds: 1
        }
    );
    let p = component(&system, "p");
    let provided: Vec<&str> = p.provides.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(provided, ["one", "two", "three"]);
    assert_eq!(p.provides[1].at, Pos::new(7, 22));
    let c = component(&system, "c");
    assert_eq!(c.program, "some-prog");
    assert_eq!(
        c.args,
        [
            "-v",
            "two words",
            "quote \" back \\ nl \n tab \t cr \r",
            "x=1",
            "more"
        ]
    );
    assert_eq!(c.priority, 7);
    assert_eq!(c.memory_pages, 1);
    assert_eq!(c.handle_quota, MAX_HANDLE_QUOTA);
    assert_eq!(c.uses, [Route::new("one", "p"), Route::new("three", "p")]);
    assert_eq!(c.uses[0].at, Pos::new(19, 18));
    assert_eq!(c.uses[0].from_at, Pos::new(19, 27));
    assert!(c.persistent);
    assert_eq!(c.restart, RestartType::Temporary);
    let d = component(&system, "d");
    assert!(!d.persistent);
    assert_eq!(d.restart, RestartType::Transient);
    assert_eq!(d.priority, 0);
    let Child::Group(inner) = &system.root.children[1] else {
        panic!("inner is not a group");
    };
    assert_eq!(inner.strategy, Strategy::OneForAll);
    assert_eq!(inner.intensity, defaults::INTENSITY);
}

#[test]
fn layout_is_free_within_lines() {
    // Comments anywhere, semicolons, CRLF, tabs, blank lines, one-line blocks.
    let text = "# head\r\n\r\n\tgroup g { # trailing\r\n component a { provides s } ; component b {uses s from a;priority 1}\r\n}\r\n# tail";
    let system = ok(text);
    assert_eq!(component(&system, "b").priority, 1);
    assert_eq!(component(&system, "b").uses, [Route::new("s", "a")]);
    // A byte order mark is ignored.
    assert_eq!(
        ok("\u{feff}group g { component a {} }"),
        ok("group g { component a {} }")
    );
}

/// A file of one root group holding `body`, and the line `body` starts on.
fn in_root(body: &str) -> String {
    format!("group root {{\n{body}\n}}\n")
}

/// Errors a bad file must give: line, column, part of the message.
type Expected<'a> = &'a [(u32, u32, &'a str)];

#[test]
fn bad_files_are_reported_with_line_column_and_reason() {
    // (file, [(line, column, part of the message)])
    let cases: &[(&str, Expected)] = &[
        // Syntax.
        ("", &[(1, 1, "there is no root group")]),
        ("# only a comment\n", &[(1, 1, "there is no root group")]),
        ("group root {\n  component a {}\n", &[(1, 12, "this `{` is never closed")]),
        ("group root {\n  component a {}\n}\n}\n", &[(4, 1, "this `}` closes nothing")]),
        ("{ }\ngroup r { component a {} }", &[(1, 1, "needs a statement before its `{`")]),
        ("group r { component a { args \"open\n}\n}", &[(1, 30, "string is never closed")]),
        ("group r { component a { args \"\\q\" } }", &[(1, 31, "unknown escape `\\q`")]),
        ("group r { component a {} } extra", &[(1, 28, "expected the end of the line after `}`")]),
        // The top level.
        ("group a { component x {} }\ngroup b { component y {} }", &[(2, 1, "a second top-level group")]),
        ("component a {}\ngroup r { component x {} }", &[(1, 1, "a component must be inside a group")]),
        ("colour blue\ngroup r { component x {} }", &[(1, 1, "unknown setting `colour`")]),
        ("\"group\" r { component x {} }", &[(1, 1, "found a quoted string; setting names are written without quotes"), (1, 1, "there is no root group")]),
        ("checkpoint_period_ms 0\ngroup r { component x {} }", &[(1, 22, "checkpoint period of 0 ms is out of range")]),
        ("checkpoint_period_ms 1s\ngroup r { component x {} }", &[(1, 22, "`1s` is not a number")]),
        ("checkpoint_period_ms 5\ncheckpoint_period_ms 6\ngroup r { component x {} }", &[(2, 1, "`checkpoint_period_ms` is set twice (first at line 1)")]),
        ("checkpoint_period_ms\ngroup r { component x {} }", &[(1, 1, "`checkpoint_period_ms` needs a value")]),
        ("checkpoint_period_ms 5 { }\ngroup r { component x {} }", &[(1, 24, "`checkpoint_period_ms` takes no block")]),
        // Group headers and settings.
        ("group { component x {} }", &[(1, 1, "`group` needs a name")]),
        ("group a b { component x {} }", &[(1, 9, "expected `{` after the group name, found `b`")]),
        ("group a\n", &[(1, 7, "group `a` needs a block")]),
        ("group Root { component x {} }", &[(1, 7, "`Root` is not a valid group name")]),
        ("group r {}", &[(1, 7, "group `r` has no children")]),
        (&in_root("strategy one_for_some\ncomponent x {}"), &[(2, 10, "unknown strategy `one_for_some` (expected one_for_one, one_for_all or rest_for_one)")]),
        (&in_root("strategy one_for_one one_for_all\ncomponent x {}"), &[(2, 22, "`strategy` takes one value; `one_for_all` is one too many")]),
        (&in_root("strategy one_for_one\nstrategy one_for_all\ncomponent x {}"), &[(3, 1, "`strategy` is set twice (first at line 2)")]),
        (&in_root("intensity 5 10\ncomponent x {}"), &[(2, 1, "`intensity` is written `intensity RESTARTS per SECONDSs`")]),
        (&in_root("intensity 5 in 10s\ncomponent x {}"), &[(2, 13, "expected `per`")]),
        (&in_root("intensity 5 per 10\ncomponent x {}"), &[(2, 17, "ending in `s`")]),
        (&in_root("intensity 5 per 0s\ncomponent x {}"), &[(2, 17, "window of 0 seconds is out of range")]),
        (&in_root("intensity 5 per 86401s\ncomponent x {}"), &[(2, 17, "out of range (1..=86400)")]),
        (&in_root("intensity 1001 per 5s\ncomponent x {}"), &[(2, 11, "1001 restarts is out of range")]),
        (&in_root("intensity -1 per 5s\ncomponent x {}"), &[(2, 11, "`-1` is not a number")]),
        (&in_root("restart permanent\ncomponent x {}"), &[(2, 1, "unknown group setting `restart`")]),
        // Component settings.
        (&in_root("component {}"), &[(2, 1, "`component` needs a name")]),
        (&in_root("component a_b.c {}"), &[(2, 11, "`a_b.c` is not a valid component name")]),
        (&in_root("component x { program \"\" }"), &[(2, 23, "the program name is empty")]),
        (&in_root("component x { program Shell }"), &[(2, 23, "`Shell` is not a valid program name")]),
        (&in_root("component x { program a b }"), &[(2, 25, "`program` takes one value")]),
        (&in_root("component x {\n priority 8\n}"), &[(3, 11, "priority 8 is out of range (0 lowest ..= 7 highest)")]),
        (&in_root("component x {\n priority 99999999999999999999999\n}"), &[(3, 11, "is too large")]),
        (&in_root("component x {\n priority high\n}"), &[(3, 11, "`high` is not a number")]),
        (&in_root("component x {\n priority 1\n priority 2\n}"), &[(4, 2, "`priority` is set twice (first at line 3)")]),
        (&in_root("component x {\n memory_pages 0\n}"), &[(3, 15, "memory quota of 0 pages is out of range")]),
        (&in_root("component x {\n memory_pages 4294967297\n}"), &[(3, 15, "memory quota of 4294967297 pages is out of range")]),
        (&in_root("component x {\n handle_quota 0\n}"), &[(3, 15, "handle quota of 0 is out of range")]),
        (&in_root("component x {\n handle_quota 5000000000\n}"), &[(3, 15, "handle quota of 5000000000 is out of range")]),
        (&in_root("component x {\n restart sometimes\n}"), &[(3, 10, "unknown restart type `sometimes` (expected permanent, transient or temporary)")]),
        (&in_root("component x {\n persistent maybe\n}"), &[(3, 13, "`persistent` takes no value, or `true` or `false`; found `maybe`")]),
        (&in_root("component x {\n persistent true false\n}"), &[(3, 18, "found `false`")]),
        (&in_root("component x {\n provides\n}"), &[(3, 2, "`provides` needs one or more service names")]),
        (&in_root("component x {\n provides Log\n}"), &[(3, 11, "`Log` is not a valid service name")]),
        (&in_root("component x {\n uses log\n}"), &[(3, 2, "`uses` is written `uses SERVICE from COMPONENT`")]),
        (&in_root("component x {\n uses log of y\n}"), &[(3, 2, "`uses` is written")]),
        (&in_root("component x {\n uses log from Y\n}"), &[(3, 16, "`Y` is not a valid component name")]),
        (&in_root("component x {\n priority 1 { }\n}"), &[(3, 13, "`priority` takes no block")]),
        (&in_root("component x {\n group y { component z {} }\n}"), &[(3, 2, "a group cannot be inside a component")]),
        (&in_root("component x {\n component y {}\n}"), &[(3, 2, "a component cannot be inside a component")]),
        (&in_root("component x {\n memory 10\n}"), &[(3, 2, "unknown component setting `memory` (expected program, args")]),
        // Relations between items.
        (&in_root("component x {}\ncomponent x {}"), &[(3, 11, "the name `x` is already used by a component (line 2)")]),
        (&in_root("group x { component y {} }\ncomponent x {}"), &[(3, 11, "the name `x` is already used by a group (line 2)")]),
        ("group root { component root {} }", &[(1, 24, "the name `root` is already used by a group (line 1)")]),
        (&in_root("component a { provides s }\ncomponent b { provides s }"), &[(3, 24, "service `s` is already provided by `a` (line 2)")]),
        (&in_root("component a { provides s s }"), &[(2, 26, "component `a` provides `s` twice")]),
        (&in_root("component a { provides s; uses s from a }"), &[(2, 32, "component `a` uses `s`, which it provides itself")]),
        (&in_root("component a { provides t }\ncomponent b { provides s; uses s from a }"), &[(3, 32, "component `b` uses `s`, which it provides itself")]),
        (&in_root("component a { uses s from a }\ncomponent b { provides s }"), &[(2, 27, "component `a` routes `s` from itself")]),
        (&in_root("component a { uses s from b }\ncomponent b {}"), &[(2, 27, "`b` does not provide `s` (no component provides `s`)")]),
        (&in_root("component a { uses s from b }\ncomponent b {}\ncomponent c { provides s }"), &[(2, 27, "`b` does not provide `s` (`s` is provided by `c`)")]),
        (&in_root("component a { uses s from nobody }\ncomponent c { provides s }"), &[(2, 27, "there is no component named `nobody` (`s` is provided by `c`)")]),
        (&in_root("component a { uses s from g }\ngroup g { component c { provides s } }"), &[(2, 27, "`g` is a group; a route names the component that provides the service")]),
        (&in_root("component a { uses s from c; uses s from c }\ncomponent c { provides s }"), &[(2, 35, "component `a` already uses `s` (line 2)")]),
        // init's own services.
        (&in_root("component a { uses disk from init }"), &[(2, 30, "init does not provide `disk` (it provides system, hardware, com1")]),
        (&in_root("component init {}"), &[(2, 11, "the name `init` is reserved")]),
    ];
    let mut failures = Vec::new();
    for (text, expected) in cases {
        let got = errors(text);
        let matches = got.len() == expected.len()
            && got
                .iter()
                .zip(expected.iter())
                .all(|(error, (line, column, part))| {
                    error.line == *line && error.column == *column && error.message.contains(part)
                });
        if !matches {
            let shown: Vec<String> = got.iter().map(ToString::to_string).collect();
            failures.push(format!(
                "for:\n{text}\nexpected {expected:?}\ngot:\n{}\n",
                shown.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_error_in_a_file_is_reported_in_order() {
    let text = "group root {\n  strategy none\n  component a {\n    priority 9\n    restart never\n  }\n  bogus 1\n}\n";
    let got = errors(text);
    let at: Vec<(u32, u32)> = got.iter().map(|e| (e.line, e.column)).collect();
    assert_eq!(at, [(2, 12), (4, 14), (5, 13), (7, 3)]);

    // Relations are checked once the file is otherwise clean, and then
    // all of them are reported.
    let text = in_root("component a { uses x from b; uses y from c }\ncomponent a {}");
    let got = errors(&text);
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn errors_print_with_and_without_a_file() {
    let error = ConfigError::new(Pos::new(12, 5), "unknown restart type `sometimes`");
    assert_eq!(
        error.to_string(),
        "line 12, column 5: unknown restart type `sometimes`"
    );
    assert_eq!(
        error.in_file("system/default.conf").to_string(),
        "system/default.conf:12:5: unknown restart type `sometimes`"
    );
    let placeless = ConfigError::new(Pos::default(), "group `g` has no children");
    assert_eq!(placeless.to_string(), "group `g` has no children");
    assert_eq!(
        placeless.in_file("x.conf").to_string(),
        "x.conf: group `g` has no children"
    );
}

#[test]
fn systems_built_in_code_are_validated_by_the_same_rules() {
    let mut a = Component::new("a");
    a.priority = 8;
    a.memory_pages = 0;
    a.handle_quota = 0;
    a.program = String::new();
    a.uses.push(Route::new("s", "b"));
    let system = System {
        checkpoint_period_ms: Some(0),
        root: Group {
            name: "root".into(),
            strategy: Strategy::OneForAll,
            intensity: Intensity {
                restarts: 1,
                seconds: 0,
            },
            children: vec![
                Child::Component(a),
                Child::Group(Group {
                    name: "a".into(),
                    strategy: Strategy::OneForOne,
                    intensity: defaults::INTENSITY,
                    children: Vec::new(),
                    at: Pos::default(),
                }),
            ],
            at: Pos::default(),
        },
    };
    let errors = system.validate().unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for part in [
        "checkpoint period of 0 ms",
        "window of 0 seconds",
        "the program name is empty",
        "priority 8",
        "memory quota of 0",
        "handle quota of 0",
        "the name `a` is already used by a component;",
        "group `a` has no children",
        "there is no component named `b`",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(part)),
            "no error containing {part:?} in {messages:#?}"
        );
    }
    assert!(errors.iter().all(|e| !e.pos().is_known()));
    assert_eq!(errors.len(), 9, "{messages:#?}");
}

#[test]
fn nesting_is_limited_and_never_overflows_the_stack() {
    fn nested(depth: usize) -> String {
        let mut text = String::new();
        for i in 0..depth {
            text += &format!("group g{i} {{\n");
        }
        text += "component leaf {}\n";
        for _ in 0..depth {
            text += "}\n";
        }
        text
    }
    let system = ok(&nested(MAX_DEPTH));
    assert_eq!(system.components().len(), 1);
    let got = errors(&nested(MAX_DEPTH + 1));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].pos(), Pos::new(MAX_DEPTH as u32 + 1, 7));
    assert!(got[0]
        .message
        .contains("groups are nested deeper than 32 levels"));
    let got = errors(&nested(MAX_DEPTH + 5));
    assert!(got
        .iter()
        .any(|e| e.message.contains("blocks are nested too deep")));

    // A hostile file: far deeper than any stack.
    let deep = "group g {".repeat(200_000) + &"}".repeat(200_000);
    let got = errors(&deep);
    assert!(got.iter().any(|e| e.message.contains("nested deeper")));
    let unclosed = "group g {".repeat(200_000);
    let got = errors(&unclosed);
    assert!(got.iter().any(|e| e.message.contains("never closed")));
}

#[test]
fn columns_count_characters() {
    let got = errors("# é\ngroup r { component ü {} }");
    assert_eq!(got[0].pos(), Pos::new(2, 21));
    let got = errors("group r { component x { args \"é\" } }\n}");
    assert_eq!(got[0].pos(), Pos::new(2, 1));
}

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

// Random systems: built valid, printed, parsed back.

/// A tree shape: leaves are components, nodes groups.
#[derive(Clone, Debug)]
enum Shape {
    Leaf(Settings),
    Node(Strategy, Intensity, Vec<Shape>),
}

#[derive(Clone, Debug)]
struct Settings {
    args: Vec<String>,
    priority: u8,
    memory_pages: u64,
    handle_quota: u32,
    provides: usize,
    /// Indices into all services, resolved after naming.
    uses: Vec<usize>,
    persistent: bool,
    restart: RestartType,
    own_program: bool,
}

fn settings() -> impl Gen<Value = Settings> {
    (
        proptest::collection::vec(any::<String>(), 0..4),
        0..=MAX_PRIORITY,
        1..=MAX_MEMORY_PAGES,
        1..=MAX_HANDLE_QUOTA,
        0usize..3,
        proptest::collection::vec(any::<usize>(), 0..4),
        any::<bool>(),
        proptest::sample::select(RestartType::ALL.to_vec()),
        any::<bool>(),
    )
        .prop_map(
            |(
                args,
                priority,
                memory_pages,
                handle_quota,
                provides,
                uses,
                persistent,
                restart,
                own_program,
            )| {
                Settings {
                    args,
                    priority,
                    memory_pages,
                    handle_quota,
                    provides,
                    uses,
                    persistent,
                    restart,
                    own_program,
                }
            },
        )
}

fn shape() -> impl Gen<Value = Shape> {
    let intensity = (0..=MAX_INTENSITY_RESTARTS, 1..=MAX_INTENSITY_SECONDS)
        .prop_map(|(restarts, seconds)| Intensity { restarts, seconds });
    let strategy = proptest::sample::select(crate::Strategy::ALL.to_vec());
    settings()
        .prop_map(Shape::Leaf)
        .prop_recursive(4, 24, 4, move |inner| {
            (
                strategy.clone(),
                intensity.clone(),
                proptest::collection::vec(inner, 1..4),
            )
                .prop_map(|(s, i, children)| Shape::Node(s, i, children))
        })
}

/// Names everything uniquely and resolves the routes.
fn build(root: (crate::Strategy, Intensity, Vec<Shape>), checkpoint: Option<u64>) -> System {
    fn group(
        name: String,
        strategy: crate::Strategy,
        intensity: Intensity,
        shapes: &[Shape],
        next: &mut usize,
        leaves: &mut Vec<(String, Settings)>,
    ) -> Group {
        let mut children = Vec::new();
        for shape in shapes {
            *next += 1;
            match shape {
                Shape::Leaf(settings) => {
                    let name = format!("c{next}");
                    leaves.push((name.clone(), settings.clone()));
                    let mut c = Component::new(&name);
                    if settings.own_program {
                        c.program = format!("prog-{next}_x");
                    }
                    c.args = settings.args.clone();
                    c.priority = settings.priority;
                    c.memory_pages = settings.memory_pages;
                    c.handle_quota = settings.handle_quota;
                    c.persistent = settings.persistent;
                    c.restart = settings.restart;
                    for i in 0..settings.provides {
                        c.provides.push(ServiceName::new(&format!("{name}-s{i}")));
                    }
                    children.push(Child::Component(c));
                }
                Shape::Node(s, i, inner) => {
                    let name = format!("g{next}");
                    children.push(Child::Group(group(name, *s, *i, inner, next, leaves)));
                }
            }
        }
        Group {
            name,
            strategy,
            intensity,
            children,
            at: Pos::default(),
        }
    }
    let mut next = 0;
    let mut leaves = Vec::new();
    let mut root = group(
        "root".into(),
        root.0,
        root.1,
        &root.2,
        &mut next,
        &mut leaves,
    );
    // Every (provider, service), then each component's picks among those it
    // does not provide, without repeats.
    let services: Vec<(String, String)> = leaves
        .iter()
        .flat_map(|(name, s)| (0..s.provides).map(move |i| (name.clone(), format!("{name}-s{i}"))))
        .collect();
    fn fill(group: &mut Group, leaves: &[(String, Settings)], services: &[(String, String)]) {
        for child in &mut group.children {
            match child {
                Child::Group(g) => fill(g, leaves, services),
                Child::Component(c) => {
                    let (_, settings) = leaves.iter().find(|(n, _)| *n == c.name).unwrap();
                    let others: Vec<&(String, String)> =
                        services.iter().filter(|(p, _)| *p != c.name).collect();
                    if others.is_empty() {
                        continue;
                    }
                    for pick in &settings.uses {
                        let (provider, service) = others[pick % others.len()];
                        if c.uses.iter().all(|r| r.service != *service) {
                            c.uses.push(Route::new(service, provider));
                        }
                    }
                }
            }
        }
    }
    fill(&mut root, &leaves, &services);
    System {
        checkpoint_period_ms: checkpoint,
        root,
    }
}

proptest! {
    #[test]
    fn random_systems_print_and_parse_back(
        strategy in proptest::sample::select(crate::Strategy::ALL.to_vec()),
        restarts in 0..=MAX_INTENSITY_RESTARTS,
        seconds in 1..=MAX_INTENSITY_SECONDS,
        children in proptest::collection::vec(shape(), 1..4),
        checkpoint in proptest::option::of(1..=MAX_CHECKPOINT_PERIOD_MS),
    ) {
        let system = build((strategy, Intensity { restarts, seconds }, children), checkpoint);
        prop_assert_eq!(system.validate(), Ok(()));
        let printed = system.to_string();
        let parsed = parse(&printed);
        prop_assert_eq!(parsed.as_ref(), Ok(&system), "printed:\n{}", printed);
        prop_assert_eq!(parsed.unwrap().to_string(), printed);
    }

    #[test]
    fn any_text_is_parsed_or_refused_without_panicking(text in any::<String>()) {
        if let Err(errors) = parse(&text) {
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn mangled_default_files_are_parsed_or_refused_without_panicking(
        cut in 0..DEFAULT.len(),
        insert in "[{}#;\" \\na-z0-9]{0,4}",
    ) {
        let mut text = String::from(DEFAULT);
        let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.insert_str(cut, &insert);
        if let Err(errors) = parse(&text) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| e.pos().is_known()));
        }
    }
}
