//! The web app's JSON API and hardening, through a real HTTP client (ureq) against the real
//! `bertopic serve --port 0` binary on 127.0.0.1: predictions (1, 100 and concurrent), topics,
//! models, monitor, /healthz, /metrics, every bad input of the contract, path traversal through
//! every parameter, upload errors, one training job per model name, and SIGTERM.

mod common;
mod serve_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use serve_support::{agent, get, post_json, post_multipart, Server};

/// The first `n` abstracts of a shared 200-row sample.
fn abstracts(file: &str, n: usize) -> Vec<String> {
    csv::Reader::from_path(common::shared().join("data").join(file))
        .expect("sample")
        .records()
        .take(n)
        .map(|r| r.expect("record")[1].to_string())
        .collect()
}

/// Registers two versions of `api-model` trained on the arXiv sample (with its precomputed
/// embeddings: the server embeds requests with the real model) and aliases version 1 as
/// `production`, so the default model (the alias) differs from the newest version.
fn registry_with_two_versions(dir: &Path) -> std::path::PathBuf {
    let corpus = common::shared().join("data/arxiv-cs-abstracts-200.csv");
    let npy = dir.join("sample.npy");
    common::sample_embeddings(&npy);
    let reg = dir.join("registry");
    for (run, seed) in [("run1", "42"), ("run2", "7")] {
        common::ok(&[
            "train",
            "-i",
            corpus.to_str().unwrap(),
            "-o",
            dir.join(run).to_str().unwrap(),
            "--embeddings",
            npy.to_str().unwrap(),
            "--min-cluster-size",
            "5",
            "--seed",
            seed,
            "--register",
            "api-model",
            "--registry",
            reg.to_str().unwrap(),
            "--no-cache",
            "--quiet",
        ]);
    }
    common::ok(&[
        "registry",
        "promote",
        "api-model",
        "1",
        "--alias",
        "production",
        "--registry",
        reg.to_str().unwrap(),
    ]);
    reg
}

fn assert_error(r: &serve_support::Reply, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    let v = r.json();
    let msg = v["error"].as_str().unwrap_or("");
    assert!(
        !msg.is_empty(),
        "{what}: the body is {{\"error\": \"…\"}}: {}",
        r.body
    );
}

fn p50(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One Prometheus text-format sample line: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn named<'a>(samples: &'a [Sample], name: &'a str) -> impl Iterator<Item = &'a Sample> {
    samples.iter().filter(move |s| s.name == name)
}

fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim_start();
            assert!(
                c.starts_with("HELP ") || c.starts_with("TYPE "),
                "a comment line is # HELP or # TYPE: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value on {line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|e| panic!("value {v:?} on {line:?}: {e}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels on {line:?}"));
                let mut labels = BTreeMap::new();
                // Label values here hold no `",` sequences (routes, statuses, model URIs).
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("label {pair:?} on {line:?}"));
                    labels.insert(k.to_string(), v.trim_end_matches('"').to_string());
                }
                (name.to_string(), labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name:?}"
        );
        out.push(Sample {
            name,
            labels,
            value,
        });
    }
    out
}

