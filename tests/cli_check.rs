//! `botwatch check` as a user runs it: exit codes and the exact `FILE:LINE:COL` messages.

mod support;

use support::{project_root, run_botwatch, Outcome};

/// Runs `botwatch check rules.yaml` on `content`.
fn check(content: &[u8]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), content).unwrap();
    run_botwatch(dir.path(), &["check", "rules.yaml"], &[])
}

/// The broken files, each with the first line `check` must print for it.
const BROKEN: &[(&str, &str, &str)] = &[
    (
        "misspelt key",
        "rules:\n  - name: quota\n    wen: lineQuota > 1\n    when: lineQuota > 2\n",
        "rules.yaml:3:5: rule quota: unknown key `wen`\n  hint: did you mean `when`?",
    ),
    (
        "unknown severity",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n    severity: warn\n",
        "rules.yaml:4:15: rule quota: unknown severity `warn`\n  hint: did you mean `warning`?",
    ),
    (
        "bad duration",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n    for: 5x\n",
        "rules.yaml:4:10: rule quota: `for`: `5x` is not a duration",
    ),
    (
        "negative duration",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n    keep_firing_for: -5m\n",
        "rules.yaml:4:22: rule quota: `keep_firing_for`: `-5m` is not a duration",
    ),
    (
        "typo behind a dot",
        "rules:\n  - name: t\n    when: previous.lineQuotaConsumptoin > 1\n",
        "rules.yaml:3:19: rule t: `previous` has no field `lineQuotaConsumptoin`\n  hint: did you mean `previous.lineQuotaConsumption`?",
    ),
    (
        "expression syntax",
        "rules:\n  - name: s\n    when: \"lineQuota > > 1\"\n",
        "rules.yaml:3:24: rule s: invalid expression: extraneous input '>'",
    ),
    (
        "template variable",
        "rules:\n  - name: s\n    when: lineQuota > 1\n    summary: \"quota on {{ bot.nme }}\"\n",
        "rules.yaml:4:27: rule s: `bot` has no field `nme`\n  hint: did you mean `bot.name`?",
    ),
    (
        "duplicate name",
        "rules:\n  - name: a\n    when: lineQuota > 1\n  - name: a\n    when: lineQuota > 2\n",
        "rules.yaml:4:11: rule a: duplicate rule name `a`\n  hint: the name is already used at line 2",
    ),
    (
        "tab indentation",
        "rules:\n\t- name: a\n",
        "rules.yaml:2:2: invalid rules file: tabs disallowed",
    ),
    (
        "unknown top-level key",
        "rulez:\n  - name: a\n",
        "rules.yaml:1:1: unknown top-level key `rulez`\n  hint: did you mean `rules`?",
    ),
    (
        "platform without each",
        "rules:\n  - name: p\n    when: '!platform.integrated'\n",
        "rules.yaml:3:13: rule p: unknown variable `platform`\n  hint: `platform` exists only in rules with `each: platform`",
    ),
    (
        "missing when",
        "rules:\n  - name: w\n    severity: info\n",
        "rules.yaml:2:5: rule w: a rule without `when`",
    ),
    (
        "error inside a block expression",
        "rules:\n  - name: b\n    when: |\n      lineQuota > 1 &&\n        fbIsIntegratoin\n",
        "rules.yaml:5:9: rule b: unknown variable `fbIsIntegratoin`\n  hint: did you mean `fbIsIntegration`?",
    ),
    (
        "brackets nested too deep",
        "rules:\n  - name: deep\n    when: ((((((((((((((((((((((((((1))))))))))))))))))))))))))\n",
        "rules.yaml:3:11: rule deep: the expression nests brackets 26 deep; at most 24 are accepted",
    ),
    (
        "condition of the wrong kind",
        "rules:\n  - name: w\n    when: [1]\n",
        "rules.yaml:3:11: rule w: `when` must be a string, not a list",
    ),
    (
        "type error found on the sample",
        "rules:\n  - name: t\n    when: \"'a' + 1 > 0\"\n",
        "rules.yaml:3:12: rule t: on a sample where every field is present, `'a' + 1 > 0` failed",
    ),
    (
        "a number where a condition belongs",
        "rules:\n  - name: num\n    when: lineQuota\n",
        "rules.yaml:3:11: rule num: on a sample where every field is present, `lineQuota` gave Float(1000.0), not true or false",
    ),
    (
        "huge duration",
        "rules:\n  - name: h\n    when: lineQuota > 1\n    repeat_every: 100000d\n",
        "rules.yaml:4:19: rule h: `repeat_every`: `100000d` is longer than a year",
    ),
    (
        "duration without a unit",
        "rules:\n  - name: u\n    when: lineQuota > 1\n    for: 300\n",
        "rules.yaml:4:10: rule u: `for` must be a duration, not a number\n  hint: write a number with a unit",
    ),
    (
        "unknown each",
        "rules:\n  - name: e\n    when: lineQuota > 1\n    each: platforms\n",
        "rules.yaml:4:11: rule e: unknown `each: platforms`",
    ),
    (
        "labels as a list",
        "rules:\n  - name: l\n    when: lineQuota > 1\n    labels: [team]\n",
        "rules.yaml:4:13: rule l: `labels` must be a mapping, not a list",
    ),
    (
        "bots as a mapping",
        "rules:\n  - name: b\n    when: lineQuota > 1\n    bots: {a: 1}\n",
        "rules.yaml:4:11: rule b: `bots` must be a list of bot ids, not a mapping",
    ),
    (
        "template syntax",
        "rules:\n  - name: s\n    when: lineQuota > 1\n    summary: \"quota {{ bot.name \"\n",
        "rules.yaml:4:",
    ),
    (
        "template that loops too long",
        "rules:\n  - name: loop\n    when: lineQuota > 1\n    description: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n",
        "rules.yaml:4:",
    ),
    (
        "summary too long for a chat message",
        "rules:\n  - name: long\n    when: lineQuota > 1\n    summary: \"{{ bot.name }} {{ bot.name }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n",
        "rules.yaml:4:15: rule long: renders to 266 characters with sample data; at most 256 fit",
    ),
    (
        "rule without a name",
        "rules:\n  - when: lineQuota > 1\n",
        "rules.yaml:2:5: a rule without `name`",
    ),
    (
        "a name with spaces",
        "rules:\n  - name: my rule\n    when: lineQuota > 1\n",
        "rules.yaml:2:11: rule my rule: a rule name may only have letters, digits, `_`, `-` and `.`",
    ),
    (
        "a channel that is not a name",
        "rules:\n  - name: c\n    when: lineQuota > 1\n    channel: \"#ops\"\n",
        "rules.yaml:4:14: rule c: `#ops` is not a destination name",
    ),
    (
        "rules that are not a list",
        "rules: 5\n",
        "rules.yaml:1:8: invalid rules file: expected sequence start",
    ),
    (
        "unknown key in defaults",
        "defaults:\n  severty: info\nrules: []\n",
        "rules.yaml:2:3: unknown key `severty`\n  hint: did you mean `severity`?",
    ),
    (
        "a label each: platform sets itself",
        "rules:\n  - name: p\n    each: platform\n    when: platform.integrated\n    labels: {platform: x}\n",
        "rules.yaml:2:5: rule p: label `platform` is set by `each: platform`",
    ),
    (
        "a YAML alias bomb",
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nrules: []\n",
        "rules.yaml:",
    ),
];

#[test]
fn every_broken_file_fails_with_exit_1_and_its_position() {
    assert!(BROKEN.len() >= 30, "{} cases", BROKEN.len());
    for (case, content, expected) in BROKEN {
        let Outcome { code, stderr, .. } = check(content.as_bytes());
        assert_eq!(code, 1, "{case}: exit code; stderr:\n{stderr}");
        assert!(
            stderr.starts_with(expected),
            "{case}: expected\n{expected}\n---- got ----\n{stderr}"
        );
    }
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
}

#[test]
fn a_file_that_is_not_utf8_is_refused_with_the_position_of_the_bad_byte() {
    let Outcome { code, stderr, .. } = check(b"rules:\n  - name: caf\xe9\n");
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("rules.yaml:2:14: the file is not valid UTF-8"),
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
