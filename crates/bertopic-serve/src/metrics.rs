//! Request counters and latencies in Prometheus' text exposition format (`GET /metrics`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters kept by the server; cheap to update from every request.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    documents_predicted: AtomicU64,
    drift: Mutex<BTreeMap<String, u8>>,
}

impl Metrics {
    /// Records one finished request on `route` (the route pattern, never the raw path, so the
    /// label set stays bounded).
    pub(crate) fn request(&self, route: &str, status: u16, elapsed: Duration) {
        *lock(&self.requests)
            .entry((route.to_string(), status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut lat = lock(&self.latency);
        let h = lat.entry(route.to_string()).or_default();
        h.count += 1;
        h.sum += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
    }

    pub(crate) fn documents_predicted(&self, n: usize) {
        self.documents_predicted
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The last drift level (0 LOW, 1 MEDIUM, 2 HIGH) monitored for `model`.
    pub(crate) fn drift_level(&self, model: &str, level: u8) {
        lock(&self.drift).insert(model.to_string(), level);
    }

    /// The exposition text; `jobs` are the training jobs per state.
    pub(crate) fn render(&self, jobs: &BTreeMap<&'static str, usize>) -> String {
        let mut o = String::new();
        o.push_str(
            "# HELP bertopic_http_requests_total HTTP requests served, by route and status.\n",
        );
        o.push_str("# TYPE bertopic_http_requests_total counter\n");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(
                o,
                "bertopic_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        o.push_str(
            "# HELP bertopic_http_request_duration_seconds Time to answer a request, by route.\n",
        );
        o.push_str("# TYPE bertopic_http_request_duration_seconds histogram\n");
        for (route, h) in lock(&self.latency).iter() {
            let route = label(route);
            for (le, c) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    o,
                    "bertopic_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {c}"
                );
            }
            let _ = writeln!(
                o,
                "bertopic_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 bertopic_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 bertopic_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
        o.push_str("# HELP bertopic_documents_predicted_total Documents assigned to topics by the predict API.\n");
        o.push_str("# TYPE bertopic_documents_predicted_total counter\n");
        let _ = writeln!(
            o,
            "bertopic_documents_predicted_total {}",
            self.documents_predicted.load(Ordering::Relaxed)
        );
        o.push_str("# HELP bertopic_drift_level Last monitored drift level per model (0 LOW, 1 MEDIUM, 2 HIGH).\n");
        o.push_str("# TYPE bertopic_drift_level gauge\n");
        for (model, level) in lock(&self.drift).iter() {
            let _ = writeln!(
                o,
                "bertopic_drift_level{{model=\"{}\"}} {level}",
                label(model)
            );
        }
        o.push_str("# HELP bertopic_training_jobs Training jobs known to this server, by state.\n");
        o.push_str("# TYPE bertopic_training_jobs gauge\n");
        for (state, n) in jobs {
            let _ = writeln!(o, "bertopic_training_jobs{{state=\"{state}\"}} {n}");
        }
        o
    }
}

/// Escapes a label value (backslash, quote, newline), as the exposition format asks.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A poisoned lock only means another request panicked mid-update of a counter: the counts
/// are still usable, so they are taken rather than failing every later request.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.request("/api/v1/predict", 200, Duration::from_millis(7));
        m.request("/api/v1/predict", 200, Duration::from_millis(70));
        m.request("/api/v1/predict", 400, Duration::from_millis(1));
        m.documents_predicted(12);
        m.drift_level("models:/a/1", 2);
        let jobs = BTreeMap::from([("running", 1)]);
        let text = m.render(&jobs);
        assert!(text
            .contains("bertopic_http_requests_total{route=\"/api/v1/predict\",status=\"200\"} 2"));
        assert!(text.contains(
            "bertopic_http_request_duration_seconds_bucket{route=\"/api/v1/predict\",le=\"0.01\"} 2"
        ));
        assert!(text.contains(
            "bertopic_http_request_duration_seconds_bucket{route=\"/api/v1/predict\",le=\"0.1\"} 3"
        ));
        assert!(text
            .contains("bertopic_http_request_duration_seconds_count{route=\"/api/v1/predict\"} 3"));
        assert!(text.contains("bertopic_documents_predicted_total 12"));
        assert!(text.contains("bertopic_drift_level{model=\"models:/a/1\"} 2"));
        assert!(text.contains("bertopic_training_jobs{state=\"running\"} 1"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