#[test]
fn api_predicts_lists_monitors_refuses_bad_input_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reg = registry_with_two_versions(dir.path());
    let server = Server::start(&[
        "--registry",
        reg.to_str().unwrap(),
        "--data",
        dir.path().join("serve").to_str().unwrap(),
        "--max-body-mb",
        "1",
    ]);
    let http = agent();
    let predict_url = server.url("/api/v1/predict");

    // /healthz
    let r = get(&http, &server.url("/healthz"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "ok");

    // --- predict: the default model is the production alias (v1), not the newest (v2).
    let one = abstracts("arxiv-cs-abstracts-200.csv", 1);
    let r = post_json(&http, &predict_url, &json!({ "documents": one }));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["model"], "models:/api-model/1", "default = @production");
    assert_eq!(v["topics"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["probabilities"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["labels"].as_array().map(Vec::len), Some(1));
    // Warm timings (the model is loaded by the first request).
    let mut one_ms = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let r = post_json(&http, &predict_url, &json!({ "documents": one }));
        one_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(r.status, 200, "{}", r.body);
    }

    let hundred = abstracts("arxiv-cs-abstracts-200.csv", 100);
    let t = Instant::now();
    let r = post_json(
        &http,
        &format!("{predict_url}?model=models:/api-model/2"),
        &json!({ "documents": hundred }),
    );
    let hundred_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(r.status, 200, "{}", r.body);
    let v2 = r.json();
    assert_eq!(v2["model"], "models:/api-model/2");
    let topics: Vec<i64> = v2["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| t.as_i64().expect("an integer topic"))
        .collect();
    assert_eq!(topics.len(), 100);
    let probs = v2["probabilities"].as_array().expect("probabilities");
    assert_eq!(probs.len(), 100);
    for p in probs {
        let p = p.as_f64().expect("a number");
        assert!((0.0..=1.0).contains(&p), "probability {p}");
    }
    // Labels agree with the topics endpoint of the same version.
    let t = get(
        &http,
        &server.url("/api/v1/topics?model=models:/api-model/2"),
    );
    assert_eq!(t.status, 200, "{}", t.body);
    let tv = t.json();
    assert_eq!(tv["model"], "models:/api-model/2");
    let by_id: BTreeMap<i64, Value> = tv["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| (t["topic"].as_i64().expect("id"), t.clone()))
        .collect();
    assert!(by_id.len() > 1, "more than one topic: {tv}");
    let counted: u64 = by_id
        .values()
        .map(|t| t["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        counted, 200,
        "topic counts cover the 200 training documents"
    );
    for (i, &topic) in topics.iter().enumerate() {
        let row = by_id
            .get(&topic)
            .unwrap_or_else(|| panic!("predicted topic {topic} is not listed"));
        assert_eq!(v2["labels"][i], row["label"], "label of document {i}");
        if topic >= 0 {
            assert!(
                row["words"].as_array().is_some_and(|w| !w.is_empty()),
                "topic {topic} has words"
            );
        }
    }
    // The API assigns what `bertopic predict` assigns (same model, same texts, one per line).
    let txt = dir.path().join("twenty.txt");
    std::fs::write(&txt, hundred[..20].join("\n")).expect("write twenty.txt");
    let cli_out = dir.path().join("twenty-topics.csv");
    common::ok(&[
        "predict",
        "-i",
        txt.to_str().unwrap(),
        "--model",
        "models:/api-model/2",
        "--registry",
        reg.to_str().unwrap(),
        "-o",
        cli_out.to_str().unwrap(),
        "--quiet",
    ]);
    let cli: Vec<(i64, f64)> = csv::Reader::from_path(&cli_out)
        .expect("predict output")
        .records()
        .map(|r| {
            let r = r.expect("record");
            (
                r[1].parse().expect("topic"),
                r[2].parse().expect("probability"),
            )
        })
        .collect();
    assert_eq!(cli.len(), 20, "one row per line of twenty.txt");
    for (i, (topic, prob)) in cli.iter().enumerate() {
        assert_eq!(topics[i], *topic, "document {i}: API vs `bertopic predict`");
        let api_prob = probs[i].as_f64().expect("a number");
        assert!(
            (api_prob - prob).abs() < 1e-3,
            "document {i}: probability {api_prob} (API) vs {prob} (CLI)"
        );
    }
    // A bare name means its latest version; an alias resolves to its version.
    let r = post_json(
        &http,
        &format!("{predict_url}?model=api-model"),
        &json!({ "documents": one }),
    );
    assert_eq!(r.json()["model"], "models:/api-model/2", "{}", r.body);
    let r = post_json(
        &http,
        &format!("{predict_url}?model=models:/api-model@production"),
        &json!({ "documents": one }),
    );
    assert_eq!(r.json()["model"], "models:/api-model/1", "{}", r.body);

    // --- concurrent clients get the answers a lone client gets.
    let expected: Vec<i64> = {
        let r = post_json(&http, &predict_url, &json!({ "documents": hundred[..16] }));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .map(|t| t.as_i64().expect("int"))
            .collect()
    };
    let t = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let http = http.clone();
                let url = predict_url.clone();
                let doc = hundred[i].clone();
                s.spawn(move || {
                    (0..3)
                        .map(|_| {
                            let r = post_json(&http, &url, &json!({ "documents": [doc] }));
                            assert_eq!(r.status, 200, "client {i}: {}", r.body);
                            r.json()["topics"][0].as_i64().expect("int")
                        })
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let got = h.join().expect("client thread");
            assert!(
                got.iter().all(|&t| t == expected[i]),
                "client {i} got {got:?}, a lone request {}",
                expected[i]
            );
        }
    });
    let concurrent_ms = t.elapsed().as_secs_f64() * 1e3;

    // --- models
    let m = get(&http, &server.url("/api/v1/models"));
    assert_eq!(m.status, 200, "{}", m.body);
    let models = m.json()["models"].as_array().expect("models").clone();
    let uris: Vec<&str> = models.iter().filter_map(|m| m["uri"].as_str()).collect();
    assert!(
        uris.contains(&"models:/api-model/1") && uris.contains(&"models:/api-model/2"),
        "{uris:?}"
    );
    let v1 = models
        .iter()
        .find(|m| m["version"] == 1)
        .expect("version 1");
    assert_eq!(v1["aliases"], json!(["production"]));
    assert_eq!(v1["name"], "api-model");

    // --- monitor over the API: a SOTU batch is HIGH, appended to history, shown as a gauge.
    let sotu = abstracts("sotu-chunks-200.csv", 60);
    let r = post_json(
        &http,
        &server.url("/api/v1/monitor?model=models:/api-model/1"),
        &json!({ "documents": sotu, "seed": 42 }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let report = r.json();
    assert_eq!(report["level"], "HIGH", "{}", report["reasons"]);
    assert_eq!(report["batch"]["docs"], 60);
    let history = bertopic::monitor::read_history(&reg.join("api-model/1")).expect("history");
    assert_eq!(
        history.len(),
        1,
        "the API's monitoring run is appended to v1's history"
    );
    assert_eq!(history[0].docs, 60);
    assert_eq!(history[0].seed, 42);
    assert_eq!(history[0].source.as_deref(), Some("api"));

    // --- every bad input of the contract: typed JSON errors, never a 500 or a panic.
    let raw = |body: &str| {
        serve_support::reply(
            http.post(&predict_url)
                .set("content-type", "application/json")
                .send_string(body),
            "POST predict",
        )
    };
    assert_error(&raw("{\"documents\": [\"a\""), 400, "malformed JSON");
    assert_error(&raw("not json at all"), 400, "not JSON");
    assert_error(&raw("{\"docs\": [\"a\"]}"), 400, "wrong field");
    assert_error(&raw("{\"documents\": \"a\"}"), 400, "documents not a list");
    assert_error(&raw("{\"documents\": []}"), 400, "empty list");
    assert_error(&raw("{\"documents\": [\"  \"]}"), 400, "blank document");
    let many = vec!["word"; 10_001];
    assert_error(
        &post_json(&http, &predict_url, &json!({ "documents": many })),
        413,
        "10,001 documents",
    );
    // A body over --max-body-mb 1: refused from its Content-Length, before it is read (so the
    // answer is read before the body is sent: the server closes the connection after it).
    let huge = format!("{{\"documents\": [\"{}\"]}}", "x".repeat(2 << 20));
    let (status, body) = post_before_body(&server.base, "/api/v1/predict", huge.as_bytes());
    assert_eq!(status, 413, "a body over --max-body-mb: {body}");
    assert!(body.contains("\"error\""), "a JSON error: {body}");
    for bad in [
        "models:/nope/1",
        "nope",
        "models:/api-model/99",
        "models:/api-model@nosuchalias",
    ] {
        let r = post_json(
            &http,
            &format!("{predict_url}?model={}", urlencode(bad)),
            &json!({ "documents": one }),
        );
        assert_error(&r, 404, &format!("unknown model {bad}"));
    }
    // Path traversal through ?model=: refused (400) or unknown (404), never a file's content.
    for bad in [
        "../../../../etc/passwd",
        "models:/../../etc/1",
        "models:/..%2F..%2Fetc/1",
        "models:/api-model/../../../etc",
        "/etc/passwd",
        "models:/api-model/1/../../2",
        "..",
        "models:/.%2E/1",
    ] {
        for url in [
            format!("{predict_url}?model={}", urlencode(bad)),
            server.url(&format!("/api/v1/topics?model={}", urlencode(bad))),
        ] {
            let r = if url.contains("predict") {
                post_json(&http, &url, &json!({ "documents": one }))
            } else {
                get(&http, &url)
            };
            assert!(
                r.status == 400 || r.status == 404,
                "{url}: {} {}",
                r.status,
                r.body
            );
            assert!(!r.body.contains("root:"), "{url} leaked a file: {}", r.body);
        }
    }
    let r = post_json(
        &http,
        &server.url("/api/v1/monitor?model=models:/api-model/1"),
        &json!({ "documents": [] }),
    );
    assert_error(&r, 400, "monitor with no documents");

    // --- /metrics: Prometheus text format with the contract's series.
    let r = get(&http, &server.url("/metrics"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
    let samples = parse_metrics(&r.body);
    let predicted: f64 = named(&samples, "bertopic_documents_predicted_total")
        .map(|s| s.value)
        .sum();
    // 1 + 20 + 100 + 1 + 1 + 16 + 48 documents were predicted above.
    assert_eq!(predicted, 187.0, "bertopic_documents_predicted_total");
    let requests: Vec<&Sample> = named(&samples, "bertopic_http_requests_total").collect();
    assert!(
        requests
            .iter()
            .all(|s| s.labels.contains_key("route") && s.labels.contains_key("status")),
        "requests carry route and status labels"
    );
    let ok_predicts: f64 = requests
        .iter()
        .filter(|s| s.labels["route"].contains("predict") && s.labels["status"] == "200")
        .map(|s| s.value)
        .sum();
    assert_eq!(ok_predicts, 73.0, "successful predict requests counted");
    assert!(
        requests.iter().any(|s| s.labels["status"] == "413"),
        "refused requests are counted with their status"
    );
    // The latency histogram: cumulative buckets ending at +Inf = _count, per label set.
    let buckets: Vec<&Sample> =
        named(&samples, "bertopic_http_request_duration_seconds_bucket").collect();
    assert!(!buckets.is_empty(), "the latency histogram has buckets");
    let counts: Vec<&Sample> =
        named(&samples, "bertopic_http_request_duration_seconds_count").collect();
    assert!(
        !counts.is_empty()
            && named(&samples, "bertopic_http_request_duration_seconds_sum").count() > 0
    );
    for c in &counts {
        let mut series: Vec<(f64, f64)> = buckets
            .iter()
            .filter(|b| {
                b.labels
                    .iter()
                    .filter(|(k, _)| k.as_str() != "le")
                    .all(|(k, v)| c.labels.get(k) == Some(v))
            })
            .map(|b| {
                let le = match b.labels["le"].as_str() {
                    "+Inf" => f64::INFINITY,
                    v => v.parse().expect("le"),
                };
                (le, b.value)
            })
            .collect();
        series.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            series.windows(2).all(|w| w[0].1 <= w[1].1),
            "buckets are cumulative: {series:?}"
        );
        assert_eq!(
            series.last().map(|s| (s.0, s.1)),
            Some((f64::INFINITY, c.value)),
            "the +Inf bucket equals _count for {:?}",
            c.labels
        );
    }
    let drift: Vec<&Sample> = named(&samples, "bertopic_drift_level").collect();
    assert!(
        drift
            .iter()
            .any(
                |s| s.labels.get("model").map(String::as_str) == Some("models:/api-model/1")
                    && s.value == 2.0
            ),
        "bertopic_drift_level{{model}} is 2 (HIGH) after the SOTU batch: {drift:?}"
    );
    assert!(
        named(&samples, "bertopic_training_jobs").all(|s| s.labels.contains_key("state")),
        "bertopic_training_jobs{{state}}"
    );

    eprintln!(
        "predict timings (debug-profile binary, shared 2-core VM): 1 doc p50 {:.1} ms over 20; \
         100 docs {hundred_ms:.0} ms; 16 clients × 3 one-doc requests {concurrent_ms:.0} ms",
        p50(one_ms)
    );

    // --- SIGTERM: a clean exit 0.
    let status = server.sigterm(Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status:?}"
    );
}

/// POSTs `body` over a raw socket, reading the reply first: a server that refuses the request
/// from its headers answers without reading the body, then closes the connection (a client
/// that insists on sending it all first sees a broken pipe instead of the answer).
fn post_before_body(base: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut sock = std::net::TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        sock,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send the headers");
    let mut buf = [0u8; 4096];
    let mut reply = Vec::new();
    match sock.read(&mut buf) {
        Ok(n) if n > 0 => reply.extend_from_slice(&buf[..n]),
        // No early answer: send the body (it may be cut off) and read whatever comes.
        _ => {
            let _ = sock.write_all(body);
        }
    }
    let _ = sock.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status line in {text:?}"));
    (status, text)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Starts a training job through the page's form (multipart, as a browser posts it).
fn start_job(http: &ureq::Agent, server: &Server, name: &str, csv: &[u8]) -> serve_support::Reply {
    post_multipart(
        http,
        &server.url("/train"),
        &[
            ("name", name),
            ("trials", "0"),
            ("language", "english"),
            ("seed", "42"),
            ("representation", "ctfidf"),
            ("min_topic_size", "5"),
            ("labels", "words"),
            ("llm_key", ""),
        ],
        Some(("upload.csv", csv)),
    )
}

#[test]
fn pages_refuse_bad_uploads_traversal_and_a_second_job_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mlruns = dir.path().join("mlruns");
    // An empty embedding cache: the job really embeds, so it is still running at SIGTERM.
    let cache = dir.path().join("embedding-cache");
    let server = Server::start_env(
        &[
            "--registry",
            dir.path().join("registry").to_str().unwrap(),
            "--data",
            dir.path().join("serve").to_str().unwrap(),
            "--tracking-uri",
            &format!("file://{}", mlruns.display()),
            "--max-upload-mb",
            "1",
        ],
        &[("BERTOPIC_CACHE", cache.to_str().unwrap())],
    );
    let http = agent();

    // / → /train
    let r = get(&http, &server.url("/"));
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/train"));

    // Bad CSVs: a 400 page whose #error names the problem.
    for (what, csv) in [
        ("no Abstract column", &b"Title,Body\r\na,b\r\n"[..]),
        ("empty file", &b""[..]),
        ("header only", &b"Title,Abstract\r\n"[..]),
        ("not text", &[0xff, 0xfe, 0x00, 0x01, 0x02][..]),
    ] {
        let r = start_job(&http, &server, "bad", csv);
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert!(
            r.body.contains("id=\"error\""),
            "{what}: a page with #error: {}",
            r.body
        );
    }
    // Bad parameters, and an upload over --max-upload-mb 1.
    let sample =
        std::fs::read(common::shared().join("data/arxiv-cs-abstracts-200.csv")).expect("sample");
    let r = post_multipart(
        &http,
        &server.url("/train"),
        &[("name", "x"), ("trials", "many"), ("seed", "42")],
        Some(("upload.csv", &sample)),
    );
    assert_eq!(r.status, 400, "trials=many: {}", r.body);
    assert!(r.body.contains("id=\"error\""), "{}", r.body);
    let r = start_job(&http, &server, "../../etc", &sample);
    assert_eq!(r.status, 400, "a model name with slashes: {}", r.body);
    let big = [&sample[..], &vec![b' '; 1 << 20][..]].concat();
    // Past the limit the server reads and discards the rest (it is under twice the limit)
    // before answering, so a client that sends the whole body reads the 413 on the first try
    // instead of a broken pipe.
    let r = start_job(&http, &server, "big", &big);
    assert_eq!(r.status, 413, "an upload over --max-upload-mb: {}", r.body);
    assert!(r.body.contains("id=\"error\""), "{}", r.body);

    // A real job, then a second one for the same name while it runs: 409.
    let r = start_job(&http, &server, "twice", &sample);
    assert_eq!(r.status, 303, "{}", r.body);
    let job = r.location.clone().expect("a Location");
    assert!(job.starts_with("/train/jobs/"), "{job}");
    let r = start_job(&http, &server, "twice", &sample);
    assert_eq!(
        r.status, 409,
        "a second job for the same name while one runs: {}",
        r.body
    );
    assert!(r.body.contains("id=\"error\""), "{}", r.body);
    let page = get(&http, &server.url(&job));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"job-status\""), "{}", page.body);

    // Traversal through job ids and file names: 400/404, never a file.
    for path in [
        "/train/jobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "/train/jobs/..%2F..%2F..%2F..%2Fetc/files/passwd".to_string(),
        "/train/jobs/nosuchjob".to_string(),
        "/train/jobs/nosuchjob/files/topic_info.csv".to_string(),
        format!("{job}/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
        format!("{job}/files/..%2Fjob.json"),
        format!("{job}/files/model.json"),
        format!("{job}/files/%2Fetc%2Fpasswd"),
        format!("{job}/documents?topic=..%2F..%2Fetc"),
    ] {
        let r = get(&http, &server.url(&path));
        assert!(
            r.status == 400 || r.status == 404,
            "{path}: {} {}",
            r.status,
            r.body
        );
        assert!(
            !r.body.contains("root:"),
            "{path} leaked a file: {}",
            r.body
        );
    }

    // SIGTERM while the job runs (embedding, its tracking run open): exit 0, run KILLED.
    let http2 = agent();
    let job_url = server.url(&job);
    let running = (0..600).find_map(|_| {
        let page = get(&http2, &job_url).body;
        let status = page
            .split("id=\"job-status\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or("")
            .to_string();
        if status == "running" && page.contains("embedding") {
            return Some(true);
        }
        if status != "queued" && status != "running" {
            return Some(false);
        }
        std::thread::sleep(Duration::from_millis(100));
        None
    });
    assert_eq!(
        running,
        Some(true),
        "the job was seen running (embedding) before SIGTERM"
    );
    let status = server.sigterm(Duration::from_secs(120));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status:?}"
    );
    let runs: Vec<String> = walk(&mlruns)
        .into_iter()
        .filter(|p| p.ends_with("meta.yaml"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .filter(|t| t.contains("run_id:"))
        .collect();
    assert_eq!(runs.len(), 1, "one tracked run, the job's: {runs:#?}");
    // MLflow's RunStatus numbers: 1 RUNNING, 3 FINISHED, 4 FAILED, 5 KILLED.
    assert!(
        runs[0].lines().any(|l| l.trim() == "status: 5"),
        "the interrupted job's run is KILLED:\n{}",
        runs[0]
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
