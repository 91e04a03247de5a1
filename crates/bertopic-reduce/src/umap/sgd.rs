//! Layout optimisation: the edge sampling schedule, the SGD epochs with negative sampling in
//! umap-learn's update semantics (fit: an edge-coloured sweep, each colour's edges in parallel;
//! transform: new points in parallel, each sequential; both thread-count independent), and the
//! fast pow approximation the gradients use.

use rayon::prelude::*;

use super::fuzzy::Csr;
use super::team;
use crate::hugepage::HugeBuf;
use crate::rng::{mix, SplitMix64, GAMMA};

/// x^b for x > 0 via fast log2/exp2 approximations (relative error ~1e-4): the SGD's hot spot,
/// where libm's ln/exp dominated the run time.
#[inline]
pub(super) fn fast_pow(x: f32, b: f32) -> f32 {
    fast_exp2(b * fast_log2(x))
}

#[inline]
fn fast_log2(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
                                                                // ln m = 2 atanh(s), s = (m-1)/(m+1) ≤ 1/3: the odd series converges fast.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m =
        2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0)))));
    e as f32 + ln_m * std::f32::consts::LOG2_E
}

#[inline]
fn fast_exp2(x: f32) -> f32 {
    let x = x.clamp(-126.0, 126.0);
    // floor(x) without float→int `as` casts (their saturating NaN semantics stop vectorisation):
    // adding 1.5·2^23 rounds to an integer held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let mut fl = (x + MAGIC) - MAGIC;
    if fl > x {
        fl -= 1.0;
    }
    let f = x - fl;
    let fl_i = (fl + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32;
    // Polynomial for 2^f on [0, 1).
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11 + f * (0.009_618_13 + f * (0.001_333_55 + f * 0.000_154_03)))));
    f32::from_bits(((fl_i + 127) as u32) << 23) * p
}

#[inline]
pub(super) fn clip(x: f32) -> f32 {
    x.clamp(-4.0, 4.0)
}

/// Edges of one head row prepared for SGD: (tail, epochs_per_sample).
pub(super) struct Sched {
    indptr: Vec<usize>,
    pub(super) tails: Vec<u32>,
    pub(super) inv_eps: Vec<f32>,
}

impl Sched {
    /// The head row of every edge, in edge order.
    pub(super) fn heads(&self) -> Vec<u32> {
        let mut h = Vec::with_capacity(self.tails.len());
        for (i, w) in self.indptr.windows(2).enumerate() {
            h.resize(h.len() + (w[1] - w[0]), i as u32);
        }
        h
    }
}

/// Keep edges with weight ≥ max/n_epochs; epochs_per_sample = max / weight.
pub(super) fn schedule(g: &Csr, n_rows: usize, n_epochs: usize) -> Sched {
    let wmax = g.weights.iter().copied().fold(0.0f32, f32::max);
    let mut indptr = vec![0usize; n_rows + 1];
    let mut tails = Vec::new();
    let mut eps = Vec::new();
    for i in 0..n_rows {
        for e in g.indptr[i]..g.indptr[i + 1] {
            let w = g.weights[e];
            if wmax > 0.0 && w >= wmax / n_epochs as f32 && w > 0.0 {
                tails.push(g.indices[e]);
                eps.push(w / wmax);
            }
        }
        indptr[i + 1] = tails.len();
    }
    Sched {
        indptr,
        tails,
        inv_eps: eps,
    }
}

/// Per-edge sampling state, in f64 like umap-learn's accumulators (f32 running sums would move
/// some samples across epoch boundaries).
struct EdgeClock {
    /// Epochs between two samples of the edge (n_epochs / expected samples).
    eps: f64,
    /// The edge is sampled in the first epoch ≥ this.
    next_pos: f64,
    /// Negatives are owed for the epochs up to now past this.
    next_neg: f64,
    /// Epochs per negative sample, `eps / rate` (computed once: the same quotient each tick).
    per: f64,
}

impl EdgeClock {
    fn new(inv_eps: f32, n_epochs: usize, rate: f64) -> Self {
        // umap-learn: epochs_per_sample = n_epochs / (n_epochs · w / w_max), the product in f32.
        let eps = n_epochs as f64 / f64::from(n_epochs as f32 * inv_eps);
        Self {
            eps,
            next_pos: eps,
            next_neg: eps / rate,
            per: eps / rate,
        }
    }

    /// The first whole epoch in which the edge is sampled next: `next_pos > now` exactly when
    /// this is above `now` (for whole `now`), so a `u32` compare can pick the due edges.
    #[inline]
    fn due_epoch(&self) -> u32 {
        self.next_pos.ceil().min(f64::from(u32::MAX)) as u32
    }

    /// Whether the edge is sampled in epoch `now`; if so, advances the clock and returns how
    /// many negative samples go with it (owed at `rate` per epoch of sampling interval, the
    /// count truncated, so it varies from sample to sample).
    #[inline]
    fn tick(&mut self, now: f64, rate: f64) -> Option<usize> {
        if self.next_pos > now {
            return None;
        }
        self.next_pos += self.eps;
        if rate <= 0.0 {
            return Some(0);
        }
        let per = self.per;
        let n_neg = ((now - self.next_neg) / per).max(0.0) as usize;
        self.next_neg += n_neg as f64 * per;
        Some(n_neg)
    }
}

/// Step size of epoch `epoch`: umap-learn lowers it after each epoch, from `lr` after epoch 0
/// (in which no edge is due yet).
#[inline]
fn step(lr: f32, epoch: usize, n_epochs: usize) -> f32 {
    lr * (1.0 - epoch.saturating_sub(1) as f32 / n_epochs as f32)
}

