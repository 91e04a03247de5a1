//! A tiny randomly initialised BERT in sentence-transformers layout, for tests without real weights.
#![allow(dead_code)]

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};

pub const WORDS: &[&str] = &[
    "the", "cat", "sat", "on", "mat", "dog", "ran", "far", "away", "topic", "model", "words",
];

/// Writes config.json, tokenizer.json (with the MiniLM gotcha: truncation 8 and fixed padding 8),
/// model.safetensors, modules.json, 1_Pooling and sentence_bert_config.json (max_seq_length).
pub fn make_tiny(dir: &Path, hidden: usize, max_seq_length: Option<usize>) {
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in 'a'..='z' {
        vocab.push(c.to_string());
        vocab.push(format!("##{c}"));
    }
    vocab.extend(WORDS.iter().map(|w| w.to_string()));
    vocab.push(".".into());
    let vocab_json: serde_json::Map<String, serde_json::Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), serde_json::json!(i)))
        .collect();
    let tok = serde_json::json!({
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab_json}
    });
    std::fs::write(dir.join("tokenizer.json"), tok.to_string()).unwrap();
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": vocab.len(), "hidden_size": hidden, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": hidden * 2, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let cfg: Config = serde_json::from_value(config).unwrap();
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    BertModel::load(vb, &cfg).unwrap();
    vm.save(dir.join("model.safetensors")).unwrap();
    std::fs::write(
        dir.join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
            {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"word_embedding_dimension": 0, "pooling_mode_cls_token": false,
            "pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": false}"#,
    )
    .unwrap();
    if let Some(n) = max_seq_length {
        std::fs::write(
            dir.join("sentence_bert_config.json"),
            format!(r#"{{"max_seq_length": {n}, "do_lower_case": false}}"#),
        )
        .unwrap();
    }
}

/// A tiny random XLM-RoBERTa (`model_type` xlm-roberta, positions offset by the padding index,
/// one token type) in the same folder layout; the tokenizer is the tiny WordPiece one, which is
/// enough to exercise the model path.
pub fn make_tiny_xlmr(dir: &Path, hidden: usize, max_seq_length: Option<usize>) {
    make_tiny(dir, hidden, max_seq_length);
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    config["model_type"] = "xlm-roberta".into();
    config["architectures"] = serde_json::json!(["XLMRobertaModel"]);
    config["type_vocab_size"] = 1.into();
    config["max_position_embeddings"] = 66.into();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let cfg: candle_transformers::models::xlm_roberta::Config =
        serde_json::from_value(config).unwrap();
    let vm = VarMap::new();
    let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
    candle_transformers::models::xlm_roberta::XLMRobertaModel::new(&cfg, vb).unwrap();
    vm.save(dir.join("model.safetensors")).unwrap();
}

/// Deterministic texts of varied length (1..=40 words), some with out-of-vocabulary letters.
pub fn texts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let len = 1 + (i * 7919) % 40;
            (0..len)
                .map(|j| WORDS[(i * 31 + j * 17) % WORDS.len()])
                .collect::<Vec<_>>()
                .join(if i % 3 == 0 { " " } else { "  " })
                + if i % 5 == 0 { " Xyz." } else { "" }
        })
        .collect()
}

pub fn max_abs_diff(a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
