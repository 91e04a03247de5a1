//! MLflow's per-request limits, and splitting a batch to fit them.

use crate::error::{Result, TrackError};
use crate::{Metric, Param, Tag};

/// Limits of one `runs/log-batch` request and of keys and values (MLflow's
/// `mlflow/utils/validation.py`; the same in MLflow 2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Metrics per request.
    pub metrics: usize,
    /// Parameters per request.
    pub params: usize,
    /// Tags per request.
    pub tags: usize,
    /// Metrics + parameters + tags per request.
    pub entities: usize,
    /// Characters of a key.
    pub key_len: usize,
    /// Characters of a parameter value.
    pub param_len: usize,
    /// Characters of a tag value.
    pub tag_len: usize,
    /// Bytes of one request's JSON body (the server answers 400 above it).
    pub request_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            metrics: 1000,
            params: 100,
            tags: 100,
            entities: 1000,
            key_len: 250,
            param_len: 6000,
            tag_len: 8000,
            // MLflow's MAX_BATCH_LOG_REQUEST_SIZE is 1e6; keep a margin for the envelope.
            request_bytes: 900_000,
        }
    }
}

/// One request's share of a batch.
pub type Chunk<'a> = (&'a [Metric], &'a [Param], &'a [Tag]);

/// Splits a batch into requests within `limits` (order kept; nothing dropped). Keys and values
/// are checked first: a key MLflow would refuse (empty, too long, `..` or an absolute path) or
/// a value over its length limit fails here, naming it, instead of failing half-way.
pub fn split_batch<'a>(
    limits: &Limits,
    metrics: &'a [Metric],
    params: &'a [Param],
    tags: &'a [Tag],
) -> Result<Vec<Chunk<'a>>> {
    for m in metrics {
        check_key(limits, "metric", &m.key)?;
        if !m.value.is_finite() {
            return Err(TrackError::Invalid(format!(
                "metric {:?} is {}: MLflow's JSON API cannot carry it; leave it out",
                m.key, m.value
            )));
        }
    }
    for p in params {
        check_key(limits, "parameter", &p.key)?;
        check_len("parameter", &p.key, &p.value, limits.param_len)?;
    }
    for t in tags {
        check_key(limits, "tag", &t.key)?;
        check_len("tag", &t.key, &t.value, limits.tag_len)?;
    }
    let (mut mi, mut pi, mut ti) = (0, 0, 0);
    let mut out = Vec::new();
    while mi < metrics.len() || pi < params.len() || ti < tags.len() {
        // Parameters and tags first (few, and a run's tags matter most), metrics fill the rest;
        // each request stays within the count limits and the body size.
        let mut bytes = ENVELOPE_BYTES;
        let (mut np, mut nt, mut nm) = (0, 0, 0);
        let room = |n: usize, bytes: usize, add: usize| {
            n < limits.entities && (n == 0 || bytes + add <= limits.request_bytes)
        };
        while pi + np < params.len() && np < limits.params {
            let p = &params[pi + np];
            let add = json_len(&p.key) + json_len(&p.value) + ENTITY_BYTES;
            if !room(np + nt + nm, bytes, add) {
                break;
            }
            bytes += add;
            np += 1;
        }
        while ti + nt < tags.len() && nt < limits.tags {
            let t = &tags[ti + nt];
            let add = json_len(&t.key) + json_len(&t.value) + ENTITY_BYTES;
            if !room(np + nt + nm, bytes, add) {
                break;
            }
            bytes += add;
            nt += 1;
        }
        while mi + nm < metrics.len() && nm < limits.metrics {
            let add = json_len(&metrics[mi + nm].key) + METRIC_BYTES;
            if !room(np + nt + nm, bytes, add) {
                break;
            }
            bytes += add;
            nm += 1;
        }
        out.push((
            &metrics[mi..mi + nm],
            &params[pi..pi + np],
            &tags[ti..ti + nt],
        ));
        mi += nm;
        pi += np;
        ti += nt;
    }
    Ok(out)
}

/// `{"run_id": "<32 hex>", "metrics": [], "params": [], "tags": []}`.
const ENVELOPE_BYTES: usize = 96;
/// `{"key": , "value": },` around a parameter or tag.
const ENTITY_BYTES: usize = 24;
/// A metric's JSON without its key: value, timestamp and step at their longest.
const METRIC_BYTES: usize = 100;

