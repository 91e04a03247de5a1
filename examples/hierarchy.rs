//! The topic hierarchy of the shared arXiv corpus (20,000 computer-science abstracts): fit with
//! the precomputed MiniLM embeddings, merge the topics with Ward clustering of their c-TF-IDF
//! vectors (BERTopic's `hierarchical_topics`), print the text tree (`get_topic_tree`) and the
//! last merges with the words of the merged topics.
//!
//! ```text
//! cargo run --release --example hierarchy
//! ```

use bertopic::Bertopic;
use bertopic_suite::corpus_with_embeddings;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (docs, embeddings) = corpus_with_embeddings("arxiv-cs-abstracts")?;
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();

    let t = std::time::Instant::now();
    let model = Bertopic::builder()
        .min_topic_size(60)
        .seed(42)
        .build()?
        .fit_with_embeddings(&texts, embeddings)?;
    println!(
        "{} abstracts, {} topics ({:.1} s to fit)\n",
        texts.len(),
        model.n_topics(),
        t.elapsed().as_secs_f64()
    );

    let t = std::time::Instant::now();
    let h = model.hierarchical_topics()?;
    println!(
        "hierarchical_topics: {} merges in {:.2} s\n",
        h.nodes.len(),
        t.elapsed().as_secs_f64()
    );
    print!("{}", h.tree_text(None));

    println!("\nThe last five merges (largest Ward distance first):");
    for node in h.nodes.iter().rev().take(5) {
        println!(
            "  node {} at distance {:.3}: {} topics — {}",
            node.id,
            node.distance,
            node.topics.len(),
            node.words
                .iter()
                .take(6)
                .map(|w| w.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
