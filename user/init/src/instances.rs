//! The running system: the supervisor's state and every component's
//! instance, and carrying out what the supervisor decides.

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use abide_abi::object::{
    HandleInfo, ProcessState, ProcessStatus, Signals, SpawnOptions, INJECTED_FAULT_VECTOR,
    MAX_MESSAGE_HANDLES, SPAWN_PERSISTENT,
};
use abide_abi::syscall::{Error, Handle, Rights};
use abide_config::{Component, System, INIT};
use abide_interfaces::component::{Grant, Manifest};
use abide_rt::{println, syscall};
use abide_supervise::{Action, Ending, Supervisor};

use crate::routes::{self, Routes, STASH_BYTES};
use crate::{tree, watch};

/// Port keys at or above this are `system` channels; below, processes.
pub const SYSTEM_KEYS: u64 = 1 << 48;

/// One running instance of a component.
#[derive(Debug)]
pub struct Instance {
    pub process: Handle,
    /// The kernel's id of its process.
    pub id: u64,
    /// Init's end of its bootstrap channel.
    bootstrap: Handle,
    /// The port key its ending arrives with.
    key: u64,
}

/// Everything init keeps.
pub struct Init {
    pub hardware: Handle,
    port: Handle,
    pub system: System,
    pub supervisor: Supervisor<String, Component>,
    routes: Routes,
    /// Memory each server keeps across restarts, by component.
    stashes: BTreeMap<String, Handle>,
    pub running: BTreeMap<String, Instance>,
    /// Restarts of each component (a start after its first).
    pub restarts: BTreeMap<String, u32>,
    /// How each stopped component ended last.
    pub last_end: BTreeMap<String, String>,
    started: BTreeSet<String>,
    /// Port key → component, for process endings.
    process_keys: BTreeMap<u64, String>,
    /// Port key → init's end of a `system` route.
    system_keys: BTreeMap<u64, Handle>,
    next_key: u64,
}

impl Init {
    pub fn new(hardware: Handle, port: Handle, system: System) -> Result<Init, String> {
        let tree = tree::of(&system)?;
        let mut init = Init {
            hardware,
            port,
            system,
            supervisor: Supervisor::new(tree),
            routes: Routes::default(),
            stashes: BTreeMap::new(),
            running: BTreeMap::new(),
            restarts: BTreeMap::new(),
            last_end: BTreeMap::new(),
            started: BTreeSet::new(),
            process_keys: BTreeMap::new(),
            system_keys: BTreeMap::new(),
            next_key: 1,
        };
        init.update_routes()
            .map_err(|e| alloc::format!("cannot create the routes' channels: {e}"))?;
        Ok(init)
    }

    /// Starts the tree.
    pub fn boot(&mut self) {
        let actions = self.supervisor.boot();
        self.carry_out(actions);
    }

    /// Something happened on the port.
    pub fn event(&mut self, key: u64, signals: Signals) {
        if key >= SYSTEM_KEYS {
            if let Some(&channel) = self.system_keys.get(&key) {
                crate::system::serve(self, channel);
                // The route may be gone after a `config apply`.
                if self.system_keys.get(&key) == Some(&channel) {
                    let _ = watch(self.port, channel, key, Signals::READABLE);
                }
            }
        } else if signals.intersects(Signals::TERMINATED) {
            self.process_ended(key);
        }
    }

    /// A component's process ended on its own (or was killed by someone
    /// other than the supervisor).
    fn process_ended(&mut self, key: u64) {
        let Some(name) = self.process_keys.remove(&key) else {
            return;
        };
        let Some(instance) = self.running.remove(&name) else {
            return;
        };
        let status = syscall::process_status(instance.process).unwrap_or_default();
        let how = describe(&status);
        println!("init: {name} (process {}) {how}", instance.id);
        self.last_end.insert(name.clone(), how);
        close(&instance);
        let actions = match status.state {
            // Not a crash: it starts afresh, as at boot.
            ProcessState::Lost => self.supervisor.child_lost(&name),
            ProcessState::Exited => {
                let ending = Ending::from_exit_code(status.code);
                self.supervisor.child_ended(&name, ending, now_ms())
            }
            _ => self
                .supervisor
                .child_ended(&name, Ending::Abnormal, now_ms()),
        };
        self.carry_out(actions);
    }

