//! Acceptance tests of drift monitoring on the labelled shared corpora (precomputed MiniLM
//! embeddings, no model needed), every signal voting.
//!
//! arXiv: a model is fitted once on papers of the three big categories (cs.CV, cs.CL, cs.AI),
//! then monitored on:
//!
//! (a) unseen papers of the same categories: LOW on every signal;
//! (b) papers of every other category: HIGH on topic or distribution drift and on embeddings;
//! (c) 20 random same-distribution batches of 200: at most one false alarm (MEDIUM or above);
//! (d) 500-paper batches with a growing share of foreign papers: the smallest share flagged.
//!
//! State of the Union: a model of the post-1945 addresses (Democratic and Republican), then
//! unseen post-1945 passages (LOW on every signal), passages of the parties and era before 1861
//! (Federalist, Democratic-Republican, Whig, ...; HIGH), and one party alone (reported).
//!
//! A domain classifier (seeded 5-fold logistic regression, training sample vs batch, out-of-fold
//! AUC) runs beside the monitor on the arXiv cases with `BERTOPIC_DRIFT_DOMAIN_AUC=1`, to
//! measure whether it adds anything to MMD.
//!
//! Measured numbers are printed (`cargo test --test drift -- --nocapture`).

use bertopic::drift::Level;
use bertopic::monitor::{self, MonitorOptions, MonitorReport};
use bertopic::ndarray::{Array2, Axis};
use bertopic::{Bertopic, TopicModel};
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
    /// Training rows.
    train: Vec<usize>,
}

/// Seeded Fisher–Yates (SplitMix64), so the test needs no rand dependency.
fn shuffle(v: &mut [usize], seed: u64) {
    bertopic_rng::SplitMix64::new(seed).shuffle(v);
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
    big.sort_unstable();
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let model = fit_on(&texts, &embeddings, &big);
    let data = Data {
        texts,
        embeddings,
        held,
        foreign,
        train: big,
    };
    println!(
        "held out {}, foreign {}",
        data.held.len(),
        data.foreign.len()
    );
    (model, data)
}

/// Fits the model on `train` rows and records its monitoring baseline (timed).
fn fit_on(texts: &[String], embeddings: &Array2<f32>, train: &[usize]) -> TopicModel {
    let train_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
    let t = std::time::Instant::now();
    let mut model = Bertopic::builder()
        .min_topic_size(15)
        .seed(42)
        .build()
        .expect("params")
        .fit_with_embeddings(&train_texts, embeddings.select(Axis(0), train))
        .expect("fit");
    let fit_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    model
        .record_training_baseline(&train_texts)
        .expect("baseline");
    let b = model.training_baseline().expect("baseline recorded");
    let kw = b.keywords.as_deref().unwrap_or_default();
    println!(
        "fit on {} documents ({} topics, {:.1}% outliers) in {fit_s:.1} s; monitoring baseline in {:.1} s \
         (keyword null for {} topics, {} sizes in all; c_v {:?}, OOV {:?})",
        train.len(),
        model.n_topics(),
        100.0 * model.outlier_fraction(),
        t.elapsed().as_secs_f64(),
        kw.iter().filter(|k| !k.by_size.is_empty()).count(),
        kw.iter().map(|k| k.by_size.len()).sum::<usize>(),
        b.c_v,
        b.oov_rate,
    );
    for k in kw.iter().take(3) {
        println!(
            "  keyword null of topic {} ({} docs): {:?}",
            k.topic, k.training_docs, k.by_size
        );
    }
    model
}

