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

/// Rows the RP trees split: `p`'s rows projected on [`TREE_DIMS`] seeded Gaussian directions
/// (one gemm per fixed block of rows), or `p`'s own rows when they are no wider. A tree only
/// seeds the descent, whose distances are in full precision; a tree over 1.5 KB rows spent
/// most of its time streaming them (117 s for 4 trees at 1M rows), 256 B rows cost a sixth.
fn tree_rows(p: &Prepared, seed: u64) -> (std::borrow::Cow<'_, [f32]>, usize) {
    let m = TREE_DIMS;
    if p.d <= m {
        return (std::borrow::Cow::Borrowed(&p.data), p.d);
    }
    let mut rng = SplitMix64::from_keys(&[seed, 0x736b_6574]);
    let dirs: Vec<f32> = (0..m * p.d).map(|_| rng.normal() as f32).collect();
    let mut out = vec![0.0f32; p.n * m];
    out.par_chunks_mut(ROW_BLOCK * m)
        .enumerate()
        .for_each(|(c, o)| {
            let (r0, rows) = (c * ROW_BLOCK, o.len() / m);
            gemm_abt(&p.data[r0 * p.d..(r0 + rows) * p.d], rows, &dirs, m, p.d, o);
        });
    (std::borrow::Cow::Owned(out), m)
}

/// Width of the rows the RP trees split (see [`tree_rows`]).
const TREE_DIMS: usize = 64;

/// Leaves of one random-projection tree over rows `x` of width `d`, in the AVX2 build when the
/// CPU has it (the split's dot products sum in a fixed lane order, so both builds make the
/// same tree).
fn rp_tree_leaves(
    x: &[f32],
    (n, d): (usize, usize),
    seed: u64,
    tree: u64,
    leaf_size: usize,
    avx2: bool,
) -> Vec<Vec<u32>> {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the running CPU reports AVX2.
        return unsafe { rp_tree_leaves_avx2(x, (n, d), seed, tree, leaf_size) };
    }
    let _ = avx2;
    rp_tree_leaves_body(x, (n, d), seed, tree, leaf_size)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rp_tree_leaves_avx2(
    x: &[f32],
    (n, d): (usize, usize),
    seed: u64,
    tree: u64,
    leaf_size: usize,
) -> Vec<Vec<u32>> {
    rp_tree_leaves_body(x, (n, d), seed, tree, leaf_size)
}

