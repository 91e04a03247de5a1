//! Hyperparameter search on topic coherence, the seed pipeline's model selection done natively.
//!
//! The embeddings are computed once by the caller; UMAP runs once per distinct
//! (n_neighbors, n_components) setting, and every `min_cluster_size` trial reuses that reduction
//! (it does not change it). Trials of one reduction run in parallel. Every finished trial is
//! appended to an [`Experiment`] record that the caller can persist as trials finish.

use std::sync::Arc;
use std::time::Instant;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::{Clusterer, Hdbscan};
use crate::coherence::{topic_diversity, CoherenceOptions, Measure, ReferenceCorpus};
use crate::embed::Embedder;
use crate::error::Result;
use crate::model::{reference_corpus, TopicModel};
use crate::params::{BertopicParams, CheckedParams, ParamError};
use crate::reduce::{Reducer, Umap};
use crate::stages::check_inputs;

/// The seed's `min_cluster_size` search range for a corpus of `n_docs` documents.
pub fn min_cluster_range(n_docs: usize) -> Vec<usize> {
    let (lo, hi) = match n_docs {
        0..=199 => (4, 9),
        200..=499 => (5, 14),
        500..=999 => (10, 24),
        1000..=1499 => (13, 29),
        1500..=2499 => (16, 34),
        _ => (20, 49),
    };
    (lo..=hi).collect()
}

/// Picks `k` values spread evenly over `values` (numpy `linspace(0, len-1, k)` truncated to
/// integers, as the seed does), keeping order and dropping repeats.
pub fn thin_evenly<T: Copy + PartialEq>(values: &[T], k: usize) -> Vec<T> {
    if k == 0 || values.is_empty() {
        return Vec::new();
    }
    if k >= values.len() {
        return values.to_vec();
    }
    let last = (values.len() - 1) as f64;
    let mut out: Vec<T> = Vec::with_capacity(k);
    for i in 0..k {
        let idx = if k == 1 {
            0.0
        } else {
            i as f64 * last / (k - 1) as f64
        };
        let v = values[idx as usize];
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
    out
}

/// What to search and how to score it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct TuneParams {
    /// At most this many `min_cluster_size` values (thinned evenly); `None` = the full range.
    pub max_trials: Option<usize>,
    /// Explicit `min_cluster_size` values; `None` = the seed's range for the corpus size.
    pub min_cluster_sizes: Option<Vec<usize>>,
    /// UMAP `n_neighbors` values to try; empty = the base parameters' value.
    pub n_neighbors: Vec<usize>,
    /// UMAP `n_components` values to try; empty = the base parameters' value.
    pub n_components: Vec<usize>,
    /// Random search: sample this many configurations of the grid (seeded) instead of all.
    pub random_samples: Option<usize>,
    /// The coherence measure maximised.
    pub objective: Measure,
    /// Objective −= penalty × outlier fraction.
    pub outlier_penalty: f64,
}

impl Default for TuneParams {
    fn default() -> Self {
        TuneParams {
            max_trials: Some(10),
            min_cluster_sizes: None,
            n_neighbors: Vec::new(),
            n_components: Vec::new(),
            random_samples: None,
            objective: Measure::CV,
            outlier_penalty: 0.0,
        }
    }
}

/// One configuration tried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrialParams {
    /// HDBSCAN `min_cluster_size` (the pipeline's `min_topic_size`).
    pub min_cluster_size: usize,
    /// UMAP `n_neighbors`.
    pub n_neighbors: usize,
    /// UMAP `n_components`.
    pub n_components: usize,
}

/// Scores of one trial.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrialMetrics {
    /// c_v coherence (gensim's); `None` when not computed.
    pub c_v: Option<f64>,
    /// NPMI coherence (gensim's `c_npmi`); `None` when not computed.
    pub c_npmi: Option<f64>,
    /// UMass coherence; `None` when not computed.
    pub u_mass: Option<f64>,
    /// Topic diversity: share of unique words among all topics' top words.
    pub diversity: Option<f64>,
    /// Topics found (outliers not counted).
    pub n_topics: usize,
    /// Share of documents left as outliers (topic −1).
    pub outlier_fraction: f64,
    /// Topic words not found in the reference corpus (dropped from coherence, as gensim does).
    pub dropped_words: usize,
}

