//! Files a training or prediction run writes for people and spreadsheets: `topic_info.csv`,
//! `document_topics.csv`, the experiment record and its coherence curve (CSV + SVG); [`html`]
//! builds the one-file HTML report of a model (`bertopic report`).
//! Every file is written to a temporary sibling and renamed into place.

pub mod html;

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{BertopicError, Result};
use crate::model::TopicInfo;
use crate::tune::Experiment;

/// Writes `bytes` to `path` atomically (see [`crate::fs::write_file`]: regular files only, no
/// symlinks followed, temp sibling + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(bertopic_fs::write_file(path, bytes)?)
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = BertopicError::Csv;
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.write_record(&r).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| BertopicError::Csv(csv::Error::from(e.into_error())))
}

/// `topic_info.csv`: `Topic,Count,Name,Representation,Representative_Docs` (words joined by
/// spaces; documents joined by ` | `).
pub fn topic_info_csv(info: &[TopicInfo]) -> Result<Vec<u8>> {
    csv_bytes(
        &[
            "Topic",
            "Count",
            "Name",
            "Representation",
            "Representative_Docs",
        ],
        info.iter().map(|t| {
            vec![
                t.topic.to_string(),
                t.count.to_string(),
                t.name.clone(),
                t.representation.join(" "),
                t.representative_docs.join(" | "),
            ]
        }),
    )
}

/// One output row of `document_topics.csv`: the 1-based input record number and, when the
/// record was kept, its topic and probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// 1-based input record number.
    pub row: usize,
    /// The record's topic; `None` when cleaning dropped it.
    pub topic: Option<i64>,
    /// Its probability; `None` when cleaning dropped it.
    pub probability: Option<f64>,
}

/// Assignments for every input record (`records_read` of them): kept records get their topic,
/// records dropped by cleaning get empty cells, so no row silently disappears.
pub fn assignments(
    records_read: usize,
    kept_rows: &[usize],
    topics: &[i64],
    probs: &[f64],
) -> Vec<Assignment> {
    let mut out: Vec<Assignment> = (1..=records_read)
        .map(|row| Assignment {
            row,
            topic: None,
            probability: None,
        })
        .collect();
    for ((&row, &t), &p) in kept_rows.iter().zip(topics).zip(probs) {
        if let Some(a) = row.checked_sub(1).and_then(|i| out.get_mut(i)) {
            a.topic = Some(t);
            a.probability = Some(p);
        }
    }
    out
}

/// `document_topics.csv`: `row,topic,probability`.
pub fn assignments_csv(rows: &[Assignment]) -> Result<Vec<u8>> {
    csv_bytes(
        &["row", "topic", "probability"],
        rows.iter().map(|a| {
            vec![
                a.row.to_string(),
                a.topic.map(|t| t.to_string()).unwrap_or_default(),
                a.probability.map(|p| format!("{p:.6}")).unwrap_or_default(),
            ]
        }),
    )
}

/// Headline numbers of a fitted model, for a model registry or experiment tracker:
/// `n_topics`, `n_documents`, `outlier_fraction`, plus, when `experiment` holds a best trial,
/// its objective (`objective_<measure>`), coherence scores, `topic_diversity` and parameters.
pub fn model_metrics(
    model: &crate::TopicModel,
    experiment: Option<&Experiment>,
) -> std::collections::BTreeMap<String, f64> {
    let mut m = std::collections::BTreeMap::new();
    m.insert("n_topics".to_string(), model.n_topics() as f64);
    m.insert(
        "n_documents".to_string(),
        model.document_topics().len() as f64,
    );
    m.insert("outlier_fraction".to_string(), model.outlier_fraction());
    if let Some((exp, best)) = experiment.and_then(|e| e.best().map(|b| (e, b))) {
        if let Some(o) = best.objective {
            m.insert(format!("objective_{}", exp.objective), o);
        }
        let scores = [
            ("c_v", best.metrics.c_v),
            ("c_npmi", best.metrics.c_npmi),
            ("u_mass", best.metrics.u_mass),
            ("topic_diversity", best.metrics.diversity),
        ];
        for (k, v) in scores {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        }
        m.insert(
            "min_cluster_size".to_string(),
            best.params.min_cluster_size as f64,
        );
    }
    m
}

/// A plain-text table of topics for terminals.
pub fn topic_table(info: &[TopicInfo], max_rows: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:>6}  {:>6}  words", "topic", "count");
    for t in info.iter().take(max_rows) {
        let _ = writeln!(
            s,
            "{:>6}  {:>6}  {}",
            t.topic,
            t.count,
            t.representation.join(" ")
        );
    }
    if info.len() > max_rows {
        let _ = writeln!(s, "… {} more topics", info.len() - max_rows);
    }
    s
}

