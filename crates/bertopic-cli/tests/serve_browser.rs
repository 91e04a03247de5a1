//! End-to-end test of the web app in a real browser: `bertopic serve --port 0` (the release
//! path: the binary, the real MiniLM model, a file-store tracker) driven through headless
//! Chromium by chromedriver. Upload the 200-document arXiv sample → train with 3 tuning trials
//! → topics, explorer, CSV exports → register as @production → monitor a SOTU batch (drifted)
//! and an unseen arXiv batch (same kind) → Tracking. One screenshot per tab lands in
//! `target/serve-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test FAILS with that instruction rather than passing silently (`CHROMEDRIVER` / `CHROMIUM`
//! point at other binaries).

mod common;
mod serve_support;
mod webdriver;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serve_support::{agent, get, Server};
use webdriver::{Browser, Element, Error};

/// Training 200 documents with the real model and 3 trials takes about a minute on a quiet
/// 2-core machine; CI's machine is shared, so the waits are generous.
const TRAIN_LIMIT: Duration = Duration::from_secs(900);
const MONITOR_LIMIT: Duration = Duration::from_secs(600);

fn shots_dir() -> PathBuf {
    // target/debug/bertopic → target/serve-screenshots
    let bin = Path::new(env!("CARGO_BIN_EXE_bertopic"));
    bin.parent()
        .and_then(Path::parent)
        .expect("the binary sits in target/<profile>/")
        .join("serve-screenshots")
}

fn texts(b: &Browser, css: &str) -> Vec<String> {
    b.find_all(css)
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .iter()
        .map(|e| b.text(e).unwrap_or_else(|e| panic!("text of {css}: {e}")))
        .collect()
}

fn text(b: &Browser, css: &str) -> String {
    let el = b.find(css).unwrap_or_else(|e| {
        panic!(
            "{css} is missing on {}: {e}\n{}",
            b.current_url().unwrap_or_default(),
            b.source().unwrap_or_default()
        )
    });
    b.text(&el).unwrap_or_else(|e| panic!("text of {css}: {e}"))
}

fn find(b: &Browser, css: &str) -> Element {
    b.find(css).unwrap_or_else(|e| {
        panic!(
            "{css} is missing on {}: {e}",
            b.current_url().unwrap_or_default()
        )
    })
}

