#![no_main]
//! Arbitrary bytes as a saved model: the input is split into model.json and model.safetensors
//! at its first NUL byte (the JSON never holds one). An error or a model, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (json, tensors) = data.split_at(cut);
    let tensors = tensors.get(1..).unwrap_or_default();
    let _ = bertopic::TopicModel::from_bytes("fuzz".as_ref(), json, tensors);
});
