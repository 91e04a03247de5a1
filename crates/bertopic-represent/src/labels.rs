//! Topic labels from topic words.

/// BERTopic's default topic name: `"{id}_"` followed by the first four words joined by `_`
/// (for example `3_energy_oil_gas_prices`).
pub fn word_label(topic_id: i64, words: &[String]) -> String {
    let head: Vec<&str> = words.iter().take(4).map(String::as_str).collect();
    format!("{topic_id}_{}", head.join("_"))
}

/// Words too generic to say what a topic is about (English and Indonesian research jargon).
pub const GENERIC_WORDS: &[&str] = &[
    "research",
    "study",
    "studies",
    "analysis",
    "analyses",
    "method",
    "methods",
    "methodology",
    "based",
    "data",
    "system",
    "systems",
    "approach",
    "approaches",
    "paper",
    "result",
    "results",
    "using",
    "used",
    "use",
    "proposed",
    "propose",
    "new",
    "penelitian",
    "analisis",
    "metode",
    "sistem",
    "berbasis",
    "studi",
    "hasil",
    "menggunakan",
    "pendekatan",
    "terhadap",
    "dengan",
];

fn title_case(term: &str) -> String {
    term.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// A readable fallback label: drops [`GENERIC_WORDS`] (and empty or repeated words), then
/// Title-Cases the first four remaining words joined by spaces (`"Energy Oil Gas Prices"`).
/// When every word is generic the first four words are used; with no words, `"Untitled"`.
pub fn readable_label(words: &[String]) -> String {
    let is_generic = |w: &str| {
        w.split(' ')
            .filter(|p| !p.is_empty())
            .all(|p| GENERIC_WORDS.contains(&p.to_lowercase().as_str()))
    };
    let mut seen = std::collections::HashSet::new();
    let clean: Vec<&str> = words
        .iter()
        .map(|w| w.trim())
        .filter(|w| !w.is_empty() && seen.insert(w.to_lowercase()))
        .collect();
    let mut picked: Vec<&str> = clean
        .iter()
        .copied()
        .filter(|w| !is_generic(w))
        .take(4)
        .collect();
    if picked.is_empty() {
        picked = clean.iter().copied().take(4).collect();
    }
    if picked.is_empty() {
        return "Untitled".to_string();
    }
    picked
        .iter()
        .map(|w| title_case(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn word_label_like_bertopic() {
        assert_eq!(word_label(3, &s(&["a", "b", "c", "d", "e"])), "3_a_b_c_d");
        assert_eq!(word_label(-1, &s(&["a"])), "-1_a");
        assert_eq!(word_label(0, &[]), "0_");
    }

    #[test]
    fn readable_label_drops_generic_words() {
        let w = s(&[
            "research",
            "energy",
            "data",
            "oil",
            "gas",
            "penelitian",
            "prices",
            "war",
        ]);
        assert_eq!(readable_label(&w), "Energy Oil Gas Prices");
        assert_eq!(readable_label(&s(&["data", "analysis"])), "Data Analysis");
        assert_eq!(
            readable_label(&s(&["machine learning", "neural"])),
            "Machine Learning Neural"
        );
        assert_eq!(readable_label(&[]), "Untitled");
    }
}
