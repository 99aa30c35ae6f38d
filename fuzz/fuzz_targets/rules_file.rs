//! Any bytes as a rules file; see `harness::rules_file`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| harness::rules_file(bytes));
