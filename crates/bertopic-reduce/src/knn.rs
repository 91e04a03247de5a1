//! k-nearest-neighbour graphs: exact brute force for small n, RP-forest + NN-descent for large n.
//! Both are deterministic given a seed and independent of the rayon thread count: every point's
//! list is computed by one task from the previous iteration's (read-only) graph.

use crate::linalg::{dot, sq_dist};
use crate::rng::SplitMix64;
use crate::Metric;
use rayon::prelude::*;

/// Data prepared for a metric: rows L2-normalised for cosine; "rank distance" is 1-dot (cosine) or
/// the squared distance (euclidean), turned into the true distance by [`Prepared::finish`].
pub(crate) struct Prepared {
    pub(crate) data: Vec<f32>,
    pub(crate) n: usize,
    pub(crate) d: usize,
    pub(crate) metric: Metric,
}

impl Prepared {
    pub(crate) fn new(data: ndarray::ArrayView2<f32>, metric: Metric) -> Self {
        let (n, d) = data.dim();
        let mut v: Vec<f32> = data.iter().copied().collect();
        if metric == Metric::Cosine {
            v.par_chunks_mut(d.max(1)).for_each(normalise);
        }
        Self {
            data: v,
            n,
            d,
            metric,
        }
    }

    #[inline]
    pub(crate) fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    #[inline]
    pub(crate) fn rank_dist(&self, a: &[f32], b: &[f32]) -> f32 {
        match self.metric {
            Metric::Cosine => (1.0 - dot(a, b)).max(0.0),
            Metric::Euclidean => sq_dist(a, b),
        }
    }

    #[inline]
    pub(crate) fn finish(&self, r: f32) -> f32 {
        match self.metric {
            Metric::Cosine => r,
            Metric::Euclidean => r.max(0.0).sqrt(),
        }
    }
}

/// Scale a row to unit length (zero rows stay zero: cosine distance 1 to everything).
pub(crate) fn normalise(row: &mut [f32]) {
    let norm = dot(row, row).sqrt();
    if norm > 0.0 {
        row.iter_mut().for_each(|x| *x /= norm);
    }
}

/// A k-NN graph without self loops: row i holds k (distance, index) pairs sorted ascending.
#[derive(Clone, Debug)]
pub struct KnnGraph {
    /// Neighbours per row.
    pub k: usize,
    /// n×k neighbour indices, row-major.
    pub indices: Vec<u32>,
    /// n×k neighbour distances (true metric distances), row-major.
    pub distances: Vec<f32>,
}

/// Sorted bounded list insertion keyed by (distance, index) so ties break deterministically.
#[inline]
fn insert(list: &mut Vec<(f32, u32)>, k: usize, d: f32, j: u32) -> bool {
    if list.len() == k {
        let last = list[k - 1];
        if (d, j) >= last {
            return false;
        }
    }
    let pos = list.partition_point(|&(dd, jj)| (dd, jj) < (d, j));
    if pos < list.len() && list[pos].1 == j {
        return false;
    }
    if list.iter().any(|&(_, jj)| jj == j) {
        return false;
    }
    list.insert(pos, (d, j));
    list.truncate(k);
    true
}

fn to_graph(p: &Prepared, lists: Vec<Vec<(f32, u32)>>, k: usize) -> KnnGraph {
    let mut indices = Vec::with_capacity(lists.len() * k);
    let mut distances = Vec::with_capacity(lists.len() * k);
    for l in lists {
        for &(d, j) in &l {
            indices.push(j);
            distances.push(p.finish(d));
        }
    }
    KnnGraph {
        k,
        indices,
        distances,
    }
}

