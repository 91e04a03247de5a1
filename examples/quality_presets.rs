//! Issue #22, part 4: which opt-in post-fit steps raise c_v and NPMI and lower the outlier share
//! on BOTH shared corpora at once (arXiv 20,000 and State of the Union 10,598, their MiniLM
//! `.npy` embeddings)?
//!
//! For each corpus and seed the default pipeline is fitted once and saved; every candidate
//! ([`PostFit`] steps: outlier reduction by embedding or c-TF-IDF similarity at fixed
//! thresholds, `nr_topics="auto"` merging, c-TF-IDF's BM25 idf and `reduce_frequent_words`, and
//! a few combinations fixed in advance) is applied to a fresh copy of that fit and scored:
//! topics, outlier share, c_v and c_npmi (this workspace's gensim-equal coherence, topn 10, on
//! the pipeline's tokenisation: BERTopic's English cleaning, then the CountVectorizer analyzer
//! with English stop words, as `tests/reference/quality_at_scale.py score` does; every
//! non-outlier topic with at least two known words) and NMI against arXiv's `Label` (all rows,
//! outliers one cluster; State of the Union's `Label` is the President's party, not a topic, so
//! its NMI is not reported). The same candidate set on both corpora, no per-corpus choice.
//!
//! Python BERTopic 0.17.4 on the same seeds is read, when present, from
//! `tests/reference/quality-at-scale-{arxiv,sotu}.json` (runs named `.../py-SEED`).
//!
//! ```text
//! cargo run --release --example quality_presets -- [--seeds 42,43,44] [--corpora arxiv,sotu]
//!     [--work target/quality-presets] [--json tests/reference/quality-presets.json]
//!     [--export target/quality-presets/runs]
//! ```
//! `--export` writes the `default` and `preset:best` fits as `topic_info.csv` +
//! `document_topics.csv` (folders `CORPUS/rs_default-SEED`, `CORPUS/rs_best-SEED`) for
//! `quality_at_scale.py score`, which scores them with gensim itself, beside Python's runs.
//! (the dev profile works too: it builds dependencies at opt-level 3). `--work` keeps the fitted
//! default models (one per corpus and seed, under `target/`), so a rerun with the same HEAD only
//! re-scores; delete it after a change to the pipeline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bertopic::cluster::metrics::normalized_mutual_info;
use bertopic::coherence::CoherenceOptions;
use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::represent::preprocess_text;
use bertopic::{
    Bertopic, Measure, OutlierReduction, OutlierStrategy, PostFit, QualityPreset, ReferenceCorpus,
    TopicModel,
};
use bertopic_suite::data;
use serde_json::{json, Value};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const METRICS: [&str; 5] = ["topics", "c_v", "npmi", "nmi", "outliers"];

/// The candidates, in table order. Thresholds are fixed in advance (no per-corpus search):
/// embedding cosines of MiniLM documents to topic centroids, c-TF-IDF cosines of a document's
/// row to a topic's.
fn candidates() -> Vec<(&'static str, PostFit)> {
    let out = |strategy, threshold| {
        Some(OutlierReduction {
            strategy,
            threshold,
        })
    };
    let emb = OutlierStrategy::Embeddings;
    let ctf = OutlierStrategy::CTfidf;
    let rfw = PostFit {
        reduce_frequent_words: true,
        ..PostFit::default()
    };
    vec![
        ("default", PostFit::default()),
        ("rfw", rfw),
        (
            "bm25",
            PostFit {
                bm25_weighting: true,
                ..PostFit::default()
            },
        ),
        (
            "bm25+rfw",
            PostFit {
                bm25_weighting: true,
                ..rfw
            },
        ),
        (
            "auto",
            PostFit {
                merge_auto: true,
                ..PostFit::default()
            },
        ),
        (
            "out-emb-0.0",
            PostFit {
                outliers: out(emb, 0.0),
                ..PostFit::default()
            },
        ),
        (
            "out-emb-0.5",
            PostFit {
                outliers: out(emb, 0.5),
                ..PostFit::default()
            },
        ),
        (
            "out-emb-0.6",
            PostFit {
                outliers: out(emb, 0.6),
                ..PostFit::default()
            },
        ),
        (
            "out-ctfidf-0.0",
            PostFit {
                outliers: out(ctf, 0.0),
                ..PostFit::default()
            },
        ),
        (
            "out-ctfidf-0.1",
            PostFit {
                outliers: out(ctf, 0.1),
                ..PostFit::default()
            },
        ),
        (
            "out-ctfidf-0.2",
            PostFit {
                outliers: out(ctf, 0.2),
                ..PostFit::default()
            },
        ),
        (
            "rfw+out-emb-0.5",
            PostFit {
                outliers: out(emb, 0.5),
                ..rfw
            },
        ),
        (
            "bm25+out-emb-0.5",
            PostFit {
                bm25_weighting: true,
                outliers: out(emb, 0.5),
                ..PostFit::default()
            },
        ),
        (
            "auto+out-emb-0.5",
            PostFit {
                merge_auto: true,
                outliers: out(emb, 0.5),
                ..PostFit::default()
            },
        ),
        ("preset:best", QualityPreset::Best.post_fit()),
    ]
}

