//! Online topic modelling (BERTopic `partial_fit`) on the shared arXiv corpus with its
//! precomputed MiniLM embeddings: determinism, save → load → continue equal to an uninterrupted
//! run, prediction with the saved model, and (heavy, ignored) NMI against the labels after 10
//! batches of the 20k corpus compared with batch fits.

use std::collections::BTreeMap;
use std::path::Path;

use bertopic::cluster::metrics::normalized_mutual_info;
use bertopic::cluster::{Clusterer, KMeans, KMeansParams};
use bertopic::embed::read_npy;
use bertopic::fs::DirPolicy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::reduce::{Pca, PcaParams, Reducer};
use bertopic::variants::online::ONLINE_STATE_FILE;
use bertopic::variants::{OnlineParams, OnlineTopicModel};
use bertopic::{Bertopic, PredictOptions, TopicModel};
use ndarray::{s, Array2, Axis};

use bertopic_testdata::shared_dir as shared;

struct Corpus {
    docs: Vec<String>,
    labels: Vec<i64>,
    embeddings: Array2<f32>,
}

/// Label strings → ids by first appearance.
fn class_ids(labels: &[String]) -> Vec<i64> {
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let n = ids.len() as i64;
            *ids.entry(l.clone()).or_insert(n)
        })
        .collect()
}