/// Upper bound of a string's length as a JSON string (escapes counted at their longest).
fn json_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

fn check_key(limits: &Limits, what: &str, key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.chars().count() <= limits.key_len
        && !key.starts_with('/')
        && !key
            .split('/')
            .any(|p| p == ".." || p == "." || p.is_empty())
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '/' | ':'));
    if ok {
        Ok(())
    } else {
        Err(TrackError::Invalid(format!(
            "{what} name {key:?} is not accepted by MLflow: use 1 to {} letters, digits, \
             `_ - . : /` and spaces, without `..` or a leading `/`",
            limits.key_len
        )))
    }
}

fn check_len(what: &str, key: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n <= max {
        Ok(())
    } else {
        Err(TrackError::Invalid(format!(
            "{what} {key:?} is {n} characters long; MLflow accepts at most {max}: log it as \
             an artifact instead"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(n: usize) -> Vec<Metric> {
        (0..n)
            .map(|i| Metric {
                key: format!("m{}", i % 7),
                value: i as f64,
                timestamp_ms: 1,
                step: i as i64,
            })
            .collect()
    }

    #[test]
    fn splits_within_every_limit_and_keeps_everything_in_order() {
        let l = Limits::default();
        let m = metrics(2500);
        let p: Vec<Param> = (0..230).map(|i| Param::new(format!("p{i}"), i)).collect();
        let t: Vec<Tag> = (0..150).map(|i| Tag::new(format!("t{i}"), "v")).collect();
        let chunks = split_batch(&l, &m, &p, &t).unwrap();
        let (mut am, mut ap, mut at) = (Vec::new(), Vec::new(), Vec::new());
        for (cm, cp, ct) in &chunks {
            assert!(cm.len() <= l.metrics && cp.len() <= l.params && ct.len() <= l.tags);
            assert!(cm.len() + cp.len() + ct.len() <= l.entities);
            am.extend_from_slice(cm);
            ap.extend_from_slice(cp);
            at.extend_from_slice(ct);
        }
        assert_eq!(chunks.len(), 3);
        assert_eq!((am, ap, at), (m.clone(), p.clone(), t.clone()));
    }

    #[test]
    fn long_values_split_by_request_size() {
        let l = Limits::default();
        let p: Vec<Param> = (0..100)
            .map(|i| Param::new(format!("p{i}"), "\"".repeat(6000)))
            .collect();
        let t: Vec<Tag> = (0..100)
            .map(|i| Tag::new(format!("t{i}"), "é".repeat(8000)))
            .collect();
        let chunks = split_batch(&l, &[], &p, &t).unwrap();
        let (mut np, mut nt) = (0, 0);
        for (m, cp, ct) in &chunks {
            // The body exactly as MlflowRest sends it.
            let body = serde_json::json!({
                "run_id": "0123456789abcdef0123456789abcdef",
                "metrics": m.iter().map(|m| serde_json::json!({"key": m.key, "value": m.value,
                    "timestamp": m.timestamp_ms, "step": m.step})).collect::<Vec<_>>(),
                "params": cp.iter().map(|p| serde_json::json!({"key": p.key, "value": p.value}))
                    .collect::<Vec<_>>(),
                "tags": ct.iter().map(|t| serde_json::json!({"key": t.key, "value": t.value}))
                    .collect::<Vec<_>>(),
            });
            let n = serde_json::to_vec(&body).unwrap().len();
            assert!(n <= 1_000_000, "{n} bytes");
            np += cp.len();
            nt += ct.len();
        }
        assert_eq!((np, nt), (100, 100));
        assert!(chunks.len() >= 3, "{}", chunks.len());
    }

    #[test]
    fn empty_batch_is_no_request() {
        assert!(split_batch(&Limits::default(), &[], &[], &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_keys_and_values_are_named() {
        let l = Limits::default();
        let e = split_batch(&l, &[], &[Param::new("../x", 1)], &[]).unwrap_err();
        assert!(e.to_string().contains("../x"), "{e}");
        let long = "x".repeat(6001);
        let e = split_batch(&l, &[], &[Param::new("words", &long)], &[]).unwrap_err();
        assert!(e.to_string().contains("6001"), "{e}");
        let e = split_batch(&l, &[Metric::now("c_v", f64::NAN, 0)], &[], &[]).unwrap_err();
        assert!(e.to_string().contains("c_v"), "{e}");
    }
}
