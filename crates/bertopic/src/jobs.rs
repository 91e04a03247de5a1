//! Whole jobs, as the `bertopic` binary runs them: read a corpus, embed it (cached), fit or tune,
//! and write the model folder with its reports — one call each, so a library user gets exactly
//! the files and defaults the command line gets.
//!
//! Outputs are checked before any expensive work (an output folder holding other files, a busy
//! output, an output that is an input, a symbolic link) and written atomically through
//! [`crate::fs`]: a model folder with its CSVs is swapped in whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array2, Axis};

pub mod models;
mod tracked;
mod update;

pub use crate::corpus::Corpus;
use crate::embed::{self, Embedder};
use crate::error::{BertopicError, Result};
use crate::fs::{DirPolicy, DirWriter};
use crate::preprocess::{Language, ReadOptions, ReadSummary};
use crate::represent;
use crate::tune::{self, Experiment, TuneParams};
use crate::{report, Bertopic, BertopicParams, TopicModel, MODEL_FOLDER_FILES};
pub use tracked::{train_tracked, TrackedTraining};
pub use update::{update, UpdateJob, UpdateOutcome};

/// The embedding model BERTopic picks for a language when none is given.
pub fn default_model(language: Language) -> &'static str {
    match language {
        Language::Multilingual => embed::MULTILINGUAL_MODEL,
        _ => embed::DEFAULT_MODEL,
    }
}

/// Loads the embedding model `spec`, behind the on-disk embedding cache unless `cache` is false.
pub fn embedder(spec: &str, cache: bool, progress: bool) -> Result<Arc<dyn Embedder>> {
    let enc = crate::load_embedder(spec, progress)?;
    if !cache {
        return Ok(enc);
    }
    Ok(Arc::new(embed::CachedEmbedder::new(
        enc,
        embed::default_cache_dir(),
    )))
}

/// Reads precomputed embeddings (`.npy`) for `corpus`: one row per input record (the rows of
/// dropped records are skipped) or one per kept document.
pub fn load_embeddings(path: &Path, corpus: &Corpus) -> Result<Array2<f32>> {
    let all = embed::read_npy(path)?;
    let m = if all.nrows() == corpus.docs.len() {
        all
    } else if all.nrows() == corpus.summary.records_read {
        let rows: Vec<usize> = corpus.docs.iter().map(|d| d.row - 1).collect();
        all.select(Axis(0), &rows)
    } else {
        return Err(BertopicError::Mismatch(format!(
            "{} has {} rows, but the input has {} records ({} kept after cleaning): \
             make the embeddings with `bertopic embed` on the same input",
            path.display(),
            all.nrows(),
            corpus.summary.records_read,
            corpus.docs.len()
        )));
    };
    check_embeddings(&m, &corpus.rows(), &path.display().to_string())?;
    Ok(m)
}