/// Squared distance.
#[inline(always)]
fn dist2(p: &[f32], q: &[f32]) -> f32 {
    let mut d2 = 0.0f32;
    for (x, y) in p.iter().zip(q) {
        let t = x - y;
        d2 += t * t;
    }
    d2
}

/// Gradient coefficients of the attractive (edge) and repulsive (negative) terms at squared
/// distance `d2` > 0, for 1 / (1 + a·d^(2b)).
#[derive(Clone, Copy)]
struct Coef {
    a: f32,
    b: f32,
}

impl Coef {
    #[inline(always)]
    fn attract(self, d2: f32) -> f32 {
        let pb = fast_pow(d2, self.b);
        -2.0 * self.a * self.b * pb / (d2 * (1.0 + self.a * pb))
    }

    #[inline(always)]
    fn repel(self, d2: f32) -> f32 {
        2.0 * self.b / ((0.001 + d2) * (1.0 + self.a * fast_pow(d2, self.b)))
    }
}

/// One negative sample: push `yj` away from `yk` (skipped at distance 0: the point itself or
/// a coincident one, as umap-learn 0.5 does).
#[inline(always)]
fn push_away(yj: &mut [f32], yk: &[f32], c: Coef, alpha: f32) {
    let d2 = dist2(yj, yk);
    if d2 > 0.0 {
        let g = c.repel(d2);
        for (p, q) in yj.iter_mut().zip(yk) {
            *p += clip(g * (*p - *q)) * alpha;
        }
    }
}

/// The fit's edges grouped for a parallel sweep. A unit is one directed edge (j, k), or both
/// (j, k) and (k, j) when the two have the same weight (the symmetric fuzzy union always does):
/// then they share one sampling clock and are processed back to back. Units are sorted by
/// colour; the units of one colour share no vertex (a matching), so they can move their
/// endpoints at the same time without touching each other's points.
struct Units {
    head: Vec<u32>,
    tail: Vec<u32>,
    /// Whether the unit also holds the reverse edge (k, j).
    both: Vec<bool>,
    clocks: Vec<EdgeClock>,
    /// `clocks[i].due_epoch()`, kept in step with the clocks: the compact array every epoch
    /// scans to find the units it samples.
    due_epoch: Vec<u32>,
    /// Units of colour c: `colour_ptr[c]..colour_ptr[c + 1]`.
    colour_ptr: Vec<usize>,
}

impl Units {
    fn new(s: &Sched, n: usize, n_epochs: usize, rate: f64) -> Self {
        let heads = s.heads();
        // Pair each edge with its reverse; a unit is created at its first edge in sweep order.
        let mut head = Vec::new();
        let mut tail = Vec::new();
        let mut both = Vec::new();
        let mut inv = Vec::new();
        for (e, (&j, &k)) in heads.iter().zip(&s.tails).enumerate() {
            let rev = reverse_edge(s, k as usize, j);
            let paired = rev.is_some_and(|r| s.inv_eps[r] == s.inv_eps[e]) && j != k;
            if paired && j > k {
                continue; // already a unit, made at (k, j)
            }
            head.push(j);
            tail.push(k);
            both.push(paired);
            inv.push(s.inv_eps[e]);
        }
        let colour = greedy_colouring(&head, &tail, n);
        let n_col = colour.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut colour_ptr = vec![0usize; n_col + 1];
        for &c in &colour {
            colour_ptr[c as usize + 1] += 1;
        }
        for c in 0..n_col {
            colour_ptr[c + 1] += colour_ptr[c];
        }
        // Stable counting sort by colour: within a colour, units keep their sweep order.
        let mut pos = colour_ptr.clone();
        let mut order = vec![0usize; colour.len()];
        for (u, &c) in colour.iter().enumerate() {
            order[pos[c as usize]] = u;
            pos[c as usize] += 1;
        }
        let clocks: Vec<EdgeClock> = order
            .iter()
            .map(|&u| EdgeClock::new(inv[u], n_epochs, rate))
            .collect();
        Self {
            due_epoch: clocks.iter().map(EdgeClock::due_epoch).collect(),
            head: order.iter().map(|&u| head[u]).collect(),
            tail: order.iter().map(|&u| tail[u]).collect(),
            both: order.iter().map(|&u| both[u]).collect(),
            clocks,
            colour_ptr,
        }
    }
}

/// The index of edge (k, j) in the schedule, if it holds one.
fn reverse_edge(s: &Sched, k: usize, j: u32) -> Option<usize> {
    let row = s.indptr[k]..s.indptr[k + 1];
    let tails = &s.tails[row.clone()];
    let found = if tails.windows(2).all(|w| w[0] < w[1]) {
        tails.binary_search(&j).ok()
    } else {
        tails.iter().position(|&t| t == j)
    };
    found.map(|i| row.start + i)
}

