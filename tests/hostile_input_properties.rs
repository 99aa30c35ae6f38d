//! Arbitrary input never crashes the parsers (proptest): the rules loader, the config loader
//! and the analytics response decoder get random text, random YAML-shaped text and random
//! bytes, and must answer with a value or an error, never a panic. A response that decodes
//! must also be a snapshot the API could mean (the fuzz harness's oracle, `fuzz/harness.rs`).

#[allow(dead_code)] // only the response oracle is used here
#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

use botwatch::analytics::decode;
use botwatch::config::Config;
use botwatch::rules::RuleSet;
use proptest::prelude::*;

/// Text that looks like a rules file: keys, operators, brackets and YAML punctuation.
fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "rules:\n",
        "  - ",
        "name: ",
        "when: ",
        "recover_when: ",
        "for: ",
        "severity: ",
        "each: platform\n",
        "summary: ",
        "labels: {",
        "}",
        "[",
        "]",
        "\"",
        "'",
        "{{ ",
        " }}",
        "{% for i in range(9) %}",
        "{% endfor %}",
        "lineQuota",
        "previous.",
        "platform.integrated",
        " > ",
        " && ",
        "!",
        "(",
        ")",
        "0.8 * ",
        "5m",
        "\n",
        "    ",
        "\t",
        "&a ",
        "*a",
        "<<: ",
        "---\n",
        ": ",
        "#",
        "é",
        "\u{0}",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_rules_loader_never_panics(text in prop_oneof![yamlish(), ".{0,400}"]) {
        let _ = RuleSet::parse("fuzz.yaml", &text);
    }

    #[test]
    fn the_config_loader_never_panics(text in prop_oneof![yamlish(), ".{0,400}"]) {
        let _ = Config::parse("fuzz.yaml", &text, Path::new("."), &|_| Some("x".into()));
    }

    #[test]
    fn the_response_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        harness::api_response(&bytes);
    }

    #[test]
    fn json_shaped_responses_decode_or_fail_cleanly(
        fields in prop::collection::vec(
            (prop::sample::select(vec!["lineQuota", "lineQuotaConsumption", "lineProgram", "fbIsIntegration", "success", "message", "other"]),
             prop_oneof![Just("1".to_owned()), Just("-9223372036854775809".to_owned()), Just("1e400".to_owned()), Just("null".to_owned()),
                         Just("true".to_owned()), Just("false".to_owned()), Just("\"x\"".to_owned()), Just("[]".to_owned()), Just("{}".to_owned())]),
            0..8)
    ) {
        let body = format!("{{{}}}", fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","));
        // Never `success: false` as a snapshot, never an answer without figures as one unless it
        // said `success: true`, never a plan name over the cap.
        harness::api_response(body.as_bytes());
        if fields.iter().any(|(k, v)| *k == "success" && v == "false") {
            prop_assert!(decode(body.as_bytes()).is_err(), "success: false decoded: {}", body);
        }
    }
}
