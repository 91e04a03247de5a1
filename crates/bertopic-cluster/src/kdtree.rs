//! A kd-tree over the points for HDBSCAN's two quadratic steps: core distances (distance to the
//! k-th nearest neighbour) and Prim's minimum spanning tree on mutual reachability.
//!
//! Pruning uses a box lower bound computed with the same operations, in the same order, as the
//! point distances: for a coordinate inside the box, |lo − q| ≤ |x − q| holds after rounding
//! too (rounding is monotone), and so do the squares and the running sums of non-negative
//! terms. A pruned box therefore never holds a point the exhaustive scan would have used, and
//! both results are bit-identical to the brute-force versions (tests in `hdbscan/tests.rs`).

use rayon::prelude::*;

use crate::distance::sqdist_d;

mod boruvka;

/// Most points in a leaf.
const LEAF: usize = 32;
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    start: usize,
    end: usize,
    left: u32,
    right: u32,
    parent: u32,
}

pub(crate) struct KdTree {
    d: usize,
    /// Coordinates in tree order, row-major.
    pts: Vec<f64>,
    /// Tree position → original row.
    orig: Vec<usize>,
    /// Original row → tree position.
    pos: Vec<usize>,
    /// Tree position → its leaf.
    leaf_of: Vec<u32>,
    nodes: Vec<Node>,
    /// Bounding boxes, `d` values per node.
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl KdTree {
    /// Tree over `n` rows of `d` finite coordinates (row-major `flat`).
    pub(crate) fn new(flat: &[f64], n: usize, d: usize) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        let mut t = KdTree {
            d,
            pts: Vec::new(),
            orig: Vec::new(),
            pos: Vec::new(),
            leaf_of: vec![0; n],
            nodes: Vec::new(),
            lo: Vec::new(),
            hi: Vec::new(),
        };
        if n > 0 {
            t.build(flat, &mut order, 0, n, NONE);
        }
        t.pts = order
            .iter()
            .flat_map(|&i| flat[i * d..(i + 1) * d].iter().copied())
            .collect();
        t.pos = vec![0; n];
        for (p, &i) in order.iter().enumerate() {
            t.pos[i] = p;
        }
        t.orig = order;
        t
    }

