//! Summary's per-table aggregation: the rows split by group, with each group's counts and values.
//!
//! `SummaryAccumulator._update` in mlmon/stats/summary.py (pyarrow and numpy, one pass per group)
//! stays the definition and the fallback; this computes the same numbers in one pass over the
//! table's Arrow buffers. Groups come out in order of first appearance, the rows without a group
//! last (as `split_groups`); classes in order of first appearance within their group (as
//! `pyarrow.compute.value_counts`). Latencies and confidences are handed back whole, in row order,
//! so the exact percentiles and numpy's sums stay Python's.

use std::collections::HashMap;

/// Why a table is left to the Python path (which then decides, or raises, as it always did).
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// A buffer too short for the rows, misaligned, or offsets out of order.
    Layout,
    /// A confidence above the last histogram edge (or NaN): the checks never let one through.
    Confidence,
}

/// An Arrow validity bitmap (None: every row valid) from bit `offset`.
#[derive(Clone, Copy)]
pub struct Valid<'a> {
    bits: Option<&'a [u8]>,
    offset: usize,
}

impl<'a> Valid<'a> {
    pub fn new(bits: Option<&'a [u8]>, offset: usize, n: usize) -> Result<Self, Refused> {
        if let Some(b) = bits {
            if b.len() * 8 < offset + n {
                return Err(Refused::Layout);
            }
        }
        Ok(Valid { bits, offset })
    }

    #[inline]
    pub fn get(&self, i: usize) -> bool {
        match self.bits {
            None => true,
            Some(b) => {
                let j = self.offset + i;
                b[j >> 3] & (1 << (j & 7)) != 0
            }
        }
    }
}

/// A column of fixed-width values (float64, int64), `offset` rows into its buffer.
#[derive(Clone, Copy)]
pub struct Prim<'a, T> {
    pub valid: Valid<'a>,
    values: &'a [T],
}

impl<'a, T: Copy> Prim<'a, T> {
    pub fn new(
        valid: Valid<'a>,
        values: &'a [T],
        offset: usize,
        n: usize,
    ) -> Result<Self, Refused> {
        if values.len() < offset + n {
            return Err(Refused::Layout);
        }
        Ok(Prim {
            valid,
            values: &values[offset..offset + n],
        })
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        if self.valid.get(i) {
            Some(self.values[i])
        } else {
            None
        }
    }

    /// `f(row's group, value)` for each non-null value, in row order.
    #[inline(always)]
    pub fn each<F: FnMut(u32, T)>(&self, gid: &[u32], mut f: F) {
        if self.valid.bits.is_none() {
            for (&g, &v) in gid.iter().zip(self.values) {
                f(g, v);
            }
        } else {
            for (i, (&g, &v)) in gid.iter().zip(self.values).enumerate() {
                if self.valid.get(i) {
                    f(g, v);
                }
            }
        }
    }
}

/// A boolean column (values bit-packed), `offset` bits into its buffer.
#[derive(Clone, Copy)]
pub struct BoolArr<'a> {
    valid: Valid<'a>,
    bits: Valid<'a>,
}

impl<'a> BoolArr<'a> {
    pub fn new(valid: Valid<'a>, bits: &'a [u8], offset: usize, n: usize) -> Result<Self, Refused> {
        Ok(BoolArr {
            valid,
            bits: Valid::new(Some(bits), offset, n)?,
        })
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<bool> {
        if self.valid.get(i) {
            Some(self.bits.get(i))
        } else {
            None
        }
    }
}

/// A utf8 column with int32 offsets, `offset` rows into its offsets.
#[derive(Clone, Copy)]
pub struct Utf8<'a> {
    valid: Valid<'a>,
    offsets: &'a [i32],
    data: &'a [u8],
}

impl<'a> Utf8<'a> {
    /// Refused unless the rows' offsets ascend within the data.
    pub fn new(
        valid: Valid<'a>,
        offsets: &'a [i32],
        data: &'a [u8],
        offset: usize,
        n: usize,
    ) -> Result<Self, Refused> {
        if offsets.len() < offset + n + 1 {
            return Err(Refused::Layout);
        }
        let offsets = &offsets[offset..offset + n + 1];
        if offsets[0] < 0
            || offsets[n] as usize > data.len()
            || offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err(Refused::Layout);
        }
        Ok(Utf8 {
            valid,
            offsets,
            data,
        })
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        if self.valid.get(i) {
            Some(&self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize])
        } else {
            None
        }
    }

    /// The row's text and its key head (see `head`), None for a null.
    #[inline(always)]
    pub fn key(&self, i: usize) -> Option<(&'a [u8], u64)> {
        if !self.valid.get(i) {
            return None;
        }
        let (s, e) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        let k = &self.data[s..e];
        let h = match self.data.get(s..s + 8) {
            // the eight bytes from the start (within the buffer), the text's own kept
            Some(w) => {
                let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
                if k.len() >= 8 {
                    w
                } else {
                    w & ((1u64 << (8 * k.len())) - 1)
                }
            }
            None => head(k),
        };
        Some((k, h))
    }
}