/// Calibration: 20 more disjoint batches of 200 (40 with (c)), and one of 4,000 where a
/// systematic difference between how training and batch documents are assigned would show.
/// Returns the false alarms among the 20 more batches.
fn calibrate(model: &TopicModel, data: &Data, pool: &[usize], alarms: usize) -> usize {
    let mut p_values: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut more_alarms = 0;
    let mut collect = |r: &MonitorReport| {
        let d = &r.drift;
        if let Some(n) = d.distribution_drift.as_ref().and_then(|x| x.null.as_ref()) {
            p_values
                .entry("distribution JS")
                .or_default()
                .push(n.js_p_value);
            p_values
                .entry("distribution PSI")
                .or_default()
                .push(n.psi_p_value);
            if let Some(p) = n.outlier_rise_p_value {
                p_values.entry("distribution outlier").or_default().push(p);
            }
        }
        if let Some(bertopic::drift::TopicDrift::ReRepresent(k)) = &d.topic_drift {
            if let Some(n) = &k.null {
                p_values
                    .entry("topic keywords")
                    .or_default()
                    .push(n.p_value);
            }
        }
        if let Some(e) = &d.embedding_drift {
            p_values
                .entry("embedding")
                .or_default()
                .push(e.p_value.value);
        }
    };
    for b in 0..20 {
        let rows = &pool[7500 + b * 200..7700 + b * 200];
        let r = run(model, data, rows, 300 + b as u64);
        println!("{}", line(&format!("(c+) batch {b:2}"), &r));
        if r.level() >= Level::Medium {
            println!("(c+)   reasons {:?}", r.drift.reasons);
        }
        if r.level() >= Level::Medium {
            more_alarms += 1;
        }
        collect(&r);
    }
    println!(
        "(c+) false alarms in 20 more batches: {more_alarms}; in all 40: {}",
        alarms + more_alarms
    );
    for (k, v) in &p_values {
        let below = |a: f64| v.iter().filter(|&&p| p <= a).count();
        let mut s = v.clone();
        s.sort_by(f64::total_cmp);
        println!(
            "(c+)   {k:<22} p ≤ 0.01: {:2}  p ≤ 0.05: {:2}  p ≤ 0.1: {:2}  median {:.3} of {}",
            below(0.01),
            below(0.05),
            below(0.1),
            s[s.len() / 2],
            s.len()
        );
    }
    let big = run(model, data, &pool[7500..11500], 399);
    println!("{}", line("(c+) one batch of 4000", &big));
    println!("(c+)   reasons {:?}", big.drift.reasons);
    println!(
        "(c+)   its distribution null {:?}",
        big.drift
            .distribution_drift
            .as_ref()
            .and_then(|d| d.null.clone())
    );
    more_alarms
}

