//! Occurrence and co-occurrence counting over boolean sliding windows or whole documents.
//!
//! Only topic words are tracked (dense ids `0..n_words`); every other token is still a position
//! inside a window. Instead of materialising every window's word set, the kernel follows each
//! word's *presence intervals* (runs of consecutive windows in which the word is marked present).
//! A word's occurrence count is the total length of its intervals, and a pair's co-occurrence
//! count is the total overlap of their intervals, added when the first of the two intervals ends.
//! That costs O(topic-word tokens × min(partners, words present)) per document instead of
//! O(windows × words present²).

use rayon::prelude::*;
use std::collections::HashMap;

/// Marks "not a topic word" in a dense token sequence, and "absent" in position tables.
pub(crate) const NONE: u32 = u32::MAX;

/// Documents are grouped into chunks of at least this many tokens; each chunk is counted on its
/// own (in parallel) and the integer partial counts are summed in chunk order. The chunking does
/// not depend on the thread count, and integer sums are exact, so results are deterministic.
const CHUNK_TOKENS: usize = 32 * 1024;

/// How the virtual documents are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// Boolean sliding window of this many tokens (gensim's `WordOccurrenceAccumulator`).
    Sliding { size: usize, gensim_quirk: bool },
    /// Each document is one virtual document (gensim's `CorpusAccumulator`); empty documents
    /// still count towards the number of documents.
    Document,
}

/// The word pairs whose co-occurrence is needed: only pairs that share a topic.
#[derive(Debug, Default)]
pub(crate) struct PairIndex {
    /// For every dense word, its partners `(other word, pair slot)`, sorted by the other word.
    partners: Vec<Vec<(u32, u32)>>,
    /// `(smaller id, larger id)` → slot.
    slots: HashMap<(u32, u32), u32>,
}

impl PairIndex {
    /// Registers every unordered pair of distinct words that occur together in one topic.
    pub(crate) fn from_topics(n_words: usize, topics: &[Vec<u32>]) -> Self {
        let mut partners: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_words];
        let mut slots: HashMap<(u32, u32), u32> = HashMap::new();
        for topic in topics {
            for (i, &a) in topic.iter().enumerate() {
                for &b in &topic[i + 1..] {
                    if a == b {
                        continue;
                    }
                    let key = (a.min(b), a.max(b));
                    let next = slots.len() as u32;
                    if let std::collections::hash_map::Entry::Vacant(e) = slots.entry(key) {
                        e.insert(next);
                        partners[key.0 as usize].push((key.1, next));
                        partners[key.1 as usize].push((key.0, next));
                    }
                }
            }
        }
        for list in &mut partners {
            list.sort_unstable();
        }
        Self { partners, slots }
    }

    fn n_pairs(&self) -> usize {
        self.slots.len()
    }

    /// Slot of an unordered pair of distinct words, if registered.
    pub(crate) fn slot(&self, a: u32, b: u32) -> Option<usize> {
        self.slots.get(&(a.min(b), a.max(b))).map(|&s| s as usize)
    }
}

/// Counts summed over all virtual documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Number of virtual documents (windows, or documents for [`Window::Document`]).
    pub(crate) n_virtual: u64,
    /// Per dense word: number of virtual documents in which it is present.
    pub(crate) occurrences: Vec<u64>,
    /// Per pair slot: number of virtual documents in which both words are present.
    pub(crate) pairs: Vec<u64>,
}

impl Counts {
    fn zeros(n_words: usize, n_pairs: usize) -> Self {
        Self {
            n_virtual: 0,
            occurrences: vec![0; n_words],
            pairs: vec![0; n_pairs],
        }
    }

    fn add(&mut self, other: &Counts) {
        self.n_virtual += other.n_virtual;
        for (a, b) in self.occurrences.iter_mut().zip(&other.occurrences) {
            *a += b;
        }
        for (a, b) in self.pairs.iter_mut().zip(&other.pairs) {
            *a += b;
        }
    }

    /// Co-occurrence count of two words; a word with itself is its occurrence count (gensim's
    /// diagonal), an unregistered pair counts 0.
    pub(crate) fn co(&self, index: &PairIndex, a: u32, b: u32) -> u64 {
        if a == b {
            return self.occurrences[a as usize];
        }
        index.slot(a, b).map_or(0, |s| self.pairs[s])
    }
}

