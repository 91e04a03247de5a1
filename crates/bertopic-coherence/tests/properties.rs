//! Property tests: no panic on any input, finite values, deterministic across thread counts.

use bertopic_coherence::{
    topic_diversity, CoherenceError, CoherenceOptions, Measure, ReferenceCorpus,
};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    // A small vocabulary so words repeat; "zz…" words are never in the texts.
    prop_oneof![
        8 => (0u8..12).prop_map(|i| format!("w{i}")),
        1 => (0u8..3).prop_map(|i| format!("zz{i}")),
        1 => Just(String::new()),
    ]
}

fn measure() -> impl Strategy<Value = Measure> {
    prop::sample::select(Measure::ALL.to_vec())
}

fn options() -> impl Strategy<Value = CoherenceOptions> {
    (0usize..6, prop::option::of(0usize..15), any::<bool>()).prop_map(
        |(top_n, window_size, gensim_window_quirk)| CoherenceOptions {
            top_n,
            window_size,
            gensim_window_quirk,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_panics_finite_and_deterministic(
        texts in prop::collection::vec(prop::collection::vec(word(), 0..30), 0..8),
        topics in prop::collection::vec(prop::collection::vec(word(), 0..7), 0..5),
        measure in measure(),
        opts in options(),
    ) {
        let corpus = ReferenceCorpus::new(&texts);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let a = one.install(|| corpus.coherence(&topics, measure, &opts));
        let b = three.install(|| corpus.coherence(&topics, measure, &opts));
        prop_assert_eq!(&a, &b);
        match a {
            Ok(r) => {
                prop_assert!(r.mean.is_finite());
                prop_assert!(r.per_topic.iter().all(|v| v.is_finite()));
                prop_assert_eq!(r.per_topic.len(), topics.len());
                prop_assert_eq!(r.dropped_per_topic.len(), topics.len());
                prop_assert_eq!(r.dropped_words, r.dropped_per_topic.iter().sum::<usize>());
                if measure == Measure::CV {
                    prop_assert!(r.per_topic.iter().all(|v| (-1.0 - 1e-9..=1.0 + 1e-9).contains(v)));
                }
                if measure == Measure::CNpmi {
                    prop_assert!(r.per_topic.iter().all(|v| *v <= 1.0 + 1e-9));
                }
            }
            Err(e) => {
                // Every error is one of the documented, explained cases.
                prop_assert!(!e.to_string().is_empty());
                let documented = matches!(
                    e,
                    CoherenceError::NoTopics
                        | CoherenceError::NoKnownWords { .. }
                        | CoherenceError::TooFewKnownWords { .. }
                        | CoherenceError::InvalidOption { .. }
                );
                prop_assert!(documented);
            }
        }
        let d = topic_diversity(&topics, opts.top_n);
        prop_assert!((0.0..=1.0).contains(&d));
    }
}
