//! sotu-chunks passages tokenised like `CountVectorizer(stop_words="english")` (shared by the
//! sotu parity test and the bench).

use std::collections::HashSet;
use std::path::Path;

/// The shared data folder.
pub use bertopic_testdata::shared_dir as shared;

/// `Title + " " + Abstract` of every row, lower-cased, tokens `\b\w\w+\b`, sklearn's English
/// stop words removed.
pub fn sotu_texts(shared: &Path) -> Vec<Vec<String>> {
    let stop: HashSet<String> =
        std::fs::read_to_string(shared.join("reference/sklearn-english-stop-words.txt"))
            .expect("stop-word list")
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
    let token = regex::Regex::new(r"\b\w\w+\b").expect("valid regex");
    let mut reader =
        csv::Reader::from_path(shared.join("data/sotu-chunks.csv")).expect("sotu-chunks.csv");
    let headers = reader.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let (title, abstract_) = (col("Title"), col("Abstract"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv row");
            let text = format!("{} {}", &r[title], &r[abstract_]).to_lowercase();
            token
                .find_iter(&text)
                .map(|m| m.as_str())
                .filter(|t| !stop.contains(*t))
                .map(String::from)
                .collect()
        })
        .collect()
}