/// Seconds per stage of one trial (the reduction is shared by the trials of its setting).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrialTimings {
    /// UMAP (shared by the trials of one reduction setting).
    pub reduce_s: f64,
    /// HDBSCAN.
    pub cluster_s: f64,
    /// Topic words.
    pub represent_s: f64,
    /// Coherence scoring.
    pub coherence_s: f64,
}

/// A finished trial.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Trial {
    /// Trial number, from 0 in run order.
    pub id: usize,
    /// The configuration tried.
    pub params: TrialParams,
    /// Its scores.
    pub metrics: TrialMetrics,
    /// The objective value; `None` for an invalid trial.
    pub objective: Option<f64>,
    /// Why the trial is invalid (fewer than 2 topics of ≥ 3 documents, or an error).
    pub invalid_reason: Option<String>,
    /// Seconds per stage.
    pub timings: TrialTimings,
}

/// The record of a search: every trial and the winner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Experiment {
    /// Version of this record's layout (`experiment.json`).
    pub format_version: u32,
    /// The coherence measure maximised.
    pub objective: Measure,
    /// Documents the search ran on.
    pub n_documents: usize,
    /// The pipeline parameters every trial starts from.
    pub base_params: BertopicParams,
    /// The search settings.
    pub tune_params: TuneParams,
    /// Every trial, in run order.
    pub trials: Vec<Trial>,
    /// Id of the best valid trial.
    pub best_trial: Option<usize>,
    /// Wall-clock seconds of the whole search.
    pub total_seconds: f64,
}

impl Experiment {
    /// The best trial, if any was valid.
    pub fn best(&self) -> Option<&Trial> {
        self.best_trial
            .and_then(|id| self.trials.iter().find(|t| t.id == id))
    }

    /// Picks the best valid trial: highest objective; ties go to the lower id (deterministic).
    fn update_best(&mut self) {
        self.best_trial = self
            .trials
            .iter()
            .filter_map(|t| t.objective.map(|o| (t.id, o)))
            .fold(None, |best: Option<(usize, f64)>, (id, o)| match best {
                Some((bid, bo)) if bo > o || (bo == o && bid < id) => Some((bid, bo)),
                _ => Some((id, o)),
            })
            .map(|(id, _)| id);
    }
}

/// Result of [`tune`]: the record and the best model, fitted.
pub struct TuneOutcome {
    /// Every trial and the winner.
    pub experiment: Experiment,
    /// The best trial's model, refitted; `None` when no trial was valid.
    pub best_model: Option<TopicModel>,
}

/// Runs the search on `docs` with their `embeddings`, calling `on_trial` after every trial
/// (persist the record there so a crash loses nothing). Trials are scored on c-TF-IDF words;
/// the best model gets the configured representation (an MMR or KeyBERT representation loads
/// `base.embedding_model` for its words; see [`tune_with_embedder`] to pass one).
pub fn tune(
    base: &CheckedParams,
    tune: &TuneParams,
    docs: &[String],
    embeddings: &Array2<f32>,
    on_trial: impl FnMut(&Experiment),
) -> Result<TuneOutcome> {
    tune_with_embedder(base, tune, docs, embeddings, None, on_trial)
}

/// [`tune`] with the embedder that made `embeddings`: recorded in the best model (so
/// `transform` can check it) and used to embed topic words for MMR / KeyBERT.
pub fn tune_with_embedder(
    base: &CheckedParams,
    tune: &TuneParams,
    docs: &[String],
    embeddings: &Array2<f32>,
    embedder: Option<Arc<dyn Embedder>>,
    on_trial: impl FnMut(&Experiment),
) -> Result<TuneOutcome> {
    let stages = TuneStages::default();
    tune_with_stages(base, tune, docs, embeddings, embedder, &stages, on_trial)
}

/// Builds a trial's stage from its checked parameters.
pub type StageFactory<'a, S> = dyn Fn(&CheckedParams) -> Result<Box<S>> + Sync + 'a;

