//! Topic labels from an OpenAI-compatible chat-completions endpoint (Groq by default).

use std::time::Duration;

use serde_json::{json, Value};

use crate::{readable_label, RepresentError};

/// Groq's OpenAI-compatible chat completions endpoint.
pub const GROQ_ENDPOINT: &str = "https://api.groq.com/openai/v1/chat/completions";

/// Settings of an [`LlmLabeller`].
#[derive(Clone)]
pub struct LlmParams {
    /// Chat-completions URL (`http://` or `https://`).
    pub endpoint: String,
    /// Model name sent in the request.
    pub model: String,
    /// Bearer token; `None` = read `GROQ_API_KEY` (no header when that is unset too).
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after a 429, 5xx or network error.
    pub max_retries: u32,
    /// First back-off; doubles each retry.
    pub backoff: Duration,
    /// Longest single wait (also caps `Retry-After`).
    pub max_backoff: Duration,
    /// Representative documents put into the prompt.
    pub max_docs: usize,
    /// Characters kept of each document.
    pub max_doc_chars: usize,
    /// [`LlmLabeller::label_topics`] stops calling after this many failures in a row.
    pub max_consecutive_failures: usize,
}

impl Default for LlmParams {
    fn default() -> Self {
        LlmParams {
            endpoint: GROQ_ENDPOINT.to_string(),
            model: "llama-3.1-8b-instant".to_string(),
            api_key: None,
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_docs: 3,
            max_doc_chars: 400,
            max_consecutive_failures: 3,
        }
    }
}

impl std::fmt::Debug for LlmParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("LlmParams")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

/// Labels topics with an LLM through an OpenAI-compatible chat-completions API.
#[derive(Debug, Clone)]
pub struct LlmLabeller {
    params: LlmParams,
    api_key: Option<String>,
    agent: ureq::Agent,
}

/// Result of [`LlmLabeller::label_topics`].
#[derive(Debug, Clone, PartialEq)]
pub struct LabelOutcome {
    /// One label per topic, in input order.
    pub labels: Vec<String>,
    /// Topics that got the word fallback ([`readable_label`]), with the reason.
    pub fell_back: Vec<(i64, String)>,
}

impl LlmLabeller {
    /// Validates `params` and builds the HTTP client. The API key comes from
    /// `params.api_key`, else from `GROQ_API_KEY`.
    pub fn new(params: LlmParams) -> Result<Self, RepresentError> {
        if !(params.endpoint.starts_with("http://") || params.endpoint.starts_with("https://")) {
            return Err(RepresentError::InvalidParams(format!(
                "LLM endpoint must be an http(s) URL (got {:?})",
                params.endpoint
            )));
        }
        if params.model.trim().is_empty() {
            return Err(RepresentError::InvalidParams(
                "LLM model name is empty".into(),
            ));
        }
        if params.timeout.is_zero() {
            return Err(RepresentError::InvalidParams(
                "LLM timeout must be positive".into(),
            ));
        }
        let api_key = params
            .api_key
            .clone()
            .or_else(|| std::env::var("GROQ_API_KEY").ok())
            .filter(|k| !k.trim().is_empty());
        let agent = ureq::AgentBuilder::new().timeout(params.timeout).build();
        Ok(LlmLabeller {
            params,
            api_key,
            agent,
        })
    }

    /// The settings.
    pub fn params(&self) -> &LlmParams {
        &self.params
    }

    fn prompt(&self, words: &[String], docs: &[&str]) -> String {
        let mut p = String::from("A topic model found a topic described by these keywords: ");
        p.push_str(&words.join(", "));
        p.push_str(".\n");
        let docs: Vec<&&str> = docs.iter().take(self.params.max_docs).collect();
        if !docs.is_empty() {
            p.push_str("Typical documents of the topic:\n");
            for d in docs {
                let short: String = d.chars().take(self.params.max_doc_chars).collect();
                p.push_str("- ");
                p.push_str(&short.replace(['\n', '\r'], " "));
                p.push('\n');
            }
        }
        p.push_str("Reply with only a short label (at most 6 words) for this topic, nothing else.");
        p
    }

