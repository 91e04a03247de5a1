#![no_main]
//! Arbitrary bytes as an `.npy` file: an error or an array, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bertopic::embed::npy_from_bytes("fuzz.npy".as_ref(), data);
});
