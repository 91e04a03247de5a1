//! Merging models (BERTopic `merge_models`) and manual topics (`update_topics` from a CSV of
//! assignments) on the shared 200-abstract arXiv sample with its precomputed MiniLM embeddings.
//! No embedding model is loaded: everything runs on the stored embeddings.

use std::collections::{BTreeMap, BTreeSet};

use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::represent::cosine;
use bertopic::variants::manual::{self, SetTopicsJob};
use bertopic::variants::merge::{self, DEFAULT_MIN_SIMILARITY};
use bertopic::{Bertopic, BertopicError, PredictOptions, TopicModel};
use ndarray::{Array2, Axis};

use bertopic_testdata::shared_dir as shared;

mod support;
use support::{arxiv_sample as sample, Sample};

/// A model of the sample's documents with label `label` (all when `None`).
fn fit(s: &Sample, label: Option<&str>) -> (TopicModel, Vec<usize>) {
    let rows: Vec<usize> = (0..s.docs.len())
        .filter(|&i| label.is_none_or(|l| s.labels[i] == l))
        .collect();
    let docs: Vec<String> = rows.iter().map(|&i| s.docs[i].clone()).collect();
    let model = Bertopic::builder()
        .min_topic_size(5)
        .build()
        .expect("valid")
        .fit_with_embeddings(&docs, s.embeddings.select(Axis(0), &rows))
        .expect("fit");
    (model, rows)
}

fn words(m: &TopicModel, id: i64) -> Vec<String> {
    m.topic(id)
        .expect("topic")
        .words
        .iter()
        .map(|(w, _)| w.clone())
        .collect()
}

/// Merging a model with itself adds nothing: every topic maps onto itself.
#[test]
fn merging_a_model_with_itself_adds_no_topics() {
    let s = sample();
    let (m, _) = fit(&s, None);
    let merged = TopicModel::merge(&[&m, &m], DEFAULT_MIN_SIMILARITY).expect("merge");
    assert_eq!(merged.model.n_topics(), m.n_topics());
    assert!(merged.added.iter().all(Vec::is_empty), "{:?}", merged.added);
    for map in &merged.mappings {
        assert!(map.iter().all(|(a, b)| a == b), "not the identity: {map:?}");
    }
    // The documents of both copies, each with its own topic.
    let n = m.document_topics().len();
    assert_eq!(merged.model.document_topics().len(), 2 * n);
    assert_eq!(&merged.model.document_topics()[..n], m.document_topics());
    assert_eq!(&merged.model.document_topics()[n..], m.document_topics());
    for t in m.topics() {
        let mt = merged.model.topic(t.id).expect("kept");
        assert_eq!(mt.words, t.words);
        assert_eq!(mt.count, 2 * t.count);
    }
}

