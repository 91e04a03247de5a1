//! Encoder invariants on a tiny random BERT (no real weights needed).

mod common;

use bertopic_embed::*;
use common::*;

fn load(dir: &std::path::Path, opts: EncoderOptions) -> SentenceEncoder {
    let m = resolve_model(dir.to_str().unwrap(), &ResolveOptions::default()).unwrap();
    assert_eq!(m.source, ModelSource::LocalPath);
    SentenceEncoder::load(&m, opts).unwrap()
}

#[test]
fn truncation_and_padding_ignore_tokenizer_json() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(16));
    let enc = load(d.path(), EncoderOptions::default());
    assert_eq!(enc.max_seq_length(), 16);
    let ids = enc
        .tokenize(&[
            "cat".into(),
            "the cat sat on the mat the dog ran far away from the cat".into(),
        ])
        .unwrap();
    // tokenizer.json says pad to 8 and truncate at 8: both must be overridden.
    assert_eq!(ids[0], vec![2, 4 + 2 * 26 + 1, 3]);
    assert_eq!(ids[1].len(), 16);
    assert_eq!(ids[1][0], 2);
    assert_eq!(ids[1][15], 3);
    // Without sentence_bert_config.json: 256 capped at the 64 position embeddings.
    std::fs::remove_file(d.path().join("sentence_bert_config.json")).unwrap();
    let enc = load(d.path(), EncoderOptions::default());
    assert_eq!(enc.max_seq_length(), 64);
    let enc = load(
        d.path(),
        EncoderOptions {
            max_seq_length: Some(10),
            ..Default::default()
        },
    );
    assert_eq!(enc.max_seq_length(), 10);
    assert!(enc.fingerprint().ends_with("+max_seq_length=10"));
    let m = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let bad = SentenceEncoder::load(
        &m,
        EncoderOptions {
            max_seq_length: Some(65),
            ..Default::default()
        },
    );
    assert!(matches!(bad, Err(EmbedError::InvalidParam(_))));
    let bad = SentenceEncoder::load(
        &m,
        EncoderOptions {
            batch_size: 0,
            ..Default::default()
        },
    );
    assert!(matches!(bad, Err(EmbedError::InvalidParam(_))));
}

#[test]
fn batching_and_order_invariance() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(24));
    let enc = load(d.path(), EncoderOptions::default());
    let t = texts(37);
    let ids = enc.tokenize(&t).unwrap();
    let single = enc.embed_ids(&ids, 1).unwrap();
    for bs in [2, 5, 16, 64] {
        let b = enc.embed_ids(&ids, bs).unwrap();
        assert!(
            max_abs_diff(&single, &b) <= 1e-6,
            "batch {bs}: {}",
            max_abs_diff(&single, &b)
        );
    }
    // Input order is kept: reversing the texts reverses the rows.
    let mut rev = t.clone();
    rev.reverse();
    let e = enc.embed(&t).unwrap();
    let mut er = enc.embed(&rev).unwrap();
    er.invert_axis(ndarray::Axis(0));
    assert!(max_abs_diff(&e, &er) <= 1e-6);
    // Normalize module present → unit rows; deterministic across calls.
    for r in e.rows() {
        let n: f32 = r.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-5);
    }
    assert_eq!(e, enc.embed(&t).unwrap());
    assert_eq!(enc.embed(&[]).unwrap().dim(), (0, 32));
    // Empty text still works ([CLS][SEP]).
    assert!(enc
        .embed(&["".into()])
        .unwrap()
        .iter()
        .all(|v| v.is_finite()));
}

#[test]
fn corrupt_weights_are_a_typed_error() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(16));
    let w = d.path().join("model.safetensors");
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, &bytes[..bytes.len() / 2]).unwrap();
    let m = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let err = SentenceEncoder::load(&m, EncoderOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, EmbedError::CorruptWeights { .. }), "{err}");
    std::fs::write(&w, b"garbage").unwrap();
    let err = SentenceEncoder::load(&m, EncoderOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, EmbedError::CorruptWeights { .. }), "{err}");
    std::fs::remove_file(&w).unwrap();
    let err = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap_err();
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}