/// Exact k-NN of every point among all points (self excluded), computing each pair's distance
/// once: block b of rows is multiplied only with the rows from b's start on (half the work of a
/// full product), and each pair is offered to both endpoints' lists. The lists sit behind
/// per-row locks; the result is still independent of thread count and timing because a list ends
/// as the k smallest (distance, index) pairs offered, whatever the order of the offers.
pub(crate) fn exact_knn(p: &Prepared, k: usize) -> KnnGraph {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;
    let (n, d) = (p.n, p.d);
    let t = ndarray::ArrayView2::from_shape((n, d), &p.data[..n * d])
        .unwrap_or_else(|_| unreachable!("Prepared holds n*d values"));
    let euclid = p.metric == Metric::Euclidean;
    let norms: Vec<f32> = if euclid {
        (0..n).map(|i| dot(p.row(i), p.row(i))).collect()
    } else {
        Vec::new()
    };
    let lists: Vec<Mutex<Vec<(f32, u32)>>> = (0..n)
        .map(|_| Mutex::new(Vec::with_capacity(k + 1)))
        .collect();
    // Current k-th distance per row (f32 bits) for a lock-free first rejection; a stale value only
    // lets through an offer that `insert` then refuses.
    let worst: Vec<AtomicU32> = (0..n)
        .map(|_| AtomicU32::new(f32::INFINITY.to_bits()))
        .collect();
    let offer = |row: usize, dist: f32, j: u32| {
        let mut l = lists[row].lock().unwrap_or_else(|e| e.into_inner());
        insert(&mut l, k, dist, j);
        if l.len() == k {
            worst[row].store(l[k - 1].0.to_bits(), Ordering::Relaxed);
        }
    };
    (0..n.div_ceil(BLOCK)).into_par_iter().for_each(|b| {
        let (r0, r1) = (b * BLOCK, ((b + 1) * BLOCK).min(n));
        let q = t.slice(ndarray::s![r0..r1, ..]);
        let cols = t.slice(ndarray::s![r0.., ..]);
        let sims = q.dot(&cols.t());
        let mut own: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
        for r in r0..r1 {
            own.clear();
            let mut own_worst = f32::INFINITY;
            let row = sims.row(r - r0);
            for (cc, &s) in row.iter().enumerate().skip(r - r0 + 1) {
                let c = r0 + cc;
                let dist = if euclid {
                    (norms[r] + norms[c] - 2.0 * s).max(0.0)
                } else {
                    (1.0 - s).max(0.0)
                };
                if dist <= own_worst {
                    insert(&mut own, k, dist, c as u32);
                    if own.len() == k {
                        own_worst = own[k - 1].0;
                    }
                }
                if dist <= f32::from_bits(worst[c].load(Ordering::Relaxed)) {
                    offer(c, dist, r as u32);
                }
            }
            for &(dist, j) in &own {
                offer(r, dist, j);
            }
        }
    });
    let lists: Vec<Vec<(f32, u32)>> = lists
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect();
    to_graph(p, lists, k)
}

/// Exact k-NN of query rows (prepared like the training data) among the training points.
pub(crate) fn query_knn(train: &Prepared, queries: &Prepared, k: usize) -> KnnGraph {
    blocked_knn(train, queries, k, false)
}

/// Query rows per block: the block's similarity matrix (rows × n) stays within a few MiB per thread.
const BLOCK: usize = 256;

