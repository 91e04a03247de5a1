//! The analysis toolkit against Python BERTopic 0.17.4 (tests/reference/analysis-bertopic.json,
//! made by tests/reference/make_analysis_reference.py).
//!
//! Both sides analyse the same 530 State of the Union passages with the same document → topic
//! assignment (Python's, stored in the JSON and given to our model with `update_topics`), so
//! UMAP/HDBSCAN randomness is out of the comparison. Tolerances:
//! - c-TF-IDF weights and distributions: relative 1e-8. Same float64 formulas on both sides
//!   (summation order differs, ~1e-15); the JSON keeps 10 significant digits (5e-11).
//! - Words: equal in order, except that words of equal weight may swap (BERTopic orders ties
//!   with numpy's argpartition, which is arbitrary; we order them by vocabulary).
//! - Topic embeddings similarities: absolute 1e-5 (float32 means: numpy sums pairwise, we sum
//!   in order; cosine of 384-d float32 vectors).
//! - Hierarchy: BERTopic reorders children with `optimal_ordering=True`, which only swaps left
//!   and right; we compare merges as unordered pairs with SciPy's plain `linkage` and the tree
//!   text line by line as a multiset.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bertopic::analysis::{DistributionParams, OverTimeParams, SimilarityBasis, Timestamp};
use bertopic::{Bertopic, TopicModel};
use bertopic_suite::data;
use serde_json::Value;

struct Fixture {
    model: TopicModel,
    docs: Vec<String>,
    years: Vec<Timestamp>,
    parties: Vec<String>,
    /// Every data row of sotu-chunks.csv as Title + " " + Abstract (for search queries).
    all_texts: Vec<String>,
    embeddings: ndarray::Array2<f32>,
    reference: Value,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/analysis-bertopic.json"
        );
        let reference: Value =
            serde_json::from_slice(&std::fs::read(path).expect("reference JSON")).expect("JSON");
        let step = reference["corpus"]["step"].as_u64().expect("step") as usize;
        let mut reader = csv::Reader::from_path(data("sotu-chunks.csv")).expect("sotu corpus");
        let mut all_texts = Vec::new();
        let (mut docs, mut years, mut parties, mut rows) = (vec![], vec![], vec![], vec![]);
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.expect("csv record");
            let text = format!("{} {}", &rec[0], &rec[1]);
            if i % step == 0 {
                docs.push(text.clone());
                parties.push(rec[2].to_string());
                years.push(Timestamp::parse(&rec[3]).expect("year"));
                rows.push(i);
            }
            all_texts.push(text);
        }
        let embeddings = bertopic::embed::read_npy(&data("sotu-chunks.minilm.npy")).expect("npy");
        let sub = embeddings.select(ndarray::Axis(0), &rows);
        let topics: Vec<i64> = reference["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .map(|v| v.as_i64().expect("topic id"))
            .collect();
        assert_eq!(topics.len(), docs.len());
        let mut model = Bertopic::builder()
            .seed(42)
            .build()
            .expect("builder")
            .fit_with_embeddings(&docs, sub)
            .expect("fit");
        model
            .update_topics(&docs, &topics)
            .expect("same assignment");
        Fixture {
            model,
            docs,
            years,
            parties,
            all_texts,
            embeddings,
            reference,
        }
    })
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-15
}

