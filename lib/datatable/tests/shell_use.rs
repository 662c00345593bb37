//! The crate as the shell uses it: its data types are serde types, and a
//! command line's pipeline filters and narrows a table.

use abide_datatable::*;
use serde::{Deserialize, Serialize};

fn serde_both<T: Serialize + for<'de> Deserialize<'de>>() {}

#[test]
fn data_types_are_serde() {
    serde_both::<Value>();
    serde_both::<Kind>();
    serde_both::<Record>();
    serde_both::<Table>();
}

#[test]
fn a_shell_round_trip() {
    let line = r#"ps "all of them" | where name =~ "sh" | select name mem"#;
    let pipeline = parse_pipeline(line).unwrap();
    assert_eq!(
        split_words(&pipeline.command).unwrap(),
        ["ps", "all of them"]
    );
    let mut table = Table::new(&["name", "mem"]);
    table
        .push_row(vec![Value::text("shell"), Value::Bytes(4096)])
        .unwrap();
    table
        .push_row(vec![Value::text("log"), Value::Bytes(1 << 20)])
        .unwrap();
    let table = pipeline.apply(table).unwrap();
    assert_eq!(table.render(), "name       mem\nshell  4.0 KiB\n");
    assert_eq!(
        table.record(0).unwrap().get("name"),
        Some(&Value::Text(String::from("shell")))
    );
}
