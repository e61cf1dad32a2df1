//! The read plan as the native reader needs it: dotted field paths compiled into one key trie.

use std::collections::HashMap;

/// One key of the trie: a field mlmon reads, or an object on the way to one.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    /// The name's `KeySig`, compared before (and for names up to 16 bytes instead of) the bytes.
    pub sig: KeySig,
    pub children: Vec<usize>,
    /// Children by name, for objects with many wanted keys (named features).
    pub index: Option<HashMap<String, usize>>,
}

/// A key's length and two machine words of its bytes: for keys of up to 16 bytes the words hold
/// every byte (overlapping loads from both ends), so two keys of that length are equal exactly
/// when their signatures are; longer keys compare their bytes after the signature matched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeySig {
    len: usize,
    head: u64,
    tail: u64,
}

impl KeySig {
    #[inline]
    pub fn of(s: &[u8]) -> KeySig {
        let len = s.len();
        let (head, tail) = if len >= 8 {
            (
                u64::from_le_bytes(s[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(s[len - 8..].try_into().expect("8 bytes")),
            )
        } else if len >= 4 {
            (
                u32::from_le_bytes(s[..4].try_into().expect("4 bytes")) as u64,
                u32::from_le_bytes(s[len - 4..].try_into().expect("4 bytes")) as u64,
            )
        } else if len > 0 {
            let b = |i: usize| s[i] as u64;
            (b(0) | b(len / 2) << 8 | b(len - 1) << 16, 0)
        } else {
            (0, 0)
        };
        KeySig { len, head, tail }
    }
}

/// The wanted keys of a record; node 0 is the record itself.
#[derive(Debug)]
pub struct Trie {
    pub nodes: Vec<Node>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::default()],
        }
    }
}

impl Trie {
    /// Insert a dotted path below `from` (split on every `.`, as `str.split(".")` does);
    /// returns the node ids along it, `from` excluded.
    pub fn insert(&mut self, from: usize, dotted: &str) -> Vec<usize> {
        let mut at = from;
        let mut out = Vec::new();
        for part in dotted.split('.') {
            at = self.key(at, part);
            out.push(at);
        }
        out
    }

    /// Insert one key below `from`, whole: a feature name is a key of the features object
    /// (`score.v2` is never the path score -> v2).
    pub fn insert_key(&mut self, from: usize, key: &str) -> Vec<usize> {
        vec![self.key(from, key)]
    }

    fn key(&mut self, at: usize, part: &str) -> usize {
        let found = self.nodes[at]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].name == part);
        match found {
            Some(c) => c,
            None => {
                let id = self.nodes.len();
                self.nodes.push(Node {
                    name: part.to_owned(),
                    sig: KeySig::of(part.as_bytes()),
                    ..Node::default()
                });
                self.nodes[at].children.push(id);
                id
            }
        }
    }

    /// Build the name index of nodes with many children (call after the last insert).
    pub fn finish(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].children.len() > 8 {
                let index = self.nodes[i]
                    .children
                    .iter()
                    .map(|&c| (self.nodes[c].name.clone(), c))
                    .collect();
                self.nodes[i].index = Some(index);
            }
        }
    }

    /// The child of `node` called `key`, if mlmon reads it.
    #[inline]
    pub fn child(&self, node: usize, key: &str) -> Option<usize> {
        let n = &self.nodes[node];
        if let Some(index) = &n.index {
            return index.get(key).copied();
        }
        let sig = KeySig::of(key.as_bytes());
        n.children.iter().copied().find(|&c| {
            let child = &self.nodes[c];
            child.sig == sig && (sig.len <= 16 || child.name.as_str() == key)
        })
    }
}

/// How a feature is read: a number, or text (a category).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureKind {
    Numeric,
    Categorical,
}

/// The serving fields of `mlmon summary`, as node paths.
#[derive(Debug)]
pub struct SummaryPaths {
    pub latency: Vec<usize>,
    pub status: Vec<usize>,
    pub success: Vec<usize>,
    pub prediction: Vec<usize>,
    pub pred_class: Vec<usize>,
    pub confidence: Vec<usize>,
}

/// The features of `mlmon drift`: the features object (or list) and each feature below it.
#[derive(Debug)]
pub struct FeaturePaths {
    pub path: Vec<usize>,
    /// Node id of the features value (its list elements are kept).
    pub node: usize,
    /// Per feature: its kind and its path below the features node.
    pub specs: Vec<(FeatureKind, Vec<usize>)>,
}