/// Leaves of one random-projection tree (hyperplane between two random points of a node).
#[inline(always)]
fn rp_tree_leaves_body(
    x: &[f32],
    (n, d): (usize, usize),
    seed: u64,
    tree: u64,
    leaf_size: usize,
) -> Vec<Vec<u32>> {
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut rng = SplitMix64::from_keys(&[seed, 0x5250_7472, tree]);
    let mut leaves = Vec::new();
    let mut stack = vec![(0..n as u32).collect::<Vec<u32>>()];
    let mut normal = vec![0.0f32; d];
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
        let (xa, xb) = (row(a), row(b));
        for t in 0..d {
            normal[t] = xa[t] - xb[t];
        }
        // Offset: the hyperplane through the midpoint of a and b.
        let off: f32 = (0..d).map(|t| normal[t] * 0.5 * (xa[t] + xb[t])).sum();
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for &i in &node {
            let s = dot(row(i as usize), &normal) - off;
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

/// Approximate k-NN: random-projection forest for the start, then NN-descent in pynndescent's
/// scheme. Each round samples per point up to `max_candidates` "new" and "old" neighbours
/// (forward and reverse, by a seeded priority per pair); the local join of a point computes
/// only new×new and new×old pairs among its candidates, as one small gemm over their rows
/// (gathered once, so they sit in cache), and offers every pair to both ends. A round stops
/// early once fewer than `delta·n·k` entries change.
///
/// Deterministic and independent of the thread count: joins run in batches of fixed size, each
/// batch reads the graph as it was before the batch, and its offers are applied per row as the
/// k smallest (distance, index) pairs of the row and all offers, which does not depend on the
/// order in which offers were made. Candidate sets and "new" flags are functions of the graph.
pub(crate) fn nn_descent(
    p: &Prepared,
    k: usize,
    seed: u64,
    n_trees: usize,
    max_iters: usize,
) -> KnnGraph {
    let n = p.n;
    let norms: Vec<f32> = if p.metric == Metric::Euclidean {
        (0..n).map(|i| dot(p.row(i), p.row(i))).collect()
    } else {
        Vec::new()
    };
    let mut heap = Heap::new(n, k);
    let timing = std::env::var_os("BERTOPIC_REDUCE_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let leaf_size = (k + 1).max(DESCENT_LEAF);
    let (tx, td) = tree_rows(p, seed);
    let forests: Vec<Vec<Vec<u32>>> = (0..n_trees as u64)
        .into_par_iter()
        .map(|t| rp_tree_leaves(&tx, (n, td), seed, t, leaf_size, avx2_available()))
        .collect();
    drop(tx);
    if timing {
        eprintln!(
            "nn-descent: trees built in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
    let leaves: Vec<&[u32]> = forests
        .iter()
        .flat_map(|f| f.iter().map(Vec::as_slice))
        .collect();
    // Leaves are joined like candidate sets whose members are all new.
    run_joins(p, &norms, &mut heap, leaves.len(), |s, out| {
        out.extend_from_slice(leaves[s]);
        out.len()
    });
    drop(leaves);
    drop(forests);
    // Pad rows the leaves left short (tiny or duplicate data) with seeded random points.
    let pad: Vec<Vec<Offer>> = (0..n)
        .into_par_iter()
        .filter(|&i| heap.ent[(i + 1) * k - 1].1 == u32::MAX)
        .map(|i| {
            let mut rng = SplitMix64::from_keys(&[seed, 0x0070_6164, i as u64]);
            (0..20 * k)
                .map(|_| rng.below(n))
                .filter(|&j| j != i)
                .map(|j| Offer {
                    t: i as u32,
                    d: clamp_dist(p.rank_dist(p.row(i), p.row(j))),
                    o: j as u32,
                })
                .collect()
        })
        .collect();
    heap.apply(pad);
    if timing {
        eprintln!(
            "nn-descent: {n_trees} RP trees (leaf {leaf_size}) in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
    // More candidates than k (24 for k = 14) bought recall at 20k real rows (0.942 → 0.960)
    // for little time; pynndescent samples k.
    let mc = (3 * k / 2 + 3).min(DESCENT_MAX_CANDIDATES);
    for iter in 0..max_iters {
        let (new_c, old_c) = heap.candidates(mc, seed, iter as u64);
        let updates = run_joins(p, &norms, &mut heap, n, |u, out| {
            let live = |c: &[u32]| {
                c.iter()
                    .copied()
                    .filter(|&j| j != u32::MAX)
                    .collect::<Vec<_>>()
            };
            out.extend(live(&new_c[u * mc..(u + 1) * mc]));
            let n_new = out.len();
            if n_new > 0 {
                out.extend(live(&old_c[u * mc..(u + 1) * mc]));
            }
            n_new
        });
        if timing {
            eprintln!(
                "nn-descent round {iter}: {updates} updates, {:.1} s",
                t0.elapsed().as_secs_f64()
            );
        }
        if (updates as f64) < DESCENT_DELTA * (n * k) as f64 {
            break;
        }
    }
    let lists = heap
        .ent
        .chunks(k)
        .map(<[(f32, u32)]>::to_vec)
        .collect::<Vec<_>>();
    to_graph(p, lists, k)
}

/// RP trees that seed NN-descent: 4 gave the recall of 8 at 100k rows in half the tree time;
/// 2 left more work to (slower) descent rounds.
const DESCENT_TREES: usize = 4;
/// Most NN-descent rounds (100k rows converge in about 7).
const DESCENT_MAX_ROUNDS: usize = 16;
/// Leaf size of the RP trees that seed NN-descent.
const DESCENT_LEAF: usize = 30;
/// Most new (and most old) candidates sampled per point and round.
const DESCENT_MAX_CANDIDATES: usize = 60;
/// A round with fewer than `DESCENT_DELTA·n·k` changed entries is the last.
const DESCENT_DELTA: f64 = 0.001;
/// Candidate sets joined per batch: bounds the offers held at once (at most about 1,700 per set
/// for k = 14) and fixes, independently of the thread count, which graph each join reads.
const JOIN_BATCH: usize = 4096;
/// Graph rows per task when offers are applied.
const APPLY_ROWS: usize = 2048;
/// Empty slot of a neighbour list (sorts after every real entry).
const EMPTY: (f32, u32) = (f32::INFINITY, u32::MAX);

/// A pair's rank distance offered to row `t` with neighbour `o`.
#[derive(Clone, Copy, Default)]
struct Offer {
    t: u32,
    d: f32,
    o: u32,
}

/// Rank distances are ≥ 0; this also maps -0.0 to 0.0 so bit order is value order.
#[inline]
fn clamp_dist(d: f32) -> f32 {
    if d > 0.0 {
        d
    } else {
        0.0
    }
}

/// The graph under construction: per row k (rank distance, index) pairs sorted ascending
/// (empty slots last), a "new since sampled" flag per entry and the row's k-th distance.
struct Heap {
    k: usize,
    ent: Vec<(f32, u32)>,
    new: Vec<bool>,
    worst: Vec<f32>,
}

impl Heap {
    fn new(n: usize, k: usize) -> Self {
        Self {
            k,
            ent: vec![EMPTY; n * k],
            new: vec![false; n * k],
            worst: vec![f32::INFINITY; n],
        }
    }

    /// Apply one batch's offers: each row becomes the k smallest of itself and its offers
    /// (an index already in the row keeps its entry). Returns the number of insertions.
    fn apply(&mut self, parts: Vec<Vec<Offer>>) -> usize {
        let k = self.k;
        let n = self.worst.len();
        let n_chunks = n.div_ceil(APPLY_ROWS);
        let mut start = vec![0usize; n_chunks + 1];
        for o in parts.iter().flatten() {
            start[o.t as usize / APPLY_ROWS + 1] += 1;
        }
        for c in 0..n_chunks {
            start[c + 1] += start[c];
        }
        let mut flat = vec![Offer::default(); start[n_chunks]];
        let mut pos = start.clone();
        for o in parts.into_iter().flatten() {
            let c = o.t as usize / APPLY_ROWS;
            flat[pos[c]] = o;
            pos[c] += 1;
        }
        let mut buckets: Vec<&mut [Offer]> = Vec::with_capacity(n_chunks);
        let mut rest = flat.as_mut_slice();
        for c in 0..n_chunks {
            let (b, r) = rest.split_at_mut(start[c + 1] - start[c]);
            buckets.push(b);
            rest = r;
        }
        self.ent
            .par_chunks_mut(APPLY_ROWS * k)
            .zip(self.new.par_chunks_mut(APPLY_ROWS * k))
            .zip(self.worst.par_chunks_mut(APPLY_ROWS))
            .zip(buckets)
            .enumerate()
            .map(|(c, (((ent, new), worst), offers))| {
                // A bucket's order depends on how the batch was split among threads; sorting
                // by the whole offer makes it a function of the offers only.
                offers.sort_unstable_by_key(|o| (o.t, o.d.to_bits(), o.o));
                let mut inserted = 0usize;
                let mut i = 0;
                while i < offers.len() {
                    let t = offers[i].t as usize;
                    let r = t - c * APPLY_ROWS;
                    let (row, flags) = (&mut ent[r * k..(r + 1) * k], &mut new[r * k..(r + 1) * k]);
                    while i < offers.len() && offers[i].t as usize == t {
                        if push_row(row, flags, offers[i].d, offers[i].o) {
                            inserted += 1;
                        }
                        i += 1;
                    }
                    worst[r] = row[k - 1].0;
                }
                inserted
            })
            .sum()
    }

    /// Per row up to `mc` new and `mc` old candidates (u32::MAX pads): forward and reverse
    /// neighbours, the `mc` with the smallest seeded priority of their (unordered) pair, new
    /// when the entry is new in either direction. Then entries sampled as new lose the flag.
    fn candidates(&mut self, mc: usize, seed: u64, iter: u64) -> (Vec<u32>, Vec<u32>) {
        let k = self.k;
        let n = self.worst.len();
        // Reverse lists as CSR, filled in row order.
        let mut rs = vec![0usize; n + 1];
        for &(_, j) in &self.ent {
            if j != u32::MAX {
                rs[j as usize + 1] += 1;
            }
        }
        for i in 0..n {
            rs[i + 1] += rs[i];
        }
        let mut rev = vec![(0u32, false); rs[n]];
        let mut pos = rs.clone();
        for (e, &(_, j)) in self.ent.iter().enumerate() {
            if j != u32::MAX {
                rev[pos[j as usize]] = ((e / k) as u32, self.new[e]);
                pos[j as usize] += 1;
            }
        }
        let key = SplitMix64::from_keys(&[seed, 0x6e6e_6463, iter]).next_u64();
        let prio = |a: u32, b: u32| -> u64 {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            crate::rng::mix(key ^ ((u64::from(lo) << 32) | u64::from(hi)))
        };
        let mut new_c = vec![u32::MAX; n * mc];
        let mut old_c = vec![u32::MAX; n * mc];
        let (ent, flags) = (&self.ent, &self.new);
        new_c
            .par_chunks_mut(mc)
            .zip(old_c.par_chunks_mut(mc))
            .enumerate()
            .for_each_init(Vec::new, |all, (i, (nc, oc))| {
                all.clear();
                let fwd = ent[i * k..(i + 1) * k]
                    .iter()
                    .zip(&flags[i * k..(i + 1) * k])
                    .filter(|(e, _)| e.1 != u32::MAX)
                    .map(|(e, &f)| (e.1, f));
                for (j, f) in fwd.chain(rev[rs[i]..rs[i + 1]].iter().copied()) {
                    all.push((j, f));
                }
                all.sort_unstable();
                // Sorted by (index, flag): the last of a run of one index carries "new" if any.
                let mut picked: [Vec<(u64, u32)>; 2] = [Vec::new(), Vec::new()];
                for (t, &(j, f)) in all.iter().enumerate() {
                    if t + 1 < all.len() && all[t + 1].0 == j {
                        continue;
                    }
                    picked[usize::from(f)].push((prio(i as u32, j), j));
                }
                for (list, out) in picked.iter_mut().zip([oc, nc]) {
                    list.sort_unstable();
                    for (slot, &(_, j)) in out.iter_mut().zip(list.iter()) {
                        *slot = j;
                    }
                }
            });
        let nc = &new_c;
        let sampled = |i: usize, j: u32| {
            nc[i * mc..(i + 1) * mc].contains(&j)
                || nc[j as usize * mc..(j as usize + 1) * mc].contains(&(i as u32))
        };
        self.new
            .par_chunks_mut(k)
            .zip(self.ent.par_chunks(k))
            .enumerate()
            .for_each(|(i, (flags, row))| {
                for (f, &(_, j)) in flags.iter_mut().zip(row) {
                    if *f && sampled(i, j) {
                        *f = false;
                    }
                }
            });
        (new_c, old_c)
    }
}

/// Insert (d, j) into a full-length sorted row unless j is in it or it is not among the k
/// smallest; flagged new.
#[inline]
fn push_row(row: &mut [(f32, u32)], flags: &mut [bool], d: f32, j: u32) -> bool {
    let k = row.len();
    if (d, j) >= row[k - 1] || row.iter().any(|e| e.1 == j) {
        return false;
    }
    let pos = row.partition_point(|&e| e < (d, j));
    row.copy_within(pos..k - 1, pos + 1);
    flags.copy_within(pos..k - 1, pos + 1);
    row[pos] = (d, j);
    flags[pos] = true;
    true
}

/// Join `n_sets` candidate sets (`set(s, out)` appends set s's members, new ones first, and
/// returns how many are new) in batches of [`JOIN_BATCH`]; returns the insertions made.
fn run_joins<F>(p: &Prepared, norms: &[f32], heap: &mut Heap, n_sets: usize, set: F) -> usize
where
    F: Fn(usize, &mut Vec<u32>) -> usize + Sync,
{
    let avx2 = avx2_available();
    let mut total = 0;
    for b0 in (0..n_sets).step_by(JOIN_BATCH) {
        let b1 = (b0 + JOIN_BATCH).min(n_sets);
        let worst = &heap.worst;
        let parts: Vec<Vec<Offer>> = (b0..b1)
            .into_par_iter()
            .fold(JoinScratch::default, |mut sc, s| {
                sc.members.clear();
                let n_new = set(s, &mut sc.members);
                join_set(p, norms, worst, n_new, &mut sc, avx2);
                sc
            })
            .map(|sc| sc.offers)
            .collect();
        total += heap.apply(parts);
    }
    total
}

#[derive(Default)]
struct JoinScratch {
    members: Vec<u32>,
    rows: Vec<f32>,
    sims: Vec<f32>,
    offers: Vec<Offer>,
}

/// Local join of one candidate set, in the AVX2 build when the CPU has it.
fn join_set(
    p: &Prepared,
    norms: &[f32],
    worst: &[f32],
    n_new: usize,
    sc: &mut JoinScratch,
    avx2: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the running CPU reports AVX2.
        return unsafe { join_set_avx2(p, norms, worst, n_new, sc) };
    }
    let _ = avx2;
    join_set_body(p, norms, worst, n_new, sc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn join_set_avx2(
    p: &Prepared,
    norms: &[f32],
    worst: &[f32],
    n_new: usize,
    sc: &mut JoinScratch,
) {
    join_set_body(p, norms, worst, n_new, sc)
}

/// Distances of new×new and new×old pairs of one set (members[..n_new] new) from one gemm
/// of the new rows against all the set's rows; each pair goes to both ends whose k-th
/// distance (before this batch) it does not exceed.
#[inline(always)]
fn join_set_body(p: &Prepared, norms: &[f32], worst: &[f32], n_new: usize, sc: &mut JoinScratch) {
    let m = sc.members.len();
    if n_new == 0 || m < 2 {
        return;
    }
    let d = p.d;
    sc.rows.clear();
    for &j in &sc.members {
        sc.rows.extend_from_slice(p.row(j as usize));
    }
    sc.sims.resize(n_new * m, 0.0);
    gemm_abt(&sc.rows[..n_new * d], n_new, &sc.rows, m, d, &mut sc.sims);
    let euclid = p.metric == Metric::Euclidean;
    for a in 0..n_new {
        let ja = sc.members[a];
        let wa = worst[ja as usize];
        for b in a + 1..m {
            let jb = sc.members[b];
            let s = sc.sims[a * m + b];
            let dist = clamp_dist(if euclid {
                norms[ja as usize] + norms[jb as usize] - 2.0 * s
            } else {
                1.0 - s
            });
            if dist <= wa {
                sc.offers.push(Offer {
                    t: ja,
                    d: dist,
                    o: jb,
                });
            }
            if dist <= worst[jb as usize] {
                sc.offers.push(Offer {
                    t: jb,
                    d: dist,
                    o: ja,
                });
            }
        }
    }
}

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

/// k-NN graph of `p` (self excluded): exact when n ≤ `exact_max`, else NN-descent.
pub(crate) fn knn_graph(p: &Prepared, k: usize, seed: u64, exact_max: usize) -> KnnGraph {
    if p.n <= exact_max {
        exact_knn(p, k)
    } else {
        nn_descent(p, k, seed, DESCENT_TREES, DESCENT_MAX_ROUNDS)
    }
}
