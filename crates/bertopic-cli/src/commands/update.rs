//! `bertopic update`: one online batch (BERTopic `partial_fit`).

use bertopic::fs::DirPolicy;
use bertopic::jobs::{self, UpdateJob};
use bertopic::variants::OnlineParams;
use bertopic::BertopicParams;

use crate::args::UpdateArgs;
use crate::out::{CliResult, Out};

pub(crate) fn run(a: UpdateArgs, o: Out) -> CliResult {
    let model = a
        .model
        .as_deref()
        .map(|m| a.registry.model_dir(m))
        .transpose()?;
    let given = [
        a.n_clusters.is_some(),
        a.n_components.is_some(),
        a.decay.is_some(),
        a.delete_min_df.is_some(),
        a.seed.is_some(),
        a.embedding_model.is_some(),
    ];
    if model.is_some() && given.contains(&true) {
        return Err(
            "--model continues a model with its own settings: drop --n-clusters, \
                    --n-components, --decay, --delete-min-df, --seed and --embedding-model \
                    (they start a new model)"
                .into(),
        );
    }
    let defaults = OnlineParams::default();
    let mut params = BertopicParams {
        seed: a.seed.unwrap_or(42),
        ..BertopicParams::default()
    };
    if let Some(m) = &a.embedding_model {
        params.embedding_model = m.clone();
    }
    params.variants.online = Some(OnlineParams {
        n_clusters: a.n_clusters.unwrap_or(defaults.n_clusters),
        n_components: a.n_components.unwrap_or(defaults.n_components),
        decay: a.decay,
        delete_min_df: a.delete_min_df,
        ..defaults
    });
    let job = UpdateJob {
        model,
        params,
        input: a.input.input.clone(),
        read: a.input.options(),
        embeddings: a.embeddings.clone(),
        output: a.output.clone(),
        output_policy: if a.allow_other_files {
            DirPolicy::AllowOtherFiles
        } else {
            DirPolicy::OursOnly
        },
        cache: !a.no_cache,
        progress: !o.quiet,
    };
    let done = jobs::update(&job)?;
    o.info(format!("{}", done.summary));
    let m = &done.online;
    o.info(format!(
        "batch {} ({} documents seen, {} terms): {} topics; model, online state and \
         topic_info.csv in {}",
        m.batches(),
        m.docs_seen(),
        m.vocabulary_len(),
        m.model().map_or(0, |t| t.n_topics()),
        a.output.display()
    ));
    Ok(())
}