/// The topic-share reference, measured: the batch's topics come from the k-NN vote, so the
/// training side should be labelled the same way. Compares (F) the fitted topics of a seeded
/// 2,000-row training sample (what models without a recorded reference use) with (L) the
/// leave-one-out k-NN topics of every training row, against the predictions of the held-out
/// pool: outlier shares, JS distance at a large size, and the raw (uncorrected) topic-share
/// p-values of 40 same-distribution batches of 200 against each reference. Returns the
/// number of those batches with JS p ≤ 0.01 for (F) and (L).
fn reference_bias(model: &TopicModel, data: &Data, pool: &[usize]) -> (usize, usize) {
    use bertopic::drift::{topic_distribution_drift, DriftConfig, FamilyWise};
    let n_train = data.train.len();
    let mut sample: Vec<usize> = (0..n_train).collect();
    shuffle(&mut sample, 42);
    sample.truncate(2000);
    let fitted: Vec<i64> = sample.iter().map(|&i| model.document_topics()[i]).collect();
    let t = std::time::Instant::now();
    let loo = model
        .leave_one_out_topics(&(0..n_train).collect::<Vec<_>>())
        .expect("leave-one-out");
    let loo_s = t.elapsed().as_secs_f64();
    let predict = |rows: &[usize]| -> Vec<i64> {
        model
            .transform_embeddings(
                &vec![String::new(); rows.len()],
                &data.embeddings.select(Axis(0), rows),
            )
            .expect("predict")
            .0
    };
    let held: Vec<i64> = predict(pool);
    let outliers =
        |v: &[i64]| 100.0 * v.iter().filter(|&&t| t == -1).count() as f64 / v.len() as f64;
    println!(
        "(r) outlier share: fitted (all {n_train}) {:.1}%, fitted sample {:.1}%, leave-one-out k-NN {:.1}% ({loo_s:.2} s for {n_train} rows), predictions of {} held-out papers {:.1}%",
        outliers(model.document_topics()),
        outliers(&fitted),
        outliers(&loo),
        pool.len(),
        outliers(&held)
    );
    let mut cfg = DriftConfig {
        family_wise: FamilyWise::None,
        ..DriftConfig::default()
    };
    cfg.distribution.n_permutations = 2000;
    for (name, reference) in [("fitted", &fitted), ("leave-one-out", &loo)] {
        let d = topic_distribution_drift(reference, &held, &cfg).expect("distribution");
        let n = d.null.as_ref().expect("null");
        println!(
            "(r) {name:<13} vs all {} held-out predictions: JS {:.4} (noise {:.4}, p {:.4}), PSI {:.4} (noise {:.4}, p {:.4}), outlier rise {:+.2} points (p {:?})",
            held.len(),
            d.js_distance.value,
            n.js_noise,
            n.js_p_value,
            d.psi.value,
            n.psi_noise,
            n.psi_p_value,
            100.0 * d.outlier.as_ref().map_or(0.0, |o| o.rise.value),
            n.outlier_rise_p_value
        );
    }
    let mut significant = [0usize; 2];
    for (r, (name, reference)) in [("fitted", &fitted), ("leave-one-out", &loo)]
        .into_iter()
        .enumerate()
    {
        let (mut js, mut noise2, mut rise) = (Vec::new(), Vec::new(), Vec::new());
        let (mut p_js, mut p_psi, mut p_out) = (0, 0, 0);
        for b in 0..40 {
            let start = if b < 20 {
                b * 200
            } else {
                7500 + (b - 20) * 200
            };
            let batch = &held[start..start + 200];
            cfg.distribution.seed = 500 + b as u64;
            let d = topic_distribution_drift(reference, batch, &cfg).expect("distribution");
            let n = d.null.as_ref().expect("null");
            js.push(d.js_distance.value);
            noise2.push(n.js_noise * n.js_noise);
            rise.push(d.outlier.as_ref().map_or(0.0, |o| o.rise.value));
            p_js += usize::from(n.js_p_value <= 0.01);
            p_psi += usize::from(n.psi_p_value <= 0.01);
            p_out += usize::from(n.outlier_rise_p_value.is_some_and(|p| p <= 0.01));
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let js2: Vec<f64> = js.iter().map(|x| x * x).collect();
        println!(
            "(r) {name:<13} 40 batches of 200: mean JS {:.4} vs null rms {:.4} (excess JS² {:+.5}); mean outlier rise {:+.2} points; p ≤ 0.01: JS {p_js}, PSI {p_psi}, outlier rise {p_out} (expected 0.4 each)",
            mean(&js),
            mean(&noise2).sqrt(),
            mean(&js2) - mean(&noise2),
            100.0 * mean(&rise),
        );
        significant[r] = p_js;
    }
    (significant[0], significant[1])
}

/// The monitor's time per batch with the previous defaults (no family-wise correction, 200
/// MMD permutations run in full, 2,000 topic-share permutations) and the current ones, on
/// the same batches (printed; the machine is shared, so only the ratio means much).
fn timing(model: &TopicModel, data: &Data, pool: &[usize]) {
    let mut before = monitor::monitor_config();
    before.family_wise = bertopic::drift::FamilyWise::None;
    before.embedding.n_permutations = 200;
    before.embedding.stop_after_exceedances = 0;
    before.distribution.n_permutations = 2000;
    for (name, size, count) in [("200", 200, 5), ("500", 500, 2), ("2000", 2000, 1)] {
        let mut secs = [0.0f64; 2];
        for b in 0..count {
            let rows = &pool[b * size..(b + 1) * size];
            let texts: Vec<String> = rows.iter().map(|&i| data.texts[i].clone()).collect();
            let emb = data.embeddings.select(Axis(0), rows);
            for (k, config) in [before.clone(), monitor::monitor_config()]
                .into_iter()
                .enumerate()
            {
                let opts = MonitorOptions {
                    config,
                    seed: Some(700 + b as u64),
                    ..MonitorOptions::default()
                };
                let r = monitor::monitor(model, &texts, &emb, &opts).expect("monitor");
                secs[k] += r.batch.total_seconds / count as f64;
            }
        }
        println!(
            "(t) monitor time per batch of {name}: previous defaults {:.2} s, now {:.2} s",
            secs[0], secs[1]
        );
    }
}

/// Failures for every signal of `r` above LOW.
fn every_signal_low(case: &str, r: &MonitorReport) -> Vec<String> {
    let voting = &r.drift.voting;
    let out: Vec<String> = levels(r)
        .into_iter()
        .filter(|(_, l)| *l != Level::Low)
        .map(|(s, l)| format!("{case} {s} is {l}: {:?}", r.drift.reasons))
        .collect();
    println!("{case}   voting {voting:?}");
    out
}

/// Out-of-fold AUC of a domain classifier telling a seeded sample of the training embeddings
/// (up to 2,000, as the MMD test) from the batch's, with its time.
struct Auc {
    auc: f64,
    /// One-sided p-value of the AUC (Mann–Whitney normal approximation).
    p: f64,
    seconds: f64,
}

impl std::fmt::Display for Auc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AUC {:.3} (p = {:.2e}) in {:.2} s",
            self.auc, self.p, self.seconds
        )
    }
}

