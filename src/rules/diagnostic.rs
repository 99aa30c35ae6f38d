//! Errors in a rules file, reported the way compilers do: `FILE:LINE:COL: rule NAME: message`
//! with a hint on the next line, all of them at once.

use std::fmt;

/// A position in a source file, 1-based, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl Position {
    /// A position at `line`, `column`.
    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }

    /// Where the first byte that is not UTF-8 stands in `bytes`.
    fn of_invalid_utf8(bytes: &[u8], error: std::str::Utf8Error) -> Self {
        let valid = String::from_utf8_lossy(&bytes[..error.valid_up_to()]);
        let line = valid.matches('\n').count() as u32 + 1;
        let column = valid.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
        Position { line, column }
    }
}

/// One problem in a rules or config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as the user named it.
    pub file: String,
    /// Where the problem is.
    pub position: Position,
    /// The rule it belongs to, when it belongs to one.
    pub rule: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// The diagnostic of a file whose `bytes` are not UTF-8, at the first bad byte.
    pub fn not_utf8(file: &str, bytes: &[u8], error: std::str::Utf8Error) -> Self {
        Diagnostic {
            file: file.to_owned(),
            position: Position::of_invalid_utf8(bytes, error),
            rule: None,
            message: "the file is not valid UTF-8".into(),
            hint: Some("save the file as UTF-8".into()),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: ",
            self.file, self.position.line, self.position.column
        )?;
        if let Some(rule) = &self.rule {
            write!(f, "rule {rule}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in a file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Most diagnostics shown; the rest are counted. A generated file with one mistake
    /// repeated in every rule would otherwise print tens of thousands of them, and a reload
    /// logs and posts what is shown.
    pub const SHOWN: usize = 100;
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().take(Self::SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        if let Some(more) = self.0.len().checked_sub(Self::SHOWN).filter(|&n| n > 0) {
            write!(f, "\nand {more} more")?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file while it is checked.
#[derive(Debug)]
pub(crate) struct Report {
    file: String,
    rule: Option<String>,
    found: Vec<Diagnostic>,
}

impl Report {
    pub(crate) fn new(file: &str) -> Self {
        Report {
            file: file.to_owned(),
            rule: None,
            found: Vec::new(),
        }
    }

    /// Attributes the following diagnostics to `rule` (or to no rule).
    pub(crate) fn set_rule(&mut self, rule: Option<&str>) {
        self.rule = rule.map(str::to_owned);
    }

    pub(crate) fn error(
        &mut self,
        position: Position,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.found.push(Diagnostic {
            file: self.file.clone(),
            position,
            rule: self.rule.clone(),
            message: message.into(),
            hint,
        });
    }

    pub(crate) fn error_count(&self) -> usize {
        self.found.len()
    }

    /// `Ok(value)` when nothing was reported, else every diagnostic in file order.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.found.is_empty() {
            return Ok(value);
        }
        self.found.sort_by_key(|d| d.position);
        Err(Diagnostics(self.found))
    }
}

/// The closest of `candidates` to a misspelt `name`, if any is close enough to suggest.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_name() {
        let names = ["lineQuota", "lineQuotaConsumption", "fbIsIntegration"];
        assert_eq!(
            did_you_mean("lineQuotaConsumptoin", names),
            Some("lineQuotaConsumption")
        );
        assert_eq!(did_you_mean("zzz", names), None);
    }

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic {
            file: "rules.yaml".into(),
            position: Position::new(3, 11),
            rule: Some("quota".into()),
            message: "unknown key `wen`".into(),
            hint: Some("did you mean `when`?".into()),
        };
        assert_eq!(
            d.to_string(),
            "rules.yaml:3:11: rule quota: unknown key `wen`\n  hint: did you mean `when`?"
        );
    }
}