struct Corpus {
    texts: Vec<String>,
    embeddings: ndarray::Array2<f32>,
    /// Label ids for NMI (arXiv only).
    truth: Option<Vec<i64>>,
}

fn load_corpus(name: &'static str) -> Res<Corpus> {
    let (csv, npy, labelled) = match name {
        "arxiv" => (
            "arxiv-cs-abstracts.csv",
            "arxiv-cs-abstracts.minilm.npy",
            true,
        ),
        "sotu" => ("sotu-chunks.csv", "sotu-chunks.minilm.npy", false),
        other => return Err(format!("unknown corpus {other}: use arxiv or sotu").into()),
    };
    let (docs, _) = read_corpus(
        &data(csv),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )?;
    let embeddings = read_npy(&data(npy))?;
    if embeddings.nrows() != docs.len() {
        return Err(format!(
            "{npy} has {} rows but {csv} {} documents",
            embeddings.nrows(),
            docs.len()
        )
        .into());
    }
    let truth = labelled.then(|| {
        let mut ids = BTreeMap::new();
        docs.iter()
            .map(|d| {
                let n = ids.len() as i64;
                *ids.entry(d.label.clone().unwrap_or_default()).or_insert(n)
            })
            .collect()
    });
    Ok(Corpus {
        texts: docs.into_iter().map(|d| d.text).collect(),
        embeddings,
        truth,
    })
}

/// Topics, outlier share, c_v, c_npmi and (with labels) NMI of a fitted model.
fn score(m: &TopicModel, reference: &ReferenceCorpus, truth: Option<&[i64]>) -> Res<Value> {
    let topics: Vec<Vec<String>> = m
        .topics()
        .iter()
        .filter(|t| t.id >= 0)
        .map(|t| {
            t.words
                .iter()
                .map(|(w, _)| w.clone())
                .filter(|w| reference.contains(w))
                .collect::<Vec<_>>()
        })
        .filter(|ws| ws.len() >= 2)
        .collect();
    let opts = CoherenceOptions::default();
    let cv = reference.coherence(&topics, Measure::CV, &opts)?.mean;
    let npmi = reference.coherence(&topics, Measure::CNpmi, &opts)?.mean;
    let doc_topics = m.document_topics();
    let outliers = doc_topics.iter().filter(|&&t| t < 0).count() as f64 / doc_topics.len() as f64;
    let nmi = truth.map(|t| normalized_mutual_info(doc_topics, t));
    Ok(json!({
        "topics": m.topics().iter().filter(|t| t.id >= 0).count(),
        "outliers": outliers,
        "c_v": cv,
        "npmi": npmi,
        "nmi": nmi,
    }))
}

