//! Property tests of handle tables: random operations on three tables,
//! checked step by step against a model that knows, for every handle ever
//! made, the chain of handles it was derived from (which never changes,
//! unlike the real tree's parent links, which closes rewrite).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use abide_abi::syscall::{Error, Handle, Rights};
use abide_objects::caps::*;
use proptest::prelude::*;
use proptest::sample::Index;
use support::*;

const TABLES: usize = 3;

/// Chooses a handle value for an operation.
#[derive(Debug, Clone)]
enum Pick {
    /// One of the table's live handles (or 0 if it has none).
    Live(Index),
    /// The table's oldest live handle (often the root of a big subtree).
    Oldest,
    /// A value the table issued once but no longer holds (or 0).
    Stale(Index),
    /// Any value, mostly small enough to hit real handles.
    Raw(u32),
}

/// Chooses rights for a duplicate or mint.
#[derive(Debug, Clone)]
enum RightsPick {
    /// These rights, whatever the source has.
    Exact(u32),
    /// The source's rights masked (so usually allowed).
    Subset(u32),
}

#[derive(Debug, Clone)]
enum Op {
    Insert {
        table: usize,
        rights: u32,
    },
    Duplicate {
        table: usize,
        pick: Pick,
        rights: RightsPick,
    },
    Mint {
        table: usize,
        pick: Pick,
        rights: RightsPick,
        badge: u64,
    },
    Close {
        table: usize,
        pick: Pick,
    },
    Revoke {
        table: usize,
        pick: Pick,
    },
    Send {
        table: usize,
        picks: Vec<Pick>,
        exclude: Option<Pick>,
    },
    Receive {
        table: usize,
        which: Index,
    },
    Discard {
        which: Index,
    },
    Destroy {
        table: usize,
    },
}

/// Where a model handle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Table(usize, Handle),
    Transit,
    Gone,
}

/// Everything the model knows about one handle ever made.
#[derive(Debug, Clone)]
struct MNode {
    /// The handles it was derived from, nearest first.
    chain: Vec<usize>,
    cap: Cap<u32>,
    place: Place,
}

struct Harness {
    caps: Capabilities<u32>,
    ids: [TableId; TABLES],
    quotas: [usize; TABLES],
    /// Every handle value each table has issued.
    issued: [BTreeSet<u32>; TABLES],
    nodes: Vec<MNode>,
    /// Handles in flight, with their model nodes in message order.
    transits: Vec<(InTransit<u32>, Vec<usize>)>,
    next_object: u32,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => any::<Index>().prop_map(Pick::Live),
        2 => Just(Pick::Oldest),
        1 => any::<Index>().prop_map(Pick::Stale),
        1 => (0u32..24).prop_map(Pick::Raw),
        1 => any::<u32>().prop_map(Pick::Raw),
    ]
}

fn insert_rights() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(Rights::ALL.0), 1 => 0u32..=0x7f]
}

fn rights_pick() -> impl Strategy<Value = RightsPick> {
    prop_oneof![
        2 => (0u32..=0x7f).prop_map(|mask| RightsPick::Subset(mask | Rights::DUPLICATE.0 | Rights::TRANSFER.0)),
        1 => (0u32..=0x7f).prop_map(RightsPick::Subset),
        1 => Just(RightsPick::Subset(u32::MAX)),
        1 => (0u32..=0xff).prop_map(RightsPick::Exact),
    ]
}

/// Operations that build trees: derivations and moves between tables, with
/// some handles left in flight.
fn grow_op() -> impl Strategy<Value = Op> {
    let table = 0..TABLES;
    prop_oneof![
        1 => (table.clone(), insert_rights()).prop_map(|(table, rights)| Op::Insert { table, rights }),
        6 => (table.clone(), pick(), rights_pick())
            .prop_map(|(table, pick, rights)| Op::Duplicate { table, pick, rights }),
        2 => (table.clone(), pick(), rights_pick(), prop_oneof![Just(0u64), 1u64..4, any::<u64>()])
            .prop_map(|(table, pick, rights, badge)| Op::Mint { table, pick, rights, badge }),
        3 => (table.clone(), proptest::collection::vec(pick(), 1..3), Just(None))
            .prop_map(|(table, picks, exclude)| Op::Send { table, picks, exclude }),
        2 => (table.clone(), any::<Index>()).prop_map(|(table, which)| Op::Receive { table, which }),
    ]
}