/// The 200-row sample with its rows of the full corpus' embeddings.
fn sample() -> Corpus {
    let data = shared().join("data");
    let rows = bertopic_testdata::arxiv_sample_rows();
    let (docs, _) = read_corpus(
        &data.join("arxiv-cs-abstracts-200.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )
    .expect("sample readable");
    let all = read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    let pick: Vec<usize> = docs.iter().map(|d| rows[d.row - 1]).collect();
    Corpus {
        labels: class_ids(
            &docs
                .iter()
                .map(|d| d.label.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        docs: docs.into_iter().map(|d| d.text).collect(),
        embeddings: all.select(Axis(0), &pick),
    }
}

fn online(params: OnlineParams) -> OnlineTopicModel {
    Bertopic::builder()
        .online(params)
        .build()
        .expect("valid parameters")
        .online_model()
        .expect("online model")
}

fn fit_batches(m: &mut OnlineTopicModel, c: &Corpus, range: std::ops::Range<usize>, size: usize) {
    for start in range.step_by(size) {
        let end = start + size;
        m.partial_fit(
            &c.docs[start..end],
            &c.embeddings.slice(s![start..end, ..]).to_owned(),
        )
        .expect("batch fits");
    }
}

/// Topics (id, size, words with weights) and the last batch's topics.
type Summary = (Vec<(i64, usize, Vec<(String, f64)>)>, Vec<i64>);

/// What two runs must agree on: topics (ids, sizes, words with weights) and the last batch.
fn summary(m: &TopicModel) -> Summary {
    (
        m.topics()
            .iter()
            .map(|t| (t.id, t.count, t.words.clone()))
            .collect(),
        m.document_topics().to_vec(),
    )
}

fn state_bytes(m: &OnlineTopicModel, dir: &Path) -> Vec<u8> {
    m.save(dir, DirPolicy::OursOnly).expect("saved");
    std::fs::read(dir.join(ONLINE_STATE_FILE)).expect("state file")
}

/// 4 batches of 50: deterministic (also on one thread), and stopping after 2 batches, saving,
/// loading and continuing gives the same model and the same online state, bit for bit.
#[test]
fn batches_are_deterministic_and_resume_exactly() {
    let c = sample();
    let params = OnlineParams {
        n_clusters: 8,
        n_components: 5,
        decay: Some(0.1),
        delete_min_df: Some(2.0),
        ..OnlineParams::default()
    };
    let mut a = online(params.clone());
    fit_batches(&mut a, &c, 0..200, 50);
    assert_eq!((a.batches(), a.docs_seen()), (4, 200));
    let ma = a.model().expect("a model after the batches");
    assert_eq!(ma.n_topics(), ma.topics().len(), "no outlier topic online");
    assert!(ma.n_topics() >= 2 && ma.n_topics() <= 8);
    // Bounded: the model keeps the last batch only.
    assert_eq!(ma.document_topics().len(), 50);
    assert_eq!(
        ma.topics().iter().map(|t| t.count).sum::<usize>(),
        200,
        "topic sizes count every document seen"
    );

    let single = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool")
        .install(|| {
            let mut b = online(params.clone());
            fit_batches(&mut b, &c, 0..200, 50);
            b
        });
    assert_eq!(summary(ma), summary(single.model().expect("model")));

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut half = online(params.clone());
    fit_batches(&mut half, &c, 0..100, 50);
    half.save(&tmp.path().join("half"), DirPolicy::OursOnly)
        .expect("saved");
    let mut resumed = OnlineTopicModel::load(&tmp.path().join("half")).expect("loaded");
    assert_eq!(resumed.batches(), 2);
    fit_batches(&mut resumed, &c, 100..200, 50);
    assert_eq!(summary(ma), summary(resumed.model().expect("model")));
    assert_eq!(
        state_bytes(&a, &tmp.path().join("a")),
        state_bytes(&resumed, &tmp.path().join("resumed")),
        "the online state after resuming equals the uninterrupted one"
    );

    // The saved folder is an ordinary model: `predict` loads it and places documents with the
    // incremental PCA and the k-means centres.
    let loaded = TopicModel::load(&tmp.path().join("a")).expect("loads as a TopicModel");
    let unseen = PredictOptions {
        keep_known: false,
        ..PredictOptions::default()
    };
    let (t, p) = loaded
        .transform_embeddings_with(&c.docs, &c.embeddings, &unseen)
        .expect("predicts");
    let ids: Vec<i64> = loaded.topics().iter().map(|t| t.id).collect();
    assert!(t.iter().all(|x| ids.contains(x)));
    assert!(p.iter().all(|&x| x == 1.0));
    // The last batch's fitted topics are the nearest centres of its documents.
    let agree = t[150..]
        .iter()
        .zip(loaded.document_topics())
        .filter(|(x, y)| x == y)
        .count();
    assert!(
        agree >= 48,
        "{agree} of 50 last-batch documents predicted as fitted"
    );
}

#[test]
fn refuses_bad_batches_and_settings() {
    let c = sample();
    let mut m = online(OnlineParams {
        n_clusters: 60,
        ..OnlineParams::default()
    });
    let err = m
        .partial_fit(&c.docs[..50], &c.embeddings.slice(s![..50, ..]).to_owned())
        .unwrap_err();
    assert!(err.to_string().contains("n_clusters"), "{err}");
    assert_eq!(m.batches(), 0, "a refused batch changes nothing");
    assert!(Bertopic::builder()
        .online(OnlineParams {
            decay: Some(2.0),
            ..OnlineParams::default()
        })
        .build()
        .is_err());
    let err = OnlineTopicModel::load(&shared().join("data")).unwrap_err();
    assert!(err.to_string().contains(ONLINE_STATE_FILE), "{err}");
}

fn full_corpus() -> Corpus {
    let data = shared().join("data");
    let (docs, summary) = read_corpus(
        &data.join("arxiv-cs-abstracts.csv"),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )
    .expect("corpus readable");
    assert_eq!(summary.kept, 20_000);
    let all = read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
    Corpus {
        labels: class_ids(
            &docs
                .iter()
                .map(|d| d.label.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        docs: docs.into_iter().map(|d| d.text).collect(),
        embeddings: all.select(Axis(0), &rows),
    }
}

/// Topics of every document under the final model (IPCA + centres, as `predict` does).
fn final_topics(m: &OnlineTopicModel, c: &Corpus) -> Vec<i64> {
    let opts = PredictOptions {
        keep_known: false,
        ..PredictOptions::default()
    };
    m.model()
        .expect("model")
        .transform_embeddings_with(&c.docs, &c.embeddings, &opts)
        .expect("predicts")
        .0
}

/// 10 batches of the 20k arXiv corpus (shuffled by a fixed permutation so batches mix dates):
/// NMI against the arXiv labels within 0.05 of the same stages fitted in one go (PCA + k-means
/// with Lloyd iterations); the default UMAP + HDBSCAN pipeline's NMI is printed beside them.
#[test]
#[ignore = "heavy: 20k documents, UMAP + HDBSCAN; run with cargo test --workspace --test online -- --ignored --nocapture"]
fn ten_batches_match_a_batch_fit() {
    let c = full_corpus();
    let n = c.docs.len();
    // A fixed stride permutation (gcd(7919, 20000) = 1): every batch covers the whole period.
    let order: Vec<usize> = (0..n).map(|i| (i * 7919) % n).collect();
    let shuffled = Corpus {
        docs: order.iter().map(|&i| c.docs[i].clone()).collect(),
        labels: order.iter().map(|&i| c.labels[i]).collect(),
        embeddings: c.embeddings.select(Axis(0), &order),
    };
    let k = 50;
    let params = OnlineParams {
        n_clusters: k,
        n_components: 5,
        ..OnlineParams::default()
    };
    let t0 = std::time::Instant::now();
    let mut m = online(params.clone());
    fit_batches(&mut m, &shuffled, 0..n, n / 10);
    let online_s = t0.elapsed().as_secs_f64();
    let nmi_online = normalized_mutual_info(&final_topics(&m, &shuffled), &shuffled.labels);

    // The same stages in one go: one batch of everything (IPCA = PCA), and PCA + Lloyd k-means.
    let mut one = online(params.clone());
    fit_batches(&mut one, &shuffled, 0..n, n);
    let nmi_one = normalized_mutual_info(&final_topics(&one, &shuffled), &shuffled.labels);
    let (_, reduced) = Pca::new(PcaParams {
        n_components: 5,
        seed: 42,
    })
    .unwrap()
    .fit(shuffled.embeddings.view())
    .unwrap();
    let km = KMeans::new(KMeansParams {
        n_clusters: k,
        seed: 42,
        ..KMeansParams::default()
    })
    .unwrap()
    .fit(reduced.mapv(f64::from).view())
    .unwrap();
    let nmi_kmeans = normalized_mutual_info(km.labels(), &shuffled.labels);

    let t1 = std::time::Instant::now();
    let hdb = Bertopic::builder()
        .build()
        .unwrap()
        .fit_with_embeddings(&shuffled.docs, shuffled.embeddings.clone())
        .unwrap();
    let hdb_s = t1.elapsed().as_secs_f64();
    let nmi_hdbscan = normalized_mutual_info(hdb.document_topics(), &shuffled.labels);
    println!(
        "online 10 batches: NMI {nmi_online:.4} ({online_s:.1} s, {} topics, {} terms)\n\
         one batch (IPCA + mini-batch k-means): NMI {nmi_one:.4}\n\
         PCA + k-means (Lloyd, n_init 4): NMI {nmi_kmeans:.4}\n\
         UMAP + HDBSCAN (default pipeline): NMI {nmi_hdbscan:.4} ({hdb_s:.1} s, {} topics)",
        m.model().unwrap().n_topics(),
        m.vocabulary_len(),
        hdb.n_topics()
    );
    assert!(
        (nmi_online - nmi_kmeans).abs() <= 0.05,
        "online NMI {nmi_online} vs batch PCA + k-means {nmi_kmeans}"
    );
}