/// Our words against BERTopic's (a prefix of ours): equal weights position by position, equal
/// words except where BERTopic's weight ties with another listed word or with the last one.
fn assert_words(ours: &[(String, f64)], theirs: &Value, ctx: &str) {
    let theirs: Vec<(String, f64)> = theirs
        .as_array()
        .expect("word list")
        .iter()
        .map(|p| {
            (
                p[0].as_str().expect("word").to_string(),
                p[1].as_f64().expect("weight"),
            )
        })
        .filter(|(w, _)| !w.is_empty())
        .collect();
    assert!(
        ours.len() >= theirs.len(),
        "{ctx}: {} words, BERTopic {}",
        ours.len(),
        theirs.len()
    );
    let last = theirs.last().map_or(f64::NAN, |t| t.1);
    for (k, (w, s)) in theirs.iter().enumerate() {
        assert!(
            close(ours[k].1, *s, 1e-8),
            "{ctx}: weight {k} {} vs BERTopic {s} ({} vs {w})",
            ours[k].1,
            ours[k].0
        );
        if ours[k].0 != *w {
            let tied_listed = theirs
                .iter()
                .any(|(w2, s2)| *w2 == ours[k].0 && close(*s2, *s, 1e-8));
            let tied_at_cut = close(*s, last, 1e-8);
            assert!(
                tied_listed || tied_at_cut,
                "{ctx}: word {k} `{}` vs BERTopic `{w}` (weight {s}, not a tie)",
                ours[k].0
            );
        }
    }
}

#[test]
fn global_topic_words_match() {
    let f = fixture();
    let words = f.reference["topic_words"].as_object().expect("topic_words");
    assert_eq!(words.len(), f.model.topics().len());
    for (id, theirs) in words {
        let t = f.model.topic(id.parse().expect("id")).expect("topic");
        assert_words(&t.words, theirs, &format!("topic {id}"));
    }
}

