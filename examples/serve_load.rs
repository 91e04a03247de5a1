//! Load test of `bertopic serve`'s `POST /api/v1/predict` (issue #17's speed bars).
//!
//! ```text
//! cargo run --release --example serve_load                       # in-process server, 50 clients, 30 s
//! cargo run --release --example serve_load -- --clients 8 --seconds 10
//! cargo run --release --example serve_load -- --url http://127.0.0.1:8501 --pid "$(pidof bertopic)"
//! ```
//!
//! Without `--url` it trains a model on the 200 arXiv abstracts in `examples/data/`, registers it
//! in a temporary registry and starts the server in this process with
//! `bertopic_serve::Server::start` (so `VmRSS` of this process is the server's memory). With
//! `--url` it loads a running server, which must already have a model (`--model URI`, else the
//! server's default); `--pid` names the server process whose memory to sample.
//!
//! Then, on one connection after another: 1-document requests (bar: p50 < 20 ms) and
//! 100-document requests (bar: < 1 s); then `--clients` threads (default 50), each a keep-alive
//! HTTP client, send 1-document requests for `--seconds` (default 30): requests, errors,
//! p50/p90/p99 latency, throughput, and the server's RSS at start, middle and end.
//!
//! The request documents are arXiv abstracts the model was not trained on (rows of the full
//! corpus in `../shared` or `$BERTOPIC_SHARED` outside the 200-row sample), so every request
//! embeds its text; without the shared folder it falls back to the sample's own abstracts.
//! Traffic goes to 127.0.0.1 only when the server is in-process; the run stops by itself.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bertopic::preprocess::{read_corpus, ReadOptions};
use bertopic::Bertopic;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    url: Option<String>,
    pid: Option<u32>,
    model: Option<String>,
    clients: usize,
    seconds: u64,
    sequential: usize,
}

fn parse_args() -> Result<Args, Error> {
    let mut a = Args {
        url: None,
        pid: None,
        model: None,
        clients: 50,
        seconds: 30,
        sequential: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = Some(value()?.trim_end_matches('/').to_string()),
            "--pid" => a.pid = Some(value()?.parse()?),
            "--model" => a.model = Some(value()?),
            "--clients" => a.clients = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--sequential" => a.sequential = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: serve_load [--url URL [--pid PID]] [--model URI] [--clients 50] \
                     [--seconds 30] [--sequential 200]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (see --help)").into()),
        }
    }
    if a.clients == 0 || a.seconds == 0 || a.sequential == 0 {
        return Err("--clients, --seconds and --sequential must be at least 1".into());
    }
    Ok(a)
}

/// `VmRSS` of a process in MiB, from `/proc/<pid>/status` (Linux).
fn rss_mib(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn fmt_rss(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |m| format!("{m:.0} MiB"))
}

/// Nearest-rank percentile of sorted latencies, in milliseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

fn read(path: &Path, columns: &[&str]) -> Result<Vec<bertopic::preprocess::Document>, Error> {
    let opts = ReadOptions {
        text_columns: columns.iter().map(|c| c.to_string()).collect(),
        ..ReadOptions::default()
    };
    Ok(read_corpus(path, &opts)?.0)
}

/// Request documents: abstracts (title + abstract, as trained) and titles alone (short
/// documents), of rows the model has not seen when the full corpus in `shared/` is here.
struct Requests {
    abstracts: Vec<String>,
    titles: Vec<String>,
    source: &'static str,
}

fn request_documents(sample_path: &Path, sample: &[String]) -> Result<Requests, Error> {
    let shared = std::env::var_os("BERTOPIC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let full = shared.join("data/arxiv-cs-abstracts.csv");
    let (path, source) = if full.is_file() {
        (full, "arXiv abstracts outside the training sample")
    } else {
        (
            sample_path.to_path_buf(),
            "abstracts of the training sample (no shared corpus found)",
        )
    };
    let seen: HashSet<&str> = if source.starts_with("abstracts of") {
        HashSet::new()
    } else {
        sample.iter().map(String::as_str).collect()
    };
    let titles: BTreeMap<usize, String> = read(&path, &["Title"])?
        .into_iter()
        .map(|d| (d.row, d.text))
        .collect();
    let mut r = Requests {
        abstracts: Vec::new(),
        titles: Vec::new(),
        source,
    };
    for d in read(&path, &["Title", "Abstract"])? {
        if seen.contains(d.text.as_str()) {
            continue;
        }
        if let Some(t) = titles.get(&d.row) {
            r.titles.push(t.clone());
        }
        r.abstracts.push(d.text);
    }
    Ok(r)
}

/// Sequential 1-document requests on one connection, sorted latencies.
fn sequential_single(
    a: &ureq::Agent,
    url: &str,
    docs: &[String],
    n: usize,
) -> Result<Vec<Duration>, Error> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let d = &docs[(11 + i) % docs.len()];
        let t = Instant::now();
        predict(a, url, std::slice::from_ref(d))?;
        lat.push(t.elapsed());
    }
    lat.sort();
    Ok(lat)
}

