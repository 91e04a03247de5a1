//! Topics over time on the State of the Union (1790–2021): fit on the shared passages with
//! their precomputed MiniLM embeddings, cut the 231 years into 12 bins, and print, for the
//! largest topics, how many passages each era has and the topic's words in that era.
//!
//! ```text
//! cargo run --release --example topics_over_time
//! ```

use bertopic::analysis::{OverTimeParams, Timestamp};
use bertopic::Bertopic;
use bertopic_suite::corpus_with_embeddings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (docs, embeddings) = corpus_with_embeddings("sotu-chunks")?;
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let stamps = docs
        .iter()
        .map(|d| Timestamp::parse(d.date.as_deref().unwrap_or("")))
        .collect::<Result<Vec<_>, _>>()?;

    let t = std::time::Instant::now();
    let model = Bertopic::builder()
        .min_topic_size(20)
        .seed(42)
        .build()?
        .fit_with_embeddings(&texts, embeddings)?;
    println!(
        "{} passages, {} topics ({:.1} s to fit)\n",
        texts.len(),
        model.n_topics(),
        t.elapsed().as_secs_f64()
    );

    let t = std::time::Instant::now();
    let params = OverTimeParams {
        nr_bins: Some(12),
        ..OverTimeParams::default()
    };
    let rows = model.topics_over_time(&texts, &stamps, None, &params)?;
    println!(
        "topics_over_time: {} rows in {:.2} s\n",
        rows.len(),
        t.elapsed().as_secs_f64()
    );

    let mut bins: Vec<Timestamp> = rows.iter().map(|r| r.timestamp).collect();
    bins.sort();
    bins.dedup();
    for topic in model.topics().iter().filter(|t| t.id >= 0).take(6) {
        println!(
            "Topic {} — {} ({} passages)",
            topic.id,
            model.topic_label(topic.id)?,
            topic.count
        );
        for &bin in &bins {
            // Bins start at their left edge; show the first full year in the bin.
            let (y, m, d) = bin.ymd();
            let on_new_year = (m, d) == (1, 1) && bin.seconds() % 86_400 == 0;
            let year = if on_new_year { y } else { y + 1 };
            match rows
                .iter()
                .find(|r| r.topic == topic.id && r.timestamp == bin)
            {
                Some(r) => {
                    let words: Vec<&str> = r.words.iter().take(5).map(|w| w.0.as_str()).collect();
                    println!("  {year}…  {:>4}  {}", r.frequency, words.join(", "));
                }
                None => println!("  {year}…     0"),
            }
        }
        println!();
    }
    Ok(())
}