/// `scaled`: BERTopic L1-normalised the rows (its ineffective evolution tuning was on) and we
/// did not, so weights are compared up to one factor per row.
fn check_time_rows(
    name: &str,
    rows: &[bertopic::analysis::TopicTimeRow],
    reference: &Value,
    scaled: bool,
) {
    let theirs = reference["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), theirs.len(), "{name}: number of rows");
    for (i, (o, t)) in rows.iter().zip(theirs).enumerate() {
        let ctx = format!("{name} row {i}");
        assert_eq!(o.topic, t["topic"].as_i64().expect("topic"), "{ctx}");
        assert_eq!(
            o.frequency as u64,
            t["frequency"].as_u64().expect("freq"),
            "{ctx}"
        );
        // pandas keeps bin edges in microseconds; ours are whole seconds, truncated.
        let ts = t["timestamp_s"].as_f64().expect("timestamp");
        assert!(
            (o.timestamp.seconds() as f64 - ts).abs() <= 1.0,
            "{ctx}: timestamp {} vs {}",
            o.timestamp,
            t["timestamp"]
        );
        if scaled {
            let factor = t["words"][0][1].as_f64().unwrap() / o.words[0].1;
            let w: Vec<(String, f64)> = o
                .words
                .iter()
                .map(|(w, s)| (w.clone(), s * factor))
                .collect();
            assert_words(&w, &t["words"], &ctx);
        } else {
            assert_words(&o.words, &t["words"], &ctx);
        }
    }
}

#[test]
fn topics_over_time_matches_bertopic() {
    let f = fixture();
    let ot = &f.reference["over_time"];
    assert_eq!(
        f.reference["evolution_tuning_changes_nothing"],
        Value::Bool(true),
        "BERTopic's evolution tuning was a no-op when the reference was made"
    );
    for name in ["default", "bins10", "bins10_no_global"] {
        let p = &ot[name]["params"];
        let global_tuning = p["global_tuning"].as_bool().unwrap_or(true);
        let params = OverTimeParams {
            nr_bins: p["nr_bins"].as_u64().map(|n| n as usize),
            global_tuning,
            // BERTopic 0.17.4's evolution tuning changes nothing (asserted above).
            evolution_tuning: false,
        };
        let rows = f
            .model
            .topics_over_time(&f.docs, &f.years, None, &params)
            .expect("topics_over_time");
        check_time_rows(name, &rows, &ot[name], !global_tuning);
    }
}

#[test]
fn evolution_tuning_averages_with_the_previous_timestamp() {
    let f = fixture();
    let base = OverTimeParams {
        nr_bins: Some(10),
        global_tuning: false,
        evolution_tuning: false,
    };
    let evolved = OverTimeParams {
        evolution_tuning: true,
        ..base.clone()
    };
    let a = f
        .model
        .topics_over_time(&f.docs, &f.years, None, &base)
        .unwrap();
    let b = f
        .model
        .topics_over_time(&f.docs, &f.years, None, &evolved)
        .unwrap();
    assert_eq!(a.len(), b.len());
    // The first timestamp has no predecessor: unchanged (up to the L1 scaling of weights).
    let first = a[0].timestamp;
    for (x, y) in a.iter().zip(&b).filter(|(x, _)| x.timestamp == first) {
        let wx: Vec<&str> = x.words.iter().map(|w| w.0.as_str()).collect();
        let wy: Vec<&str> = y.words.iter().map(|w| w.0.as_str()).collect();
        assert_eq!(wx, wy);
    }
    // Later, a topic present in consecutive bins borrows words from the earlier one.
    let changed = a
        .iter()
        .zip(&b)
        .filter(|(x, _)| x.timestamp != first)
        .filter(|(x, y)| {
            x.words
                .iter()
                .map(|w| &w.0)
                .ne(y.words.iter().map(|w| &w.0))
        })
        .count();
    assert!(changed > 0, "evolution tuning changed no topic's words");
}

#[test]
fn topics_per_class_matches_bertopic() {
    let f = fixture();
    for name in ["global", "no_global"] {
        let r = &f.reference["per_class"][name];
        let global = r["global_tuning"].as_bool().expect("flag");
        let ours = f
            .model
            .topics_per_class(&f.docs, &f.parties, None, global)
            .expect("topics_per_class");
        // BERTopic iterates a Python set of classes (arbitrary order): sort both.
        let mut theirs: Vec<&Value> = r["rows"].as_array().expect("rows").iter().collect();
        theirs.sort_by_key(|t| {
            (
                t["class"].as_str().unwrap_or("").to_string(),
                t["topic"].as_i64().unwrap_or(0),
            )
        });
        assert_eq!(ours.len(), theirs.len(), "{name}: rows");
        for (o, t) in ours.iter().zip(theirs) {
            let ctx = format!("{name} {} topic {}", o.class, o.topic);
            assert_eq!(o.class, t["class"].as_str().unwrap(), "{ctx}");
            assert_eq!(o.topic, t["topic"].as_i64().unwrap(), "{ctx}");
            assert_eq!(
                o.frequency as u64,
                t["frequency"].as_u64().unwrap(),
                "{ctx}"
            );
            assert_words(&o.words, &t["words"], &ctx);
        }
    }
}

#[test]
fn hierarchy_matches_scipy_ward_and_bertopic_words() {
    let f = fixture();
    let h = f.model.hierarchical_topics().expect("hierarchy");
    let r = &f.reference["hierarchy"];
    let n = r["n_topics"].as_u64().unwrap() as usize;
    assert_eq!(h.leaves.len(), n);
    assert_eq!(h.nodes.len(), n - 1);
    let plain = r["linkage_plain"].as_array().unwrap();
    let rows = r["rows"].as_array().unwrap();
    let words = r["node_words"].as_array().unwrap();
    for (k, node) in h.nodes.iter().enumerate() {
        let z = &plain[k];
        let ctx = format!("merge {k}");
        assert!(
            close(node.distance, z[2].as_f64().unwrap(), 1e-8),
            "{ctx}: distance {} vs {}",
            node.distance,
            z[2]
        );
        // Same merge as SciPy's plain linkage (left < right there and here).
        assert_eq!(
            (node.left as u64, node.right as u64),
            (z[0].as_u64().unwrap(), z[1].as_u64().unwrap()),
            "{ctx}"
        );
        // BERTopic's row for this merge (rows sorted by distance, like ours): same children
        // as a set, same topics.
        let row = &rows[k];
        let mut kids = [
            row["left"].as_u64().unwrap(),
            row["right"].as_u64().unwrap(),
        ];
        kids.sort_unstable();
        assert_eq!([node.left as u64, node.right as u64], kids, "{ctx}");
        let topics: Vec<i64> = row["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        assert_eq!(node.topics, topics, "{ctx}");
        assert_words(&node.words, &words[k], &ctx);
        assert_eq!(node.id as u64, row["parent_id"].as_u64().unwrap());
    }
    // The text tree: same lines, in another order where BERTopic swapped children.
    let strip = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .lines()
            .map(|l| {
                l.trim_start_matches(|c: char| "│├└─ ".contains(c))
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    let ours = h.tree_text(None);
    assert_eq!(
        strip(&ours),
        strip(r["tree"].as_str().unwrap()),
        "tree:\n{ours}"
    );
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn approximate_distribution_matches_bertopic() {
    let f = fixture();
    let r = &f.reference["distribution"];
    let n = r["n_docs"].as_u64().unwrap() as usize;
    let params = DistributionParams {
        calculate_tokens: true,
        ..DistributionParams::default()
    };
    let d = f
        .model
        .approximate_distribution(&f.docs[..n], &params)
        .expect("distribution");
    let want = matrix(&r["documents"]);
    assert_eq!(d.documents.nrows(), want.len());
    for (i, row) in want.iter().enumerate() {
        assert_eq!(d.documents.ncols(), row.len());
        for (j, &v) in row.iter().enumerate() {
            assert!(
                close(d.documents[[i, j]], v, 1e-8),
                "doc {i} topic {j}: {} vs {v}",
                d.documents[[i, j]]
            );
        }
    }
    let tokens = d.tokens.as_ref().expect("tokens");
    for (i, t) in r["tokens"].as_array().unwrap().iter().enumerate() {
        let names: Vec<&str> = t["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert_eq!(tokens[i].tokens, names, "doc {i} tokens");
        for (k, row) in matrix(&t["values"]).iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert!(
                    close(tokens[i].values[[k, j]], v, 1e-8),
                    "doc {i} token {k} topic {j}"
                );
            }
        }
    }
    let p = &r["padded"];
    let params = DistributionParams {
        window: p["params"]["window"].as_u64().unwrap() as usize,
        stride: p["params"]["stride"].as_u64().unwrap() as usize,
        padding: true,
        min_similarity: p["params"]["min_similarity"].as_f64().unwrap(),
        ..DistributionParams::default()
    };
    let n = p["n_docs"].as_u64().unwrap() as usize;
    let d = f
        .model
        .approximate_distribution(&f.docs[..n], &params)
        .unwrap();
    for (i, row) in matrix(&p["documents"]).iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert!(
                close(d.documents[[i, j]], v, 1e-8),
                "padded doc {i} topic {j}"
            );
        }
    }
}

#[test]
fn topic_similarity_matches_bertopic() {
    let f = fixture();
    let r = &f.reference["similarity"];
    let s = f.model.topic_similarity(SimilarityBasis::Embeddings);
    let ids: Vec<i64> = r["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    assert_eq!(s.topics, ids);
    for (i, row) in matrix(&r["matrix"]).iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            assert!(
                (s.matrix[[i, j]] - v).abs() <= 1e-5,
                "{i},{j}: {} vs {v}",
                s.matrix[[i, j]]
            );
        }
    }
}

/// The query's reference embedding (the .npy row of that passage) gives BERTopic's ranking.
#[test]
fn find_topics_by_embedding_matches_bertopic() {
    let f = fixture();
    for q in f.reference["search"].as_array().unwrap() {
        let row = q["row"].as_u64().unwrap() as usize;
        let found = f
            .model
            .find_topics_by_embedding(f.embeddings.row(row), 5)
            .expect("search");
        let sims: Vec<f64> = q["similarities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap())
            .collect();
        let topics: Vec<i64> = q["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        assert_eq!(
            found.iter().map(|m| m.topic).collect::<Vec<_>>(),
            topics,
            "row {row}"
        );
        for (m, s) in found.iter().zip(&sims) {
            assert!(
                (m.similarity - s).abs() <= 1e-5,
                "row {row}: {} vs {s}",
                m.similarity
            );
        }
    }
}

/// With the real MiniLM model embedding the query text (the cached model `cargo xtask test`
/// fetches). Its embeddings agree with sentence-transformers to 1e-4 per component (shared
/// reference README), so similarities agree to about 1e-3 and the best topic is the same.
#[test]
fn find_topics_embeds_the_query_with_minilm() {
    let f = fixture();
    let embedder = bertopic::load_embedder(bertopic::embed::DEFAULT_MODEL, false).expect(
        "all-MiniLM-L6-v2 (run `cargo run -p bertopic-cli -- fetch-model` or `cargo xtask test`)",
    );
    for q in f.reference["search"].as_array().unwrap() {
        let row = q["row"].as_u64().unwrap() as usize;
        let found = f
            .model
            .find_topics(&f.all_texts[row], &*embedder, 5)
            .expect("search");
        let best = q["topics"][0].as_i64().unwrap();
        let best_sim = q["similarities"][0].as_f64().unwrap();
        assert_eq!(found[0].topic, best, "row {row}");
        assert!((found[0].similarity - best_sim).abs() <= 1e-3, "row {row}");
    }
}

#[test]
fn set_topic_labels_checks_and_applies() {
    let f = fixture();
    let mut model = Bertopic::builder()
        .seed(42)
        .build()
        .unwrap()
        .fit_with_embeddings(
            &f.docs,
            f.embeddings.select(
                ndarray::Axis(0),
                &(0..f.docs.len()).map(|i| i * 20).collect::<Vec<_>>(),
            ),
        )
        .unwrap();
    let mut labels = BTreeMap::new();
    labels.insert(0, "  Health care  ".to_string());
    model.set_topic_labels(&labels).unwrap();
    assert_eq!(model.topic_label(0).unwrap(), "Health care");
    labels.insert(9_999, "nope".to_string());
    assert!(model.set_topic_labels(&labels).is_err());
    let empty: BTreeMap<i64, String> = [(0, " ".to_string())].into();
    assert!(model.set_topic_labels(&empty).is_err());
    assert_eq!(model.topic_label(0).unwrap(), "Health care");
    assert!(model.set_topic_labels_list(&["x".to_string()]).is_err());
}

#[test]
fn analysis_refuses_bad_input() {
    let f = fixture();
    let m = &f.model;
    assert!(m
        .topics_over_time(
            &f.docs[..3],
            &f.years[..3],
            None,
            &OverTimeParams::default()
        )
        .is_err());
    assert!(m
        .topics_over_time(&f.docs, &f.years[..3], None, &OverTimeParams::default())
        .is_err());
    let zero = OverTimeParams {
        nr_bins: Some(0),
        ..OverTimeParams::default()
    };
    assert!(m.topics_over_time(&f.docs, &f.years, None, &zero).is_err());
    assert!(m
        .topics_per_class(&f.docs, &f.parties[..2], None, true)
        .is_err());
    let bad = DistributionParams {
        window: 0,
        ..DistributionParams::default()
    };
    assert!(m.approximate_distribution(&f.docs[..2], &bad).is_err());
    assert!(m.find_topics_by_embedding(f.embeddings.row(0), 0).is_err());
    let short = ndarray::Array1::<f32>::zeros(3);
    assert!(m.find_topics_by_embedding(short.view(), 5).is_err());
    // Topics that are not the model's.
    let wrong = vec![999i64; f.docs.len()];
    assert!(matches!(
        m.topics_per_class(&f.docs, &f.parties, Some(&wrong), true),
        Err(bertopic::BertopicError::UnknownTopic(999))
    ));
}
