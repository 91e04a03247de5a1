//! One size of the scale bench (`cargo xtask scale-bench` runs it once per size, each in its own
//! process so that peak RSS is per size): fit given embeddings on `n` documents, then save and
//! load the model.
//!
//! `cargo run --release --example scale_bench -- <n> [model-dir]`
//!
//! Other checks of the same scale work (`cargo xtask scale-bench` runs them with `--checks`):
//! - `scale_bench recall <n>`: recall@14 (UMAP's k for n_neighbors 15) of the NN-descent graph
//!   against the exact one on the same `n` rows;
//! - `scale_bench mst`: the full arXiv 20k fit with Prim and with Borůvka forced: same topics?
//! - `scale_bench load <model-dir> [resave-dir]`: load a saved model in a fresh process (peak RSS
//!   is the load's alone), optionally save it again (an older format is written as the current
//!   one);
//! - `scale_bench ari`: the arXiv 20k fit on all documents vs a fit on a seeded 50 % sample plus
//!   prediction of the other half (adjusted Rand index over all documents).
//!
//! Up to 20,000 documents are the real arXiv abstracts and their MiniLM embeddings; above that the
//! corpus is tiled: a new row repeats the text of a real row and takes its embedding moved part
//! of the way towards one of that row's real neighbours, plus small seeded noise (see [`tiled`]). Prints one `key=value` line on stdout: per-stage wall
//! time and peak RSS (sampled every 5 ms by a thread, attributed to the stage running), the
//! process's peak RSS (VmHWM), model size and load time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bertopic::{Bertopic, TopicModel};
use ndarray::Array2;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident set size now, in bytes (Linux `/proc/self/statm`; 0 elsewhere).
fn rss_now() -> u64 {
    let page = 4096u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |p| p * page)
}

/// Peak resident set size of the process (`VmHWM`), in bytes.
fn rss_peak() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// SplitMix64 of `x`: a seeded, stateless stream (row r, draw t → `mix(key(r, t))`).
fn mix(z: u64) -> u64 {
    bertopic_rng::mix(z.wrapping_add(bertopic_rng::GAMMA))
}

/// Number of real neighbours a tiled row may lean towards.
const TILE_NEIGHBOURS: usize = 15;

