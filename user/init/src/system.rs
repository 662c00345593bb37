//! The `system` service init serves itself: what the shell shows (`ps`,
//! `tree`, `caps`, `mem`, `uptime`) and controls (`kill`, `crash`,
//! `restart`, `config show`/`apply`, `poweroff`), as typed records.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use abide_abi::host::CONFIG_PREFIX;
use abide_abi::object::{HandleInfo, ObjectKind};
use abide_abi::syscall::{Handle, Rights};
use abide_config::{Child, Group};
use abide_datatable::{Record, Table, Value};
use abide_interfaces::System;
use abide_ipc::RemoteError;
use abide_rt::ipc::read_message;
use abide_rt::syscall;

use crate::instances::Init;
use crate::tree;

/// Answers every request queued on `channel`.
pub fn serve(init: &mut Init, channel: Handle) {
    while let Ok(request) = read_message(channel) {
        for handle in request.handles {
            let _ = syscall::handle_close(handle);
        }
        let reply = System::dispatch(init, &request.bytes);
        let _ = syscall::channel_write(channel, &reply, &[]);
    }
}

fn table(records: Vec<Record>, columns: &[&str]) -> Table {
    if records.is_empty() {
        return Table::new(columns);
    }
    Table::from_records(records).unwrap_or_else(|_| Table::new(columns))
}

fn app(message: impl Into<String>) -> RemoteError {
    RemoteError::app(message)
}

impl Init {
    /// The component running as process `id`.
    fn by_id(&self, id: u64) -> Option<(&String, Handle)> {
        self.running
            .iter()
            .find(|(_, instance)| instance.id == id)
            .map(|(name, instance)| (name, instance.process))
    }

    fn process_of(&self, name: &str) -> Result<Handle, RemoteError> {
        if self.system.component(name).is_none() {
            return Err(app(alloc::format!("there is no component named {name:?}")));
        }
        self.running
            .get(name)
            .map(|instance| instance.process)
            .ok_or_else(|| app(alloc::format!("{name} is not running")))
    }

    fn state_of(&self, name: &str) -> String {
        if self.running.contains_key(name) {
            "running".into()
        } else {
            self.last_end
                .get(name)
                .cloned()
                .unwrap_or_else(|| "stopped".into())
        }
    }

    fn tree_rows(&self, group: &Group, depth: usize, rows: &mut Vec<Record>) {
        let indent = "  ".repeat(depth);
        rows.push(
            Record::new()
                .with(
                    "node",
                    Value::text(&alloc::format!("{indent}{}", group.name)),
                )
                .with("kind", Value::text("group"))
                .with("state", Value::text(""))
                .with(
                    "policy",
                    Value::text(&alloc::format!(
                        "{} {} per {}s",
                        group.strategy,
                        group.intensity.restarts,
                        group.intensity.seconds
                    )),
                )
                .with("restarts", Value::Int(0)),
        );
        for child in &group.children {
            match child {
                Child::Group(g) => self.tree_rows(g, depth + 1, rows),
                Child::Component(c) => rows.push(
                    Record::new()
                        .with("node", Value::text(&alloc::format!("{indent}  {}", c.name)))
                        .with("kind", Value::text("component"))
                        .with("state", Value::text(&self.state_of(&c.name)))
                        .with("policy", Value::text(c.restart.as_str()))
                        .with("restarts", Value::Int(self.restart_count(&c.name))),
                ),
            }
        }
    }

    fn restart_count(&self, name: &str) -> i64 {
        i64::from(self.restarts.get(name).copied().unwrap_or(0))
    }
}

impl System::Server for Init {
    fn ps(&mut self) -> Result<Table, RemoteError> {
        let mut rows = Vec::new();
        for component in self.system.components() {
            let name = &component.name;
            let (id, status) = match self.running.get(name) {
                Some(instance) => (
                    instance.id as i64,
                    syscall::process_status(instance.process).unwrap_or_default(),
                ),
                None => (0, Default::default()),
            };
            rows.push(
                Record::new()
                    .with("id", Value::Int(id))
                    .with("name", Value::text(name))
                    .with("state", Value::text(&self.state_of(name)))
                    .with(
                        "mem",
                        Value::Bytes(status.memory_pages.saturating_mul(4096)),
                    )
                    .with("handles", Value::Int(i64::from(status.handles)))
                    .with("restarts", Value::Int(self.restart_count(name)))
                    .with("cpu", Value::Duration(status.cpu_ns)),
            );
        }
        Ok(table(
            rows,
            &["id", "name", "state", "mem", "handles", "restarts", "cpu"],
        ))
    }

    fn tree(&mut self) -> Result<Table, RemoteError> {
        let mut rows = Vec::new();
        let root = self.system.root.clone();
        self.tree_rows(&root, 0, &mut rows);
        Ok(table(
            rows,
            &["node", "kind", "state", "policy", "restarts"],
        ))
    }

    fn caps(&mut self, id: u64) -> Result<Table, RemoteError> {
        let (_, process) = self
            .by_id(id)
            .ok_or_else(|| app(alloc::format!("no component runs as process {id}")))?;
        let mut infos = alloc::vec![HandleInfo::default(); 256];
        let count = syscall::process_handles(process, &mut infos).map_err(RemoteError::from)?;
        let rows = infos
            .iter()
            .take(count.min(infos.len()))
            .map(|info| {
                Record::new()
                    .with("handle", Value::Int(i64::from(info.handle)))
                    .with("kind", Value::text(ObjectKind::name(info.kind)))
                    .with("rights", Value::text(&rights(info.rights)))
                    .with("badge", Value::Int(info.badge as i64))
                    .with("object", Value::Int(info.object as i64))
            })
            .collect();
        Ok(table(
            rows,
            &["handle", "kind", "rights", "badge", "object"],
        ))
    }