/// Models of two disjoint label sets (cs.CV-only, cs.CL-only abstracts): the merged model
/// keeps the vision topics and gains language topics, and new documents of either set land
/// in their own set's topics.
#[test]
fn merging_disjoint_label_sets_keeps_both() {
    let s = sample();
    let (cv, cv_rows) = fit(&s, Some("cs.CV"));
    let (cl, cl_rows) = fit(&s, Some("cs.CL"));
    let merged = TopicModel::merge(&[&cv, &cl], DEFAULT_MIN_SIMILARITY).expect("merge");
    let mm = &merged.model;
    println!(
        "cs.CV model {} topics, cs.CL model {} topics, merged {} (added {:?}); cs.CL mapping {:?}",
        cv.n_topics(),
        cl.n_topics(),
        mm.n_topics(),
        merged.added[1],
        merged.mappings[1]
    );
    // Best cosine of each cs.CL topic with the cs.CV topics (outliers included), for the report.
    for t in cl.topics().iter().filter(|t| t.id >= 0) {
        let row = cl.topics().iter().position(|x| x.id == t.id).expect("row");
        let best = (0..cv.topics().len())
            .map(|j| cosine(cl.topic_embeddings().row(row), cv.topic_embeddings().row(j)))
            .fold(f64::NEG_INFINITY, f64::max);
        println!(
            "cs.CL topic {} best cosine with cs.CV topics {best:.3}",
            t.id
        );
    }
    assert!(mm.n_topics() >= cv.n_topics().max(cl.n_topics()));
    assert!(!merged.added[1].is_empty(), "no cs.CL topic was added");
    // Base topics are unchanged; added topics carry the cs.CL model's words under new ids.
    for t in cv.topics().iter().filter(|t| t.id >= 0) {
        assert_eq!(words(mm, t.id), words(&cv, t.id));
    }
    for (&from, &to) in merged.mappings[1].iter().filter(|(&f, _)| f >= 0) {
        if merged.added[1].contains(&to) {
            assert!(to > cv.topics().iter().map(|t| t.id).max().unwrap_or(-1));
            assert_eq!(words(mm, to), words(&cl, from), "cs.CL topic {from}");
        }
    }
    // Held-out style check: every document predicted from its embedding alone (as a new
    // document) lands in a topic of its own set.
    let cv_topics: BTreeSet<i64> = cv
        .topics()
        .iter()
        .map(|t| t.id)
        .filter(|&t| t >= 0)
        .collect();
    let options = PredictOptions {
        keep_known: false,
        ..PredictOptions::default()
    };
    let mut own = 0usize;
    let mut total = 0usize;
    for (rows, is_cv) in [(&cv_rows, true), (&cl_rows, false)] {
        let emb = s.embeddings.select(Axis(0), rows);
        let blank = vec![String::new(); rows.len()];
        let (topics, probs) = mm
            .transform_embeddings_with(&blank, &emb, &options)
            .expect("predict");
        assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
        for t in topics {
            total += 1;
            // The cs.CL model's topics that mapped onto a cs.CV topic count as cs.CL's own.
            let from_cl = merged.mappings[1].values().any(|&v| v == t && v >= 0);
            if (is_cv && cv_topics.contains(&t)) || (!is_cv && from_cl) {
                own += 1;
            }
        }
    }
    let share = own as f64 / total as f64;
    println!("documents predicted into their own label set's topics: {share:.3}");
    assert!(
        share >= 0.8,
        "only {share:.3} land in their own set's topics"
    );
}

/// The merged model saves, loads and predicts like any model: training documents of every
/// input keep their merged topic, new documents go to the nearest topic embedding.
#[test]
fn merged_model_save_load_predict_round_trip() {
    let s = sample();
    let (cv, _) = fit(&s, Some("cs.CV"));
    let (cl, cl_rows) = fit(&s, Some("cs.CL"));
    let merged = TopicModel::merge(&[&cv, &cl], DEFAULT_MIN_SIMILARITY).expect("merge");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("merged");
    merged.model.save(&path).expect("save");
    let loaded = TopicModel::load(&path).expect("load");
    assert_eq!(loaded.topics(), merged.model.topics());
    assert_eq!(loaded.document_topics(), merged.model.document_topics());
    let record = loaded
        .params()
        .variants
        .merged
        .as_ref()
        .expect("merge recorded");
    assert_eq!(record.inputs.len(), 2);
    assert_eq!(record.inputs[1].mapping, merged.mappings[1]);

    // Training documents (by text) keep their topic.
    let cl_docs: Vec<String> = cl_rows.iter().map(|&i| s.docs[i].clone()).collect();
    let noisy = s
        .embeddings
        .select(Axis(0), &cl_rows)
        .mapv(|v| v * 0.5 + 0.01);
    let (kept, _) = loaded
        .transform_embeddings(&cl_docs, &noisy)
        .expect("predict known");
    assert_eq!(
        kept,
        &merged.model.document_topics()[cv.document_topics().len()..]
    );

    // New documents: the most cosine-similar topic embedding, for every strategy.
    let blank = vec![String::new(); noisy.nrows()];
    let te = loaded.topic_embeddings();
    let ids: Vec<i64> = loaded.topics().iter().map(|t| t.id).collect();
    let expected: Vec<i64> = noisy
        .rows()
        .into_iter()
        .map(|r| {
            let mut best = (f64::NEG_INFINITY, -1);
            for (j, &id) in ids.iter().enumerate().filter(|(_, &id)| id >= 0) {
                let c = cosine(r, te.row(j));
                if c > best.0 {
                    best = (c, id);
                }
            }
            best.1
        })
        .collect();
    for strategy in [
        bertopic::PredictStrategy::Knn,
        bertopic::PredictStrategy::Umap,
    ] {
        let options = PredictOptions {
            keep_known: false,
            ..PredictOptions::with_strategy(strategy)
        };
        let (a, pa) = loaded
            .transform_embeddings_with(&blank, &noisy, &options)
            .expect("loaded predict");
        let (b, pb) = merged
            .model
            .transform_embeddings_with(&blank, &noisy, &options)
            .expect("in-memory predict");
        assert_eq!(a, b);
        assert_eq!(pa, pb);
        assert_eq!(a, expected, "{strategy:?}");
    }
}

