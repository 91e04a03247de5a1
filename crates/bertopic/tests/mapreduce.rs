//! Map-reduce topic words on the 200-row State of the Union sample: per-partition class-term
//! counts, serialised and merged in another order, give exactly the single-machine c-TF-IDF
//! (vocabulary, counts, weights, words) on the same assignments.

use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::represent::{ClassTermCounts, TopicRepresentation, VectorizerParams};
use bertopic::stream::{count_stream, topic_words, topic_words_of, Shard, StreamOptions};
use bertopic::BertopicParams;

/// The sample's cleaned texts and an assignment with outliers and uneven topics: the party
/// label's rank, and every seventh document an outlier.
fn corpus() -> (Vec<String>, Vec<i64>) {
    let (docs, _) = read_corpus(
        &bertopic_testdata::data("sotu-chunks-200.csv"),
        &ReadOptions {
            label_column: Some("Label".into()),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    let mut parties: Vec<String> = docs.iter().filter_map(|d| d.label.clone()).collect();
    parties.sort();
    parties.dedup();
    assert!(parties.len() >= 3, "labels were read: {parties:?}");
    let topics = docs
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.label {
            _ if i % 7 == 3 => -1,
            Some(l) => parties.binary_search(l).unwrap() as i64,
            None => -1,
        })
        .collect();
    (docs.into_iter().map(|d| d.text).collect(), topics)
}

fn jsonl(docs: &[String], topics: &[i64], range: std::ops::Range<usize>) -> String {
    range
        .map(|i| {
            serde_json::json!({"id": format!("doc-{i}"), "text": docs[i], "topic": topics[i]})
                .to_string()
                + "\n"
        })
        .collect()
}

fn assert_same(got: &TopicRepresentation, want: &TopicRepresentation) {
    assert_eq!(got.topic_ids, want.topic_ids);
    assert_eq!(got.sizes, want.sizes);
    assert_eq!(got.vocabulary, want.vocabulary);
    assert_eq!(got.counts, want.counts);
    assert_eq!(got.idf, want.idf);
    assert_eq!(got.ctfidf, want.ctfidf);
    assert_eq!(got.words, want.words);
}

/// Counts each part, sends it through JSON (as between machines) and merges in reverse order.
fn merged(params: &BertopicParams, parts: Vec<(String, Option<Shard>)>) -> TopicRepresentation {
    let counts: Vec<ClassTermCounts> = parts
        .iter()
        .map(|(text, shard)| {
            let opts = StreamOptions {
                batch_size: 17,
                shard: *shard,
                ..StreamOptions::default()
            };
            let (c, _) = count_stream(text.as_bytes(), params, &opts).unwrap();
            serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap()
        })
        .collect();
    topic_words(params, counts.into_iter().rev()).unwrap()
}

#[test]
fn merged_partition_counts_equal_single_machine_words() {
    let (docs, topics) = corpus();
    let n = docs.len();
    for params in [
        BertopicParams::default(),
        BertopicParams {
            vectorizer: VectorizerParams {
                min_df: 2,
                max_features: Some(500),
                ..VectorizerParams::default()
            },
            ..BertopicParams::default()
        },
    ] {
        let single = topic_words_of(&params, &docs, &topics).unwrap();
        assert!(single.topic_ids.len() >= 4);
        // Uneven contiguous partitions.
        let contiguous = [0..13, 13..120, 120..n]
            .into_iter()
            .map(|r| (jsonl(&docs, &topics, r), None))
            .collect();
        assert_same(&merged(&params, contiguous), &single);
        // Interleaved shards of one stream, as an Indexed Job reads it.
        let all = jsonl(&docs, &topics, 0..n);
        let shards = (0..3)
            .map(|i| (all.clone(), Some(Shard { index: i, count: 3 })))
            .collect();
        assert_same(&merged(&params, shards), &single);
    }
}

#[test]
fn bigram_models_are_refused_with_a_reason() {
    let params = BertopicParams {
        ngram_range: (1, 2),
        ..BertopicParams::default()
    };
    let err = count_stream(
        "{\"text\":\"a b\",\"topic\":0}\n".as_bytes(),
        &params,
        &StreamOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ngram_range"), "{err}");
}
