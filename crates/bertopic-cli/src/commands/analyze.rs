//! `bertopic analyze over-time|per-class|hierarchy|search|distribution`.

use std::path::Path;

use bertopic::analysis::{self, DistributionParams, OverTimeParams};
use bertopic::jobs::{self, Corpus};
use bertopic::preprocess::ReadOptions;
use bertopic::{report, TopicModel};

use crate::args::{AnalyzeCommand, AnalyzeCommon, AnalyzeFormat, InputArgs};
use crate::commands::is_stdout;
use crate::out::{self, CliResult, Out};

pub(crate) fn run(cmd: AnalyzeCommand, o: Out) -> CliResult {
    match cmd {
        AnalyzeCommand::OverTime(a) => {
            let (model, corpus) = load(&a.common, Some(&a.input), None, o)?;
            let stamps = analysis::corpus_timestamps(&corpus)?;
            let params = OverTimeParams {
                nr_bins: a.nr_bins,
                global_tuning: !a.no_global_tuning,
                evolution_tuning: !a.no_evolution_tuning,
            };
            let rows = model.topics_over_time(&corpus.texts(), &stamps, None, &params)?;
            emit(
                &a.common,
                o,
                rows.len(),
                || analysis::over_time_csv(&rows),
                || serde_json::to_vec_pretty(&rows),
            )
        }
        AnalyzeCommand::PerClass(a) => {
            let (model, corpus) = load(&a.common, Some(&a.input), None, o)?;
            let classes = analysis::corpus_classes(&corpus)?;
            let rows =
                model.topics_per_class(&corpus.texts(), &classes, None, !a.no_global_tuning)?;
            emit(
                &a.common,
                o,
                rows.len(),
                || analysis::per_class_csv(&rows),
                || serde_json::to_vec_pretty(&rows),
            )
        }
        AnalyzeCommand::Hierarchy(a) => {
            let (model, _) = load(&a.common, None, None, o)?;
            let h = model.hierarchical_topics()?;
            if a.tree {
                let text = h.tree_text(None);
                return write(&a.common, o, text.as_bytes(), "topic tree");
            }
            emit(
                &a.common,
                o,
                h.nodes.len(),
                || h.to_csv(),
                || serde_json::to_vec_pretty(&h),
            )
        }
        AnalyzeCommand::Search(a) => {
            let (model, _) = load(&a.common, None, None, o)?;
            let spec = &model.params().embedding_model;
            o.detail(format!("embedding the query with {spec}"));
            let embedder = jobs::embedder(spec, !a.no_cache, false)?;
            let found = model.find_topics(&a.query, &*embedder, a.top_n)?;
            emit(
                &a.common,
                o,
                found.len(),
                || analysis::search_csv(&model, &found),
                || serde_json::to_vec_pretty(&found),
            )
        }
        AnalyzeCommand::Distribution(a) => {
            // Any documents: keep every record, as `predict` does.
            let read = ReadOptions {
                dedupe: false,
                min_docs: 1,
                ..a.input.options()
            };
            let (model, corpus) = load(&a.common, Some(&a.input), Some(read), o)?;
            let params = DistributionParams {
                window: a.window,
                stride: a.stride,
                min_similarity: a.min_similarity,
                padding: a.padding,
                ..DistributionParams::default()
            };
            let d = model.approximate_distribution(&corpus.texts(), &params)?;
            emit(
                &a.common,
                o,
                d.documents.nrows(),
                || analysis::distribution_csv(&d),
                || serde_json::to_vec_pretty(&d),
            )
        }
    }
}

/// Checks the output, loads the model and (when given) reads the corpus.
fn load(
    c: &AnalyzeCommon,
    input: Option<&InputArgs>,
    read: Option<ReadOptions>,
    o: Out,
) -> CliResult<(TopicModel, Corpus)> {
    if let Some(out) = c.output.as_deref().filter(|p| !is_stdout(Some(p))) {
        let inputs: Vec<&Path> = input.map(|i| i.input.as_path()).into_iter().collect();
        bertopic::fs::check_output_file(out, &inputs)?;
    }
    let dir = c.registry.model_dir(&c.model)?;
    o.detail(format!("model {}", dir.display()));
    let model = TopicModel::load(&dir)?;
    let corpus = match input {
        Some(i) => {
            let corpus = Corpus::read(&i.input, &read.unwrap_or_else(|| i.options()))?;
            o.info(format!("{}", corpus.summary));
            corpus
        }
        None => Corpus {
            docs: Vec::new(),
            summary: Default::default(),
        },
    };
    Ok((model, corpus))
}

fn emit<C, J, E1, E2>(c: &AnalyzeCommon, o: Out, n: usize, csv: C, json: J) -> CliResult
where
    C: Fn() -> Result<Vec<u8>, E1>,
    J: Fn() -> Result<Vec<u8>, E2>,
    E1: std::error::Error + 'static,
    E2: std::error::Error + 'static,
{
    let bytes = match c.format {
        AnalyzeFormat::Csv => csv()?,
        AnalyzeFormat::Json => {
            let mut v = json()?;
            v.push(b'\n');
            v
        }
    };
    write(c, o, &bytes, &format!("{n} rows"))
}

fn write(c: &AnalyzeCommon, o: Out, bytes: &[u8], what: &str) -> CliResult {
    match c.output.as_deref() {
        Some(p) if !is_stdout(Some(p)) => {
            report::write_atomic(p, bytes)?;
            o.info(format!("{what} written to {}", p.display()));
            Ok(())
        }
        _ => out::stdout(bytes),
    }
}
