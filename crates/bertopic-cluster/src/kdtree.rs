//! A kd-tree over the training points: exact k-nearest-neighbour queries (core distances,
//! approximate prediction) and the nearest-other-component search of Borůvka's MST.
//!
//! Every result is exact and ordered by (distance, index), so it does not depend on the
//! traversal order or on how rayon splits the work.

use std::sync::atomic::{AtomicU64, Ordering};

/// Points per leaf: small enough to prune well in 5-d, large enough to amortise the node work.
const LEAF_SIZE: usize = 16;

#[derive(Clone)]
struct Node {
    start: usize,
    end: usize,
    /// Child node indices; `None` for a leaf.
    children: Option<(usize, usize)>,
}

#[derive(Clone)]
pub(crate) struct KdTree {
    d: usize,
    /// The points, rows permuted into tree order (each node owns `start..end`).
    pts: Vec<f64>,
    /// Original index of each permuted row.
    idx: Vec<usize>,
    nodes: Vec<Node>,
    /// Bounding boxes, `d` values per node.
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl std::fmt::Debug for KdTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KdTree {{ points: {}, dims: {}, nodes: {} }}",
            self.idx.len(),
            self.d,
            self.nodes.len()
        )
    }
}

#[inline]
pub(crate) fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

impl KdTree {
    /// Builds the tree over `n` rows of `d` values stored row-major in `flat`.
    pub(crate) fn new(flat: &[f64], d: usize) -> Self {
        let n = flat.len().checked_div(d).unwrap_or(0);
        let mut order: Vec<usize> = (0..n).collect();
        let mut nodes = Vec::new();
        let mut lo = Vec::new();
        let mut hi = Vec::new();
        // Preorder construction with an explicit stack: (node id, start, end).
        nodes.push(Node {
            start: 0,
            end: n,
            children: None,
        });
        let mut stack = vec![0usize];
        while let Some(id) = stack.pop() {
            let (start, end) = (nodes[id].start, nodes[id].end);
            let (blo, bhi) = bbox(flat, d, &order[start..end]);
            if lo.len() < (id + 1) * d {
                lo.resize((id + 1) * d, 0.0);
                hi.resize((id + 1) * d, 0.0);
            }
            lo[id * d..(id + 1) * d].copy_from_slice(&blo);
            hi[id * d..(id + 1) * d].copy_from_slice(&bhi);
            if end - start <= LEAF_SIZE {
                continue;
            }
            let dim = (0..d)
                .max_by(|&a, &b| {
                    (bhi[a] - blo[a])
                        .total_cmp(&(bhi[b] - blo[b]))
                        .then(b.cmp(&a))
                })
                .unwrap_or(0);
            if bhi[dim] - blo[dim] <= 0.0 {
                continue; // all points identical: keep as one leaf
            }
            let mid = (end - start) / 2;
            // Ties broken by index: the tree (and so every traversal) is deterministic.
            order[start..end].select_nth_unstable_by(mid, |&a, &b| {
                flat[a * d + dim]
                    .total_cmp(&flat[b * d + dim])
                    .then(a.cmp(&b))
            });
            let left = nodes.len();
            nodes.push(Node {
                start,
                end: start + mid,
                children: None,
            });
            nodes.push(Node {
                start: start + mid,
                end,
                children: None,
            });
            nodes[id].children = Some((left, left + 1));
            stack.push(left + 1);
            stack.push(left);
        }
        lo.resize(nodes.len() * d, 0.0);
        hi.resize(nodes.len() * d, 0.0);
        let mut pts = Vec::with_capacity(n * d);
        for &i in &order {
            pts.extend_from_slice(&flat[i * d..(i + 1) * d]);
        }
        KdTree {
            d,
            pts,
            idx: order,
            nodes,
            lo,
            hi,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.idx.len()
    }

    fn row(&self, pos: usize) -> &[f64] {
        &self.pts[pos * self.d..(pos + 1) * self.d]
    }

    /// Squared distance from `q` to the bounding box of `node`.
    fn box_sqdist(&self, node: usize, q: &[f64]) -> f64 {
        let lo = &self.lo[node * self.d..(node + 1) * self.d];
        let hi = &self.hi[node * self.d..(node + 1) * self.d];
        let mut s = 0.0;
        for k in 0..self.d {
            let v = q[k];
            let gap = if v < lo[k] {
                lo[k] - v
            } else if v > hi[k] {
                v - hi[k]
            } else {
                0.0
            };
            s += gap * gap;
        }
        s
    }

    /// The `k` nearest rows to `q` as (distance, original index), ascending by distance then
    /// index. Fewer if the tree holds fewer than `k` points.
    pub(crate) fn knn(&self, q: &[f64], k: usize) -> Vec<(f64, usize)> {
        let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        if k == 0 || self.nodes.is_empty() || self.len() == 0 {
            return best;
        }
        self.knn_rec(0, q, k, &mut best);
        best.into_iter().map(|(d, i)| (d.sqrt(), i)).collect()
    }

    fn knn_rec(&self, node: usize, q: &[f64], k: usize, best: &mut Vec<(f64, usize)>) {
        let nd = &self.nodes[node];
        match nd.children {
            None => {
                for pos in nd.start..nd.end {
                    let dist = sqdist(q, self.row(pos));
                    let i = self.idx[pos];
                    if best.len() == k {
                        let w = best[k - 1];
                        if dist > w.0 || (dist == w.0 && i > w.1) {
                            continue;
                        }
                    }
                    let at = best.partition_point(|&(bd, bi)| bd < dist || (bd == dist && bi < i));
                    best.insert(at, (dist, i));
                    best.truncate(k);
                }
            }
            Some((l, r)) => {
                let (dl, dr) = (self.box_sqdist(l, q), self.box_sqdist(r, q));
                let order = if dl <= dr {
                    [(l, dl), (r, dr)]
                } else {
                    [(r, dr), (l, dl)]
                };
                for (c, dc) in order {
                    // Strict: a box at exactly the k-th distance may hold a lower index.
                    if best.len() == k && dc > best[k - 1].0 {
                        continue;
                    }
                    self.knn_rec(c, q, k, best);
                }
            }
        }
    }
}

fn bbox(flat: &[f64], d: usize, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for &i in rows {
        for k in 0..d {
            let v = flat[i * d + k];
            lo[k] = lo[k].min(v);
            hi[k] = hi[k].max(v);
        }
    }
    (lo, hi)
}

/// A candidate MST edge: (mutual reachability, lower index, higher index). Ordering by this
/// triple is a strict total order, so the minimum spanning tree is unique and every correct
/// algorithm (Borůvka here, Prim in the tests) returns the same edges.
pub(crate) type EdgeKey = (f64, usize, usize);

#[inline]
pub(crate) fn edge_key(w: f64, a: usize, b: usize) -> EdgeKey {
    (w, a.min(b), a.max(b))
}

#[inline]
pub(crate) fn key_less(a: &EdgeKey, b: &EdgeKey) -> bool {
    a.0 < b.0 || (a.0 == b.0 && (a.1, a.2) < (b.1, b.2))
}

/// Per-round state of Borůvka's search, in tree (permuted) order.
pub(crate) struct BoruvkaState<'a> {
    pub(crate) tree: &'a KdTree,
    /// Core distance of each permuted row.
    pub(crate) core: Vec<f64>,
    /// Smallest core distance within each node.
    pub(crate) node_min_core: Vec<f64>,
}