    /// Does what the supervisor decided, in order; a start that fails is
    /// reported back to it as an abnormal ending, which may decide more.
    pub fn carry_out(&mut self, actions: Vec<Action<String>>) {
        let mut queue: VecDeque<Action<String>> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Stop(name) => self.stop(&name),
                Action::Start(name) => {
                    if let Err(error) = self.start(&name) {
                        println!("init: cannot start {name}: {error}");
                        self.last_end
                            .insert(name.clone(), alloc::format!("could not start: {error}"));
                        let more = self
                            .supervisor
                            .child_ended(&name, Ending::Abnormal, now_ms());
                        queue.extend(more);
                    }
                }
                Action::GroupFailed(group) => {
                    println!("init: group {group} exceeded its restart intensity and failed");
                }
                Action::Shutdown => {
                    println!("init: the root group failed; powering off");
                    let error = syscall::machine_power_off(self.hardware);
                    println!("init: cannot power off: {error}");
                }
            }
        }
    }

    /// Ends `name`'s instance without telling the supervisor.
    pub fn stop(&mut self, name: &str) {
        if let Some(instance) = self.running.remove(name) {
            self.process_keys.remove(&instance.key);
            let _ = syscall::process_kill(instance.process);
            self.last_end.insert(name.to_string(), "stopped".into());
            close(&instance);
        }
    }

    /// Starts a new instance of `name` with exactly what its routes grant.
    pub fn start(&mut self, name: &str) -> Result<(), Error> {
        let spec = self
            .supervisor
            .tree()
            .spec(name)
            .cloned()
            .ok_or(Error::InvalidArgument)?;
        let mut grants: Vec<(Grant, Handle)> = Vec::new();
        let result = self.grants(&spec, &mut grants).and_then(|()| {
            if grants.len() + 1 > MAX_MESSAGE_HANDLES {
                return Err(Error::NoMemory);
            }
            self.spawn(&spec, &mut grants)
        });
        for (_, handle) in grants {
            let _ = syscall::handle_close(handle);
        }
        let instance = result?;
        if !self.started.insert(name.to_string()) {
            *self.restarts.entry(name.to_string()).or_default() += 1;
        }
        self.last_end.remove(name);
        self.process_keys.insert(instance.key, name.to_string());
        self.running.insert(name.to_string(), instance);
        Ok(())
    }

    /// The handles `spec`'s routes grant, in manifest order.
    fn grants(&mut self, spec: &Component, out: &mut Vec<(Grant, Handle)>) -> Result<(), Error> {
        for route in &spec.uses {
            if route.from == INIT && route.service != "system" {
                out.extend(routes::device(self.hardware, &route.service)?);
                continue;
            }
            let key = (spec.name.clone(), route.service.clone());
            let channel = self.routes.channels.get(&key).ok_or(Error::BadHandle)?;
            let grant = Grant::Uses {
                service: route.service.clone(),
                from: route.from.clone(),
            };
            out.push((grant, routes::pass(channel.client_end)?));
        }
        for ((client, service), channel) in &self.routes.channels {
            let provider = self.system.provider_of(service).map(|c| c.name.as_str());
            if provider == Some(spec.name.as_str()) {
                let grant = Grant::Serves {
                    service: service.clone(),
                    client: client.clone(),
                };
                out.push((grant, routes::pass(channel.server_end)?));
            }
        }
        if !spec.provides.is_empty() {
            let stash = match self.stashes.get(&spec.name) {
                Some(&stash) => stash,
                None => {
                    let stash = syscall::memory_create(STASH_BYTES)?;
                    self.stashes.insert(spec.name.clone(), stash);
                    stash
                }
            };
            let rights =
                Rights(Rights::READ.0 | Rights::WRITE.0 | Rights::MAP.0 | Rights::TRANSFER.0);
            let grant = Grant::Stash { bytes: STASH_BYTES };
            out.push((grant, syscall::handle_duplicate(stash, rights)?));
        }
        Ok(())
    }

    /// Spawns `spec`'s program with its bootstrap channel and `grants` (taken).
    fn spawn(
        &mut self,
        spec: &Component,
        grants: &mut Vec<(Grant, Handle)>,
    ) -> Result<Instance, Error> {
        let manifest = Manifest {
            name: spec.name.clone(),
            args: spec.args.clone(),
            grants: grants.iter().map(|(grant, _)| grant.clone()).collect(),
        };
        let bytes =
            abide_ipc::wire::encode_payload(&manifest).map_err(|_| Error::InvalidArgument)?;
        let (bootstrap, child_end) = syscall::channel_create()?;
        if let Err(error) = syscall::channel_write(bootstrap, &bytes, &[]) {
            let _ = syscall::handle_close(bootstrap);
            let _ = syscall::handle_close(child_end);
            return Err(error);
        }
        let mut handles = alloc::vec![child_end];
        handles.extend(grants.iter().map(|(_, handle)| *handle));
        let options = SpawnOptions {
            priority: spec.priority,
            memory_pages: spec.memory_pages,
            handle_quota: spec.handle_quota,
            flags: if spec.persistent { SPAWN_PERSISTENT } else { 0 },
            // Filled in by the runtime: init's own hardware resource.
            authority: 0,
            ..SpawnOptions::default()
        };
        let process = match syscall::process_spawn_with(&spec.program, &handles, &options) {
            Ok(process) => process,
            Err(error) => {
                // A refused spawn leaves the handles here.
                let _ = syscall::handle_close(bootstrap);
                let _ = syscall::handle_close(child_end);
                return Err(error);
            }
        };
        // They moved to the child.
        grants.clear();
        let key = self.next_key;
        self.next_key += 1;
        watch(self.port, process, key, Signals::TERMINATED)?;
        Ok(Instance {
            process,
            id: object_id(process).unwrap_or(0),
            bootstrap,
            key,
        })
    }

    /// Makes the route channels the configuration needs and watches the
    /// `system` routes init serves.
    pub fn update_routes(&mut self) -> Result<(), Error> {
        self.routes.update(&self.system)?;
        let wanted: Vec<Handle> = self.routes.system_channels().map(|(_, h)| h).collect();
        self.system_keys.retain(|_, handle| wanted.contains(handle));
        for handle in wanted {
            if !self.system_keys.values().any(|h| *h == handle) {
                let key = SYSTEM_KEYS + self.next_key;
                self.next_key += 1;
                watch(self.port, handle, key, Signals::READABLE)?;
                self.system_keys.insert(key, handle);
            }
        }
        Ok(())
    }
}

