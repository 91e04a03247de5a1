//! Topic representations (c-TF-IDF, MMR, KeyBERT-inspired) on the shared 200-abstract sample
//! with its precomputed MiniLM embeddings: what they change, determinism, save/load.

use std::collections::HashMap;
use std::sync::Arc;

use bertopic::embed::{EmbedError, Embedder};
use bertopic::{Bertopic, BertopicError, Representation, TopicModel};
use ndarray::{Array2, Axis};

mod support;

/// The 200-row sample's texts and embeddings.
fn sample() -> (Vec<String>, Array2<f32>) {
    let s = support::arxiv_sample();
    (s.docs, s.embeddings)
}

/// A model-free word embedder: hashed character trigrams of `#word#`, L2-normalised. Words
/// sharing a stem ("model", "models") get similar vectors, so MMR can be checked without the
/// real encoder.
struct Trigrams;

impl Embedder for Trigrams {
    fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
        let dim = self.dim();
        let mut out = Array2::<f32>::zeros((texts.len(), dim));
        for (i, t) in texts.iter().enumerate() {
            for w in t.to_lowercase().split_whitespace() {
                let chars: Vec<char> = format!("#{w}#").chars().collect();
                for g in chars.windows(3) {
                    // FNV-1a: a fixed hash, so the test is deterministic.
                    let mut h: u64 = 0xcbf29ce484222325;
                    for c in g {
                        h ^= u64::from(*c);
                        h = h.wrapping_mul(0x100000001b3);
                    }
                    out[[i, (h % dim as u64) as usize]] += 1.0;
                }
            }
            let n = out.row(i).dot(&out.row(i)).sqrt();
            if n > 0.0 {
                out.row_mut(i).mapv_inplace(|v| v / n);
            }
        }
        Ok(out)
    }
    fn dim(&self) -> usize {
        384
    }
    fn model_id(&self) -> String {
        "test/trigrams".into()
    }
    fn fingerprint(&self) -> String {
        "trigrams-v1".into()
    }
}

fn fit(
    texts: &[String],
    emb: &Array2<f32>,
    r: Representation,
    embedder: Arc<dyn Embedder>,
) -> TopicModel {
    Bertopic::builder()
        .min_topic_size(5)
        .seed(42)
        .representation(r)
        .embedder(embedder)
        .build()
        .expect("valid params")
        .fit_with_embeddings(texts, emb.clone())
        .expect("fit")
}

fn words(m: &TopicModel) -> Vec<Vec<String>> {
    m.topics()
        .iter()
        .filter(|t| t.id >= 0)
        .map(|t| t.words.iter().map(|(w, _)| w.clone()).collect())
        .collect()
}

/// Pairs of words in one topic that share their first five letters ("model"/"models",
/// "learning"/"learned"): near-duplicates.
fn near_duplicates(topics: &[Vec<String>]) -> usize {
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    topics
        .iter()
        .map(|ws| {
            let mut n = 0;
            for i in 0..ws.len() {
                for j in (i + 1)..ws.len() {
                    if ws[i].chars().count() >= 4 && stem(&ws[i]) == stem(&ws[j]) {
                        n += 1;
                    }
                }
            }
            n
        })
        .sum()
}

/// Mean cosine similarity between the words of a topic, averaged over topics.
fn mean_pairwise_similarity(topics: &[Vec<String>], e: &dyn Embedder) -> f64 {
    let mut total = 0.0;
    for ws in topics {
        let m = e.embed(ws).expect("embed words");
        let norms: Vec<f64> = m
            .rows()
            .into_iter()
            .map(|r| f64::from(r.dot(&r)).sqrt())
            .collect();
        let (mut s, mut n) = (0.0, 0);
        for i in 0..ws.len() {
            for j in (i + 1)..ws.len() {
                s += f64::from(m.row(i).dot(&m.row(j))) / (norms[i] * norms[j]).max(1e-12);
                n += 1;
            }
        }
        total += s / n.max(1) as f64;
    }
    total / topics.len().max(1) as f64
}

