//! Whole-pipeline tests on the shared corpora with their precomputed MiniLM embeddings
//! (no model needed): quality against Python BERTopic's figures, determinism, save/load.

use bertopic::cluster::metrics::{adjusted_rand_index, normalized_mutual_info};
use bertopic::coherence::Measure;
use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::{Bertopic, TopicModel};
use bertopic_suite::{data, shared_dir};

struct Corpus {
    texts: Vec<String>,
    labels: Vec<String>,
    embeddings: ndarray::Array2<f32>,
}

fn load(name: &str) -> Corpus {
    let (docs, summary) = read_corpus(
        &data(&format!("{name}.csv")),
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )
    .expect("shared corpus");
    assert_eq!(
        summary.kept, summary.records_read,
        "no record of a shared corpus is dropped"
    );
    let all = read_npy(&data(&format!("{name}.minilm.npy"))).expect("shared embeddings");
    let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
    Corpus {
        labels: docs
            .iter()
            .map(|d| d.label.clone().unwrap_or_default())
            .collect(),
        texts: docs.into_iter().map(|d| d.text).collect(),
        embeddings: all.select(ndarray::Axis(0), &rows),
    }
}

/// The number after `key` in the reference README's prose (e.g. "NMI 0.206").
fn readme_number(text: &str, anchor: &str, key: &str) -> f64 {
    let at = text
        .find(anchor)
        .unwrap_or_else(|| panic!("`{anchor}` not in the reference README"));
    let rest = &text[at..];
    let k = rest
        .find(key)
        .unwrap_or_else(|| panic!("`{key}` not after `{anchor}`"))
        + key.len();
    let num: String = rest[k..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse()
        .unwrap_or_else(|_| panic!("no number after `{key}`"))
}

/// A cell of the README's baseline table: row starting with `row`, column index `col`.
fn table_cell(text: &str, row: &str, col: usize) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("| {row} |")))
        .unwrap_or_else(|| panic!("no table row `{row}`"));
    let cell = line
        .split('|')
        .nth(col + 1)
        .unwrap_or_else(|| panic!("no column {col} in `{line}`"));
    let num: String = cell
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse()
        .unwrap_or_else(|_| panic!("cell `{cell}` is not a number"))
}

fn label_ids(labels: &[String]) -> Vec<i64> {
    let mut map = std::collections::BTreeMap::new();
    labels
        .iter()
        .map(|l| {
            let n = map.len() as i64;
            *map.entry(l.clone()).or_insert(n)
        })
        .collect()
}

#[test]
fn arxiv_quality_matches_python_bertopic() {
    let readme = std::fs::read_to_string(shared_dir().join("reference/README.md"))
        .expect("reference README");
    let py_nmi = readme_number(&readme, "arxiv-cs-abstracts, all rows", "NMI");
    let py_ari = readme_number(&readme, "arxiv-cs-abstracts, all rows", "ARI");
    let py_cv = table_cell(&readme, "arxiv-cs-abstracts +stop words", 6);
    let py_outliers = table_cell(&readme, "arxiv-cs-abstracts +stop words", 5);

    let c = load("arxiv-cs-abstracts");
    let model = Bertopic::builder()
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(&c.texts, c.embeddings.clone())
        .unwrap();
    let truth = label_ids(&c.labels);
    let nmi = normalized_mutual_info(model.document_topics(), &truth);
    let ari = adjusted_rand_index(model.document_topics(), &truth);
    let cv = model.coherence(&c.texts, Measure::CV).unwrap().mean;
    let outliers = 100.0 * model.outlier_fraction();
    eprintln!(
        "arxiv: {} topics; NMI {nmi:.3} (py {py_nmi}), ARI {ari:.3} (py {py_ari}), c_v {cv:.3} (py {py_cv}), outliers {outliers:.1}% (py {py_outliers}%); {:?}",
        model.n_topics(),
        model.timings()
    );
    assert!(
        nmi >= py_nmi - 0.02,
        "NMI {nmi} below Python's {py_nmi} - 0.02"
    );
    assert!(
        ari >= py_ari - 0.02,
        "ARI {ari} below Python's {py_ari} - 0.02"
    );
    assert!(cv >= py_cv - 0.02, "c_v {cv} below Python's {py_cv} - 0.02");
    assert!(
        outliers <= py_outliers + 5.0,
        "outliers {outliers}% above Python's {py_outliers}% + 5"
    );
}

/// The first `n` sotu-chunks passages and their embeddings.
fn sotu_head(n: usize) -> (Vec<String>, ndarray::Array2<f32>) {
    let c = load("sotu-chunks");
    (
        c.texts[..n].to_vec(),
        c.embeddings.slice(ndarray::s![..n, ..]).to_owned(),
    )
}