#[test]
fn models_dir_lookup_and_not_found_message() {
    let store = tempfile::tempdir().unwrap();
    make_tiny(&store.path().join("acme__tiny-bert"), 32, Some(16));
    let opts = ResolveOptions {
        models_dir: store.path().to_path_buf(),
        allow_hub: false,
        allow_pypi: false,
        offline: true,
    };
    let m = resolve_model("acme/tiny-bert", &opts).unwrap();
    assert_eq!(m.source, ModelSource::ModelsDir);
    assert_eq!(m.model_id, "acme/tiny-bert");
    assert_eq!(m.weights_sha256.len(), 64);
    let enc = SentenceEncoder::load(&m, EncoderOptions::default()).unwrap();
    assert_eq!(enc.model_id(), "acme/tiny-bert");
    assert_eq!(enc.fingerprint(), m.weights_sha256);
    let err = resolve_model("acme/other", &opts).unwrap_err().to_string();
    for part in ["models dir", "Hugging Face", "PyPI", "fetch"] {
        assert!(err.contains(part), "{part} missing from: {err}");
    }
}

#[test]
fn cache_round_trip_and_corrupt_entries() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(16));
    let enc = load(d.path(), EncoderOptions::default());
    let t = texts(9);
    let direct = enc.embed(&t).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cached = CachedEmbedder::new(enc, cache_dir.path());
    let mut dup = t.clone();
    dup.push(t[0].clone());
    let first = cached.embed(&dup).unwrap();
    assert!(max_abs_diff(&first.slice(ndarray::s![..9, ..]).to_owned(), &direct) <= 1e-6);
    assert_eq!(first.row(9), first.row(0));
    let n_files = walk(cached.dir());
    assert_eq!(n_files.len(), 9);
    // Corrupt entries are recomputed, not trusted: wrong size; right size but NaN; one flipped
    // bit in a value (still finite, right size); another text's valid entry copied over it.
    std::fs::write(&n_files[0], b"xx").unwrap();
    std::fs::write(&n_files[1], vec![0xffu8; 32 * 4 + 8]).unwrap();
    let mut flipped = std::fs::read(&n_files[2]).unwrap();
    assert_eq!(flipped.len(), 32 * 4 + 8);
    flipped[5] ^= 0x01;
    std::fs::write(&n_files[2], flipped).unwrap();
    std::fs::copy(&n_files[4], &n_files[3]).unwrap();
    let second = cached.embed(&dup).unwrap();
    assert_eq!(first, second);
    let third = cached.embed(&dup).unwrap();
    assert_eq!(first, third);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn precomputed_rows() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("e.npy");
    let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
    write_npy(&p, &a).unwrap();
    let pre = Precomputed::from_npy(&p).unwrap();
    assert_eq!(pre.dim(), 4);
    let t: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    assert_eq!(pre.embed(&t).unwrap(), a);
    assert!(matches!(
        pre.embed(&t[..2]),
        Err(EmbedError::RowMismatch { rows: 3, texts: 2 })
    ));
}

/// Fast and candle engines give the same vectors (to rounding) for the model in `dir`, at each
/// batch size; returns the fast encoder and the token ids for further checks.
fn assert_engines_agree(
    dir: &std::path::Path,
    batches: &[usize],
) -> (SentenceEncoder, Vec<Vec<u32>>) {
    let fast = load(dir, EncoderOptions::default());
    let candle = load(
        dir,
        EncoderOptions {
            engine: Engine::Candle,
            ..Default::default()
        },
    );
    let ids = fast.tokenize(&texts(37)).unwrap();
    for &bs in batches {
        let a = fast.embed_ids(&ids, bs).unwrap();
        let b = candle.embed_ids(&ids, bs).unwrap();
        assert!(
            max_abs_diff(&a, &b) <= 1e-5,
            "batch {bs}: engines differ by {}",
            max_abs_diff(&a, &b)
        );
    }
    (fast, ids)
}

