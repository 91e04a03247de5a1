//! Measuring whether `predict` gives documents the topic `train` gave them (issue #23), shared
//! by `tests/predict_consistency.rs` and `examples/predict_consistency.rs`.

use bertopic::cluster::metrics::{adjusted_rand_index, normalized_mutual_info};
use bertopic::ndarray::{Array2, Axis};
use bertopic::{PredictOptions, PredictStrategy, TopicModel};
use bertopic_rng::SplitMix64;

/// Uniform in (0, 1]: never 0, so Box–Muller's logarithm stays finite.
fn unit_open0(rng: &mut SplitMix64) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
}

/// `embeddings` plus independent N(0, std²) noise per value (Box–Muller), seeded.
pub fn with_noise(embeddings: &Array2<f32>, std: f64, seed: u64) -> Array2<f32> {
    let mut rng = SplitMix64::new(seed);
    let mut out = embeddings.clone();
    for v in out.iter_mut() {
        let (u1, u2) = (unit_open0(&mut rng), unit_open0(&mut rng));
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        *v += (z * std) as f32;
    }
    out
}

/// A seeded shuffle of `0..n` cut at `share`: (first part, rest), each in ascending order.
pub fn split(n: usize, share: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    SplitMix64::new(seed).shuffle(&mut idx);
    let cut = ((n as f64) * share).round() as usize;
    let (mut a, mut b) = (idx[..cut].to_vec(), idx[cut..].to_vec());
    a.sort_unstable();
    b.sort_unstable();
    (a, b)
}

/// Share of positions where `a` and `b` agree.
pub fn same_share(a: &[i64], b: &[i64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len().max(1) as f64
}

/// Share of −1 in `topics`.
pub fn outlier_share(topics: &[i64]) -> f64 {
    topics.iter().filter(|&&t| t == -1).count() as f64 / topics.len().max(1) as f64
}

/// The prediction paths compared: the old one (UMAP + HDBSCAN, no lookup of training
/// documents), the same with training documents recognised, the new default (lookup + k-NN
/// vote), and the vote without lookup or near-duplicate rule.
pub fn paths() -> Vec<(&'static str, PredictOptions)> {
    vec![
        (
            "umap (before #23)",
            PredictOptions {
                keep_known: false,
                ..PredictOptions::with_strategy(PredictStrategy::Umap)
            },
        ),
        (
            "umap + known docs",
            PredictOptions::with_strategy(PredictStrategy::Umap),
        ),
        ("knn (default)", PredictOptions::default()),
        // The vote alone: no lookup, no near-duplicate rule (reported, not asserted).
        (
            "vote only",
            PredictOptions {
                keep_known: false,
                knn: bertopic::KnnParams {
                    duplicate_similarity: 2.0,
                    ..bertopic::KnnParams::default()
                },
                ..PredictOptions::default()
            },
        ),
    ]
}

/// Same-topic shares of one path when the training documents are predicted again.
#[derive(Debug, Clone, Copy)]
pub struct Consistency {
    /// The identical training embeddings (texts withheld, so only the embedding can match).
    pub identical: f64,
    /// The training embeddings + N(0, 1e-4²) seeded noise (texts withheld).
    pub noisy: f64,
    /// The training texts with the noisy embeddings (a re-embedding that differs in the last bits).
    pub noisy_with_text: f64,
}

/// Predicts the training documents again along `options`.
pub fn consistency(
    model: &TopicModel,
    texts: &[String],
    embeddings: &Array2<f32>,
    noisy: &Array2<f32>,
    options: &PredictOptions,
) -> Consistency {
    let fitted = model.document_topics();
    let blank = vec![String::new(); texts.len()];
    let run = |t: &[String], e: &Array2<f32>| {
        let (topics, _) = model
            .transform_embeddings_with(t, e, options)
            .expect("predict");
        same_share(&topics, fitted)
    };
    Consistency {
        identical: run(&blank, embeddings),
        noisy: run(&blank, noisy),
        noisy_with_text: run(texts, noisy),
    }
}

/// Accuracy of predicted topics against human labels.
#[derive(Debug, Clone, Copy)]
pub struct Accuracy {
    /// NMI (arithmetic), −1 counted as a class.
    pub nmi: f64,
    /// Adjusted Rand index, −1 counted as a class.
    pub ari: f64,
    /// Share of documents predicted as outliers.
    pub outliers: f64,
    /// Seconds the prediction took.
    pub seconds: f64,
}

/// Predicts `rows` of the corpus with a model fitted on the other rows and scores the topics
/// against `labels` (one class id per row).
pub fn accuracy(
    model: &TopicModel,
    texts: &[String],
    embeddings: &Array2<f32>,
    labels: &[i64],
    rows: &[usize],
    options: &PredictOptions,
) -> Accuracy {
    let t: Vec<String> = rows.iter().map(|&i| texts[i].clone()).collect();
    let e = embeddings.select(Axis(0), rows);
    let l: Vec<i64> = rows.iter().map(|&i| labels[i]).collect();
    let start = std::time::Instant::now();
    let (topics, _) = model
        .transform_embeddings_with(&t, &e, options)
        .expect("predict");
    let seconds = start.elapsed().as_secs_f64();
    Accuracy {
        nmi: normalized_mutual_info(&topics, &l),
        ari: adjusted_rand_index(&topics, &l),
        outliers: outlier_share(&topics),
        seconds,
    }
}

/// Class ids for string labels (first-seen order).
pub fn label_ids(labels: &[String]) -> Vec<i64> {
    let mut ids = std::collections::HashMap::new();
    labels
        .iter()
        .map(|l| {
            let n = ids.len() as i64;
            *ids.entry(l.as_str()).or_insert(n)
        })
        .collect()
}