    fn kill(&mut self, id: u64) -> Result<String, RemoteError> {
        let (name, process) = self
            .by_id(id)
            .ok_or_else(|| app(alloc::format!("no component runs as process {id}")))?;
        let name = name.clone();
        syscall::process_kill(process).map_err(RemoteError::from)?;
        Ok(alloc::format!("killed process {id} ({name})"))
    }

    fn crash(&mut self, name: String) -> Result<String, RemoteError> {
        let process = self.process_of(&name)?;
        syscall::process_inject_fault(process).map_err(RemoteError::from)?;
        Ok(alloc::format!("{name} faulted (injected)"))
    }

    fn restart(&mut self, name: String) -> Result<String, RemoteError> {
        if self.system.component(&name).is_none() {
            return Err(app(alloc::format!("there is no component named {name:?}")));
        }
        self.stop(&name);
        self.start(&name).map_err(RemoteError::from)?;
        Ok(alloc::format!("restarted {name}"))
    }

    fn config_show(&mut self) -> Result<String, RemoteError> {
        Ok(self.system.to_string())
    }

    fn config_apply(&mut self, name: String) -> Result<Table, RemoteError> {
        let file = alloc::format!("{CONFIG_PREFIX}{name}");
        let text = syscall::bundle_read(&file).map_err(|_| {
            app(alloc::format!(
                "the image has no configuration system/{name}.conf ({})",
                crate::carried::FULL_IMAGE_HINT
            ))
        })?;
        let text =
            core::str::from_utf8(&text).map_err(|_| app("the configuration is not UTF-8"))?;
        let system = abide_config::parse(text).map_err(|errors| {
            let list: Vec<String> = errors
                .iter()
                .map(|e| e.in_file(&file).to_string())
                .collect();
            app(list.join("; "))
        })?;
        crate::carried::check_programs(&system, &file).map_err(app)?;
        let new_tree = tree::of(&system).map_err(app)?;
        let old_system = core::mem::replace(&mut self.system, system);
        let reconfiguration = self.supervisor.reconfigure(new_tree);
        let mut stops = Vec::new();
        let mut starts = Vec::new();
        for action in reconfiguration.actions {
            match action {
                abide_supervise::Action::Start(_) => starts.push(action),
                other => stops.push(other),
            }
        }
        // Stop with the old routes, start with the new.
        self.carry_out(stops);
        if let Err(error) = self.update_routes() {
            self.system = old_system;
            return Err(app(alloc::format!("cannot make the new routes: {error}")));
        }
        self.carry_out(starts);
        crate::persist::apply_period(self.hardware, &self.system);
        let plan = reconfiguration.plan;
        let mut rows = Vec::new();
        for (change, names) in [
            ("stopped", &plan.stop),
            ("started", &plan.start),
            ("restarted", &plan.restart),
            ("kept", &plan.keep),
        ] {
            for name in names {
                rows.push(
                    Record::new()
                        .with("component", Value::text(name))
                        .with("change", Value::text(change)),
                );
            }
        }
        Ok(table(rows, &["component", "change"]))
    }

    fn mem(&mut self) -> Result<Table, RemoteError> {
        let mut used = 0;
        let mut limit = 0;
        for instance in self.running.values() {
            let status = syscall::process_status(instance.process).unwrap_or_default();
            used += status.memory_pages.saturating_mul(4096);
            limit = status
                .memory_limit
                .saturating_mul(4096)
                .saturating_add(limit);
        }
        let own = syscall::process_status(abide_rt::process_self()).unwrap_or_default();
        let row = |what: &str, used: u64, limit: u64| {
            Record::new()
                .with("what", Value::text(what))
                .with("used", Value::Bytes(used))
                .with("limit", Value::Bytes(limit))
        };
        let mut rows = alloc::vec![
            row("components", used, limit),
            row(
                "init",
                own.memory_pages.saturating_mul(4096),
                own.memory_limit.saturating_mul(4096),
            ),
        ];
        // The whole machine: every frame in use (kernel, page tables, every
        // process), and the kernel heap.
        if let Ok(machine) = syscall::memory_stats() {
            rows.push(row("machine", machine.used_bytes(), machine.usable_bytes));
            rows.push(row(
                "kernel heap",
                machine.heap_used_bytes,
                machine.heap_bytes,
            ));
        }
        Ok(table(rows, &["what", "used", "limit"]))
    }

    fn uptime(&mut self) -> Result<u64, RemoteError> {
        Ok(syscall::clock_ns())
    }

    fn poweroff(&mut self) -> Result<(), RemoteError> {
        abide_rt::println!("init: powering off");
        let actions = self.supervisor.stop_all();
        self.carry_out(actions);
        Err(RemoteError::from(syscall::machine_power_off(self.hardware)))
    }

    fn names(&mut self) -> Result<Vec<String>, RemoteError> {
        Ok(self
            .system
            .components()
            .iter()
            .map(|c| c.name.clone())
            .collect())
    }
}

/// Rights as letters: r w d t m a (wait) M (manage).
fn rights(bits: u32) -> String {
    let mut out = String::new();
    for (right, letter) in [
        (Rights::READ, 'r'),
        (Rights::WRITE, 'w'),
        (Rights::DUPLICATE, 'd'),
        (Rights::TRANSFER, 't'),
        (Rights::MAP, 'm'),
        (Rights::WAIT, 'a'),
        (Rights::MANAGE, 'M'),
    ] {
        out.push(if bits & right.0 != 0 { letter } else { '-' });
    }
    out
}