    /// Asks the model for one topic label; retries 429/5xx/network errors with exponential
    /// back-off. The answer is cleaned to one line of at most 60 characters.
    pub fn label(&self, words: &[String], docs: &[&str]) -> Result<String, RepresentError> {
        if self.api_key.is_none() && self.params.endpoint.starts_with(GROQ_ENDPOINT) {
            return Err(RepresentError::MissingApiKey(self.params.endpoint.clone()));
        }
        let body = json!({
            "model": self.params.model,
            "messages": [
                {"role": "system", "content": "You name topics found by a topic model. Answer with the label only."},
                {"role": "user", "content": self.prompt(words, docs)}
            ],
            "temperature": 0.0,
            "max_tokens": 32
        });
        let mut attempt = 0u32;
        loop {
            let (err, retry_after) = match self.request(&body) {
                Ok(text) => return parse_label(&text),
                Err(e) => e,
            };
            if !err.is_retryable() || attempt >= self.params.max_retries {
                return Err(err);
            }
            let exp = self.params.backoff.saturating_mul(1u32 << attempt.min(16));
            let wait = exp
                .max(retry_after.unwrap_or_default())
                .min(self.params.max_backoff);
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    /// One HTTP round trip: the body text, or the error and any `Retry-After`.
    fn request(&self, body: &Value) -> Result<String, (RepresentError, Option<Duration>)> {
        let mut req = self
            .agent
            .post(&self.params.endpoint)
            .set("Content-Type", "application/json");
        if let Some(k) = &self.api_key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        match req.send_json(body) {
            Ok(resp) => resp.into_string().map_err(|e| {
                (
                    RepresentError::Transport(format!("reading the response: {e}")),
                    None,
                )
            }),
            Err(ureq::Error::Status(status, resp)) => {
                let retry_after = resp
                    .header("Retry-After")
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64);
                let text = resp.into_string().unwrap_or_default();
                let body: String = text.chars().take(200).collect();
                Err((RepresentError::Http { status, body }, retry_after))
            }
            Err(ureq::Error::Transport(t)) => Err((RepresentError::Transport(t.to_string()), None)),
        }
    }

    /// Labels every topic; a topic whose request fails gets [`readable_label`] of its words
    /// and is listed in [`LabelOutcome::fell_back`]. After `max_consecutive_failures` failures
    /// in a row, or an error that retrying cannot fix (bad key, missing key), the remaining
    /// topics fall back without calling the endpoint.
    ///
    /// `topics` holds (topic id, words, representative documents) per topic.
    pub fn label_topics(&self, topics: &[(i64, Vec<String>, Vec<&str>)]) -> LabelOutcome {
        let mut out = LabelOutcome {
            labels: Vec::with_capacity(topics.len()),
            fell_back: Vec::new(),
        };
        let mut streak = 0usize;
        let mut stop: Option<String> = None;
        for (id, words, docs) in topics {
            let result = match &stop {
                Some(reason) => Err(reason.clone()),
                None => self.label(words, docs).map_err(|e| {
                    streak += 1;
                    let fatal = matches!(
                        e,
                        RepresentError::MissingApiKey(_)
                            | RepresentError::Http {
                                status: 401 | 403 | 404,
                                ..
                            }
                    );
                    if fatal || streak >= self.params.max_consecutive_failures.max(1) {
                        stop = Some(format!("skipped after earlier failures (last: {e})"));
                    }
                    e.to_string()
                }),
            };
            match result {
                Ok(l) => {
                    streak = 0;
                    out.labels.push(l);
                }
                Err(reason) => {
                    out.labels.push(readable_label(words));
                    out.fell_back.push((*id, reason));
                }
            }
        }
        out
    }
}

/// Takes `choices[0].message.content` from a chat-completions response and cleans it.
fn parse_label(text: &str) -> Result<String, RepresentError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        RepresentError::BadResponse(format!(
            "not JSON ({e}): {}",
            text.chars().take(80).collect::<String>()
        ))
    })?;
    let content = v
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| RepresentError::BadResponse("no choices[0].message.content".into()))?;
    sanitize_label(content)
        .ok_or_else(|| RepresentError::BadResponse("the model returned an empty label".into()))
}

/// One line, no quotes or markdown, no `Topic:`/`Label:` prefix, at most 60 characters.
pub fn sanitize_label(raw: &str) -> Option<String> {
    let line = raw
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.ends_with(':'))
        .or_else(|| raw.lines().map(str::trim).find(|l| !l.is_empty()))?;
    let mut s = line.to_string();
    for prefix in ["topic label:", "label:", "topic:"] {
        if s.to_lowercase().starts_with(prefix) {
            s = s[prefix.len()..].to_string();
            break;
        }
    }
    let trim_set: &[char] = &['"', '\'', '*', '`', '#', '.', ' ', '“', '”', '-'];
    let s = s.trim_matches(trim_set);
    let s: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    const MAX: usize = 60;
    let out = if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        match cut.rfind(' ') {
            Some(p) if p >= 20 => cut[..p].trim_end().to_string(),
            _ => cut,
        }
    } else {
        s
    };
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize() {
        assert_eq!(
            sanitize_label("Topic: \"Oil Prices\".").as_deref(),
            Some("Oil Prices")
        );
        assert_eq!(
            sanitize_label("Here is a label:\n**Space  Race**\nmore").as_deref(),
            Some("Space Race")
        );
        assert_eq!(sanitize_label("   \n "), None);
        let long = "word ".repeat(40);
        let l = sanitize_label(&long).unwrap();
        assert!(l.chars().count() <= 60 && !l.ends_with(' '));
    }

    #[test]
    fn rejects_bad_params() {
        let p = LlmParams {
            endpoint: "ftp://x".into(),
            ..LlmParams::default()
        };
        assert!(LlmLabeller::new(p).is_err());
    }

    #[test]
    fn debug_hides_key() {
        let p = LlmParams {
            api_key: Some("sekret".into()),
            ..LlmParams::default()
        };
        assert!(!format!("{p:?}").contains("sekret"));
    }
}
