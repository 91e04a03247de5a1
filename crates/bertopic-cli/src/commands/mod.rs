//! One module per command: each turns its arguments into a facade call and prints the result.

mod analyze;
mod counts;
mod embed;
mod merge;
mod monitor;
mod predict;
mod registry;
mod report;
mod serve;
mod topics;
mod track;
mod train;
mod update;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bertopic::preprocess::ReadOptions;
use bertopic::registry::{ModelUri, Registry};

use crate::args::{Cli, Command, InputArgs, RegistryArg, RegistryCommand, TrackCommand};
use crate::out::{self, CliResult, Out};

/// Runs the parsed command line and returns the process exit code.
pub(crate) fn run(cli: Cli) -> ExitCode {
    let o = Out {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    // The commands that embed load their encoder through the facade, which reads this.
    if let Some(d) = embedding_device(&cli.command) {
        // Refused at once, even when the run would find every embedding cached or given.
        if let Err(e) = d.device.check_built() {
            return ExitCode::from(out::report(&e));
        }
        bertopic::set_embedding_device(d.device);
    }
    let result = match cli.command {
        Command::Train(a) => return train::run(*a, o),
        Command::Predict(a) => predict::run(a, o),
        Command::Monitor(a) => return monitor::run(a, o),
        Command::Embed(a) => embed::run(a, o),
        Command::Counts(a) => counts::counts(a, o),
        Command::TopicWords(a) => counts::topic_words(a, o),
        Command::Topics(a) => topics::topics(a, o),
        Command::Merge(a) => merge::run(a, o),
        Command::Update(a) => update::run(a, o),
        Command::Evaluate(a) => topics::evaluate(a),
        Command::FetchModel(a) => embed::fetch(a, o),
        Command::Registry(RegistryCommand::List(a)) => registry::list(a),
        Command::Registry(RegistryCommand::Register(a)) => registry::register(a, o),
        Command::Registry(RegistryCommand::Promote(a)) => registry::promote(a, o),
        Command::Registry(RegistryCommand::Show(a)) => registry::show(a),
        Command::Registry(RegistryCommand::Delete(a)) => registry::delete(a, o),
        Command::Track(TrackCommand::Upload(a)) => track::upload(a, o),
        Command::Analyze(a) => analyze::run(a, o),
        Command::Report(a) => report::run(a, o),
        Command::Serve(a) => serve::run(a, o),
        Command::Version => version(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(out::report(e.as_ref())),
    }
}

/// `--device` of the commands that embed documents.
fn embedding_device(command: &Command) -> Option<crate::args::DeviceArg> {
    match command {
        Command::Train(a) => Some(a.device),
        Command::Predict(a) => Some(a.device),
        Command::Embed(a) => Some(a.device),
        Command::Serve(a) => Some(a.device),
        _ => None,
    }
}

fn version() -> CliResult {
    out::println(&format!(
        "bertopic {}\ncommit {}\nmodel format {}",
        bertopic::VERSION,
        env!("BERTOPIC_GIT_COMMIT"),
        bertopic::FORMAT_VERSION
    ))
}

impl InputArgs {
    pub(crate) fn options(&self) -> ReadOptions {
        ReadOptions {
            format: self.input_format.map(Into::into),
            text_columns: self.text_columns.clone(),
            skip_bad_rows: self.skip_bad_rows,
            ..ReadOptions::default()
        }
    }
}

impl RegistryArg {
    pub(crate) fn open(&self) -> Registry {
        Registry::open(self.dir.as_deref())
    }

    /// A model folder, or the folder a `models:/NAME/<version>|latest|@alias` URI points at:
    /// in MLflow's registry (downloaded into a local cache) when `MLFLOW_TRACKING_URI` is an
    /// MLflow server, else in the local registry.
    pub(crate) fn model_dir(&self, model: &str) -> CliResult<PathBuf> {
        if !ModelUri::is_uri(model) {
            return Ok(PathBuf::from(model));
        }
        if let Some(url) = registry::mlflow_server(None)? {
            let uri: ModelUri = model.parse()?;
            return Ok(bertopic::track::resolve_mlflow_model(
                &url,
                &uri,
                &bertopic::track::default_model_cache(),
            )?);
        }
        Ok(self.open().resolve_str(model)?)
    }
}

/// `-` (or nothing) means standard output.
pub(crate) fn is_stdout(p: Option<&Path>) -> bool {
    p.is_none_or(|p| p == Path::new("-"))
}
