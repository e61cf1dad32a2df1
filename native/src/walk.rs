//! One record through serde_json: the wanted keys are kept, every other value is checked and skipped.
//!
//! serde_json does the parsing (strict JSON, UTF-8, escapes); this module only decides, key by key,
//! what to keep. A key that appears twice in one object is marked (Python's `_Obj.dups`), values
//! mlmon does not read go through `IgnoredAny`.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::plan::Trie;

/// A JSON value at a wanted key, as far as the checks need it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// `null`, or the key is absent (Python's `dict.get` gives None for both).
    None,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A number serde_json read as a float (also `-0` and integers beyond 64 bits).
    Float(f64),
    /// A string: a byte range of the record text (start marked with `BORROWED`) when it has no
    /// escapes, else of the walk's text arena.
    Str(u32, u32),
    Obj,
    /// A list: a range of the walk's kept elements (empty unless the node keeps them).
    List(u32, u32),
}

/// Marks a `Val::Str` start that is an offset into the record text rather than the arena.
const BORROWED: u32 = 1 << 31;

/// The values of one record at the trie's nodes.
pub struct Walk {
    pub slots: Vec<Val>,
    pub dup: Vec<bool>,
    /// The object (by serial number) in which each node was last seen.
    seen_in: Vec<u32>,
    serial: u32,
    pub arena: String,
    pub elems: Vec<Val>,
    /// The node whose list elements are kept (positional features), or usize::MAX.
    keep_list: usize,
    /// Address of the record text being parsed: strings without escapes are ranges of it.
    src: usize,
}

impl Walk {
    pub fn new(trie: &Trie, keep_list: Option<usize>) -> Walk {
        let n = trie.nodes.len();
        Walk {
            slots: vec![Val::None; n],
            dup: vec![false; n],
            seen_in: vec![0; n],
            serial: 0,
            arena: String::new(),
            elems: Vec::new(),
            keep_list: keep_list.unwrap_or(usize::MAX),
            src: 0,
        }
    }

    fn reset(&mut self) {
        self.slots.fill(Val::None);
        self.dup.fill(false);
        self.arena.clear();
        self.elems.clear();
        if self.serial > u32::MAX - 1_000_000 {
            self.seen_in.fill(0);
            self.serial = 0;
        }
    }

    /// Parse one record text (the whole text must be one JSON value, below 2 GiB).
    pub fn parse(&mut self, trie: &Trie, text: &str) -> Result<(), serde_json::Error> {
        self.reset();
        self.src = text.as_ptr() as usize;
        let mut de = serde_json::Deserializer::from_str(text);
        NodeSeed {
            walk: self,
            trie,
            node: 0,
        }
        .deserialize(&mut de)?;
        de.end()
    }

    /// The text of a `Val::Str` of the record `src` that was parsed last.
    pub fn text<'a>(&'a self, src: &'a str, start: u32, end: u32) -> &'a str {
        if start & BORROWED != 0 {
            &src[(start & !BORROWED) as usize..end as usize]
        } else {
            &self.arena[start as usize..end as usize]
        }
    }

    fn push_str(&mut self, s: &str) -> Val {
        let start = self.arena.len() as u32;
        self.arena.push_str(s);
        Val::Str(start, self.arena.len() as u32)
    }

    /// A string that is a slice of the record text itself: its range, no copy.
    fn borrowed(&self, s: &str) -> Val {
        let start = (s.as_ptr() as usize - self.src) as u32;
        Val::Str(start | BORROWED, start + s.len() as u32)
    }
}

struct NodeSeed<'w> {
    walk: &'w mut Walk,
    trie: &'w Trie,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.walk.slots[self.node] = Val::Bool(v);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.walk.slots[self.node] = Val::Int(v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.walk.slots[self.node] = Val::UInt(v);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.walk.slots[self.node] = Val::Float(v);
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        let val = self.walk.push_str(v);
        self.walk.slots[self.node] = val;
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.walk.slots[self.node] = self.walk.borrowed(v);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.walk.slots[self.node] = Val::None;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.walk;
        walk.slots[self.node] = Val::Obj;
        walk.serial += 1;
        let serial = walk.serial;
        while let Some(key) = map.next_key_seed(KeySeed {
            trie: self.trie,
            node: self.node,
        })? {
            match key {
                Some(child) if walk.seen_in[child] != serial => {
                    walk.seen_in[child] = serial;
                    map.next_value_seed(NodeSeed {
                        walk: &mut *walk,
                        trie: self.trie,
                        node: child,
                    })?;
                }
                Some(child) => {
                    // a key given twice: any read through it is a duplicate_key
                    walk.dup[child] = true;
                    map.next_value::<IgnoredAny>()?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let walk = self.walk;
        if self.node == walk.keep_list {
            let start = walk.elems.len() as u32;
            while let Some(v) = seq.next_element_seed(ElemSeed { walk: &mut *walk })? {
                walk.elems.push(v);
            }
            walk.slots[self.node] = Val::List(start, walk.elems.len() as u32);
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            walk.slots[self.node] = Val::List(0, 0);
        }
        Ok(())
    }
}

/// A map key: the wanted child it names, if any.
struct KeySeed<'t> {
    trie: &'t Trie,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Option<usize>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.trie.child(self.node, v))
    }
}