#[test]
fn same_seed_same_topics_and_save_load_round_trip() {
    let n = 3000;
    let (texts, emb) = sotu_head(n);
    let b = Bertopic::builder().seed(7).build().unwrap();
    let m1 = b.fit_with_embeddings(&texts, emb.clone()).unwrap();
    let m2 = b.fit_with_embeddings(&texts, emb.clone()).unwrap();
    assert_eq!(
        m1.document_topics(),
        m2.document_topics(),
        "same input and seed, same topics"
    );
    assert_eq!(m1.topic_info(), m2.topic_info());
    assert!(m1.n_topics() >= 2);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    m1.save(&path).unwrap();
    let loaded = TopicModel::load(&path).unwrap();
    assert_eq!(loaded.topic_info(), m1.topic_info());
    assert_eq!(loaded.document_topics(), m1.document_topics());
    let (a, _) = m1.transform_embeddings(&texts, &emb).unwrap();
    let (b2, _) = loaded.transform_embeddings(&texts, &emb).unwrap();
    assert_eq!(a, b2, "a loaded model predicts exactly as the original");
    let fit = m1.document_topics();
    let clustered: Vec<usize> = (0..n).filter(|&i| fit[i] >= 0).collect();
    let agree =
        clustered.iter().filter(|&&i| a[i] == fit[i]).count() as f64 / clustered.len() as f64;
    assert!(
        agree >= 0.95,
        "transform agrees with fit on {agree:.3} of clustered documents"
    );

    // Light mode (cosine to topic embeddings) puts most clustered documents in their topic.
    let (light, _) = loaded.transform_light(&emb).unwrap();
    let light_agree =
        clustered.iter().filter(|&&i| light[i] == fit[i]).count() as f64 / clustered.len() as f64;
    assert!(
        light_agree >= 0.7,
        "light transform agrees on {light_agree:.3}"
    );

    // A corrupted tensor file is refused with a clear error.
    let st = path.join("model.safetensors");
    let mut bytes = std::fs::read(&st).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&st, bytes).unwrap();
    let err = TopicModel::load(&path).unwrap_err().to_string();
    assert!(err.contains("corrupted"), "{err}");
}

/// The whole fit (UMAP, HDBSCAN, c-TF-IDF) gives the same topics, probabilities and word
/// scores, bit for bit, on 1, 2 and 3 threads.
#[test]
fn same_topics_on_any_thread_count() {
    let n = 3000;
    let (texts, emb) = sotu_head(n);
    let b = Bertopic::builder().seed(11).build().unwrap();
    let fit_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let m = pool.install(|| b.fit_with_embeddings(&texts, emb.clone()).unwrap());
        let probs: Vec<u64> = m
            .document_probabilities()
            .iter()
            .map(|p| p.to_bits())
            .collect();
        (m.document_topics().to_vec(), probs, m.topics().to_vec())
    };
    let one = fit_on(1);
    assert!(one.2.len() >= 3, "a real clustering");
    for threads in [2, 3] {
        assert!(fit_on(threads) == one, "{threads} threads differ from 1");
    }
}

#[test]
fn outliers_topics_merge_and_info() {
    let n = 2000;
    let (texts, emb) = sotu_head(n);
    let mut m = Bertopic::builder()
        .seed(1)
        .build()
        .unwrap()
        .fit_with_embeddings(&texts, emb.clone())
        .unwrap();
    let before = m.n_topics();
    let topics = m.document_topics().to_vec();
    let out_before = topics.iter().filter(|&&t| t == -1).count();
    for strategy in [
        bertopic::OutlierStrategy::CTfidf,
        bertopic::OutlierStrategy::Embeddings,
    ] {
        let new = m
            .reduce_outliers(&texts, &topics, strategy, 0.0, None)
            .unwrap();
        let out_after = new.iter().filter(|&&t| t == -1).count();
        assert!(
            out_after < out_before || out_before == 0,
            "{strategy:?} left {out_after} of {out_before} outliers"
        );
        assert!(
            new.iter().zip(&topics).all(|(a, b)| *b == -1 || a == b),
            "only outliers move"
        );
    }
    if before > 3 {
        m.reduce_topics(&texts, 3).unwrap();
        assert_eq!(m.n_topics(), 3);
        let info = m.topic_info();
        let sizes: Vec<usize> = info
            .iter()
            .filter(|t| t.topic >= 0)
            .map(|t| t.count)
            .collect();
        assert!(
            sizes.windows(2).all(|w| w[0] >= w[1]),
            "topics numbered by size: {sizes:?}"
        );
        assert_eq!(info.iter().map(|t| t.count).sum::<usize>(), n);
    }
    assert_eq!(m.document_info().len(), n);
}
