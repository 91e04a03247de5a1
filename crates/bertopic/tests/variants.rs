//! BERTopic's modelling variants on the shared 200-abstract arXiv sample with its precomputed
//! MiniLM embeddings: zero-shot topics, supervised and semi-supervised fits, guided topics.
//! Topic names and seed words are embedded with the real all-MiniLM-L6-v2 (fetched by
//! `cargo xtask test`).

use std::collections::BTreeMap;
use std::sync::Arc;

use bertopic::cluster::metrics::normalized_mutual_info;
use bertopic::embed::{read_npy, Embedder};
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::represent::cosine;
use bertopic::{Bertopic, TopicModel};
use ndarray::{Array2, Axis};

use bertopic_testdata::shared_dir as shared;

struct Sample {
    docs: Vec<String>,
    labels: Vec<String>,
    embeddings: Array2<f32>,
}

/// The 200-row sample, its arXiv labels, and its rows of the full corpus' embeddings (matched
/// by title and abstract: the sample is a plain copy of those rows).
fn sample() -> Sample {
    let data = shared().join("data");
    let sample_rows = bertopic_testdata::arxiv_sample_rows();
    let (docs, summary) = read_corpus(
        &data.join("arxiv-cs-abstracts-200.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )
    .expect("sample readable");
    assert_eq!(summary.kept, 200);
    let all = read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    let rows: Vec<usize> = docs.iter().map(|d| sample_rows[d.row - 1]).collect();
    Sample {
        labels: docs
            .iter()
            .map(|d| d.label.clone().expect("Label column"))
            .collect(),
        docs: docs.into_iter().map(|d| d.text).collect(),
        embeddings: all.select(Axis(0), &rows),
    }
}

fn minilm() -> Arc<dyn Embedder> {
    bertopic::load_embedder(bertopic::embed::DEFAULT_MODEL, false)
        .expect("all-MiniLM-L6-v2 (run `bertopic fetch-model` or `cargo xtask test`)")
}

/// Class ids of the labels, by first appearance.
fn class_ids(labels: &[String]) -> Vec<i64> {
    let mut ids: BTreeMap<&str, i64> = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let n = ids.len() as i64;
            *ids.entry(l.as_str()).or_insert(n)
        })
        .collect()
}