/// Refuses embedding rows that carry no information: non-finite values, all zeros, or one
/// constant value (they would land in arbitrary topics). `rows` are the records' numbers.
pub fn check_embeddings(m: &Array2<f32>, rows: &[usize], source: &str) -> Result<()> {
    let mut bad = Vec::new();
    for (i, r) in m.outer_iter().enumerate() {
        let first = r.first().copied().unwrap_or(0.0);
        let degenerate = r.iter().any(|v| !v.is_finite()) || r.iter().all(|&v| v == first);
        if degenerate {
            bad.push(rows.get(i).copied().unwrap_or(i + 1));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = bad.iter().take(10).map(|r| r.to_string()).collect();
    Err(BertopicError::Mismatch(format!(
        "{source}: {} embedding row(s) are constant, all zero or not finite (records {}{}); \
         they carry no meaning and would get arbitrary topics: recompute them with `bertopic embed` \
         or remove those records",
        bad.len(),
        shown.join(", "),
        if bad.len() > 10 { ", …" } else { "" }
    )))
}

/// What [`train`] reports while it works.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainEvent<'a> {
    /// The corpus was read.
    Read(&'a ReadSummary),
    /// The embedding model is being loaded (for documents, or for topic words only).
    LoadingModel {
        /// The model id or folder.
        model: &'a str,
        /// Whether it will embed the documents (else only topic words, for MMR / KeyBERT).
        documents: bool,
    },
    /// Documents were embedded.
    Embedded {
        /// How many.
        n: usize,
        /// Seconds it took.
        seconds: f64,
    },
    /// A tuning trial finished.
    Trial(&'a Experiment),
    /// Topics were labelled by the LLM; `fell_back` lists the topics that got word labels
    /// instead, with the reason.
    Labelled {
        /// Topics labelled.
        n: usize,
        /// (topic, reason) of each topic whose LLM label failed.
        fell_back: &'a [(i64, String)],
    },
    /// The MLflow run could not be opened while training ([`train_tracked`]); its upload is
    /// tried again from scratch now that the model is saved.
    TrackingRetry(&'a crate::tracking::TrackError),
    /// The label column of a (semi-)supervised fit was read.
    ClassLabels {
        /// Documents with a known label.
        known: usize,
        /// Documents in all.
        n: usize,
        /// Distinct classes.
        classes: usize,
    },
}

/// The progress line `bertopic train` prints for each event (the LLM's per-topic fallbacks
/// are in the event, not the line).
impl std::fmt::Display for TrainEvent<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainEvent::Read(summary) => write!(f, "{summary}"),
            TrainEvent::LoadingModel {
                model,
                documents: true,
            } => write!(f, "embedding documents with {model}"),
            TrainEvent::LoadingModel { model, .. } => {
                write!(f, "loading {model} to embed topic words")
            }
            TrainEvent::Embedded { n, seconds } => {
                write!(f, "embedded {n} documents in {seconds:.1} s")
            }
            TrainEvent::Trial(exp) => match exp.trials.last() {
                Some(t) => write!(
                    f,
                    "trial {} of {}: min_cluster_size {} → {} {} ({} topics)",
                    t.id + 1,
                    exp.tune_params.max_trials.unwrap_or(exp.trials.len()),
                    t.params.min_cluster_size,
                    exp.objective,
                    t.objective
                        .map(|v| format!("{v:.4}"))
                        .unwrap_or_else(|| "invalid".into()),
                    t.metrics.n_topics
                ),
                None => write!(f, "no trial yet"),
            },
            TrainEvent::Labelled { n, fell_back } => {
                write!(
                    f,
                    "{} of {n} topics labelled by the LLM",
                    n - fell_back.len()
                )?;
                if !fell_back.is_empty() {
                    write!(f, " ({} kept word labels)", fell_back.len())?;
                }
                Ok(())
            }
            TrainEvent::TrackingRetry(e) => write!(
                f,
                "tracking: {e}; the upload is tried again now that the model is saved"
            ),
            TrainEvent::ClassLabels { known, n, classes } if known == n => {
                write!(f, "supervised: {n} labelled documents in {classes} classes")
            }
            TrainEvent::ClassLabels { known, n, classes } => write!(
                f,
                "semi-supervised: {known} of {n} documents labelled, {classes} classes"
            ),
        }
    }
}

/// A training job: what `bertopic train` does.
#[derive(Debug, Clone)]
pub struct TrainJob {
    /// Hyperparameters (checked before anything is read).
    pub params: BertopicParams,
    /// The corpus (`-` = standard input).
    pub input: PathBuf,
    /// How to read it.
    pub read: ReadOptions,
    /// The model folder to write.
    pub output: PathBuf,
    /// What to do when the output folder holds files bertopic did not write.
    pub output_policy: DirPolicy,
    /// Precomputed embeddings instead of embedding with `params.embedding_model`.
    pub embeddings: Option<PathBuf>,
    /// Tune `min_cluster_size` (and more) on coherence first.
    pub tune: Option<TuneParams>,
    /// Read and write the embedding cache.
    pub cache: bool,
    /// Show progress bars while embedding.
    pub progress: bool,
    /// Label topics with an OpenAI-compatible LLM (the seed's Groq flow); `None` keeps the
    /// readable word labels. The key stays in memory: it is never written or logged.
    pub llm_labels: Option<represent::LlmParams>,
    /// Record what `bertopic monitor` compares batches with (training coherence, its held-out
    /// baseline, keyword and topic-share references; seconds per thousand documents). Without
    /// it the model still monitors, on fixed thresholds, with notes to retrain.
    pub monitoring_baseline: bool,
    /// Fit with the class labels of this column ([`Bertopic::fit_with_labels`]): every
    /// document labelled = supervised (the labels are the topics), some unknown =
    /// semi-supervised (UMAP with the labels as target). Not with tuning.
    pub labels: Option<crate::variants::LabelColumn>,
}

impl TrainJob {
    /// A job with BERTopic's defaults.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> TrainJob {
        TrainJob {
            params: BertopicParams::default(),
            input: input.into(),
            read: ReadOptions::default(),
            output: output.into(),
            output_policy: DirPolicy::OursOnly,
            embeddings: None,
            tune: None,
            cache: true,
            progress: false,
            llm_labels: None,
            monitoring_baseline: true,
            labels: None,
        }
    }
}

