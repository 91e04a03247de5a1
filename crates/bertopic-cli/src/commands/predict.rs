//! `bertopic predict`.

use bertopic::jobs::{self, PredictJob};
use bertopic::stream::{self, PredictStreamJob};
use bertopic::PredictStrategy;

use crate::args::{PredictArgs, StrategyArg};
use crate::commands::embed::no_shard;
use crate::commands::is_stdout;
use crate::out::{self, CliResult, Out, StdoutStream};

pub(crate) fn run(a: PredictArgs, o: Out) -> CliResult {
    let model = a.registry.model_dir(&a.model)?;
    o.detail(format!("model {}", model.display()));
    let format = a.input.input_format.map(Into::into);
    if stream::is_stream(&a.input.input, format, a.output.as_deref()) {
        if a.embeddings.is_some() {
            return Err(
                "--embeddings is for CSV output; when streaming JSON Lines give each \
                        record's vector in an `embedding` field"
                    .into(),
            );
        }
        let job = PredictStreamJob {
            model,
            input: a.input.input.clone(),
            output: a.output.clone().unwrap_or_else(|| "-".into()),
            cache: !a.no_cache,
            progress: !o.quiet,
            strategy: strategy(a.strategy),
            stream: a.input.stream_options(&a.stream, true),
        };
        let mut out = StdoutStream::new();
        let r = stream::predict_jsonl(&job, &mut out);
        let s = out.finish(r)?;
        if let Some(notice) = &s.notice {
            out::warn(notice.to_string());
        }
        o.info(format!(
            "{} records assigned ({} empty after cleaning, {} skipped)",
            s.records,
            s.empty,
            s.skipped.len()
        ));
        return Ok(());
    }
    no_shard(&a.stream)?;
    let job = PredictJob {
        model,
        input: a.input.input.clone(),
        read: a.input.options(),
        embeddings: a.embeddings.clone(),
        output: a.output.clone(),
        cache: !a.no_cache,
        progress: !o.quiet,
        strategy: strategy(a.strategy),
    };
    let p = jobs::predict(&job)?;
    if let Some(notice) = &p.notice {
        out::warn(notice.to_string());
    }
    o.info(format!("{}", p.summary));
    match &a.output {
        Some(path) if !is_stdout(Some(path)) => o.info(format!(
            "{} assignments written to {}",
            p.summary.records_read,
            path.display()
        )),
        _ => out::stdout(&p.csv)?,
    }
    Ok(())
}

fn strategy(s: StrategyArg) -> PredictStrategy {
    match s {
        StrategyArg::Knn => PredictStrategy::Knn,
        StrategyArg::Umap => PredictStrategy::Umap,
    }
}