fn close(instance: &Instance) {
    let _ = syscall::handle_close(instance.process);
    let _ = syscall::handle_close(instance.bootstrap);
}

/// Milliseconds since boot, the supervisor's clock.
pub fn now_ms() -> u64 {
    syscall::clock_ns() / 1_000_000
}

/// How a process ended, in words.
pub fn describe(status: &ProcessStatus) -> String {
    match status.state {
        ProcessState::Running => "is running".into(),
        ProcessState::Exited => alloc::format!("exited with status {}", status.code),
        ProcessState::Killed => "was killed".into(),
        ProcessState::Lost => "did not survive the power cut (not persistent)".into(),
        ProcessState::Faulted if status.vector == INJECTED_FAULT_VECTOR => {
            "faulted: injected fault".into()
        }
        ProcessState::Faulted => alloc::format!(
            "faulted: vector {} at address {:#x}, rip {:#x}",
            status.vector,
            status.address,
            status.rip
        ),
    }
}

/// The kernel's id of the object `handle` (in init's table) names.
pub fn object_id(handle: Handle) -> Option<u64> {
    let mut infos = alloc::vec![HandleInfo::default(); 512];
    let count = syscall::process_handles(abide_rt::process_self(), &mut infos).ok()?;
    infos
        .iter()
        .take(count.min(infos.len()))
        .find(|info| info.handle == handle.0)
        .map(|info| info.object)
}
