//! `botwatch check` as a user runs it: exit codes and the exact `FILE:LINE:COL` messages.

mod support;

use support::hostile::{self, BROKEN_RULES};
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
    let mut wrong = Vec::new();
    for (case, content, expected) in BROKEN_RULES {
        let Outcome { code, stderr, .. } = check(content.as_bytes());
        if code != 1 || !stderr.starts_with(expected) || !stderr.contains("\n  hint: ") {
            wrong.push(format!(
                "{case}: exit {code:?}; expected\n{expected}\n---- got ----\n{stderr}"
            ));
        }
    }
    let refused = BROKEN_RULES.len() - wrong.len();
    support::assert_documented(&format!(
        "{refused} of {} broken rules files",
        BROKEN_RULES.len()
    ));
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
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
fn a_file_over_16_mib_is_refused_before_it_is_parsed() {
    let Outcome { code, stderr, .. } = check(&hostile::rules_over_the_size_cap());
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "rules.yaml:1:1: the file is 16777230 bytes; at most 16777216 are accepted\n  hint: split it, or remove generated rules\n1 error in rules.yaml\n"
    );
}

/// A generated file of `count` rules, one per bot, with a long description each; every
/// `broken_every`-th rule misspells a field. Returns the file and the diagnostics `check` must
/// print, in file order.
fn generated_rules(count: usize, broken_every: usize) -> (String, Vec<String>) {
    let description = "Generated for the support bots. ".repeat(30);
    let mut text = String::from("rules:\n");
    let mut expected = Vec::new();
    for i in 0..count {
        let line = text.lines().count() + 1;
        let broken = i % broken_every == broken_every - 1;
        let field = if broken {
            "lineQuotaConsumptoin"
        } else {
            "lineQuotaConsumption"
        };
        text.push_str(&format!(
            "  - name: quota-bot{i:04}\n    bots: [bot{i:04}]\n    when: {field} > 0.8 * lineQuota\n    description: >-\n      {description}\n"
        ));
        if broken {
            expected.push(format!(
                "rules.yaml:{}:11: rule quota-bot{i:04}: unknown variable `lineQuotaConsumptoin`\n  hint: did you mean `lineQuotaConsumption`?",
                line + 2
            ));
        }
    }
    (text, expected)
}

#[test]
fn a_generated_file_over_the_old_one_mib_cap_reports_every_error_with_its_position() {
    let (text, expected) = generated_rules(1500, 100);
    assert!(text.len() > 1536 * 1024, "{} bytes", text.len());
    let Outcome { code, stderr, .. } = check(text.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!("{}\n15 errors in rules.yaml\n", expected.join("\n"))
    );
}

#[test]
fn past_a_hundred_errors_the_rest_are_counted_not_shown() {
    let (text, expected) = generated_rules(150, 1);
    let Outcome { code, stderr, .. } = check(text.as_bytes());
    assert_eq!(code, 1);
    let shown = expected[..100].join("\n");
    assert_eq!(
        stderr,
        format!("{shown}\nand 50 more\n150 errors in rules.yaml\n")
    );
}

#[test]
fn an_empty_or_comment_only_file_is_an_error_but_an_explicit_empty_list_is_not() {
    for content in ["", "\n\n", "# rules for the support bots\n", "---\n"] {
        let Outcome { code, stderr, .. } = check(content.as_bytes());
        assert_eq!(code, 1, "{content:?}");
        assert!(
            stderr.starts_with("rules.yaml:1:1: the file holds no rules, not even `rules: []`\n  hint: an empty file is most often the wrong path or a file not yet saved; to watch nothing on purpose, write `rules: []`\n"),
            "{content:?}: {stderr}"
        );
    }
    for content in ["rules: []\n", "# nothing yet\nrules: []\n", "rules:\n"] {
        let out = check(content.as_bytes());
        assert_eq!(out.code, 0, "{content:?}: {}", out.stderr);
        assert_eq!(out.stdout, "rules.yaml: ok, 0 rule(s)\n");
    }
}

#[test]
fn every_key_given_twice_is_reported_in_its_rule_with_the_first_one_and_the_other_errors_too() {
    let content = "rules:\n  - when: lineQuota > 1\n    severity: info\n    when: lineQuota > 2\n    name: quota\n  - name: plan\n    when: lineQuotaa > 1\n    labels: {team: ops, team: support}\n";
    let Outcome { code, stderr, .. } = check(content.as_bytes());
    assert_eq!(code, 1);
    let hint = "  hint: a key may be given once in a mapping: keep one and delete the other";
    assert_eq!(
        stderr,
        format!(
            "rules.yaml:4:5: rule quota: key `when` is given twice; the first is at line 2, column 5\n{hint}\n\
             rules.yaml:7:11: rule plan: unknown variable `lineQuotaa`\n  hint: did you mean `lineQuota`?\n\
             rules.yaml:8:25: rule plan: key `team` is given twice; the first is at line 8, column 14\n{hint}\n\
             3 errors in rules.yaml\n"
        )
    );
}

#[test]
fn an_alias_to_an_anchor_never_defined_names_the_rule_it_is_in() {
    let content = "rules:\n  - name: first\n    when: &high lineQuota > 1\n  - description: also high\n    when: *hihg\n    name: second\n";
    let Outcome { code, stderr, .. } = check(content.as_bytes());
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "rules.yaml:5:11: rule second: alias `*hihg` refers to no anchor `&hihg` above it\n  hint: `*name` repeats the value marked `&name` above it in the same file: mark that value, fix the name, or write the value out\n1 error in rules.yaml\n"
    );
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