    fn build(&mut self, flat: &[f64], order: &mut [usize], start: usize, end: usize, parent: u32) {
        let d = self.d;
        let id = self.nodes.len() as u32;
        let (mut l, mut h) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
        for &i in &order[start..end] {
            for t in 0..d {
                let x = flat[i * d + t];
                l[t] = l[t].min(x);
                h[t] = h[t].max(x);
            }
        }
        // Split on the widest coordinate (the first among equals); identical points stay a leaf.
        let (mut axis, mut spread) = (0, 0.0);
        for t in 0..d {
            if h[t] - l[t] > spread {
                (axis, spread) = (t, h[t] - l[t]);
            }
        }
        self.nodes.push(Node {
            start,
            end,
            left: NONE,
            right: NONE,
            parent,
        });
        self.lo.extend_from_slice(&l);
        self.hi.extend_from_slice(&h);
        if end - start <= LEAF || spread <= 0.0 {
            for &i in &order[start..end] {
                self.leaf_of[i] = id;
            }
            return;
        }
        let mid = start + (end - start) / 2;
        order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            flat[a * d + axis]
                .total_cmp(&flat[b * d + axis])
                .then(a.cmp(&b))
        });
        let left = self.nodes.len() as u32;
        self.build(flat, order, start, mid, id);
        let right = self.nodes.len() as u32;
        self.build(flat, order, mid, end, id);
        let node = &mut self.nodes[id as usize];
        node.left = left;
        node.right = right;
    }

    /// Leaf ids were recorded by original row during the build; index them by tree position.
    fn leaf_by_pos(&self) -> Vec<u32> {
        self.orig.iter().map(|&i| self.leaf_of[i]).collect()
    }

    fn row(&self, p: usize) -> &[f64] {
        &self.pts[p * self.d..(p + 1) * self.d]
    }

    /// Lower bound on `sqdist_d(q, x)` for every x in the node's box (see the module doc).
    #[inline(always)]
    fn lb_sq<const D: usize>(&self, q: &[f64], node: usize) -> f64 {
        let d = if D > 0 { D } else { self.d };
        let (l, h) = (
            &self.lo[node * d..(node + 1) * d],
            &self.hi[node * d..(node + 1) * d],
        );
        let mut s = 0.0;
        for t in 0..d {
            let g = if q[t] < l[t] {
                l[t] - q[t]
            } else if q[t] > h[t] {
                q[t] - h[t]
            } else {
                0.0
            };
            s += g * g;
        }
        s
    }

    /// Distance to the `k`-th nearest other point of every row (original order); ∞ with no
    /// other point, the farthest one with fewer than `k`.
    pub(crate) fn core_distances<const D: usize>(&self, k: usize) -> Vec<f64> {
        let n = self.orig.len();
        let by_pos: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|p| {
                let mut best: Vec<f64> = Vec::with_capacity(k + 1);
                self.knn_visit::<D>(0, self.row(p), p, k, &mut best);
                best.last().map_or(f64::INFINITY, |v| v.sqrt())
            })
            .collect();
        let mut out = vec![0.0; n];
        for (p, v) in by_pos.into_iter().enumerate() {
            out[self.orig[p]] = v;
        }
        out
    }

    /// Keeps in `best` (ascending) the `k` smallest squared distances from `q` to points of
    /// the subtree other than position `skip`, as the exhaustive scan's insertion rule does.
    fn knn_visit<const D: usize>(
        &self,
        node: usize,
        q: &[f64],
        skip: usize,
        k: usize,
        best: &mut Vec<f64>,
    ) {
        if best.len() == k && self.lb_sq::<D>(q, node) >= best[k - 1] {
            return;
        }
        let nd = self.nodes[node];
        if nd.left == NONE {
            for p in nd.start..nd.end {
                if p == skip {
                    continue;
                }
                let dist = sqdist_d::<D>(q, self.row(p));
                if best.len() < k || dist < best[k - 1] {
                    let at = best.partition_point(|&b| b < dist);
                    best.insert(at, dist);
                    best.truncate(k);
                }
            }
            return;
        }
        let (a, b) = (nd.left as usize, nd.right as usize);
        if self.lb_sq::<D>(q, a) <= self.lb_sq::<D>(q, b) {
            self.knn_visit::<D>(a, q, skip, k, best);
            self.knn_visit::<D>(b, q, skip, k, best);
        } else {
            self.knn_visit::<D>(b, q, skip, k, best);
            self.knn_visit::<D>(a, q, skip, k, best);
        }
    }

    /// Prim's algorithm on the mutual-reachability graph from row 0, with the rules of the
    /// exhaustive index-order version: a candidate weight changes only on a strict
    /// improvement (so the parent is the earliest tree point reaching it), and among equal
    /// weights the lowest row index joins next. Returns (parent, child, weight) in join order
    /// and the total weight.
    ///
    /// Boxes are skipped when no point in them can improve: the candidate weight of a point
    /// is at least max(box distance, core of the joining point), and each node keeps an upper
    /// bound of its points' current weights. Each node also keeps the exact (weight, row)
    /// minimum of its remaining points, so the next point is read at the root.
    pub(crate) fn prim<const D: usize>(&self, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
        let n = self.orig.len();
        let mut edges = Vec::with_capacity(n.saturating_sub(1));
        let mut total = 0.0;
        if n == 0 {
            return (edges, total);
        }
        let m = self.nodes.len();
        let mut st = PrimState {
            core: (0..n).map(|p| core[self.orig[p]]).collect(),
            best: vec![f64::INFINITY; n],
            from: vec![0; n],
            removed: vec![false; n],
            max_best: vec![f64::INFINITY; m],
            min_key: vec![(f64::INFINITY, usize::MAX); m],
            count: self.nodes.iter().map(|nd| nd.end - nd.start).collect(),
            leaf: self.leaf_by_pos(),
        };
        // Children come after their parent in `nodes`: fill the minima bottom-up.
        for node in (0..m).rev() {
            self.refresh(node, &mut st);
        }
        self.remove(self.pos[0], &mut st);
        let mut current = 0usize;
        while edges.len() + 1 < n {
            let c = self.row(self.pos[current]);
            self.relax_visit::<D>(0, c, core[current], current, &mut st);
            let (w, next) = st.min_key[0];
            if w == f64::INFINITY || next == usize::MAX {
                break;
            }
            edges.push((st.from[self.pos[next]], next, w));
            total += w;
            self.remove(self.pos[next], &mut st);
            current = next;
        }
        (edges, total)
    }

    /// Relaxes the subtree's remaining points from the joining point `current` (coordinates
    /// `c`); returns whether any weight changed (else the node summaries are still exact).
    fn relax_visit<const D: usize>(
        &self,
        node: usize,
        c: &[f64],
        core_c: f64,
        current: usize,
        st: &mut PrimState,
    ) -> bool {
        if st.count[node] == 0 {
            return false;
        }
        let lb = self.lb_sq::<D>(c, node).sqrt();
        let lower = if lb > core_c { lb } else { core_c };
        if lower >= st.max_best[node] {
            return false;
        }
        let nd = self.nodes[node];
        let mut changed = false;
        if nd.left == NONE {
            for p in nd.start..nd.end {
                if st.removed[p] {
                    continue;
                }
                let dist = sqdist_d::<D>(c, self.row(p)).sqrt();
                // Same comparisons as the exhaustive scan (values are ≥ +0, never NaN).
                let mr = if dist > core_c { dist } else { core_c };
                let mr = if mr > st.core[p] { mr } else { st.core[p] };
                if mr < st.best[p] {
                    st.best[p] = mr;
                    st.from[p] = current;
                    changed = true;
                }
            }
        } else {
            let l = self.relax_visit::<D>(nd.left as usize, c, core_c, current, st);
            let r = self.relax_visit::<D>(nd.right as usize, c, core_c, current, st);
            changed = l | r;
        }
        if changed {
            self.refresh(node, st);
        }
        changed
    }

    /// Recomputes a node's weight bound and minimum from its points (leaf) or children.
    fn refresh(&self, node: usize, st: &mut PrimState) {
        let nd = self.nodes[node];
        let (mut hi, mut key) = (f64::NEG_INFINITY, (f64::INFINITY, usize::MAX));
        if nd.left == NONE {
            for p in nd.start..nd.end {
                if st.removed[p] {
                    continue;
                }
                let b = st.best[p];
                // A point whose weight is down to its own core can never improve (every
                // candidate weight is at least that core): it does not hold the bound up.
                if b > st.core[p] {
                    hi = if b > hi { b } else { hi };
                }
                key = min_key(key, (b, self.orig[p]));
            }
        } else {
            for ch in [nd.left as usize, nd.right as usize] {
                if st.count[ch] > 0 {
                    let b = st.max_best[ch];
                    hi = if b > hi { b } else { hi };
                    key = min_key(key, st.min_key[ch]);
                }
            }
        }
        st.max_best[node] = hi;
        st.min_key[node] = key;
    }

    /// Takes tree position `p` out of the remaining points and updates its ancestors.
    fn remove(&self, p: usize, st: &mut PrimState) {
        st.removed[p] = true;
        let mut node = st.leaf[p];
        while node != NONE {
            st.count[node as usize] -= 1;
            self.refresh(node as usize, st);
            node = self.nodes[node as usize].parent;
        }
    }
}

/// The smaller (weight, row) pair: lower weight, then lower row.
#[inline]
fn min_key(a: (f64, usize), b: (f64, usize)) -> (f64, usize) {
    if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) {
        b
    } else {
        a
    }
}

/// Prim's per-point state (tree order) and per-node summaries.
struct PrimState {
    core: Vec<f64>,
    best: Vec<f64>,
    from: Vec<usize>,
    removed: Vec<bool>,
    /// Upper bound of the weights of the remaining points that can still improve, per node.
    max_best: Vec<f64>,
    /// Exact (weight, row) minimum of the remaining points per node.
    min_key: Vec<(f64, usize)>,
    /// Remaining points per node.
    count: Vec<usize>,
    leaf: Vec<u32>,
}
