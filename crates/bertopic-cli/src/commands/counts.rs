//! `bertopic counts` and `bertopic topic-words`: map-reduce topic words.

use bertopic::stream::{self, CountsJob, StreamOptions, TopicWordsJob};

use crate::args::{CountsArgs, TopicWordsArgs};
use crate::out::{CliResult, Out, StdoutStream};

pub(crate) fn counts(a: CountsArgs, o: Out) -> CliResult {
    let job = CountsJob {
        model: a.registry.model_dir(&a.model)?,
        input: a.input.clone(),
        output: a.output.clone(),
        stream: StreamOptions {
            name: a.input.clone(),
            text_columns: a.text_columns.clone(),
            batch_size: a.stream.batch_size,
            shard: a.stream.shard,
            skip_bad_rows: a.skip_bad_rows,
            clean: true,
        },
    };
    let mut out = StdoutStream::new();
    let r = stream::counts(&job, &mut out);
    let (docs, summary) = out.finish(r)?;
    o.info(format!(
        "{docs} documents counted ({} records, {} without topic or text, {} skipped)",
        summary.records,
        summary.empty,
        summary.skipped.len()
    ));
    Ok(())
}

pub(crate) fn topic_words(a: TopicWordsArgs, o: Out) -> CliResult {
    let job = TopicWordsJob {
        model: a.registry.model_dir(&a.model)?,
        counts: a.counts.clone(),
        input: a.input.clone(),
        output: a.output.clone(),
        stream: StreamOptions {
            name: a.input.clone().unwrap_or_default(),
            text_columns: a.text_columns.clone(),
            ..StreamOptions::default()
        },
    };
    let mut out = StdoutStream::new();
    let r = stream::topic_words_job(&job, &mut out);
    let info = out.finish(r)?;
    o.info(format!(
        "{} topics ({} documents)",
        info.iter().filter(|t| t.topic >= 0).count(),
        info.iter().map(|t| t.count).sum::<usize>()
    ));
    Ok(())
}
