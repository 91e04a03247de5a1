//! Acceptance test of drift monitoring on the labelled arXiv corpus (precomputed MiniLM
//! embeddings, no model needed). A model is fitted once on papers of the three big categories
//! (cs.CV, cs.CL, cs.AI), then monitored on:
//!
//! (a) unseen papers of the same categories: LOW on every signal;
//! (b) papers of every other category: HIGH on topic or distribution drift and on embeddings;
//! (c) 20 random same-distribution batches of 200: at most one false alarm (MEDIUM or above);
//! (d) 500-paper batches with a growing share of foreign papers: the smallest share flagged.
//!
//! Measured numbers are printed (`cargo test --test drift -- --nocapture`).

use bertopic::drift::Level;
use bertopic::monitor::{self, MonitorOptions, MonitorReport};
use bertopic::ndarray::{Array2, Axis};
use bertopic::{BERTopic, TopicModel};
use bertopic_suite::corpus_with_embeddings;

const BIG: [&str; 3] = ["cs.CV", "cs.CL", "cs.AI"];
/// Training documents (a seeded sample of the big categories; the rest is held out). Capped so
/// the one fit stays well under a minute in the dev profile.
const TRAIN_DOCS: usize = 6000;

struct Data {
    texts: Vec<String>,
    embeddings: Array2<f32>,
    /// Held-out big-category rows (never trained on), shuffled.
    held: Vec<usize>,
    /// Rows of every other category, shuffled.
    foreign: Vec<usize>,
}

/// Seeded Fisher–Yates (SplitMix64), so the test needs no rand dependency.
fn shuffle(v: &mut [usize], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..v.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

fn fit() -> (TopicModel, Data) {
    let (docs, embeddings) =
        corpus_with_embeddings("arxiv-cs-abstracts").expect("shared arXiv corpus");
    let mut big = Vec::new();
    let mut foreign = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        if BIG.contains(&d.label.as_deref().unwrap_or("")) {
            big.push(i);
        } else {
            foreign.push(i);
        }
    }
    shuffle(&mut big, 7);
    shuffle(&mut foreign, 11);
    let held = big.split_off(TRAIN_DOCS);
    let mut train = big;
    train.sort_unstable();
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let train_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
    let t = std::time::Instant::now();
    let mut model = BERTopic::builder()
        .min_topic_size(15)
        .seed(42)
        .build()
        .expect("params")
        .fit_with_embeddings(&train_texts, embeddings.select(Axis(0), &train))
        .expect("fit");
    model
        .record_training_baseline(&train_texts)
        .expect("baseline");
    println!(
        "fit on {} documents ({} topics, {:.1}% outliers) in {:.1} s; baseline {:?}; held out {}, foreign {}",
        train.len(),
        model.n_topics(),
        100.0 * model.outlier_fraction(),
        t.elapsed().as_secs_f64(),
        model.training_baseline(),
        held.len(),
        foreign.len()
    );
    let data = Data {
        texts,
        embeddings,
        held,
        foreign,
    };
    (model, data)
}

fn run(model: &TopicModel, data: &Data, rows: &[usize], seed: u64) -> MonitorReport {
    let texts: Vec<String> = rows.iter().map(|&i| data.texts[i].clone()).collect();
    let opts = MonitorOptions {
        seed: Some(seed),
        ..MonitorOptions::default()
    };
    monitor::monitor(model, &texts, &data.embeddings.select(Axis(0), rows), &opts).expect("monitor")
}

/// Every signal's level, in report order.
fn levels(r: &MonitorReport) -> Vec<(&'static str, Level)> {
    let d = &r.drift;
    let mut v = Vec::new();
    if let Some(x) = &d.topic_drift {
        v.push(("topic", x.level()));
    }
    if let Some(x) = &d.distribution_drift {
        v.push(("distribution", x.level));
    }
    if let Some(x) = &d.embedding_drift {
        v.push(("embedding", x.level));
    }
    if let Some(x) = &d.vocabulary_drift {
        v.push(("vocabulary", x.level));
    }
    if let Some(x) = &d.quality {
        v.push(("quality", x.level));
    }
    v
}

fn line(name: &str, r: &MonitorReport) -> String {
    let e = monitor::HistoryEntry::from(r);
    let signals: Vec<String> = e
        .signals
        .iter()
        .map(|(k, s)| {
            format!(
                "{k} {} {}={}{}",
                s.level,
                s.metric,
                s.value.map_or("-".into(), |v| format!("{v:.4}")),
                s.p_value.map_or(String::new(), |p| format!(" p={p:.3}"))
            )
        })
        .collect();
    format!(
        "{name}: {} [{}] ({:.3} ms/doc, {:.2} s)",
        r.level(),
        signals.join("; "),
        r.batch.seconds_per_doc * 1e3,
        r.batch.total_seconds
    )
}

