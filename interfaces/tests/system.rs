//! Reading the `System` interface's tables.

use abide_interfaces::{ps_restarts, Table};

#[test]
fn ps_restarts_reads_the_row_of_the_component() {
    use abide_datatable::{Record, Value};
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