/// Ten sequential 100-document requests, sorted latencies.
fn sequential_hundreds(
    a: &ureq::Agent,
    url: &str,
    docs: &[String],
) -> Result<Vec<Duration>, Error> {
    let mut lat = Vec::new();
    for b in HUNDREDS {
        let t = Instant::now();
        predict(a, url, &hundred_batch(docs, b))?;
        lat.push(t.elapsed());
    }
    lat.sort();
    Ok(lat)
}

const HUNDREDS: std::ops::Range<usize> = 0..10;

fn hundred_batch(docs: &[String], b: usize) -> Vec<String> {
    (0..100)
        .map(|j| docs[(1000 + b * 100 + j) % docs.len()].clone())
        .collect()
}

fn report_hundreds(what: &str, lat: &[Duration]) {
    let max = pct(lat, 100.0);
    println!(
        "sequential 100 {what} x{}: p50 {:.0} ms, max {max:.0} ms  [bar < 1000 ms: {}]",
        lat.len(),
        pct(lat, 50.0),
        if max < 1000.0 { "met" } else { "MISSED" }
    );
}

fn report_single(what: &str, lat: &[Duration]) {
    let p50 = pct(lat, 50.0);
    println!(
        "sequential 1 doc ({what}) x{}: p50 {p50:.1} ms, p90 {:.1} ms, p99 {:.1} ms  [bar p50 < 20 ms: {}]",
        lat.len(),
        pct(lat, 90.0),
        pct(lat, 99.0),
        if p50 < 20.0 { "met" } else { "MISSED" }
    );
}

/// One keep-alive client (its own connection pool), as a separate service would hold.
fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .max_idle_connections_per_host(1)
        .build()
}

/// One predict request; the response must carry one topic per document.
fn predict(agent: &ureq::Agent, url: &str, docs: &[String]) -> Result<(), String> {
    let resp = agent
        .post(url)
        .send_json(serde_json::json!({ "documents": docs }))
        .map_err(|e| match e {
            ureq::Error::Status(code, r) => {
                format!("HTTP {code}: {}", r.into_string().unwrap_or_default())
            }
            other => other.to_string(),
        })?;
    let body: serde_json::Value = resp.into_json().map_err(|e| e.to_string())?;
    let n = body["topics"].as_array().map_or(0, Vec::len);
    if n != docs.len() {
        return Err(format!("{n} topics for {} documents: {body}", docs.len()));
    }
    Ok(())
}

