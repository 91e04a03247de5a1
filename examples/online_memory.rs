//! Peak memory of online topic modelling as batches grow: fits `BATCHES` batches of
//! `BATCH_SIZE` documents of the 20k arXiv corpus (with its precomputed MiniLM embeddings,
//! cycling over the corpus when more documents are asked for than it has) and prints the
//! process's peak RSS (VmHWM) after loading the data and after the last batch.
//!
//! ```text
//! cargo run --example online_memory -- 10 2000    # 10 batches, 20k documents
//! cargo run --example online_memory -- 40 2000    # 40 batches, 80k documents
//! cargo run --example online_memory -- 40 500     # 40 batches, 20k documents
//! ```

use bertopic::embed::read_npy;
use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::variants::OnlineParams;
use bertopic::Bertopic;
use ndarray::Axis;

/// Peak resident set size in MiB (Linux: VmHWM of /proc/self/status), 0 elsewhere.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let batches: usize = args.next().map_or(Ok(10), |a| a.parse())?;
    let batch_size: usize = args.next().map_or(Ok(2000), |a| a.parse())?;
    let data = bertopic_testdata::data("arxiv-cs-abstracts.csv");
    let (docs, _) = read_corpus(
        &data,
        &ReadOptions {
            dedupe: false,
            ..ReadOptions::default()
        },
    )?;
    let rows: Vec<usize> = docs.iter().map(|d| d.row - 1).collect();
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let embeddings =
        read_npy(&bertopic_testdata::data("arxiv-cs-abstracts.minilm.npy"))?.select(Axis(0), &rows);
    let n = texts.len();
    let loaded = peak_rss_mib();
    let mut online = Bertopic::builder()
        .online(OnlineParams {
            n_clusters: 50,
            n_components: 5,
            decay: Some(0.01),
            delete_min_df: Some(2.0),
            ..OnlineParams::default()
        })
        .build()?
        .online_model()?;
    let start = std::time::Instant::now();
    for b in 0..batches {
        let idx: Vec<usize> = (0..batch_size).map(|i| (b * batch_size + i) % n).collect();
        let batch_docs: Vec<String> = idx.iter().map(|&i| texts[i].clone()).collect();
        online.partial_fit(&batch_docs, &embeddings.select(Axis(0), &idx))?;
    }
    let secs = start.elapsed().as_secs_f64();
    let model = online.model().ok_or("no batch fitted")?;
    println!(
        "batches {batches} x {batch_size} = {} docs: {:.1} s ({:.2} s/batch), {} topics, \
         {} terms kept; peak RSS after loading the corpus {loaded:.0} MiB, after the batches \
         {:.0} MiB",
        online.docs_seen(),
        secs,
        secs / batches.max(1) as f64,
        model.n_topics(),
        online.vocabulary_len(),
        peak_rss_mib()
    );
    Ok(())
}
