//! Parsing the configuration: the shipped and documented systems, defaults
//! for what a file leaves out, every setting, and free layout.

mod support;

use abide_config::*;
use support::{component, errors, in_root, ok, DEFAULT};

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
            "unix",
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
            Route::new("unix", "unix"),
            Route::new("checkpoint", "init")
        ]
    );
    // Both shells may take checkpoints, and the Unix personality (a Linux
    // program's `sync`); nothing else in the default system.
    let checkpointers: Vec<&str> = system
        .components()
        .iter()
        .filter(|c| c.uses.contains(&Route::new("checkpoint", "init")))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(checkpointers, ["unix", "shell", "vga-shell"]);
    assert_eq!(shell.restart, RestartType::Permanent);
    assert!(!shell.persistent);
    assert!(!serial.persistent);
    for persistent in ["log", "unix", "counter", "kv"] {
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
    // In the default system only init and the Unix personality (which
    // starts the Linux processes it runs) start processes.
    let system = ok(include_str!("../../../system/default.conf"));
    let spawners: Vec<&str> = system
        .components()
        .iter()
        .filter(|c| c.uses.contains(&Route::new("spawn", "init")))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(spawners, ["unix"]);
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

    let crate_docs = include_str!("../src/lib.rs");
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

#[test]
fn columns_count_characters() {
    let got = errors("# é\ngroup r { component ü {} }");
    assert_eq!(got[0].pos(), Pos::new(2, 21));
    let got = errors("group r { component x { args \"é\" } }\n}");
    assert_eq!(got[0].pos(), Pos::new(2, 1));
}