/// `topic_info.csv` and `document_topics.csv` in the shape `bertopic train` writes them, for
/// `tests/reference/quality_at_scale.py score` (gensim itself) to check this scorer.
fn export_run(m: &TopicModel, dir: &Path) -> Res<()> {
    std::fs::create_dir_all(dir)?;
    let mut info = String::from("Topic,Count,Representation\n");
    for t in m.topics() {
        let words: Vec<&str> = t.words.iter().map(|(w, _)| w.as_str()).collect();
        info.push_str(&format!("{},{},{}\n", t.id, t.count, words.join(" ")));
    }
    std::fs::write(dir.join("topic_info.csv"), info)?;
    let mut dt = String::from("row,topic\n");
    for (i, t) in m.document_topics().iter().enumerate() {
        dt.push_str(&format!("{},{t}\n", i + 1));
    }
    std::fs::write(dir.join("document_topics.csv"), dt)?;
    Ok(())
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// Mean / sd / n of each metric over runs (metrics that are null are skipped).
fn summarise(runs: &[&Value]) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("runs".into(), json!(runs.len()));
    for k in METRICS {
        let xs: Vec<f64> = runs.iter().filter_map(|r| r[k].as_f64()).collect();
        if !xs.is_empty() {
            let (m, sd) = mean_sd(&xs);
            out.insert(k.into(), json!({"mean": m, "sd": sd}));
        }
    }
    Value::Object(out)
}

/// Python's runs for `seeds` from the issue-#22 reference JSON, when it exists.
fn python_runs(corpus: &str, seeds: &[u64]) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/reference/quality-at-scale-{corpus}.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let runs: Vec<&Value> = v["runs"]
        .as_object()?
        .iter()
        .filter(|(name, _)| {
            name.rsplit_once("/py-")
                .and_then(|(_, s)| s.parse::<u64>().ok())
                .is_some_and(|s| seeds.contains(&s))
        })
        .map(|(_, r)| r)
        .collect();
    (!runs.is_empty()).then(|| summarise(&runs))
}

fn fmt_cell(s: &Value, k: &str) -> String {
    match (s[k]["mean"].as_f64(), s[k]["sd"].as_f64()) {
        (Some(m), Some(sd)) if k == "topics" => format!("{m:.1} ± {sd:.1}"),
        (Some(m), Some(sd)) if k == "outliers" => format!("{:.1} ± {:.1} %", 100.0 * m, 100.0 * sd),
        (Some(m), Some(sd)) => format!("{m:.4} ± {:.4}", sd),
        _ => "n/a".into(),
    }
}

/// Output of a git command in the checkout this example was built from ("" on failure).
fn git(args: &[&str]) -> String {
    std::process::Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_string())
        .unwrap_or_default()
}