/// Any operation.
fn op() -> impl Strategy<Value = Op> {
    let table = 0..TABLES;
    prop_oneof![
        5 => (table.clone(), insert_rights()).prop_map(|(table, rights)| Op::Insert { table, rights }),
        8 => (table.clone(), pick(), rights_pick())
            .prop_map(|(table, pick, rights)| Op::Duplicate { table, pick, rights }),
        3 => (table.clone(), pick(), rights_pick(), prop_oneof![Just(0u64), 1u64..4, any::<u64>()])
            .prop_map(|(table, pick, rights, badge)| Op::Mint { table, pick, rights, badge }),
        2 => (table.clone(), pick()).prop_map(|(table, pick)| Op::Close { table, pick }),
        2 => (table.clone(), pick()).prop_map(|(table, pick)| Op::Revoke { table, pick }),
        4 => (table.clone(), proptest::collection::vec(pick(), 0..4), proptest::option::of(pick()))
            .prop_map(|(table, picks, exclude)| Op::Send { table, picks, exclude }),
        2 => (table.clone(), any::<Index>()).prop_map(|(table, which)| Op::Receive { table, which }),
        1 => any::<Index>().prop_map(|which| Op::Discard { which }),
        1 => table.prop_map(|table| Op::Destroy { table }),
    ]
}

impl Harness {
    fn new(quotas: [usize; TABLES]) -> Self {
        let mut caps = Capabilities::new();
        let ids = quotas.map(|quota| caps.create_table(quota));
        Harness {
            caps,
            ids,
            quotas,
            issued: Default::default(),
            nodes: Vec::new(),
            transits: Vec::new(),
            next_object: 1,
        }
    }

    /// The model's live handles of a table, in order, with their nodes.
    fn live(&self, table: usize) -> BTreeMap<Handle, usize> {
        let mut live = BTreeMap::new();
        for (index, node) in self.nodes.iter().enumerate() {
            if let Place::Table(t, h) = node.place {
                if t == table {
                    live.insert(h, index);
                }
            }
        }
        live
    }

    fn resolve(&self, table: usize, pick: &Pick) -> Handle {
        match pick {
            Pick::Live(index) => {
                let live = self.live(table);
                let chosen = (!live.is_empty()).then(|| index.index(live.len()));
                chosen
                    .and_then(|i| live.keys().nth(i).copied())
                    .unwrap_or(INVALID_HANDLE)
            }
            Pick::Oldest => self
                .live(table)
                .keys()
                .next()
                .copied()
                .unwrap_or(INVALID_HANDLE),
            Pick::Stale(index) => {
                let live = self.live(table);
                let stale: Vec<u32> = self.issued[table]
                    .iter()
                    .copied()
                    .filter(|v| !live.contains_key(&Handle(*v)))
                    .collect();
                let chosen = (!stale.is_empty()).then(|| stale[index.index(stale.len())]);
                Handle(chosen.unwrap_or(0))
            }
            Pick::Raw(value) => Handle(*value),
        }
    }

    fn resolve_rights(&self, table: usize, source: Handle, pick: &RightsPick) -> Rights {
        match pick {
            RightsPick::Exact(bits) => Rights(*bits),
            RightsPick::Subset(mask) => {
                let has = self
                    .live(table)
                    .get(&source)
                    .map_or(Rights::ALL, |n| self.nodes[*n].cap.rights);
                has.intersect(Rights(*mask))
            }
        }
    }

    /// Records a handle the real store just issued: never 0, never reused.
    fn issue(&mut self, table: usize, handle: Handle, node: usize) -> Result<(), TestCaseError> {
        prop_assert_ne!(handle, INVALID_HANDLE);
        prop_assert!(
            self.issued[table].insert(handle.0),
            "handle {:?} reused in table {}",
            handle,
            table
        );
        self.nodes[node].place = Place::Table(table, handle);
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before = self.caps.clone();
        let failed = match op {
            Op::Insert { table, rights } => self.insert(*table, Rights(*rights))?,
            Op::Duplicate {
                table,
                pick,
                rights,
            } => self.derive(*table, pick, rights, None)?,
            Op::Mint {
                table,
                pick,
                rights,
                badge,
            } => self.derive(*table, pick, rights, Some(*badge))?,
            Op::Close { table, pick } => self.close(*table, pick)?,
            Op::Revoke { table, pick } => self.revoke(*table, pick)?,
            Op::Send {
                table,
                picks,
                exclude,
            } => self.send(*table, picks, exclude.as_ref())?,
            Op::Receive { table, which } => self.receive(*table, which)?,
            Op::Discard { which } => self.discard(which)?,
            Op::Destroy { table } => self.destroy(*table)?,
        };
        if failed {
            prop_assert_eq!(&self.caps, &before, "a failed {:?} changed the store", op);
        }
        self.compare()
    }