#[test]
fn mmr_removes_near_duplicate_words_and_is_deterministic() {
    let (texts, emb) = sample();
    let e: Arc<dyn Embedder> = Arc::new(Trigrams);
    let plain = fit(&texts, &emb, Representation::CTfidf, e.clone());
    let mmr = fit(&texts, &emb, Representation::mmr(0.5), e.clone());
    assert!(plain.n_topics() >= 2, "{} topics", plain.n_topics());
    assert_eq!(
        plain.document_topics(),
        mmr.document_topics(),
        "the representation changes words, not topics"
    );
    let (pw, mw) = (words(&plain), words(&mmr));
    assert_ne!(pw, mw, "MMR changed no word list");
    for (p, m) in pw.iter().zip(&mw) {
        assert_eq!(m.len(), p.len(), "MMR keeps top_n_words words per topic");
    }
    let (pd, md) = (near_duplicates(&pw), near_duplicates(&mw));
    let (ps, ms) = (
        mean_pairwise_similarity(&pw, e.as_ref()),
        mean_pairwise_similarity(&mw, e.as_ref()),
    );
    eprintln!("near-duplicate pairs: c-TF-IDF {pd}, MMR(0.5) {md}; mean word similarity {ps:.3} -> {ms:.3}");
    for (p, m) in pw.iter().zip(&mw).take(5) {
        eprintln!("  {p:?}\n  -> {m:?}");
    }
    assert!(
        pd > 0,
        "the c-TF-IDF words have no near-duplicates to remove"
    );
    assert!(
        md < pd,
        "MMR left {md} near-duplicate pairs (c-TF-IDF {pd})"
    );
    assert!(ms < ps, "MMR words are not more diverse: {ms} vs {ps}");
    // More diversity, less similar words: pure relevance (0) picks mutually similar words.
    let relevance = words(&fit(&texts, &emb, Representation::mmr(0.0), e.clone()));
    let rs = mean_pairwise_similarity(&relevance, e.as_ref());
    eprintln!("mean word similarity at diversity 0: {rs:.3}");
    assert!(ms < rs, "diversity 0.5 gives {ms}, diversity 0 gives {rs}");

    // Deterministic: a second fit gives the same words and weights.
    let again = fit(&texts, &emb, Representation::mmr(0.5), e);
    assert_eq!(again.topic_info(), mmr.topic_info());
    assert_eq!(again.topics(), mmr.topics());
}

#[test]
fn representation_is_saved_and_old_models_load_as_ctfidf() {
    let (texts, emb) = sample();
    let e: Arc<dyn Embedder> = Arc::new(Trigrams);
    let m = fit(&texts, &emb, Representation::mmr(0.3), e.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model");
    m.save(&path).expect("save");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path.join("model.json")).expect("read"))
            .expect("json");
    assert_eq!(json["params"]["representation"]["kind"], "mmr");
    let mut loaded = TopicModel::load(&path).expect("load");
    assert_eq!(loaded.representation(), Representation::mmr(0.3));
    assert_eq!(loaded.topic_info(), m.topic_info());
    // Refitting words after loading needs the word embedder again; same words come back.
    loaded.set_word_embedder(e.clone());
    let topics = loaded.document_topics().to_vec();
    loaded.update_topics(&texts, &topics).expect("update");
    assert_eq!(loaded.topic_info(), m.topic_info());

    // A model written before the field existed: no `representation` key at all.
    let mut old = json.clone();
    old["params"]
        .as_object_mut()
        .expect("params object")
        .remove("representation");
    std::fs::write(
        path.join("model.json"),
        serde_json::to_vec_pretty(&old).expect("json"),
    )
    .expect("write");
    let loaded = TopicModel::load(&path).expect("an old model loads");
    assert_eq!(loaded.representation(), Representation::CTfidf);

    // Switching representation on a fitted model recomputes only the words.
    let mut m = m;
    m.set_representation(&texts, Representation::CTfidf)
        .expect("switch");
    let plain = fit(&texts, &emb, Representation::CTfidf, e);
    assert_eq!(m.topic_info(), plain.topic_info());
}

