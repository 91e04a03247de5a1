//! `bertopic report`: one self-contained HTML file (inline SVG from [`crate::viz`], no script,
//! no network) with the equivalents of BERTopic's `visualize_*` family: intertopic distance
//! map, top words, hierarchy, similarity heatmap, document map, topics over time and per
//! class, and, when the model folder has them, the tuning curve and the drift history.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array2, Axis};

use crate::analysis::{self, OverTimeParams, SimilarityBasis};
use crate::corpus::Corpus;
use crate::error::{BertopicError, Result};
use crate::preprocess::ReadOptions;
use crate::viz::{self, esc, Point, Scatter, Segment, Series};
use crate::TopicModel;

/// What the report draws and how much.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Time bins of the topics-over-time chart (fewer distinct dates: one point each).
    pub nr_bins: usize,
    /// Documents drawn on the document map at most (an even sample above it).
    pub max_docs: usize,
    /// Topics with a top-words chart.
    pub bar_topics: usize,
    /// Topics in the similarity heatmap (the largest).
    pub heatmap_topics: usize,
    /// Topics drawn over time and per class (the largest; the rest are summed).
    pub line_topics: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            nr_bins: 20,
            max_docs: 3000,
            bar_topics: 12,
            heatmap_topics: 30,
            line_topics: 10,
        }
    }
}

/// A report job: what `bertopic report` does.
#[derive(Debug, Clone)]
pub struct ReportJob {
    /// The model folder (its `experiment.json` and `monitoring.jsonl` are drawn when present).
    pub model: PathBuf,
    /// The training corpus: adds document texts to the map, time and class charts.
    pub input: Option<PathBuf>,
    /// How to read it (as `train` read it).
    pub read: ReadOptions,
    /// The HTML file to write.
    pub output: PathBuf,
    /// What to draw.
    pub options: ReportOptions,
}

/// What [`run`] wrote.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// Bytes of the HTML file.
    pub bytes: usize,
    /// Seconds from loading the model to the written file.
    pub seconds: f64,
    /// Titles of the sections drawn.
    pub sections: Vec<String>,
    /// Charts left out and why.
    pub skipped: Vec<String>,
}

/// Loads the model (and corpus), builds the report and writes it atomically.
pub fn run(job: &ReportJob) -> Result<ReportOutcome> {
    let start = Instant::now();
    let inputs: Vec<&Path> = job.input.as_deref().into_iter().collect();
    crate::fs::check_output_file(&job.output, &inputs)?;
    let model = TopicModel::load(&job.model)?;
    let corpus = match &job.input {
        Some(p) => Some(Corpus::read(p, &job.read)?),
        None => None,
    };
    let report = build(&model, Some(&job.model), corpus.as_ref(), &job.options)?;
    crate::report::write_atomic(&job.output, report.html.as_bytes())?;
    Ok(ReportOutcome {
        bytes: report.html.len(),
        seconds: start.elapsed().as_secs_f64(),
        sections: report.sections,
        skipped: report.skipped,
    })
}

/// A built report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The whole HTML document.
    pub html: String,
    /// Titles of the sections drawn.
    pub sections: Vec<String>,
    /// Charts left out and why.
    pub skipped: Vec<String>,
}

struct Builder {
    body: String,
    sections: Vec<(String, String)>,
    skipped: Vec<String>,
}

impl Builder {
    fn section(&mut self, id: &str, title: &str, note: &str, content: &str) {
        let _ = writeln!(
            self.body,
            "<section id=\"{id}\"><h2>{}</h2><p class=\"note\">{}</p>{content}</section>",
            esc(title),
            esc(note)
        );
        self.sections.push((id.to_string(), title.to_string()));
    }
}