    /// Predicts the outcome of adding a handle to a table.
    fn room(&self, table: usize, count: usize) -> Result<(), Error> {
        if self.live(table).len() + count > self.quotas[table] {
            Err(Error::NoMemory)
        } else {
            Ok(())
        }
    }

    fn insert(&mut self, table: usize, rights: Rights) -> Result<bool, TestCaseError> {
        let object = self.next_object;
        self.next_object += 1;
        let expected = self.room(table, 1);
        let result = self.caps.insert(self.ids[table], object, rights);
        prop_assert_eq!(result.map(|_| ()), expected);
        if let Ok(handle) = result {
            self.nodes.push(MNode {
                chain: Vec::new(),
                cap: Cap {
                    object,
                    rights,
                    badge: 0,
                },
                place: Place::Gone,
            });
            self.issue(table, handle, self.nodes.len() - 1)?;
        }
        Ok(result.is_err())
    }

    fn derive(
        &mut self,
        table: usize,
        pick: &Pick,
        rights: &RightsPick,
        badge: Option<u64>,
    ) -> Result<bool, TestCaseError> {
        let source = self.resolve(table, pick);
        let rights = self.resolve_rights(table, source, rights);
        let node = self.live(table).get(&source).copied();
        let expected = match node.map(|n| &self.nodes[n].cap) {
            None => Err(Error::BadHandle),
            Some(cap)
                if !cap.rights.contains(Rights::DUPLICATE) || !cap.rights.contains(rights) =>
            {
                Err(Error::AccessDenied)
            }
            Some(cap) if badge.is_some() && cap.badge != 0 => Err(Error::AccessDenied),
            Some(_) => self.room(table, 1),
        };
        let id = self.ids[table];
        let result = match badge {
            Some(badge) => self.caps.mint(id, source, rights, badge),
            None => self.caps.duplicate(id, source, rights),
        };
        prop_assert_eq!(result.map(|_| ()), expected);
        let (Ok(handle), Some(node)) = (result, node) else {
            return Ok(true);
        };
        let parent = self.nodes[node].clone();
        let made = self.caps.get(id, handle).cloned();
        prop_assert_eq!(made.as_ref().map(|cap| cap.rights), Ok(rights));
        prop_assert!(
            parent.cap.rights.contains(rights),
            "rights grew from {:?} to {:?}",
            parent.cap.rights,
            rights
        );
        let mut chain = vec![node];
        chain.extend(parent.chain);
        let cap = Cap {
            object: parent.cap.object,
            rights,
            badge: badge.unwrap_or(parent.cap.badge),
        };
        self.nodes.push(MNode {
            chain,
            cap,
            place: Place::Gone,
        });
        self.issue(table, handle, self.nodes.len() - 1)?;
        Ok(false)
    }

    fn close(&mut self, table: usize, pick: &Pick) -> Result<bool, TestCaseError> {
        let handle = self.resolve(table, pick);
        let node = self.live(table).get(&handle).copied();
        let result = self.caps.close(self.ids[table], handle);
        prop_assert_eq!(
            result,
            node.map(|n| self.nodes[n].cap.object)
                .ok_or(Error::BadHandle)
        );
        if let Some(node) = node {
            self.nodes[node].place = Place::Gone;
        }
        Ok(result.is_err())
    }

