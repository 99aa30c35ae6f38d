//! `botwatch check` as a user runs it: exit codes and the exact `FILE:LINE:COL` messages.

mod support;

use support::hostile::BROKEN_RULES;
use support::{project_root, run_botwatch, Outcome};

/// Runs `botwatch check rules.yaml` on `content`.
fn check(content: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), content).unwrap();
    run_botwatch(dir.path(), &["check", "rules.yaml"], &[])
}

#[test]
fn every_broken_file_fails_with_exit_1_and_its_position() {
    assert!(BROKEN_RULES.len() >= 30, "{} cases", BROKEN_RULES.len());
    for (case, content, expected) in BROKEN_RULES {
        let Outcome { code, stderr, .. } = check(content.as_bytes());
        assert_eq!(code, 1, "{case}: exit code; stderr:\n{stderr}");
        assert!(
            stderr.starts_with(expected),
            "{case}: expected\n{expected}\n---- got ----\n{stderr}"
        );
        assert!(stderr.contains("\n  hint: "), "{case}: a hint\n{stderr}");
    }
    support::assert_documented(&format!("{} broken rules files", BROKEN_RULES.len()));
}

#[test]
fn all_errors_of_a_file_are_reported_at_once_in_file_order() {
    let content = "rules:\n  - name: a\n    wen: x\n    when: lineQuota > 1\n    severity: huge\n  - name: b\n    when: lineQuotaa > 1\n";
    let Outcome { code, stderr, .. } = check(content.as_bytes());
    assert_eq!(code, 1);
    let positions: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("rules.yaml:"))
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        positions,
        ["rules.yaml:3:5", "rules.yaml:5:15", "rules.yaml:7:11"]
    );
    assert!(
        stderr.trim_end().ends_with("3 errors in rules.yaml"),
        "{stderr}"
    );
}

#[test]
fn a_file_over_one_megabyte_is_refused_before_it_is_parsed() {
    let huge = format!("rules:\n{}", "# padding\n".repeat(120_000));
    let Outcome { code, stderr, .. } = check(huge.as_bytes());
    assert_eq!(code, 1);
    assert!(
        stderr
            .starts_with("rules.yaml:1:1: the file is 1200007 bytes; at most 1048576 are accepted"),
        "{stderr}"
    );
    assert!(stderr.contains("\n  hint: split it"), "{stderr}");
}

#[test]
fn a_file_that_is_not_utf8_is_refused_with_the_position_of_the_bad_byte() {
    let Outcome { code, stderr, .. } = check(b"rules:\n  - name: caf\xe9\n");
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(
            "rules.yaml:2:14: the file is not valid UTF-8\n  hint: save the file as UTF-8"
        ),
        "{stderr}"
    );
}

#[test]
fn the_shipped_rules_are_valid() {
    let out = run_botwatch(project_root(), &["check", "rules.yaml"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "rules.yaml: ok, 4 rule(s)");
}

#[test]
fn a_missing_file_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_botwatch(dir.path(), &["check", "nowhere.yaml"], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot read the rules file nowhere.yaml"),
        "{}",
        out.stderr
    );
}