/// Builds the report of `model`; `corpus` must be its training corpus (checked).
pub fn build(
    model: &TopicModel,
    model_dir: Option<&Path>,
    corpus: Option<&Corpus>,
    opts: &ReportOptions,
) -> Result<Report> {
    let mut b = Builder {
        body: String::new(),
        sections: Vec::new(),
        skipped: Vec::new(),
    };
    let texts = corpus.map(Corpus::texts);
    if let Some(t) = &texts {
        if t.len() != model.doc_topics.len() {
            return Err(BertopicError::Mismatch(format!(
                "the report needs the model's training corpus: {} documents, the model has {}",
                t.len(),
                model.doc_topics.len()
            )));
        }
    }
    // Largest topics first (ids are numbered by size; outliers out).
    let mut by_size: Vec<&crate::Topic> = model.topics.iter().filter(|t| t.id >= 0).collect();
    by_size.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    let label = |id: i64| -> String {
        let l = model.topic_label(id).unwrap_or("");
        format!("{id}: {l}")
    };

    overview(&mut b, model, &by_size);
    distance_map(&mut b, model, &label)?;
    top_words(&mut b, &by_size, opts, &label);
    hierarchy(&mut b, model, &label);
    heatmap(&mut b, model, &by_size, opts, &label);
    document_map(&mut b, model, texts.as_deref(), opts, &label)?;
    if let (Some(c), Some(t)) = (corpus, &texts) {
        over_time(&mut b, model, c, t, opts, &label)?;
        per_class(&mut b, model, c, t, opts, &label)?;
    } else {
        b.skipped
            .push("topics over time and per class: no --input corpus".into());
    }
    if let Some(dir) = model_dir {
        tuning_curve(&mut b, dir);
        drift_history(&mut b, dir)?;
    }
    let mut html = String::with_capacity(b.body.len() + 4096);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>BERTopic report</title>\
         <style>body{{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1320px}}\
         h1{{margin-bottom:4px}}h2{{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:36px}}\
         .note{{color:#555;max-width:900px}}nav a{{margin-right:14px}}.grid{{display:flex;flex-wrap:wrap;gap:8px}}\
         table{{border-collapse:collapse;font-size:13px}}td,th{{border-bottom:1px solid #eee;padding:3px 8px;text-align:left}}\
         td.n{{text-align:right}}svg{{max-width:100%;height:auto}}</style></head><body>\n\
         <h1>BERTopic report</h1><p class=\"note\">bertopic {} · hover over any mark for details</p><nav>",
        crate::VERSION
    );
    for (id, title) in &b.sections {
        let _ = write!(html, "<a href=\"#{id}\">{}</a>", esc(title));
    }
    html.push_str("</nav>\n");
    html.push_str(&b.body);
    if !b.skipped.is_empty() {
        html.push_str("<section><h2>Not drawn</h2><ul>");
        for s in &b.skipped {
            let _ = write!(html, "<li>{}</li>", esc(s));
        }
        html.push_str("</ul></section>");
    }
    html.push_str("</body></html>\n");
    Ok(Report {
        html,
        sections: b.sections.into_iter().map(|s| s.1).collect(),
        skipped: b.skipped,
    })
}

fn overview(b: &mut Builder, model: &TopicModel, by_size: &[&crate::Topic]) {
    let mut s = String::new();
    let emb = model
        .embedding_info()
        .map(|e| e.model_id.clone())
        .unwrap_or_else(|| model.params.embedding_model.clone());
    let _ = write!(
        s,
        "<p>{} documents · {} topics · {:.1} % outliers · embeddings: {} · min_topic_size {} · \
         representation {}</p><table><tr><th>Topic</th><th>Documents</th><th>Label</th><th>Words</th></tr>",
        model.doc_topics.len(),
        model.n_topics(),
        100.0 * model.outlier_fraction(),
        esc(&emb),
        model.params.min_topic_size,
        model.params.representation.name()
    );
    let outliers = model.topics.iter().find(|t| t.id < 0);
    for t in by_size.iter().take(40).copied().chain(outliers) {
        let words: Vec<&str> = t.words.iter().take(8).map(|w| w.0.as_str()).collect();
        let _ = write!(
            s,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            t.id,
            t.count,
            esc(t.label.as_deref().unwrap_or(&t.name)),
            esc(&words.join(", "))
        );
    }
    s.push_str("</table>");
    if by_size.len() > 40 {
        let _ = write!(
            s,
            "<p class=\"note\">… and {} smaller topics.</p>",
            by_size.len() - 40
        );
    }
    b.section(
        "overview",
        "Topics",
        "The largest topics and the outliers (-1).",
        &s,
    );
}

/// The first two principal components of `data` (rows), or `None` for fewer than 2 rows or
/// columns. Power iteration with deflation on the smaller of the covariance (d × d) and Gram
/// (n × n) matrices: the exact Jacobi PCA of `bertopic-reduce` takes seconds on 384-d topic
/// embeddings, and a picture needs no more than these two directions. Deterministic (fixed
/// start vector, fixed iteration count, signs normalised).
fn pca2(data: &Array2<f32>) -> Option<Array2<f32>> {
    let (n, d) = data.dim();
    if n < 2 || d < 2 {
        return None;
    }
    let mean: Vec<f64> = (0..d)
        .map(|j| data.column(j).iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64)
        .collect();
    let z: Vec<Vec<f64>> = data
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(&v, m)| f64::from(v) - m)
                .collect()
        })
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    // The symmetric matrix whose top eigenvectors give the components.
    let gram = n <= d;
    let m = if gram { n } else { d };
    let mut a = vec![vec![0.0f64; m]; m];
    for i in 0..m {
        for j in i..m {
            let v = if gram {
                dot(&z[i], &z[j])
            } else {
                z.iter().map(|r| r[i] * r[j]).sum()
            };
            a[i][j] = v;
            a[j][i] = v;
        }
    }
    let mut out = Array2::<f32>::zeros((n, 2));
    for c in 0..2 {
        let mut v: Vec<f64> = (0..m).map(|i| 1.0 + (i % 7) as f64 * 0.1).collect();
        let mut lambda = 0.0;
        for _ in 0..300 {
            let w: Vec<f64> = a.iter().map(|row| dot(row, &v)).collect();
            let norm = dot(&w, &w).sqrt();
            if norm == 0.0 {
                break;
            }
            lambda = norm;
            v = w.into_iter().map(|x| x / norm).collect();
        }
        // Largest loading positive, so the picture does not flip between runs or builds.
        if let Some(big) = v.iter().copied().max_by(|x, y| x.abs().total_cmp(&y.abs())) {
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
        }
        for i in 0..n {
            out[[i, c]] = if gram {
                (v[i] * lambda.sqrt()) as f32
            } else {
                dot(&z[i], &v) as f32
            };
        }
        // Deflate: remove this component before looking for the next.
        for i in 0..m {
            for j in 0..m {
                a[i][j] -= lambda * v[i] * v[j];
            }
        }
    }
    Some(out)
}