/// Models of different embedding models are refused with a typed error naming the model.
#[test]
fn merging_models_of_different_embedding_models_is_refused() {
    let s = sample();
    let (a, _) = fit(&s, Some("cs.CL"));
    let rows: Vec<usize> = (0..60).collect();
    let docs: Vec<String> = rows.iter().map(|&i| s.docs[i].clone()).collect();
    let b = Bertopic::builder()
        .min_topic_size(5)
        .embedding_model("sentence-transformers/all-mpnet-base-v2")
        .build()
        .expect("valid")
        .fit_with_embeddings(&docs, s.embeddings.select(Axis(0), &rows))
        .expect("fit");
    let err = TopicModel::merge(&[&a, &b], DEFAULT_MIN_SIMILARITY).unwrap_err();
    assert!(
        matches!(&err, BertopicError::EmbeddingModelMismatch { model, .. } if model.contains('1')),
        "{err}"
    );
    assert!(err.to_string().contains("all-mpnet-base-v2"), "{err}");
    let err = TopicModel::merge(&[&a, &a], 1.5).unwrap_err();
    assert!(matches!(err, BertopicError::InvalidParams(_)), "{err}");
}

/// Writes `row,topic` lines.
fn write_assignments(path: &std::path::Path, lines: &[String]) {
    let mut text = String::from("row,topic\n");
    for l in lines {
        text += l;
        text += "\n";
    }
    std::fs::write(path, text).expect("write assignments");
}

