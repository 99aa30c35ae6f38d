//! `botwatch check --config` as a user runs it: a valid config passes with its rules; each
//! broken config exits 1 with `FILE:LINE:COL`, a message and a hint.

mod support;

use support::hostile::broken_configs;
use support::{project_root, run_botwatch};

#[test]
fn every_broken_config_fails_with_exit_1_its_position_and_a_hint() {
    let cases = broken_configs();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), "rules: []\n").unwrap();
    let mut wrong = Vec::new();
    for (case, content, expected) in &cases {
        std::fs::write(dir.path().join("botwatch.yaml"), content).unwrap();
        let out = run_botwatch(dir.path(), &["check", "--config", "botwatch.yaml"], &[]);
        let hinted = out.stderr.contains("\n  hint: ");
        if out.code != 1 || !out.stderr.starts_with(expected) || !hinted {
            let got = &out.stderr;
            wrong.push(format!(
                "{case}: exit {:?}; expected\n{expected}\n---- got ----\n{got}",
                out.code
            ));
        }
    }
    let refused = cases.len() - wrong.len();
    support::assert_documented(&format!("{refused} of {} broken config files", cases.len()));
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_config_that_is_not_utf8_is_refused_with_the_position_of_the_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("botwatch.yaml"),
        b"analytics:\n  base_url: caf\xe9\n",
    )
    .unwrap();
    let out = run_botwatch(dir.path(), &["check", "--config", "botwatch.yaml"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(
            "botwatch.yaml:2:16: the file is not valid UTF-8\n  hint: save the file as UTF-8"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn check_with_a_config_validates_the_config_and_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = "rules:\n  - name: a\n    when: lineQuota > 1\n";
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    let config = "analytics:\n  base_url: http://127.0.0.1:9/\nbots:\n  - id: b1\n    token: ${BW_TEST_TOKEN}\n    secret: s\n";
    std::fs::write(dir.path().join("botwatch.yaml"), config).unwrap();
    let args = ["check", "--config", "botwatch.yaml"];
    let out = run_botwatch(dir.path(), &args, &[("BW_TEST_TOKEN", "t")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_botwatch(dir.path(), &args, &[]);
    assert_eq!(out.code, 1);
    let expected = "botwatch.yaml:5:12: environment variable `BW_TEST_TOKEN` is not set";
    assert!(out.stderr.starts_with(expected), "{}", out.stderr);
}

#[test]
fn the_example_config_is_valid_once_its_secrets_are_set() {
    let secrets = [
        ("BOTWATCH_SUPPORT_TOKEN", "t"),
        ("BOTWATCH_SUPPORT_SECRET", "s"),
    ];
    let out = run_botwatch(
        project_root(),
        &["check", "--config", "botwatch.example.yaml"],
        &secrets,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "botwatch.example.yaml: ok, 1 bot(s)\nrules.yaml: ok, 4 rule(s)\n"
    );
}