/// A seeded, 5-fold cross-validated, class-balanced L2 logistic regression (full-batch
/// gradient descent) on the raw embeddings; the AUC of its out-of-fold scores.
fn domain_auc(data: &Data, rows: &[usize], seed: u64) -> Auc {
    let t = std::time::Instant::now();
    let mut pick = data.train.clone();
    shuffle(&mut pick, seed ^ 0xA5A5);
    pick.truncate(2000);
    let x0 = data.embeddings.select(Axis(0), &pick);
    let x1 = data.embeddings.select(Axis(0), rows);
    let x = bertopic::ndarray::concatenate(Axis(0), &[x0.view(), x1.view()])
        .unwrap()
        .mapv(f64::from);
    let (n0, n1) = (x0.nrows(), x1.nrows());
    let y: Vec<f64> = (0..n0 + n1)
        .map(|i| if i < n0 { 0.0 } else { 1.0 })
        .collect();
    // Balanced class weights, so the majority class does not win by default.
    let w: Vec<f64> = y
        .iter()
        .map(|&c| {
            if c == 0.0 {
                0.5 / n0 as f64
            } else {
                0.5 / n1 as f64
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..n0 + n1).collect();
    shuffle(&mut order, seed);
    let mut fold = vec![0usize; n0 + n1];
    for (k, &i) in order.iter().enumerate() {
        fold[i] = k % 5;
    }
    let d = x.ncols();
    let mut score = vec![0.0f64; n0 + n1];
    let lambda = 1e-3;
    for f in 0..5 {
        let train: Vec<usize> = (0..n0 + n1).filter(|&i| fold[i] != f).collect();
        let total_w: f64 = train.iter().map(|&i| w[i]).sum();
        let mut beta = vec![0.0f64; d + 1];
        for _ in 0..300 {
            let mut grad = vec![0.0f64; d + 1];
            for &i in &train {
                let row = x.row(i);
                let z = beta[d] + row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>();
                let g = w[i] / total_w * (1.0 / (1.0 + (-z).exp()) - y[i]);
                for (gj, xj) in grad.iter_mut().zip(row.iter()) {
                    *gj += g * xj;
                }
                grad[d] += g;
            }
            for j in 0..=d {
                let reg = if j < d { lambda * beta[j] } else { 0.0 };
                // Step 2: the loss's curvature is at most (|x|² + 1)/4 = 1/2 for unit embeddings
                // with a bias, so this step is stable.
                beta[j] -= 2.0 * (grad[j] + reg);
            }
        }
        for i in (0..n0 + n1).filter(|&i| fold[i] == f) {
            let row = x.row(i);
            score[i] = beta[d] + row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>();
        }
    }
    // AUC = P(score of a batch row > score of a training row), ties counted half.
    let mut idx: Vec<usize> = (0..n0 + n1).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut rank = vec![0.0f64; n0 + n1];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k;
        while e + 1 < idx.len() && score[idx[e + 1]] == score[idx[k]] {
            e += 1;
        }
        for &i in &idx[k..=e] {
            rank[i] = (k + e) as f64 / 2.0 + 1.0;
        }
        k = e + 1;
    }
    let r1: f64 = (n0..n0 + n1).map(|i| rank[i]).sum();
    let (a, b) = (n0 as f64, n1 as f64);
    let auc = (r1 - b * (b + 1.0) / 2.0) / (a * b);
    let sd = ((a + b + 1.0) / (12.0 * a * b)).sqrt();
    let z = (auc - 0.5) / sd;
    Auc {
        auc,
        p: 0.5 * erfc(z / std::f64::consts::SQRT_2),
        seconds: t.elapsed().as_secs_f64(),
    }
}

/// erfc by its continued fraction for x > 2 and its series below (enough for a p-value).
fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.0 {
        // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
        let (mut term, mut sum) = (x, x);
        for n in 1..60 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        return 1.0 - 2.0 / std::f64::consts::PI.sqrt() * sum;
    }
    // Lentz-free backward evaluation of the continued fraction.
    let mut f = 0.0;
    for k in (1..60).rev() {
        f = (k as f64 / 2.0) / (x + f);
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + f)
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
    arxiv(false);
}