/// Replaces an input's value.
fn fill(b: &Browser, css: &str, value: &str) {
    let el = find(b, css);
    b.clear(&el).unwrap_or_else(|e| panic!("clear {css}: {e}"));
    b.send_keys(&el, value)
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

/// Picks the `<option value=…>` of a select.
fn choose(b: &Browser, select: &str, value: &str) {
    let css = format!("{select} option[value=\"{value}\"]");
    let options = texts(b, &format!("{select} option"));
    let opt = b
        .find(&css)
        .unwrap_or_else(|e| panic!("{select} has no option {value:?} (has {options:?}): {e}"));
    b.click(&opt)
        .unwrap_or_else(|e| panic!("choose {css}: {e}"));
}

fn click(b: &Browser, css: &str) {
    b.click(&find(b, css))
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// An element's text once it exists. A page that refreshes itself (the job page, every 2 s) can
/// swap the document between finding an element and reading it: such misses are retried.
fn wait_text(b: &Browser, css: &str, limit: Duration) -> String {
    b.wait_for(css, limit, |b| match b.find(css).and_then(|e| b.text(&e)) {
        Ok(t) => Ok(Some(t)),
        Err(Error::Command { .. }) => Ok(None),
        Err(e) => Err(e),
    })
    .unwrap_or_else(|e| {
        panic!(
            "{e} on {}:\n{}",
            b.current_url().unwrap_or_default(),
            b.source().unwrap_or_default()
        )
    })
}

/// An `<svg>` inside (or being) the element `id`.
fn has_svg(b: &Browser, id: &str) -> bool {
    !b.find_all(&format!("#{id} svg, svg#{id}"))
        .unwrap_or_default()
        .is_empty()
}

fn shot(b: &Browser, name: &str) -> PathBuf {
    let path = shots_dir().join(format!("{name}.png"));
    b.screenshot_full(&path, 5000)
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"))
}

fn level_rank(level: &str) -> usize {
    match level {
        "LOW" => 0,
        "MEDIUM" => 1,
        "HIGH" => 2,
        other => panic!("#drift-level shows {other:?}, not LOW, MEDIUM or HIGH"),
    }
}

/// Monitor tab: choose `model`, upload `batch`, run; the result page's drift level.
fn monitor_batch(b: &Browser, server: &Server, model: &str, batch: &Path) -> String {
    b.goto(&server.url("/monitor")).expect("open /monitor");
    choose(b, "select#model", model);
    b.send_keys(&find(b, "#batch"), batch.to_str().expect("utf-8 path"))
        .expect("attach the batch");
    click(b, "#run-monitor");
    let level = wait_text(b, "#drift-level", MONITOR_LIMIT)
        .trim()
        .to_string();
    if let Ok(e) = b.find("#error") {
        panic!("monitoring failed: {}", b.text(&e).unwrap_or_default());
    }
    level
}

#[test]
fn browser_upload_train_register_monitor_track() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let registry = dir.path().join("registry");
    let data_dir = dir.path().join("serve");
    let mlruns = dir.path().join("mlruns");
    let tracking = format!("file://{}", mlruns.display());
    let server = Server::start(&[
        "--registry",
        registry.to_str().unwrap(),
        "--data",
        data_dir.to_str().unwrap(),
        "--tracking-uri",
        &tracking,
        "--experiment",
        "serve-e2e",
    ]);
    let b = Browser::start().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("[{:>6.1?}] server and browser up", t0.elapsed());
    // Chromium takes only canonical paths for a file input (the shared folder is found as
    // `crate/../../../shared`).
    let shared = std::fs::canonicalize(common::shared().join("data")).expect("shared/data");
    let arxiv = shared.join("arxiv-cs-abstracts-200.csv");
    let sotu = shared.join("sotu-chunks-200.csv");
    let held_out = serve_support::arxiv_held_out(&dir.path().join("arxiv-held-out.csv"), 100);
    let held_out = std::fs::canonicalize(held_out).expect("held-out CSV");

    // --- Training tab: / redirects here; every page carries the three tabs.
    b.goto(&server.url("/")).expect("open /");
    let url = b.current_url().expect("url");
    assert!(
        url.ends_with("/train"),
        "/ should redirect to /train, is {url}"
    );
    for tab in ["#tab-train", "#tab-monitor", "#tab-tracking"] {
        find(&b, tab);
    }
    find(&b, "form#train-form");
    b.send_keys(&find(&b, "#csv"), arxiv.to_str().unwrap())
        .expect("attach the CSV");
    fill(&b, "#model-name", "arxiv-e2e");
    fill(&b, "#trials", "3");
    fill(&b, "#seed", "42");
    choose(&b, "#language", "english");
    choose(&b, "#representation", "ctfidf");
    choose(&b, "#labels", "words");
    let train_png = shot(&b, "train");
    click(&b, "#start-training");

    // --- Job page: progress while running, then done.
    b.wait_for("the job page", Duration::from_secs(60), |b| {
        Ok(b.current_url()?.contains("/train/jobs/").then_some(()))
    })
    .expect("POST /train redirects to the job page");
    let job_url = b.current_url().expect("url");
    let t_train = Instant::now();
    let mut saw_refresh = false;
    let status = b
        .wait_for("training to finish", TRAIN_LIMIT, |b| {
            let st = match b.find("#job-status").and_then(|e| b.text(&e)) {
                Ok(s) => s.trim().to_string(),
                Err(Error::Command { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            match st.as_str() {
                "queued" | "running" => {
                    saw_refresh |= b.source()?.contains("http-equiv=\"refresh\"");
                    Ok(None)
                }
                "done" | "failed" => Ok(Some(st)),
                other => panic!("#job-status shows {other:?}"),
            }
        })
        .unwrap_or_else(|e| panic!("{e}; the server's output:\n{}", server.log()));
    let train_secs = t_train.elapsed().as_secs_f64();
    eprintln!(
        "[{:>6.1?}] training {status} after {train_secs:.1} s",
        t0.elapsed()
    );
    if status == "failed" {
        panic!("training failed: {}", text(&b, "#error"));
    }
    assert!(
        saw_refresh,
        "a queued or running job page refreshes itself (<meta http-equiv=\"refresh\">)"
    );
    assert!(
        !b.source().unwrap().contains("http-equiv=\"refresh\""),
        "a finished job page stops refreshing"
    );
    let events = texts(&b, "#progress li");
    let trials = events
        .iter()
        .filter(|e| e.to_lowercase().contains("trial"))
        .count();
    assert!(
        trials >= 3,
        "#progress lists each of the 3 tuning trials: {events:#?}"
    );
    assert!(
        events.iter().any(|e| e.to_lowercase().contains("embed")),
        "#progress lists the embedding step: {events:#?}"
    );
    assert!(
        has_svg(&b, "coherence-chart"),
        "trials > 0 draws #coherence-chart"
    );
    let chart = b
        .execute(
            "return document.getElementById('coherence-chart').innerHTML",
            vec![],
        )
        .expect("chart markup");
    let chart = chart.as_str().unwrap_or_default();
    assert_eq!(
        chart.matches("(best)").count(),
        1,
        "the chart marks exactly one best trial"
    );
    let rows = texts(&b, "#topic-table tr.topic-row");
    assert!(rows.len() > 1, "more than one topic: {rows:#?}");
    let job_png = shot(&b, "job");

    // --- CSV exports download (fetched by the link the page shows).
    let http = agent();
    let topics_href = b
        .property(&find(&b, "#export-topics"), "href")
        .expect("href");
    let csv = get(&http, topics_href.as_str().expect("an href"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(
        csv.disposition
            .as_deref()
            .unwrap_or("")
            .contains("attachment"),
        "topic_info.csv downloads as an attachment: {:?}",
        csv.disposition
    );
    let topic_info: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.body.as_bytes())
        .records()
        .collect::<Result<_, _>>()
        .expect("topic_info.csv parses");
    assert_eq!(
        topic_info.len(),
        rows.len(),
        "topic_info.csv has one row per topic of the table"
    );
    let docs_href = b.property(&find(&b, "#export-docs"), "href").expect("href");
    let csv = get(&http, docs_href.as_str().expect("an href"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let docs: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("document_topics.csv parses");
    assert_eq!(docs.len(), 200, "one row per uploaded document");
    let first_title = csv::Reader::from_path(&arxiv)
        .expect("sample")
        .records()
        .next()
        .expect("a row")
        .expect("record")[0]
        .to_string();
    assert!(
        csv.body.contains(&first_title),
        "document_topics.csv carries the texts (headers {headers:?})"
    );

    // --- Explorer: all documents, then a search, then one topic.
    click(&b, "#docs-link");
    find(&b, "form#doc-search");
    let all = b.find_all("#doc-table tr.doc-row").expect("rows");
    assert!(!all.is_empty(), "the explorer lists documents");
    // Search for a word every document of the first topic row is described by.
    let word = "model";
    let q = find(&b, "#doc-search input[name=q]");
    b.clear(&q).expect("clear");
    b.send_keys(&q, word).expect("type");
    b.execute("document.getElementById('doc-search').submit()", vec![])
        .expect("submit the search");
    b.wait_for("search results", Duration::from_secs(30), |b| {
        Ok(b.current_url()?.contains("q=model").then_some(()))
    })
    .expect("the search is a GET with q=");
    // The text cell shows the start of each document; its title holds the whole text.
    let found = b
        .execute(
            "return Array.from(document.querySelectorAll('#doc-table tr.doc-row td:nth-child(4)'))\
             .map(td => td.getAttribute('title') || td.textContent);",
            vec![],
        )
        .expect("the hits' texts");
    let found: Vec<&str> = found
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(!found.is_empty(), "searching {word:?} finds documents");
    assert!(
        found.len() <= 200,
        "at most the 200 documents: {}",
        found.len()
    );
    for text in &found {
        assert!(
            text.to_lowercase().contains(word),
            "a search hit contains {word:?}: {text}"
        );
    }
    // One topic (the first of the select's non-empty options), the search cleared.
    b.clear(&find(&b, "#doc-search input[name=q]"))
        .expect("clear");
    let topic = b
        .execute(
            "const o = Array.from(document.querySelectorAll('#doc-search select[name=topic] option'))\
             .map(o => o.value).filter(v => v !== '' && v !== '-1'); return o[0] || null;",
            vec![],
        )
        .expect("topic options");
    let topic = topic.as_str().expect("a topic to filter by").to_string();
    choose(&b, "#doc-search select[name=topic]", &topic);
    b.execute("document.getElementById('doc-search').submit()", vec![])
        .expect("submit the filter");
    b.wait_for("the topic filter", Duration::from_secs(30), |b| {
        Ok(b.current_url()?
            .contains(&format!("topic={topic}"))
            .then_some(()))
    })
    .expect("the filter is a GET with topic=");
    let cells = b
        .execute(
            "return Array.from(document.querySelectorAll('#doc-table tr.doc-row td:nth-child(2)'))\
             .map(td => td.textContent.trim());",
            vec![],
        )
        .expect("topic cells");
    let cells: Vec<&str> = cells
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(!cells.is_empty(), "topic {topic} has documents");
    assert!(
        cells.iter().all(|&c| c == topic),
        "filtering by topic {topic} shows only its documents: {cells:?}"
    );
    let explorer_png = shot(&b, "explorer");

    // --- Register as models:/arxiv-e2e/1 with alias production.
    b.goto(&job_url).expect("back to the job page");
    let prefilled = b
        .property(&find(&b, "#register-name"), "value")
        .expect("value");
    assert_eq!(
        prefilled.as_str(),
        Some("arxiv-e2e"),
        "#register-name is prefilled"
    );
    fill(&b, "#register-alias", "production");
    click(&b, "#register-button");
    let registered = wait_text(&b, "#registered", Duration::from_secs(60));
    assert!(
        registered.contains("models:/arxiv-e2e/1"),
        "#registered names the version: {registered}"
    );

    // --- Monitoring: a drifted batch (SOTU), then a same-kind one (unseen arXiv papers).
    let t_mon = Instant::now();
    let sotu_level = monitor_batch(&b, &server, "models:/arxiv-e2e@production", &sotu);
    eprintln!(
        "[{:>6.1?}] SOTU batch: {sotu_level} ({:.1} s)",
        t0.elapsed(),
        t_mon.elapsed().as_secs_f64()
    );
    assert_eq!(
        sotu_level,
        "HIGH",
        "State of the Union passages against a CS-abstracts model: {}",
        text(&b, "#reasons")
    );
    assert!(
        !texts(&b, "#reasons li").is_empty(),
        "#reasons explains the level"
    );
    assert!(
        b.find_all("#signals tr").expect("rows").len() > 1,
        "#signals has rows"
    );
    for chart in ["topic-drift-chart", "topic-share-chart", "history-charts"] {
        assert!(has_svg(&b, chart), "#{chart} is drawn");
    }
    let sotu_png = shot(&b, "monitor-sotu");
    let t_mon = Instant::now();
    let arxiv_level = monitor_batch(&b, &server, "models:/arxiv-e2e/1", &held_out);
    eprintln!(
        "[{:>6.1?}] held-out arXiv batch: {arxiv_level} ({:.1} s)",
        t0.elapsed(),
        t_mon.elapsed().as_secs_f64()
    );
    assert!(
        level_rank(&arxiv_level) < level_rank(&sotu_level),
        "unseen arXiv papers drift less than SOTU passages: {arxiv_level}; {}",
        text(&b, "#reasons")
    );
    // The history now holds both runs (the charts draw one point per run).
    let monitor_png = shot(&b, "monitor");
    b.goto(&server.url("/monitor?model=models:/arxiv-e2e/1"))
        .expect("open the model's history");
    let history = text(&b, "#history");
    assert!(
        history.contains("HIGH"),
        "#history lists the SOTU run: {history}"
    );

    // --- Tracking: the tracker, the registered model, the training run.
    click(&b, "#tab-tracking");
    let tracker = text(&b, "#tracker");
    assert!(
        tracker.contains(&mlruns.display().to_string()),
        "#tracker names the store {tracking}: {tracker}"
    );
    assert!(
        b.find_all("#mlflow-link").expect("find").is_empty(),
        "no MLflow UI link for a file store"
    );
    let models = text(&b, "#registered-models");
    assert!(
        models.contains("arxiv-e2e") && models.contains("production"),
        "#registered-models shows the model and its alias: {models}"
    );
    let runs = texts(&b, "#runs tr.run-row");
    assert!(!runs.is_empty(), "#runs lists the training run");
    let tracking_png = shot(&b, "tracking");

    eprintln!(
        "[{:>6.1?}] done; screenshots: {:?}",
        t0.elapsed(),
        [
            train_png,
            job_png,
            explorer_png,
            sotu_png,
            monitor_png,
            tracking_png
        ]
    );
}
