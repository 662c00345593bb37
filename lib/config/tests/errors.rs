//! Refusing bad configurations: every error with its line, column and
//! reason, in order, printed with and without a file name; systems built in
//! code checked by the same rules; nesting limited.

mod support;

use abide_config::*;
use support::{errors, in_root, ok};

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
