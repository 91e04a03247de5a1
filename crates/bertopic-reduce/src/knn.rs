//! k-nearest-neighbour graphs: exact brute force for small n, RP-forest + NN-descent for large n.
//! Both are deterministic given a seed and independent of the rayon thread count: every point's
//! list is computed by one task from the previous iteration's (read-only) graph.

use crate::linalg::{dot, gemm_abt, sq_dist};
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

/// Rows per block of the exact k-NN; a block's products are made one tile of columns at a time
/// so the 256 × 512 similarity tile (512 KiB) stays in L2 while it is scanned.
const ROW_BLOCK: usize = 256;
/// Columns per tile of the exact k-NN.
const COL_TILE: usize = 512;
/// Columns tested together by the vectorised prefilter of the tile scan.
const SCAN_LANES: usize = 8;

/// Exact k-NN of every point among all points (self excluded), computing each pair's distance
/// once: block b of rows is multiplied (gemm, one thread per block) only with the rows from b's
/// start on (half the work of a full product), and each pair is offered to both endpoints'
/// lists. The lists sit behind per-row locks; the result is still independent of thread count
/// and timing because a list ends as the k smallest (distance, index) pairs offered, whatever
/// the order of the offers, and every tile's products depend only on the fixed tiling.
pub(crate) fn exact_knn(p: &Prepared, k: usize) -> KnnGraph {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;
    let (n, d) = (p.n, p.d);
    let euclid = p.metric == Metric::Euclidean;
    let norms: Vec<f32> = if euclid {
        (0..n).map(|i| dot(p.row(i), p.row(i))).collect()
    } else {
        Vec::new()
    };
    let lists: Vec<Mutex<Vec<(f32, u32)>>> = (0..n)
        .map(|_| Mutex::new(Vec::with_capacity(k + 1)))
        .collect();
    // Current k-th distance per row (f32 bits) for a lock-free first rejection. Thresholds only
    // shrink, so a stale (larger) value only lets through an offer that `insert` then refuses.
    let worst: Vec<AtomicU32> = (0..n)
        .map(|_| AtomicU32::new(f32::INFINITY.to_bits()))
        .collect();
    // Offer (dist, j) to row's list; returns the list's k-th distance afterwards.
    let offer = |row: usize, dist: f32, j: u32| -> f32 {
        let mut l = lists[row].lock().unwrap_or_else(|e| e.into_inner());
        insert(&mut l, k, dist, j);
        if l.len() == k {
            let w = l[k - 1].0;
            worst[row].store(w.to_bits(), Ordering::Relaxed);
            w
        } else {
            f32::INFINITY
        }
    };
    let dist_of = |r: usize, c: usize, s: f32| -> f32 {
        if euclid {
            (norms[r] + norms[c] - 2.0 * s).max(0.0)
        } else {
            (1.0 - s).max(0.0)
        }
    };
    (0..n.div_ceil(ROW_BLOCK)).into_par_iter().for_each(|b| {
        let (r0, r1) = (b * ROW_BLOCK, ((b + 1) * ROW_BLOCK).min(n));
        let rows = r1 - r0;
        let mut sims = vec![0.0f32; rows * COL_TILE];
        let mut own: Vec<Vec<(f32, u32)>> = vec![Vec::with_capacity(k + 1); rows];
        let mut own_worst = vec![f32::INFINITY; rows];
        let mut col_thr = vec![0.0f32; COL_TILE];
        let mut c0 = r0;
        while c0 < n {
            let c1 = (c0 + COL_TILE).min(n);
            let cols = c1 - c0;
            gemm_abt(
                &p.data[r0 * d..r1 * d],
                rows,
                &p.data[c0 * d..c1 * d],
                cols,
                d,
                &mut sims,
            );
            for (t, w) in worst[c0..c1].iter().enumerate() {
                col_thr[t] = f32::from_bits(w.load(Ordering::Relaxed));
            }
            for r in r0..r1 {
                let row = &sims[(r - r0) * cols..(r - r0 + 1) * cols];
                // Only pairs r < c: the other half is offered by the block that owns c.
                let start = (r + 1).saturating_sub(c0).min(cols);
                let l = &mut own[r - r0];
                let handle =
                    |cc: usize, own_w: &mut f32, l: &mut Vec<(f32, u32)>, col_thr: &mut [f32]| {
                        let c = c0 + cc;
                        let dist = dist_of(r, c, row[cc]);
                        if dist <= *own_w {
                            insert(l, k, dist, c as u32);
                            if l.len() == k {
                                *own_w = l[k - 1].0;
                            }
                        }
                        if dist <= col_thr[cc] {
                            col_thr[cc] = offer(c, dist, r as u32);
                        }
                    };
                let mut own_w = own_worst[r - r0];
                // Prefilter SCAN_LANES columns at a time (branch-free, vectorised): most chunks
                // hold no candidate for either list.
                let span = (cols - start) / SCAN_LANES * SCAN_LANES;
                let rs = &row[start..start + span];
                let ts = &col_thr[start..start + span];
                let mut hits = [false; COL_TILE / SCAN_LANES];
                if euclid {
                    let ns = &norms[c0 + start..c0 + start + span];
                    let nr = norms[r];
                    for (h, ((s8, t8), n8)) in hits.iter_mut().zip(
                        rs.chunks_exact(SCAN_LANES)
                            .zip(ts.chunks_exact(SCAN_LANES))
                            .zip(ns.chunks_exact(SCAN_LANES)),
                    ) {
                        let mut hit = false;
                        for lane in 0..SCAN_LANES {
                            let dist = (nr + n8[lane] - 2.0 * s8[lane]).max(0.0);
                            hit |= dist <= own_w.max(t8[lane]);
                        }
                        *h = hit;
                    }
                } else {
                    for (h, (s8, t8)) in hits
                        .iter_mut()
                        .zip(rs.chunks_exact(SCAN_LANES).zip(ts.chunks_exact(SCAN_LANES)))
                    {
                        let mut hit = false;
                        for lane in 0..SCAN_LANES {
                            let dist = (1.0 - s8[lane]).max(0.0);
                            hit |= dist <= own_w.max(t8[lane]);
                        }
                        *h = hit;
                    }
                }
                // The prefilter used the thresholds from before this row's updates; they only
                // shrink, so it never drops a candidate.
                for (ch, &hit) in hits[..span / SCAN_LANES].iter().enumerate() {
                    if hit {
                        for lane in 0..SCAN_LANES {
                            handle(start + ch * SCAN_LANES + lane, &mut own_w, l, &mut col_thr);
                        }
                    }
                }
                for cc in start + span..cols {
                    handle(cc, &mut own_w, l, &mut col_thr);
                }
                own_worst[r - r0] = own_w;
            }
            c0 = c1;
        }
        for (t, l) in own.iter().enumerate() {
            for &(dist, j) in l {
                offer(r0 + t, dist, j);
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
    let avx2 = avx2_available();
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
            .map(|i| local_join(p, k, &lists, &is_new, &rev, i, avx2))
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

/// Lists of neighbours: each row's (distance, index) pairs, sorted.
type Lists = Vec<Vec<(f32, u32)>>;

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One NN-descent update of point i, in the AVX2 build when the CPU has it (the distance
/// kernels sum in a fixed lane order, so both builds give the same bits).
fn local_join(
    p: &Prepared,
    k: usize,
    lists: &Lists,
    is_new: &[Vec<bool>],
    rev: &[Vec<(u32, bool)>],
    i: usize,
    avx2: bool,
) -> (Vec<(f32, u32)>, Vec<bool>, usize) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the running CPU reports AVX2.
        return unsafe { local_join_avx2(p, k, lists, is_new, rev, i) };
    }
    let _ = avx2;
    local_join_body(p, k, lists, is_new, rev, i)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn local_join_avx2(
    p: &Prepared,
    k: usize,
    lists: &Lists,
    is_new: &[Vec<bool>],
    rev: &[Vec<(u32, bool)>],
    i: usize,
) -> (Vec<(f32, u32)>, Vec<bool>, usize) {
    local_join_body(p, k, lists, is_new, rev, i)
}

/// Candidates of i: neighbours (forward and reverse) of its neighbours, through at least one
/// entry that is new since the last round; the better ones replace i's worst entries.
#[inline(always)]
fn local_join_body(
    p: &Prepared,
    k: usize,
    lists: &Lists,
    is_new: &[Vec<bool>],
    rev: &[Vec<(u32, bool)>],
    i: usize,
) -> (Vec<(f32, u32)>, Vec<bool>, usize) {
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
}

/// k-NN graph of `p` (self excluded): exact when n ≤ `exact_max`, else NN-descent.
pub(crate) fn knn_graph(p: &Prepared, k: usize, seed: u64, exact_max: usize) -> KnnGraph {
    if p.n <= exact_max {
        exact_knn(p, k)
    } else {
        nn_descent(p, k, seed, 8, 12)
    }
}