/// What [`train`] produced; its files are already in `output`.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The fitted (or best tuned) model.
    pub model: TopicModel,
    /// The tuning record, when the job tuned.
    pub experiment: Option<Experiment>,
    /// How the corpus was read.
    pub summary: ReadSummary,
    /// The model folder.
    pub output: PathBuf,
}

/// The closing line of `bertopic train`: topics, words, outliers and where the files are.
impl std::fmt::Display for TrainOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} topics ({} words), {:.1}% outliers; model, topic_info.csv and \
             document_topics.csv in {}",
            self.model.n_topics(),
            self.model.representation(),
            100.0 * self.model.outlier_fraction(),
            self.output.display(),
        )
    }
}

/// Runs a training job and writes the model folder: `model.json`, `model.safetensors`,
/// `topic_info.csv`, `document_topics.csv` (+ `experiment.json`, `coherence_curve.csv/.svg`
/// when tuning), swapped into place together.
pub fn train(job: &TrainJob, on: &mut dyn FnMut(TrainEvent<'_>)) -> Result<TrainOutcome> {
    // Checked once, here; the pipeline and tuning take the checked form.
    let params = &job.params.checked()?;
    // Check the output and take its lock before the expensive work. (An input inside the
    // output folder is fine: it is read before the folder is swapped.)
    // Trials score plain fits: a tuned model would silently drop labels and variants.
    // Refused here, before the corpus is read and embedded.
    if job.tune.is_some() && job.labels.is_some() {
        return Err(BertopicError::InvalidParams(
            "tuning searches unsupervised fits only: drop the tuning (--trials) or the label \
             column (--labels-column)"
                .into(),
        ));
    }
    if job.tune.is_some() && !params.variants.is_default() {
        return Err(BertopicError::InvalidParams(
            "tuning searches plain fits only: drop the tuning (--trials), or the zero-shot \
             (--zeroshot-topics) and seed (--seed-topic) topics"
                .into(),
        ));
    }
    let out = DirWriter::begin(&job.output, MODEL_FOLDER_FILES, job.output_policy)?;
    let read = match &job.labels {
        Some(l) => ReadOptions {
            label_column: Some(l.column.clone()),
            ..job.read.clone()
        },
        None => job.read.clone(),
    };
    let corpus = Corpus::read(&job.input, &read)?;
    on(TrainEvent::Read(&corpus.summary));
    check_corpus_size(&corpus, params, job.tune.as_ref())?;
    let texts = corpus.texts();
    // Labels are checked before the expensive embedding.
    let labels = match &job.labels {
        Some(col) => {
            let source = crate::variants::labels::source_name(&job.input);
            let y = crate::variants::class_ids(&corpus.docs, col, &source)?;
            on(TrainEvent::ClassLabels {
                known: y.n_known(),
                n: y.ids.len(),
                classes: y.names.len(),
            });
            Some(y.ids)
        }
        None => None,
    };

    let mut embedder: Option<Arc<dyn Embedder>> = None;
    let mut embed_s = 0.0;
    let embeddings = match &job.embeddings {
        Some(p) => {
            let m = load_embeddings(p, &corpus)?;
            if params.representation.needs_embedder() {
                on(TrainEvent::LoadingModel {
                    model: &params.embedding_model,
                    documents: false,
                });
                embedder = Some(self::embedder(
                    &params.embedding_model,
                    job.cache,
                    job.progress,
                )?);
            }
            m
        }
        None => {
            on(TrainEvent::LoadingModel {
                model: &params.embedding_model,
                documents: true,
            });
            let e = self::embedder(&params.embedding_model, job.cache, job.progress)?;
            let t = Instant::now();
            let m = e.embed(&texts)?;
            embed_s = t.elapsed().as_secs_f64();
            on(TrainEvent::Embedded {
                n: m.nrows(),
                seconds: embed_s,
            });
            check_embeddings(&m, &corpus.rows(), &params.embedding_model)?;
            embedder = Some(e);
            m
        }
    };

    let (mut model, experiment) = match &job.tune {
        Some(tp) => {
            let mut write_error = None;
            let outcome = tune::tune_with_embedder(
                params,
                tp,
                &texts,
                &embeddings,
                embedder.clone(),
                |exp| {
                    on(TrainEvent::Trial(exp));
                    // Kept current after every trial, in the staged folder.
                    let res = serde_json::to_vec_pretty(exp)
                        .map_err(|e| BertopicError::Mismatch(e.to_string()))
                        .and_then(|json| Ok(out.write("experiment.json", &json)?));
                    if let Err(e) = res {
                        write_error.get_or_insert(e);
                    }
                },
            )?;
            if let Some(e) = write_error {
                return Err(e);
            }
            out.write(
                "coherence_curve.csv",
                &report::curve_csv(&outcome.experiment)?,
            )?;
            out.write(
                "coherence_curve.svg",
                report::curve_svg(&outcome.experiment).as_bytes(),
            )?;
            let best = outcome.best_model.ok_or_else(|| {
                BertopicError::InvalidParams(
                    "no trial produced at least 2 topics of 3 or more documents: \
                     try a smaller --min-cluster-size range or more documents"
                        .into(),
                )
            })?;
            (best, Some(outcome.experiment))
        }
        None => {
            let b = Bertopic::new(params.clone(), embedder.clone())?;
            let model = match &labels {
                Some(y) => b.fit_with_labels(&texts, embeddings, y)?,
                None => b.fit_with_embeddings(&texts, embeddings)?,
            };
            (model, None)
        }
    };
    model.timings.embed_s = embed_s;
    if let Some(llm) = &job.llm_labels {
        let fell_back = label_with_llm(&mut model, llm)?;
        on(TrainEvent::Labelled {
            n: model.topics.iter().filter(|t| t.id >= 0).count(),
            fell_back: &fell_back,
        });
    }
    // What `bertopic monitor` compares batches with (the model keeps no training texts).
    if job.monitoring_baseline {
        model.record_training_baseline(&texts)?;
    }

    model.save_into(&out)?;
    out.write(
        "topic_info.csv",
        &report::topic_info_csv(&model.topic_info())?,
    )?;
    let assign = report::assignments(
        corpus.summary.records_read,
        &corpus.rows(),
        model.document_topics(),
        model.document_probabilities(),
    );
    out.write("document_topics.csv", &report::assignments_csv(&assign)?)?;
    out.commit()?;
    Ok(TrainOutcome {
        model,
        experiment,
        summary: corpus.summary,
        output: job.output.clone(),
    })
}

/// The environment variables an LLM key is read from, in order (Groq's first: the seed's flow).
pub const LLM_KEY_VARS: [&str; 2] = ["GROQ_API_KEY", "OPENAI_API_KEY"];

/// LLM labelling settings ([`TrainJob::llm_labels`]): `endpoint` and `model` where given, else
/// the defaults; the key from the first non-blank of [`LLM_KEY_VARS`] (never from arguments,
/// which show up in shell history and process lists). `api_key` stays `None` when none is set.
pub fn llm_params(endpoint: Option<&str>, model: Option<&str>) -> represent::LlmParams {
    let mut p = represent::LlmParams::default();
    if let Some(url) = endpoint {
        p.endpoint = url.to_string();
    }
    if let Some(m) = model {
        p.model = m.to_string();
    }
    p.api_key = LLM_KEY_VARS
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    p
}

/// Sets every topic's label from the LLM (word labels where a request fails); returns the
/// topics that fell back, with the reason.
fn label_with_llm(
    model: &mut TopicModel,
    llm: &represent::LlmParams,
) -> Result<Vec<(i64, String)>> {
    let labeller = represent::LlmLabeller::new(llm.clone())?;
    let topics: Vec<(i64, Vec<String>, Vec<&str>)> = model
        .topics
        .iter()
        .filter(|t| t.id >= 0)
        .map(|t| {
            (
                t.id,
                t.words.iter().map(|(w, _)| w.clone()).collect(),
                t.representative_docs.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let outcome = labeller.label_topics(&topics);
    let ids: Vec<i64> = topics.iter().map(|t| t.0).collect();
    for (id, label) in ids.iter().zip(outcome.labels) {
        if let Some(t) = model.topics.iter_mut().find(|t| t.id == *id) {
            t.label = Some(label);
        }
    }
    Ok(outcome.fell_back)
}

/// Fails before embedding when the corpus cannot satisfy the parameters.
fn check_corpus_size(corpus: &Corpus, p: &BertopicParams, tune: Option<&TuneParams>) -> Result<()> {
    let n = corpus.docs.len();
    let mut neighbors = p.umap.n_neighbors;
    if let Some(t) = tune {
        neighbors = t.n_neighbors.iter().copied().fold(neighbors, usize::max);
    }
    let need_umap = neighbors.saturating_add(1);
    let need_cluster = if tune.is_some() { 2 } else { p.min_topic_size };
    if n < need_umap || n < need_cluster {
        let (need, why) = if need_umap >= need_cluster {
            (
                need_umap,
                format!("--n-neighbors {neighbors} needs more documents than neighbours"),
            )
        } else {
            (
                need_cluster,
                format!("--min-cluster-size {}", p.min_topic_size),
            )
        };
        return Err(BertopicError::InvalidParams(format!(
            "{}: {n} usable documents ({} records read), at least {need} needed ({why}); \
             add documents or lower the setting",
            corpus.summary.path.display(),
            corpus.summary.records_read
        )));
    }
    Ok(())
}

/// A prediction job: what `bertopic predict` does.
#[derive(Debug, Clone)]
pub struct PredictJob {
    /// The model folder.
    pub model: PathBuf,
    /// New documents (`-` = standard input).
    pub input: PathBuf,
    /// How to read them (every record is kept: no de-duplication).
    pub read: ReadOptions,
    /// Precomputed embeddings of the input.
    pub embeddings: Option<PathBuf>,
    /// Where to write `row,topic,probability` (None or `-` = the caller prints it).
    pub output: Option<PathBuf>,
    /// Read and write the embedding cache.
    pub cache: bool,
    /// Show progress bars while embedding.
    pub progress: bool,
    /// How documents that are not training documents are assigned (training documents keep
    /// their fitted topic either way).
    pub strategy: crate::PredictStrategy,
}

/// What [`predict`] produced.
#[derive(Debug)]
pub struct Predictions {
    /// How the input was read.
    pub summary: ReadSummary,
    /// One row per input record (empty topic for a record dropped by cleaning).
    pub assignments: Vec<report::Assignment>,
    /// The assignments as CSV (`row,topic,probability`), written to `output` when given.
    pub csv: Vec<u8>,
    /// The model's [`TopicModel::stage_notice`]: it was loaded without a caller's stage, which
    /// changes what `strategy` does.
    pub notice: Option<crate::StageNotice>,
}

/// Assigns topics to new documents with a saved model.
pub fn predict(job: &PredictJob) -> Result<Predictions> {
    let output = job.output.as_deref().filter(|p| *p != Path::new("-"));
    if let Some(out) = output {
        let inputs: Vec<&Path> = std::iter::once(job.input.as_path())
            .chain(job.embeddings.as_deref())
            .collect();
        crate::fs::check_output_file(out, &inputs)?;
    }
    let model = TopicModel::load(&job.model)?;
    let read = ReadOptions {
        dedupe: false,
        min_docs: 1,
        ..job.read.clone()
    };
    let corpus = Corpus::read(&job.input, &read)?;
    let texts = corpus.texts();
    let options = crate::PredictOptions::with_strategy(job.strategy);
    let (topics, probs) = match &job.embeddings {
        Some(p) => {
            model.transform_embeddings_with(&texts, &load_embeddings(p, &corpus)?, &options)?
        }
        None => {
            let e = embedder(&model.params().embedding_model, job.cache, job.progress)?;
            let m = e.embed(&texts)?;
            check_embeddings(&m, &corpus.rows(), &model.params().embedding_model)?;
            model.transform_embeddings_with(&texts, &m, &options)?
        }
    };
    let assignments =
        report::assignments(corpus.summary.records_read, &corpus.rows(), &topics, &probs);
    let csv = report::assignments_csv(&assignments)?;
    if let Some(out) = output {
        report::write_atomic(out, &csv)?;
    }
    Ok(Predictions {
        summary: corpus.summary,
        assignments,
        csv,
        notice: model.stage_notice().cloned(),
    })
}

/// An embedding job: what `bertopic embed` does.
#[derive(Debug, Clone)]
pub struct EmbedJob {
    /// The corpus (`-` = standard input).
    pub input: PathBuf,
    /// How to read it.
    pub read: ReadOptions,
    /// Embed texts exactly as given: no cleaning, no de-duplication.
    pub raw: bool,
    /// The model id or folder.
    pub model: String,
    /// The `.npy` to write (`-` = the caller writes [`Embedded::npy`] to standard output).
    pub output: PathBuf,
    /// Read and write the embedding cache.
    pub cache: bool,
    /// Show progress bars.
    pub progress: bool,
}

/// What [`embed_corpus`] produced.
#[derive(Debug)]
pub struct Embedded {
    /// How the input was read.
    pub summary: ReadSummary,
    /// Rows × dimensions.
    pub shape: (usize, usize),
    /// Seconds spent embedding.
    pub seconds: f64,
    /// The `.npy` bytes when the output is standard output (else empty: already written).
    pub npy: Vec<u8>,
}

/// Embeds a corpus into an `.npy` file (n × d, f32, input order).
pub fn embed_corpus(job: &EmbedJob) -> Result<Embedded> {
    let to_stdout = job.output == Path::new("-");
    if !to_stdout {
        crate::fs::check_output_file(&job.output, &[job.input.as_path()])?;
    }
    let read = ReadOptions {
        clean: !job.raw,
        dedupe: !job.raw,
        min_docs: 1,
        ..job.read.clone()
    };
    let corpus = Corpus::read(&job.input, &read)?;
    let e = embedder(&job.model, job.cache, job.progress)?;
    let t = Instant::now();
    let m = e.embed(&corpus.texts())?;
    let seconds = t.elapsed().as_secs_f64();
    let npy = if to_stdout {
        embed::npy_bytes(&m)
    } else {
        embed::write_npy(&job.output, &m)?;
        Vec::new()
    };
    Ok(Embedded {
        summary: corpus.summary,
        shape: m.dim(),
        seconds,
        npy,
    })
}