fn distance_map(b: &mut Builder, model: &TopicModel, label: &dyn Fn(i64) -> String) -> Result<()> {
    let rows: Vec<usize> = (0..model.topics.len())
        .filter(|&r| model.topics[r].id >= 0)
        .collect();
    let te = model.topic_embeddings.select(Axis(0), &rows);
    let Some(xy) = pca2(&te) else {
        b.skipped
            .push("intertopic distance map: fewer than 2 topics".into());
        return Ok(());
    };
    let max = rows
        .iter()
        .map(|&r| model.topics[r].count)
        .max()
        .unwrap_or(1) as f64;
    let points: Vec<Point> = rows
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let t = &model.topics[r];
            let words: Vec<&str> = t.words.iter().take(6).map(|w| w.0.as_str()).collect();
            Point {
                x: f64::from(xy[[i, 0]]),
                y: f64::from(xy[[i, 1]]),
                r: 4.0 + 36.0 * (t.count as f64 / max).sqrt(),
                color: viz::topic_color(t.id).to_string(),
                title: format!(
                    "Topic {} ({} documents)\n{}",
                    label(t.id),
                    t.count,
                    words.join(", ")
                ),
                label: if i < 40 {
                    t.id.to_string()
                } else {
                    String::new()
                },
            }
        })
        .collect();
    let svg = viz::scatter(&Scatter {
        title: "Intertopic distance map".into(),
        width: 1000.0,
        height: 680.0,
        opacity: 0.55,
        points,
        legend: Vec::new(),
        axes: ("PC 1 of topic embeddings".into(), "PC 2".into()),
    });
    b.section(
        "distance-map",
        "Intertopic distance map",
        "Each bubble is a topic placed by the first two principal components of its embedding \
         (mean document embedding); area ∝ documents. Close bubbles are similar topics.",
        &svg,
    );
    Ok(())
}