/// The issue's false-alarm bar on arXiv: at most 1 of 20 same-distribution batches of 200 at
/// MEDIUM or above, and again on 20 more batches with other seeds (a hold-out: the settings
/// were not tuned on them). Also measures the topic-share reference (fitted vs leave-one-out
/// topics, [`reference_bias`]) and asserts that the recorded one is calibrated. Before the
/// leave-one-out reference and the family-wise correction, 2 of the 20 (and 2 of the 20
/// more) raised an alarm. `BERTOPIC_DRIFT_DOMAIN_AUC=1` also runs the domain-classifier
/// comparison (a few minutes of CPU).
#[test]
fn arxiv_false_alarms_at_most_one_in_20() {
    arxiv(true);
}

/// (a), (b) and (d) are asserted; (c), the false-alarm count, only when `false_alarms`.
fn arxiv(false_alarms: bool) {
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
    if let Some(bertopic::drift::TopicDrift::ReRepresent(k)) = &same.drift.topic_drift {
        println!(
            "(a)   keyword null {:?}; not scored {}",
            k.null,
            k.not_scored.len()
        );
    }
    println!(
        "(a)   distribution null {:?}",
        same.drift
            .distribution_drift
            .as_ref()
            .and_then(|d| d.null.clone())
    );
    failures.extend(every_signal_low("(a)", &same));
    // The domain classifier is a measurement (minutes of CPU), asked for by environment.
    let measure = false_alarms && std::env::var_os("BERTOPIC_DRIFT_DOMAIN_AUC").is_some();
    if measure {
        println!(
            "(a)   domain classifier {}",
            domain_auc(&data, &data.held[..500], 1)
        );
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
    if measure {
        println!(
            "(b)   domain classifier {}",
            domain_auc(&data, &data.foreign[..500], 2)
        );
    }

    // (c) false alarms: 20 disjoint same-distribution batches of 200.
    let pool = &data.held[500..];
    let mut alarms = 0;
    let mut auc_alarms = 0;
    let mut per_signal: std::collections::BTreeMap<&str, Vec<Level>> = Default::default();
    let mut values: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for b in 0..20 {
        let rows = &pool[b * 200..(b + 1) * 200];
        let r = run(&model, &data, rows, 100 + b as u64);
        println!("{}", line(&format!("(c) batch {b:2}"), &r));
        if r.level() >= Level::Medium {
            println!("(c)   reasons {:?}", r.drift.reasons);
        }
        if measure {
            let auc = domain_auc(&data, rows, 100 + b as u64);
            println!("(c)   domain classifier {auc}");
            if auc.p < 0.01 {
                auc_alarms += 1;
            }
            values.entry("domain auc".into()).or_default().push(auc.auc);
        }
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
    println!("(c) domain classifier alarms (p < 0.01): {auc_alarms} of 20");
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
    if false_alarms && alarms > 1 {
        failures.push(format!(
            "(c) {alarms} false alarms in 20 same-distribution batches"
        ));
    }

    if false_alarms {
        let (fitted, loo) = reference_bias(&model, &data, pool);
        println!("(r) batches with JS p ≤ 0.01: fitted reference {fitted}, leave-one-out {loo}");
        // 40 batches at p ≤ 0.01: 0.4 expected, more than 2 has probability 0.008.
        if loo > 2 {
            failures.push(format!(
                "(r) the leave-one-out reference is not calibrated: {loo} of 40 batches at JS p ≤ 0.01"
            ));
        }
        timing(&model, &data, pool);
        let more = calibrate(&model, &data, pool, alarms);
        if more > 1 {
            failures.push(format!(
                "(c+) {more} false alarms in 20 more same-distribution batches"
            ));
        }
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
        if measure {
            println!(
                "(d)   domain classifier {}",
                domain_auc(&data, &rows, 200 + k as u64)
            );
        }
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

/// State of the Union: era and party. Training: 2,000 of the post-1945 passages (Democratic and
/// Republican presidents); held out: the other post-1945 passages; foreign: passages of the
/// parties and era before 1861 that the model never saw.
#[test]
fn drift_on_the_sotu_party_and_era_split() {
    sotu(false);
}

/// The issue's "LOW on every signal" for unseen passages of the training era, quality
/// included (it reports without voting). Before the held-out quality baseline, 500 unseen
/// passages were MEDIUM on quality (their NPMI 0.04 below the in-sample baseline), and before
/// the leave-one-out topic-share reference one 200-passage batch was MEDIUM on topic shares.
#[test]
fn sotu_same_era_low_on_every_signal() {
    sotu(true);
}

/// (b) is asserted; (a)/(c) LOW on every signal only when `strict`.
fn sotu(strict: bool) {
    let (docs, embeddings) = corpus_with_embeddings("sotu-chunks").expect("shared sotu corpus");
    let year = |d: &bertopic::preprocess::Document| -> i32 {
        d.date
            .as_deref()
            .and_then(|y| y.parse().ok())
            .expect("sotu Date is a year")
    };
    let old_parties = [
        "Federalist",
        "Democratic-Republican",
        "Whig",
        "Whig & Democratic",
        "none",
    ];
    let mut modern = Vec::new();
    let mut foreign = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let label = d.label.as_deref().unwrap_or("");
        if year(d) >= 1946 {
            modern.push(i);
        } else if year(d) < 1861 && old_parties.contains(&label) {
            foreign.push(i);
        }
    }
    shuffle(&mut modern, 21);
    shuffle(&mut foreign, 22);
    let held = modern.split_off(2000);
    modern.sort_unstable();
    let republican: Vec<usize> = held
        .iter()
        .copied()
        .filter(|&i| docs[i].label.as_deref() == Some("Republican"))
        .collect();
    let texts: Vec<String> = docs.into_iter().map(|d| d.text).collect();
    let model = fit_on(&texts, &embeddings, &modern);
    let data = Data {
        texts,
        embeddings,
        held,
        foreign,
        train: modern,
    };
    println!(
        "sotu: held out {} post-1945 passages ({} Republican), foreign {} pre-1861 passages",
        data.held.len(),
        republican.len(),
        data.foreign.len()
    );
    let mut failures = Vec::new();

    let keep = |v: Vec<String>| -> Vec<String> {
        if strict {
            v
        } else {
            Vec::new()
        }
    };
    let same = run(&model, &data, &data.held[..500], 1);
    println!("{}", line("sotu (a) 500 unseen post-1945 passages", &same));
    println!("sotu (a)   reasons {:?}", same.drift.reasons);
    if let Some(q) = &same.drift.quality {
        println!(
            "sotu (a)   quality: c_v {:?}, NPMI {:?}",
            q.c_v.as_ref().map(|c| (c.batch, c.training)),
            q.npmi.as_ref().map(|c| (c.batch, c.training))
        );
    }
    failures.extend(keep(every_signal_low("sotu (a)", &same)));
    for b in 0..2 {
        let rows = &data.held[500 + b * 200..700 + b * 200];
        let r = run(&model, &data, rows, 10 + b as u64);
        println!("{}", line(&format!("sotu (c) batch {b} of 200"), &r));
        println!("sotu (c)   reasons {:?}", r.drift.reasons);
        failures.extend(keep(every_signal_low(&format!("sotu (c) batch {b}"), &r)));
    }

    let old = run(&model, &data, &data.foreign[..500], 2);
    println!("{}", line("sotu (b) 500 pre-1861 passages", &old));
    let d = &old.drift;
    if !(d.topic_drift.as_ref().map(|t| t.level()) == Some(Level::High)
        || d.distribution_drift.as_ref().map(|x| x.level) == Some(Level::High))
    {
        failures.push(format!(
            "sotu (b) neither topic nor distribution HIGH: {:?}",
            d.reasons
        ));
    }
    let emb = d.embedding_drift.as_ref().expect("embedding signal");
    if emb.level != Level::High || emb.p_value.value >= 0.01 {
        failures.push(format!(
            "sotu (b) embedding {} p = {}",
            emb.level, emb.p_value.value
        ));
    }

    // One party of the training era: a narrower mix of the same subjects. Reported, not
    // asserted: whether that is drift is the team's call.
    let n = republican.len().min(300);
    let party = run(&model, &data, &republican[..n], 3);
    println!(
        "{}",
        line(
            &format!("sotu party: {n} Republican post-1945 passages"),
            &party
        )
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The README's `--config` example lists every key with the monitor's defaults.
#[test]
fn readme_config_example_is_the_default() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("```json\n{\n  \"outlier_topic\"")
        .expect("README has the config example")
        + "```json\n".len();
    let len = readme[start..].find("```").expect("closing fence");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("thresholds.json");
    std::fs::write(&path, &readme[start..start + len]).expect("write");
    assert_eq!(
        monitor::read_config(&path).expect("README config parses"),
        monitor::monitor_config()
    );
    // Every key is there: the example serialises back to the same keys as the defaults.
    let example: serde_json::Value =
        serde_json::from_str(&readme[start..start + len]).expect("json");
    let defaults = serde_json::to_value(monitor::monitor_config()).expect("json");
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut out = Vec::new();
        for (k, x) in v.as_object().expect("object") {
            match x.as_object() {
                Some(o) => out.extend(o.keys().map(|kk| format!("{k}.{kk}"))),
                None => out.push(k.clone()),
            }
        }
        out.sort();
        out
    };
    assert_eq!(keys(&example), keys(&defaults));
}
