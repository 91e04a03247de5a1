//! Topic distribution drift: Jensen–Shannon distance, PSI and the outlier share rise.

use crate::config::DriftConfig;
use crate::error::{DriftError, Result};
use crate::level::{pct, points, Check, Level};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const SIGNAL: &str = "topic distribution drift";

/// Normalises non-negative finite weights to shares.
fn normalise(w: &[f64], what: &str) -> Result<Vec<f64>> {
    let mut total = 0.0f64;
    for (i, &x) in w.iter().enumerate() {
        if !x.is_finite() {
            return Err(DriftError::NonFinite {
                what: what.into(),
                location: format!("bin {i}"),
            });
        }
        if x < 0.0 {
            return Err(DriftError::OutOfRange {
                what: what.into(),
                problem: format!("bin {i} is {x}; weights must be >= 0"),
            });
        }
        total += x;
    }
    if !total.is_finite() {
        return Err(DriftError::OutOfRange {
            what: what.into(),
            problem: "the weights sum to infinity; pass counts or shares".into(),
        });
    }
    if total <= 0.0 {
        return Err(DriftError::OutOfRange {
            what: what.into(),
            problem: "all weights are 0; pass at least one positive count or share".into(),
        });
    }
    Ok(w.iter().map(|x| x / total).collect())
}

fn aligned(p: &[f64], q: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    if p.len() != q.len() {
        return Err(DriftError::LengthMismatch {
            what: "distributions",
            left: p.len(),
            right: q.len(),
        });
    }
    Ok((
        normalise(p, "first distribution")?,
        normalise(q, "second distribution")?,
    ))
}

/// Jensen–Shannon distance in base 2: `sqrt(JSD)`, in `[0, 1]` (0 identical, 1 disjoint).
///
/// `p` and `q` are aligned bins of non-negative weights (counts or shares); each is normalised
/// to sum 1. Empty bins need no smoothing (`0 · log 0 = 0`).
///
/// ```
/// let d = bertopic_drift::js_distance(&[1.0, 0.0], &[0.0, 1.0]).unwrap();
/// assert!((d - 1.0).abs() < 1e-12);
/// ```
///
/// # Errors
/// Different lengths, negative or non-finite weights, all-zero weights.
pub fn js_distance(p: &[f64], q: &[f64]) -> Result<f64> {
    let (p, q) = aligned(p, q)?;
    let mut jsd = 0.0f64;
    for (&a, &b) in p.iter().zip(&q) {
        let m = 0.5 * (a + b);
        if a > 0.0 {
            jsd += 0.5 * a * (a / m).log2();
        }
        if b > 0.0 {
            jsd += 0.5 * b * (b / m).log2();
        }
    }
    // Rounding can leave a tiny negative or a hair above 1.
    Ok(jsd.clamp(0.0, 1.0).sqrt())
}

/// Population stability index `Σ (q − p) · ln(q / p)` (symmetric in `p` and `q`).
///
/// `p` and `q` are aligned bins of non-negative weights, each normalised to sum 1; shares below
/// `epsilon` are then raised to `epsilon` (no renormalisation) so empty bins give a large but
/// finite term.
///
/// ```
/// let psi = bertopic_drift::psi(&[0.5, 0.5], &[0.25, 0.75], 1e-4).unwrap();
/// assert!((psi - 0.25 * (2f64.ln() + 1.5f64.ln())).abs() < 1e-12);
/// ```
///
/// # Errors
/// Different lengths, negative or non-finite weights, all-zero weights, `epsilon` not in
/// `(0, 0.5]`.
pub fn psi(p: &[f64], q: &[f64], epsilon: f64) -> Result<f64> {
    if !(epsilon > 0.0 && epsilon <= 0.5) {
        return Err(DriftError::OutOfRange {
            what: "PSI epsilon".into(),
            problem: format!("is {epsilon}; it must be in (0, 0.5], e.g. 1e-4"),
        });
    }
    let (p, q) = aligned(p, q)?;
    Ok(p.iter()
        .zip(&q)
        .map(|(&a, &b)| {
            let (a, b) = (a.max(epsilon), b.max(epsilon));
            (b - a) * (b / a).ln()
        })
        .sum())
}

