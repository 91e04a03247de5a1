//! Borůvka's minimum spanning tree of the mutual-reachability graph over the kd-tree: exact,
//! O(n log n)-ish in low dimensions, for sizes where Prim's one-point-at-a-time growth is too
//! slow (each Prim step re-relaxes a frontier that keeps growing on dense data).
//!
//! Each round, every point finds its nearest point of *another* component under mutual
//! reachability, max(d(p, q), core(p), core(q)); each component keeps the smallest
//! (weight, p, q) of its points, and those edges are added in (weight, p, q) order with a
//! union-find (Kruskal on the candidates, so equal weights never close a cycle). Rounds at
//! least halve the number of components.
//!
//! Pruning, all of it safe for the exact result:
//! - a node whose points all lie in the query's component is skipped;
//! - a node's lower bound is max(box distance, core(p), smallest core in the node), computed
//!   with the same rounding as the point distances (see `kdtree.rs`);
//! - a node is skipped when its bound exceeds the point's best so far or the component's best
//!   so far (shared between threads): the component's minimum edge is never pruned, because
//!   its weight is at most either value, and equal bounds are still visited.
//!
//! Ties: a point keeps the lowest-position partner among equal weights and a component the
//! smallest (weight, p, q), so the tree is a function of the data alone, whatever the thread
//! count or timing. With tied weights the tree can differ from Prim's edge for edge, but every
//! minimum spanning tree has the same sorted weights, and single linkage at each height (the
//! connected components of the edges up to it) is the same for all of them.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::{KdTree, NONE};
use crate::distance::sqdist_d;

/// Per-round, read-only state of the search.
struct Round<'a> {
    /// Core distance per tree position.
    core: &'a [f64],
    /// Smallest core distance per node.
    min_core: &'a [f64],
    /// Component per tree position (its union-find root).
    comp: &'a [u32],
    /// The component of every point of the node, or `NONE` when they differ.
    node_comp: &'a [u32],
    /// Best edge weight found so far per component (f64 bits; non-negative, so the bit
    /// order is the numeric order).
    bound: &'a [AtomicU64],
}

struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            rank: vec![0; n],
        }
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        let (a, b) = if self.rank[a as usize] < self.rank[b as usize] {
            (b, a)
        } else {
            (a, b)
        };
        self.parent[b as usize] = a;
        if self.rank[a as usize] == self.rank[b as usize] {
            self.rank[a as usize] += 1;
        }
        true
    }
}

impl KdTree {
    /// Borůvka's MST on mutual reachability (see the module doc). Returns (a, b, weight) edges
    /// in original rows, sorted by (weight, a, b) with a < b, and the total weight summed in
    /// that order.
    pub(crate) fn boruvka<const D: usize>(&self, core: &[f64]) -> (Vec<(usize, usize, f64)>, f64) {
        let n = self.orig.len();
        let mut edges: Vec<(usize, usize, f64)> = Vec::with_capacity(n.saturating_sub(1));
        if n < 2 {
            return (edges, 0.0);
        }
        let m = self.nodes.len();
        let core_pos: Vec<f64> = (0..n).map(|p| core[self.orig[p]]).collect();
        // Children come after their parent in `nodes`: summaries fill bottom-up.
        let mut min_core = vec![f64::INFINITY; m];
        for node in (0..m).rev() {
            let nd = self.nodes[node];
            min_core[node] = if nd.left == NONE {
                core_pos[nd.start..nd.end]
                    .iter()
                    .fold(f64::INFINITY, |a, &b| a.min(b))
            } else {
                min_core[nd.left as usize].min(min_core[nd.right as usize])
            };
        }
        let mut uf = UnionFind::new(n);
        let mut comp: Vec<u32> = (0..n as u32).collect();
        let mut node_comp = vec![NONE; m];
        loop {
            for node in (0..m).rev() {
                let nd = self.nodes[node];
                node_comp[node] = if nd.left == NONE {
                    let c = comp[nd.start];
                    if comp[nd.start..nd.end].iter().all(|&x| x == c) {
                        c
                    } else {
                        NONE
                    }
                } else {
                    let (l, r) = (node_comp[nd.left as usize], node_comp[nd.right as usize]);
                    if l == r {
                        l
                    } else {
                        NONE
                    }
                };
            }
            if node_comp[0] != NONE {
                break;
            }
            let bound: Vec<AtomicU64> = (0..n)
                .map(|_| AtomicU64::new(f64::INFINITY.to_bits()))
                .collect();
            let round = Round {
                core: &core_pos,
                min_core: &min_core,
                comp: &comp,
                node_comp: &node_comp,
                bound: &bound,
            };
            let best: Vec<(f64, u32)> = (0..n)
                .into_par_iter()
                .map(|p| {
                    let mut best = (f64::INFINITY, NONE);
                    self.foreign_visit::<D>(0, p, &round, &mut best);
                    best
                })
                .collect();
            // Each component's smallest (weight, p, q): a scan in position order.
            let mut comp_best: Vec<(f64, u32, u32)> = vec![(f64::INFINITY, NONE, NONE); n];
            for (p, &(w, q)) in best.iter().enumerate() {
                if q == NONE {
                    continue;
                }
                let c = &mut comp_best[comp[p] as usize];
                if (w, p as u32, q) < *c {
                    *c = (w, p as u32, q);
                }
            }
            let mut cands: Vec<(f64, u32, u32)> = comp_best
                .into_iter()
                .filter(|c| c.1 != NONE)
                .map(|(w, p, q)| (w, p.min(q), p.max(q)))
                .collect();
            if cands.is_empty() {
                // Only infinite weights left (no core distance): the graph stays disconnected.
                break;
            }
            cands.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            for (w, p, q) in cands {
                if uf.union(p, q) {
                    edges.push((self.orig[p as usize], self.orig[q as usize], w));
                }
            }
            for (p, c) in comp.iter_mut().enumerate() {
                *c = uf.find(p as u32);
            }
        }
        edges.sort_by(|a, b| {
            a.2.total_cmp(&b.2)
                .then(a.0.min(a.1).cmp(&b.0.min(b.1)))
                .then(a.0.max(a.1).cmp(&b.0.max(b.1)))
        });
        let total = edges.iter().map(|e| e.2).sum();
        (edges, total)
    }

