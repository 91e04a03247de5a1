//! Oversized request bodies: the rest is read before the 413 goes out.
//!
//! A handler refuses a body over its limit after reading only the first part of it. If the
//! server then answers and closes while the client is still sending, the unread bytes make the
//! kernel reset the connection, and the client often sees a broken pipe instead of the 413 page
//! (a race that a loaded machine loses). Mature servers read and discard the rest of a
//! moderately oversized body first (nginx's lingering close, Tomcat's `maxSwallowSize`, Go's
//! post-handler read) and close at once beyond a cap. So does this layer: the rest is drained
//! up to `cap` bytes and [`DRAIN_TIME`], then the 413 is sent with `Connection: close`; a body
//! declared (Content-Length) or found to be longer than that is not read further.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// Longest wait for the rest of an oversized body (a stalled client cannot hold the task).
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(10);

/// The request body, handed back to the layer when the handler drops it, so the layer can read
/// what the handler left unread.
struct HandBack {
    inner: Option<Body>,
    slot: Arc<Mutex<Option<Body>>>,
}

impl HttpBody for HandBack {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.inner.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for HandBack {
    fn drop(&mut self) {
        if let (Some(body), Ok(mut slot)) = (self.inner.take(), self.slot.lock()) {
            *slot = Some(body);
        }
    }
}

/// Middleware (`from_fn_with_state(cap, drain_oversized)`): on a 413, reads and discards up to
/// `cap` more bytes of the request body before the reply, and asks the client to close.
pub(crate) async fn drain_oversized(
    State(cap): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let slot = Arc::new(Mutex::new(None));
    let req = req.map(|inner| {
        Body::new(HandBack {
            inner: Some(inner),
            slot: Arc::clone(&slot),
        })
    });
    let mut res = next.run(req).await;
    if res.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return res;
    }
    // The handler has returned, so its extractors (and the body) are dropped by now; a body
    // still held elsewhere is not waited for.
    let rest = slot.lock().ok().and_then(|mut s| s.take());
    if let Some(body) = rest {
        drain(body, cap as u64).await;
    }
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Reads `body` to its end unless more than `cap` bytes or [`DRAIN_TIME`] would be needed.
/// True when the body was read to its end.
async fn drain(mut body: Body, cap: u64) -> bool {
    if body.size_hint().lower() > cap {
        return false;
    }
    let read = async {
        let mut left = cap;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                let n = data.len() as u64;
                if n > left {
                    return false;
                }
                left -= n;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A body of the given chunks, one per poll.
    struct Chunks(VecDeque<Bytes>);

    impl HttpBody for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn body(sizes: &[usize]) -> Body {
        Body::new(Chunks(
            sizes.iter().map(|&n| Bytes::from(vec![b'x'; n])).collect(),
        ))
    }

    #[tokio::test]
    async fn drains_up_to_the_cap_and_stops_past_it() {
        assert!(drain(body(&[]), 10).await, "an empty rest");
        assert!(drain(body(&[4, 6]), 10).await, "10 bytes, cap 10");
        assert!(
            !drain(body(&[4, 4, 4]), 10).await,
            "12 bytes past a cap of 10"
        );
        assert!(
            !drain(Body::from(vec![b'x'; 11]), 10).await,
            "a known length past the cap is not read"
        );
    }

    #[tokio::test]
    async fn a_dropped_body_is_handed_back_unread_past_what_was_read() {
        let slot = Arc::new(Mutex::new(None));
        let mut b = HandBack {
            inner: Some(body(&[3, 5])),
            slot: Arc::clone(&slot),
        };
        let first = std::future::poll_fn(|cx| Pin::new(&mut b).poll_frame(cx))
            .await
            .expect("a frame")
            .expect("data");
        assert_eq!(first.data_ref().map(Bytes::len), Some(3));
        drop(b);
        let rest = slot.lock().unwrap().take().expect("the body handed back");
        assert!(drain(rest, 5).await, "the 5 bytes left fit a cap of 5");
    }
}
