//! Prints the (1,2)-gram terms of every document of a corpus, one line per document,
//! terms separated by `|` (used to compare with scikit-learn's CountVectorizer analyzer).
use bertopic_preprocess::{read_corpus, ReadOptions, Tokenizer, TokenizerConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: dump_terms <corpus>")?;
    let opts = ReadOptions {
        clean: false,
        dedupe: false,
        ..Default::default()
    };
    let (docs, _) = read_corpus(path.as_ref(), &opts)?;
    let tok = Tokenizer::new(TokenizerConfig {
        ngram_range: (1, 2),
        ..Default::default()
    })?;
    for d in docs {
        println!("{}", tok.terms(&d.text).join("|"));
    }
    Ok(())
}