#[test]
fn fast_and_candle_engines_agree() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(24));
    assert_engines_agree(d.path(), &[1, 8, 32]);
}

#[test]
fn bad_token_ids_are_typed_errors() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(24));
    for engine in [Engine::Fast, Engine::Candle] {
        let enc = load(
            d.path(),
            EncoderOptions {
                engine,
                ..Default::default()
            },
        );
        let err = enc.embed_ids(&[vec![2, 4_000_000, 3]], 8).unwrap_err();
        assert!(
            matches!(&err, EmbedError::InvalidParam(m) if m.contains("4000000") && m.contains("vocabulary")),
            "{err}"
        );
        assert!(matches!(
            enc.embed_ids(&[vec![2, 3], vec![]], 8),
            Err(EmbedError::InvalidParam(_))
        ));
        // Longer than max_seq_length: cut, as tokenize does, not an out-of-range position.
        let long = vec![vec![5u32; 500]];
        assert!(enc
            .embed_ids(&long, 8)
            .unwrap()
            .iter()
            .all(|v| v.is_finite()));
    }
}

#[test]
fn xlm_roberta_engines_agree() {
    let d = tempfile::tempdir().unwrap();
    common::make_tiny_xlmr(d.path(), 32, Some(24));
    let (fast, ids) = assert_engines_agree(d.path(), &[1, 8]);
    // Positions matter: the same model read as BERT (no offset) gives other vectors.
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("config.json")).unwrap())
            .unwrap();
    cfg["model_type"] = "bert".into();
    std::fs::write(d.path().join("config.json"), cfg.to_string()).unwrap();
    let as_bert = load(d.path(), EncoderOptions::default());
    assert!(
        max_abs_diff(
            &fast.embed_ids(&ids, 8).unwrap(),
            &as_bert.embed_ids(&ids, 8).unwrap()
        ) > 1e-4
    );
}

#[test]
fn unknown_model_type_is_a_typed_error() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(16));
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("config.json")).unwrap())
            .unwrap();
    cfg["model_type"] = "gpt2".into();
    std::fs::write(d.path().join("config.json"), cfg.to_string()).unwrap();
    let m = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let err = SentenceEncoder::load(&m, EncoderOptions::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("gpt2"), "{err}");
}

#[test]
fn int8_is_close_to_f32_and_keyed_apart() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 32, Some(16));
    let f32_enc = load(d.path(), EncoderOptions::default());
    let int8 = load(
        d.path(),
        EncoderOptions {
            precision: Precision::Int8,
            ..Default::default()
        },
    );
    assert_eq!(int8.precision(), Precision::Int8);
    assert_eq!(
        int8.fingerprint(),
        format!("{}+int8", f32_enc.fingerprint())
    );
    let t = texts(20);
    let (a, b) = (f32_enc.embed(&t).unwrap(), int8.embed(&t).unwrap());
    assert_ne!(a, b, "int8 must not silently run the f32 path");
    for (x, y) in a.outer_iter().zip(b.outer_iter()) {
        let dot: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
        let n = |v: ndarray::ArrayView1<f32>| v.iter().map(|p| p * p).sum::<f32>().sqrt();
        let cos = dot / (n(x) * n(y));
        // Close: a broken kernel or scale gives cosines near 0.
        assert!(cos > 0.99, "cosine {cos}");
    }
    let m = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap();
    let bad = SentenceEncoder::load(
        &m,
        EncoderOptions {
            precision: Precision::Int8,
            engine: Engine::Candle,
            ..Default::default()
        },
    );
    assert!(matches!(bad, Err(EmbedError::InvalidParam(_))));
    assert!("bf16".parse::<Precision>().is_err());
    assert_eq!("INT8".parse::<Precision>().unwrap(), Precision::Int8);
}