impl<'a> BoruvkaState<'a> {
    /// `core` is indexed by original point index.
    pub(crate) fn new(tree: &'a KdTree, core: &[f64]) -> Self {
        let perm_core: Vec<f64> = tree.idx.iter().map(|&i| core[i]).collect();
        let mut node_min_core = vec![f64::INFINITY; tree.nodes.len()];
        // Children come after their parent in preorder: fill bottom-up.
        for id in (0..tree.nodes.len()).rev() {
            node_min_core[id] = match tree.nodes[id].children {
                None => perm_core[tree.nodes[id].start..tree.nodes[id].end]
                    .iter()
                    .copied()
                    .fold(f64::INFINITY, f64::min),
                Some((l, r)) => node_min_core[l].min(node_min_core[r]),
            };
        }
        BoruvkaState {
            tree,
            core: perm_core,
            node_min_core,
        }
    }

    /// Component of every node, or `usize::MAX` if it spans several. `comp` is per permuted row.
    pub(crate) fn node_components(&self, comp: &[usize]) -> Vec<usize> {
        let nodes = &self.tree.nodes;
        let mut out = vec![usize::MAX; nodes.len()];
        for id in (0..nodes.len()).rev() {
            out[id] = match nodes[id].children {
                None => {
                    let c = comp[nodes[id].start];
                    if comp[nodes[id].start..nodes[id].end].iter().all(|&x| x == c) {
                        c
                    } else {
                        usize::MAX
                    }
                }
                Some((l, r)) => {
                    if out[l] == out[r] {
                        out[l]
                    } else {
                        usize::MAX
                    }
                }
            };
        }
        out
    }