/// Per-chunk working state; all tables are indexed by dense word id.
struct Scratch<'a> {
    partners: &'a [Vec<(u32, u32)>],
    /// Index into `present`, or [`NONE`].
    pos: Vec<u32>,
    /// First window of the word's current presence interval.
    start: Vec<u64>,
    /// Multiplicity inside the current window (plain, non-quirk mode only).
    in_window: Vec<u32>,
    present: Vec<u32>,
    dense: Vec<u32>,
    counts: Counts,
}

impl<'a> Scratch<'a> {
    fn new(index: &'a PairIndex, n_words: usize) -> Self {
        Self {
            partners: &index.partners,
            pos: vec![NONE; n_words],
            start: vec![0; n_words],
            in_window: vec![0; n_words],
            present: Vec::new(),
            dense: Vec::new(),
            counts: Counts::zeros(n_words, index.n_pairs()),
        }
    }

    #[inline]
    fn is_present(&self, x: u32) -> bool {
        self.pos[x as usize] != NONE
    }

    #[inline]
    fn open(&mut self, x: u32, t: u64) {
        self.pos[x as usize] = self.present.len() as u32;
        self.present.push(x);
        self.start[x as usize] = t;
    }

    /// Ends `x`'s presence interval before window `t`, crediting its overlap with every word
    /// still present (their overlap so far is complete: `x` is no longer there).
    fn close(&mut self, x: u32, t: u64) {
        let xi = x as usize;
        let s = self.start[xi];
        self.counts.occurrences[xi] += t - s;
        let list = &self.partners[xi];
        if list.len() <= self.present.len() {
            for &(y, slot) in list {
                if self.pos[y as usize] != NONE {
                    self.counts.pairs[slot as usize] += t - s.max(self.start[y as usize]);
                }
            }
        } else {
            for &y in &self.present {
                if y == x {
                    continue;
                }
                if let Ok(k) = list.binary_search_by_key(&y, |e| e.0) {
                    self.counts.pairs[list[k].1 as usize] += t - s.max(self.start[y as usize]);
                }
            }
        }
        let p = self.pos[xi] as usize;
        self.present.swap_remove(p);
        if let Some(&moved) = self.present.get(p) {
            self.pos[moved as usize] = p as u32;
        }
        self.pos[xi] = NONE;
    }

    /// Counts one document (dense ids in `self.dense`); returns its number of windows.
    fn document(&mut self, w: usize, quirk: bool) -> u64 {
        let d = std::mem::take(&mut self.dense);
        let len = d.len();
        if len == 0 {
            self.dense = d;
            return 0;
        }
        // A document no longer than the window is one window (the whole document).
        let first = len.min(w);
        let n_windows = if len <= w { 1 } else { len - w + 1 };
        for &x in &d[..first] {
            if x == NONE {
                continue;
            }
            if quirk {
                if !self.is_present(x) {
                    self.open(x, 0);
                }
            } else {
                self.in_window[x as usize] += 1;
                if self.in_window[x as usize] == 1 {
                    self.open(x, 0);
                }
            }
        }
        for i in 1..n_windows {
            let out = d[i - 1];
            let inn = d[i + w - 1];
            let t = i as u64;
            if quirk {
                // gensim unmarks the token that left even if it still occurs in the window,
                // then marks the token that entered.
                if out != NONE && out != inn && self.is_present(out) {
                    self.close(out, t);
                }
                if inn != NONE && !self.is_present(inn) {
                    self.open(inn, t);
                }
            } else {
                if out != NONE {
                    self.in_window[out as usize] -= 1;
                    if self.in_window[out as usize] == 0 {
                        self.close(out, t);
                    }
                }
                if inn != NONE {
                    self.in_window[inn as usize] += 1;
                    if self.in_window[inn as usize] == 1 {
                        self.open(inn, t);
                    }
                }
            }
        }
        let end = n_windows as u64;
        while let Some(&x) = self.present.last() {
            self.close(x, end);
        }
        if !quirk {
            for &x in &d[n_windows - 1..n_windows - 1 + first] {
                if x != NONE {
                    self.in_window[x as usize] = 0;
                }
            }
        }
        self.dense = d;
        n_windows as u64
    }
}

