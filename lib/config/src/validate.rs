//! The rules: checks of single values (shared with the parser, which applies
//! them where the value is written) and the checks that relate items to each
//! other.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::{
    Component, ConfigError, Group, Intensity, Pos, System, MAX_CHECKPOINT_PERIOD_MS, MAX_DEPTH,
    MAX_HANDLE_QUOTA, MAX_INTENSITY_RESTARTS, MAX_INTENSITY_SECONDS, MAX_MEMORY_PAGES,
    MAX_PRIORITY,
};

/// ` (line N)` when `at` is known: where an earlier item is.
pub(crate) fn place(at: Pos) -> String {
    if at.is_known() {
        format!(" (line {})", at.line)
    } else {
        String::new()
    }
}

/// Names of groups, components, services and programs: 1..=64 of
/// `[a-z0-9_-]`, the names the program bundle can hold.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err(format!("the {what} is empty"))
    } else if abide_bundle::is_valid_name(name) {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid {what} (use 1 to {} of a-z, 0-9, `_` and `-`)",
            abide_bundle::MAX_NAME_LEN
        ))
    }
}

pub(crate) fn check_priority(value: u64) -> Result<u8, String> {
    match u8::try_from(value) {
        Ok(p) if p <= MAX_PRIORITY => Ok(p),
        _ => Err(format!(
            "priority {value} is out of range (0 lowest ..= {MAX_PRIORITY} highest)"
        )),
    }
}

pub(crate) fn check_memory_pages(value: u64) -> Result<u64, String> {
    if (1..=MAX_MEMORY_PAGES).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "memory quota of {value} pages is out of range (1..={MAX_MEMORY_PAGES})"
        ))
    }
}

pub(crate) fn check_handle_quota(value: u64) -> Result<u32, String> {
    match u32::try_from(value) {
        Ok(q) if (1..=MAX_HANDLE_QUOTA).contains(&q) => Ok(q),
        _ => Err(format!(
            "handle quota of {value} is out of range (1..={MAX_HANDLE_QUOTA})"
        )),
    }
}

pub(crate) fn check_restarts(value: u64) -> Result<u32, String> {
    match u32::try_from(value) {
        Ok(r) if r <= MAX_INTENSITY_RESTARTS => Ok(r),
        _ => Err(format!(
            "{value} restarts is out of range (0..={MAX_INTENSITY_RESTARTS})"
        )),
    }
}

pub(crate) fn check_seconds(value: u64) -> Result<u32, String> {
    match u32::try_from(value) {
        Ok(s) if (1..=MAX_INTENSITY_SECONDS).contains(&s) => Ok(s),
        _ => Err(format!(
            "an intensity window of {value} seconds is out of range (1..={MAX_INTENSITY_SECONDS})"
        )),
    }
}

pub(crate) fn check_checkpoint_period(value: u64) -> Result<u64, String> {
    if (1..=MAX_CHECKPOINT_PERIOD_MS).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "checkpoint period of {value} ms is out of range (1..={MAX_CHECKPOINT_PERIOD_MS})"
        ))
    }
}

enum Kind {
    Group,
    Component,
}

struct Checker<'s> {
    errors: Vec<ConfigError>,
    /// Every group and component by name, the first of each name.
    names: BTreeMap<&'s str, (Kind, Pos)>,
    /// Every provided service: its provider and where it says so.
    services: BTreeMap<&'s str, (&'s str, Pos)>,
    components: Vec<&'s Component>,
}

impl<'s> Checker<'s> {
    fn check(&mut self, at: Pos, result: Result<impl Sized, String>) {
        if let Err(message) = result {
            self.errors.push(ConfigError::new(at, message));
        }
    }

    fn name(&mut self, name: &'s str, kind: Kind, at: Pos) {
        let what = match kind {
            Kind::Group => "group name",
            Kind::Component => "component name",
        };
        self.check(at, check_name(what, name));
        if name == crate::INIT {
            self.errors.push(ConfigError::new(
                at,
                format!("the name `{name}` is reserved: routes use it for init itself"),
            ));
        } else if let Some((first, first_at)) = self.names.get(name) {
            let first = match first {
                Kind::Group => "a group",
                Kind::Component => "a component",
            };
            self.errors.push(ConfigError::new(
                at,
                format!(
                    "the name `{name}` is already used by {first}{}; names must be unique",
                    place(*first_at)
                ),
            ));
        } else {
            self.names.insert(name, (kind, at));
        }
    }