/// Edits refit words from texts the caller passes back; another corpus of the same length, or the
/// same one shuffled, is refused naming the first row that differs, and the model is unchanged.
#[test]
fn edits_refuse_documents_that_are_not_the_training_documents() {
    let (texts, emb) = sample();
    let mut m = fit(&texts, &emb, Representation::CTfidf, Arc::new(Trigrams));
    let before = m.topic_info();
    let topics = m.document_topics().to_vec();

    let mut swapped = texts.clone();
    swapped.swap(3, 7);
    let e = m.update_topics(&swapped, &topics).unwrap_err().to_string();
    assert!(e.contains("document 3 (0-based"), "{e}");
    let mut edited = texts.clone();
    edited[150].push_str(" and one more sentence");
    let e = m
        .set_representation(&edited, Representation::mmr(0.3))
        .unwrap_err()
        .to_string();
    assert!(e.contains("document 150 (0-based"), "{e}");
    let e = m
        .merge_topics(&texts[1..], &[vec![0, 1]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs the 200 training documents"), "{e}");
    assert_eq!(m.topic_info(), before, "a refused edit changes nothing");

    // Whitespace layout is not content: the same texts re-wrapped are accepted.
    let rewrapped: Vec<String> = texts.iter().map(|t| t.replace(' ', "\n ")).collect();
    m.update_topics(&rewrapped, &topics).expect("same texts");
}

#[test]
fn missing_word_embedder_is_a_typed_error() {
    let (texts, emb) = sample();
    let empty = tempfile::tempdir().expect("tempdir");
    let err = Bertopic::builder()
        .min_topic_size(5)
        .embedding_model(empty.path().to_string_lossy())
        .representation(Representation::keybert())
        .build()
        .expect("valid params")
        .fit_with_embeddings(&texts, emb)
        .expect_err("no usable embedder");
    assert!(matches!(err, BertopicError::NoEmbedder(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("keybert") && msg.contains("embedder"), "{msg}");
}

#[test]
fn keybert_needs_words_in_the_document_space() {
    /// Same trigram vectors, but 64-dimensional: not the space of the 384-d documents.
    struct Small;
    impl Embedder for Small {
        fn embed(&self, texts: &[String]) -> Result<Array2<f32>, EmbedError> {
            Ok(Trigrams
                .embed(texts)?
                .slice(ndarray::s![.., ..64])
                .to_owned())
        }
        fn dim(&self) -> usize {
            64
        }
        fn model_id(&self) -> String {
            "test/small".into()
        }
        fn fingerprint(&self) -> String {
            "small".into()
        }
    }
    let (texts, emb) = sample();
    let err = Bertopic::builder()
        .min_topic_size(5)
        .representation(Representation::keybert())
        .embedder(Arc::new(Small))
        .build()
        .expect("valid")
        .fit_with_embeddings(&texts, emb.clone())
        .expect_err("dimensions differ");
    assert!(matches!(err, BertopicError::Mismatch(_)), "{err}");
    assert!(err.to_string().contains("same model"), "{err}");
    // MMR only compares words with words: any embedder works.
    let m = fit(&texts, &emb, Representation::mmr_default(), Arc::new(Small));
    assert!(m.n_topics() >= 2);
}

/// With the real encoder (CI fetches it first, as for the CLI tests): MMR(0.5) lowers the
/// semantic similarity between a topic's words and drops near-duplicates; KeyBERT's words are
/// closer to the topic's representative documents than the c-TF-IDF words are.
#[test]
fn mmr_and_keybert_with_minilm() {
    let (texts, emb) = sample();
    let e = bertopic::load_embedder(bertopic::embed::DEFAULT_MODEL, false).expect("MiniLM");
    let fit5 = |r: Representation| {
        Bertopic::builder()
            .min_topic_size(5)
            .seed(42)
            .representation(r)
            .embedder(e.clone())
            .build()
            .expect("valid")
            .fit_with_embeddings(&texts, emb.clone())
            .expect("fit")
    };
    let plain = fit5(Representation::CTfidf);
    let mmr = fit5(Representation::mmr(0.5));
    let (pw, mw) = (words(&plain), words(&mmr));
    let (ps, ms) = (
        mean_pairwise_similarity(&pw, e.as_ref()),
        mean_pairwise_similarity(&mw, e.as_ref()),
    );
    let (pd, md) = (near_duplicates(&pw), near_duplicates(&mw));
    eprintln!(
        "MiniLM mean word similarity: c-TF-IDF {ps:.3}, MMR(0.5) {ms:.3}; near-duplicates {pd} -> {md}"
    );
    assert!(ms < ps, "MMR words are not more diverse: {ms} vs {ps}");
    assert!(md <= pd, "MMR added near-duplicates: {md} vs {pd}");
    assert_eq!(fit5(Representation::mmr(0.5)).topics(), mmr.topics());

    let kb = fit5(Representation::keybert());
    assert_eq!(kb.document_topics(), plain.document_topics());
    let pos: HashMap<&str, usize> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    // KeyBERT's topic embedding: mean of the 5 most representative documents. Fit once more
    // keeping 5 representative documents to know which they are.
    let five = Bertopic::builder()
        .params(bertopic::BertopicParams {
            min_topic_size: 5,
            n_representative_docs: 5,
            ..Default::default()
        })
        .build()
        .expect("valid")
        .fit_with_embeddings(&texts, emb.clone())
        .expect("fit");
    let mut gain = 0.0;
    let mut n = 0;
    for ((t5, tk), tp) in five.topics().iter().zip(kb.topics()).zip(plain.topics()) {
        assert_eq!((t5.id, tk.id), (tp.id, tp.id));
        let rows: Vec<usize> = t5
            .representative_docs
            .iter()
            .map(|d| pos[d.as_str()])
            .collect();
        let centre = emb.select(Axis(0), &rows).mean_axis(Axis(0)).expect("rows");
        let sim = |ws: &[(String, f64)]| -> f64 {
            let texts: Vec<String> = ws.iter().map(|(w, _)| w.clone()).collect();
            let m = e.embed(&texts).expect("embed");
            let cn = f64::from(centre.dot(&centre)).sqrt();
            m.rows()
                .into_iter()
                .map(|r| f64::from(r.dot(&centre)) / (f64::from(r.dot(&r)).sqrt() * cn))
                .sum::<f64>()
                / ws.len().max(1) as f64
        };
        // Weights are the similarities, best first.
        assert!(
            tk.words.windows(2).all(|w| w[0].1 >= w[1].1),
            "{:?}",
            tk.words
        );
        let (sk, sp) = (sim(&tk.words), sim(&tp.words));
        assert!(
            sk >= sp - 1e-4,
            "topic {}: KeyBERT words {sk} less similar than c-TF-IDF {sp}",
            tk.id
        );
        gain += sk - sp;
        n += 1;
    }
    eprintln!(
        "KeyBERT: mean similarity gain over c-TF-IDF words {:.3} on {n} topics",
        gain / n as f64
    );
    assert!(gain > 0.0);
}
