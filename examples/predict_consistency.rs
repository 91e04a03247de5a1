//! Does `predict` give a document the topic `train` gave it (issue #23)? The full-size
//! measurement behind `tests/predict_consistency.rs`: fits on the shared corpora with their
//! MiniLM embeddings (seed 42, default settings) and prints, per prediction path, the share of
//! training documents that keep their topic (identical embeddings; + N(0, 1e-4²) noise), and
//! NMI / ARI / outlier share against the arXiv categories when a seeded 70 % of arXiv is fitted
//! and the other 30 % predicted.
//!
//! ```text
//! cargo run --example predict_consistency            # full corpora (10,598 + 20,000 rows)
//! cargo run --example predict_consistency -- 3000 6000   # seeded subsets (rows of each)
//! ```
//! `BERTOPIC_KNN_GRID=1` also scores a grid of k-NN vote settings on the arXiv split.

use bertopic::ndarray::Axis;
use bertopic::{Bertopic, KnnParams, PredictOptions};
use bertopic_suite::corpus_with_embeddings;
use bertopic_suite::predict::{accuracy, consistency, label_ids, paths, split, with_noise};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut size = || -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args.next().map(|a| a.parse()).transpose()?.unwrap_or(0))
    };
    let (sotu_n, arxiv_n) = (size()?, size()?);
    let builder = Bertopic::builder().seed(42).build()?;

    for (name, n) in [("sotu-chunks", sotu_n), ("arxiv-cs-abstracts", arxiv_n)] {
        let (docs, emb) = corpus_with_embeddings(name)?;
        let rows: Vec<usize> = if n == 0 || n >= docs.len() {
            (0..docs.len()).collect()
        } else {
            split(docs.len(), n as f64 / docs.len() as f64, 7).0
        };
        let texts: Vec<String> = rows.iter().map(|&i| docs[i].text.clone()).collect();
        let labels: Vec<String> = rows
            .iter()
            .map(|&i| docs[i].label.clone().unwrap_or_default())
            .collect();
        let emb = emb.select(Axis(0), &rows);
        // SOTU: fit on everything; arXiv: fit on a seeded 70 %, the rest is unseen.
        let (train, test) = if name == "sotu-chunks" {
            ((0..texts.len()).collect::<Vec<_>>(), Vec::new())
        } else {
            split(texts.len(), 0.7, 42)
        };
        let tr_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
        let tr_emb = emb.select(Axis(0), &train);
        let start = std::time::Instant::now();
        let model = builder.fit_with_embeddings(&tr_texts, tr_emb.clone())?;
        println!(
            "\n{name}: fitted {} documents in {:.0} s, {} topics, {:.1} % outliers",
            tr_texts.len(),
            start.elapsed().as_secs_f64(),
            model.n_topics(),
            100.0 * model.outlier_fraction()
        );
        let noisy = with_noise(&tr_emb, 1e-4, 42);
        let noisy2 = with_noise(&tr_emb, 1e-2, 42);
        println!(
            "{:<22} {:>10} {:>14} {:>16} {:>14}",
            "path", "identical", "noise 1e-4", "noise 1e-4+text", "noise 1e-2"
        );
        for (path, opts) in paths() {
            let c = consistency(&model, &tr_texts, &tr_emb, &noisy, &opts);
            let c2 = consistency(&model, &tr_texts, &tr_emb, &noisy2, &opts);
            println!(
                "{path:<22} {:>9.2}% {:>13.2}% {:>15.2}% {:>13.2}%",
                100.0 * c.identical,
                100.0 * c.noisy,
                100.0 * c.noisy_with_text,
                100.0 * c2.noisy
            );
        }
        if test.is_empty() {
            continue;
        }
        let ids = label_ids(&labels);
        println!(
            "unseen {} documents: {:<22} {:>7} {:>7} {:>9} {:>8}",
            test.len(),
            "path",
            "NMI",
            "ARI",
            "outliers",
            "seconds"
        );
        let mut all: Vec<(String, PredictOptions)> = paths()
            .into_iter()
            .filter(|(p, _)| !p.contains("known") && !p.contains("only"))
            .map(|(p, o)| (p.to_string(), o))
            .collect();
        if std::env::var_os("BERTOPIC_KNN_GRID").is_some() {
            for k in [10, 15, 30] {
                for temperature in [0.02, 0.05, 1.0] {
                    for min_share in [0.0, 0.2, 0.3, 0.5] {
                        let knn = KnnParams {
                            k,
                            temperature,
                            min_share,
                            ..KnnParams::default()
                        };
                        all.push((
                            format!("k{k} t{temperature} s{min_share}"),
                            PredictOptions {
                                knn,
                                ..PredictOptions::default()
                            },
                        ));
                    }
                }
            }
        }
        for (path, opts) in &all {
            let a = accuracy(&model, &texts, &emb, &ids, &test, opts);
            println!(
                "{:<20} {path:<22} {:>7.4} {:>7.4} {:>8.1}% {:>8.2}",
                "",
                a.nmi,
                a.ari,
                100.0 * a.outliers,
                a.seconds
            );
        }
    }
    Ok(())
}
