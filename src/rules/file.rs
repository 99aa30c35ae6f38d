//! Loading `rules.yaml`: YAML structure, then every rule on its own, then compilation.
//!
//! Nothing runs until the whole file is clean, and every problem is reported in one go, each
//! as `FILE:LINE:COL: rule NAME: message` with a hint.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use super::diagnostic::{did_you_mean, Diagnostic, Diagnostics, Position, Report};
use super::draft::{read_defaults, read_rule};
use super::read::{read_yaml, refuse_oversize, MAX_RULES_FILE_BYTES};
use super::rule::Rule;
use super::source::position_of;

/// The stack rules are compiled on. Only the pages used are touched; where the system cannot
/// reserve it (strict overcommit), rules are compiled on the calling thread.
const COMPILE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Settings a `defaults:` block gives every rule that does not set them itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub pending_for: Option<Duration>,
    pub keep_firing_for: Option<Duration>,
    pub repeat_every: Option<Duration>,
    pub severity: Option<super::Severity>,
    pub labels: BTreeMap<String, String>,
    pub bots: Option<Vec<String>>,
}

/// Every rule of a rules file, compiled.
#[derive(Debug)]
pub struct RuleSet {
    /// The rules, in file order.
    pub rules: Vec<Rule>,
}

/// Why a rules file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read the rules file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file has mistakes; all of them are listed.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl RuleSet {
    /// Reads and compiles the rules file at `path`.
    ///
    /// At most one byte past the size cap is read: a wrong path to a huge file is refused
    /// without being loaded into memory.
    pub fn load(path: &Path) -> Result<RuleSet, LoadError> {
        use std::io::Read as _;
        let label = path.display().to_string();
        let io = |source| LoadError::Io {
            path: label.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut bytes = Vec::new();
        file.take(MAX_RULES_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > MAX_RULES_FILE_BYTES {
            let mut report = Report::new(&label);
            refuse_oversize(size.max(bytes.len() as u64), &mut report);
            return report
                .finish(RuleSet { rules: vec![] })
                .map_err(LoadError::Invalid);
        }
        RuleSet::from_bytes(&label, &bytes).map_err(LoadError::Invalid)
    }

    /// Compiles rules from the bytes of a file (which must be UTF-8); `file` names it in
    /// diagnostics.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<RuleSet, Diagnostics> {
        match std::str::from_utf8(bytes) {
            Ok(text) => RuleSet::parse(file, text),
            Err(e) => Err(Diagnostics(vec![Diagnostic::not_utf8(file, bytes, e)])),
        }
    }

    /// Compiles rules from `text`; `file` names it in diagnostics.
    ///
    /// The work runs on a thread of its own with a large stack, whatever thread calls: cel's
    /// generated parser recurses about sixteen calls per level of brackets, with frames so
    /// large in a debug build that 14 levels overflow a tokio worker's 2 MiB and abort the
    /// process, while 24 levels are accepted.
    pub fn parse(file: &str, text: &str) -> Result<RuleSet, Diagnostics> {
        let compile = || RuleSet::parse_here(file, text);
        let spawned = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("rules-compiler".into())
                .stack_size(COMPILE_STACK_BYTES)
                .spawn_scoped(scope, compile)
                .map(|thread| thread.join())
        });
        match spawned {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // No thread to spare: compile here, as before there was a choice.
            Err(_) => compile(),
        }
    }

    fn parse_here(file: &str, text: &str) -> Result<RuleSet, Diagnostics> {
        let mut report = Report::new(file);
        let Some(raw) = read_yaml(text, &mut report) else {
            return report.finish(RuleSet { rules: vec![] });
        };
        for key in &raw.unknown_keys {
            let hint = did_you_mean(&key.name, ["defaults", "rules"])
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "the top level has only `defaults:` and `rules:`".into());
            report.error(
                key.position,
                format!("unknown top-level key `{}`", key.name),
                Some(hint),
            );
        }
        let defaults = raw
            .defaults
            .map(|d| read_defaults(&d.value, &mut report))
            .unwrap_or_default();
        let mut rules = Vec::new();
        let mut first_seen: HashMap<String, Position> = HashMap::new();
        for spanned in raw.rules {
            let position = position_of(&spanned.referenced);
            let (rule, name) = read_rule(&spanned.value, position, &defaults, text, &mut report);
            let Some((name, name_at)) = name else {
                continue;
            };
            if let Some(first) = first_seen.get(&name) {
                report.set_rule(Some(&name));
                report.error(
                    name_at,
                    format!("duplicate rule name `{name}`"),
                    Some(format!("the name is already used at line {}; names identify alerts, so they must be unique", first.line)),
                );
                continue;
            }
            first_seen.insert(name, name_at);
            rules.extend(rule);
        }
        report.finish(RuleSet { rules })
    }

    /// Finds a rule by name.
    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_brackets_accepted_compile_from_a_small_stack() {
        // A debug build, from a thread with a tokio worker's stack: this aborted the process
        // before rules were compiled on a thread of their own.
        let depth = 24;
        let when = format!("{}lineQuota{} > 0", "(".repeat(depth), ")".repeat(depth));
        let text = format!("rules:\n  - name: deep\n    when: '{when}'\n");
        let compiled = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || RuleSet::parse("deep.yaml", &text).map(|r| r.rules.len()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(compiled, Ok(1));
    }
}