/// The stages a search fits, made per trial from the trial's parameters: UMAP and HDBSCAN by
/// default, or any [`Reducer`] and [`Clusterer`] (each reduction setting builds one reducer;
/// each trial one clusterer).
pub struct TuneStages<'a> {
    /// The reducer of a reduction setting (`n_neighbors`, `n_components` of the trial).
    pub reducer: Box<StageFactory<'a, dyn Reducer>>,
    /// The clusterer of a trial (`min_topic_size` is the trial's `min_cluster_size`).
    pub clusterer: Box<StageFactory<'a, dyn Clusterer>>,
}

impl Default for TuneStages<'_> {
    /// UMAP and HDBSCAN with the trial's settings.
    fn default() -> Self {
        TuneStages {
            reducer: Box::new(|p: &CheckedParams| {
                Ok(Box::new(Umap::new(p.umap())?) as Box<dyn Reducer>)
            }),
            clusterer: Box::new(|p: &CheckedParams| {
                Ok(Box::new(Hdbscan::new(p.hdbscan())?) as Box<dyn Clusterer>)
            }),
        }
    }
}

/// [`tune_with_embedder`] over the caller's stages (see [`TuneStages`]).
pub fn tune_with_stages(
    base: &CheckedParams,
    tune: &TuneParams,
    docs: &[String],
    embeddings: &Array2<f32>,
    embedder: Option<Arc<dyn Embedder>>,
    stages: &TuneStages<'_>,
    mut on_trial: impl FnMut(&Experiment),
) -> Result<TuneOutcome> {
    check_inputs(docs, embeddings)?;
    if !base.variants.is_default() {
        // Trials score plain fits (shared reduction, one clusterer each): a zero-shot,
        // guided, merged or online model would be searched as a plain one and saved as if
        // it were the variant.
        return Err(ParamError::new(
            "variants",
            "tuning searches plain fits only: zero-shot topics, seed topics, merged and online \
             models are not tuned. Drop the tuning (--trials), or the variant settings",
        )
        .into());
    }
    if !tune.outlier_penalty.is_finite() || tune.outlier_penalty < 0.0 {
        return Err(ParamError::new(
            "tune.outlier_penalty",
            format!(
                "outlier_penalty must be a finite number >= 0 (got {})",
                tune.outlier_penalty
            ),
        )
        .into());
    }
    let start = Instant::now();
    let sizes =
        match &tune.min_cluster_sizes {
            Some(v) if v.is_empty() => return Err(ParamError::new(
                "tune.min_cluster_sizes",
                "min_cluster_sizes is empty: give at least one value, or none for the seed's range",
            )
            .into()),
            Some(v) => v.clone(),
            None => min_cluster_range(docs.len()),
        };
    let sizes = match tune.max_trials {
        Some(0) => {
            return Err(ParamError::new("tune.max_trials", "max_trials must be at least 1").into())
        }
        Some(k) => thin_evenly(&sizes, k),
        None => sizes,
    };
    if let Some(&bad) = sizes.iter().find(|&&s| s < 2) {
        return Err(ParamError::new(
            "tune.min_cluster_sizes",
            format!("min_cluster_size {bad} is below 2"),
        )
        .into());
    }
    let neighbors = if tune.n_neighbors.is_empty() {
        vec![base.umap.n_neighbors]
    } else {
        tune.n_neighbors.clone()
    };
    let components = if tune.n_components.is_empty() {
        vec![base.umap.n_components]
    } else {
        tune.n_components.clone()
    };
    let mut grid: Vec<TrialParams> = Vec::new();
    for &nn in &neighbors {
        for &nc in &components {
            for &s in &sizes {
                grid.push(TrialParams {
                    min_cluster_size: s,
                    n_neighbors: nn,
                    n_components: nc,
                });
            }
        }
    }
    if let Some(k) = tune.random_samples {
        grid = sample_grid(grid, k, base.seed);
    }
    // Every trial's parameters are checked here, once, before any work: a bad grid value
    // fails the search up front instead of as a trial error half-way through.
    let checked: Vec<CheckedParams> = grid
        .iter()
        .map(|p| base.with_trial(p.n_neighbors, p.n_components, p.min_cluster_size))
        .collect::<std::result::Result<_, _>>()?;

    let corpus = reference_corpus(base, docs)?;
    let mut experiment = Experiment {
        format_version: 1,
        objective: tune.objective,
        n_documents: docs.len(),
        base_params: BertopicParams::clone(base),
        tune_params: tune.clone(),
        trials: Vec::new(),
        best_trial: None,
        total_seconds: 0.0,
    };
    let mut best_model: Option<(f64, usize, TopicModel)> = None;

    // Group trials by reduction setting, keeping grid order for stable trial ids.
    let mut settings: Vec<(usize, usize)> = Vec::new();
    for p in &grid {
        if !settings.contains(&(p.n_neighbors, p.n_components)) {
            settings.push((p.n_neighbors, p.n_components));
        }
    }
    let mut next_id = 0;
    for (nn, nc) in settings {
        let first = grid
            .iter()
            .position(|p| p.n_neighbors == nn && p.n_components == nc)
            .expect("every setting comes from the grid");
        let t = Instant::now();
        let reducer = (stages.reducer)(&checked[first])?;
        let (fitted, reduced) = reducer.fit(embeddings.view())?;
        let reduce_s = t.elapsed().as_secs_f64();
        let reduced64 = reduced.mapv(f64::from);
        let group: Vec<(usize, TrialParams, &CheckedParams)> = grid
            .iter()
            .zip(&checked)
            .filter(|(p, _)| p.n_neighbors == nn && p.n_components == nc)
            .map(|(p, c)| {
                next_id += 1;
                (next_id - 1, p.clone(), c)
            })
            .collect();
        // Trials of one reduction are independent: run them in parallel, then record in id order.
        let results: Vec<(Trial, Option<TopicModelParts>)> = group
            .par_iter()
            .map(|(id, p, c)| {
                let trial = TrialInput {
                    id: *id,
                    p,
                    params: c,
                    reduce_s,
                };
                run_trial(trial, stages, tune, docs, &reduced64, &corpus)
            })
            .collect();
        let mut fitted = Some(fitted);
        for (trial, parts) in results {
            experiment.trials.push(trial.clone());
            experiment.update_best();
            experiment.total_seconds = start.elapsed().as_secs_f64();
            on_trial(&experiment);
            if let (Some(obj), Some(parts)) = (trial.objective, parts) {
                let better = match &best_model {
                    None => true,
                    Some((bo, bid, _)) => obj > *bo || (obj == *bo && trial.id < *bid),
                };
                if better {
                    // The reducer is shared by this setting's trials: refit it only if the
                    // winner of this group has already taken it.
                    let reducer = match fitted.take() {
                        Some(f) => f,
                        None => reducer.fit(embeddings.view())?.0,
                    };
                    let model = TopicModel::assemble(
                        parts.params,
                        docs,
                        embeddings.clone(),
                        reducer,
                        parts.clusterer,
                        embedder.clone(),
                    )?;
                    best_model = Some((obj, trial.id, model));
                }
            }
        }
    }
    experiment.total_seconds = start.elapsed().as_secs_f64();
    // Trials are scored as plain fits; the winner then gets the quality preset's post-fit
    // steps, as `Bertopic::fit` gives them (its params say which preset it was saved with).
    let best_model = match best_model {
        Some((_, _, mut m)) => {
            let steps = m.params.quality.post_fit();
            m.apply_post_fit(docs, &steps)?;
            Some(m)
        }
        None => None,
    };
    Ok(TuneOutcome {
        experiment,
        best_model,
    })
}