fn top_words(
    b: &mut Builder,
    by_size: &[&crate::Topic],
    opts: &ReportOptions,
    label: &dyn Fn(i64) -> String,
) {
    let mut s = String::from("<div class=\"grid\">");
    for t in by_size.iter().take(opts.bar_topics) {
        let bars: Vec<(String, f64)> = t.words.iter().take(8).cloned().collect();
        let title: String = format!("Topic {}", label(t.id)).chars().take(40).collect();
        s.push_str(&viz::bars(&title, &bars, viz::topic_color(t.id), 320.0));
    }
    s.push_str("</div>");
    b.section(
        "words",
        "Top words",
        "c-TF-IDF weights of the top words of the largest topics.",
        &s,
    );
}

fn hierarchy(b: &mut Builder, model: &TopicModel, label: &dyn Fn(i64) -> String) {
    match model.hierarchical_topics() {
        Ok(h) => {
            let leaves: Vec<String> = h.leaves.iter().map(|(t, _)| label(*t)).collect();
            let merges: Vec<(usize, usize, f64)> = h
                .nodes
                .iter()
                .map(|n| (n.left, n.right, n.distance))
                .collect();
            let titles: Vec<String> = h
                .nodes
                .iter()
                .map(|n| format!("{} topics: {}", n.topics.len(), n.name))
                .collect();
            let svg = viz::dendrogram("Topic hierarchy", &leaves, &merges, &titles, 1100.0);
            b.section(
                "hierarchy",
                "Hierarchy",
                "Ward clustering of the topics' c-TF-IDF vectors (distance 1 − cosine), as \
                 BERTopic's hierarchical_topics; hover a branch for the merged topics' words.",
                &svg,
            );
        }
        Err(e) => b.skipped.push(format!("hierarchy: {e}")),
    }
}

fn heatmap(
    b: &mut Builder,
    model: &TopicModel,
    by_size: &[&crate::Topic],
    opts: &ReportOptions,
    label: &dyn Fn(i64) -> String,
) {
    let sim = model.topic_similarity(SimilarityBasis::Embeddings);
    let mut keep: Vec<i64> = by_size
        .iter()
        .take(opts.heatmap_topics)
        .map(|t| t.id)
        .collect();
    keep.sort_unstable();
    let idx: Vec<usize> = keep
        .iter()
        .filter_map(|t| sim.topics.iter().position(|x| x == t))
        .collect();
    if idx.len() < 2 {
        b.skipped
            .push("similarity heatmap: fewer than 2 topics".into());
        return;
    }
    let m: Vec<Vec<f64>> = idx
        .iter()
        .map(|&i| idx.iter().map(|&j| sim.matrix[[i, j]]).collect())
        .collect();
    let lo = m.iter().flatten().copied().fold(f64::MAX, f64::min);
    let labels: Vec<String> = idx.iter().map(|&i| label(sim.topics[i])).collect();
    let svg = viz::heatmap("Topic similarity", &labels, &m, lo, 1.0);
    b.section(
        "similarity",
        "Similarity matrix",
        "Cosine similarity of the topic embeddings of the largest topics.",
        &svg,
    );
}

/// 2-D coordinates of the training documents: the fitted UMAP layout (already clustered)
/// projected on its first two principal components; the embeddings' otherwise.
fn doc_coordinates(model: &TopicModel, rows: &[usize]) -> Option<Array2<f32>> {
    let state = model.reducer.save_state();
    let layout = state
        .arrays
        .iter()
        .find(|a| a.name == "embedding")
        .and_then(|a| match a.shape.as_slice() {
            [n, k] if *n == model.doc_topics.len() => {
                Array2::from_shape_vec((*n, *k), a.data.clone()).ok()
            }
            _ => None,
        });
    let data = match layout {
        Some(l) => l.select(Axis(0), rows),
        None if model.embeddings.nrows() == model.doc_topics.len() => {
            model.embeddings.select(Axis(0), rows)
        }
        None => return None,
    };
    if data.ncols() == 2 {
        return Some(data);
    }
    pca2(&data)
}