/// Manual topics from a CSV: the arXiv labels become the topics (words refitted, model saved
/// and loadable); bad lines are refused naming the line.
#[test]
fn manual_topics_from_a_csv_of_assignments() {
    let s = sample();
    let (m, _) = fit(&s, None);
    let dir = tempfile::tempdir().expect("tempdir");
    let model_dir = dir.path().join("model");
    m.save(&model_dir).expect("save");
    let corpus = shared().join("data/arxiv-cs-abstracts-200.csv");
    // Topic = class id of the label by size: cs.CV 0, cs.CL 1, cs.AI 2, the rest 3.
    let class = |l: &str| match l {
        "cs.CV" => 0i64,
        "cs.CL" => 1,
        "cs.AI" => 2,
        _ => 3,
    };
    let wanted: Vec<i64> = s.labels.iter().map(|l| class(l)).collect();
    let csv = dir.path().join("assign.csv");
    let lines: Vec<String> = wanted
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{},{t}", i + 1))
        .collect();
    write_assignments(&csv, &lines);
    let job = |assignments: &std::path::Path, output: &str| SetTopicsJob {
        model: model_dir.clone(),
        input: corpus.clone(),
        read: ReadOptions::default(),
        assignments: assignments.to_path_buf(),
        output: dir.path().join(output),
        output_policy: bertopic::fs::DirPolicy::OursOnly,
    };
    let done = manual::set_topics(&job(&csv, "manual")).expect("set topics");
    assert_eq!(done.model.document_topics(), wanted.as_slice());
    let loaded = TopicModel::load(&dir.path().join("manual")).expect("load");
    assert_eq!(loaded.document_topics(), wanted.as_slice());
    assert_eq!(loaded.n_topics(), 4);
    let sizes: BTreeMap<i64, usize> = loaded.topics().iter().map(|t| (t.id, t.count)).collect();
    assert_eq!(sizes[&0], 100);
    assert_eq!(sizes[&1], 57);
    // The cs.CL topic's words are refitted from its documents.
    let cl_words = words(&loaded, 1);
    assert!(
        cl_words
            .iter()
            .any(|w| w.contains("language") || w == "llms"),
        "{cl_words:?}"
    );
    println!("manual topics: cs.CL topic words {cl_words:?}");
    assert!(dir.path().join("manual/document_topics.csv").is_file());

    let fails = |lines: Vec<String>, expect: &str| {
        let bad = dir.path().join("bad.csv");
        write_assignments(&bad, &lines);
        let err = manual::set_topics(&job(&bad, "never")).unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
        assert!(!dir.path().join("never").exists());
    };
    let mut l = lines.clone();
    l[4] = "5,vision".into();
    fails(l, "line 6: topic `vision` of row 5");
    let mut l = lines.clone();
    l[9] = "10,-2".into();
    fails(l, "line 11: topic `-2`");
    let mut l = lines.clone();
    l.remove(20);
    fails(l, "the first is row 21");
    let mut l = lines.clone();
    l.push("3,1".into());
    fails(l, "line 202: row 3 is listed twice (first on line 4)");
    let mut l = lines.clone();
    l.push("201,0".into());
    fails(l, "line 202: row 201 is not a training document");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,label\n1,0\n").expect("write");
    let err = manual::set_topics(&job(&bad, "never")).unwrap_err();
    assert!(
        matches!(&err, BertopicError::BadAssignment { line: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("`row` and a `topic` column"),
        "{err}"
    );
}

/// The mapping step against Python BERTopic 0.17.4's `merge_models` on the same topic
/// embeddings (tests/reference/merge-bertopic.json, made by make_merge_reference.py from three
/// k-means "models" of the shared arXiv embeddings), at three thresholds.
#[test]
fn merge_mapping_matches_bertopic() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/reference/merge-bertopic.json"
    );
    let raw = std::fs::read(path).expect("reference JSON");
    let reference: serde_json::Value = serde_json::from_slice(&raw).expect("JSON");
    let models: Vec<(Vec<i64>, Array2<f32>)> = reference["models"]
        .as_array()
        .expect("models")
        .iter()
        .map(|m| {
            let ids: Vec<i64> = serde_json::from_value(m["topic_ids"].clone()).expect("ids");
            let rows: Vec<Vec<f32>> =
                serde_json::from_value(m["topic_embeddings"].clone()).expect("embeddings");
            let dim = rows[0].len();
            let flat: Vec<f32> = rows.into_iter().flatten().collect();
            let emb = Array2::from_shape_vec((ids.len(), dim), flat).expect("shape");
            (ids, emb)
        })
        .collect();
    let inputs: Vec<(&[i64], ndarray::ArrayView2<f32>)> = models
        .iter()
        .map(|(ids, e)| (ids.as_slice(), e.view()))
        .collect();
    for merge in reference["merges"].as_array().expect("merges") {
        let min_sim = merge["min_similarity"].as_f64().expect("threshold");
        let expected: Vec<BTreeMap<i64, i64>> = merge["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .map(|m| {
                m.as_object()
                    .expect("mapping")
                    .iter()
                    .map(|(k, v)| (k.parse().expect("id"), v.as_i64().expect("id")))
                    .collect()
            })
            .collect();
        let (mappings, added) = merge::topic_mappings(&inputs, min_sim);
        assert_eq!(mappings, expected, "min_similarity {min_sim}");
        let n_topics = models[0].0.iter().filter(|&&t| t >= 0).count()
            + added.iter().map(Vec::len).sum::<usize>();
        assert_eq!(n_topics as u64, merge["n_topics"].as_u64().expect("count"));
    }
}

