//! The meaning: statements to the model, with every value checked where it
//! is written. What relates items to each other is checked later
//! ([`crate::validate`]).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::syntax::{Node, Word};
use crate::validate::{
    check_checkpoint_period, check_handle_quota, check_memory_pages, check_name, check_priority,
    check_restarts, check_seconds,
};
use crate::{
    defaults, Child, Component, ConfigError, Group, Intensity, Pos, RestartType, Route,
    ServiceName, Strategy, System, MAX_DEPTH,
};

const TOP_SETTINGS: &str = "checkpoint_period_ms or group";
const GROUP_SETTINGS: &str = "strategy, intensity, component or group";
const COMPONENT_SETTINGS: &str =
    "program, args, priority, memory_pages, handle_quota, provides, uses, persistent or restart";

/// The statement's keyword: its first word, unless quoted.
fn key(node: &Node) -> &str {
    let first = &node.words[0];
    if first.quoted {
        ""
    } else {
        &first.text
    }
}

fn err(errors: &mut Vec<ConfigError>, at: Pos, message: impl Into<String>) {
    errors.push(ConfigError::new(at, message));
}

fn unknown(node: &Node, context: &str, expected: &str, errors: &mut Vec<ConfigError>) {
    let first = &node.words[0];
    let message = if first.quoted {
        format!("expected a {context}setting ({expected}), found a quoted string; setting names are written without quotes")
    } else {
        format!(
            "unknown {context}setting `{}` (expected {expected})",
            first.text
        )
    };
    err(errors, first.at, message);
}

/// The words after the keyword, for a statement that takes no block.
fn values<'n>(node: &'n Node, errors: &mut Vec<ConfigError>) -> &'n [Word] {
    if let Some(block) = &node.block {
        err(
            errors,
            block.open,
            format!("`{}` takes no block", key(node)),
        );
    }
    &node.words[1..]
}

/// The one value of a statement.
fn one<'n>(node: &'n Node, errors: &mut Vec<ConfigError>) -> Option<&'n Word> {
    match values(node, errors) {
        [value] => Some(value),
        [] => {
            err(
                errors,
                node.words[0].at,
                format!("`{}` needs a value", key(node)),
            );
            None
        }
        [_, extra, ..] => {
            err(
                errors,
                extra.at,
                format!(
                    "`{}` takes one value; `{}` is one too many",
                    key(node),
                    extra.text
                ),
            );
            None
        }
    }
}

fn number(word: &Word, errors: &mut Vec<ConfigError>) -> Option<u64> {
    number_text(&word.text, word.at, errors)
}

fn number_text(text: &str, at: Pos, errors: &mut Vec<ConfigError>) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        err(
            errors,
            at,
            format!("`{text}` is not a number (expected digits 0-9)"),
        );
        return None;
    }
    let value = text.parse().ok();
    if value.is_none() {
        err(errors, at, format!("`{text}` is too large"));
    }
    value
}

/// Applies a value check, reporting its failure at `at`.
fn checked<T>(at: Pos, result: Result<T, String>, errors: &mut Vec<ConfigError>) -> Option<T> {
    result.map_err(|message| err(errors, at, message)).ok()
}

/// A name value: the word's text if it is a valid `what`.
fn name(word: &Word, what: &str, errors: &mut Vec<ConfigError>) -> Option<String> {
    checked(word.at, check_name(what, &word.text), errors).map(|()| word.text.clone())
}

/// A setting that may be given once.
struct Once<T> {
    /// Where it was first given.
    first: Option<Pos>,
    /// Its value, if that was valid.
    value: Option<T>,
}

impl<T> Once<T> {
    fn new() -> Self {
        Once {
            first: None,
            value: None,
        }
    }

    /// Whether the setting of `node` is the first; reports it otherwise.
    fn first(&mut self, node: &Node, errors: &mut Vec<ConfigError>) -> bool {
        let at = node.words[0].at;
        match self.first {
            None => {
                self.first = Some(at);
                true
            }
            Some(first) => {
                err(
                    errors,
                    at,
                    format!("`{}` is set twice{}", key(node), first_place(first)),
                );
                false
            }
        }
    }

    fn get(self, default: T) -> T {
        self.value.unwrap_or(default)
    }
}

/// ` (first at line N)`.
fn first_place(at: Pos) -> String {
    format!(" (first at line {})", at.line)
}