/// Counts occurrences of the dense words and co-occurrences of the registered pairs.
///
/// `tokens`/`offsets` hold the documents as dictionary ids (document `k` is
/// `tokens[offsets[k]..offsets[k + 1]]`); `to_dense` maps a dictionary id to a dense word id or
/// [`NONE`].
pub(crate) fn count(
    tokens: &[u32],
    offsets: &[usize],
    to_dense: &[u32],
    n_words: usize,
    index: &PairIndex,
    window: Window,
) -> Counts {
    count_chunked(
        tokens,
        offsets,
        to_dense,
        n_words,
        index,
        window,
        CHUNK_TOKENS,
    )
}

fn count_chunked(
    tokens: &[u32],
    offsets: &[usize],
    to_dense: &[u32],
    n_words: usize,
    index: &PairIndex,
    window: Window,
    chunk_tokens: usize,
) -> Counts {
    let n_docs = offsets.len().saturating_sub(1);
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let mut begin = 0;
    for k in 0..n_docs {
        if offsets[k + 1] - offsets[begin] >= chunk_tokens {
            chunks.push((begin, k + 1));
            begin = k + 1;
        }
    }
    if begin < n_docs {
        chunks.push((begin, n_docs));
    }
    let (w, quirk) = match window {
        Window::Sliding { size, gensim_quirk } => (size.max(1), gensim_quirk),
        Window::Document => (usize::MAX, true),
    };
    let partials: Vec<Counts> = chunks
        .par_iter()
        .map(|&(b, e)| {
            let mut scratch = Scratch::new(index, n_words);
            for k in b..e {
                scratch.dense.clear();
                scratch.dense.extend(
                    tokens[offsets[k]..offsets[k + 1]]
                        .iter()
                        .map(|&t| to_dense[t as usize]),
                );
                let n = scratch.document(w, quirk);
                scratch.counts.n_virtual += n;
            }
            scratch.counts
        })
        .collect();
    let mut total = Counts::zeros(n_words, index.n_pairs());
    for p in &partials {
        total.add(p);
    }
    if window == Window::Document {
        // gensim's document accumulator counts every document, empty ones included.
        total.n_virtual = n_docs as u64;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Literal window-by-window simulation of the semantics (slow, obviously correct).
    fn brute(docs: &[Vec<u32>], n_words: usize, window: Window) -> (u64, Vec<u64>, Vec<Vec<u64>>) {
        let mut occ = vec![0u64; n_words];
        let mut co = vec![vec![0u64; n_words]; n_words];
        let mut n = 0u64;
        let mut credit = |mark: &[bool], n: &mut u64| {
            *n += 1;
            for a in 0..n_words {
                if mark[a] {
                    occ[a] += 1;
                    for b in 0..n_words {
                        if mark[b] {
                            co[a][b] += 1;
                        }
                    }
                }
            }
        };
        for d in docs {
            if d.is_empty() {
                continue;
            }
            let (w, quirk) = match window {
                Window::Sliding { size, gensim_quirk } => (size, gensim_quirk),
                Window::Document => (usize::MAX, true),
            };
            let n_windows = if d.len() <= w { 1 } else { d.len() - w + 1 };
            let mut mark = vec![false; n_words];
            for i in 0..n_windows {
                let win = &d[i..(i + w).min(d.len())];
                if i == 0 || !quirk {
                    mark.iter_mut().for_each(|m| *m = false);
                    for &x in win {
                        if x != NONE {
                            mark[x as usize] = true;
                        }
                    }
                } else {
                    let out = d[i - 1];
                    if out != NONE {
                        mark[out as usize] = false;
                    }
                    let inn = win[win.len() - 1];
                    if inn != NONE {
                        mark[inn as usize] = true;
                    }
                }
                credit(&mark, &mut n);
            }
        }
        if window == Window::Document {
            n = docs.len() as u64;
        }
        (n, occ, co)
    }

    fn fast(docs: &[Vec<u32>], n_words: usize, window: Window) -> (Counts, PairIndex) {
        fast_chunked(docs, n_words, window, CHUNK_TOKENS)
    }

    fn fast_chunked(
        docs: &[Vec<u32>],
        n_words: usize,
        window: Window,
        chunk_tokens: usize,
    ) -> (Counts, PairIndex) {
        let mut tokens = Vec::new();
        let mut offsets = vec![0];
        for d in docs {
            // Dictionary id = dense id + 1, dictionary id 0 is a non-topic word.
            tokens.extend(d.iter().map(|&x| if x == NONE { 0 } else { x + 1 }));
            offsets.push(tokens.len());
        }
        let mut to_dense = vec![NONE];
        to_dense.extend(0..n_words as u32);
        let all: Vec<u32> = (0..n_words as u32).collect();
        let index = PairIndex::from_topics(n_words, &[all]);
        (
            count_chunked(
                &tokens,
                &offsets,
                &to_dense,
                n_words,
                &index,
                window,
                chunk_tokens,
            ),
            index,
        )
    }

    fn doc_strategy(n_words: u32) -> impl Strategy<Value = Vec<Vec<u32>>> {
        let tok = prop_oneof![3 => 0..n_words, 1 => Just(NONE)];
        prop::collection::vec(prop::collection::vec(tok, 0..40), 0..6)
    }

    proptest! {
        #[test]
        fn interval_counts_equal_window_simulation(
            docs in doc_strategy(6),
            size in 1usize..12,
            quirk in any::<bool>(),
            by_document in any::<bool>(),
        ) {
            let n_words = 6;
            let window = if by_document {
                Window::Document
            } else {
                Window::Sliding { size, gensim_quirk: quirk }
            };
            let (n, occ, co) = brute(&docs, n_words, window);
            let (counts, index) = fast(&docs, n_words, window);
            prop_assert_eq!(counts.n_virtual, n);
            prop_assert_eq!(&counts.occurrences, &occ);
            for a in 0..n_words as u32 {
                for b in 0..n_words as u32 {
                    prop_assert_eq!(counts.co(&index, a, b), co[a as usize][b as usize]);
                }
            }
        }
    }

    #[test]
    fn chunking_does_not_change_counts() {
        // Deterministic pseudo-random documents (LCG), long enough for many chunks.
        let mut state = 12345u64;
        let mut next = |m: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % m
        };
        let docs: Vec<Vec<u32>> = (0..200)
            .map(|_| {
                let len = next(60) as usize;
                (0..len)
                    .map(|_| match next(10) {
                        0..=2 => NONE,
                        _ => next(15) as u32,
                    })
                    .collect()
            })
            .collect();
        for window in [
            Window::Document,
            Window::Sliding {
                size: 7,
                gensim_quirk: true,
            },
            Window::Sliding {
                size: 7,
                gensim_quirk: false,
            },
        ] {
            let whole = fast_chunked(&docs, 15, window, usize::MAX).0;
            for chunk_tokens in [1, 13, 500] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(3)
                    .build()
                    .unwrap();
                let split = pool.install(|| fast_chunked(&docs, 15, window, chunk_tokens).0);
                assert_eq!(split, whole, "{window:?}, chunks of {chunk_tokens} tokens");
            }
        }
    }

    #[test]
    fn quirk_loses_a_word_that_left_but_is_still_inside() {
        // x y x z z with w = 3: windows [x y x], [y x z], [x z z].
        // gensim: window 1 unmarks x (left) although x is still inside, then marks z.
        let docs = vec![vec![0, 1, 0, 2, 2]];
        let quirk = fast(
            &docs,
            3,
            Window::Sliding {
                size: 3,
                gensim_quirk: true,
            },
        )
        .0;
        let plain = fast(
            &docs,
            3,
            Window::Sliding {
                size: 3,
                gensim_quirk: false,
            },
        )
        .0;
        assert_eq!(quirk.n_virtual, 3);
        // quirk: x is only marked in window 0 (window 2 holds x, but only z entered).
        assert_eq!(quirk.occurrences, vec![1, 2, 2]);
        assert_eq!(plain.occurrences, vec![3, 2, 2]);
    }
}
