//! Random configurations: valid systems built in code print and parse back,
//! and any text, or a mangled default file, is parsed or refused without a
//! panic.

mod support;

use abide_config::Strategy;
use abide_config::*;
use proptest::prelude::*;
use proptest::strategy::Strategy as Gen;
use support::DEFAULT;

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
    let strategy = proptest::sample::select(abide_config::Strategy::ALL.to_vec());
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
fn build(root: (abide_config::Strategy, Intensity, Vec<Shape>), checkpoint: Option<u64>) -> System {
    fn group(
        name: String,
        strategy: abide_config::Strategy,
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
        strategy in proptest::sample::select(abide_config::Strategy::ALL.to_vec()),
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