/// Zero-shot: documents of the named subjects land in their named topics. Names are the three
/// big arXiv categories of the sample; the threshold suits MiniLM's abstract-vs-short-name
/// similarities (BERTopic's 0.7 assigns nothing on this corpus, which the test also checks).
#[test]
fn zeroshot_assigns_named_subjects() {
    let s = sample();
    let embedder = minilm();
    let names = vec![
        "computer vision: images, video and visual recognition".to_string(),
        "natural language processing and language models".to_string(),
    ];
    let label_of = ["cs.CV", "cs.CL"];
    let name_emb = embedder.embed(&names).expect("names embed");
    // The rule alone at a few thresholds, for the report.
    for th in [0.15, 0.2, 0.25, 0.3, 0.7] {
        let mut line = format!("zero-shot rule at {th}:");
        for (k, lab) in label_of.iter().enumerate() {
            let (mut n, mut tp) = (0usize, 0usize);
            for i in 0..s.docs.len() {
                let sims: Vec<f64> = (0..names.len())
                    .map(|j| cosine(s.embeddings.row(i), name_emb.row(j)))
                    .collect();
                if sims[k] >= th && sims.iter().all(|&x| x <= sims[k]) {
                    n += 1;
                    tp += usize::from(s.labels[i] == *lab);
                }
            }
            let total = s.labels.iter().filter(|l| *l == lab).count();
            line += &format!(
                " {lab} {n} docs, P {:.2} R {:.2};",
                tp as f64 / n.max(1) as f64,
                tp as f64 / total as f64
            );
        }
        println!("{line}");
    }
    let threshold = 0.2;
    let model = Bertopic::builder()
        .embedder(Arc::clone(&embedder))
        .zeroshot_topic_list(names.clone(), threshold)
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("zero-shot fit");
    let topics = model.document_topics();
    // Named topics come first (BERTopic's numbering) and carry their name as label.
    let mut named: BTreeMap<usize, i64> = BTreeMap::new();
    for t in model.topics() {
        if let Some(k) = names.iter().position(|n| Some(n) == t.label.as_ref()) {
            named.insert(k, t.id);
        }
    }
    assert_eq!(named.len(), 2, "both names became topics: {named:?}");
    assert_eq!(named.values().copied().collect::<Vec<_>>(), vec![0, 1]);
    for (k, &id) in &named {
        let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
        for (i, &t) in topics.iter().enumerate() {
            let is = t == id;
            let truth = s.labels[i] == label_of[*k];
            match (is, truth) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
            if is {
                // The promise itself: assigned documents pass the threshold with this name
                // as their most similar one.
                let sims: Vec<f64> = (0..names.len())
                    .map(|j| cosine(s.embeddings.row(i), name_emb.row(j)))
                    .collect();
                assert!(sims[*k] >= threshold, "doc {i} sim {}", sims[*k]);
                assert!(sims.iter().all(|&x| x <= sims[*k]));
            }
        }
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        println!(
            "zero-shot {:<6} \"{}\": {} docs, precision {precision:.3}, recall {recall:.3}",
            label_of[*k],
            names[*k],
            tp + fp
        );
        let base = s.labels.iter().filter(|l| *l == label_of[*k]).count() as f64 / 200.0;
        assert!(
            precision >= base + 0.3,
            "{}: precision {precision:.3} barely above the base rate {base:.3}",
            label_of[*k]
        );
    }
    // The rest were clustered: topics beyond the named ones exist or they are outliers.
    assert!(topics.iter().any(|&t| t == -1 || t >= 2));
    // Saved with the model: the settings and the labels come back.
    let dir = std::env::temp_dir().join(format!("bertopic-zeroshot-{}", std::process::id()));
    model.save(&dir).expect("save");
    let back = TopicModel::load(&dir).expect("load");
    assert_eq!(back.params().variants.zeroshot_topic_list, names);
    assert_eq!(
        back.topic(0).expect("topic 0").label.as_deref(),
        Some(names[0].as_str())
    );
    std::fs::remove_dir_all(&dir).ok();

    // BERTopic's default threshold: MiniLM abstracts never reach 0.7 with these names, so
    // every document is clustered and no topic carries a name.
    let default = Bertopic::builder()
        .embedder(embedder)
        .zeroshot_topic_list(names.clone(), 0.7)
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("fit");
    assert!(default
        .topics()
        .iter()
        .all(|t| !names.iter().any(|n| Some(n) == t.label.as_ref())));
}

