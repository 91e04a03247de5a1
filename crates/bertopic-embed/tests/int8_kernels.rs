//! Every int8 kernel gives the same embeddings, bit for bit: the AVX-512 VNNI kernel (its
//! portable form where the CPU lacks VNNI), AVX2 and the scalar fallback, chosen through
//! `BERTOPIC_INT8_KERNEL`. A test binary of its own: the variable is process-wide, and this is
//! the only test that sets it.
//!
//! On a tiny random BERT and on the real all-MiniLM-L6-v2 (a few short texts: the portable
//! VNNI form is slow). Like the other real-model tests, a missing model FAILS and says how to
//! fetch it, unless `BERTOPIC_SKIP_MODEL_TESTS=1`.

mod common;

use bertopic_embed::*;
use common::*;

fn embed_with(kernel: &str, model: &ResolvedModel, texts: &[String]) -> ndarray::Array2<f32> {
    std::env::set_var("BERTOPIC_INT8_KERNEL", kernel);
    let enc = SentenceEncoder::load(
        model,
        EncoderOptions {
            precision: Precision::Int8,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("load int8 with {kernel}: {e}"));
    assert_eq!(int8_kernel().name(), kernel);
    enc.embed(texts).expect("int8 embeddings")
}

fn all_kernels_agree(model: &ResolvedModel, texts: &[String]) {
    let reference = embed_with("scalar", model, texts);
    for kernel in ["avx2", "avxvnni", "avx512vnni"] {
        let got = embed_with(kernel, model, texts);
        assert!(
            got.iter()
                .zip(&reference)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{kernel} differs from scalar (native here: {})",
            [
                Int8Kernel::Avx2,
                Int8Kernel::AvxVnni,
                Int8Kernel::Avx512Vnni
            ]
            .iter()
            .find(|k| k.name() == kernel)
            .is_some_and(|k| k.native())
        );
    }
}

#[test]
fn int8_kernels_give_the_same_bits() {
    let d = tempfile::tempdir().unwrap();
    make_tiny(d.path(), 48, Some(24));
    let tiny = resolve_model(d.path().to_str().unwrap(), &ResolveOptions::default()).unwrap();
    all_kernels_agree(&tiny, &texts(30));

    // A name that is no kernel is an error, not a silent default.
    std::env::set_var("BERTOPIC_INT8_KERNEL", "avx512");
    let bad = SentenceEncoder::load(
        &tiny,
        EncoderOptions {
            precision: Precision::Int8,
            ..Default::default()
        },
    );
    match bad {
        Err(EmbedError::InvalidParam(why)) => assert!(why.contains("avx512vnni"), "{why}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("BERTOPIC_INT8_KERNEL=avx512 was accepted"),
    }
    // f32 does not read it.
    assert!(SentenceEncoder::load(&tiny, EncoderOptions::default()).is_ok());
    std::env::remove_var("BERTOPIC_INT8_KERNEL");

    if std::env::var("BERTOPIC_SKIP_MODEL_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("BERTOPIC_SKIP_MODEL_TESTS=1: skipping the real-model half");
        return;
    }
    let model = resolve_local(DEFAULT_MODEL, &ResolveOptions::default()).unwrap_or_else(|e| {
        panic!(
            "the real model is not available: {e}\nrun the fetch first (`cargo xtask fetch-model`), \
             or set BERTOPIC_SKIP_MODEL_TESTS=1"
        )
    });
    let texts: Vec<String> = [
        "Topic models find the themes of a corpus.",
        "Analisis sentimen ulasan produk menggunakan pembelajaran mendalam.",
        "The quick brown fox jumps over the lazy dog!",
        "a",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    all_kernels_agree(&model, &texts);
    std::env::remove_var("BERTOPIC_INT8_KERNEL");
}