/// Greedy edge colouring: each unit (head, tail) gets the smallest colour that neither endpoint
/// has yet, in unit order. Uses at most 2Δ − 1 colours (Δ the largest vertex degree).
fn greedy_colouring(head: &[u32], tail: &[u32], n: usize) -> Vec<u32> {
    let mut deg = vec![0u32; n];
    for (&j, &k) in head.iter().zip(tail) {
        deg[j as usize] += 1;
        if k != j {
            deg[k as usize] += 1;
        }
    }
    let max_deg = deg.iter().copied().max().unwrap_or(0) as usize;
    // One bit per colour and vertex: colour c is taken at v when bit c of v's words is set.
    let words = (2 * max_deg).div_ceil(64).max(1);
    let mut used = vec![0u64; n * words];
    head.iter()
        .zip(tail)
        .map(|(&j, &k)| {
            let (j, k) = (j as usize, k as usize);
            let mut c = 0;
            for w in 0..words {
                let taken = used[j * words + w] | used[k * words + w];
                if taken != u64::MAX {
                    c = w * 64 + (!taken).trailing_zeros() as usize;
                    break;
                }
            }
            used[j * words + c / 64] |= 1 << (c % 64);
            used[k * words + c / 64] |= 1 << (c % 64);
            c as u32
        })
        .collect()
}

/// Fit-time layout optimisation with umap-learn's update semantics (its euclidean SGD with
/// `move_other=True`), run in parallel:
///
/// - a sampled edge (j, k) moves j by +grad and k by −grad; the graph holds both (j, k) and
///   (k, j), so each undirected edge pulls both endpoints twice per sample;
/// - edge e is first sampled in epoch ⌈eps_e⌉, nothing moves in epoch 0 (see [`step`]);
/// - negatives move only the head (see [`EdgeClock::tick`] and [`push_away`]).
///
/// umap-learn's seeded path sweeps the edges one after another, so every sample sees every
/// earlier move. Here each epoch sweeps the colours of [`Units`] in order, and the units of one
/// colour in parallel: a point's own edges still run one after another (they all have different
/// colours), each seeing the moves of all earlier colours. Negative samples read the positions
/// as they were at the start of the colour step (the unit's own two points excepted, which are
/// current), so no read races a write. Each unit draws from its own (seed, epoch, unit) stream:
/// the result is the same on any thread count. (A Jacobi update, every point moved from the
/// same old positions, overshoots: #22.)
#[allow(clippy::too_many_arguments)]
pub(super) fn optimize_fit(
    y: &mut [f32],
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let n = y.len().checked_div(dim).unwrap_or(0);
    if n == 0 || n_epochs == 0 {
        return;
    }
    let rate = neg_rate as f64;
    let mut units = Units::new(s, n, n_epochs, rate);
    if std::env::var_os("BERTOPIC_REDUCE_TIMING").is_some() {
        report_colours(&units);
    }
    let f = FitConsts {
        n_epochs,
        c: Coef { a, b },
        lr,
        rate,
        seed,
        avx2: avx2_available(),
    };
    let mut run = |y: &mut [f32]| {
        // Common output sizes get a compile-time dimension (unrolled loops, no bounds checks).
        match dim {
            2 => fit_d::<2>(y, dim, &mut units, &f),
            5 => fit_d::<5>(y, dim, &mut units, &f),
            _ => fit_d::<0>(y, dim, &mut units, &f),
        }
    };
    // A large layout runs in a huge-page copy (see `crate::hugepage`): same values, fewer TLB
    // misses.
    match HugeBuf::copy_of(y) {
        Some(mut h) => {
            run(h.as_mut_slice());
            y.copy_from_slice(h.as_mut_slice());
        }
        None => run(y),
    }
}

/// Colour statistics on stderr (BERTOPIC_REDUCE_TIMING): how many steps and how even.
fn report_colours(u: &Units) {
    let sizes: Vec<usize> = u.colour_ptr.windows(2).map(|w| w[1] - w[0]).collect();
    let small = sizes.iter().filter(|&&s| s <= CHUNK).count();
    let in_small: usize = sizes.iter().filter(|&&s| s <= CHUNK).sum();
    eprintln!(
        "umap sgd: {} units ({} paired), {} colours (largest {}, {} of one chunk holding {} units)",
        u.head.len(),
        u.both.iter().filter(|&&b| b).count(),
        sizes.len(),
        sizes.iter().copied().max().unwrap_or(0),
        small,
        in_small
    );
}

/// Units processed together in SIMD lanes: independent within a colour step, so eight run
/// side by side instead of one long dependency chain of negatives after another.
const L: usize = 8;

/// Units ticked together: the sampled ones among them (about a third per epoch) are packed
/// into full lanes.
const CHUNK: usize = 128;

/// The fit's constants; `avx2`: run the lanes in the AVX2 build.
struct FitConsts {
    n_epochs: usize,
    c: Coef,
    lr: f32,
    rate: f64,
    seed: u64,
    avx2: bool,
}