/// One topic's counts and shares on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicShare {
    /// Topic id (the outlier topic included).
    pub topic: i64,
    /// Training documents in the topic.
    pub training_count: usize,
    /// Batch documents in the topic.
    pub batch_count: usize,
    /// Training share.
    pub training_share: f64,
    /// Batch share.
    pub batch_share: f64,
}

/// The outlier share on both sides and its rise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierShift {
    /// The outlier topic id.
    pub topic: i64,
    /// Outlier share of the training documents.
    pub training_share: f64,
    /// Outlier share of the batch documents.
    pub batch_share: f64,
    /// `batch_share − training_share`, with thresholds.
    pub rise: Check,
}

/// Result of topic distribution drift ([`topic_distribution_drift`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionDrift {
    /// Training documents counted.
    pub training_docs: usize,
    /// Batch documents counted.
    pub batch_docs: usize,
    /// Jensen–Shannon distance (base 2) of the topic shares, with thresholds.
    pub js_distance: Check,
    /// PSI of the topic shares, with thresholds.
    pub psi: Check,
    /// The epsilon floor used inside PSI.
    pub psi_epsilon: f64,
    /// Outlier share shift; `None` when the config has no outlier topic.
    pub outlier: Option<OutlierShift>,
    /// Level of the signal: the highest of its three checks.
    pub level: Level,
    /// Per topic counts and shares, by id (union of both sides).
    pub topics: Vec<TopicShare>,
}

impl DistributionDrift {
    /// Reason strings for each check above LOW.
    pub fn reasons(&self) -> Vec<String> {
        let mut r = Vec::new();
        if let Some(d) = self.js_distance.describe("JS distance") {
            r.push(format!("{SIGNAL}: {d}"));
        }
        if let Some(d) = self.psi.describe("PSI") {
            r.push(format!("{SIGNAL}: {d}"));
        }
        if let Some(o) = &self.outlier {
            if let Some(t) = o.rise.crossed() {
                r.push(format!(
                    "outlier share rose from {} to {} (+{} ≥ {}): new subjects often show up as outliers first",
                    pct(o.training_share),
                    pct(o.batch_share),
                    points(o.rise.value),
                    points(t)
                ));
            }
        }
        r
    }
}

/// Topic distribution drift from per-document topic labels (outliers included as a category).
///
/// See [`topic_distribution_drift_from_counts`]. For a fair outlier comparison, produce both
/// label lists the same way (e.g. training labels from the same `transform` as the batch).
///
/// # Errors
/// Empty training or batch labels, invalid config.
pub fn topic_distribution_drift(
    training_topics: &[i64],
    batch_topics: &[i64],
    config: &DriftConfig,
) -> Result<DistributionDrift> {
    let count = |labels: &[i64]| {
        let mut m = BTreeMap::new();
        for &t in labels {
            *m.entry(t).or_insert(0usize) += 1;
        }
        m
    };
    topic_distribution_drift_from_counts(&count(training_topics), &count(batch_topics), config)
}

