//! The cycle rule on hand-built graphs, and a property test: whatever a
//! process does with channels under the rule, closing its handles frees
//! every endpoint.

use abide_objects::enclose::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Endpoint ids to the objects queued at them.
#[derive(Default)]
struct Graph(BTreeMap<u32, Vec<u32>>);

impl Queues<u32> for Graph {
    fn for_each_queued(&self, endpoint: u32, visit: &mut dyn FnMut(u32)) {
        for &object in self.0.get(&endpoint).into_iter().flatten() {
            visit(object);
        }
    }
}

#[test]
fn an_endpoint_may_not_go_into_its_own_queue() {
    // Channel 1–2: B (2) written through A (1) lands in B's queue.
    let graph = Graph::default();
    assert_eq!(check_write(&graph, 1, 2, &[2]), Err(Refusal::Cycle));
}

#[test]
fn a_channel_may_not_carry_its_own_end() {
    let graph = Graph::default();
    assert_eq!(check_write(&graph, 1, 2, &[1]), Err(Refusal::OwnEndpoint));
}

#[test]
fn a_longer_cycle_is_refused() {
    // A–B = 1–2, C–D = 3–4. D written through A sits in B's queue.
    let mut graph = Graph::default();
    assert_eq!(check_write(&graph, 1, 2, &[4]), Ok(()));
    graph.0.insert(2, vec![4]);
    // B written through C would sit in D's queue: B → D → B.
    assert_eq!(check_write(&graph, 3, 4, &[2]), Err(Refusal::Cycle));
    // Through a third channel, deeper: E–F = 5–6, F holds B; F into D.
    graph.0.insert(6, vec![2]);
    assert_eq!(check_write(&graph, 3, 4, &[6]), Err(Refusal::Cycle));
}

#[test]
fn ordinary_transfers_pass() {
    let mut graph = Graph::default();
    // A channel end, a memory object (7) and another channel's end.
    graph.0.insert(4, vec![7, 5]);
    assert_eq!(check_write(&graph, 1, 2, &[3, 7]), Ok(()));
    assert_eq!(check_write(&graph, 1, 2, &[4]), Ok(()));
    // The same endpoint reached twice (a diamond) is no cycle.
    graph.0.insert(5, vec![7]);
    graph.0.insert(9, vec![4, 5]);
    assert_eq!(check_write(&graph, 1, 2, &[9, 4]), Ok(()));
}

#[test]
fn a_walk_past_the_budget_is_refused() {
    let mut graph = Graph::default();
    // A chain 100 → 101 → ... long enough to pass the budget.
    for id in 100..(100 + WALK_BUDGET as u32 + 10) {
        graph.0.insert(id, vec![id + 1]);
    }
    assert_eq!(check_write(&graph, 1, 2, &[100]), Err(Refusal::TooDeep));
    // A short one passes.
    assert_eq!(
        check_write(&graph, 1, 2, &[100 + WALK_BUDGET as u32]),
        Ok(())
    );
}

/// One process's channels, modelled with reference counts the way the
/// kernel keeps them: endpoints `2k` and `2k + 1` are peers.
#[derive(Default)]
struct World {
    /// The handles in the process's table (endpoint ids).
    table: Vec<u32>,
    /// Live endpoints and their queues.
    queues: BTreeMap<u32, Vec<u32>>,
}

impl Queues<u32> for World {
    fn for_each_queued(&self, endpoint: u32, visit: &mut dyn FnMut(u32)) {
        for &object in self.queues.get(&endpoint).into_iter().flatten() {
            visit(object);
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create,
    /// Through table slot `through`, send the handle in slot `sent`.
    Write {
        through: usize,
        sent: usize,
    },
    Read(usize),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Create),
        4 => (0..8usize, 0..8usize).prop_map(|(through, sent)| Op::Write { through, sent }),
        1 => (0..8usize).prop_map(Op::Read),
        2 => (0..8usize).prop_map(Op::Close),
    ]
}

impl World {
    fn references(&self, endpoint: u32) -> usize {
        let queued = self.queues.values().flatten().filter(|&&o| o == endpoint);
        self.table.iter().filter(|&&o| o == endpoint).count() + queued.count()
    }

    /// Drops one reference to `endpoint`; frees it and what it queued when
    /// it was the last.
    fn release(&mut self, endpoint: u32) {
        let mut work = vec![endpoint];
        while let Some(endpoint) = work.pop() {
            if self.references(endpoint) == 0 {
                if let Some(queued) = self.queues.remove(&endpoint) {
                    work.extend(queued);
                }
            }
        }
    }

    fn apply(&mut self, op: &Op, next: &mut u32, checked: bool) {
        match *op {
            Op::Create => {
                for id in [*next, *next + 1] {
                    self.queues.insert(id, Vec::new());
                    self.table.push(id);
                }
                *next += 2;
            }
            Op::Write { through, sent } => {
                let (Some(&writer), Some(&handle)) =
                    (self.table.get(through), self.table.get(sent))
                else {
                    return;
                };
                let receiver = writer ^ 1;
                if through == sent || !self.queues.contains_key(&receiver) {
                    return;
                }
                if checked && check_write(self, writer, receiver, &[handle]).is_err() {
                    return;
                }
                self.table.remove(sent);
                self.queues.entry(receiver).or_default().push(handle);
            }
            Op::Read(slot) => {
                let Some(&end) = self.table.get(slot) else {
                    return;
                };
                if let Some(queue) = self.queues.get_mut(&end) {
                    if !queue.is_empty() {
                        let handle = queue.remove(0);
                        self.table.push(handle);
                    }
                }
            }
            Op::Close(slot) => {
                if slot < self.table.len() {
                    let end = self.table.remove(slot);
                    self.release(end);
                }
            }
        }
    }

    fn close_everything(&mut self) {
        while let Some(end) = self.table.pop() {
            self.release(end);
        }
    }
}

#[test]
fn without_the_rule_the_simple_attack_leaks() {
    let mut world = World::default();
    let mut next = 0;
    // Slots: 0 = A, 1 = B. Write B through A, then close A.
    for op in [
        Op::Create,
        Op::Write {
            through: 0,
            sent: 1,
        },
    ] {
        world.apply(&op, &mut next, false);
    }
    world.close_everything();
    assert_eq!(world.queues.keys().copied().collect::<Vec<_>>(), vec![1]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn under_the_rule_closing_every_handle_frees_every_endpoint(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let mut world = World::default();
        let mut next = 0;
        for op in &ops {
            world.apply(op, &mut next, true);
        }
        world.close_everything();
        prop_assert!(world.queues.is_empty(), "leaked {:?}", world.queues);
    }
}
