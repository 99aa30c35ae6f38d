//! Replays, on the stable toolchain and through the very code the fuzz targets run
//! (`fuzz/harness.rs`): the inputs the fuzz targets start from (`fuzz/seeds/`), the hostile
//! files of the test suite (`tests/support/hostile.rs`) and every input ever found to crash or
//! stall a target (`tests/fuzz_regressions/`). See `fuzz/README.md`.

#[path = "../fuzz/harness.rs"]
mod harness;
#[path = "support/hostile.rs"]
mod hostile;

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Longer than any input takes in a debug build (milliseconds); a stall fails the test
/// instead of hanging the suite.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `target` on `input` on a thread of its own, failing if it panics or outlives the
/// deadline.
fn run_one(name: &str, target: fn(&[u8]), input: Vec<u8>) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        target(&input);
        let _ = done.send(());
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => worker.join().expect("the target returned"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("{name}: the target panicked ({:?})", worker.join().err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: still running after {DEADLINE:?}"),
    }
}

/// Runs `target` on every file of `fuzz/seeds/TARGET` and `tests/fuzz_regressions/TARGET`
/// and on `extra`; returns how many inputs there were.
fn replay(target_name: &str, target: fn(&[u8]), extra: Vec<(String, Vec<u8>)>) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folders = [
        root.join("fuzz/seeds").join(target_name),
        root.join("tests/fuzz_regressions").join(target_name),
    ];
    let mut inputs = extra;
    for folder in folders.iter().filter(|f| f.is_dir()) {
        for entry in std::fs::read_dir(folder).expect("list the inputs") {
            let path = entry.expect("an input").path();
            let bytes = std::fs::read(&path).expect("read an input");
            inputs.push((path.display().to_string(), bytes));
        }
    }
    let count = inputs.len();
    for (name, bytes) in inputs {
        run_one(&name, target, bytes);
    }
    count
}

#[test]
fn rules_file_inputs_compile_or_fail_cleanly() {
    let mut hostile: Vec<_> = hostile::BROKEN_RULES
        .iter()
        .map(|(case, text, _)| (case.to_string(), text.as_bytes().to_vec()))
        .collect();
    hostile.push((
        "over the size cap".into(),
        hostile::rules_over_the_size_cap(),
    ));
    assert!(replay("rules_file", harness::rules_file, hostile) > 60);
}

#[test]
fn config_file_inputs_load_or_fail_cleanly() {
    let hostile = hostile::broken_configs()
        .into_iter()
        .map(|(case, text, _)| (case.to_string(), text.into_bytes()))
        .collect();
    assert!(replay("config_file", harness::config_file, hostile) > 25);
}

#[test]
fn api_response_inputs_decode_or_fail_cleanly() {
    assert!(replay("api_response", harness::api_response, vec![]) >= 4);
}

#[test]
fn the_comprehension_that_stalled_the_engine_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions/rules_file/comprehension-stall-93s.yaml");
    let bytes = std::fs::read(path).unwrap();
    let refused = botwatch::rules::RuleSet::from_bytes("stall.yaml", &bytes).unwrap_err();
    assert!(refused.to_string().contains("comprehensions"), "{refused}");
}