fn document_map(
    b: &mut Builder,
    model: &TopicModel,
    texts: Option<&[String]>,
    opts: &ReportOptions,
    label: &dyn Fn(i64) -> String,
) -> Result<()> {
    let n = model.doc_topics.len();
    let take = n.min(opts.max_docs.max(1));
    // An even, deterministic sample.
    let rows: Vec<usize> = (0..take).map(|i| i * n / take).collect();
    let Some(xy) = doc_coordinates(model, &rows) else {
        b.skipped
            .push("document map: the model keeps no layout or embeddings".into());
        return Ok(());
    };
    let points: Vec<Point> = rows
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let t = model.doc_topics[d];
            let mut title = format!("Document {} · topic {}", d + 1, label(t));
            if let Some(tx) = texts {
                let snippet: String = tx[d].chars().take(120).collect();
                title.push('\n');
                title.push_str(&snippet);
            }
            Point {
                x: f64::from(xy[[i, 0]]),
                y: f64::from(xy[[i, 1]]),
                r: if t < 0 { 1.6 } else { 2.4 },
                color: viz::topic_color(t).to_string(),
                title,
                label: String::new(),
            }
        })
        .collect();
    let legend: Vec<(String, String)> = model
        .topics
        .iter()
        .filter(|t| t.id >= 0)
        .take(20)
        .map(|t| (viz::topic_color(t.id).to_string(), label(t.id)))
        .chain(std::iter::once((
            viz::GREY.to_string(),
            "-1: outliers".into(),
        )))
        .collect();
    let svg = viz::scatter(&Scatter {
        title: "Documents".into(),
        width: 1200.0,
        height: 760.0,
        opacity: 0.75,
        points,
        legend,
        axes: ("PC 1 of the UMAP layout".into(), "PC 2".into()),
    });
    let note = format!(
        "{} of {n} training documents{}, placed by the first two principal components of the \
         model's UMAP layout and coloured by topic (grey: outliers; colours repeat after 20).",
        rows.len(),
        if rows.len() < n {
            " (an even sample)"
        } else {
            ""
        }
    );
    b.section("documents", "Document map", &note, &svg);
    Ok(())
}

fn over_time(
    b: &mut Builder,
    model: &TopicModel,
    corpus: &Corpus,
    texts: &[String],
    opts: &ReportOptions,
    label: &dyn Fn(i64) -> String,
) -> Result<()> {
    let stamps = match analysis::corpus_timestamps(corpus) {
        Ok(s) => s,
        Err(e) => {
            b.skipped.push(format!("topics over time: {e}"));
            return Ok(());
        }
    };
    let distinct: std::collections::BTreeSet<_> = stamps.iter().collect();
    let params = OverTimeParams {
        nr_bins: (distinct.len() > opts.nr_bins).then_some(opts.nr_bins.max(1)),
        ..OverTimeParams::default()
    };
    let rows = model.topics_over_time(texts, &stamps, None, &params)?;
    let mut times: Vec<analysis::Timestamp> = rows.iter().map(|r| r.timestamp).collect();
    times.sort();
    times.dedup();
    let span_years = times
        .last()
        .zip(times.first())
        .map_or(0, |(a, b)| a.ymd().0 - b.ymd().0);
    let fmt = |t: analysis::Timestamp| {
        let (y, m, d) = t.ymd();
        if span_years >= 5 {
            format!("{y}")
        } else if span_years >= 1 {
            format!("{y}-{m:02}")
        } else {
            format!("{y}-{m:02}-{d:02}")
        }
    };
    let top: Vec<i64> = model
        .topics
        .iter()
        .filter(|t| t.id >= 0)
        .take(opts.line_topics)
        .map(|t| t.id)
        .collect();
    let series: Vec<Series> = top
        .iter()
        .map(|&id| Series {
            name: label(id),
            color: viz::topic_color(id).to_string(),
            points: times
                .iter()
                .map(|&ts| {
                    let row = rows.iter().find(|r| r.topic == id && r.timestamp == ts);
                    let freq = row.map_or(0, |r| r.frequency) as f64;
                    let words = row.map_or(String::new(), |r| analysis::words_column(&r.words));
                    (
                        ts.seconds() as f64,
                        freq,
                        format!(
                            "Topic {} · {} · {freq} documents\n{words}",
                            label(id),
                            fmt(ts)
                        ),
                    )
                })
                .collect(),
        })
        .collect();
    let ticks: Vec<(f64, String)> = times
        .iter()
        .map(|&t| (t.seconds() as f64, fmt(t)))
        .collect();
    let svg = viz::lines(
        "Topics over time",
        &series,
        &ticks,
        ("time (bin start)", "documents"),
        1200.0,
        480.0,
    );
    let note = format!(
        "Documents per topic in {} time {} (the {} largest topics); hover a point for the \
         topic's words at that time (BERTopic's topics_over_time).",
        times.len(),
        if params.nr_bins.is_some() {
            "bins"
        } else {
            "steps"
        },
        top.len()
    );
    b.section("over-time", "Topics over time", &note, &svg);
    Ok(())
}