/// The first bytes of a key (up to 8, zero-padded) as one word: with the length, a cheap first test.
#[inline]
fn head(k: &[u8]) -> u64 {
    if k.len() >= 8 {
        u64::from_le_bytes(k[..8].try_into().unwrap_or([0; 8]))
    } else {
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(k) {
            *d = *s;
        }
        u64::from_le_bytes(b)
    }
}

/// Distinct byte strings in order of first appearance, with a number each.
#[derive(Default)]
pub struct Interner<'a> {
    pub keys: Vec<&'a [u8]>,
    /// Each key's `code` (u64::MAX for a key of 8 bytes or more: no code matches it).
    codes: Vec<u64>,
    map: HashMap<&'a [u8], u32>,
    last: usize,
}

/// Up to this many keys are found by comparing each (a log has a handful of groups and classes).
const SCAN: usize = 8;

/// A key of up to 7 bytes as one word: its bytes and its length in the top byte.
#[inline(always)]
fn code(len: usize, head: u64) -> Option<u64> {
    (len < 8).then_some(head | ((len as u64) << 56))
}

impl<'a> Interner<'a> {
    /// The key's number (a new key gets the next one).
    pub fn id(&mut self, key: &'a [u8]) -> u32 {
        self.id_of(key, head(key))
    }

    /// `id` with the key's head already read (`Utf8::key`).
    #[inline(always)]
    pub fn id_of(&mut self, key: &'a [u8], head: u64) -> u32 {
        let c = code(key.len(), head);
        let found = match c {
            Some(c) if self.keys.len() <= SCAN => {
                if self.codes.get(self.last) == Some(&c) {
                    return self.last as u32;
                }
                self.codes.iter().position(|k| *k == c)
            }
            _ if self.keys.len() <= SCAN => self.keys.iter().position(|k| *k == key),
            _ => self.map.get(key).map(|&i| i as usize),
        };
        let id = match found {
            Some(id) => id,
            None => {
                let id = self.keys.len();
                self.keys.push(key);
                self.codes.push(c.unwrap_or(u64::MAX));
                if self.keys.len() > SCAN {
                    if self.map.is_empty() {
                        for (i, k) in self.keys.iter().enumerate() {
                            self.map.insert(k, i as u32);
                        }
                    } else {
                        self.map.insert(key, id as u32);
                    }
                }
                id
            }
        };
        self.last = id;
        id as u32
    }
}

/// One group's share of a table.
#[derive(Default)]
pub struct Group<'a> {
    pub records: u64,
    pub status_n: u64,
    pub successes: u64,
    pub latency: Vec<f64>,
    pub confidence: Vec<f64>,
    pub conf_low: u64,
    pub hist: Vec<i64>,
    /// Classes in order of first appearance in the group, with their counts.
    pub classes: Vec<(&'a [u8], i64)>,
    pub value_n: u64,
    pub value_outside: u64,
    pub ts_min: Option<i64>,
    pub ts_max: Option<i64>,
}

/// The columns summary reads, each of `n` rows.
pub struct Table<'a> {
    pub n: usize,
    /// None: the table has no group column (every row in one group, keyed None).
    pub group: Option<Utf8<'a>>,
    pub success: BoolArr<'a>,
    pub latency: Prim<'a, f64>,
    pub class: Utf8<'a>,
    pub confidence: Prim<'a, f64>,
    pub value: Prim<'a, f64>,
    pub ts: Prim<'a, i64>,
}

/// What summary counts besides the columns: `SummaryOptions` and the histogram's edges.
pub struct Options<'a> {
    pub low_confidence: f64,
    pub range: Option<(f64, f64)>,
    /// Upper bounds of the confidence buckets, ascending.
    pub edges: &'a [f64],
}

/// A group's key (None: the rows without one) and its share of the table.
pub type Keyed<'a> = (Option<&'a [u8]>, Group<'a>);

/// Dense (group, class) counts up to this many cells; a map past it.
const DENSE_CELLS: usize = 1 << 16;