    fn group(&mut self, group: &'s Group, depth: usize) {
        if depth > MAX_DEPTH {
            self.errors.push(ConfigError::new(
                group.at,
                format!("groups are nested deeper than {MAX_DEPTH} levels"),
            ));
            return;
        }
        self.name(&group.name, Kind::Group, group.at);
        let Intensity { restarts, seconds } = group.intensity;
        self.check(group.at, check_restarts(restarts.into()));
        self.check(group.at, check_seconds(seconds.into()));
        if group.children.is_empty() {
            self.errors.push(ConfigError::new(
                group.at,
                format!("group `{}` has no children", group.name),
            ));
        }
        for child in &group.children {
            match child {
                crate::Child::Component(c) => self.component(c),
                crate::Child::Group(g) => self.group(g, depth + 1),
            }
        }
    }

    fn component(&mut self, c: &'s Component) {
        self.name(&c.name, Kind::Component, c.at);
        self.check(c.at, check_name("program name", &c.program));
        self.check(c.at, check_priority(c.priority.into()));
        self.check(c.at, check_memory_pages(c.memory_pages));
        self.check(c.at, check_handle_quota(c.handle_quota.into()));
        for service in &c.provides {
            let name = service.name.as_str();
            self.check(service.at, check_name("service name", name));
            if let Some((provider, first_at)) = self.services.get(name) {
                let message = if *provider == c.name {
                    format!("component `{}` provides `{name}` twice", c.name)
                } else {
                    format!(
                        "service `{name}` is already provided by `{provider}`{}; a service has one provider",
                        place(*first_at)
                    )
                };
                self.errors.push(ConfigError::new(service.at, message));
            } else {
                self.services.insert(name, (&c.name, service.at));
            }
        }
        self.components.push(c);
    }

    /// The routes, once every name and service is known.
    fn routes(&mut self) {
        for c in core::mem::take(&mut self.components) {
            let mut used: BTreeMap<&str, Pos> = BTreeMap::new();
            for route in &c.uses {
                let (service, from, at) = (route.service.as_str(), route.from.as_str(), route.at);
                let names = [
                    (at, check_name("service name", service)),
                    (route.from_at, check_name("component name", from)),
                ];
                if names.iter().any(|(_, result)| result.is_err()) {
                    for (at, result) in names {
                        self.check(at, result);
                    }
                    continue;
                }
                if let Some(first_at) = used.insert(service, at) {
                    self.errors.push(ConfigError::new(
                        at,
                        format!(
                            "component `{}` already uses `{service}`{}",
                            c.name,
                            place(first_at)
                        ),
                    ));
                    continue;
                }
                if c.provides.iter().any(|s| s.name == service) {
                    self.errors.push(ConfigError::new(
                        at,
                        format!(
                            "component `{}` uses `{service}`, which it provides itself",
                            c.name
                        ),
                    ));
                    continue;
                }
                // The rest is about the provider the route names.
                let at = route.from_at;
                let message = if from == crate::INIT {
                    if crate::init_service(service).is_some() {
                        continue;
                    }
                    let offered: Vec<&str> = crate::INIT_SERVICES.iter().map(|(s, _)| *s).collect();
                    format!(
                        "init does not provide `{service}` (it provides {})",
                        offered.join(", ")
                    )
                } else if from == c.name {
                    format!("component `{}` routes `{service}` from itself", c.name)
                } else {
                    let provider = self.services.get(service).map(|(p, _)| *p);
                    let hint = match provider {
                        Some(p) => format!("`{service}` is provided by `{p}`"),
                        None => format!("no component provides `{service}`"),
                    };
                    match self.names.get(from) {
                        None => format!("there is no component named `{from}` ({hint})"),
                        Some((Kind::Group, _)) => format!(
                            "`{from}` is a group; a route names the component that provides the service ({hint})"
                        ),
                        Some((Kind::Component, _)) if provider == Some(from) => continue,
                        Some((Kind::Component, _)) => {
                            format!("`{from}` does not provide `{service}` ({hint})")
                        }
                    }
                };
                self.errors.push(ConfigError::new(at, message));
            }
        }
    }
}

/// Every rule broken by `system`, sorted by position.
pub(crate) fn system(system: &System) -> Vec<ConfigError> {
    let mut checker = Checker {
        errors: Vec::new(),
        names: BTreeMap::new(),
        services: BTreeMap::new(),
        components: Vec::new(),
    };
    if let Some(ms) = system.checkpoint_period_ms {
        checker.check(Pos::default(), check_checkpoint_period(ms));
    }
    checker.group(&system.root, 1);
    checker.routes();
    let mut errors = checker.errors;
    errors.sort_by_key(ConfigError::pos);
    errors
}
