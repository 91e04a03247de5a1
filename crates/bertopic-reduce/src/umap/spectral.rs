//! Initial layout: the spectral embedding of the fuzzy graph (block subspace iteration), or,
//! when the graph is disconnected or the solver fails, the documented seeded fallbacks.

use rayon::prelude::*;

use super::fuzzy::Csr;
use crate::linalg::{det_dot64, jacobi_eigen};
use crate::rng::SplitMix64;

/// Spectral initialisation: leading non-trivial eigenvectors of D^-1/2 W D^-1/2 (= smallest of the
/// normalised Laplacian) by block subspace iteration with Rayleigh–Ritz, min-max scaled to [0, 10]
/// plus tiny noise. Returns None when the solver does not produce finite output.
pub(super) fn spectral_init(g: &Csr, n: usize, dim: usize, seed: u64) -> Option<Vec<f32>> {
    let m = (dim + 1 + 4).min(n);
    if m < dim + 1 {
        return None;
    }
    let deg: Vec<f64> = (0..n)
        .map(|i| {
            g.weights[g.indptr[i]..g.indptr[i + 1]]
                .iter()
                .map(|&x| x as f64)
                .sum()
        })
        .collect();
    let dinv: Vec<f64> = deg
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 })
        .collect();
    // Trivial eigenvector D^{1/2} 1 (normalised), projected out of every iterate.
    let mut triv: Vec<f64> = deg.iter().map(|d| d.sqrt()).collect();
    let tn = det_dot64(&triv, &triv).sqrt();
    if tn <= 0.0 {
        return None;
    }
    triv.iter_mut().for_each(|x| *x /= tn);
    // Edge weights premultiplied by the far end's D^-1/2 (the same product, so the same bits).
    let wd: Vec<f64> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            (g.indptr[i]..g.indptr[i + 1])
                .map(|e| g.weights[e] as f64 * dinv[g.indices[e] as usize])
        })
        .collect();
    // Shifted operator (I + M)/2 has spectrum in [0, 1], so power iteration favours M's top end.
    // Applied to all m vectors at once (see `apply_shifted`), into a reused `out` (a fresh n×m
    // block per call cost page faults). The usual block widths get a compile-time width (the
    // row sums then live in registers).
    let apply_block = |x: &[f64], out: &mut [f64]| match m {
        10 => apply_shifted::<10>(g, &wd, &dinv, m, x, out),
        7 => apply_shifted::<7>(g, &wd, &dinv, m, x, out),
        _ => apply_shifted::<0>(g, &wd, &dinv, m, x, out),
    };
    let to_block = |q: &[Vec<f64>], x: &mut [f64]| {
        for (c, v) in q.iter().enumerate() {
            for (i, &val) in v.iter().enumerate() {
                x[i * m + c] = val;
            }
        }
    };
    let from_block = |x: &[f64]| -> Vec<Vec<f64>> {
        (0..m)
            .map(|c| (0..n).map(|i| x[i * m + c]).collect())
            .collect()
    };
    let orthonormalise = |q: &mut Vec<Vec<f64>>| -> bool {
        for c in 0..q.len() {
            for _pass in 0..2 {
                let pt = det_dot64(&q[c], &triv);
                q[c].iter_mut().zip(&triv).for_each(|(x, t)| *x -= pt * t);
                for p in 0..c {
                    let (head, tail) = q.split_at_mut(c);
                    let pr = det_dot64(&tail[0], &head[p]);
                    tail[0]
                        .iter_mut()
                        .zip(&head[p])
                        .for_each(|(x, t)| *x -= pr * t);
                }
            }
            let nn = det_dot64(&q[c], &q[c]).sqrt();
            if nn.is_nan() || nn <= 1e-12 {
                return false;
            }
            q[c].iter_mut().for_each(|x| *x /= nn);
        }
        true
    };
    let mut rng = SplitMix64::from_keys(&[seed, 0x7370_6563]);
    let mut q: Vec<Vec<f64>> = (0..m)
        .map(|_| (0..n).map(|_| rng.normal()).collect())
        .collect();
    if !orthonormalise(&mut q) {
        return None;
    }
    // Orthonormalising every few steps is enough to keep the block well conditioned. Fewer
    // rounds were tried (24 / 15): the init then separates clusters less and HDBSCAN on the
    // 1k reference collapsed to 5 clusters (tests/umap_hdbscan.rs failed), so keep these.
    let rounds = if n <= 10_000 { 40 } else { 25 };
    let (mut x, mut y) = (vec![0.0f64; n * m], vec![0.0f64; n * m]);
    for _ in 0..rounds {
        to_block(&q, &mut x);
        for _ in 0..4 {
            apply_block(&x, &mut y);
            std::mem::swap(&mut x, &mut y);
        }
        q = from_block(&x);
        if !orthonormalise(&mut q) {
            return None;
        }
    }
    // Rayleigh–Ritz on the subspace.
    to_block(&q, &mut x);
    apply_block(&x, &mut y);
    let aq: Vec<Vec<f64>> = from_block(&y);
    let mut h = vec![0.0f64; m * m];
    for r in 0..m {
        for c in 0..m {
            h[r * m + c] = det_dot64(&q[r], &aq[c]);
        }
    }
    for r in 0..m {
        for c in (r + 1)..m {
            let s = 0.5 * (h[r * m + c] + h[c * m + r]);
            h[r * m + c] = s;
            h[c * m + r] = s;
        }
    }
    let (_vals, vecs) = jacobi_eigen(&h, m);
    let mut out = vec![0.0f32; n * dim];
    for c in 0..dim {
        let col: Vec<f64> = (0..n)
            .map(|i| (0..m).map(|r| q[r][i] * vecs[r * m + c]).sum())
            .collect();
        let (mn, mx) = col
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if !(mn.is_finite() && mx.is_finite()) || mx - mn <= 0.0 {
            return None;
        }
        for i in 0..n {
            out[i * dim + c] = (10.0 * (col[i] - mn) / (mx - mn)) as f32;
        }
    }
    let mut nrng = SplitMix64::from_keys(&[seed, 0x6e6f_6973]);
    out.iter_mut()
        .for_each(|x| *x += (1e-4 * nrng.normal()) as f32);
    Some(out)
}