fn per_class(
    b: &mut Builder,
    model: &TopicModel,
    corpus: &Corpus,
    texts: &[String],
    opts: &ReportOptions,
    label: &dyn Fn(i64) -> String,
) -> Result<()> {
    let classes = match analysis::corpus_classes(corpus) {
        Ok(c) => c,
        Err(e) => {
            b.skipped.push(format!("topics per class: {e}"));
            return Ok(());
        }
    };
    let rows = model.topics_per_class(texts, &classes, None, true)?;
    let top: Vec<i64> = model
        .topics
        .iter()
        .filter(|t| t.id >= 0)
        .take(opts.line_topics)
        .map(|t| t.id)
        .collect();
    let mut names: Vec<(String, usize)> = Vec::new();
    for r in &rows {
        match names.iter_mut().find(|n| n.0 == r.class) {
            Some(n) => n.1 += r.frequency,
            None => names.push((r.class.clone(), r.frequency)),
        }
    }
    names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    names.truncate(25);
    let bars: Vec<(String, Vec<Segment>)> = names
        .iter()
        .map(|(class, _)| {
            let mut segs: Vec<Segment> = top
                .iter()
                .map(|&id| {
                    let r = rows.iter().find(|r| r.class == *class && r.topic == id);
                    Segment {
                        value: r.map_or(0, |r| r.frequency) as f64,
                        color: viz::topic_color(id).to_string(),
                        title: format!(
                            "{class} · topic {} · {} documents\n{}",
                            label(id),
                            r.map_or(0, |r| r.frequency),
                            r.map_or(String::new(), |r| analysis::words_column(&r.words))
                        ),
                    }
                })
                .collect();
            let other: usize = rows
                .iter()
                .filter(|r| r.class == *class && r.topic >= 0 && !top.contains(&r.topic))
                .map(|r| r.frequency)
                .sum();
            let outl: usize = rows
                .iter()
                .filter(|r| r.class == *class && r.topic < 0)
                .map(|r| r.frequency)
                .sum();
            segs.push(Segment {
                value: other as f64,
                color: "#e8e8e8".into(),
                title: format!("{class} · other topics · {other} documents"),
            });
            segs.push(Segment {
                value: outl as f64,
                color: viz::GREY.into(),
                title: format!("{class} · outliers · {outl} documents"),
            });
            (class.clone(), segs)
        })
        .collect();
    let mut legend: Vec<(String, String)> = top
        .iter()
        .map(|&id| (viz::topic_color(id).to_string(), label(id)))
        .collect();
    legend.push(("#e8e8e8".into(), "other topics".into()));
    legend.push((viz::GREY.into(), "-1: outliers".into()));
    let svg = viz::stacked_bars("Topics per class", &bars, &legend, 1200.0);
    b.section(
        "per-class",
        "Topics per class",
        "Share of each class's documents per topic (the largest classes and topics); hover a \
         segment for the topic's words within the class (BERTopic's topics_per_class).",
        &svg,
    );
    Ok(())
}

fn tuning_curve(b: &mut Builder, dir: &Path) {
    let path = dir.join("experiment.json");
    let Ok(raw) = std::fs::read(&path) else {
        b.skipped
            .push("tuning curve: the model was not tuned (no experiment.json)".into());
        return;
    };
    let exp: crate::tune::Experiment = match serde_json::from_slice(&raw) {
        Ok(e) => e,
        Err(e) => {
            b.skipped.push(format!(
                "tuning curve: {} is unreadable: {e}",
                path.display()
            ));
            return;
        }
    };
    let svg = crate::report::curve_svg(&exp);
    b.section(
        "tuning",
        "Tuning curve",
        "Coherence of each tuning trial (experiment.json).",
        &svg,
    );
}