/// Topic distribution drift from topic counts: Jensen–Shannon distance and PSI of the topic
/// shares over the union of topics, plus the rise of the outlier share.
///
/// Levels: each check against its thresholds in `config.distribution`; the signal takes the
/// highest.
///
/// # Errors
/// A side with no documents, invalid config.
pub fn topic_distribution_drift_from_counts(
    training: &BTreeMap<i64, usize>,
    batch: &BTreeMap<i64, usize>,
    config: &DriftConfig,
) -> Result<DistributionDrift> {
    let cfg = &config.distribution;
    cfg.validate()?;
    let training_docs: usize = training.values().sum();
    let batch_docs: usize = batch.values().sum();
    if training_docs == 0 {
        return Err(DriftError::EmptyTraining {
            signal: SIGNAL,
            what: "no training topic labels",
        });
    }
    if batch_docs == 0 {
        return Err(DriftError::EmptyBatch {
            signal: SIGNAL,
            what: "no batch topic labels",
        });
    }
    let mut ids: Vec<i64> = training.keys().chain(batch.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let topics: Vec<TopicShare> = ids
        .iter()
        .map(|id| {
            let tc = training.get(id).copied().unwrap_or(0);
            let bc = batch.get(id).copied().unwrap_or(0);
            TopicShare {
                topic: *id,
                training_count: tc,
                batch_count: bc,
                training_share: tc as f64 / training_docs as f64,
                batch_share: bc as f64 / batch_docs as f64,
            }
        })
        .collect();
    let p: Vec<f64> = topics.iter().map(|t| t.training_share).collect();
    let q: Vec<f64> = topics.iter().map(|t| t.batch_share).collect();
    let js = Check::above(js_distance(&p, &q)?, cfg.js_medium, cfg.js_high);
    let psi = Check::above(psi(&p, &q, cfg.psi_epsilon)?, cfg.psi_medium, cfg.psi_high);
    let outlier = config.outlier_topic.map(|id| {
        let share =
            |m: &BTreeMap<i64, usize>, n: usize| m.get(&id).copied().unwrap_or(0) as f64 / n as f64;
        let (ts, bs) = (share(training, training_docs), share(batch, batch_docs));
        OutlierShift {
            topic: id,
            training_share: ts,
            batch_share: bs,
            rise: Check::above(bs - ts, cfg.outlier_rise_medium, cfg.outlier_rise_high),
        }
    });
    let level = js
        .level
        .max(psi.level)
        .max(outlier.as_ref().map_or(Level::Low, |o| o.rise.level));
    Ok(DistributionDrift {
        training_docs,
        batch_docs,
        js_distance: js,
        psi,
        psi_epsilon: cfg.psi_epsilon,
        outlier,
        level,
        topics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_distance_hand_values() {
        assert_eq!(js_distance(&[0.2, 0.8], &[0.2, 0.8]).unwrap(), 0.0);
        assert!((js_distance(&[1.0, 0.0], &[0.0, 1.0]).unwrap() - 1.0).abs() < 1e-12);
        // p = (1/2, 1/2), q = (1, 0), m = (3/4, 1/4):
        // KL(p||m) = ½ log2(2/3) + ½ log2(2) = 0.2075187..., KL(q||m) = log2(4/3) = 0.4150375...
        // JSD = ½ (0.2075187 + 0.4150375) = 0.3112781, distance = 0.5579230.
        let d = js_distance(&[0.5, 0.5], &[1.0, 0.0]).unwrap();
        assert!((d - 0.557_922_9).abs() < 1e-6, "{d}");
        // Counts are normalised: same as shares.
        assert_eq!(
            js_distance(&[5.0, 5.0], &[3.0, 0.0]).unwrap(),
            js_distance(&[0.5, 0.5], &[1.0, 0.0]).unwrap()
        );
        assert!(
            (js_distance(&[0.5, 0.5], &[1.0, 0.0]).unwrap()
                - js_distance(&[1.0, 0.0], &[0.5, 0.5]).unwrap())
            .abs()
                < 1e-15
        );
    }

    #[test]
    fn psi_hand_values() {
        // (0.25 − 0.5) ln(0.5) + (0.75 − 0.5) ln(1.5) = 0.25 (ln 2 + ln 1.5) = 0.2746531.
        let v = psi(&[0.5, 0.5], &[0.25, 0.75], 1e-4).unwrap();
        assert!((v - 0.274_653_1).abs() < 1e-6, "{v}");
        // Empty bin floored at 1e-4: (0.5 − 1) ln(0.5) + (0.5 − 1e-4) ln(0.5 / 1e-4)
        // = 0.3465736 + 0.4999 · 8.5171932 = 4.6043186.
        let v = psi(&[1.0, 0.0], &[0.5, 0.5], 1e-4).unwrap();
        assert!((v - 4.604_318_6).abs() < 1e-6, "{v}");
        assert_eq!(psi(&[0.3, 0.7], &[0.3, 0.7], 1e-4).unwrap(), 0.0);
    }

    #[test]
    fn small_shift_js_distance_tracks_psi() {
        // d_JS ≈ sqrt(PSI / (8 ln 2)) for small shifts, the basis of the default thresholds.
        let p = [0.3, 0.3, 0.2, 0.2];
        let q = [0.33, 0.27, 0.21, 0.19];
        let d = js_distance(&p, &q).unwrap();
        let s = psi(&p, &q, 1e-4).unwrap();
        let approx = (s / (8.0 * std::f64::consts::LN_2)).sqrt();
        assert!((d - approx).abs() / d < 0.01, "{d} vs {approx}");
    }

    #[test]
    fn helper_errors() {
        assert!(matches!(
            js_distance(&[1.0], &[0.5, 0.5]),
            Err(DriftError::LengthMismatch { .. })
        ));
        assert!(matches!(
            js_distance(&[-1.0, 2.0], &[0.5, 0.5]),
            Err(DriftError::OutOfRange { .. })
        ));
        assert!(matches!(
            js_distance(&[0.0, 0.0], &[0.5, 0.5]),
            Err(DriftError::OutOfRange { .. })
        ));
        assert!(matches!(
            psi(&[f64::NAN, 1.0], &[0.5, 0.5], 1e-4),
            Err(DriftError::NonFinite { .. })
        ));
        assert!(psi(&[0.5, 0.5], &[0.5, 0.5], 0.0).is_err());
    }

    #[test]
    fn labels_give_shares_checks_and_outlier_rise() {
        // Training: 2 outliers, 4 × topic 0, 4 × topic 1. Batch: 4 outliers, 2 × 0, 4 × 1.
        let training = [-1, -1, 0, 0, 0, 0, 1, 1, 1, 1];
        let batch = [-1, -1, -1, -1, 0, 0, 1, 1, 1, 1];
        let d = topic_distribution_drift(&training, &batch, &DriftConfig::default()).unwrap();
        assert_eq!((d.training_docs, d.batch_docs), (10, 10));
        assert_eq!(d.topics.len(), 3);
        assert_eq!(d.topics[0].topic, -1);
        assert_eq!(
            (d.topics[0].training_count, d.topics[0].batch_count),
            (2, 4)
        );
        // PSI = (0.4−0.2) ln 2 + (0.2−0.4) ln 0.5 + 0 = 0.4 ln 2 = 0.2772589 -> HIGH.
        assert!((d.psi.value - 0.4 * 2f64.ln()).abs() < 1e-12);
        assert_eq!(d.psi.level, Level::High);
        let o = d.outlier.as_ref().unwrap();
        assert!((o.rise.value - 0.2).abs() < 1e-12);
        assert_eq!(o.rise.level, Level::High);
        assert_eq!(d.level, Level::High);
        let reasons = d.reasons();
        assert!(reasons
            .iter()
            .any(|r| r == "topic distribution drift: PSI 0.277 ≥ 0.25"));
        assert!(reasons
            .iter()
            .any(|r| r.starts_with("outlier share rose from 20% to 40% (+20 points ≥ 15 points)")));
    }

    #[test]
    fn same_distribution_is_low_and_new_topic_is_seen() {
        let t = [0, 0, 1, 1, -1];
        let d = topic_distribution_drift(&t, &t, &DriftConfig::default()).unwrap();
        assert_eq!(d.level, Level::Low);
        assert_eq!(d.js_distance.value, 0.0);
        assert!(d.reasons().is_empty());

        let mut batch = vec![0; 10];
        batch.extend([7; 2]); // topic 7 unseen in training
        let training = vec![0; 10];
        let d = topic_distribution_drift(&training, &batch, &DriftConfig::default()).unwrap();
        assert_eq!(
            d.topics.iter().map(|t| t.topic).collect::<Vec<_>>(),
            vec![0, 7]
        );
        assert_eq!(d.outlier.as_ref().unwrap().rise.value, 0.0);
        assert_eq!(d.psi.level, Level::High);
    }

    #[test]
    fn empty_sides_are_errors() {
        let c = DriftConfig::default();
        assert!(matches!(
            topic_distribution_drift(&[0], &[], &c),
            Err(DriftError::EmptyBatch { .. })
        ));
        assert!(matches!(
            topic_distribution_drift(&[], &[0], &c),
            Err(DriftError::EmptyTraining { .. })
        ));
    }

    #[test]
    fn no_outlier_topic_configured() {
        let c = DriftConfig {
            outlier_topic: None,
            ..DriftConfig::default()
        };
        let d = topic_distribution_drift(&[-1, 0], &[-1, 0], &c).unwrap();
        assert!(d.outlier.is_none());
    }
}