#[test]
fn drift_on_the_labelled_arxiv_corpus() {
    let (model, data) = fit();
    // Every check is made and printed before the test fails, so one run gives all the numbers.
    let mut failures: Vec<String> = Vec::new();

    // (a) unseen papers of the training categories.
    let same = run(&model, &data, &data.held[..500], 1);
    println!("{}", line("(a) 500 unseen same-category papers", &same));
    if let Some(bertopic::drift::TopicDrift::ReRepresent(k)) = &same.drift.topic_drift {
        for t in &k.scored {
            println!(
                "(a)   topic {} docs {} jaccard {:.2}",
                t.topic, t.batch_docs, t.jaccard
            );
        }
    }
    // Topic and distribution drift do not vote by default (sampling noise above their fixed
    // thresholds, see `MonitorOptions::default`): their levels are printed, not asserted.
    let voting: Vec<&str> = same
        .drift
        .voting
        .iter()
        .map(|k| match k {
            bertopic::drift::SignalKind::Topic => "topic",
            bertopic::drift::SignalKind::Distribution => "distribution",
            bertopic::drift::SignalKind::Embedding => "embedding",
            bertopic::drift::SignalKind::Vocabulary => "vocabulary",
            bertopic::drift::SignalKind::Quality => "quality",
        })
        .collect();
    println!("(a) voting signals: {voting:?}");
    for (signal, level) in levels(&same) {
        if voting.contains(&signal) && level != Level::Low {
            failures.push(format!("(a) {signal} is {level}: {:?}", same.drift.reasons));
        }
    }

    // (b) papers of categories the model never saw.
    let other = run(&model, &data, &data.foreign[..500], 2);
    println!("{}", line("(b) 500 papers of other categories", &other));
    let d = &other.drift;
    let topic_or_distribution = d.topic_drift.as_ref().map(|t| t.level()) == Some(Level::High)
        || d.distribution_drift.as_ref().map(|x| x.level) == Some(Level::High);
    if !topic_or_distribution {
        failures.push(format!(
            "(b) neither topic nor distribution HIGH: {:?}",
            d.reasons
        ));
    }
    let emb = d.embedding_drift.as_ref().expect("embedding signal");
    if emb.level != Level::High || emb.p_value.value >= 0.01 {
        failures.push(format!(
            "(b) embedding {} p = {}",
            emb.level, emb.p_value.value
        ));
    }

    // (c) false alarms: 20 disjoint same-distribution batches of 200.
    let pool = &data.held[500..];
    let mut alarms = 0;
    let mut per_signal: std::collections::BTreeMap<&str, Vec<Level>> = Default::default();
    let mut values: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for b in 0..20 {
        let rows = &pool[b * 200..(b + 1) * 200];
        let r = run(&model, &data, rows, 100 + b as u64);
        println!("{}", line(&format!("(c) batch {b:2}"), &r));
        if r.level() >= Level::Medium {
            alarms += 1;
        }
        for (s, l) in levels(&r) {
            per_signal.entry(s).or_default().push(l);
        }
        for (k, s) in monitor::HistoryEntry::from(&r).signals {
            if let Some(v) = s.value {
                values
                    .entry(format!("{k} {}", s.metric))
                    .or_default()
                    .push(v);
            }
            if let Some(p) = s.p_value {
                values.entry(format!("{k} p_value")).or_default().push(p);
            }
        }
    }
    println!("(c) false alarms (MEDIUM or above): {alarms} of 20");
    for (s, ls) in &per_signal {
        let count = |l| ls.iter().filter(|&&x| x == l).count();
        println!(
            "(c)   {s:<12} LOW {:2}  MEDIUM {:2}  HIGH {:2}",
            count(Level::Low),
            count(Level::Medium),
            count(Level::High)
        );
    }
    for (k, v) in &values {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        println!(
            "(c)   {k:<28} min {:.4}  median {:.4}  max {:.4}",
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    }
    if alarms > 1 {
        failures.push(format!(
            "(c) {alarms} false alarms in 20 same-distribution batches"
        ));
    }

    // (d) detection power: foreign papers mixed into 500-paper batches.
    let shares = [0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];
    let mut smallest = None;
    let mut flagged = Vec::new();
    for (k, &share) in shares.iter().enumerate() {
        let n_foreign = (500.0 * share) as usize;
        let mut rows: Vec<usize> = data.foreign[500..500 + n_foreign].to_vec();
        rows.extend_from_slice(&pool[4000 + k * 500..4000 + k * 500 + 500 - n_foreign]);
        let r = run(&model, &data, &rows, 200 + k as u64);
        println!(
            "{}",
            line(&format!("(d) {:>3.0}% foreign", share * 100.0), &r)
        );
        flagged.push(r.level() >= Level::Medium);
        if r.level() >= Level::Medium && smallest.is_none() {
            smallest = Some(share);
        }
    }
    println!(
        "(d) smallest foreign share flagged MEDIUM or above in a 500-paper batch: {}",
        smallest.map_or("none".into(), |s| format!("{:.0}%", s * 100.0))
    );
    // From this share on, every larger share is flagged too.
    let steady = (0..shares.len())
        .find(|&k| flagged[k..].iter().all(|&f| f))
        .map(|k| shares[k]);
    println!(
        "(d) smallest share from which every larger share is flagged: {}",
        steady.map_or("none".into(), |s| format!("{:.0}%", s * 100.0))
    );
    if !smallest.is_some_and(|s| s <= 0.3) {
        failures.push("(d) 30% foreign papers are not flagged".into());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
