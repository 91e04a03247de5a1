//! `bertopic embed` and `bertopic fetch-model`.

use bertopic::embed;
use bertopic::jobs::{self, EmbedJob};
use bertopic::stream::{self, EmbedStreamJob};

use crate::args::{EmbedArgs, FetchArgs, InputArgs, StreamArgs};
use crate::commands::is_stdout;
use crate::out::{self, CliResult, Out, StdoutStream};

pub(crate) fn run(a: EmbedArgs, o: Out) -> CliResult {
    let format = a.input.input_format.map(Into::into);
    if stream::is_stream(&a.input.input, format, Some(&a.output)) {
        return run_stream(a, o);
    }
    no_shard(&a.stream)?;
    let job = EmbedJob {
        input: a.input.input.clone(),
        read: a.input.options(),
        raw: a.no_clean,
        model: a.precision.spec(&a.model),
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

/// JSON Lines in, JSON Lines out (Spark's `RDD.pipe`, Kubernetes Indexed Jobs).
fn run_stream(a: EmbedArgs, o: Out) -> CliResult {
    let job = EmbedStreamJob {
        input: a.input.input.clone(),
        output: a.output.clone(),
        model: a.precision.spec(&a.model),
        cache: !a.no_cache,
        progress: !o.quiet,
        stream: a.input.stream_options(&a.stream, !a.no_clean),
    };
    let mut out = StdoutStream::new();
    let r = stream::embed_jsonl(&job, &mut out);
    let s = out.finish(r)?;
    o.info(format!(
        "{} records embedded ({} empty after cleaning, {} skipped)",
        s.records,
        s.empty,
        s.skipped.len()
    ));
    Ok(())
}

/// `--shard` only splits JSON Lines streams.
pub(crate) fn no_shard(s: &StreamArgs) -> CliResult {
    if s.shard.is_some() {
        return Err(
            "--shard needs JSON Lines in and out (a .jsonl or `-` input, `--output -` or \
                    a .jsonl output)"
                .into(),
        );
    }
    Ok(())
}

impl InputArgs {
    /// How a JSON Lines stream of this input is read.
    pub(crate) fn stream_options(&self, s: &StreamArgs, clean: bool) -> stream::StreamOptions {
        stream::StreamOptions {
            name: self.input.clone(),
            text_columns: self.text_columns.clone(),
            batch_size: s.batch_size,
            shard: s.shard,
            skip_bad_rows: self.skip_bad_rows,
            clean,
        }
    }
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