    /// The least edge (by [`EdgeKey`]) from permuted row `qpos` to a point of another
    /// component, or `None` if pruned by `bound` (the best weight its component has found so
    /// far, as f64 bits; only strictly heavier candidates are ever pruned, so the component's
    /// minimum over its points stays exact).
    pub(crate) fn nearest_other(
        &self,
        qpos: usize,
        comp: &[usize],
        node_comp: &[usize],
        bound: &AtomicU64,
    ) -> Option<EdgeKey> {
        let mut best: Option<EdgeKey> = None;
        let q = self.tree.row(qpos);
        let cq = comp[qpos];
        let mut stack: Vec<(usize, f64)> = vec![(0, self.tree.box_sqdist(0, q))];
        let qi = self.tree.idx[qpos];
        let core_q = self.core[qpos];
        while let Some((node, box_sq)) = stack.pop() {
            if node_comp[node] == cq {
                continue;
            }
            let limit = {
                let shared = f64::from_bits(bound.load(Ordering::Relaxed));
                best.map_or(shared, |b| b.0.min(shared))
            };
            let lb = core_q.max(self.node_min_core[node]).max(box_sq.sqrt());
            if lb > limit {
                continue;
            }
            let nd = &self.tree.nodes[node];
            match nd.children {
                None => {
                    for (pos, &cp) in comp.iter().enumerate().take(nd.end).skip(nd.start) {
                        if cp == cq {
                            continue;
                        }
                        let cores = core_q.max(self.core[pos]);
                        let cur = best.map_or(f64::INFINITY, |b| b.0).min(limit);
                        if cores > cur {
                            continue;
                        }
                        let w = cores.max(sqdist(q, self.tree.row(pos)).sqrt());
                        let key = edge_key(w, qi, self.tree.idx[pos]);
                        if best.is_none_or(|b| key_less(&key, &b)) && w <= limit {
                            best = Some(key);
                            bound.fetch_min(w.to_bits(), Ordering::Relaxed);
                        }
                    }
                }
                Some((l, r)) => {
                    let (dl, dr) = (self.tree.box_sqdist(l, q), self.tree.box_sqdist(r, q));
                    // Push the farther child first so the nearer is searched first.
                    if dl <= dr {
                        stack.push((r, dr));
                        stack.push((l, dl));
                    } else {
                        stack.push((l, dl));
                        stack.push((r, dr));
                    }
                }
            }
        }
        best
    }

    /// Original index of permuted row `pos`.
    pub(crate) fn original(&self, pos: usize) -> usize {
        self.tree.idx[pos]
    }
}
