//! Text cleaning.

/// Cleans one document: control characters become spaces, whitespace runs collapse to one
/// space, copyright trailers (from `©`, `(c) 20xx` or `Copyright` followed by a year, `©` or
/// `(c)`) and `Keywords:` / `Kata kunci:` trailers (case-insensitive) are cut to the end, and
/// the result is trimmed. Non-ASCII letters are kept. Idempotent.
pub fn clean_text(s: &str) -> String {
    // Collapse first so that markers split by odd whitespace are found and the result is a
    // fixed point (cutting at the earliest marker leaves none behind).
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    if let Some(cut) = trailer_start(&out) {
        out.truncate(cut);
        let t = out.trim_end().len();
        out.truncate(t);
    }
    out
}

/// Byte offset of the earliest trailer marker, if any.
fn trailer_start(s: &str) -> Option<usize> {
    // ASCII lower-casing keeps byte offsets, and all ASCII markers are searched in it.
    let lower = s.to_ascii_lowercase();
    let mut best: Option<usize> = s.find('©');
    let mut consider = |i: usize| {
        if best.is_none_or(|b| i < b) {
            best = Some(i);
        }
    };
    for m in ["keywords:", "key words:", "kata kunci:"] {
        if let Some(i) = lower.find(m) {
            consider(i);
        }
    }
    let b = lower.as_bytes();
    for (i, _) in lower.match_indices("(c)") {
        let mut j = i + 3;
        if b.get(j) == Some(&b' ') {
            j += 1;
        }
        if is_year_at(b, j) {
            consider(i);
            break;
        }
    }
    for (i, _) in lower.match_indices("copyright") {
        let mut j = i + 9;
        if b.get(j) == Some(&b' ') {
            j += 1;
        }
        if is_year_at(b, j) || lower[j..].starts_with("(c)") || lower[j..].starts_with('©') {
            consider(i);
            break;
        }
    }
    best
}

fn is_year_at(b: &[u8], j: usize) -> bool {
    b.len() >= j + 4
        && (b[j..j + 2] == *b"19" || b[j..j + 2] == *b"20")
        && b[j + 2].is_ascii_digit()
        && b[j + 3].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_and_whitespace() {
        assert_eq!(
            clean_text("  Deep\tlearning \n\u{7} models. © 2023 Elsevier"),
            "Deep learning models."
        );
        assert_eq!(clean_text("Text here. (c) 2021 IEEE. more"), "Text here.");
        assert_eq!(clean_text("Text. Copyright 2020 ACM"), "Text.");
        assert_eq!(
            clean_text("On copyright law in music"),
            "On copyright law in music"
        );
        assert_eq!(
            clean_text("Abstrak penelitian. Kata Kunci: data, model"),
            "Abstrak penelitian."
        );
        assert_eq!(clean_text("Body. KEYWORDS: a, b"), "Body.");
        assert_eq!(
            clean_text("Analisis Łódź café naïve"),
            "Analisis Łódź café naïve"
        );
        assert_eq!(clean_text(""), "");
    }

    #[test]
    fn idempotent_examples() {
        for s in ["a  Kata\n kunci: x", " x (c)\t2020 y", "copyright\u{0}2020"] {
            let c = clean_text(s);
            assert_eq!(clean_text(&c), c);
        }
    }
}
