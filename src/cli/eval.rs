//! `botwatch eval`: evaluate the rules once against saved API responses, and with `--preview`
//! show the alert card each active instance would post.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::preview::Preview;
use crate::alerts::{firing_event, AlertEvent};
use crate::analytics::{decode, Snapshot};
use crate::cli::Format;
use crate::rules::{evaluate, ApiStatus, EvalInput, Evaluation, LoadError, RuleSet, Truth};
use crate::time::Timestamp;

/// One line of `eval` output.
#[derive(Debug, Serialize)]
struct Row {
    rule: String,
    labels: std::collections::BTreeMap<String, String>,
    condition: &'static str,
    severity: &'static str,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn read_snapshot(path: &Path) -> anyhow::Result<Snapshot> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    decode(&bytes).with_context(|| format!("{} is not a usable API response", path.display()))
}

pub(super) fn eval(
    rules_path: &Path,
    snapshot_path: &Path,
    previous_path: Option<&Path>,
    format: Format,
    bot_id: &str,
    bot_name: &str,
    preview_path: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let rules = match RuleSet::load(rules_path) {
        Ok(rules) => rules,
        Err(LoadError::Invalid(d)) => {
            return Ok(super::report_invalid(
                &d,
                d.0.len(),
                &rules_path.display().to_string(),
            ))
        }
        Err(error) => return Err(error.into()),
    };
    let snapshot = read_snapshot(snapshot_path)?;
    let previous = previous_path.map(read_snapshot).transpose()?;
    let preview = preview_path
        .map(|path| Preview::create(path, None))
        .transpose()?;
    let api = ApiStatus::up();
    let input = EvalInput {
        snapshot: Some(&snapshot),
        previous: previous.as_ref(),
        bot_id,
        bot_name,
        api: &api,
    };
    let evaluations = evaluate(&rules, &input);
    let rows: Vec<Row> = evaluations.iter().map(|e| row(e, &input)).collect();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Text => print_text(&rows),
    }
    if let Some(preview) = preview {
        let title = format!("botwatch eval {}", snapshot_path.display());
        let written = write_preview(preview, &evaluations, &input, &title)?;
        // JSON output stays one document on standard output.
        match format {
            Format::Json => eprintln!("{written}"),
            Format::Text => println!("{written}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One evaluation as a row of the output.
fn row(e: &Evaluation<'_>, input: &EvalInput<'_>) -> Row {
    let mut labels = e.rule.labels.clone();
    if let Some(platform) = e.platform {
        labels.insert("platform".into(), platform.id().into());
    }
    let (condition, reason) = match &e.fire {
        Truth::True => ("active", None),
        Truth::False => ("inactive", None),
        Truth::Unknown { reason, .. } => ("unknown", Some(reason.clone())),
    };
    Row {
        rule: e.rule.name.clone(),
        labels,
        condition,
        severity: e.rule.severity.as_str(),
        summary: e.rule.summary.render(input, e.platform),
        reason,
    }
}

/// Posts to `preview` the card each active instance would post when it fires; returns what
/// writing the page printed.
fn write_preview(
    preview: Preview,
    evaluations: &[Evaluation<'_>],
    input: &EvalInput<'_>,
    title: &str,
) -> anyhow::Result<String> {
    let now = Timestamp::now();
    let firing: Vec<AlertEvent> = evaluations
        .iter()
        .filter(|e| e.fire == Truth::True)
        .map(|e| firing_event(e, input, now))
        .collect();
    super::runtime()?.block_on(preview.post_cards(&firing))?;
    preview.write(title)
}

fn print_text(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|r| r.rule.len() + label_text(r).len())
        .max()
        .unwrap_or(0)
        + 1;
    for row in rows {
        let name = format!("{}{}", row.rule, label_text(row));
        let mut line = format!(
            "{name:<width$} {:<9} {:<8} {}",
            row.condition, row.severity, row.summary
        );
        if let Some(reason) = &row.reason {
            line.push_str(&format!("  ({reason})"));
        }
        println!("{line}");
    }
}

fn label_text(row: &Row) -> String {
    row.labels
        .get("platform")
        .map(|p| format!("{{platform={p}}}"))
        .unwrap_or_default()
}
