//! Bit-identical embeddings on any number of compute threads (own test binary: it sets env vars).

mod common;

use bertopic_embed::*;

/// Runs `f` on a fresh rayon pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// A tiny random model in `dir`, loaded with the given batch size and engine.
fn tiny_encoder(dir: &std::path::Path, batch_size: usize, engine: Engine) -> SentenceEncoder {
    common::make_tiny(dir, 64, Some(48));
    let m = resolve_model(dir.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    SentenceEncoder::load(
        &m,
        EncoderOptions {
            batch_size,
            engine,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn one_and_two_threads_bit_identical() {
    // The fast engine runs batches on rayon's pool: compare explicit 1- and 2-thread pools.
    let d = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(d.path(), 4, Engine::Fast);
    let t = common::texts(40);
    let run = |threads: usize| on_threads(threads, || enc.embed(&t).unwrap());
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    fast_engine_grouping_changes_no_bits(&enc, &t, &one);
    fast_engine_chunk_cuts_change_no_bits();
    candle_engine_one_and_two_threads();
}

/// The fast engine cuts its input into token-balanced chunks, about four per thread, so the
/// cuts differ between 1, 2 and 3 threads and from fixed batches of 4; the bits must not.
fn fast_engine_chunk_cuts_change_no_bits() {
    let d = tempfile::tempdir().unwrap();
    let t = common::texts(400);
    let wide = tiny_encoder(d.path(), 64, Engine::Fast);
    let run = |threads: usize| on_threads(threads, || wide.embed(&t).unwrap());
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    // Fixed batches of 4 (make_tiny draws fresh weights on every call, so the same encoder).
    let ids = wide.tokenize(&t).unwrap();
    assert_eq!(one, on_threads(2, || wide.embed_ids(&ids, 4).unwrap()));
}

/// The fast engine runs its layers over groups of sequences within a batch
/// (`$BERTOPIC_EMBED_GROUP_TOKENS`, read per call); a sequence's bits must not depend on them.
fn fast_engine_grouping_changes_no_bits(
    enc: &SentenceEncoder,
    t: &[String],
    want: &ndarray::Array2<f32>,
) {
    for tokens in ["1", "40", "100000"] {
        std::env::set_var("BERTOPIC_EMBED_GROUP_TOKENS", tokens);
        let got = enc.embed(t).unwrap();
        std::env::remove_var("BERTOPIC_EMBED_GROUP_TOKENS");
        assert!(
            got == *want,
            "group of {tokens} tokens changed the embeddings"
        );
    }
}

fn candle_engine_one_and_two_threads() {
    let d = tempfile::tempdir().unwrap();
    let enc = tiny_encoder(d.path(), 16, Engine::Candle);
    let t = common::texts(40);
    // candle reads RAYON_NUM_THREADS on every matmul; this binary has a single test, so no race.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let one = enc.embed(&t).unwrap();
    std::env::set_var("RAYON_NUM_THREADS", "2");
    let two = enc.embed(&t).unwrap();
    std::env::remove_var("RAYON_NUM_THREADS");
    assert_eq!(one, two);
}