/// Coherence-vs-`min_cluster_size` curve as CSV: one row per trial.
pub fn curve_csv(exp: &Experiment) -> Result<Vec<u8>> {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    csv_bytes(
        &[
            "trial",
            "min_cluster_size",
            "n_neighbors",
            "n_components",
            "objective",
            "c_v",
            "c_npmi",
            "u_mass",
            "diversity",
            "n_topics",
            "outlier_fraction",
        ],
        exp.trials.iter().map(|t| {
            vec![
                t.id.to_string(),
                t.params.min_cluster_size.to_string(),
                t.params.n_neighbors.to_string(),
                t.params.n_components.to_string(),
                f(t.objective),
                f(t.metrics.c_v),
                f(t.metrics.c_npmi),
                f(t.metrics.u_mass),
                f(t.metrics.diversity),
                t.metrics.n_topics.to_string(),
                format!("{:.4}", t.metrics.outlier_fraction),
            ]
        }),
    )
}

/// The objective against `min_cluster_size` as a standalone SVG line chart (one line per UMAP
/// setting; hover a point for its trial, the best one marked), drawn with [`crate::viz`] like
/// the HTML report's charts.
pub fn curve_svg(exp: &Experiment) -> String {
    let mut settings: Vec<(usize, usize)> = Vec::new();
    for t in &exp.trials {
        let k = (t.params.n_neighbors, t.params.n_components);
        if !settings.contains(&k) {
            settings.push(k);
        }
    }
    let series: Vec<crate::viz::Series> = settings
        .iter()
        .enumerate()
        .map(|(i, &(nn, nc))| {
            let mut points: Vec<(f64, f64, String)> = exp
                .trials
                .iter()
                .filter(|t| (t.params.n_neighbors, t.params.n_components) == (nn, nc))
                .filter_map(|t| {
                    t.objective.map(|o| {
                        (
                            t.params.min_cluster_size as f64,
                            o,
                            format!(
                                "trial {}: min_cluster_size {} → {} {o:.4}, {} topics{}",
                                t.id,
                                t.params.min_cluster_size,
                                exp.objective,
                                t.metrics.n_topics,
                                if exp.best_trial == Some(t.id) {
                                    " (best)"
                                } else {
                                    ""
                                }
                            ),
                        )
                    })
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            crate::viz::Series {
                name: format!("n_neighbors={nn} n_components={nc}"),
                color: crate::viz::color(i).to_string(),
                points,
            }
        })
        .collect();
    let mut xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let ticks: Vec<(f64, String)> = xs.iter().map(|&x| (x, format!("{x}"))).collect();
    let objective = exp.objective.to_string();
    crate::viz::lines(
        &format!("{objective} vs min_cluster_size"),
        &series,
        &ticks,
        ("min_cluster_size", &objective),
        1000.0,
        420.0,
    )
}

/// A terminal summary of an experiment: trials table, best configuration.
pub fn experiment_table(exp: &Experiment) -> String {
    let f = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>5} {:>6} {:>4} {:>4} {:>9} {:>8} {:>8} {:>8} {:>6} {:>7}  note",
        "trial", "mcs", "nn", "nc", "objective", "c_v", "c_npmi", "u_mass", "topics", "outlier"
    );
    for t in &exp.trials {
        let _ = writeln!(
            s,
            "{:>5} {:>6} {:>4} {:>4} {:>9} {:>8} {:>8} {:>8} {:>6} {:>6.1}%  {}{}",
            t.id,
            t.params.min_cluster_size,
            t.params.n_neighbors,
            t.params.n_components,
            f(t.objective),
            f(t.metrics.c_v),
            f(t.metrics.c_npmi),
            f(t.metrics.u_mass),
            t.metrics.n_topics,
            100.0 * t.metrics.outlier_fraction,
            if exp.best_trial == Some(t.id) {
                "best "
            } else {
                ""
            },
            t.invalid_reason.as_deref().unwrap_or("")
        );
    }
    match exp.best() {
        Some(b) => {
            let _ = writeln!(
                s,
                "best: trial {} (min_cluster_size={}, n_neighbors={}, n_components={}) {} = {}",
                b.id,
                b.params.min_cluster_size,
                b.params.n_neighbors,
                b.params.n_components,
                exp.objective,
                f(b.objective)
            );
        }
        None => s.push_str("no valid trial\n"),
    }
    s
}
