//! Issue #23: `predict` gives a document the topic `train` gave it, and is at least as accurate
//! on unseen documents as the UMAP + HDBSCAN path it replaces as the default. Measured on the
//! shared corpora with their MiniLM embeddings (seed 42, default settings); the figures are
//! printed side by side for every path (`cargo test --test predict_consistency -- --nocapture`).

use bertopic::ndarray::{Array2, Axis};
use bertopic::{Bertopic, PredictOptions, PredictStrategy, TopicModel};
use bertopic_suite::corpus_with_embeddings;
use bertopic_suite::predict::{
    accuracy, consistency, label_ids, paths, same_share, split, with_noise, Consistency,
};

struct Corpus {
    texts: Vec<String>,
    labels: Vec<String>,
    embeddings: Array2<f32>,
}

fn load(name: &str) -> Corpus {
    let (docs, embeddings) = corpus_with_embeddings(name).expect("shared corpus");
    Corpus {
        labels: docs
            .iter()
            .map(|d| d.label.clone().unwrap_or_default())
            .collect(),
        texts: docs.into_iter().map(|d| d.text).collect(),
        embeddings,
    }
}

fn fit(texts: &[String], embeddings: &Array2<f32>) -> TopicModel {
    Bertopic::builder()
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(texts, embeddings.clone())
        .unwrap()
}

/// Predicts the training documents again along every path, prints the table and checks the
/// issue's bars for the default path.
fn check_consistency(name: &str, model: &TopicModel, texts: &[String], emb: &Array2<f32>) {
    let noisy = with_noise(emb, 1e-4, 42);
    eprintln!(
        "{name} ({} training documents): same topic as the fit",
        texts.len()
    );
    let mut by_path: Vec<(&str, Consistency)> = Vec::new();
    for (path, opts) in paths() {
        let c = consistency(model, texts, emb, &noisy, &opts);
        eprintln!(
            "  {path:<20} identical {:6.2} %  +N(0,1e-4) noise {:6.2} %  noise, same text {:6.2} %",
            100.0 * c.identical,
            100.0 * c.noisy,
            100.0 * c.noisy_with_text
        );
        by_path.push((path, c));
    }
    let default = by_path
        .iter()
        .find(|(p, _)| p.starts_with("knn"))
        .map(|(_, c)| *c)
        .unwrap();
    assert!(
        default.identical >= 0.999,
        "{name}: identical embeddings keep their topic for {:.4}",
        default.identical
    );
    assert!(
        default.noisy >= 0.95,
        "{name}: embeddings + N(0, 1e-4) noise keep their topic for {:.4}",
        default.noisy
    );
    assert!(
        default.noisy_with_text >= 0.999,
        "{name}: training texts keep their topic for {:.4}",
        default.noisy_with_text
    );
    // Training documents are recognised whatever the strategy.
    let umap_known = by_path
        .iter()
        .find(|(p, _)| p.contains("known"))
        .map(|(_, c)| *c)
        .unwrap();
    assert!(umap_known.identical >= 0.999 && umap_known.noisy_with_text >= 0.999);
}

#[test]
fn sotu_training_documents_keep_their_topic() {
    let c = load("sotu-chunks");
    let model = fit(&c.texts, &c.embeddings);
    check_consistency("sotu-chunks", &model, &c.texts, &c.embeddings);
}

/// Fit on a seeded 70 % of arXiv: the training part must keep its topics, and the other 30 %
/// must be predicted at least as well (NMI, ARI against the arXiv categories) as by the old
/// UMAP + HDBSCAN path.
#[test]
fn arxiv_consistent_and_at_least_as_accurate_on_unseen_documents() {
    let c = load("arxiv-cs-abstracts");
    let (train, test) = split(c.texts.len(), 0.7, 42);
    let tr_texts: Vec<String> = train.iter().map(|&i| c.texts[i].clone()).collect();
    let tr_emb = c.embeddings.select(Axis(0), &train);
    let model = fit(&tr_texts, &tr_emb);
    check_consistency("arxiv-cs-abstracts (70 %)", &model, &tr_texts, &tr_emb);

    let ids = label_ids(&c.labels);
    let old = PredictOptions {
        keep_known: false,
        ..PredictOptions::with_strategy(PredictStrategy::Umap)
    };
    let new = PredictOptions::default();
    let a_old = accuracy(&model, &c.texts, &c.embeddings, &ids, &test, &old);
    let a_new = accuracy(&model, &c.texts, &c.embeddings, &ids, &test, &new);
    eprintln!(
        "arxiv-cs-abstracts: {} unseen documents vs the arXiv categories (all rows, -1 a class); \
         the fit has {:.1} % outliers",
        test.len(),
        100.0 * model.outlier_fraction()
    );
    for (path, a) in [("umap (before #23)", a_old), ("knn (default)", a_new)] {
        eprintln!(
            "  {path:<20} NMI {:.4}  ARI {:.4}  outliers {:5.1} %  {:.2} s",
            a.nmi,
            a.ari,
            100.0 * a.outliers,
            a.seconds
        );
    }
    assert!(
        a_new.nmi >= a_old.nmi,
        "NMI of the default path {:.4} below the old path's {:.4}",
        a_new.nmi,
        a_old.nmi
    );
    assert!(
        a_new.ari >= a_old.ari,
        "ARI of the default path {:.4} below the old path's {:.4}",
        a_new.ari,
        a_old.ari
    );

    // Deterministic on any thread count.
    let test_texts: Vec<String> = test.iter().map(|&i| c.texts[i].clone()).collect();
    let test_emb = c.embeddings.select(Axis(0), &test);
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| model.transform_embeddings(&test_texts, &test_emb).unwrap())
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one.0, four.0, "topics depend on the thread count");
    assert!(one
        .1
        .iter()
        .zip(&four.1)
        .all(|(a, b)| a.to_bits() == b.to_bits()));

    // A batch mixing training and new documents: the training ones keep their topic.
    let mixed_rows: Vec<usize> = train
        .iter()
        .take(500)
        .chain(test.iter().take(500))
        .copied()
        .collect();
    let mixed_texts: Vec<String> = mixed_rows.iter().map(|&i| c.texts[i].clone()).collect();
    let (mixed, _) = model
        .transform_embeddings(&mixed_texts, &c.embeddings.select(Axis(0), &mixed_rows))
        .unwrap();
    assert_eq!(
        same_share(&mixed[..500], &model.document_topics()[..500]),
        1.0,
        "training documents in a mixed batch keep their topic"
    );
}
