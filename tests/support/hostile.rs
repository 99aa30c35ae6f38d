//! Hostile input files, shared by the tests of `check` and of hot reload: each broken file
//! with the start of the diagnostic it must produce.

/// Broken rules files, each with the first line `check` must print for it (`rules.yaml` is
/// the file's name).
pub const BROKEN_RULES: &[(&str, &str, &str)] = &[
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
        "rules.yaml:2:1: invalid rules file: tabs disallowed within this context (block indentation)\n  hint: YAML indents with spaces, never tabs",
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
        "rules.yaml:1:8: invalid rules file: expected sequence start\n  hint: a rules file is `rules:` followed by a list of rules",
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
    (
        "a comprehension, which can multiply work without bound",
        "rules:\n  - name: c\n    when: '[1, 2].all(x, x > lineQuota)'\n",
        "rules.yaml:3:12: rule c: comprehensions (all, exists, exists_one, map, filter) are not supported",
    ),
    (
        "an empty file",
        "",
        "rules.yaml:1:1: the file holds no rules, not even `rules: []`\n  hint: an empty file is most often the wrong path or a file not yet saved; to watch nothing on purpose, write `rules: []`",
    ),
    (
        "a file of comments only",
        "# rules for the support bots\n# (to come)\n",
        "rules.yaml:1:1: the file holds no rules, not even `rules: []`\n  hint: an empty file",
    ),
    (
        "a key given twice in a rule",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n    severity: info\n    when: lineQuota > 2\n",
        "rules.yaml:5:5: rule quota: key `when` is given twice; the first is at line 3, column 5\n  hint: a key may be given once in a mapping: keep one and delete the other",
    ),
    (
        "an alias to an anchor never defined",
        "rules:\n  - name: quota\n    when: *high\n",
        "rules.yaml:3:11: rule quota: alias `*high` refers to no anchor `&high` above it\n  hint: `*name` repeats the value marked `&name` above it in the same file",
    ),
    (
        "a tab inside a rule, a line below where the parser notices",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n\tseverity: info\n",
        "rules.yaml:4:1: rule quota: invalid rules file: while scanning a plain scalar, found a tab\n  hint: YAML indents with spaces, never tabs",
    ),
    (
        "a key indented less than the keys of its rule",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n   severity: info\n",
        "rules.yaml:4:4: rule quota: invalid rules file: while parsing a block collection, did not find expected '-' indicator\n  hint: keys of one mapping start in the same column",
    ),
    (
        "a key indented more than the keys of its rule",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n      severity: info\n",
        "rules.yaml:4:15: rule quota: invalid rules file: mapping values are not allowed in this context\n  hint: `: ` inside a value starts a new key: quote the value, or indent this line like the keys next to it",
    ),
    (
        "a colon in an unquoted value",
        "rules:\n  - name: quota\n    when: lineProgram == a: b\n",
        "rules.yaml:3:27: rule quota: invalid rules file: mapping values are not allowed in this context\n  hint: `: ` inside a value starts a new key",
    ),
    (
        "a key without its colon",
        "rules:\n  - name: quota\n    when\n",
        "rules.yaml:3:5: rule quota: invalid rules file: simple key expected ':'\n  hint: write each key as `key: value`, with a space after the colon",
    ),
    (
        "a quote never closed",
        "rules:\n  - name: quota\n    when: \"lineQuota > 1\n    severity: info\n",
        "rules.yaml:3:11: rule quota: invalid rules file: unclosed quote\n  hint: end the value with the quote it starts with",
    ),
    (
        "a bracket never closed",
        "rules:\n  - name: quota\n    labels: {team: ops\n    when: lineQuota > 1\n",
        "rules.yaml:4:9: rule quota: invalid rules file: while parsing a flow mapping, did not find expected ',' or '}'\n  hint: close every `[` with `]` and every `{` with `}`, with a comma between items",
    ),
    (
        "a backslash that starts no escape",
        "rules:\n  - name: quota\n    summary: \"C:\\quota\"\n",
        "rules.yaml:3:14: rule quota: invalid rules file: while parsing a quoted scalar, found unknown escape character\n  hint: inside \"…\" a backslash starts an escape",
    ),
    (
        "two documents in one file",
        "rules: []\n---\nrules: []\n",
        "rules.yaml:3:1: the file holds more than one YAML document\n  hint: remove the `---` line: one file is one document",
    ),
    (
        "a number too large to be finite",
        "rules:\n  - name: quota\n    when: lineQuota > 1\n    labels: {limit: 1e999}\n",
        "rules.yaml:4:21: rule quota: `1e999` is not a finite number\n  hint: quote it to keep it as text",
    ),
    (
        "a merge key given no mapping",
        "rules:\n  - name: quota\n    <<: 5\n",
        "rules.yaml:3:9: rule quota: invalid rules file: YAML merge value must be mapping or sequence of mappings\n  hint: `<<:` merges a mapping into this one",
    ),
    (
        "lists nested 70 deep",
        "rules:\n  - name: deep\n    when: lineQuota > 1\n    labels: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
        "rules.yaml:4:74: rule deep: values nest deeper than botwatch reads\n  hint: nest lists and mappings a few levels deep at most",
    ),
    (
        "an alias bomb inside a rule",
        "rules:\n  - name: bomb\n    when: lineQuota > 1\n    labels:\n      a: &a [x,x,x,x,x,x,x,x,x]\n      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "rules.yaml:11:14: rule bomb: the file expands through anchors and aliases past what botwatch reads\n  hint: write the rules out instead of repeating values through aliases, or use `defaults:`",
    ),
];