/// Supervised: all labels known → the labels are the topics (NMI 1, one topic per class).
/// Semi-supervised: half the labels given → NMI against all labels rises over the
/// unsupervised fit.
#[test]
fn supervised_and_semi_supervised_use_the_labels() {
    let s = sample();
    let y = class_ids(&s.labels);
    let n_classes = y.iter().copied().max().unwrap_or(0) as usize + 1;
    let bt = Bertopic::builder()
        .min_topic_size(5)
        .build()
        .expect("valid");
    let supervised = bt
        .fit_with_labels(&s.docs, s.embeddings.clone(), &y)
        .expect("supervised fit");
    assert_eq!(supervised.n_topics(), n_classes);
    let nmi_sup = normalized_mutual_info(supervised.document_topics(), &y);
    assert!((nmi_sup - 1.0).abs() < 1e-9, "supervised NMI {nmi_sup}");
    // Largest class (cs.CV, 100 docs) is topic 0.
    assert_eq!(supervised.topic(0).expect("topic 0").count, 100);

    let unsup = bt
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("unsupervised fit");
    // Every second document keeps its label; the others are unknown (−1).
    let half: Vec<i64> = y
        .iter()
        .enumerate()
        .map(|(i, &l)| if i % 2 == 0 { l } else { -1 })
        .collect();
    let semi = bt
        .fit_with_labels(&s.docs, s.embeddings.clone(), &half)
        .expect("semi-supervised fit");
    let nmi_unsup = normalized_mutual_info(unsup.document_topics(), &y);
    let nmi_semi = normalized_mutual_info(semi.document_topics(), &y);
    let hidden: Vec<usize> = (0..y.len()).filter(|i| i % 2 == 1).collect();
    let pick = |v: &[i64]| hidden.iter().map(|&i| v[i]).collect::<Vec<_>>();
    let nmi_unsup_h = normalized_mutual_info(&pick(unsup.document_topics()), &pick(&y));
    let nmi_semi_h = normalized_mutual_info(&pick(semi.document_topics()), &pick(&y));
    println!(
        "NMI vs arXiv labels, 200 docs: unsupervised {nmi_unsup:.3} ({} topics), \
         semi-supervised (half the labels) {nmi_semi:.3} ({} topics); on the 100 unlabelled \
         docs: {nmi_unsup_h:.3} vs {nmi_semi_h:.3}",
        unsup.n_topics(),
        semi.n_topics()
    );
    assert!(
        nmi_semi > nmi_unsup,
        "semi-supervised NMI {nmi_semi:.3} does not rise over unsupervised {nmi_unsup:.3}"
    );
    // A wrong label count is a typed error, not a panic.
    assert!(bt
        .fit_with_labels(&s.docs, s.embeddings.clone(), &y[..10])
        .is_err());
}

/// Guided: seeded topics appear with their seed words among their top words, and the seed
/// words weigh more than in the unguided fit.
#[test]
fn guided_topics_carry_their_seed_words() {
    let s = sample();
    let embedder = minilm();
    let seeds: Vec<Vec<String>> = vec![
        vec!["image".into(), "video".into(), "segmentation".into()],
        vec!["language".into(), "llms".into(), "translation".into()],
    ];
    let guided = Bertopic::builder()
        .embedder(Arc::clone(&embedder))
        .seed_topic_list(seeds.clone())
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("guided fit");
    let plain = Bertopic::builder()
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("plain fit");
    let best_topic = |m: &TopicModel, words: &[String]| -> (i64, usize) {
        m.topics()
            .iter()
            .filter(|t| t.id >= 0)
            .map(|t| {
                let hits = t.words.iter().filter(|(w, _)| words.contains(w)).count();
                (t.id, hits)
            })
            .max_by_key(|&(id, h)| (h, -id))
            .unwrap_or((-1, 0))
    };
    for seed in &seeds {
        let (gid, ghits) = best_topic(&guided, seed);
        let (pid, phits) = best_topic(&plain, seed);
        println!(
            "seed {seed:?}: guided topic {gid} has {ghits} seed words in its top 10 \
             ({:?}); unguided best topic {pid} has {phits}",
            guided
                .topic(gid)
                .map(|t| t.words.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>())
        );
        assert!(
            ghits >= 2,
            "seed topic {seed:?} not found among the guided topics"
        );
        assert!(ghits >= phits);
        // The 1.2x c-TF-IDF boost: each seed word ranks at least as high as unguided.
        let rank = |m: &TopicModel, id: i64, w: &str| {
            m.topic(id)
                .ok()
                .and_then(|t| t.words.iter().position(|(x, _)| x == w))
                .unwrap_or(usize::MAX)
        };
        for w in seed {
            let (g, p) = (rank(&guided, gid, w), rank(&plain, pid, w));
            if p != usize::MAX {
                assert!(g <= p, "seed word {w}: rank {g} guided vs {p} unguided");
            }
        }
    }
    assert_eq!(guided.params().variants.seed_topic_list, seeds);
}