/// One application of the shifted operator (I + D^-1/2 W D^-1/2)/2 to the row-major n×m block
/// `x`, into `out`: one pass over the graph, the m values of a neighbour contiguous, each output
/// summed over the row's edges in CSR order. `M` > 0 fixes the width at compile time (same
/// arithmetic, same bits); 0 uses `m`. Rows go in blocks of [`ROWS`]; on CPUs with AVX2 a block
/// runs in the AVX2 build (4 f64 lanes instead of SSE2's 2; separate multiplies and adds in
/// the same order, so the same bits).
fn apply_shifted<const M: usize>(
    g: &Csr,
    wd: &[f64],
    dinv: &[f64],
    m: usize,
    x: &[f64],
    out: &mut [f64],
) {
    let m = if M > 0 { M } else { m };
    let op = Op { g, wd, dinv, m, x };
    let avx2 = avx2_available();
    out.par_chunks_mut(m * ROWS).enumerate().for_each(|(b, o)| {
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: `avx2` is true only when the running CPU reports AVX2.
            return unsafe { rows_avx2::<M>(&op, b * ROWS, o) };
        }
        let _ = avx2;
        rows::<M>(&op, b * ROWS, o)
    });
}

/// Rows per task of [`apply_shifted`].
const ROWS: usize = 256;

/// The operands of one [`apply_shifted`].
struct Op<'a> {
    g: &'a Csr,
    wd: &'a [f64],
    dinv: &'a [f64],
    m: usize,
    x: &'a [f64],
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn rows_avx2<const M: usize>(op: &Op, first: usize, out: &mut [f64]) {
    rows::<M>(op, first, out)
}

/// Output rows `first..` of [`apply_shifted`] into `out` (whole rows of width `op.m`).
#[inline(always)]
fn rows<const M: usize>(op: &Op, first: usize, out: &mut [f64]) {
    let Op { g, wd, dinv, m, x } = *op;
    for (r, o) in out.chunks_exact_mut(m).enumerate() {
        let i = first + r;
        let (e0, e1) = (g.indptr[i], g.indptr[i + 1]);
        let edges = g.indices[e0..e1].iter().zip(&wd[e0..e1]);
        let xi = &x[i * m..(i + 1) * m];
        if M > 0 {
            let mut acc = [0.0f64; M];
            for (&j, &w) in edges {
                let xj = &x[j as usize * M..(j as usize + 1) * M];
                for c in 0..M {
                    acc[c] += w * xj[c];
                }
            }
            for c in 0..M {
                o[c] = 0.5 * (xi[c] + dinv[i] * acc[c]);
            }
        } else {
            o.fill(0.0);
            for (&j, &w) in edges {
                let j = j as usize;
                for (oc, &xc) in o.iter_mut().zip(&x[j * m..(j + 1) * m]) {
                    *oc += w * xc;
                }
            }
            for (oc, &xc) in o.iter_mut().zip(xi) {
                *oc = 0.5 * (xc + dinv[i] * *oc);
            }
        }
    }
}

/// Connected components of the symmetric graph (union–find): a label per point, numbered in
/// order of each component's first point, and the number of components.
pub(super) fn components(g: &Csr, n: usize) -> (Vec<u32>, usize) {
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for i in 0..n {
        for e in g.indptr[i]..g.indptr[i + 1] {
            let (a, b) = (find(&mut parent, i as u32), find(&mut parent, g.indices[e]));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
    }
    let mut label = vec![u32::MAX; n];
    let mut root_label = vec![u32::MAX; n];
    let mut count = 0u32;
    for (i, l) in label.iter_mut().enumerate() {
        let r = find(&mut parent, i as u32) as usize;
        if root_label[r] == u32::MAX {
            root_label[r] = count;
            count += 1;
        }
        *l = root_label[r];
    }
    (label, count as usize)
}

/// Init for a disconnected graph (documented fallback): each component gets its own cell of a
/// grid (cells 3 apart) and seeded uniform positions inside a unit box there, so components start
/// apart (no edge would pull them together later), then everything is scaled to [0, 10].
pub(super) fn component_init(labels: &[u32], n_comp: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut side = 1usize;
    while side.checked_pow(dim as u32).is_some_and(|c| c < n_comp) {
        side += 1;
    }
    let extent = 3.0 * (side - 1) as f64 + 1.0;
    let mut rng = SplitMix64::from_keys(&[seed, 0x636f_6d70]);
    let mut out = Vec::with_capacity(labels.len() * dim);
    for &c in labels {
        let mut cell = c as usize;
        for _ in 0..dim {
            let pos = 3.0 * (cell % side) as f64 + rng.unit();
            cell /= side;
            out.push((10.0 * pos / extent) as f32);
        }
    }
    out
}

/// Seeded uniform init in [0, 10]: the documented fallback when the graph is disconnected or the
/// spectral solver fails.
pub(super) fn random_init(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::from_keys(&[seed, 0x7261_6e64]);
    (0..n * dim).map(|_| (10.0 * rng.unit()) as f32).collect()
}
