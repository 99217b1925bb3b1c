//! Selective decoding: the trie of requested key paths ([`Selection`]) and the per-value
//! decision ([`Sel`]) of whether to build a value fully, build it as a dict on the way to a
//! selection, or step over it.

use crate::value::parse_canonical_int;

/// How much of a value to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sel(u32);

impl Sel {
    /// Build everything (a selected subtree, or a full decode).
    pub(crate) const BUILD: Sel = Sel(u32::MAX);
    /// Step over the value: build only cheap things that may be memo-referenced later.
    pub(crate) const SKIP: Sel = Sel(u32::MAX - 1);

    /// On the way to a selection: a dict here keeps only the keys the trie node names.
    pub(crate) fn path(node: u32) -> Sel {
        debug_assert!(node < u32::MAX - 1);
        Sel(node)
    }

    /// The trie node of a path selection.
    pub(crate) fn node(self) -> Option<u32> {
        (self.0 < u32::MAX - 1).then_some(self.0)
    }

    /// The least selection that contains both (used when the pickle leaves it ambiguous which
    /// of two dicts a value belongs to).
    pub(crate) fn union(self, other: Sel) -> Sel {
        if self == other || other == Sel::SKIP {
            self
        } else if self == Sel::SKIP {
            other
        } else {
            Sel::BUILD
        }
    }
}

/// A dict key as far as path matching is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Key<'k> {
    Str(&'k str),
    Int(i128),
    Bool(bool),
    /// Hashable but not addressable by a path (float, bytes, tuple, None).
    Other,
}

#[derive(Debug)]
struct Node {
    terminal: bool,
    children: Vec<Child>,
}

#[derive(Debug)]
struct Child {
    segment: Box<str>,
    int: Option<i128>,
    node: u32,
}

/// The requested dotted paths as a trie; node 0 is the root.
#[derive(Debug)]
pub(crate) struct Selection {
    nodes: Vec<Node>,
}

impl Selection {
    /// Everything is selected.
    pub(crate) fn all() -> Selection {
        Selection {
            nodes: vec![Node {
                terminal: true,
                children: Vec::new(),
            }],
        }
    }

    /// The trie of `paths`; the empty path selects everything.
    pub(crate) fn new<S: AsRef<str>>(paths: &[S]) -> Selection {
        let mut nodes = vec![Node {
            terminal: false,
            children: Vec::new(),
        }];
        for path in paths {
            let path = path.as_ref();
            let mut at = 0usize;
            if !path.is_empty() {
                for segment in path.split('.') {
                    let existing = nodes[at]
                        .children
                        .iter()
                        .find(|c| &*c.segment == segment)
                        .map(|c| c.node as usize);
                    at = match existing {
                        Some(n) => n,
                        None => {
                            let n = nodes.len();
                            nodes.push(Node {
                                terminal: false,
                                children: Vec::new(),
                            });
                            nodes[at].children.push(Child {
                                segment: segment.into(),
                                int: parse_canonical_int(segment),
                                node: n as u32,
                            });
                            n
                        }
                    };
                }
            }
            nodes[at].terminal = true;
        }
        Selection { nodes }
    }

    /// The selection of the top-level value.
    pub(crate) fn root(&self) -> Sel {
        self.sel_of(0)
    }

    fn sel_of(&self, node: u32) -> Sel {
        if self.nodes[node as usize].terminal {
            Sel::BUILD
        } else {
            Sel::path(node)
        }
    }

    /// The selection of the value stored under `key` in a dict selected by `parent`.
    pub(crate) fn child(&self, parent: Sel, key: Option<Key<'_>>) -> Sel {
        let Some(node) = parent.node() else {
            return parent;
        };
        let children = &self.nodes[node as usize].children;
        let found = match key {
            Some(Key::Str(s)) => children.iter().find(|c| &*c.segment == s),
            Some(Key::Int(i)) => children.iter().find(|c| c.int == Some(i)),
            Some(Key::Bool(b)) => {
                let text = if b { "True" } else { "False" };
                children.iter().find(|c| &*c.segment == text)
            }
            Some(Key::Other) | None => None,
        };
        found.map_or(Sel::SKIP, |c| self.sel_of(c.node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trie_selects_paths_and_prefixes() {
        let s = Selection::new(&["a.b", "a.c.d", "n.1"]);
        let root = s.root();
        assert!(root.node().is_some());
        let a = s.child(root, Some(Key::Str("a")));
        assert!(a.node().is_some());
        assert_eq!(s.child(a, Some(Key::Str("b"))), Sel::BUILD);
        assert_eq!(s.child(a, Some(Key::Str("x"))), Sel::SKIP);
        assert!(s.child(a, Some(Key::Str("c"))).node().is_some());
        let n = s.child(root, Some(Key::Str("n")));
        assert_eq!(s.child(n, Some(Key::Int(1))), Sel::BUILD);
        assert_eq!(s.child(n, Some(Key::Other)), Sel::SKIP);
        assert_eq!(s.child(Sel::BUILD, Some(Key::Str("zzz"))), Sel::BUILD);
    }

    #[test]
    fn shorter_path_wins() {
        let s = Selection::new(&["a.b", "a"]);
        assert_eq!(s.child(s.root(), Some(Key::Str("a"))), Sel::BUILD);
        assert_eq!(Selection::new(&[""]).root(), Sel::BUILD);
        assert_eq!(Selection::all().root(), Sel::BUILD);
    }

    #[test]
    fn union_is_least_upper_bound() {
        let p = Sel::path(3);
        assert_eq!(p.union(Sel::SKIP), p);
        assert_eq!(Sel::SKIP.union(p), p);
        assert_eq!(p.union(Sel::path(4)), Sel::BUILD);
        assert_eq!(p.union(Sel::BUILD), Sel::BUILD);
        assert_eq!(Sel::SKIP.union(Sel::SKIP), Sel::SKIP);
    }
}