/// Brute-force k-NN by blocks of query rows: one matrix product (matrixmultiply via ndarray) per
/// block, then a bounded top-k scan per row. Each block is computed by one task with fixed shapes,
/// so results do not depend on the thread count.
fn blocked_knn(train: &Prepared, queries: &Prepared, k: usize, skip_self: bool) -> KnnGraph {
    let d = train.d;
    let t = ndarray::ArrayView2::from_shape((train.n, d), &train.data[..train.n * d])
        .unwrap_or_else(|_| unreachable!("Prepared holds n*d values"));
    let tt = t.t();
    let euclid = train.metric == Metric::Euclidean;
    let norms = |p: &Prepared| -> Vec<f32> {
        if euclid {
            (0..p.n).map(|i| dot(p.row(i), p.row(i))).collect()
        } else {
            Vec::new()
        }
    };
    let (tn, qn) = (norms(train), norms(queries));
    let n_blocks = queries.n.div_ceil(BLOCK);
    let blocks: Vec<Vec<Vec<(f32, u32)>>> = (0..n_blocks)
        .into_par_iter()
        .map(|b| {
            let r0 = b * BLOCK;
            let r1 = (r0 + BLOCK).min(queries.n);
            let q = ndarray::ArrayView2::from_shape((r1 - r0, d), &queries.data[r0 * d..r1 * d])
                .unwrap_or_else(|_| unreachable!("block lies inside the data"));
            let sims = q.dot(&tt);
            (r0..r1)
                .map(|i| {
                    let row = sims.row(i - r0);
                    let mut l: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
                    let mut worst = f32::INFINITY;
                    for (j, &s) in row.iter().enumerate() {
                        if skip_self && j == i {
                            continue;
                        }
                        let r = if euclid {
                            (qn[i] + tn[j] - 2.0 * s).max(0.0)
                        } else {
                            (1.0 - s).max(0.0)
                        };
                        if r <= worst {
                            insert(&mut l, k, r, j as u32);
                            if l.len() == k {
                                worst = l[k - 1].0;
                            }
                        }
                    }
                    l
                })
                .collect()
        })
        .collect();
    to_graph(train, blocks.into_iter().flatten().collect(), k)
}

/// Leaves of one random-projection tree (hyperplane between two random points of a node).
fn rp_tree_leaves(p: &Prepared, seed: u64, tree: u64, leaf_size: usize) -> Vec<Vec<u32>> {
    let mut rng = SplitMix64::from_keys(&[seed, 0x5250_7472, tree]);
    let mut leaves = Vec::new();
    let mut stack = vec![(0..p.n as u32).collect::<Vec<u32>>()];
    let mut normal = vec![0.0f32; p.d];
    while let Some(node) = stack.pop() {
        if node.len() <= leaf_size {
            leaves.push(node);
            continue;
        }
        let a = node[rng.below(node.len())] as usize;
        let mut b = node[rng.below(node.len())] as usize;
        if a == b {
            b = node[(node.iter().position(|&x| x as usize == a).unwrap_or(0) + 1) % node.len()]
                as usize;
        }
        let (xa, xb) = (p.row(a), p.row(b));
        for t in 0..p.d {
            normal[t] = xa[t] - xb[t];
        }
        // Offset: the hyperplane through the midpoint of a and b.
        let off: f32 = (0..p.d).map(|t| normal[t] * 0.5 * (xa[t] + xb[t])).sum();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for &i in &node {
            let s = dot(p.row(i as usize), &normal) - off;
            let goes_left = if s == 0.0 { rng.below(2) == 0 } else { s < 0.0 };
            if goes_left {
                left.push(i);
            } else {
                right.push(i);
            }
        }
        if left.is_empty() || right.is_empty() {
            // Degenerate split (duplicates): split the node in half by position.
            let mut all = left;
            all.extend(right);
            let half = all.len() / 2;
            let r = all.split_off(half);
            stack.push(all);
            stack.push(r);
        } else {
            stack.push(left);
            stack.push(right);
        }
    }
    leaves
}

