//! `bertopic predict`.

use bertopic::jobs::{self, PredictJob};
use bertopic::PredictStrategy;

use crate::args::{PredictArgs, StrategyArg};
use crate::commands::is_stdout;
use crate::out::{self, CliResult, Out};

pub(crate) fn run(a: PredictArgs, o: Out) -> CliResult {
    let model = a.registry.model_dir(&a.model)?;
    o.detail(format!("model {}", model.display()));
    let job = PredictJob {
        model,
        input: a.input.input.clone(),
        read: a.input.options(),
        embeddings: a.embeddings.clone(),
        output: a.output.clone(),
        cache: !a.no_cache,
        progress: !o.quiet,
        strategy: match a.strategy {
            StrategyArg::Knn => PredictStrategy::Knn,
            StrategyArg::Umap => PredictStrategy::Umap,
        },
    };
    let p = jobs::predict(&job)?;
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
