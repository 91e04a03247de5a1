//! `bertopic embed` and `bertopic fetch-model`.

use bertopic::embed;
use bertopic::jobs::{self, EmbedJob};

use crate::args::{EmbedArgs, FetchArgs};
use crate::commands::is_stdout;
use crate::out::{self, CliResult, Out};

pub(crate) fn run(a: EmbedArgs, o: Out) -> CliResult {
    let job = EmbedJob {
        input: a.input.input.clone(),
        read: a.input.options(),
        raw: a.no_clean,
        model: a.model.clone(),
        output: a.output.clone(),
        cache: !a.no_cache,
        progress: !o.quiet,
    };
    let e = jobs::embed_corpus(&job)?;
    o.info(format!("{}", e.summary));
    if is_stdout(Some(&a.output)) {
        out::stdout(&e.npy)?;
    }
    o.info(format!(
        "{} × {} embeddings written to {} ({:.1} docs/s)",
        e.shape.0,
        e.shape.1,
        a.output.display(),
        e.shape.0 as f64 / e.seconds.max(1e-9)
    ));
    Ok(())
}

pub(crate) fn fetch(a: FetchArgs, o: Out) -> CliResult {
    let m = embed::fetch_model(&a.model, &embed::ResolveOptions::default())?;
    o.info(format!(
        "{} ready in {} (sha256 {})",
        m.model_id,
        m.dir.display(),
        m.weights_sha256
    ));
    Ok(())
}