    /// Improves `best` (weight, position) with the points of the subtree outside p's component.
    fn foreign_visit<const D: usize>(
        &self,
        node: usize,
        p: usize,
        r: &Round<'_>,
        best: &mut (f64, u32),
    ) {
        let cp = r.comp[p];
        if r.node_comp[node] == cp {
            return;
        }
        let x = self.row(p);
        let core_p = r.core[p];
        let lb = self.lb_sq::<D>(x, node).sqrt();
        let lb = lb.max(core_p).max(r.min_core[node]);
        let limit = best
            .0
            .min(f64::from_bits(r.bound[cp as usize].load(Ordering::Relaxed)));
        if lb > limit {
            return;
        }
        let nd = self.nodes[node];
        if nd.left == NONE {
            for q in nd.start..nd.end {
                if r.comp[q] == cp {
                    continue;
                }
                let dist = sqdist_d::<D>(x, self.row(q)).sqrt();
                // The comparisons of Prim's relaxation, so the weights are the same bits.
                let w = if dist > core_p { dist } else { core_p };
                let w = if w > r.core[q] { w } else { r.core[q] };
                if (w, q as u32) < *best {
                    *best = (w, q as u32);
                    r.bound[cp as usize].fetch_min(w.to_bits(), Ordering::Relaxed);
                }
            }
            return;
        }
        let (a, b) = (nd.left as usize, nd.right as usize);
        if self.lb_sq::<D>(x, a) <= self.lb_sq::<D>(x, b) {
            self.foreign_visit::<D>(a, p, r, best);
            self.foreign_visit::<D>(b, p, r, best);
        } else {
            self.foreign_visit::<D>(b, p, r, best);
            self.foreign_visit::<D>(a, p, r, best);
        }
    }

    /// For every row p (original order): the rows q ≠ p with d(p, q) ≤ core(p), each with its
    /// mutual-reachability weight, computed with the comparisons of Prim's relaxation (max is
    /// exact and the squared differences are symmetric, so the bits do not depend on which end
    /// is "current"). These are the only edges whose weight can equal a core distance.
    pub(crate) fn core_neighbours<const D: usize>(&self, core: &[f64]) -> Vec<Vec<(u32, f64)>> {
        let n = self.orig.len();
        let core_pos: Vec<f64> = (0..n).map(|p| core[self.orig[p]]).collect();
        let by_pos: Vec<Vec<(u32, f64)>> = (0..n)
            .into_par_iter()
            .map(|p| {
                let mut out = Vec::new();
                if core_pos[p].is_finite() {
                    self.radius_visit::<D>(0, p, &core_pos, &mut out);
                }
                out
            })
            .collect();
        let mut out = vec![Vec::new(); n];
        for (p, l) in by_pos.into_iter().enumerate() {
            out[self.orig[p]] = l;
        }
        out
    }

    fn radius_visit<const D: usize>(
        &self,
        node: usize,
        p: usize,
        core: &[f64],
        out: &mut Vec<(u32, f64)>,
    ) {
        let x = self.row(p);
        let core_p = core[p];
        if self.lb_sq::<D>(x, node).sqrt() > core_p {
            return;
        }
        let nd = self.nodes[node];
        if nd.left == NONE {
            for (q, &core_q) in (nd.start..nd.end).zip(&core[nd.start..nd.end]) {
                if q == p {
                    continue;
                }
                let dist = sqdist_d::<D>(x, self.row(q)).sqrt();
                if dist <= core_p {
                    let w = if dist > core_p { dist } else { core_p };
                    let w = if w > core_q { w } else { core_q };
                    out.push((self.orig[q] as u32, w));
                }
            }
            return;
        }
        self.radius_visit::<D>(nd.left as usize, p, core, out);
        self.radius_visit::<D>(nd.right as usize, p, core, out);
    }
}
