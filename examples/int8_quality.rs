//! Topic quality of the int8 encoder against f32 (issue #20): the first `n` shared arXiv
//! abstracts are embedded with both precisions, each set is fitted with BERTopic's defaults and
//! the same seeds, and the fits are scored: topics, outlier share, c_v and c_npmi (this
//! workspace's gensim-equal coherence), NMI against the arXiv `Label`, and NMI / ARI against the
//! f32 fit of the same seed. sentence-transformers' embeddings of the same documents (the shared
//! `.npy`) are fitted too: they differ from our f32 ones by < 1e-4 per component, so their row
//! shows how much a fit moves under a negligible perturbation (the noise floor int8 is judged
//! against). It also prints the cosine of each precision to those sentence-transformers
//! embeddings, and to the 64 texts of `shared/reference/embeddings-minilm.json`.
//!
//! `cargo run --example int8_quality -- [n=2000] [--seeds 42,43,44] [--cache DIR] [--json OUT]`
//! (the dev profile builds the encoder crate at opt-level 3; `--release` works too): `--cache`
//! keeps the embeddings as `.npy` files under DIR (use a folder under `target/`) so a second
//! run only fits; `--json` writes the results (the committed
//! `tests/reference/int8-quality-arxiv.json` came from it).

use std::path::{Path, PathBuf};
use std::time::Instant;

use bertopic::cluster::metrics::{adjusted_rand_index, normalized_mutual_info};
use bertopic::embed::{
    int8_kernel, read_npy, resolve_local, write_npy, Embedder, EncoderOptions, Precision,
    ResolveOptions, SentenceEncoder, DEFAULT_MODEL,
};
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::represent::cosine;
use bertopic::{Bertopic, Measure};
use bertopic_suite::{data, shared_dir};
use ndarray::Array2;
use serde_json::{json, Value};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Row-wise cosines of two equally shaped matrices.
fn cosines(a: &Array2<f32>, b: &Array2<f32>) -> Vec<f64> {
    a.outer_iter()
        .zip(b.outer_iter())
        .map(|(x, y)| cosine(x, y))
        .collect()
}

/// min / p1 / p5 / median / mean of a cosine distribution.
fn stats(mut c: Vec<f64>) -> Value {
    c.sort_by(f64::total_cmp);
    let q = |p: f64| c[((c.len() - 1) as f64 * p).round() as usize];
    let r = |x: f64| (x * 1e6).round() / 1e6;
    json!({
        "n": c.len(),
        "min": r(c[0]),
        "p1": r(q(0.01)),
        "p5": r(q(0.05)),
        "median": r(q(0.5)),
        "mean": r(c.iter().sum::<f64>() / c.len() as f64),
    })
}

fn label_ids(labels: &[String]) -> Vec<i64> {
    let mut map = std::collections::BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let n = map.len() as i64;
            *map.entry(l.clone()).or_insert(n)
        })
        .collect()
}