/// Everything the block parser needs, built once per run from mlmon's ReadPlan.
#[derive(Debug)]
pub struct Plan {
    pub trie: Trie,
    pub timestamp: Vec<usize>,
    pub by: Option<Vec<usize>>,
    /// The join field (`--join-field`, read with labels), kept as text like the group.
    pub join: Option<Vec<usize>>,
    pub summary: Option<SummaryPaths>,
    pub features: Option<FeaturePaths>,
    pub marker: Option<Vec<u8>>,
    /// Status texts that mean success (compared with the lower-cased status).
    pub success_values: Vec<String>,
    /// Times with no offset are UTC (the log's time zone is UTC); else Python reads them.
    pub naive_utc: bool,
}

/// The summary field paths under mlmon's default field options (latency, status, success,
/// prediction, class, confidence): for tests, examples and the fuzz target; a run's plan always
/// comes from Python.
pub const DEFAULT_SUMMARY: [&str; 6] = [
    "latency_ms",
    "status",
    "success",
    "prediction",
    "prediction.class",
    "prediction.confidence",
];

/// Field paths of a plan as mlmon's FieldMap spells them.
pub struct Fields<'a> {
    pub timestamp: &'a str,
    pub by: Option<&'a str>,
    pub join: Option<&'a str>,
    /// latency, status, success, prediction, pred_class, confidence
    pub summary: Option<[&'a str; 6]>,
    pub features: Option<(&'a str, Vec<(FeatureKind, &'a str)>)>,
}

impl Plan {
    pub fn new(fields: Fields<'_>, marker: Option<Vec<u8>>, success_values: Vec<String>) -> Plan {
        let mut trie = Trie::default();
        let timestamp = trie.insert(0, fields.timestamp);
        let by = fields.by.map(|p| trie.insert(0, p));
        let join = fields.join.map(|p| trie.insert(0, p));
        let summary = fields.summary.map(|s| SummaryPaths {
            latency: trie.insert(0, s[0]),
            status: trie.insert(0, s[1]),
            success: trie.insert(0, s[2]),
            prediction: trie.insert(0, s[3]),
            pred_class: trie.insert(0, s[4]),
            confidence: trie.insert(0, s[5]),
        });
        let features = fields.features.map(|(path, specs)| {
            let path = trie.insert(0, path);
            let node = *path.last().expect("a path has at least one part");
            let specs = specs
                .into_iter()
                .map(|(kind, name)| (kind, trie.insert_key(node, name)))
                .collect();
            FeaturePaths { path, node, specs }
        });
        trie.finish();
        Plan {
            trie,
            timestamp,
            by,
            join,
            summary,
            features,
            marker,
            success_values,
            naive_utc: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_share_prefixes_and_split_on_every_dot() {
        let mut t = Trie::default();
        let a = t.insert(0, "prediction.class");
        let b = t.insert(0, "prediction");
        let c = t.insert(0, "a..b");
        assert_eq!(a[0], b[0]);
        assert_eq!(c.len(), 3);
        assert_eq!(t.nodes[c[1]].name, "");
        t.finish();
        assert_eq!(t.child(0, "prediction"), Some(b[0]));
        assert_eq!(t.child(b[0], "class"), Some(a[1]));
        assert_eq!(t.child(0, "nope"), None);
    }

    #[test]
    fn keys_match_by_signature_only_when_equal() {
        let names = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "abcd",
            "abce",
            "abcde",
            "abxde",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghijklmno",
            "abcdefghijklmnop",
            "abcdefghXjklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "abcdefgh_ijklmnopq",
            "é",
            "e\u{301}",
        ];
        let mut t = Trie::default();
        let ids: Vec<usize> = names.iter().map(|n| t.insert_key(0, n)[0]).collect();
        let root = Trie {
            nodes: t.nodes.clone(),
        };
        for (name, id) in names.iter().zip(&ids) {
            assert_eq!(root.child(0, name), Some(*id), "{name:?}");
        }
        for other in [
            "abcdefgh_ijklmnopr",
            "abcdefghijklmnoq",
            "abcdf",
            "x",
            "abcdefghijklmnop ",
        ] {
            assert_eq!(root.child(0, other), None, "{other:?}");
        }
    }

    #[test]
    fn many_children_are_indexed() {
        let mut t = Trie::default();
        let ids: Vec<usize> = (0..20).map(|i| t.insert(0, &format!("f{i}"))[0]).collect();
        t.finish();
        assert!(t.nodes[0].index.is_some());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(t.child(0, &format!("f{i}")), Some(*id));
        }
    }
}
