//! Preprocessing stage of the bertopic workspace: reading corpora (CSV, JSON Lines, plain text),
//! cleaning text, tokenising with scikit-learn `CountVectorizer` semantics, stop words
//! (English = scikit-learn's list, Indonesian, or both) and n-grams.
//!
//! ```
//! use bertopic_preprocess::{Tokenizer, TokenizerConfig};
//! let tok = Tokenizer::new(TokenizerConfig { ngram_range: (1, 2), ..Default::default() }).unwrap();
//! assert_eq!(tok.terms("Topic models of the web"), vec!["topic", "models", "web", "topic models", "models web"]);
//! ```
#![warn(missing_docs)]

mod error;
pub mod packed;
mod stopwords;
mod tokenize;

pub use error::PreprocessError;
pub use stopwords::{english_stop_words, indonesian_stop_words};
pub use tokenize::{Language, Tokenizer, TokenizerConfig};
mod clean;
mod read;
pub use clean::clean_text;
#[doc(hidden)]
pub use read::fuzz_read;
pub use read::{
    parse_date, read_corpus, read_corpus_from, records, records_from, Document, InputFormat,
    RawRecord, ReadOptions, ReadSummary, STDIN_LABEL,
};