/// A rules file one line over the size cap (16 MiB), valid but for its size.
pub fn rules_over_the_size_cap() -> Vec<u8> {
    let cap = 16 * 1024 * 1024;
    let padding = "# padding\n".repeat(cap / 10 + 1);
    format!("rules: []\n{padding}").into_bytes()
}

/// The start of a valid config (`analytics:` then `bots:`), for cases that break what follows.
const HEAD: &str =
    "analytics:\n  base_url: http://127.0.0.1:9/\nbots:\n  - {id: b1, token: t, secret: s}\n";

/// Broken config files, each with the first line `check --config` must print for it
/// (`botwatch.yaml` is the file's name; `rules.yaml` beside it is valid).
pub fn broken_configs() -> Vec<(&'static str, String, &'static str)> {
    let analytics = |line: &str| {
        format!("analytics:\n  base_url: http://127.0.0.1:9/\n  {line}\nbots:\n  - {{id: b1, token: t, secret: s}}\n")
    };
    let discord = |section: &str| format!("{HEAD}discord:\n{section}");
    vec![
        ("tab indentation", "analytics:\n\tbase_url: http://127.0.0.1:9/\n".into(),
         "botwatch.yaml:2:1: invalid config: tabs disallowed"),
        ("misspelt section", HEAD.replace("analytics:", "analytcs:"),
         "botwatch.yaml:1:1: invalid config: unknown field `analytcs`"),
        ("no bots", "analytics:\n  base_url: http://127.0.0.1:9/\n".into(),
         "botwatch.yaml:1:1: invalid config: missing field `bots`"),
        ("an empty bot list", "analytics:\n  base_url: http://127.0.0.1:9/\nbots: []\n".into(),
         "botwatch.yaml:3:7: no bots configured"),
        ("base_url not a URL", HEAD.replace("http://127.0.0.1:9/", "not a url"),
         "botwatch.yaml:2:13: invalid config: relative URL without a base"),
        ("base_url not http", HEAD.replace("http://127.0.0.1:9/", "ftp://127.0.0.1/"),
         "botwatch.yaml:2:13: analytics.base_url must be http or https, not `ftp`"),
        ("poll_interval of zero", analytics("poll_interval: 0s"),
         "botwatch.yaml:3:18: analytics.poll_interval must be between 1s and 1day, not 0s"),
        ("negative poll_interval", analytics("poll_interval: -5s"),
         "botwatch.yaml:3:3: invalid config: invalid value: string \"-5s\", expected a duration"),
        ("timeout over an hour", analytics("timeout: 2h"),
         "botwatch.yaml:3:12: analytics.timeout must be between 1ms and 1h, not 2h"),
        ("huge number", analytics("requests_per_second: 99999999999999999999"),
         "botwatch.yaml:3:24: invalid config: invalid u32"),
        ("zero requests per second", analytics("requests_per_second: 0"),
         "botwatch.yaml:3:3: invalid config: invalid value: integer `0`, expected a nonzero u32"),
        ("body cap of zero", analytics("max_body_bytes: 0"),
         "botwatch.yaml:3:19: analytics.max_body_bytes must be between 1024 and 67108864, not 0"),
        ("a bot listed twice", format!("{HEAD}  - {{id: b1, token: t, secret: s}}\n"),
         "botwatch.yaml:5:10: bot `b1` is listed twice"),
        ("a bot without its secret", HEAD.replace(", secret: s", ""),
         "botwatch.yaml:4:14: invalid config: missing field `secret`"),
        ("an unset variable", HEAD.replace("token: t", "token: \"${BW_UNSET}\""),
         "botwatch.yaml:4:21: environment variable `BW_UNSET` is not set"),
        ("a variable unquoted in braces", HEAD.replace("token: t", "token: ${BW_UNSET}"),
         "botwatch.yaml:4:22: invalid config: while parsing a flow mapping"),
        ("bad history duration", format!("{HEAD}history: -1d\n"),
         "botwatch.yaml:5:1: invalid config: invalid value: string \"-1d\", expected a duration"),
        ("listen address without a port", format!("{HEAD}server: {{listen: localhost}}\n"),
         "botwatch.yaml:5:18: invalid config: invalid socket address syntax"),
        ("route to a missing destination", discord("  token: t\n  destinations: {ops: {channel: '111'}}\n  route: {default: opz}\n"),
         "botwatch.yaml:6:3: route to `opz`, which is not in `discord.destinations`"),
        ("channel that is not an id", discord("  token: t\n  destinations: {ops: {channel: 'abc'}}\n  route: {default: ops}\n"),
         "botwatch.yaml:6:3: destination `ops`: `abc` is not a channel id"),
        ("webhook URL without its token", discord("  destinations: {ops: {webhook: 'http://127.0.0.1:9/api/webhooks/1'}}\n  route: {default: ops}\n"),
         "botwatch.yaml:6:3: destination `ops`:"),
        ("channel without a bot token", discord("  destinations: {ops: {channel: '111'}}\n  route: {default: ops}\n"),
         "botwatch.yaml:6:3: destination `ops` is a channel, which needs `discord.token`"),
        ("action role that is not an id", discord("  destinations: {ops: {webhook: 'http://127.0.0.1:9/api/webhooks/1/tokentoken'}}\n  route: {default: ops}\n  actions: {roles: ['ops-team']}\n"),
         "botwatch.yaml:6:3: discord.actions.roles: `ops-team` is not a role id"),
        ("gateway switch not true or false", discord("  gateway: maybe\n  destinations: {ops: {webhook: 'http://127.0.0.1:9/api/webhooks/1/t'}}\n  route: {default: ops}\n"),
         "botwatch.yaml:6:12: invalid config: invalid boolean"),
        ("a list instead of a mapping", "- analytics\n- bots\n".into(),
         "botwatch.yaml:1:1: invalid config: expected mapping start"),
        ("an empty file", String::new(),
         "botwatch.yaml:1:1: invalid config: unexpected end of input"),
        ("aliases nested nine deep", alias_nest(),
         "botwatch.yaml:3:"),
    ]
}

/// Bot names built from aliases of aliases (9⁹ strings if expanded).
fn alias_nest() -> String {
    let mut text = String::from("analytics: {base_url: \"http://127.0.0.1:9/\"}\nbots:\n");
    text.push_str("  - {id: b0, token: t, secret: s, name: &n0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]}\n");
    for i in 1..9 {
        let refs = vec![format!("*n{}", i - 1); 9].join(", ");
        text.push_str(&format!(
            "  - {{id: b{i}, token: t, secret: s, name: &n{i} [{refs}]}}\n"
        ));
    }
    text
}