    /// The model's descendants of `root` (and `root`), wherever they are.
    fn subtree(&self, root: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].place != Place::Gone)
            .filter(|n| *n == root || self.nodes[*n].chain.contains(&root))
            .collect()
    }

    fn revoke(&mut self, table: usize, pick: &Pick) -> Result<bool, TestCaseError> {
        let handle = self.resolve(table, pick);
        let Some(root) = self.live(table).get(&handle).copied() else {
            prop_assert_eq!(
                self.caps.revoke(self.ids[table], handle),
                Err(Error::BadHandle)
            );
            return Ok(true);
        };
        let doomed = self.subtree(root);
        let mut expected = Vec::new();
        for node in &doomed {
            if let Place::Table(..) = self.nodes[*node].place {
                expected.push(self.nodes[*node].cap.object);
            }
        }
        let result = self.caps.revoke(self.ids[table], handle).map(sorted);
        prop_assert_eq!(result, Ok(sorted(expected)));
        // The property itself, on the real store: every descendant is gone
        // from every table, every other handle still works.
        for (node, model) in self.nodes.iter().enumerate() {
            if let Place::Table(t, h) = model.place {
                let reachable = self.caps.get(self.ids[t], h).is_ok();
                prop_assert_eq!(
                    reachable,
                    !doomed.contains(&node),
                    "node {} after revoking {}",
                    node,
                    root
                );
            }
        }
        for node in doomed {
            self.nodes[node].place = Place::Gone;
        }
        Ok(false)
    }

    fn send(
        &mut self,
        table: usize,
        picks: &[Pick],
        exclude: Option<&Pick>,
    ) -> Result<bool, TestCaseError> {
        let handles: Vec<Handle> = picks.iter().map(|p| self.resolve(table, p)).collect();
        let exclude = exclude.map(|p| self.resolve(table, p));
        let live = self.live(table);
        let mut expected = Ok(());
        let mut seen = BTreeSet::new();
        for handle in &handles {
            let rights = live.get(handle).map(|n| self.nodes[*n].cap.rights);
            expected = if Some(*handle) == exclude {
                Err(Error::InvalidArgument)
            } else if rights.is_none() {
                Err(Error::BadHandle)
            } else if !rights.is_some_and(|r| r.contains(Rights::TRANSFER)) {
                Err(Error::AccessDenied)
            } else if !seen.insert(*handle) {
                Err(Error::InvalidArgument)
            } else {
                Ok(())
            };
            if expected.is_err() {
                break;
            }
        }
        let result = self
            .caps
            .take_for_transfer(self.ids[table], &handles, exclude);
        prop_assert_eq!(result.as_ref().err().copied(), expected.err());
        let Ok(transit) = result else {
            return Ok(true);
        };
        let nodes: Vec<usize> = handles
            .iter()
            .filter_map(|h| live.get(h).copied())
            .collect();
        let objects: Vec<u32> = nodes.iter().map(|n| self.nodes[*n].cap.object).collect();
        prop_assert_eq!(transit.objects().copied().collect::<Vec<_>>(), objects);
        for node in &nodes {
            self.nodes[*node].place = Place::Transit;
        }
        self.transits.push((transit, nodes));
        Ok(false)
    }

    fn receive(&mut self, table: usize, which: &Index) -> Result<bool, TestCaseError> {
        if self.transits.is_empty() {
            return Ok(false);
        }
        let (transit, nodes) = self.transits.remove(which.index(self.transits.len()));
        let alive: Vec<bool> = nodes
            .iter()
            .map(|n| self.nodes[*n].place == Place::Transit)
            .collect();
        let expected = self.room(table, alive.iter().filter(|a| **a).count());
        match self.caps.install(self.ids[table], transit) {
            Err((error, transit)) => {
                prop_assert_eq!(Err(error), expected);
                prop_assert_eq!(transit.len(), nodes.len());
                self.transits.push((transit, nodes));
                Ok(true)
            }
            Ok(installed) => {
                prop_assert_eq!(expected, Ok(()));
                prop_assert_eq!(installed.handles.len(), nodes.len());
                let mut revoked = Vec::new();
                for ((node, handle), alive) in nodes.iter().zip(&installed.handles).zip(alive) {
                    if alive {
                        self.issue(table, *handle, *node)?;
                    } else {
                        prop_assert_eq!(*handle, INVALID_HANDLE);
                        revoked.push(self.nodes[*node].cap.object);
                    }
                }
                prop_assert_eq!(installed.revoked, revoked);
                Ok(false)
            }
        }
    }

    fn discard(&mut self, which: &Index) -> Result<bool, TestCaseError> {
        if self.transits.is_empty() {
            return Ok(false);
        }
        let (transit, nodes) = self.transits.remove(which.index(self.transits.len()));
        let objects: Vec<u32> = nodes.iter().map(|n| self.nodes[*n].cap.object).collect();
        prop_assert_eq!(self.caps.discard(transit), objects);
        for node in nodes {
            self.nodes[node].place = Place::Gone;
        }
        Ok(false)
    }

    /// Destroys a table and puts a fresh one with the same quota in its slot.
    fn destroy(&mut self, table: usize) -> Result<bool, TestCaseError> {
        let live = self.live(table);
        let expected: Vec<u32> = live.values().map(|n| self.nodes[*n].cap.object).collect();
        let old = self.ids[table];
        prop_assert_eq!(sorted(self.caps.destroy_table(old)), sorted(expected));
        for (handle, node) in live {
            prop_assert_eq!(self.caps.get(old, handle), Err(Error::BadHandle));
            self.nodes[node].place = Place::Gone;
        }
        self.ids[table] = self.caps.create_table(self.quotas[table]);
        self.issued[table].clear();
        Ok(false)
    }

    /// The real store holds exactly what the model says, and is consistent.
    fn compare(&self) -> Result<(), TestCaseError> {
        for table in 0..TABLES {
            let real: Vec<(Handle, Cap<u32>)> = self
                .caps
                .handles(self.ids[table])
                .map(|(h, c)| (h, c.clone()))
                .collect();
            let model: Vec<(Handle, Cap<u32>)> = self
                .live(table)
                .into_iter()
                .map(|(h, n)| (h, self.nodes[n].cap.clone()))
                .collect();
            prop_assert_eq!(&real, &model, "table {}", table);
            prop_assert_eq!(self.caps.handle_count(self.ids[table]), model.len());
        }
        let in_flight = self
            .nodes
            .iter()
            .filter(|n| n.place == Place::Transit)
            .count();
        prop_assert_eq!(self.caps.transit_count(), in_flight);
        let alive = self.nodes.iter().filter(|n| n.place != Place::Gone).count();
        prop_assert_eq!(self.caps.node_count(), alive);
        self.caps.check_invariants().map_err(TestCaseError::fail)
    }

    /// Ends the run cleanly: everything in flight is discarded.
    fn finish(mut self) -> Result<(), TestCaseError> {
        while let Some((transit, nodes)) = self.transits.pop() {
            let objects: Vec<u32> = nodes.iter().map(|n| self.nodes[*n].cap.object).collect();
            prop_assert_eq!(self.caps.discard(transit), objects);
            for node in nodes {
                self.nodes[node].place = Place::Gone;
            }
            self.compare()?;
        }
        prop_assert!(self.caps.node_count() <= self.nodes.len());
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random operations on three tables agree with the model at every step:
    /// outcomes and errors, table contents, rights that only shrink, revoke
    /// reaching exactly the descendants, handle values never reused, failed
    /// operations changing nothing, and the tree staying consistent.
    #[test]
    fn operations_agree_with_the_model(
        quotas in [0usize..12, 2usize..24, 8usize..40],
        roots in proptest::collection::vec((0..TABLES, insert_rights()), 0..8),
        growth in proptest::collection::vec(grow_op(), 0..60),
        ops in proptest::collection::vec(op(), 0..150),
    ) {
        let mut harness = Harness::new(quotas);
        let seed = roots.into_iter().map(|(table, rights)| Op::Insert { table, rights });
        for op in &seed.chain(growth).chain(ops).collect::<Vec<_>>() {
            harness.apply(op)?;
        }
        harness.finish()?;
    }

    /// A transfer list with one bad entry anywhere fails with that entry's
    /// error and changes nothing, whatever else the list holds.
    #[test]
    fn a_bad_transfer_entry_changes_nothing(
        table_rights in proptest::collection::vec(0u32..=0x7f, 1..10),
        picks in proptest::collection::vec(any::<Index>(), 0..6),
        bad in 0usize..4,
        at in any::<Index>(),
        derive in proptest::collection::vec(any::<Index>(), 0..6),
    ) {
        let mut caps = Capabilities::new();
        let t = caps.create_table(64);
        let other = caps.create_table(64);
        let channel = caps.insert(t, 0, Rights::ALL).unwrap();
        let mut movable = Vec::new();
        let mut stuck = Vec::new();
        for (object, bits) in table_rights.iter().enumerate() {
            let rights = Rights(*bits);
            let handle = caps.insert(t, object as u32 + 1, rights).unwrap();
            if rights.contains(Rights::TRANSFER) { movable.push(handle) } else { stuck.push(handle) }
        }
        // Some derivations, so the tree has shape.
        for index in derive {
            let source = *index.get(&movable.iter().chain(&stuck).copied().collect::<Vec<_>>());
            if let Ok(copy) = caps.duplicate(t, source, Rights::TRANSFER) {
                let transit = caps.take_for_transfer(t, &[copy], None).unwrap();
                caps.install(other, transit).unwrap();
            }
        }
        let mut list: Vec<Handle> = Vec::new();
        if !movable.is_empty() {
            for index in picks {
                let handle = *index.get(&movable);
                if !list.contains(&handle) { list.push(handle) }
            }
        }
        // A repeated entry must come after the one it repeats.
        let (entry, error, earliest) = match bad {
            0 => (Handle(10_000), Error::BadHandle, 0),
            1 if !stuck.is_empty() => (stuck[0], Error::AccessDenied, 0),
            2 if !list.is_empty() => (list[0], Error::InvalidArgument, 1),
            _ => (channel, Error::InvalidArgument, 0),
        };
        let position = earliest + at.index(list.len() + 1 - earliest);
        list.insert(position, entry);
        let before = caps.clone();
        let result = caps.take_for_transfer(t, &list, Some(channel));
        prop_assert_eq!(result.map(|transit| transit.len()), Err(error));
        prop_assert_eq!(&caps, &before);
    }
}