/// The name of a `group NAME { ... }` or `component NAME { ... }` header, if
/// the header is well formed.
fn header<'n>(node: &'n Node, what: &str, errors: &mut Vec<ConfigError>) -> Option<&'n Word> {
    let kind = key(node);
    let Some(name) = node.words.get(1) else {
        err(
            errors,
            node.words[0].at,
            format!("`{kind}` needs a name: `{kind} NAME {{ ... }}`"),
        );
        return None;
    };
    if let Some(extra) = node.words.get(2) {
        err(
            errors,
            extra.at,
            format!(
                "expected `{{` after the {kind} name, found `{}`",
                extra.text
            ),
        );
        return None;
    }
    if node.block.is_none() {
        err(
            errors,
            name.at,
            format!(
                "{kind} `{}` needs a block: `{kind} {} {{ ... }}`",
                name.text, name.text
            ),
        );
        return None;
    }
    checked(name.at, check_name(what, &name.text), errors)?;
    Some(name)
}

pub(crate) fn system(nodes: &[Node], errors: &mut Vec<ConfigError>) -> Option<System> {
    let mut checkpoint = Once::new();
    let mut root: Option<Group> = None;
    let mut root_at: Option<Pos> = None;
    for node in nodes {
        match key(node) {
            "checkpoint_period_ms" => {
                if checkpoint.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let n = number(w, errors)?;
                        checked(w.at, check_checkpoint_period(n), errors)
                    });
                    checkpoint.value = value;
                }
            }
            "group" => {
                if let Some(first) = root_at {
                    err(
                        errors,
                        node.words[0].at,
                        format!(
                            "a second top-level group; the file has one root group{} and every other group goes inside it",
                            first_place(first)
                        ),
                    );
                    continue;
                }
                root_at = Some(node.words[0].at);
                root = group(node, 1, errors);
            }
            "component" => err(
                errors,
                node.words[0].at,
                "a component must be inside a group (the top level holds `checkpoint_period_ms` and the root group)",
            ),
            _ => unknown(node, "", TOP_SETTINGS, errors),
        }
    }
    if root_at.is_none() {
        err(
            errors,
            Pos::new(1, 1),
            "there is no root group: the file must hold one `group NAME { ... }`",
        );
    }
    Some(System {
        checkpoint_period_ms: checkpoint.value,
        root: root?,
    })
}

fn group(node: &Node, depth: usize, errors: &mut Vec<ConfigError>) -> Option<Group> {
    let name = header(node, "group name", errors);
    let block = node.block.as_ref()?;
    if depth > MAX_DEPTH {
        err(
            errors,
            name.map_or(node.words[0].at, |n| n.at),
            format!("groups are nested deeper than {MAX_DEPTH} levels"),
        );
        return None;
    }
    let mut strategy = Once::new();
    let mut intensity = Once::new();
    let mut children = Vec::new();
    for node in &block.nodes {
        match key(node) {
            "strategy" => {
                if strategy.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let s = Strategy::from_word(&w.text);
                        if s.is_none() {
                            err(
                                errors,
                                w.at,
                                format!(
                                    "unknown strategy `{}` (expected one_for_one, one_for_all or rest_for_one)",
                                    w.text
                                ),
                            );
                        }
                        s
                    });
                    strategy.value = value;
                }
            }
            "intensity" => {
                if intensity.first(node, errors) {
                    let value = self::intensity(node, errors);
                    intensity.value = value;
                }
            }
            "group" => children.extend(group(node, depth + 1, errors).map(Child::Group)),
            "component" => children.extend(component(node, errors).map(Child::Component)),
            _ => unknown(node, "group ", GROUP_SETTINGS, errors),
        }
    }
    let name = name?;
    Some(Group {
        name: name.text.clone(),
        strategy: strategy.get(defaults::STRATEGY),
        intensity: intensity.get(defaults::INTENSITY),
        children,
        at: name.at,
    })
}

/// `intensity RESTARTS per SECONDSs`.
fn intensity(node: &Node, errors: &mut Vec<ConfigError>) -> Option<Intensity> {
    let [restarts, per, seconds] = values(node, errors) else {
        err(
            errors,
            node.words[0].at,
            "`intensity` is written `intensity RESTARTS per SECONDSs`, e.g. `intensity 5 per 10s`",
        );
        return None;
    };
    if per.text != "per" {
        err(
            errors,
            per.at,
            format!(
                "expected `per` after the number of restarts, found `{}` (e.g. `intensity 5 per 10s`)",
                per.text
            ),
        );
        return None;
    }
    let Some(digits) = seconds.text.strip_suffix('s') else {
        err(
            errors,
            seconds.at,
            format!(
                "expected a number of seconds ending in `s`, found `{}` (e.g. `10s`)",
                seconds.text
            ),
        );
        return None;
    };
    let r = number(restarts, errors).and_then(|n| checked(restarts.at, check_restarts(n), errors));
    let s = number_text(digits, seconds.at, errors)
        .and_then(|n| checked(seconds.at, check_seconds(n), errors));
    Some(Intensity {
        restarts: r?,
        seconds: s?,
    })
}