/// One element of a kept list (positional features).
struct ElemSeed<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for ElemSeed<'_> {
    type Value = Val;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Val, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElemSeed<'_> {
    type Value = Val;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::UInt(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(self.walk.push_str(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Val, E> {
        Ok(self.walk.borrowed(v))
    }

    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Obj)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::List(0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(
        paths: &[&str],
        text: &str,
    ) -> (Trie, Walk, Vec<Vec<usize>>, Result<(), serde_json::Error>) {
        let mut trie = Trie::default();
        let ids: Vec<Vec<usize>> = paths.iter().map(|p| trie.insert(0, p)).collect();
        trie.finish();
        let keep = ids.last().and_then(|p| p.last().copied());
        let mut w = Walk::new(&trie, keep);
        let r = w.parse(&trie, text);
        (trie, w, ids, r)
    }

    #[test]
    fn keeps_wanted_values_and_skips_the_rest() {
        let text = r#"{"a": {"b": "x\u00e9", "z": [1, {"q": 2}]}, "c": -3, "skip": {"c": 1}, "l": [1, "t", null]}"#;
        let (_, w, ids, r) = walk(&["a.b", "c", "l"], text);
        r.unwrap();
        assert_eq!(w.slots[ids[0][0]], Val::Obj);
        match w.slots[ids[0][1]] {
            Val::Str(s, e) => assert_eq!(w.text(text, s, e), "x\u{e9}"),
            other => panic!("{other:?}"),
        }
        // a string without escapes is a range of the record text, not a copy
        assert!(w.arena.len() == "x\u{e9}".len());
        match w.elems[1] {
            Val::Str(s, e) => assert_eq!(w.text(text, s, e), "t"),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.slots[ids[1][0]], Val::Int(-3));
        match w.slots[ids[2][0]] {
            Val::List(s, e) => {
                assert_eq!(e - s, 3);
                assert_eq!(w.elems[s as usize], Val::UInt(1));
                assert_eq!(w.elems[s as usize + 2], Val::None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicates_are_marked_only_on_wanted_keys() {
        let (_, w, ids, r) = walk(&["a", "b"], r#"{"a": 1, "x": 1, "x": 2, "a": 2}"#);
        r.unwrap();
        assert!(w.dup[ids[0][0]]);
        assert!(!w.dup[ids[1][0]]);
    }

    #[test]
    fn negative_zero_and_big_integers_are_floats() {
        let (_, w, ids, r) = walk(&["a", "b"], r#"{"a": -0, "b": 123456789012345678901234}"#);
        r.unwrap();
        assert!(matches!(w.slots[ids[0][0]], Val::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert!(matches!(w.slots[ids[1][0]], Val::Float(_)));
    }

    #[test]
    fn strict_json_is_required_everywhere() {
        for bad in [
            r#"{"a": 1,}"#,
            r#"{"x": NaN}"#,
            r#"{"a": "\ud800"}"#,
            r#"{"x": "\q"}"#,
            r#"{"a": 1} {}"#,
            "{\"x\": \"a\u{1}\"}",
            r#"{"a": 1e400}"#,
        ] {
            let (_, _, _, r) = walk(&["a"], bad);
            assert!(r.is_err(), "{bad}");
        }
    }

    #[test]
    fn skipped_values_are_read_as_python_reads_them() {
        // Python's json keeps a lone surrogate and 1e400 (inf) in a value nobody reads
        let (_, _, _, r) = walk(&["a"], r#"{"x": "\ud800", "y": 1e400, "a": 1}"#);
        r.unwrap();
    }
}