fn drift_history(b: &mut Builder, dir: &Path) -> Result<()> {
    let history = crate::monitor::read_history(dir)?;
    if history.is_empty() {
        b.skipped
            .push("drift history: no monitoring.jsonl beside the model".into());
        return Ok(());
    }
    let mut names: Vec<String> = Vec::new();
    for h in &history {
        for k in h.signals.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let level_num = |l: &crate::drift::Level| -> f64 {
        match serde_json::to_value(l)
            .ok()
            .and_then(|v| v.as_str().map(str::to_lowercase))
        {
            Some(s) if s == "high" => 2.0,
            Some(s) if s == "medium" => 1.0,
            _ => 0.0,
        }
    };
    let mut series = vec![Series {
        name: "level: 0 low, 1 med, 2 high".into(),
        color: "#000000".into(),
        points: history
            .iter()
            .enumerate()
            .map(|(i, h)| {
                (
                    i as f64,
                    level_num(&h.level),
                    format!(
                        "{} · {} documents · {:?}\n{}",
                        h.timestamp,
                        h.docs,
                        h.level,
                        h.reasons.join("; ")
                    ),
                )
            })
            .collect(),
    }];
    for (k, name) in names.iter().enumerate() {
        let points: Vec<(f64, f64, String)> = history
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let s = h.signals.get(name)?;
                let v = s.value?;
                Some((
                    i as f64,
                    v,
                    format!(
                        "{} · {name}: {} = {v:.4} ({:?})",
                        h.timestamp, s.metric, s.level
                    ),
                ))
            })
            .collect();
        if !points.is_empty() {
            series.push(Series {
                name: name.clone(),
                color: viz::color(k).to_string(),
                points,
            });
        }
    }
    let ticks: Vec<(f64, String)> = history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let src = h.source.as_deref().unwrap_or("");
            let short: String = src
                .rsplit('/')
                .next()
                .unwrap_or(src)
                .chars()
                .take(20)
                .collect();
            (
                i as f64,
                if short.is_empty() {
                    h.timestamp.clone()
                } else {
                    short
                },
            )
        })
        .collect();
    let svg = viz::lines(
        "Drift history",
        &series,
        &ticks,
        ("monitored batch", "signal value"),
        1200.0,
        440.0,
    );
    b.section(
        "drift",
        "Drift history",
        "Each `bertopic monitor` run on this model (monitoring.jsonl): the overall level and \
         each signal's headline value.",
        &svg,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reduce::{Pca, PcaParams, Reducer};

    /// Same two directions as the exact PCA (up to sign) on both paths: more columns than rows
    /// (Gram matrix) and more rows than columns (covariance).
    #[test]
    fn pca2_matches_exact_pca() {
        for (n, d) in [(12usize, 40usize), (300, 6)] {
            let data = Array2::from_shape_fn((n, d), |(i, j)| {
                let a = ((i * 37 % 101) as f32 / 101.0) - 0.5;
                let b = ((i * 53 % 89) as f32 / 89.0) - 0.5;
                let noise = ((i * 7 + j * 13) % 17) as f32 * 0.002;
                10.0 * a * (j % 3 == 0) as u8 as f32 + 3.0 * b * (j % 3 == 1) as u8 as f32 + noise
            });
            let ours = pca2(&data).unwrap();
            let pca = Pca::new(PcaParams {
                n_components: 2,
                ..PcaParams::default()
            })
            .unwrap();
            let (_, exact) = pca.fit(data.view()).unwrap();
            for c in 0..2 {
                let x: Vec<f64> = ours.column(c).iter().map(|&v| f64::from(v)).collect();
                let y: Vec<f64> = exact.column(c).iter().map(|&v| f64::from(v)).collect();
                let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
                let nx = x.iter().map(|v| v * v).sum::<f64>().sqrt();
                let ny = y.iter().map(|v| v * v).sum::<f64>().sqrt();
                assert!((dot / (nx * ny)).abs() > 0.9999, "{n}x{d} component {c}");
                assert!((nx / ny - 1.0).abs() < 1e-3, "{n}x{d} component {c} scale");
            }
        }
    }
}
