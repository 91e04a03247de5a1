//! Parity with BERTopic's c-TF-IDF on 300 arXiv abstracts in 6 classes
//! (`shared/reference/ctfidf-bertopic.json`): vocabulary and counts exact, idf and weights
//! within the file's relative tolerance, identical top-10 words.

use bertopic_preprocess::{Tokenizer, TokenizerConfig};
use bertopic_represent::{fit, CtfidfParams, RepresentParams};
use serde_json::Value;

use bertopic_testdata::shared_dir as shared;

fn reference() -> Value {
    let p = shared().join("reference/ctfidf-bertopic.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).expect("reference JSON")
}

fn rel_close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) || a == b
}

#[test]
fn ctfidf_matches_bertopic() {
    let r = reference();
    let classes: Vec<String> = r["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let mut docs = Vec::new();
    let mut labels = Vec::new();
    for d in r["documents"].as_array().unwrap() {
        docs.push(d["text"].as_str().unwrap().to_string());
        let l = d["label"].as_str().unwrap();
        labels.push(classes.iter().position(|c| c == l).unwrap() as i64);
    }
    let tol = r["tolerance"]["weights_rel"].as_f64().unwrap();
    let tokenizer = Tokenizer::new(TokenizerConfig::default()).unwrap();
    let analyzer = |s: &str| tokenizer.terms(s);

    for (name, cfg) in r["configs"].as_object().unwrap() {
        let params = RepresentParams {
            ctfidf: CtfidfParams {
                bm25_weighting: cfg["params"]["bm25_weighting"].as_bool().unwrap(),
                reduce_frequent_words: cfg["params"]["reduce_frequent_words"].as_bool().unwrap(),
            },
            ..RepresentParams::default()
        };
        let rep = fit(&docs, &labels, &analyzer, &params).unwrap();

        // Vocabulary: exact, same order.
        let vocab: Vec<&str> = r["vocabulary"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(rep.vocabulary.len(), vocab.len(), "{name}: vocabulary size");
        for (i, (a, b)) in rep.vocabulary.iter().zip(&vocab).enumerate() {
            assert_eq!(a, b, "{name}: vocabulary[{i}]");
        }
        // Counts: exact.
        for (row, class) in classes.iter().enumerate() {
            let want = &r["class_term_counts"][class];
            let (idx, val) = rep.counts.row(row);
            let wi: Vec<usize> = want["indices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let wc: Vec<f64> = want["counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(idx, &wi[..], "{name}/{class}: count indices");
            assert_eq!(val, &wc[..], "{name}/{class}: counts");
        }
        assert_eq!(
            rep.avg_nr_samples,
            cfg["avg_nr_samples"].as_f64().unwrap(),
            "{name}: A"
        );
        // idf within tolerance.
        for (i, (a, b)) in rep
            .idf
            .iter()
            .zip(cfg["idf"].as_array().unwrap())
            .enumerate()
        {
            let b = b.as_f64().unwrap();
            assert!(rel_close(*a, b, tol), "{name}: idf[{i}] = {a}, want {b}");
        }
        let sums = rep.ctfidf.row_sums();
        for (row, class) in classes.iter().enumerate() {
            let want_sum = cfg["row_sums"][class].as_f64().unwrap();
            assert!(
                rel_close(sums[row], want_sum, tol),
                "{name}/{class}: row sum {} vs {want_sum}",
                sums[row]
            );
            // Top-10 words in order, weights within tolerance.
            let want = cfg["top10"][class].as_array().unwrap();
            let got = rep.top_words(row, want.len());
            for (k, (g, w)) in got.iter().zip(want).enumerate() {
                let (ww, wv) = (w[0].as_str().unwrap(), w[1].as_f64().unwrap());
                assert!(
                    rel_close(g.1, wv, tol),
                    "{name}/{class}: weight #{k} {} vs {wv}",
                    g.1
                );
                if g.0 != ww {
                    // Only allowed where two weights tie within 1e-9 relative.
                    let tie = got.iter().any(|o| o.0 == ww && rel_close(o.1, g.1, 1e-9));
                    assert!(tie, "{name}/{class}: word #{k} is {:?}, want {ww:?}", g.0);
                }
            }
            assert_eq!(got.len(), want.len());
            assert_eq!(rep.words[row][..10], got[..], "{name}/{class}: words field");
        }
    }
}