/// Approximate k-NN: random-projection forest for the start, then NN-descent
/// (neighbour-of-neighbour joins, only through entries that are new since the last round).
pub(crate) fn nn_descent(
    p: &Prepared,
    k: usize,
    seed: u64,
    n_trees: usize,
    max_iters: usize,
) -> KnnGraph {
    let n = p.n;
    let leaf_size = (k + 1).max(30);
    let forests: Vec<Vec<Vec<u32>>> = (0..n_trees as u64)
        .into_par_iter()
        .map(|t| rp_tree_leaves(p, seed, t, leaf_size))
        .collect();
    // leaf_of[t][i] = (leaf index) in tree t.
    let leaf_of: Vec<Vec<u32>> = forests
        .iter()
        .map(|leaves| {
            let mut lo = vec![0u32; n];
            for (li, leaf) in leaves.iter().enumerate() {
                for &i in leaf {
                    lo[i as usize] = li as u32;
                }
            }
            lo
        })
        .collect();
    let mut lists: Vec<Vec<(f32, u32)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let xi = p.row(i);
            let mut l = Vec::with_capacity(k + 1);
            for (t, leaves) in forests.iter().enumerate() {
                for &j in &leaves[leaf_of[t][i] as usize] {
                    if j as usize != i {
                        insert(&mut l, k, p.rank_dist(xi, p.row(j as usize)), j);
                    }
                }
            }
            // Pad with seeded random points when leaves were too small (tiny or duplicate data).
            let mut rng = SplitMix64::from_keys(&[seed, 0x0070_6164, i as u64]);
            let mut tries = 0;
            while l.len() < k && tries < 20 * k {
                let j = rng.below(n);
                if j != i {
                    insert(&mut l, k, p.rank_dist(xi, p.row(j)), j as u32);
                }
                tries += 1;
            }
            l
        })
        .collect();
    let mut is_new: Vec<Vec<bool>> = lists.iter().map(|l| vec![true; l.len()]).collect();
    let max_rev = k;
    for _iter in 0..max_iters {
        // Reverse lists, built serially so their order is fixed.
        let mut rev: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n];
        for i in 0..n {
            for (e, &(_, j)) in lists[i].iter().enumerate() {
                let r = &mut rev[j as usize];
                if r.len() < max_rev {
                    r.push((i as u32, is_new[i][e]));
                }
            }
        }
        #[allow(clippy::type_complexity)]
        let results: Vec<(Vec<(f32, u32)>, Vec<bool>, usize)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let xi = p.row(i);
                let mut cands: Vec<u32> = Vec::with_capacity(8 * k * k);
                let fwd = lists[i]
                    .iter()
                    .zip(&is_new[i])
                    .map(|(&(_, j), &nw)| (j, nw));
                for (u, new_u) in fwd.chain(rev[i].iter().copied()) {
                    let u = u as usize;
                    for (e, &(_, v)) in lists[u].iter().enumerate() {
                        if (new_u || is_new[u][e]) && v as usize != i {
                            cands.push(v);
                        }
                    }
                    for &(v, new_v) in &rev[u] {
                        if (new_u || new_v) && v as usize != i {
                            cands.push(v);
                        }
                    }
                }
                cands.sort_unstable();
                cands.dedup();
                let mut l = lists[i].clone();
                let old: Vec<u32> = l.iter().map(|&(_, j)| j).collect();
                let mut updates = 0usize;
                for &v in &cands {
                    if old.contains(&v) {
                        continue;
                    }
                    if insert(&mut l, k, p.rank_dist(xi, p.row(v as usize)), v) {
                        updates += 1;
                    }
                }
                let flags: Vec<bool> = l.iter().map(|&(_, j)| !old.contains(&j)).collect();
                (l, flags, updates)
            })
            .collect();
        let mut total = 0usize;
        lists.clear();
        is_new.clear();
        for (l, f, u) in results {
            lists.push(l);
            is_new.push(f);
            total += u;
        }
        if std::env::var_os("BERTOPIC_REDUCE_TIMING").is_some() {
            eprintln!("nn-descent iteration {_iter}: {total} updates");
        }
        if (total as f64) < 0.001 * (n * k) as f64 {
            break;
        }
    }
    to_graph(p, lists, k)
}

/// k-NN graph of `p` (self excluded): exact when n ≤ `exact_max`, else NN-descent.
pub(crate) fn knn_graph(p: &Prepared, k: usize, seed: u64, exact_max: usize) -> KnnGraph {
    if p.n <= exact_max {
        exact_knn(p, k)
    } else {
        nn_descent(p, k, seed, 8, 12)
    }
}