/// `n` rows: the `m` real ones, then rows that lean towards one of their source row's 15
/// nearest real neighbours (cosine, exact), plus noise
/// ([`bertopic_testdata::tile_towards_neighbours`]). Returns the rows and each row's source
/// row (its text).
fn tiled(
    base: &Array2<f32>,
    n: usize,
) -> Result<(Array2<f32>, Vec<usize>), Box<dyn std::error::Error>> {
    let m = base.nrows();
    let src: Vec<usize> = (0..n).map(|r| r % m).collect();
    if n <= m {
        return Ok((base.slice(ndarray::s![..n, ..]).to_owned(), src));
    }
    let g = bertopic::reduce::knn(
        base.view(),
        TILE_NEIGHBOURS,
        bertopic::reduce::Metric::Cosine,
        42,
        usize::MAX,
    )?;
    let out =
        bertopic_testdata::tile_towards_neighbours(base.view(), n, &g.indices, TILE_NEIGHBOURS);
    Ok((out, src))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("recall") => return recall(args.get(1).ok_or("recall <n>")?.parse()?),
        Some("mst") => return mst_check(),
        Some("ari") => return ari_check(),
        Some("load") => {
            let dir = args.get(1).ok_or("load <model-dir> [resave-dir]")?;
            return load_only(dir.as_ref(), args.get(2).map(|d| d.as_ref()));
        }
        _ => {}
    }
    let n: usize = args
        .first()
        .ok_or("usage: scale_bench <n> [model-dir]")?
        .parse()?;
    let model_dir = args.get(1).map(std::path::PathBuf::from);

    let t = Instant::now();
    let (docs, emb) = bertopic_suite::corpus_with_embeddings("arxiv-cs-abstracts")?;
    let m = docs.len();
    let (emb, src) = tiled(&emb, n)?;
    let texts: Vec<String> = src.iter().map(|&i| docs[i].text.clone()).collect();
    drop(docs);
    let text_bytes: usize = texts.iter().map(String::len).sum();
    let load_input_s = t.elapsed().as_secs_f64();
    let rss_input = rss_now();

    // Sampler: (elapsed since fit start, rss) every 5 ms while the fit runs.
    let stop = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let fit_start = Instant::now();
    let sampler = {
        let (stop, samples) = (Arc::clone(&stop), Arc::clone(&samples));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let s = (fit_start.elapsed().as_secs_f64(), rss_now());
                samples.lock().unwrap_or_else(|e| e.into_inner()).push(s);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let model = Bertopic::builder()
        .seed(42)
        .build()?
        .fit_with_embeddings(&texts, emb)?;
    let fit_s = fit_start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let peak_fit = rss_peak();
    let tm = model.timings();
    // Stage windows from the model's own timings (the stages run back to back).
    let bounds = [
        ("reduce", 0.0, tm.reduce_s),
        ("cluster", tm.reduce_s, tm.reduce_s + tm.cluster_s),
        ("represent", tm.reduce_s + tm.cluster_s, f64::INFINITY),
    ];
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let stage_peak = |lo: f64, hi: f64| {
        samples
            .iter()
            .filter(|(t, _)| *t >= lo && *t < hi)
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(0)
    };
    let mut stages = String::new();
    for (name, lo, hi) in bounds {
        let secs = match name {
            "reduce" => tm.reduce_s,
            "cluster" => tm.cluster_s,
            _ => fit_s - tm.reduce_s - tm.cluster_s,
        };
        stages.push_str(&format!(
            " {name}_s={secs:.3} {name}_rss={}",
            stage_peak(lo, hi)
        ));
    }

    let (mut save_s, mut load_s, mut json_bytes, mut tensor_bytes) = (0.0, 0.0, 0u64, 0u64);
    if let Some(dir) = &model_dir {
        let t = Instant::now();
        model.save(dir)?;
        save_s = t.elapsed().as_secs_f64();
        json_bytes = std::fs::metadata(dir.join("model.json"))?.len();
        tensor_bytes = std::fs::metadata(dir.join("model.safetensors"))?.len();
        drop(model);
        let t = Instant::now();
        let back = TopicModel::load(dir)?;
        load_s = t.elapsed().as_secs_f64();
        eprintln!("loaded back: {} topics", back.n_topics());
    } else {
        eprintln!(
            "{} topics, {:.1}% outliers",
            model.n_topics(),
            100.0 * model.outlier_fraction()
        );
    }
    // One flat `key=value` line: `cargo xtask scale-bench` reads it without a JSON parser.
    let line = format!(
        "scale: n={n} tiled={} text_bytes={text_bytes} input_s={load_input_s:.3} \
         input_rss={rss_input} fit_s={fit_s:.3}{stages} fit_peak_rss={peak_fit} \
         save_s={save_s:.3} load_s={load_s:.3} json_bytes={json_bytes} \
         tensor_bytes={tensor_bytes} peak_rss={} threads={}",
        n > m,
        rss_peak(),
        rayon::current_num_threads()
    );
    println!("{line}");
    Ok(())
}

/// Recall@14 of NN-descent against the exact k-NN on `n` (tiled) rows.
/// Loads a model folder and prints load time and peak RSS; with `resave`, saves it there too.
fn load_only(
    dir: &std::path::Path,
    resave: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    let before = rss_now();
    let t = Instant::now();
    let model = TopicModel::load(dir)?;
    let load_s = t.elapsed().as_secs_f64();
    let (peak, after) = (rss_peak(), rss_now());
    let size = |d: &std::path::Path, f: &str| std::fs::metadata(d.join(f)).map(|m| m.len());
    let mut line = format!(
        "load: n={} load_s={load_s:.3} rss_before={before} load_peak_rss={peak} rss_after={after} \
         json_bytes={} tensor_bytes={}",
        model.document_topics().len(),
        size(dir, "model.json")?,
        size(dir, "model.safetensors")?
    );
    if let Some(out) = resave {
        let t = Instant::now();
        model.save(out)?;
        line.push_str(&format!(
            " resave_s={:.3} resave_json_bytes={} resave_tensor_bytes={}",
            t.elapsed().as_secs_f64(),
            size(out, "model.json")?,
            size(out, "model.safetensors")?
        ));
    }
    println!("{line}");
    Ok(())
}

fn recall(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    use bertopic::reduce::{knn, Metric};
    let (_, emb) = bertopic_suite::corpus_with_embeddings("arxiv-cs-abstracts")?;
    let (x, _) = tiled(&emb, n)?;
    let k = 14;
    let t = Instant::now();
    let approx = knn(x.view(), k, Metric::Cosine, 42, 0)?;
    let approx_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let exact = knn(x.view(), k, Metric::Cosine, 42, usize::MAX)?;
    let exact_s = t.elapsed().as_secs_f64();
    let hits: usize = (0..n)
        .map(|i| {
            let e = &exact.indices[i * k..(i + 1) * k];
            approx.indices[i * k..(i + 1) * k]
                .iter()
                .filter(|j| e.contains(j))
                .count()
        })
        .sum();
    println!(
        "recall: n={n} k={k} recall={:.4} nndescent_s={approx_s:.1} exact_s={exact_s:.1}",
        hits as f64 / (n * k) as f64
    );
    Ok(())
}