struct TopicModelParts {
    params: CheckedParams,
    clusterer: Box<dyn crate::cluster::FittedClusterer>,
}

/// One trial of a reduction setting.
struct TrialInput<'a> {
    id: usize,
    p: &'a TrialParams,
    params: &'a CheckedParams,
    /// Seconds of the shared reduction.
    reduce_s: f64,
}

fn run_trial(
    input: TrialInput<'_>,
    stages: &TuneStages<'_>,
    tune: &TuneParams,
    docs: &[String],
    reduced: &Array2<f64>,
    corpus: &ReferenceCorpus,
) -> (Trial, Option<TopicModelParts>) {
    let TrialInput {
        id,
        p,
        params,
        reduce_s,
    } = input;
    let mut trial = Trial {
        id,
        params: p.clone(),
        metrics: TrialMetrics::default(),
        objective: None,
        invalid_reason: None,
        timings: TrialTimings {
            reduce_s,
            ..TrialTimings::default()
        },
    };
    let outcome = (|| -> Result<TopicModelParts> {
        let t = Instant::now();
        let clusterer = (stages.clusterer)(params)?.fit(reduced.view())?;
        trial.timings.cluster_s = t.elapsed().as_secs_f64();
        // A light model (no reducer) is enough to score: words come from the labels.
        let t = Instant::now();
        let labels = clusterer.labels().to_vec();
        let words = crate::model::score_topics(params, docs, &labels)?;
        trial.timings.represent_s = t.elapsed().as_secs_f64();
        trial.metrics.n_topics = words.n_topics;
        trial.metrics.outlier_fraction = words.outlier_fraction;
        let topics = words.coherence_topics;
        if topics.len() < 2 {
            trial.invalid_reason = Some(format!(
                "{} topic(s) with at least 3 documents; at least 2 are needed",
                topics.len()
            ));
            return Ok(TopicModelParts {
                params: params.clone(),
                clusterer,
            });
        }
        let t = Instant::now();
        let opts = CoherenceOptions::default();
        let cv = corpus.coherence(&topics, Measure::CV, &opts)?;
        let npmi = corpus.coherence(&topics, Measure::CNpmi, &opts)?;
        let umass = corpus.coherence(&topics, Measure::UMass, &opts)?;
        trial.timings.coherence_s = t.elapsed().as_secs_f64();
        trial.metrics.c_v = Some(cv.mean);
        trial.metrics.c_npmi = Some(npmi.mean);
        trial.metrics.u_mass = Some(umass.mean);
        trial.metrics.dropped_words = cv.dropped_words;
        trial.metrics.diversity = Some(topic_diversity(&topics, params.top_n_words));
        let value = match tune.objective {
            Measure::CV => cv.mean,
            Measure::CNpmi => npmi.mean,
            Measure::UMass => umass.mean,
            other => corpus.coherence(&topics, other, &opts)?.mean,
        };
        trial.objective = Some(value - tune.outlier_penalty * trial.metrics.outlier_fraction);
        Ok(TopicModelParts {
            params: params.clone(),
            clusterer,
        })
    })();
    match outcome {
        Ok(parts) if trial.objective.is_some() => (trial, Some(parts)),
        Ok(_) => (trial, None),
        Err(e) => {
            trial.invalid_reason = Some(e.to_string());
            (trial, None)
        }
    }
}