/// [`optimize_fit`] body; `D` > 0 fixes the dimension at compile time, 0 uses `dim`. Runs on a
/// [`team`] of the current rayon pool's size (at most one thread per core): each colour step
/// is a compute phase (its chunks read the step's positions and write their own clocks and
/// `out` slots) and then a write-back phase (each chunk writes the points of its own units:
/// one colour's units share no point).
fn fit_d<const D: usize>(y: &mut [f32], dim: usize, u: &mut Units, f: &FitConsts) {
    let FitConsts {
        n_epochs,
        c,
        lr,
        rate,
        seed,
        avx2,
    } = *f;
    let dim = if D > 0 { D } else { dim };
    let widest = u
        .colour_ptr
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or(0);
    // New positions of each unit's two points in the current step ([head | tail]), and
    // whether the unit was sampled; written back once the step is done.
    let mut out = vec![0.0f32; widest * 2 * dim];
    let mut due = vec![false; widest];
    let far = std::mem::size_of_val(&y[..]) >= PREFETCH_FROM_BYTES;
    let n = y.len() / dim;
    let sh = Shared {
        y: y.as_mut_ptr(),
        y_len: y.len(),
        clocks: u.clocks.as_mut_ptr(),
        due_epoch: u.due_epoch.as_mut_ptr(),
        out: out.as_mut_ptr(),
        due: due.as_mut_ptr(),
    };
    let (heads, tails, both, colour_ptr) = (&u.head, &u.tail, &u.both, &u.colour_ptr);
    let n_col = colour_ptr.len() - 1;
    if n_col == 0 {
        return;
    }
    // Phase 2·(e·n_col + col) computes colour `col` in epoch `first_epoch + e`, the phase after
    // it writes that colour back. A team runs at most `team::MAX_PHASES` phases: huge epoch
    // counts go to several teams in turn.
    let epochs_per_team = (team::MAX_PHASES / (2 * n_col as u64)).max(1) as usize;
    let colour_of = |p: u64| (p / 2) as usize % n_col;
    let n_chunks = |p: u64| {
        let col = colour_of(p);
        (colour_ptr[col + 1] - colour_ptr[col]).div_ceil(CHUNK)
    };
    // With no colour of more than one chunk there is nothing to share.
    let threads = if widest > CHUNK {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        rayon::current_num_threads().min(cores)
    } else {
        1
    };
    let sh = &sh;
    // Chunk `ch` of colour `col` in `epoch`: its samples (`compute`), or their write-back.
    let sweep_chunk = |epoch: usize, col: usize, compute: bool, ch: usize| {
        let range = colour_ptr[col]..colour_ptr[col + 1];
        let first = ch * CHUNK;
        let len = CHUNK.min(range.len() - first);
        let at = range.start + first;
        if compute {
            // SAFETY: no thread writes `y` in a compute phase (only in write-back phases, which
            // never overlap another phase), so a shared view is sound here.
            let y = unsafe { std::slice::from_raw_parts(sh.y, sh.y_len) };
            let st = Step {
                y,
                n,
                dim,
                c,
                alpha: step(lr, epoch, n_epochs),
                now: epoch as f64,
                rate,
                seed,
                epoch: epoch as u64,
                far,
            };
            let units = Chunk {
                heads: &heads[at..at + len],
                tails: &tails[at..at + len],
                both: &both[at..at + len],
                key: at as u64,
            };
            // SAFETY: the team runs each chunk of a phase once, so these are the only live
            // references to the chunk's clocks and `out`/`due` slots (all in bounds: `at + len`
            // ≤ the units, `first + len` ≤ `widest`).
            let (clocks, de, o, d) = unsafe {
                (
                    std::slice::from_raw_parts_mut(sh.clocks.add(at), len),
                    std::slice::from_raw_parts_mut(sh.due_epoch.add(at), len),
                    std::slice::from_raw_parts_mut(sh.out.add(first * 2 * dim), len * 2 * dim),
                    std::slice::from_raw_parts_mut(sh.due.add(first), len),
                )
            };
            run_chunk::<D>(&st, &units, (clocks, de), o, d, avx2);
        } else {
            for i in first..first + len {
                // SAFETY: `out`/`due` were written in the phase before; the rows written here
                // are the points of this chunk's units, which no other unit of the colour
                // holds, and nobody reads `y` in this phase.
                unsafe {
                    if *sh.due.add(i) {
                        let o = sh.out.add(i * 2 * dim);
                        let (j, k) = (heads[range.start + i], tails[range.start + i]);
                        let (j, k) = (j as usize, k as usize);
                        debug_assert!(j.max(k) < n);
                        std::ptr::copy_nonoverlapping(o.add(dim), sh.y.add(k * dim), dim);
                        // Written last: a self-loop's head is its tail.
                        std::ptr::copy_nonoverlapping(o, sh.y.add(j * dim), dim);
                    }
                }
            }
        }
    };
    let mut first_epoch = 0;
    while first_epoch < n_epochs {
        let epochs = epochs_per_team.min(n_epochs - first_epoch);
        let phases = (epochs * n_col * 2) as u64;
        team::run(threads, phases, n_chunks, |p, ch| {
            let epoch = first_epoch + (p / 2) as usize / n_col;
            sweep_chunk(epoch, colour_of(p), p % 2 == 0, ch);
        });
        first_epoch += epochs;
    }
}

/// The sweep's mutable state, shared by the team's threads: who may touch what, and when, is
/// set out in [`fit_d`].
struct Shared {
    y: *mut f32,
    y_len: usize,
    clocks: *mut EdgeClock,
    due_epoch: *mut u32,
    out: *mut f32,
    due: *mut bool,
}

// SAFETY: the pointers outlive the team (they borrow `fit_d`'s locals); the threads' accesses
// are disjoint or ordered by the team's phases, as `fit_d` documents at each use.
unsafe impl Sync for Shared {}

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

/// What every unit of one colour step shares: the positions at the start of the step and the
/// epoch's constants.
#[derive(Clone, Copy)]
struct Step<'a> {
    y: &'a [f32],
    n: usize,
    dim: usize,
    c: Coef,
    alpha: f32,
    now: f64,
    rate: f64,
    seed: u64,
    epoch: u64,
    /// Whether the layout is large enough to prefetch its rows (see [`PREFETCH_FROM_BYTES`]).
    far: bool,
}

/// Up to [`CHUNK`] consecutive units of one colour; `key` is the first one's index (unit
/// `key + i` draws from stream (seed, epoch, key + i)).
struct Chunk<'a> {
    heads: &'a [u32],
    tails: &'a [u32],
    both: &'a [bool],
    key: u64,
}