/// The arXiv 20k documents, texts and embeddings.
fn arxiv() -> Result<(Vec<String>, Array2<f32>), Box<dyn std::error::Error>> {
    let (docs, emb) = bertopic_suite::corpus_with_embeddings("arxiv-cs-abstracts")?;
    Ok((docs.into_iter().map(|d| d.text).collect(), emb))
}

/// The 20k fit with Prim (the default below 50k points) and with Borůvka forced.
fn mst_check() -> Result<(), Box<dyn std::error::Error>> {
    use bertopic::cluster::{Hdbscan, MstAlgorithm};
    let (texts, emb) = arxiv()?;
    let fit = |algo: MstAlgorithm| -> Result<TopicModel, Box<dyn std::error::Error>> {
        let base = Bertopic::builder().seed(42).build()?;
        let hdb = Hdbscan::new(base.params().hdbscan_params())?.with_mst(algo);
        let t = Instant::now();
        let m = Bertopic::builder()
            .seed(42)
            .clusterer(Box::new(hdb))
            .build()?
            .fit_with_embeddings(&texts, emb.clone())?;
        eprintln!(
            "{algo:?}: cluster {:.2} s ({:.1} s fit)",
            m.timings().cluster_s,
            t.elapsed().as_secs_f64()
        );
        Ok(m)
    };
    let (p, b) = (fit(MstAlgorithm::Prim)?, fit(MstAlgorithm::Boruvka)?);
    let same_topics = p.document_topics() == b.document_topics();
    let same_probs = p.document_probabilities() == b.document_probabilities();
    let differ = p
        .document_topics()
        .iter()
        .zip(b.document_topics())
        .filter(|(x, y)| x != y)
        .count();
    println!(
        "mst: n={} topics={} same_topics={same_topics} same_probabilities={same_probs} documents_differing={differ} prim_cluster_s={:.2} boruvka_cluster_s={:.2}",
        texts.len(),
        p.n_topics(),
        p.timings().cluster_s,
        b.timings().cluster_s
    );
    if !same_topics {
        return Err("Borůvka's topics differ from Prim's".into());
    }
    Ok(())
}

/// Fit on all 20k vs fit on a seeded 50 % sample + predict the rest: ARI over all documents.
fn ari_check() -> Result<(), Box<dyn std::error::Error>> {
    use bertopic::cluster::metrics::adjusted_rand_index;
    let (texts, emb) = arxiv()?;
    let n = texts.len();
    let full = Bertopic::builder()
        .seed(42)
        .build()?
        .fit_with_embeddings(&texts, emb.clone())?;
    // Seeded half: rows whose hash falls below the median.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| mix(i as u64 ^ 0x00A7_1BEE));
    let (train, rest) = order.split_at(n / 2);
    let (mut train, mut rest) = (train.to_vec(), rest.to_vec());
    train.sort_unstable();
    rest.sort_unstable();
    let pick = |rows: &[usize]| -> (Vec<String>, Array2<f32>) {
        (
            rows.iter().map(|&i| texts[i].clone()).collect(),
            emb.select(ndarray::Axis(0), rows),
        )
    };
    let (tt, te) = pick(&train);
    let (rt, re) = pick(&rest);
    let half = Bertopic::builder()
        .seed(42)
        .build()?
        .fit_with_embeddings(&tt, te)?;
    let (pred, _) = half.transform_embeddings(&rt, &re)?;
    let mut combined = vec![0i64; n];
    for (k, &i) in train.iter().enumerate() {
        combined[i] = half.document_topics()[k];
    }
    for (k, &i) in rest.iter().enumerate() {
        combined[i] = pred[k];
    }
    let ari_all = adjusted_rand_index(full.document_topics(), &combined);
    // The same on the documents both runs put in a topic (outliers left out).
    let (a, b): (Vec<i64>, Vec<i64>) = full
        .document_topics()
        .iter()
        .zip(&combined)
        .filter(|(x, y)| **x >= 0 && **y >= 0)
        .map(|(x, y)| (*x, *y))
        .unzip();
    let ari_in = adjusted_rand_index(&a, &b);
    let rest_full: Vec<i64> = rest.iter().map(|&i| full.document_topics()[i]).collect();
    println!(
        "ari: n={n} full_topics={} half_topics={} ari_all={ari_all:.4} ari_non_outlier={ari_in:.4} non_outlier_docs={} ari_predicted_half={:.4}",
        full.n_topics(),
        half.n_topics(),
        a.len(),
        adjusted_rand_index(&rest_full, &pred)
    );
    Ok(())
}