/// The disjoint-label merge at a larger scale: 2,000 cs.CV and 2,000 cs.CL abstracts of the
/// full arXiv corpus (first of each label in file order, precomputed embeddings).
#[test]
#[ignore = "heavy (two 2,000-document fits): cargo test --workspace --test merge_manual -- --ignored"]
fn merging_disjoint_label_sets_at_2000_documents_each() {
    let data = shared().join("data");
    let (docs, _) = read_corpus(
        &data.join("arxiv-cs-abstracts.csv"),
        &ReadOptions::default(),
    )
    .expect("corpus");
    let all = read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).expect("embeddings");
    let pick = |label: &str| -> (Vec<String>, Array2<f32>) {
        let chosen: Vec<&bertopic::preprocess::Document> = docs
            .iter()
            .filter(|d| d.label.as_deref() == Some(label))
            .take(2000)
            .collect();
        let rows: Vec<usize> = chosen.iter().map(|d| d.row - 1).collect();
        (
            chosen.iter().map(|d| d.text.clone()).collect(),
            all.select(Axis(0), &rows),
        )
    };
    let fit = |docs: &[String], emb: &Array2<f32>| {
        Bertopic::builder()
            .build()
            .expect("valid")
            .fit_with_embeddings(docs, emb.clone())
            .expect("fit")
    };
    let (cv_docs, cv_emb) = pick("cs.CV");
    let (cl_docs, cl_emb) = pick("cs.CL");
    let t = std::time::Instant::now();
    let cv = fit(&cv_docs, &cv_emb);
    let cl = fit(&cl_docs, &cl_emb);
    let fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let merged = TopicModel::merge(&[&cv, &cl], DEFAULT_MIN_SIMILARITY).expect("merge");
    let merge_s = t.elapsed().as_secs_f64();
    let mm = &merged.model;
    let mapped = merged.mappings[1]
        .iter()
        .filter(|(&f, t)| f >= 0 && !merged.added[1].contains(t))
        .count();
    let to_outliers = merged.mappings[1]
        .iter()
        .filter(|(&f, &t)| f >= 0 && t < 0)
        .count();
    let options = PredictOptions {
        keep_known: false,
        ..PredictOptions::default()
    };
    let cv_topics: BTreeSet<i64> = cv
        .topics()
        .iter()
        .map(|t| t.id)
        .filter(|&t| t >= 0)
        .collect();
    let mut own = [0usize; 2];
    for (k, emb) in [&cv_emb, &cl_emb].into_iter().enumerate() {
        let blank = vec![String::new(); emb.nrows()];
        let (topics, _) = mm
            .transform_embeddings_with(&blank, emb, &options)
            .expect("predict");
        own[k] = topics
            .iter()
            .filter(|&&t| {
                if k == 0 {
                    cv_topics.contains(&t)
                } else {
                    merged.mappings[1].values().any(|&v| v == t && v >= 0)
                }
            })
            .count();
    }
    println!(
        "2,000 cs.CV + 2,000 cs.CL: {} + {} topics fitted in {fit_s:.1} s; merged in \
         {merge_s:.3} s into {} topics ({} added, {mapped} mapped onto cs.CV topics, \
         {to_outliers} onto the outliers); predicted into their own set's topics: cs.CV \
         {:.3}, cs.CL {:.3}",
        cv.n_topics(),
        cl.n_topics(),
        mm.n_topics(),
        merged.added[1].len(),
        own[0] as f64 / 2000.0,
        own[1] as f64 / 2000.0
    );
    assert!(mm.n_topics() >= cv.n_topics().max(cl.n_topics()));
    assert!(
        merged.added[1].len() * 2 >= cl.n_topics(),
        "most cs.CL topics are new"
    );
    assert!(own[0] as f64 / 2000.0 >= 0.8 && own[1] as f64 / 2000.0 >= 0.8);
}
