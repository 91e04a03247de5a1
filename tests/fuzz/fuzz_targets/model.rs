#![no_main]
//! Arbitrary bytes as a saved model: the input is split into model.json and model.safetensors
//! at its first NUL byte (JSON text never holds one). When the JSON parses, its recorded
//! checksum is set to the tensors' real one, so the fuzzer gets past the checksum into the
//! format, shape and consistency checks. An error or a model, never a panic.

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (json, tensors) = data.split_at(cut);
    let tensors = tensors.get(1..).unwrap_or_default();
    let _ = bertopic::TopicModel::from_bytes("fuzz".as_ref(), json, tensors);
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(json) {
        if let Some(obj) = v.as_object_mut() {
            let sum: String = Sha256::digest(tensors)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            obj.insert("tensors_sha256".into(), sum.into());
            if let Ok(fixed) = serde_json::to_vec(&v) {
                let _ = bertopic::TopicModel::from_bytes("fuzz".as_ref(), &fixed, tensors);
            }
        }
    }
});
