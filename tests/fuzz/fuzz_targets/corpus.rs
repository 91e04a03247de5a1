#![no_main]
//! Arbitrary bytes as a corpus in each format (CSV, JSON Lines, text): an error or documents,
//! never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bertopic::preprocess::fuzz_read(data);
});
