//! Drift monitoring over time: train on the 2025 papers of the shared arXiv corpus, then monitor
//! each month of 2026 in order and print the trend table (the table `bertopic monitor --history`
//! prints). Uses the precomputed MiniLM embeddings, so nothing is embedded.
//!
//! ```text
//! cargo run --release --example monitor_drift
//! ```

use std::collections::BTreeMap;

use bertopic::monitor::{self, HistoryEntry, MonitorOptions};
use bertopic::ndarray::Axis;
use bertopic::Bertopic;
use bertopic_suite::corpus_with_embeddings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (docs, embeddings) = corpus_with_embeddings("arxiv-cs-abstracts")?;
    // Rows by month (`YYYY-MM` of the Date column).
    let mut months: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        let month: String = d.date.as_deref().unwrap_or("").chars().take(7).collect();
        months.entry(month).or_default().push(i);
    }
    let train: Vec<usize> = months
        .iter()
        .filter(|(m, _)| m.starts_with("2025"))
        .flat_map(|(_, rows)| rows.iter().copied())
        .collect();
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let pick = |rows: &[usize]| -> Vec<String> { rows.iter().map(|&i| texts[i].clone()).collect() };

    let t = std::time::Instant::now();
    let train_texts = pick(&train);
    let mut model = Bertopic::builder()
        .min_topic_size(15)
        .seed(42)
        .build()?
        .fit_with_embeddings(&train_texts, embeddings.select(Axis(0), &train))?;
    model.record_training_baseline(&train_texts)?;
    println!(
        "trained on {} papers of 2025: {} topics in {:.1} s",
        train.len(),
        model.n_topics(),
        t.elapsed().as_secs_f64()
    );

    let mut history = Vec::new();
    for (month, rows) in months.iter().filter(|(m, _)| m.starts_with("2026")) {
        let opts = MonitorOptions {
            source: Some(month.clone()),
            ..MonitorOptions::default()
        };
        let batch = embeddings.select(Axis(0), rows);
        match monitor::monitor(&model, &pick(rows), &batch, &opts) {
            Ok(report) => {
                for reason in &report.drift.reasons {
                    println!("{month}: {reason}");
                }
                history.push(HistoryEntry::from(&report));
            }
            Err(e) => println!("{month}: not monitored: {e}"),
        }
    }
    print!("{}", monitor::history_table(&history));
    Ok(())
}
