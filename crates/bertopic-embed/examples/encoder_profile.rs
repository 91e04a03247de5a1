//! Where the f32 encoder's time goes, against the CPU's peak FMA rate (issue #20):
//! `cargo run --release -p bertopic-embed --example encoder_profile -- [docs] [batch] [runs]`
//! (defaults 1000 abstracts, batch 32, best of 3 runs; `BERTOPIC_PRECISION=int8` for the int8
//! encoder, with `BERTOPIC_INT8_KERNEL=avx512vnni|avxvnni|avx2|scalar` to pick its kernel).
//!
//! 1. Measures the peak f32 FMA rate of this CPU with an AVX2 loop of independent `vfmadd`s (one
//!    thread, then one per rayon thread) and prints the nominal peak from `/proc/cpuinfo`'s clock
//!    (cores × 2 FMA pipes × 8 lanes × 2 flop × GHz).
//! 2. Counts the exact flops of the forward pass for the real token counts of the first `docs`
//!    arXiv abstracts, per phase (one multiply-add = 2 flop; bias adds etc. not counted).
//! 3. Times `runs` passes (best wall time, printed with the load average: the machine is shared),
//!    then one pass with [`bertopic_embed::profile`] on, which sums each phase's CPU time over the
//!    threads, and prints GFLOP/s per phase and as a share of the per-core peak.

use std::time::{Duration, Instant};

use bertopic_embed::*;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Independent accumulators: Zen 3's FMA has 4 cycles' latency on 2 pipes, so ≥ 8 keep both busy.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_loop(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(0.0); 12];
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut s = 0.0;
    for v in acc {
        let mut o = [0f32; 8];
        // SAFETY: `o` holds 8 floats.
        unsafe { _mm256_storeu_ps(o.as_mut_ptr(), v) };
        s += o.iter().sum::<f32>();
    }
    s
}

/// The int8 kernel's multiply (`vpmaddwd`: 16 i16 products summed in pairs into 8 i32) in the
/// same loop shape: its rate against the FMA's bounds what int8 can gain on this CPU (Zen 3 issues
/// it on one pipe, the FMA on two, so both do 16 multiply-adds a cycle).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn madd_loop(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_epi32(1); 12];
    let a = _mm256_set1_epi16(3);
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_madd_epi16(*v, a);
        }
    }
    let mut s = _mm256_setzero_si256();
    for v in acc {
        s = _mm256_add_epi32(s, v);
    }
    _mm256_extract_epi32::<0>(s) as f32
}

/// The VNNI kernel's multiply (`vpdpbusd`: 64 u8 × i8 products summed in fours into 16 i32) in
/// the same loop shape; only called where the CPU has AVX-512 VNNI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vnni")]
fn dpbusd_loop(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_epi32(1); 12];
    let a = _mm512_set1_epi8(3);
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_dpbusd_epi32(*v, a, a);
        }
    }
    let mut s = _mm512_setzero_si512();
    for v in acc {
        s = _mm512_add_epi32(s, v);
    }
    _mm512_reduce_add_epi32(s) as f32
}

/// The AVX-VNNI kernel's multiply (`vpdpbusd` on ymm: 32 products into 8 i32); only called
/// where the CPU has AVX-VNNI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avxvnni")]
fn dpbusd256_loop(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_epi32(1); 12];
    let a = _mm256_set1_epi8(3);
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_dpbusd_avx_epi32(*v, a, a);
        }
    }
    let mut s = _mm256_setzero_si256();
    for v in acc {
        s = _mm256_add_epi32(s, v);
    }
    _mm256_extract_epi32::<0>(s) as f32
}

/// Measured multiply-add rate per core-second of `kernel` (12 vector instructions of `lanes`
/// multiply-adds per iteration) on `threads` threads at once; NaN without AVX2 and FMA.
fn peak_rate(threads: usize, kernel: unsafe fn(u64) -> f32, lanes: u64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        let iters = 100_000_000u64;
        // Per thread: multiply-adds over that thread's CPU time (the machine is shared, so wall
        // time would count other processes); the best thread stands for the core.
        let rates: Vec<f64> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let t0 = profile::thread_cpu_ns();
                        // SAFETY: AVX2 and FMA were detected just above.
                        std::hint::black_box(unsafe { kernel(std::hint::black_box(iters)) });
                        (iters * 12 * lanes) as f64 / ((profile::thread_cpu_ns() - t0) as f64 / 1e9)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        return rates.iter().cloned().fold(0.0, f64::max);
    }
    f64::NAN
}

/// Measured FMA flop/s per core-second on `threads` threads at once (2 flop per multiply-add).
fn fma_peak(threads: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    return 2.0 * peak_rate(threads, fma_loop, 8);
    #[allow(unreachable_code)]
    f64::NAN
}