/// One chunk's samples, in the AVX2 build when the CPU has it: the lanes only add, multiply,
/// divide and compare, each lane in the same order as a lone unit, so both builds and every
/// grouping give the same bits.
fn run_chunk<const D: usize>(
    st: &Step,
    g: &Chunk,
    clocks: Clocks,
    out: &mut [f32],
    due: &mut [bool],
    avx2: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: `avx2` is true only when the running CPU reports AVX2.
        return unsafe { run_chunk_avx2::<D>(st, g, clocks, out, due) };
    }
    let _ = avx2;
    chunk_body::<D>(st, g, clocks, out, due)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_chunk_avx2<const D: usize>(
    st: &Step,
    g: &Chunk,
    clocks: Clocks,
    out: &mut [f32],
    due: &mut [bool],
) {
    chunk_body::<D>(st, g, clocks, out, due)
}

/// Positions of one point per lane, by dimension (`[dim][lane]`).
type Lanes = [f32; L];

/// A chunk's clocks and their due epochs.
type Clocks<'a> = (&'a mut [EdgeClock], &'a mut [u32]);

/// Ticks the chunk's due clocks, then runs its sampled units in groups of [`L`].
#[inline(always)]
fn chunk_body<const D: usize>(
    st: &Step,
    g: &Chunk,
    (clocks, due_epoch): Clocks,
    out: &mut [f32],
    due: &mut [bool],
) {
    let mut sampled = [0u8; CHUNK];
    let mut n_neg = [0usize; CHUNK];
    // The due units, found without a branch per unit (about a third are due, unpredictably).
    let mut m = 0;
    for (i, &e) in due_epoch.iter().enumerate() {
        sampled[m] = i as u8;
        m += usize::from(u64::from(e) <= st.epoch);
    }
    due.fill(false);
    for (&i, nn) in sampled[..m].iter().zip(&mut n_neg) {
        let i = usize::from(i);
        let clock = &mut clocks[i];
        *nn = clock.tick(st.now, st.rate).unwrap_or(0);
        due_epoch[i] = clock.due_epoch();
        due[i] = true;
    }
    // Units owing as many negatives share a group, so fewer lanes idle while the group's
    // longest runs (lanes never interact: the order leaves every result as it is).
    let (lo, hi) = n_neg[..m]
        .iter()
        .fold((usize::MAX, 0), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    if lo < hi && hi - lo < 16 {
        let (mut s2, mut n2) = ([0u8; CHUNK], [0usize; CHUNK]);
        let mut at = 0;
        for want in (lo..=hi).rev() {
            for (&i, &nn) in sampled[..m].iter().zip(&n_neg[..m]) {
                if nn == want {
                    (s2[at], n2[at]) = (i, nn);
                    at += 1;
                }
            }
        }
        sampled[..m].copy_from_slice(&s2[..m]);
        n_neg[..m].copy_from_slice(&n2[..m]);
    }
    let groups = sampled[..m].chunks(L).zip(n_neg[..m].chunks(L));
    // Each group's rows are fetched while the group before it computes: at a million points
    // the positions outgrow the caches, and every negative is a random row (see `prefetch`).
    let mut ahead = groups.clone().skip(1);
    if let Some((idx, nn)) = groups.clone().next().filter(|_| st.far) {
        prefetch(st, g, idx, nn);
    }
    for (idx, nn) in groups {
        if st.far {
            if let Some((idx, nn)) = ahead.next() {
                prefetch(st, g, idx, nn);
            }
        }
        if D > 0 {
            let (mut pj, mut pk, mut pr) = ([[0.0; L]; D], [[0.0; L]; D], [[0.0; L]; D]);
            group_body::<D>(st, g, idx, nn, out, &mut pj, &mut pk, &mut pr);
        } else {
            let lanes = || vec![[0.0f32; L]; st.dim];
            let (mut pj, mut pk, mut pr) = (lanes(), lanes(), lanes());
            group_body::<D>(st, g, idx, nn, out, &mut pj, &mut pk, &mut pr);
        }
    }
}

/// Asks the cache for every row that sampled units `idx` will read: both points of each unit
/// and each of its negatives, which are the first draws of the unit's stream (a lane draws
/// only while it owes negatives, and the reverse sample continues the same stream). Prefetches
/// only hint: the arithmetic, and so the result, is unchanged.
#[inline(always)]
fn prefetch(st: &Step, g: &Chunk, idx: &[u8], nn: &[usize]) {
    let n = st.n as u64;
    for (&i, &nn) in idx.iter().zip(nn) {
        let i = i as usize;
        prefetch_row(st, g.heads[i] as usize);
        prefetch_row(st, g.tails[i] as usize);
        let draws = if g.both[i] { 2 * nn } else { nn };
        let mut s = SplitMix64::from_keys(&[st.seed, st.epoch, g.key + i as u64]).state();
        for _ in 0..draws {
            s = s.wrapping_add(GAMMA);
            prefetch_row(st, (((mix(s) >> 32) * n) >> 32) as usize);
        }
    }
}

/// Layouts from this size are prefetched: smaller ones stay in the core's own cache, where
/// recomputing the draws only costs (about 4 % of the SGD on 10,598 points).
const PREFETCH_FROM_BYTES: usize = 1 << 20;

/// Hints that row `r` of the step's positions is read soon (its first and last value: a row
/// can straddle two cache lines).
#[inline(always)]
fn prefetch_row(st: &Step, r: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let (first, last) = (r * st.dim, (r + 1) * st.dim - 1);
        if last < st.y.len() {
            // SAFETY: both addresses lie inside `st.y`; a prefetch reads nothing architecturally.
            unsafe {
                let p = st.y.as_ptr();
                _mm_prefetch::<_MM_HINT_T0>(p.add(first).cast());
                _mm_prefetch::<_MM_HINT_T0>(p.add(last).cast());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (st, r);
}

/// Sampled units `idx` of the chunk (at most [`L`]), one per lane: each unit (j, k) runs the
/// sample of (j, k), and of (k, j) when it holds both, from the step's positions; the new
/// positions go to `out`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn group_body<const D: usize>(
    st: &Step,
    g: &Chunk,
    idx: &[u8],
    nn: &[usize],
    out: &mut [f32],
    pj: &mut [Lanes],
    pk: &mut [Lanes],
    pr: &mut [Lanes],
) {
    let dim = if D > 0 { D } else { st.dim };
    let mut on = [false; L];
    let mut on_rev = [false; L];
    let mut n_neg = [0usize; L];
    let mut js = [0usize; L];
    let mut ks = [0usize; L];
    // SplitMix64 states, one stream per lane (advanced as `SplitMix64::next_u64` would).
    let mut rng = [0u64; L];
    for (l, (&i, &nn)) in idx.iter().zip(nn).enumerate() {
        let i = i as usize;
        on[l] = true;
        on_rev[l] = g.both[i];
        n_neg[l] = nn;
        let (j, k) = (g.heads[i] as usize, g.tails[i] as usize);
        (js[l], ks[l]) = (j, k);
        for d in 0..dim {
            pj[d][l] = st.y[j * dim + d];
            pk[d][l] = st.y[k * dim + d];
        }
        rng[l] = SplitMix64::from_keys(&[st.seed, st.epoch, g.key + i as u64]).state();
    }
    sample_lanes::<D>(st, pj, pk, pr, &js, &ks, &n_neg, &on, &mut rng);
    if on_rev.contains(&true) {
        sample_lanes::<D>(st, pk, pj, pr, &ks, &js, &n_neg, &on_rev, &mut rng);
    }
    for (l, &i) in idx.iter().enumerate() {
        let o = &mut out[i as usize * 2 * dim..(i as usize + 1) * 2 * dim];
        for d in 0..dim {
            o[d] = pj[d][l];
            o[dim + d] = pk[d][l];
        }
    }
}

/// One sample of edge (h, t) in every lane that is `on`: the attraction moves both points,
/// then `n_neg` negatives move the head. `ph`/`pt` hold the current positions of h and t;
/// other points are read from the step's positions (into `pr`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sample_lanes<const D: usize>(
    st: &Step,
    ph: &mut [Lanes],
    pt: &mut [Lanes],
    pr: &mut [Lanes],
    hs: &[usize; L],
    ts: &[usize; L],
    n_neg: &[usize; L],
    on: &[bool; L],
    rng: &mut [u64; L],
) {
    let dim = if D > 0 { D } else { st.dim };
    let (c, alpha) = (st.c, st.alpha);
    let d2 = dist2_lanes::<D>(ph, pt, dim);
    let mut g = [0.0f32; L];
    let mut move_ = [false; L];
    for l in 0..L {
        g[l] = c.attract(d2[l]);
        move_[l] = on[l] && d2[l] > 0.0 && hs[l] != ts[l];
    }
    for (p, q) in ph[..dim].iter_mut().zip(pt[..dim].iter_mut()) {
        for l in 0..L {
            let gd = clip(g[l] * (p[l] - q[l]));
            let (np, nq) = (p[l] + gd * alpha, q[l] - gd * alpha);
            p[l] = if move_[l] { np } else { p[l] };
            q[l] = if move_[l] { nq } else { q[l] };
        }
    }
    let most = (0..L)
        .filter(|&l| on[l])
        .map(|l| n_neg[l])
        .max()
        .unwrap_or(0);
    debug_assert_eq!(st.y.len(), st.n * dim);
    let n = st.n as u64;
    for s in 0..most {
        // Every lane computes its next draw (`SplitMix64::below`), branch-free so that the
        // lanes vectorise; only the lanes that owe a negative keep it and advance.
        let mut act = [false; L];
        let mut rs = [0usize; L];
        for l in 0..L {
            let live = on[l] && s < n_neg[l];
            let next = rng[l].wrapping_add(GAMMA);
            let r = ((mix(next) >> 32) * n) >> 32;
            rng[l] = if live { next } else { rng[l] };
            rs[l] = r as usize;
            // The head itself is at distance 0: skipped.
            act[l] = live && rs[l] != hs[l];
        }
        gather(st.y, &rs, dim, pr);
        // The tail's current position is the local one.
        for (q, t) in pr[..dim].iter_mut().zip(&pt[..dim]) {
            for l in 0..L {
                q[l] = if rs[l] == ts[l] { t[l] } else { q[l] };
            }
        }
        let d2 = dist2_lanes::<D>(ph, pr, dim);
        for l in 0..L {
            g[l] = c.repel(d2[l]);
            act[l] &= d2[l] > 0.0;
        }
        for (p, q) in ph[..dim].iter_mut().zip(pr[..dim].iter()) {
            for l in 0..L {
                let np = p[l] + clip(g[l] * (p[l] - q[l])) * alpha;
                p[l] = if act[l] { np } else { p[l] };
            }
        }
    }
}

/// Rows `rs` of the row-major `y` (`dim` columns) into the lanes `pr` (`[dim][lane]`). (AVX2
/// gathers were tried here: slower than these loads on Zen 3.)
#[inline(always)]
fn gather(y: &[f32], rs: &[usize; L], dim: usize, pr: &mut [Lanes]) {
    debug_assert!(rs.iter().all(|&r| (r + 1) * dim <= y.len()));
    for (d, q) in pr[..dim].iter_mut().enumerate() {
        for l in 0..L {
            // SAFETY: rs[l] is a row of y (a draw below n; y holds n × dim).
            q[l] = unsafe { *y.get_unchecked(rs[l] * dim + d) };
        }
    }
}

/// Squared distance per lane, summed over dimensions in order (as [`dist2`]).
#[inline(always)]
fn dist2_lanes<const D: usize>(p: &[Lanes], q: &[Lanes], dim: usize) -> [f32; L] {
    let mut d2 = [0.0f32; L];
    for (a, b) in p[..dim].iter().zip(&q[..dim]) {
        for l in 0..L {
            let t = a[l] - b[l];
            d2[l] += t * t;
        }
    }
    d2
}

/// Transform-time layout optimisation: new points (`heads`, m × dim) against the fixed training
/// embedding `tails`. umap-learn's semantics with `move_other=False`: each new point runs
/// through its sampled edges and their negatives one after another, the training points never
/// move. New points do not interact, so they run in parallel, each with its own seeded stream:
/// the result does not depend on the thread count.
#[allow(clippy::too_many_arguments)]
pub(super) fn optimize_transform(
    heads: &mut [f32],
    tails: &[f32],
    dim: usize,
    s: &Sched,
    n_epochs: usize,
    a: f32,
    b: f32,
    lr: f32,
    neg_rate: usize,
    seed: u64,
) {
    let n_tail = tails.len() / dim;
    if dim == 0 || n_tail == 0 || n_epochs == 0 {
        return;
    }
    let c = Coef { a, b };
    let rate = neg_rate as f64;
    heads.par_chunks_mut(dim).enumerate().for_each(|(i, yi)| {
        let edges = s.indptr[i]..s.indptr[i + 1];
        let mut clocks: Vec<EdgeClock> = s.inv_eps[edges.clone()]
            .iter()
            .map(|&inv| EdgeClock::new(inv, n_epochs, rate))
            .collect();
        let tails_i = &s.tails[edges];
        let mut rng = SplitMix64::from_keys(&[seed, i as u64]);
        for epoch in 0..n_epochs {
            let alpha = step(lr, epoch, n_epochs);
            let now = epoch as f64;
            for (clock, &k) in clocks.iter_mut().zip(tails_i) {
                let Some(n_neg) = clock.tick(now, rate) else {
                    continue;
                };
                let k = k as usize;
                let yk = &tails[k * dim..(k + 1) * dim];
                let d2 = dist2(yi, yk);
                if d2 > 0.0 {
                    let g = c.attract(d2);
                    for (p, q) in yi.iter_mut().zip(yk) {
                        *p += clip(g * (*p - *q)) * alpha;
                    }
                }
                for _ in 0..n_neg {
                    let k = rng.below(n_tail);
                    push_away(yi, &tails[k * dim..(k + 1) * dim], c, alpha);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random symmetric graph on `n` points (about `deg` neighbours each, a few hubs), its
    /// schedule and a random start layout.
    fn problem(n: usize, deg: usize, dim: usize, n_epochs: usize) -> (Sched, Vec<f32>) {
        let mut rng = SplitMix64::new(7);
        let mut w = vec![std::collections::BTreeMap::new(); n];
        for i in 0..n {
            for _ in 0..deg {
                // Every fifth point links to one of 3 hubs: high-degree vertices, many colours.
                let j = if rng.below(5) == 0 {
                    rng.below(3)
                } else {
                    rng.below(n)
                };
                if j != i {
                    let x = 0.05 + 0.95 * rng.unit() as f32;
                    w[i].insert(j as u32, x);
                    w[j].insert(i as u32, x);
                }
            }
        }
        let mut g = Csr {
            indptr: vec![0],
            indices: vec![],
            weights: vec![],
        };
        for row in &w {
            for (&j, &x) in row {
                g.indices.push(j);
                g.weights.push(x);
            }
            g.indptr.push(g.indices.len());
        }
        let y = (0..n * dim).map(|_| 10.0 * rng.unit() as f32).collect();
        (schedule(&g, n, n_epochs), y)
    }

    /// The plain loop the lanes stand for: colours in order, units one by one, each sample as
    /// scalar code (attraction on both points, then the head's negatives).
    fn reference(y: &mut [f32], dim: usize, u: &mut Units, f: &FitConsts) {
        let n = y.len() / dim;
        for epoch in 0..f.n_epochs {
            let alpha = step(f.lr, epoch, f.n_epochs);
            for col in 0..u.colour_ptr.len() - 1 {
                let start = y.to_vec();
                let mut moved = vec![];
                for i in u.colour_ptr[col]..u.colour_ptr[col + 1] {
                    let Some(n_neg) = u.clocks[i].tick(epoch as f64, f.rate) else {
                        continue;
                    };
                    let (j, k) = (u.head[i] as usize, u.tail[i] as usize);
                    let mut rng = SplitMix64::from_keys(&[f.seed, epoch as u64, i as u64]);
                    let mut yj = start[j * dim..(j + 1) * dim].to_vec();
                    let mut yk = start[k * dim..(k + 1) * dim].to_vec();
                    let mut sample = |yh: &mut [f32], yt: &mut [f32], h: usize, t: usize| {
                        let d2 = dist2(yh, yt);
                        if d2 > 0.0 && h != t {
                            let g = f.c.attract(d2);
                            for (p, q) in yh.iter_mut().zip(yt.iter_mut()) {
                                let gd = clip(g * (*p - *q));
                                *p += gd * alpha;
                                *q -= gd * alpha;
                            }
                        }
                        for _ in 0..n_neg {
                            let r = rng.below(n);
                            if r == h {
                                continue;
                            }
                            let yr = if r == t {
                                yt.to_vec()
                            } else {
                                start[r * dim..(r + 1) * dim].to_vec()
                            };
                            push_away(yh, &yr, f.c, alpha);
                        }
                    };
                    sample(&mut yj, &mut yk, j, k);
                    if u.both[i] {
                        sample(&mut yk, &mut yj, k, j);
                    }
                    moved.push((k, yk));
                    moved.push((j, yj));
                }
                for (p, v) in moved {
                    y[p * dim..(p + 1) * dim].copy_from_slice(&v);
                }
            }
        }
    }

    /// The colouring is a proper edge colouring, and the lanes (AVX2 or not, on 1 or 3
    /// threads, fixed or run-time dimension) give exactly the plain loop's bits.
    #[test]
    fn coloured_lanes_match_the_plain_loop_bit_for_bit() {
        for dim in [2usize, 3, 5] {
            let (n, n_epochs) = (600, 30);
            let (s, y0) = problem(n, 6, dim, n_epochs);
            let f = |avx2| FitConsts {
                n_epochs,
                c: Coef { a: 1.58, b: 0.9 },
                lr: 1.0,
                rate: 5.0,
                seed: 42,
                avx2,
            };
            let units = || Units::new(&s, n, n_epochs, 5.0);
            let u = units();
            assert!(u.colour_ptr.len() > 20, "hubs need many colours");
            for w in u.colour_ptr.windows(2) {
                let mut seen = std::collections::HashSet::new();
                for i in w[0]..w[1] {
                    assert!(seen.insert(u.head[i]) && seen.insert(u.tail[i]));
                }
            }
            let mut want = y0.clone();
            reference(&mut want, dim, &mut units(), &f(false));
            for (threads, avx2) in [(1, false), (1, avx2_available()), (3, avx2_available())] {
                let mut got = y0.clone();
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| match dim {
                    2 => fit_d::<2>(&mut got, dim, &mut units(), &f(avx2)),
                    5 => fit_d::<5>(&mut got, dim, &mut units(), &f(avx2)),
                    _ => fit_d::<0>(&mut got, dim, &mut units(), &f(avx2)),
                });
                assert!(want != y0 && want.iter().all(|v| v.is_finite()));
                let same = want
                    .iter()
                    .zip(&got)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "dim {dim}, {threads} threads, avx2 {avx2}");
            }
        }
    }

    /// SGD time on a random graph without hubs (`BERTOPIC_SGD_N` points, default 1,000,000,
    /// ~16 neighbours each, 5 dimensions, `BERTOPIC_SGD_EPOCHS` epochs, default 10): where the
    /// positions outgrow the caches. A timing, not a check:
    /// `cargo test --release -p bertopic-reduce --lib sgd_at_scale -- --ignored --nocapture`.
    #[test]
    #[ignore = "a timing at a million points (tens of seconds), run by hand"]
    fn sgd_at_scale() {
        let var = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
        let n: usize = var("BERTOPIC_SGD_N").unwrap_or(1_000_000);
        let n_epochs: usize = var("BERTOPIC_SGD_EPOCHS").unwrap_or(10);
        let (dim, deg) = (5, 8);
        let mut rng = SplitMix64::new(11);
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for i in 0..n {
            for _ in 0..deg {
                let j = rng.below(n);
                if j != i {
                    let x = 0.05 + 0.95 * rng.unit() as f32;
                    rows[i].push((j as u32, x));
                    rows[j].push((i as u32, x));
                }
            }
        }
        let mut g = Csr {
            indptr: vec![0],
            indices: vec![],
            weights: vec![],
        };
        for row in &mut rows {
            row.sort_by_key(|e| e.0);
            row.dedup_by_key(|e| e.0);
            for &(j, x) in row.iter() {
                g.indices.push(j);
                g.weights.push(x);
            }
            g.indptr.push(g.indices.len());
        }
        drop(rows);
        let mut y: Vec<f32> = (0..n * dim).map(|_| 10.0 * rng.unit() as f32).collect();
        let s = schedule(&g, n, n_epochs);
        let t = std::time::Instant::now();
        optimize_fit(&mut y, dim, &s, n_epochs, 1.58, 0.9, 1.0, 5, 42);
        let hash = y.iter().fold(0u64, |h, v| mix(h ^ u64::from(v.to_bits())));
        eprintln!(
            "sgd_at_scale: {n} points, {} edges, {n_epochs} epochs: {:.2} s (result {hash:016x})",
            s.tails.len(),
            t.elapsed().as_secs_f64()
        );
    }

    #[test]
    fn fast_pow_is_accurate() {
        for &b in &[0.5f32, 0.7915, 0.895, 1.0, 1.5] {
            for i in 1..2000 {
                let x = i as f32 * 0.05;
                let (f, e) = (fast_pow(x, b), x.powf(b));
                assert!(((f - e) / e).abs() < 1e-4, "x={x} b={b}: {f} vs {e}");
            }
        }
    }
}
