//! The first step of loading a rules file: its text read as YAML into a [`RawFile`], with
//! every mistake the YAML parser finds reported in the rule it is in, with a hint that fits.
//!
//! A YAML error stops serde-saphyr, so most are reported alone. A key given twice is the
//! exception, because generated files repeat their mistakes: every repeated key of the file is
//! found by walking it (`locate.rs`), and the file is read again keeping the first of each,
//! so that the rest of it is checked in the same run.

use serde_saphyr::DuplicateKeyPolicy;

use super::diagnostic::{Position, Report};
use super::locate::{duplicate_keys, site_of};
use super::source::RawFile;
use super::yaml_error::{Limit, YamlError, YamlErrorKind};

/// Largest rules file accepted: room for rules generated for thousands of bots, while reading
/// stays within a few hundred MiB of memory; realistic files of this size check in seconds,
/// the costliest one found (a looping template in every rule) in 158 s (RELIABILITY.md).
pub const MAX_RULES_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Most YAML values (keys, scalars, lists, mappings) a rules file may hold, aliases expanded.
/// A file of one-line rules under the size cap holds about 1.6 million; serde-saphyr's
/// default of 250,000 would refuse one of 3 MiB.
const MAX_YAML_NODES: usize = 2_000_000;

/// Whether a file of `size` bytes is over the cap; if so, the error is in `report`.
pub(crate) fn refuse_oversize(size: u64, report: &mut Report) -> bool {
    let over = size > MAX_RULES_FILE_BYTES as u64;
    if over {
        report.error(
            Position::new(1, 1),
            format!("the file is {size} bytes; at most {MAX_RULES_FILE_BYTES} are accepted"),
            Some("split it, or remove generated rules".into()),
        );
    }
    over
}

/// The YAML of `text`, or `None` when it cannot be read; every reason is in `report`.
pub(crate) fn read_yaml(text: &str, report: &mut Report) -> Option<RawFile> {
    if refuse_oversize(text.len() as u64, report) {
        return None;
    }
    let raw = match parse(text, DuplicateKeyPolicy::Error) {
        Ok(raw) => raw,
        Err(yaml) if matches!(yaml.kind, YamlErrorKind::DuplicateKey(_)) => {
            report_duplicate_keys(text, &yaml, report);
            parse(text, DuplicateKeyPolicy::FirstWins)
                .map_err(|yaml| report_yaml_error(text, &yaml, report))
                .ok()?
        }
        Err(yaml) => {
            report_yaml_error(text, &yaml, report);
            return None;
        }
    };
    if raw.is_empty {
        report.set_rule(None);
        report.error(
            Position::new(1, 1),
            "the file holds no rules, not even `rules: []`",
            Some("an empty file is most often the wrong path or a file not yet saved; to watch nothing on purpose, write `rules: []`".into()),
        );
    }
    Some(raw)
}

fn parse(text: &str, duplicate_keys: DuplicateKeyPolicy) -> Result<RawFile, YamlError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: MAX_YAML_NODES,
            max_events: 2 * MAX_YAML_NODES,
        },
        duplicate_keys: duplicate_keys,
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| YamlError::of(&e, text))
}

/// Every key given twice, each in its rule; `first` stands for them when the walk finds none
/// (saphyr also takes `0x1` and `1` for the same key).
fn report_duplicate_keys(text: &str, first: &YamlError, report: &mut Report) {
    let found = duplicate_keys(text);
    if found.is_empty() {
        return report_yaml_error(text, first, report);
    }
    for duplicate in found {
        report.set_rule(duplicate.rule.as_deref());
        report.error(
            duplicate.at,
            format!(
                "key `{}` is given twice; the first is at line {}, column {}",
                duplicate.key, duplicate.first.line, duplicate.first.column
            ),
            first.common_hint().map(str::to_owned),
        );
    }
}

/// Reports one YAML error: in the rule it is in, when the walk finds one.
fn report_yaml_error(text: &str, yaml: &YamlError, report: &mut Report) {
    let site = site_of(text, yaml.position);
    report.set_rule(site.rule.as_deref());
    let message = match (&yaml.kind, site.unknown_alias) {
        (YamlErrorKind::UnknownAlias, Some(name)) => {
            format!("alias `*{name}` refers to no anchor `&{name}` above it")
        }
        _ if yaml.worded_by_botwatch => yaml.message.clone(),
        _ => format!("invalid rules file: {}", yaml.message),
    };
    report.error(yaml.position, message, Some(hint(yaml)));
}

fn hint(error: &YamlError) -> String {
    match (&error.kind, error.common_hint()) {
        (YamlErrorKind::OverBudget(Limit::Aliases), _) => {
            "write the rules out instead of repeating values through aliases, or use `defaults:`"
                .into()
        }
        (YamlErrorKind::OverBudget(Limit::Size), _) => format!(
            "botwatch reads at most {MAX_YAML_NODES} YAML values: split the file, or shorten its rules"
        ),
        (_, Some(hint)) => hint.into(),
        _ => "a rules file is `rules:` followed by a list of rules, each a mapping with `name:` and `when:`".into(),
    }
}