/// Measured `vpmaddwd` integer multiply-adds per core-second on one thread (2 ops each).
fn madd_peak() -> f64 {
    #[cfg(target_arch = "x86_64")]
    return 2.0 * peak_rate(1, madd_loop, 16);
    #[allow(unreachable_code)]
    f64::NAN
}

/// Measured `vpdpbusd` integer multiply-adds per core-second on one thread (2 ops each), for
/// the kernel `k`; NaN where the CPU lacks it.
fn dpbusd_peak(k: Int8Kernel) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if k.native() {
        match k {
            Int8Kernel::Avx512Vnni => return 2.0 * peak_rate(1, dpbusd_loop, 64),
            Int8Kernel::AvxVnni => return 2.0 * peak_rate(1, dpbusd256_loop, 32),
            _ => {}
        }
    }
    f64::NAN
}

fn cpu_info() -> (String, f64) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |k: &str| {
        info.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split(':').nth(1))
            .map(|v| v.trim().to_string())
    };
    let mhz = field("cpu MHz")
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    (field("model name").unwrap_or_default(), mhz / 1000.0)
}

/// CPU seconds this process has used (user + system, all threads).
fn process_cpu_s() -> f64 {
    // SAFETY: `ru` is a valid rusage to write into.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is a constant.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let n_docs = args.first().copied().unwrap_or(1000);
    let batch = args.get(1).copied().unwrap_or(32);
    let runs = args.get(2).copied().unwrap_or(3).max(1);
    let cores = rayon::current_num_threads();

    let (cpu, ghz) = cpu_info();
    let nominal_core = 2.0 * 8.0 * 2.0 * ghz * 1e9;
    let best_of = |rate: &dyn Fn() -> f64| (0..3).map(|_| rate()).fold(0.0, f64::max);
    let (peak1, peak_all) = (best_of(&|| fma_peak(1)), best_of(&|| fma_peak(cores)));
    let int8_peak = best_of(&madd_peak);
    let vnni_peaks =
        [Int8Kernel::Avx512Vnni, Int8Kernel::AvxVnni].map(|k| (k, best_of(&|| dpbusd_peak(k))));
    println!(
        "CPU: {cpu}, {cores} threads, /proc/cpuinfo clock {ghz:.3} GHz, load average {}",
        loadavg()
    );
    println!(
        "peak f32 FMA: nominal {:.1} GFLOP/s per core ({:.1} on {cores}); measured per core-second \
         {:.1} on 1 thread ({:.2} GHz effective), {:.1} with {cores} threads at once",
        nominal_core / 1e9,
        nominal_core * cores as f64 / 1e9,
        peak1 / 1e9,
        peak1 / 32e9,
        peak_all / 1e9
    );
    println!(
        "peak int8 multiply (vpmaddwd, the int8 kernel's): {:.1} G int-op/s on 1 thread = {:.2}× \
         the FMA's: the most int8 matmuls can gain over f32 here",
        int8_peak / 1e9,
        int8_peak / peak1
    );
    for (k, peak) in vnni_peaks {
        if peak.is_nan() {
            println!(
                "peak int8 multiply (vpdpbusd, the {} kernel's): not on this CPU",
                k.name()
            );
        } else {
            println!(
                "peak int8 multiply (vpdpbusd, the {} kernel's): {:.1} G int-op/s on 1 thread = \
                 {:.2}× the FMA's",
                k.name(),
                peak / 1e9,
                peak / peak1
            );
        }
    }

    let mut rdr = csv::Reader::from_path(bertopic_testdata::data("arxiv-cs-abstracts.csv"))?;
    let mut docs = Vec::new();
    for r in rdr.records().take(n_docs) {
        let r = r?;
        docs.push(format!("{} {}", &r[0], &r[1]).trim().to_string());
    }
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())?;
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.dir.join("config.json"))?)?;
    let dim = |k: &str| {
        cfg[k]
            .as_u64()
            .map(|v| v as f64)
            .ok_or(format!("config.json: {k}"))
    };
    let (h, inter, layers) = (
        dim("hidden_size")?,
        dim("intermediate_size")?,
        dim("num_hidden_layers")?,
    );
    // `BERTOPIC_PRECISION=int8` profiles the int8 encoder (its GFLOP/s count integer MACs).
    let precision = match std::env::var("BERTOPIC_PRECISION").as_deref() {
        Ok("int8") => Precision::Int8,
        _ => Precision::F32,
    };
    println!(
        "precision: {precision:?}{}",
        if precision == Precision::Int8 {
            let k = int8_kernel();
            format!(
                ", kernel {}{}",
                k.name(),
                if k.native() { "" } else { " (portable form)" }
            )
        } else {
            String::new()
        }
    );
    let enc = SentenceEncoder::load(
        &model,
        EncoderOptions {
            batch_size: batch,
            precision,
            ..Default::default()
        },
    )?;
    let t0 = Instant::now();
    let ids = enc.tokenize(&docs)?;
    let t_tok = t0.elapsed();
    let lens: Vec<f64> = ids.iter().map(|s| s.len() as f64).collect();
    let tokens: f64 = lens.iter().sum();
    let sq: f64 = lens.iter().map(|l| l * l).sum();
    println!(
        "{} docs, {tokens} wordpieces (mean {:.1}, max {}), batch {batch}; tokenising took {:.3} s",
        docs.len(),
        tokens / docs.len() as f64,
        lens.iter().cloned().fold(0.0, f64::max),
        t_tok.as_secs_f64()
    );
    // Flops per phase, in `profile::PHASES` order (non-matmul phases: none counted).
    let mut flops = [0f64; 10];
    flops[1] = layers * 2.0 * tokens * h * 3.0 * h;
    flops[2] = layers * 2.0 * sq * h; // all heads: heads · len² · (h / heads)
    flops[4] = layers * 2.0 * sq * h;
    flops[5] = layers * 2.0 * tokens * h * h;
    flops[7] = layers * 2.0 * tokens * h * inter;
    flops[9] = layers * 2.0 * tokens * inter * h;
    let total_flops: f64 = flops.iter().sum();

    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..runs {
        let (t, c) = (Instant::now(), process_cpu_s());
        std::hint::black_box(enc.embed_ids(&ids, batch)?);
        walls.push(t.elapsed().as_secs_f64());
        cpus.push(process_cpu_s() - c);
    }
    let best = walls.iter().cloned().fold(f64::INFINITY, f64::min);
    let best_cpu = cpus.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "forward + pooling, {runs} runs: {} s; best {best:.3} s = {:.1} docs/s, {:.0} wordpieces/s; \
         load average now {}",
        walls.iter().map(|w| format!("{w:.3}")).collect::<Vec<_>>().join(" / "),
        docs.len() as f64 / best,
        tokens / best,
        loadavg()
    );
    println!(
        "overall: {:.1} GFLOP; best wall {best:.3} s = {:.1} GFLOP/s = {:.0} % of nominal peak on \
         {cores} cores; best CPU time {best_cpu:.2} s = {:.1} GFLOP/s per core-second = {:.0} % of \
         the measured 1-thread peak",
        total_flops / 1e9,
        total_flops / best / 1e9,
        100.0 * total_flops / best / (nominal_core * cores as f64),
        total_flops / best_cpu / 1e9,
        100.0 * total_flops / best_cpu / peak1
    );

    // Each sequence's arithmetic should not depend on which others share its batch.
    let few = &ids[..ids.len().min(48)];
    let same = enc.embed_ids(few, 1)? == enc.embed_ids(few, batch)?;
    println!(
        "batch 1 and batch {batch} bit-identical on {} docs: {same}",
        few.len()
    );

    profile::enable(true);
    profile::take();
    let (t, c) = (Instant::now(), process_cpu_s());
    std::hint::black_box(enc.embed_ids(&ids, batch)?);
    let wall = t.elapsed().as_secs_f64();
    let pass_cpu = process_cpu_s() - c;
    profile::enable(false);
    let cpu_s = profile::take();
    let phase_total: Duration = cpu_s.iter().sum();
    println!(
        "\nprofiled pass: wall {wall:.3} s, process CPU {pass_cpu:.3} s; phases sum to {:.3} CPU s \
         (thread CPU clocks)",
        phase_total.as_secs_f64()
    );
    println!("| phase | GFLOP | CPU s | share | GFLOP/s per core | % of measured 1-thread peak |");
    println!("|---|---|---|---|---|---|");
    let mut mm = (0.0, 0.0);
    for (i, name) in profile::PHASES.iter().enumerate() {
        let s = cpu_s[i].as_secs_f64();
        let share = 100.0 * s / phase_total.as_secs_f64();
        if flops[i] > 0.0 {
            mm.0 += flops[i];
            mm.1 += s;
            let rate = flops[i] / s;
            println!(
                "| {name} | {:.1} | {s:.3} | {share:.1} % | {:.1} | {:.0} % |",
                flops[i] / 1e9,
                rate / 1e9,
                100.0 * rate / peak1
            );
        } else {
            println!("| {name} | – | {s:.3} | {share:.1} % | | |");
        }
    }
    println!(
        "| all matmuls | {:.1} | {:.3} | {:.1} % | {:.1} | {:.0} % |",
        mm.0 / 1e9,
        mm.1,
        100.0 * mm.1 / phase_total.as_secs_f64(),
        mm.0 / mm.1 / 1e9,
        100.0 * mm.0 / mm.1 / peak1
    );
    println!(
        "outside the phases (pooling, copies, scheduling): {:.3} CPU s of the pass's {pass_cpu:.3}; \
         tokenising (not in the pass): {:.3} s",
        (pass_cpu - phase_total.as_secs_f64()).max(0.0),
        t_tok.as_secs_f64()
    );
    Ok(())
}
