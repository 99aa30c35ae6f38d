//! Any bytes as an analytics API answer; see `harness::api_response`.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| harness::api_response(bytes));