/// CPU seconds this process has used (user + system, Linux `/proc/self/stat`; 0 elsewhere).
/// On a shared machine the ratio of CPU times is steadier than that of wall times, which
/// include waiting for other processes.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which may hold spaces): utime, stime are 14, 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
            Some((tick(11)? + tick(12)?) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Wall and CPU seconds of one encoding pass.
type Timing = (f64, f64);

/// Embeds `texts` with `precision`, or reads the cached `.npy`. Returns the embeddings and the
/// encoding time (`None` when read from the cache).
fn embed(
    enc: &SentenceEncoder,
    texts: &[String],
    cache: Option<&Path>,
    name: &str,
) -> Res<(Array2<f32>, Option<Timing>)> {
    let file = cache.map(|d| d.join(format!("{name}.npy")));
    if let Some(f) = file.as_ref().filter(|f| f.is_file()) {
        let e = read_npy(f)?;
        if e.nrows() == texts.len() {
            return Ok((e, None));
        }
    }
    let (t, c) = (Instant::now(), cpu_seconds());
    let e = enc.embed(texts)?;
    let s = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    if let Some(f) = file {
        std::fs::create_dir_all(f.parent().expect("a folder"))?;
        write_npy(&f, &e)?;
    }
    Ok((e, Some(s)))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> Res<()> {
    let mut n = 2000usize;
    let mut seeds = vec![42u64, 43, 44];
    let mut cache: Option<PathBuf> = None;
    let mut json_out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seeds" => {
                seeds = args
                    .next()
                    .ok_or("--seeds needs a list")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?
            }
            "--cache" => cache = Some(args.next().ok_or("--cache needs a folder")?.into()),
            "--json" => json_out = Some(args.next().ok_or("--json needs a file")?.into()),
            other => {
                n = other
                    .parse()
                    .map_err(|_| format!("unknown argument {other}"))?
            }
        }
    }

    // The corpus as the pipeline reads it, and sentence-transformers' embeddings of its rows.
    let (docs, _) = read_corpus(
        &data("arxiv-cs-abstracts.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )?;
    let docs = &docs[..n.min(docs.len())];
    let n = docs.len();
    let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
    let st = read_npy(&data("arxiv-cs-abstracts.minilm.npy"))?.select(ndarray::Axis(0), &rows);
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let truth = label_ids(
        &docs
            .iter()
            .map(|d| d.label.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
    );

    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default())?;
    let load = |precision| {
        SentenceEncoder::load(
            &model,
            EncoderOptions {
                precision,
                ..Default::default()
            },
        )
    };
    let (f32_enc, int8_enc) = (load(Precision::F32)?, load(Precision::Int8)?);
    println!(
        "CPU {} ({} threads), int8 kernel {:?}, load average {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |p| p.get()),
        int8_kernel(),
        load_average()
    );
    let cache = cache.as_deref();
    let (e32, t32) = embed(&f32_enc, &texts, cache, &format!("arxiv-{n}-f32"))?;
    let (e8, t8) = embed(&int8_enc, &texts, cache, &format!("arxiv-{n}-int8"))?;
    let mut speed = Value::Null;
    if let (Some((a, ca)), Some((b, cb))) = (t32, t8) {
        println!(
            "embedding {n} abstracts: f32 {a:.1} s wall / {ca:.1} s CPU, int8 {b:.1} s / {cb:.1} s; \
             int8 speed-up {:.2}x wall, {:.2}x CPU (one pass each, load average {})",
            a / b,
            ca / cb,
            load_average()
        );
        speed = json!({
            "f32_wall_s": a, "f32_cpu_s": ca, "int8_wall_s": b, "int8_cpu_s": cb,
            "speedup_wall": a / b, "speedup_cpu": ca / cb, "load_average_after": load_average(),
        });
    }

    // Cosines: to sentence-transformers (arXiv rows and the 64 reference texts), int8 to f32.
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(
        shared_dir().join("reference/embeddings-minilm.json"),
    )?)?;
    let items = reference["items"].as_array().ok_or("no items")?;
    let ref_texts: Vec<String> = items
        .iter()
        .map(|i| i["text"].as_str().unwrap_or_default().to_string())
        .collect();
    let ref_emb: Vec<Vec<f32>> = items
        .iter()
        .map(|i| {
            i["embedding"]
                .as_array()
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_f64)
                        .map(|x| x as f32)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let to_ref = |enc: &SentenceEncoder| -> Res<Vec<f64>> {
        let e = enc.embed(&ref_texts)?;
        Ok(e.outer_iter()
            .zip(&ref_emb)
            .map(|(x, y)| cosine(x, (&y[..]).into()))
            .collect())
    };
    // The pipeline reads cleaned text (a trailer such as "Keywords: …" is cut), while the
    // shared `.npy` embedded the raw Title + Abstract: the lowest f32-vs-st rows are text
    // differences, not encoder ones. Name the lowest so a reader can check.
    let f32_st = cosines(&e32, &st);
    let worst = (0..n).min_by(|&a, &b| f32_st[a].total_cmp(&f32_st[b]));
    let worst_note = worst.map_or(Value::Null, |k| {
        json!({
            "data_row": docs[k].row,
            "f32_vs_st": (f32_st[k] * 1e6).round() / 1e6,
            "pipeline_text_chars": docs[k].text.chars().count(),
        })
    });
    let cos = json!({
        "lowest_f32_vs_st_row": worst_note,
        "arxiv_f32_vs_st": stats(f32_st),
        "arxiv_int8_vs_st": stats(cosines(&e8, &st)),
        "arxiv_int8_vs_f32": stats(cosines(&e8, &e32)),
        "reference64_f32_vs_st": stats(to_ref(&f32_enc)?),
        "reference64_int8_vs_st": stats(to_ref(&int8_enc)?),
    });
    for (k, v) in cos.as_object().expect("an object") {
        println!("cosine {k:<22} {v}");
    }

    // The same default pipeline and seed on each embedding set.
    let sets = [("st", &st), ("f32", &e32), ("int8", &e8)];
    let mut fits = Vec::new();
    println!("seed  embeddings  topics  outliers  c_v     c_npmi   NMI/label  NMI/f32  ARI/f32");
    for &seed in &seeds {
        let mut f32_topics: Option<Vec<i64>> = None;
        let mut by_set = Vec::new();
        for (name, e) in sets {
            let m = Bertopic::builder()
                .seed(seed)
                .build()?
                .fit_with_embeddings(&texts, (*e).clone())?;
            let topics = m.document_topics().to_vec();
            if name == "f32" {
                f32_topics = Some(topics.clone());
            }
            by_set.push((name, m, topics));
        }
        let f32_topics = f32_topics.expect("an f32 fit");
        for (name, m, topics) in by_set {
            let cv = m.coherence(&texts, Measure::CV)?.mean;
            let npmi = m.coherence(&texts, Measure::CNpmi)?.mean;
            let nmi = normalized_mutual_info(&topics, &truth);
            let nmi_f32 = normalized_mutual_info(&topics, &f32_topics);
            let ari_f32 = adjusted_rand_index(&topics, &f32_topics);
            let outliers = 100.0 * m.outlier_fraction();
            println!(
                "{seed:<5} {name:<11} {:<7} {outliers:6.1} %  {cv:.4}  {npmi:.4}   {nmi:.4}     {nmi_f32:.4}   {ari_f32:.4}",
                m.n_topics()
            );
            let r = |x: f64| (x * 1e4).round() / 1e4;
            fits.push(json!({
                "seed": seed,
                "embeddings": name,
                "topics": m.n_topics(),
                "outliers_pct": r(outliers),
                "c_v": r(cv),
                "c_npmi": r(npmi),
                "nmi_label": r(nmi),
                "nmi_vs_f32_fit": r(nmi_f32),
                "ari_vs_f32_fit": r(ari_f32),
            }));
        }
    }

    // Mean over seeds of each set's scores, and int8 − f32 of those means.
    let mean = |set: &str, key: &str| -> f64 {
        let v: Vec<f64> = fits
            .iter()
            .filter(|f| f["embeddings"] == set)
            .filter_map(|f| f[key].as_f64())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let mut summary = serde_json::Map::new();
    for key in ["topics", "outliers_pct", "c_v", "c_npmi", "nmi_label"] {
        let (m32, m8, mst) = (mean("f32", key), mean("int8", key), mean("st", key));
        println!(
            "mean {key:<13} st {mst:.4}  f32 {m32:.4}  int8 {m8:.4}  int8−f32 {:+.4}  st−f32 {:+.4}",
            m8 - m32,
            mst - m32
        );
        let r = |x: f64| (x * 1e4).round() / 1e4;
        summary.insert(
            key.to_string(),
            json!({"st": r(mst), "f32": r(m32), "int8": r(m8), "int8_minus_f32": r(m8 - m32), "st_minus_f32": r(mst - m32)}),
        );
    }

    if let Some(out) = json_out {
        // Embeddings read from the cache were not timed: keep the timing of the earlier run
        // that made them, if its results are there.
        if speed.is_null() {
            speed = std::fs::read_to_string(&out)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .map_or(Value::Null, |v| v["embedding_time"].clone());
        }
        let doc = json!({
            "producer": "examples/int8_quality.rs",
            "command": format!("cargo run --example int8_quality -- {n} --seeds {} --cache target/int8-emb --json tests/reference/int8-quality-arxiv.json", seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(",")),
            "corpus": format!("shared/data/arxiv-cs-abstracts.csv, first {n} rows (Title + Abstract as the pipeline reads them)"),
            "pipeline": "BERTopic::builder().seed(seed) defaults: UMAP 15/5/0.0 cosine, HDBSCAN min_cluster_size 10, c-TF-IDF",
            "cpu": cpu_model(),
            "int8_kernel": format!("{:?}", int8_kernel()),
            "embedding_time": speed,
            "cosine": cos,
            "fits": fits,
            "mean_over_seeds": summary,
        });
        let text = serde_json::to_string_pretty(&doc)? + "\n";
        bertopic::fs::write_file(&out, text.as_bytes())?;
        println!("results written to {}", out.display());
    }
    Ok(())
}