fn main() -> Res<()> {
    let mut seeds: Vec<u64> = vec![42, 43, 44];
    let mut corpora = vec!["arxiv", "sotu"];
    let mut work = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/quality-presets"
    ));
    let mut json_out: Option<PathBuf> = None;
    let mut export: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seeds" => {
                seeds = val()?
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()?
            }
            "--corpora" => {
                corpora = val()?
                    .split(',')
                    .map(|c| match c.trim() {
                        "arxiv" => Ok("arxiv"),
                        "sotu" => Ok("sotu"),
                        o => Err(format!("unknown corpus {o}: use arxiv or sotu")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--work" => work = val()?.into(),
            "--json" => json_out = Some(val()?.into()),
            "--export" => export = Some(val()?.into()),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let commit = git(&["rev-parse", "HEAD"]);
    // Tracked files that differ from HEAD: the measured code is HEAD plus these.
    let changed: Vec<String> = git(&["status", "--porcelain", "--untracked-files=no"])
        .lines()
        .map(|l| l.get(3..).unwrap_or(l).to_string())
        .collect();
    let cands = candidates();
    let mut results = serde_json::Map::new();
    for &name in &corpora {
        let corpus = load_corpus(name)?;
        let t = Instant::now();
        let mut reference: Option<ReferenceCorpus> = None;
        let mut per_cand: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        let mut fit_s = Vec::new();
        for &seed in &seeds {
            let dir = work.join(format!("{name}-{seed}"));
            let stamp = dir.join("COMMIT");
            let fresh = std::fs::read_to_string(&stamp).is_ok_and(|c| c.trim() == commit);
            let base = if fresh {
                TopicModel::load(&dir.join("model"))?
            } else {
                let t = Instant::now();
                let m = Bertopic::builder()
                    .seed(seed)
                    .build()?
                    .fit_with_embeddings(&corpus.texts, corpus.embeddings.clone())?;
                fit_s.push(t.elapsed().as_secs_f64());
                std::fs::create_dir_all(&dir)?;
                m.save(&dir.join("model"))?;
                std::fs::write(&stamp, &commit)?;
                m
            };
            let reference = match &reference {
                Some(r) => r,
                None => {
                    // BERTopic's `_preprocess_text` first, as the Python scorer does: the
                    // pipeline's own reference corpus skips it and scores c_v ~0.015 lower.
                    let cleaned: Vec<String> = corpus
                        .texts
                        .iter()
                        .map(|d| preprocess_text(d, true))
                        .collect();
                    reference.insert(base.reference_corpus(&cleaned)?)
                }
            };
            for (cname, steps) in &cands {
                let t = Instant::now();
                let fitted;
                let m = if steps.is_noop() {
                    &base
                } else {
                    let mut m = TopicModel::load(&dir.join("model"))?;
                    m.apply_post_fit(&corpus.texts, steps)?;
                    fitted = m;
                    &fitted
                };
                let mut s = score(m, reference, corpus.truth.as_deref())?;
                if let (Some(root), "default" | "preset:best") = (&export, *cname) {
                    let tag = cname.trim_start_matches("preset:");
                    export_run(m, &root.join(name).join(format!("rs_{tag}-{seed}")))?;
                }
                s["seed"] = json!(seed);
                eprintln!(
                    "{name} seed {seed} {cname:<22} topics {:>4} outliers {:.4} c_v {:.4} npmi {:.4} nmi {} ({:.1} s)",
                    s["topics"],
                    s["outliers"].as_f64().unwrap_or(f64::NAN),
                    s["c_v"].as_f64().unwrap_or(f64::NAN),
                    s["npmi"].as_f64().unwrap_or(f64::NAN),
                    s["nmi"].as_f64().map_or("n/a".into(), |v| format!("{v:.4}")),
                    t.elapsed().as_secs_f64()
                );
                per_cand.entry(cname).or_default().push(s);
            }
        }
        let mut summary = serde_json::Map::new();
        for (cname, _) in &cands {
            let runs: Vec<&Value> = per_cand[cname].iter().collect();
            let mut s = summarise(&runs);
            s["per_seed"] = json!(per_cand[cname]);
            summary.insert((*cname).into(), s);
        }
        let mut python = python_runs(name, &seeds);
        if corpus.truth.is_none() {
            // The Python scorer reports NMI against any Label column; State of the Union's is
            // the party, not a topic, so it is left out here as it is for our runs.
            if let Some(Value::Object(p)) = python.as_mut() {
                p.remove("nmi");
            }
        }
        println!(
            "\n{name}: {} documents, seeds {seeds:?}, {:.0} s",
            corpus.texts.len(),
            t.elapsed().as_secs_f64()
        );
        println!("| candidate | topics | c_v | NPMI | NMI | outliers |");
        println!("|---|---|---|---|---|---|");
        let mut rows: Vec<(String, &Value)> = Vec::new();
        if let Some(p) = &python {
            rows.push(("Python BERTopic 0.17.4".into(), p));
        }
        for (cname, _) in &cands {
            rows.push(((*cname).to_string(), &summary[*cname]));
        }
        for (label, s) in rows {
            let cells: Vec<String> = METRICS.iter().map(|k| fmt_cell(s, k)).collect();
            println!("| {label} | {} |", cells.join(" | "));
        }
        results.insert(
            name.into(),
            json!({
                "documents": corpus.texts.len(),
                "fit_seconds": fit_s,
                "python": python,
                "candidates": summary,
            }),
        );
    }
    let steps: serde_json::Map<String, Value> = cands
        .iter()
        .map(|(n, s)| ((*n).to_string(), json!(s)))
        .collect();
    let out = json!({
        "issue": 22,
        "commit": commit,
        "changed_files": changed,
        "seeds": seeds,
        "scoring": "this workspace's gensim-equal coherence (c_v, c_npmi, topn 10) on the \
                    pipeline's tokenisation (BERTopic _preprocess_text + CountVectorizer English \
                    analyzer), every non-outlier topic with >= 2 known words; NMI vs arXiv Label, \
                    all rows, outliers one cluster; sample sd over seeds",
        "steps": steps,
        "corpora": results,
    });
    if let Some(path) = json_out {
        std::fs::write(&path, serde_json::to_string_pretty(&out)? + "\n")?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