/// Trains on the sample, registers it in a temporary registry, starts the server in-process.
fn start_in_process(
    sample: &[String],
    tmp: &Path,
) -> Result<(bertopic_serve::Server, String), Error> {
    let t = Instant::now();
    let model = Bertopic::builder()
        .min_topic_size(5)
        .seed(42)
        .build()?
        .fit(sample)?;
    let dir = tmp.join("model");
    model.save(&dir)?;
    let registry = tmp.join("registry");
    let v = bertopic::registry::Registry::new(&registry).register(
        "arxiv-load",
        &dir,
        BTreeMap::new(),
    )?;
    println!(
        "trained and registered {} ({} topics) in {:.1} s",
        v.uri(),
        model.topic_info().len(),
        t.elapsed().as_secs_f64()
    );
    let config = bertopic_serve::ServeConfig {
        registry,
        data: tmp.join("serve"),
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..bertopic_serve::ServeConfig::default()
    };
    let server = bertopic_serve::Server::start(config)?;
    let url = format!("http://{}", server.addr());
    Ok((server, url))
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let sample_path = bertopic_suite::sample("arxiv-cs-abstracts-200.csv");
    let sample: Vec<String> = read(&sample_path, &["Title", "Abstract"])?
        .into_iter()
        .map(|d| d.text)
        .collect();
    let req = request_documents(&sample_path, &sample)?;
    let tmp = tempfile::tempdir()?;
    let (server, base) = match &args.url {
        Some(u) => (None, u.clone()),
        None => {
            let (s, u) = start_in_process(&sample, tmp.path())?;
            (Some(s), u)
        }
    };
    // The server's process: this one when in-process; `--pid` or unknown for a remote one.
    let pid = if server.is_some() { None } else { args.pid };
    let rss_known = server.is_some() || args.pid.is_some();
    let rss = || if rss_known { rss_mib(pid) } else { None };
    let mut url = format!("{base}/api/v1/predict");
    if let Some(m) = &args.model {
        url.push_str("?model=");
        url.push_str(m);
    }
    println!(
        "server {base}; request documents: {} {}; CPU threads available: {}",
        req.abstracts.len(),
        req.source,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Warm-up: loads the model and the encoder weights (the first request pays for both).
    let a = agent();
    let t = Instant::now();
    predict(&a, &url, &req.abstracts[..1])?;
    println!(
        "first request (loads model + encoder): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for d in req.abstracts.iter().skip(1).take(10) {
        predict(&a, &url, std::slice::from_ref(d))?;
    }

    // Sequential, one connection: the latency a single caller sees.
    let one = sequential_single(&a, &url, &req.abstracts, args.sequential)?;
    let short = sequential_single(&a, &url, &req.titles, args.sequential)?;
    let hundred = sequential_hundreds(&a, &url, &req.abstracts)?;
    let hundred_short = sequential_hundreds(&a, &url, &req.titles)?;
    report_single("an abstract", &one);
    report_single("a title", &short);
    report_hundreds("abstracts", &hundred);
    report_hundreds("titles", &hundred_short);

    // Concurrent: `clients` threads, 1-document requests until the deadline.
    let rss_start = rss();
    let stop = Arc::new(AtomicBool::new(false));
    let docs = Arc::new(req.abstracts.clone());
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let workers: Vec<_> = (0..args.clients)
        .map(|c| {
            let (docs, url, stop, errors) =
                (docs.clone(), url.clone(), stop.clone(), errors.clone());
            std::thread::spawn(move || {
                let a = agent();
                let mut lat = Vec::new();
                let mut i = c * 7919;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let d = &docs[i % docs.len()];
                    i += 1;
                    let t = Instant::now();
                    match predict(&a, &url, std::slice::from_ref(d)) {
                        Ok(()) => lat.push(t.elapsed()),
                        Err(e) => errors.lock().unwrap_or_else(|p| p.into_inner()).push(e),
                    }
                }
                lat
            })
        })
        .collect();
    // RSS every second; the middle sample is the one nearest half-time.
    let mut samples: Vec<(f64, Option<f64>)> = Vec::new();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
        samples.push((started.elapsed().as_secs_f64(), rss()));
    }
    let mut lat: Vec<Duration> = Vec::new();
    for w in workers {
        lat.extend(w.join().map_err(|_| "a client thread panicked")?);
    }
    stop.store(true, Ordering::Relaxed);
    let wall = started.elapsed().as_secs_f64();
    let rss_end = rss();
    lat.sort();
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let half = args.seconds as f64 / 2.0;
    let rss_mid = samples
        .iter()
        .min_by(|a, b| (a.0 - half).abs().total_cmp(&(b.0 - half).abs()))
        .and_then(|s| s.1);
    let rss_max = samples
        .iter()
        .filter_map(|s| s.1)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    println!(
        "concurrent: {} clients x {:.1} s: {} requests, {} errors, {:.1} req/s; latency p50 {:.0} ms, \
         p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        args.clients,
        wall,
        lat.len() + errors.len(),
        errors.len(),
        lat.len() as f64 / wall,
        pct(&lat, 50.0),
        pct(&lat, 90.0),
        pct(&lat, 99.0),
        pct(&lat, 100.0)
    );
    println!(
        "server RSS: start {}, middle {}, end {} (max {})",
        fmt_rss(rss_start),
        fmt_rss(rss_mid),
        fmt_rss(rss_end),
        fmt_rss(rss_max)
    );
    // The server's own count, as a cross-check that every answered request was counted.
    if let Ok(text) = a
        .get(&format!("{base}/metrics"))
        .call()
        .map_err(|e| e.to_string())
        .and_then(|r| r.into_string().map_err(|e| e.to_string()))
    {
        if let Some(line) = text
            .lines()
            .find(|l| l.starts_with("bertopic_documents_predicted_total"))
        {
            println!("server /metrics: {line}");
        }
    }
    if let Some(s) = server {
        s.shutdown()?;
        // The encoder alone on the same documents, in this process with the server stopped:
        // what of the request time is embedding and what is HTTP, JSON and topic assignment.
        let enc = bertopic::load_embedder(bertopic::embed::DEFAULT_MODEL, false)?;
        let time = |docs: &[String]| -> Result<Duration, Error> {
            let t = Instant::now();
            enc.embed(docs)?;
            Ok(t.elapsed())
        };
        let mut e1 = Vec::new();
        let mut et = Vec::new();
        for i in 0..args.sequential {
            e1.push(time(std::slice::from_ref(
                &req.abstracts[(11 + i) % req.abstracts.len()],
            ))?);
            et.push(time(std::slice::from_ref(
                &req.titles[(11 + i) % req.titles.len()],
            ))?);
        }
        let mut e100 = Vec::new();
        let mut e100t = Vec::new();
        for b in HUNDREDS {
            e100.push(time(&hundred_batch(&req.abstracts, b))?);
            e100t.push(time(&hundred_batch(&req.titles, b))?);
        }
        for v in [&mut e1, &mut et, &mut e100, &mut e100t] {
            v.sort();
        }
        println!(
            "encoder alone (same documents, no HTTP): 1 abstract p50 {:.1} ms, 1 title p50 {:.1} ms, \
             100 abstracts p50 {:.0} ms, 100 titles p50 {:.0} ms",
            pct(&e1, 50.0),
            pct(&et, 50.0),
            pct(&e100, 50.0),
            pct(&e100t, 50.0)
        );
    }
    if let Some(first) = errors.first() {
        return Err(format!("{} requests failed; first: {first}", errors.len()).into());
    }
    Ok(())
}