/// Seeded sample of `k` grid points without replacement, kept in grid order.
fn sample_grid(grid: Vec<TrialParams>, k: usize, seed: u64) -> Vec<TrialParams> {
    if k >= grid.len() {
        return grid;
    }
    // The seed is offset by GAMMA so this stream differs from the baseline sample's for a seed.
    let chosen =
        bertopic_rng::SplitMix64::new(seed ^ bertopic_rng::GAMMA).sample_sorted(grid.len(), k);
    chosen.into_iter().map(|i| grid[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges() {
        assert_eq!(min_cluster_range(150), (4..=9).collect::<Vec<_>>());
        assert_eq!(min_cluster_range(10_598).first(), Some(&20));
        assert_eq!(min_cluster_range(10_598).last(), Some(&49));
    }

    #[test]
    fn thinning_matches_linspace() {
        let r: Vec<usize> = (20..=49).collect();
        let t = thin_evenly(&r, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(t[0], 20);
        assert_eq!(t[9], 49);
        assert_eq!(thin_evenly(&r, 1), vec![20]);
        assert_eq!(thin_evenly(&[1, 2], 5), vec![1, 2]);
    }

    #[test]
    fn sampling_is_deterministic_and_sized() {
        let grid: Vec<TrialParams> = (0..20)
            .map(|i| TrialParams {
                min_cluster_size: i,
                n_neighbors: 15,
                n_components: 5,
            })
            .collect();
        let a = sample_grid(grid.clone(), 5, 7);
        let b = sample_grid(grid, 5, 7);
        assert_eq!(a, b);
        assert_eq!(a.len(), 5);
    }
}
