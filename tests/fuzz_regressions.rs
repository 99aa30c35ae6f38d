//! Replays, on the stable toolchain, every input the fuzz targets start from (`fuzz/seeds/`)
//! and every input ever found to crash or stall one (`tests/fuzz_regressions/`), through the
//! very code the fuzz targets run (`fuzz/harness.rs`). See `fuzz/README.md`.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// Runs `target` on every file of `fuzz/seeds/NAME` and `tests/fuzz_regressions/NAME`;
/// returns how many there were.
fn replay(name: &str, target: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = [
        root.join("fuzz/seeds").join(name),
        root.join("tests/fuzz_regressions").join(name),
    ];
    let mut replayed = 0;
    for folder in folders.iter().filter(|f| f.is_dir()) {
        for entry in std::fs::read_dir(folder).expect("list the inputs") {
            let path = entry.expect("an input").path();
            let bytes = std::fs::read(&path).expect("read an input");
            eprintln!("{}", path.display());
            target(&bytes);
            replayed += 1;
        }
    }
    replayed
}

#[test]
fn rules_file_inputs_compile_or_fail_cleanly() {
    assert!(replay("rules_file", harness::rules_file) > 30);
}

#[test]
fn config_file_inputs_load_or_fail_cleanly() {
    assert!(replay("config_file", harness::config_file) >= 2);
}

#[test]
fn api_response_inputs_decode_or_fail_cleanly() {
    assert!(replay("api_response", harness::api_response) >= 4);
}

#[test]
fn the_comprehension_that_stalled_the_engine_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions/rules_file/comprehension-stall-93s.yaml");
    let bytes = std::fs::read(path).unwrap();
    let refused = botwatch::rules::RuleSet::from_bytes("stall.yaml", &bytes).unwrap_err();
    assert!(refused.to_string().contains("comprehensions"), "{refused}");
}
