//! Any bytes as a config file; see `harness::config_file`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| harness::config_file(bytes));