/// The groups of a table: (key, share), in order of first appearance, the rows without a group
/// (key None) last. Column by column: each row's group number first, then one tight loop a
/// column.
pub fn aggregate<'a>(t: &Table<'a>, o: &Options<'_>) -> Result<Vec<Keyed<'a>>, Refused> {
    let n = t.n;
    // each row's group: the keys' numbers, the rows without a group after them (NONE for now)
    const NONE: u32 = u32::MAX;
    let mut keys = Interner::default();
    let mut gid: Vec<u32> = Vec::with_capacity(n);
    match &t.group {
        Some(c) => {
            for i in 0..n {
                gid.push(c.key(i).map_or(NONE, |(k, h)| keys.id_of(k, h)));
            }
        }
        None => gid.resize(n, NONE),
    }
    let named = keys.keys.len();
    let none_at = named as u32;
    let mut records = vec![0u64; named + 1];
    for g in gid.iter_mut() {
        if *g == NONE {
            *g = none_at;
        }
        records[*g as usize] += 1;
    }
    let mut groups: Vec<Group<'a>> = records
        .iter()
        .map(|&r| Group {
            records: r,
            hist: vec![0; o.edges.len()],
            ..Group::default()
        })
        .collect();
    for (i, &g) in gid.iter().enumerate() {
        if let Some(s) = t.success.get(i) {
            let g = &mut groups[g as usize];
            g.status_n += 1;
            g.successes += s as u64;
        }
    }
    for g in groups.iter_mut() {
        g.latency.reserve_exact(g.records as usize);
    }
    t.latency
        .each(&gid, |g, v| groups[g as usize].latency.push(v));
    count_classes(t, &gid, &mut groups);
    for g in groups.iter_mut() {
        g.confidence.reserve_exact(g.records as usize);
    }
    let last = o.edges.len();
    let mut beyond = false;
    t.confidence.each(&gid, |g, c| {
        let g = &mut groups[g as usize];
        g.confidence.push(c);
        g.conf_low += (c < o.low_confidence) as u64;
        // numpy's searchsorted(edges, c, side="left"): the edges below c (NaN above all)
        let slot = if c.is_nan() {
            last
        } else {
            o.edges.iter().filter(|e| **e < c).count()
        };
        match g.hist.get_mut(slot) {
            Some(h) => *h += 1,
            None => beyond = true,
        }
    });
    if beyond {
        return Err(Refused::Confidence);
    }
    t.value.each(&gid, |g, v| {
        let g = &mut groups[g as usize];
        g.value_n += 1;
        if let Some((lo, hi)) = o.range {
            g.value_outside += (v < lo || v > hi) as u64;
        }
    });
    let mut lo = vec![i64::MAX; groups.len()];
    let mut hi = vec![i64::MIN; groups.len()];
    let mut timed = vec![false; groups.len()];
    t.ts.each(&gid, |g, ts| {
        let g = g as usize;
        lo[g] = lo[g].min(ts);
        hi[g] = hi[g].max(ts);
        timed[g] = true;
    });
    for (g, grp) in groups.iter_mut().enumerate() {
        if timed[g] {
            grp.ts_min = Some(lo[g]);
            grp.ts_max = Some(hi[g]);
        }
    }
    let none = groups.pop().filter(|g| g.records > 0);
    let mut out: Vec<Keyed<'a>> = keys.keys.iter().map(|k| Some(*k)).zip(groups).collect();
    if let Some(g) = none {
        out.push((None, g));
    }
    Ok(out)
}

