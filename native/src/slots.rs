//! Counting a feature's log values into its baseline's edge slots (drift), without sorting them.
//!
//! Slot 2j holds values strictly between edge j-1 and edge j, slot 2j+1 values equal to edge j,
//! the last slot values above every edge: what `_Numeric.count_pending` in mlmon/stats/drift.py
//! computes with numpy (`searchsorted(edges, v, side="left")`, NaN above everything), which stays
//! the definition. A uniform grid of cells over the edges' range narrows each search to the few
//! edges in the value's cell; the cell of a number is a monotone function of it, used for edges and
//! values alike, so the count of edges below a value is exact, whatever the rounding.

pub struct Slots {
    edges: Vec<f64>,
    lo: f64,
    scale: f64,
    cells: usize,
    /// start[c]: how many edges lie in cells before c (len cells + 1).
    start: Vec<u32>,
}

impl Slots {
    /// None unless the edges are strictly ascending numbers (distinct, as a baseline's are; with
    /// repeated edges the definition's two numpy branches disagree), fewer than u32::MAX.
    pub fn new(edges: Vec<f64>) -> Option<Slots> {
        let n = edges.len();
        if n == 0 || n >= u32::MAX as usize || edges.iter().any(|e| e.is_nan()) {
            return None;
        }
        if edges.windows(2).any(|w| w[0] >= w[1]) {
            return None;
        }
        let lo = edges[0];
        let width = edges[n - 1] - lo;
        let (cells, scale) = if width.is_finite() && width > 0.0 {
            let cells = (2 * n).clamp(1, 1 << 20);
            let scale = cells as f64 / width;
            if scale.is_finite() && scale > 0.0 {
                (cells, scale)
            } else {
                (1, 0.0)
            }
        } else {
            (1, 0.0)
        };
        let mut s = Slots {
            edges,
            lo,
            scale,
            cells,
            start: Vec::new(),
        };
        let mut start = vec![0u32; cells + 1];
        let mut i = 0usize;
        for (c, slot) in start.iter_mut().enumerate() {
            while i < n && s.cell(s.edges[i]) < c {
                i += 1;
            }
            *slot = i as u32;
        }
        start[cells] = n as u32;
        s.start = start;
        Some(s)
    }

    /// The cell of a number that is not NaN: monotone non-decreasing in `x`.
    #[inline]
    fn cell(&self, x: f64) -> usize {
        if self.cells == 1 {
            return 0;
        }
        let f = ((x - self.lo) * self.scale).floor();
        if f <= 0.0 {
            0
        } else if f >= (self.cells - 1) as f64 {
            self.cells - 1
        } else {
            f as usize
        }
    }

    /// The number of edges below `v` (numpy's `searchsorted(edges, v, side="left")`).
    #[inline]
    fn below(&self, v: f64) -> usize {
        if v.is_nan() {
            return self.edges.len();
        }
        let c = self.cell(v);
        let (a, b) = (self.start[c] as usize, self.start[c + 1] as usize);
        a + self.edges[a..b].partition_point(|&e| e < v)
    }

    pub fn slots(&self) -> usize {
        2 * self.edges.len() + 1
    }

    /// Add each value's slot to `counts` (length `slots()`).
    pub fn count(&self, values: &[f64], counts: &mut [i64]) {
        let n = self.edges.len();
        for &v in values {
            let i = self.below(v);
            let at = 2 * i + usize::from(i < n && self.edges[i] == v);
            counts[at] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: one binary search over all edges per value.
    fn reference(edges: &[f64], values: &[f64]) -> Vec<i64> {
        let mut out = vec![0i64; 2 * edges.len() + 1];
        for &v in values {
            let i = if v.is_nan() {
                edges.len()
            } else {
                edges.partition_point(|&e| e < v)
            };
            out[2 * i + usize::from(i < edges.len() && edges[i] == v)] += 1;
        }
        out
    }

    fn check(edges: Vec<f64>, values: &[f64]) {
        let want = reference(&edges, values);
        let s = Slots::new(edges).expect("sorted edges");
        let mut got = vec![0i64; s.slots()];
        s.count(values, &mut got);
        assert_eq!(got, want);
    }

    #[test]
    fn counts_like_one_search_per_value() {
        let edges: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 5.0).collect();
        let mut edges = edges;
        edges.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mut values: Vec<f64> = (0..20000).map(|i| (i as f64 * 0.011).cos() * 6.0).collect();
        values.extend_from_slice(&edges);
        values.extend_from_slice(&[
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
        ]);
        for e in &edges[..50] {
            values.push(e.next_up());
            values.push(e.next_down());
        }
        check(edges, &values);
    }

    #[test]
    fn odd_edges() {
        let vals = [
            -1.0,
            0.0,
            -0.0,
            1.0,
            1e308,
            -1e308,
            f64::NAN,
            5.0,
            f64::INFINITY,
        ];
        check(vec![0.0], &vals);
        check(vec![1.0, 2.0], &vals);
        check(vec![-1e308, 1e308], &vals);
        check(vec![f64::NEG_INFINITY, 0.0, f64::INFINITY], &vals);
        check(vec![-0.0, 1.0], &vals);
        check(vec![1e-320, 2e-320, 3e-320], &[1.5e-320, 2e-320, 0.0, 1.0]);
        assert!(Slots::new(vec![2.0, 1.0]).is_none());
        assert!(Slots::new(vec![1.0, 1.0]).is_none());
        assert!(Slots::new(vec![-0.0, 0.0]).is_none());
        assert!(Slots::new(vec![f64::NAN]).is_none());
        assert!(Slots::new(vec![]).is_none());
    }
}