fn component(node: &Node, errors: &mut Vec<ConfigError>) -> Option<Component> {
    let name = header(node, "component name", errors);
    let block = node.block.as_ref()?;
    let mut program = Once::new();
    let mut priority = Once::new();
    let mut memory_pages = Once::new();
    let mut handle_quota = Once::new();
    let mut persistent = Once::new();
    let mut restart = Once::new();
    let mut args = Vec::new();
    let mut provides = Vec::new();
    let mut uses = Vec::new();
    for node in &block.nodes {
        match key(node) {
            "program" => {
                if program.first(node, errors) {
                    let value = one(node, errors).and_then(|w| self::name(w, "program name", errors));
                    program.value = value;
                }
            }
            "args" => args.extend(values(node, errors).iter().map(|w| w.text.clone())),
            "priority" => {
                if priority.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let n = number(w, errors)?;
                        checked(w.at, check_priority(n), errors)
                    });
                    priority.value = value;
                }
            }
            "memory_pages" => {
                if memory_pages.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let n = number(w, errors)?;
                        checked(w.at, check_memory_pages(n), errors)
                    });
                    memory_pages.value = value;
                }
            }
            "handle_quota" => {
                if handle_quota.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let n = number(w, errors)?;
                        checked(w.at, check_handle_quota(n), errors)
                    });
                    handle_quota.value = value;
                }
            }
            "provides" => {
                let words = values(node, errors);
                if words.is_empty() {
                    err(
                        errors,
                        node.words[0].at,
                        "`provides` needs one or more service names",
                    );
                }
                for w in words {
                    if let Some(name) = self::name(w, "service name", errors) {
                        provides.push(ServiceName { name, at: w.at });
                    }
                }
            }
            "uses" => {
                if let [service, from, provider] = values(node, errors) {
                    if from.text == "from" {
                        let s = self::name(service, "service name", errors);
                        let p = self::name(provider, "component name", errors);
                        if let (Some(service_name), Some(from)) = (s, p) {
                            uses.push(Route {
                                service: service_name,
                                from,
                                at: service.at,
                                from_at: provider.at,
                            });
                        }
                        continue;
                    }
                }
                err(
                    errors,
                    node.words[0].at,
                    "`uses` is written `uses SERVICE from COMPONENT`, e.g. `uses log from log`",
                );
            }
            "persistent" => {
                if persistent.first(node, errors) {
                    let value = match values(node, errors) {
                        [] => Some(true),
                        [w] if w.text == "true" => Some(true),
                        [w] if w.text == "false" => Some(false),
                        [w] | [_, w, ..] => {
                            err(
                                errors,
                                w.at,
                                format!(
                                    "`persistent` takes no value, or `true` or `false`; found `{}`",
                                    w.text
                                ),
                            );
                            None
                        }
                    };
                    persistent.value = value;
                }
            }
            "restart" => {
                if restart.first(node, errors) {
                    let value = one(node, errors).and_then(|w| {
                        let r = RestartType::from_word(&w.text);
                        if r.is_none() {
                            err(
                                errors,
                                w.at,
                                format!(
                                    "unknown restart type `{}` (expected permanent, transient or temporary)",
                                    w.text
                                ),
                            );
                        }
                        r
                    });
                    restart.value = value;
                }
            }
            kind @ ("group" | "component") => err(
                errors,
                node.words[0].at,
                format!(
                    "a {kind} cannot be inside a component (components hold settings; groups hold components and groups)"
                ),
            ),
            _ => unknown(node, "component ", COMPONENT_SETTINGS, errors),
        }
    }
    let name = name?;
    Some(Component {
        name: name.text.clone(),
        program: program.get(name.text.to_string()),
        args,
        priority: priority.get(defaults::PRIORITY),
        memory_pages: memory_pages.get(defaults::MEMORY_PAGES),
        handle_quota: handle_quota.get(defaults::HANDLE_QUOTA),
        provides,
        uses,
        persistent: persistent.get(defaults::PERSISTENT),
        restart: restart.get(defaults::RESTART),
        at: name.at,
    })
}