/// Each group's classes in order of first appearance within it, with their counts.
fn count_classes<'a>(t: &Table<'a>, gid: &[u32], groups: &mut [Group<'a>]) {
    const NONE: u32 = u32::MAX;
    let mut names = Interner::default();
    let cid: Vec<u32> = (0..t.n)
        .map(|i| t.class.key(i).map_or(NONE, |(k, h)| names.id_of(k, h)))
        .collect();
    let classes = names.keys.len();
    if classes == 0 {
        return;
    }
    // (group, class) cells in order of first appearance, with their counts
    let mut order: Vec<(u32, u32)> = Vec::new();
    let mut counts: Vec<i64> = Vec::new();
    let cells = groups.len().saturating_mul(classes);
    if cells <= DENSE_CELLS {
        let mut at = vec![u32::MAX; cells];
        for (&g, &c) in gid.iter().zip(&cid) {
            if c == NONE {
                continue;
            }
            let cell = g as usize * classes + c as usize;
            if at[cell] == u32::MAX {
                at[cell] = order.len() as u32;
                order.push((g, c));
                counts.push(0);
            }
            counts[at[cell] as usize] += 1;
        }
    } else {
        let mut at: HashMap<(u32, u32), usize> = HashMap::new();
        for (&g, &c) in gid.iter().zip(&cid) {
            if c == NONE {
                continue;
            }
            let k = *at.entry((g, c)).or_insert_with(|| {
                order.push((g, c));
                counts.push(0);
                order.len() - 1
            });
            counts[k] += 1;
        }
    }
    for ((g, c), count) in order.into_iter().zip(counts) {
        groups[g as usize]
            .classes
            .push((names.keys[c as usize], count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8<'a>(offsets: &'a [i32], data: &'a [u8], valid: Option<&'a [u8]>) -> Utf8<'a> {
        let n = offsets.len() - 1;
        Utf8::new(Valid::new(valid, 0, n).unwrap(), offsets, data, 0, n).unwrap()
    }

    #[test]
    fn groups_in_first_order_nulls_last() {
        // groups: b, a, null, b
        let goff = [0, 1, 2, 2, 3];
        let gvalid = [0b1011u8];
        let coff = [0, 1, 2, 3, 4];
        let lat = [1.0, 2.0, 3.0, 4.0];
        let conf = [0.4, 0.95, 1.0, 0.5];
        let ts = [5i64, 3, 9, 1];
        let succ = [0b0101u8];
        let v = Valid::new(None, 0, 4).unwrap();
        let t = Table {
            n: 4,
            group: Some(utf8(&goff, b"bab", Some(&gvalid))),
            success: BoolArr::new(v, &succ, 0, 4).unwrap(),
            latency: Prim::new(v, &lat, 0, 4).unwrap(),
            class: utf8(&coff, b"xyxx", None),
            confidence: Prim::new(v, &conf, 0, 4).unwrap(),
            value: Prim::new(v, &lat, 0, 4).unwrap(),
            ts: Prim::new(v, &ts, 0, 4).unwrap(),
        };
        let edges = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];
        let o = Options {
            low_confidence: 0.5,
            range: Some((1.5, 3.5)),
            edges: &edges,
        };
        let out = aggregate(&t, &o).unwrap();
        let keys: Vec<_> = out.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![Some(&b"b"[..]), Some(&b"a"[..]), None]);
        let b = &out[0].1;
        assert_eq!((b.records, b.status_n, b.successes), (2, 2, 1));
        assert_eq!(b.latency, vec![1.0, 4.0]);
        assert_eq!(b.conf_low, 1);
        assert_eq!(b.hist, vec![2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(b.classes, vec![(&b"x"[..], 2)]);
        assert_eq!((b.value_n, b.value_outside), (2, 2));
        assert_eq!((b.ts_min, b.ts_max), (Some(1), Some(5)));
        let none = &out[2].1;
        assert_eq!(none.hist, vec![0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(none.successes, 1);
    }

    #[test]
    fn refuses_short_buffers_and_confidence_past_the_edges() {
        let v = Valid::new(None, 0, 3).unwrap();
        assert!(Prim::new(v, &[1.0f64, 2.0], 0, 3).is_err());
        assert!(Prim::new(v, &[1.0f64, 2.0, 3.0], 1, 3).is_err());
        assert!(Valid::new(Some(&[0u8]), 4, 5).is_err());
        assert!(Utf8::new(v, &[0, 2, 1, 3], b"abc", 0, 3).is_err());
        assert!(Utf8::new(v, &[0, 1, 2, 4], b"abc", 0, 3).is_err());
        let off = [0, 0];
        let one = Valid::new(None, 0, 1).unwrap();
        let none = Valid::new(Some(&[0u8]), 0, 1).unwrap();
        let conf = [1.5];
        let t = Table {
            n: 1,
            group: None,
            success: BoolArr::new(none, &[0], 0, 1).unwrap(),
            latency: Prim::new(none, &conf, 0, 1).unwrap(),
            class: Utf8::new(none, &off, b"", 0, 1).unwrap(),
            confidence: Prim::new(one, &conf, 0, 1).unwrap(),
            value: Prim::new(none, &conf, 0, 1).unwrap(),
            ts: Prim::new(none, &[0i64], 0, 1).unwrap(),
        };
        let o = Options {
            low_confidence: 0.5,
            range: None,
            edges: &[1.0],
        };
        assert_eq!(aggregate(&t, &o).err(), Some(Refused::Confidence));
    }

    #[test]
    fn many_keys_use_the_map() {
        let mut k = Interner::default();
        let names: Vec<String> = (0..50).map(|i| format!("key number {i}")).collect();
        for n in &names {
            k.id(n.as_bytes());
        }
        for (i, n) in names.iter().enumerate().rev() {
            assert_eq!(k.id(n.as_bytes()) as usize, i);
        }
        assert_eq!(k.id(b"key number"), 50);
        assert_eq!(k.id(b"key number 1x"), 51);
        assert_eq!(k.id(b""), 52);
        assert_eq!(k.id(b"key number 1"), 1);
        assert_eq!(k.keys.len(), 53);
    }
}
