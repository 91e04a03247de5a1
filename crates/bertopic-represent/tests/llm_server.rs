//! The LLM labeller against a scripted HTTP server on 127.0.0.1 (never the internet).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use bertopic_represent::{readable_label, LlmLabeller, LlmParams, RepresentError};

#[derive(Clone)]
enum Reply {
    Ok(&'static str),
    Status(u16),
    Garbage,
    Hang,
}

/// Serves `script` one reply per connection; returns the endpoint and the request bodies seen.
fn server(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    thread::spawn(move || {
        for reply in script {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            seen2
                .lock()
                .unwrap()
                .push(head + &String::from_utf8_lossy(&body));
            let (status, text) = match reply {
                Reply::Ok(label) => (
                    200,
                    format!(
                        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"{label}"}}}}]}}"#
                    ),
                ),
                Reply::Status(s) => (s, r#"{"error":"try later"}"#.to_string()),
                Reply::Garbage => (200, "<html>not json".to_string()),
                Reply::Hang => {
                    // Hold the connection open without answering, off the accept loop.
                    thread::spawn(move || {
                        thread::sleep(Duration::from_millis(1500));
                        drop(stream);
                    });
                    continue;
                }
            };
            let resp = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    (format!("http://{addr}/v1/chat/completions"), seen)
}

fn labeller(endpoint: String, retries: u32) -> LlmLabeller {
    LlmLabeller::new(LlmParams {
        endpoint,
        model: "test-model".into(),
        api_key: Some("test-key".into()),
        timeout: Duration::from_millis(400),
        max_retries: retries,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        ..LlmParams::default()
    })
    .unwrap()
}

fn words() -> Vec<String> {
    ["oil", "gas", "energy", "prices"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn success_sends_model_key_words_and_cleans_label() {
    let (ep, seen) = server(vec![Reply::Ok("Topic: **Energy Prices**")]);
    let l = labeller(ep, 0)
        .label(&words(), &["Oil prices rose.\nGas too."])
        .unwrap();
    assert_eq!(l, "Energy Prices");
    let req = seen.lock().unwrap()[0].clone();
    assert!(req.contains("Bearer test-key"));
    assert!(req.contains("test-model") && req.contains("oil, gas, energy, prices"));
    assert!(req.contains("Oil prices rose. Gas too."));
}

#[test]
fn retries_after_429() {
    let (ep, seen) = server(vec![
        Reply::Status(429),
        Reply::Status(503),
        Reply::Ok("Energy"),
    ]);
    assert_eq!(labeller(ep, 3).label(&words(), &[]).unwrap(), "Energy");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn server_error_falls_back() {
    let (ep, _) = server(vec![Reply::Status(500), Reply::Status(500)]);
    let lab = labeller(ep, 1);
    assert!(matches!(
        lab.label(&words(), &[]),
        Err(RepresentError::Http { status: 500, .. })
    ));
}

#[test]
fn client_error_is_not_retried() {
    let (ep, seen) = server(vec![Reply::Status(401), Reply::Ok("never")]);
    assert!(matches!(
        labeller(ep, 3).label(&words(), &[]),
        Err(RepresentError::Http { status: 401, .. })
    ));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn timeout_and_garbage_fall_back() {
    let (ep, _) = server(vec![Reply::Hang, Reply::Garbage, Reply::Ok("Space Race")]);
    let lab = labeller(ep, 0);
    let topics = vec![
        (0, words(), vec![]),
        (1, vec!["moon".to_string(), "rocket".to_string()], vec![]),
        (2, vec!["space".to_string()], vec!["doc"]),
    ];
    let out = lab.label_topics(&topics);
    assert_eq!(out.labels[0], readable_label(&words()));
    assert_eq!(out.labels[1], "Moon Rocket");
    assert_eq!(out.labels[2], "Space Race");
    let ids: Vec<i64> = out.fell_back.iter().map(|f| f.0).collect();
    assert_eq!(ids, vec![0, 1]);
    assert!(
        out.fell_back[1].1.contains("unusable LLM response"),
        "{}",
        out.fell_back[1].1
    );
}

#[test]
fn stops_calling_after_consecutive_failures() {
    let (ep, seen) = server(vec![Reply::Status(500); 10]);
    let lab = LlmLabeller::new(LlmParams {
        max_consecutive_failures: 2,
        ..labeller(ep, 0).params().clone()
    })
    .unwrap();
    let topics: Vec<(i64, Vec<String>, Vec<&str>)> = (0..5).map(|i| (i, words(), vec![])).collect();
    let out = lab.label_topics(&topics);
    assert_eq!(out.fell_back.len(), 5);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn missing_key_for_groq_fails_fast() {
    if std::env::var("GROQ_API_KEY").is_ok() {
        return; // the environment provides a key; nothing to check without the internet
    }
    let lab = LlmLabeller::new(LlmParams::default()).unwrap();
    assert!(matches!(
        lab.label(&words(), &[]),
        Err(RepresentError::MissingApiKey(_))
    ));
}
