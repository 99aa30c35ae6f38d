//! A YAML parser's error as botwatch reports it, for rules and config files alike: where it
//! is, what went wrong in the user's words, and which kind of mistake it is, so that the hint
//! fits.
//!
//! The kind is read from serde-saphyr's error variant (and, for syntax errors, from the
//! parser's own `ErrorKind` it carries), never from the wording: the wording is written for
//! the crate's users, who are developers ("set DuplicateKeyPolicy in Options if acceptable"),
//! and a substring test on it once gave a duplicate key the hint about tabs, because
//! "acceptable" contains "tab".

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::localizer::ExternalMessageSource;

use super::diagnostic::Position;
use super::source::position_of;

/// The kinds of YAML mistake that have a hint of their own.
#[derive(Debug, Clone)]
pub(crate) enum YamlErrorKind {
    /// The same key twice in one mapping.
    DuplicateKey(String),
    /// An alias (`*name`) to an anchor that was never defined.
    UnknownAlias,
    /// A tab where YAML allows only spaces.
    Tab,
    /// A line indented so that it belongs to nothing around it.
    Indentation,
    /// `: ` where the parser was reading a value: an unquoted value with a colon in it, or a
    /// line indented deeper than its neighbours.
    ColonInValue,
    /// A quoted value that never ends.
    UnclosedQuote,
    /// A backslash in a double-quoted value that starts no escape YAML knows.
    BadEscape,
    /// A `[` or `{` that never closes, or items without commas between them.
    UnclosedBracket,
    /// More than one document (`---`) in one file.
    SeveralDocuments,
    /// A number too large to be finite (`1e999`), or `.nan`/`.inf`, where a value is read
    /// as-is.
    NonFiniteNumber(String),
    /// `<<:` given something other than a mapping to merge.
    MergeOfNoMapping,
    /// Past one of the limits that keep reading bounded.
    OverBudget(Limit),
    /// `key` alone on a line, without `: value`.
    MissingColon,
    /// Anything else: mostly a value of the wrong shape for its place.
    Other,
}

/// Which of the limits on reading YAML a file went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// Anchors and aliases expand to more than is read.
    Aliases,
    /// Values nest deeper than is read.
    Depth,
    /// More values, events or text than is read.
    Size,
}

/// A serde-saphyr error as botwatch reports it.
pub(crate) struct YamlError {
    /// Where the error is (1:1 when saphyr does not say).
    pub position: Position,
    /// What is wrong.
    pub message: String,
    /// What kind of mistake it is.
    pub kind: YamlErrorKind,
    /// Whether the message is botwatch's own, rather than the parser's wording.
    pub worded_by_botwatch: bool,
}

impl YamlError {
    /// The parts of `error`, raised while reading `text`, that botwatch shows.
    pub fn of(error: &serde_saphyr::Error, text: &str) -> Self {
        let reported = error
            .location()
            .map(|l| position_of(&l))
            .unwrap_or(Position::new(1, 1));
        let kind = kind_of(original(error));
        let position = match kind {
            YamlErrorKind::Tab => first_tab_from_line_of(text, reported).unwrap_or(reported),
            _ => reported,
        };
        let own = own_wording(&kind);
        YamlError {
            position,
            worded_by_botwatch: own.is_some(),
            message: own.unwrap_or_else(|| saphyr_wording(error)),
            kind,
        }
    }

    /// The hint for a mistake any YAML file can make, when it is one.
    pub fn common_hint(&self) -> Option<&'static str> {
        Some(match self.kind {
            YamlErrorKind::DuplicateKey(_) => {
                "a key may be given once in a mapping: keep one and delete the other"
            }
            YamlErrorKind::UnknownAlias => {
                "`*name` repeats the value marked `&name` above it in the same file: mark that value, fix the name, or write the value out"
            }
            YamlErrorKind::Tab => "YAML indents with spaces, never tabs",
            YamlErrorKind::Indentation => {
                "keys of one mapping start in the same column, and list items (`- `) in the same column under their key"
            }
            YamlErrorKind::ColonInValue => {
                "`: ` inside a value starts a new key: quote the value, or indent this line like the keys next to it"
            }
            YamlErrorKind::UnclosedQuote => {
                "end the value with the quote it starts with; inside \"…\" write \\\" for a quote, inside '…' write ''"
            }
            YamlErrorKind::BadEscape => {
                "inside \"…\" a backslash starts an escape (\\n, \\\", \\\\): write \\\\ for a backslash, or quote with '…', where a backslash is plain text"
            }
            YamlErrorKind::NonFiniteNumber(_) => "quote it to keep it as text",
            YamlErrorKind::MergeOfNoMapping => {
                "`<<:` merges a mapping into this one: give it a mapping, or an alias to one (`<<: *common`)"
            }
            YamlErrorKind::UnclosedBracket => {
                "close every `[` with `]` and every `{` with `}`, with a comma between items"
            }
            YamlErrorKind::SeveralDocuments => "remove the `---` line: one file is one document",
            YamlErrorKind::MissingColon => "write each key as `key: value`, with a space after the colon",
            YamlErrorKind::OverBudget(Limit::Aliases) => {
                "write the values out instead of repeating them through aliases"
            }
            YamlErrorKind::OverBudget(Limit::Depth) => {
                "nest lists and mappings a few levels deep at most"
            }
            YamlErrorKind::OverBudget(Limit::Size) => "split the file",
            YamlErrorKind::Other => return None,
        })
    }
}

/// The error itself, out of the wrappers that add a snippet or an alias's locations.
fn original(error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match error.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => original(error),
        other => other,
    }
}

fn kind_of(error: &serde_saphyr::Error) -> YamlErrorKind {
    use serde_saphyr::Error as E;
    match error {
        E::DuplicateMappingKey { key, .. } => {
            YamlErrorKind::DuplicateKey(key.clone().unwrap_or_else(|| "?".into()))
        }
        E::UnknownAnchor { .. } => YamlErrorKind::UnknownAlias,
        E::MultipleDocuments { .. } => YamlErrorKind::SeveralDocuments,
        E::NonFiniteFloat { value, .. } => YamlErrorKind::NonFiniteNumber(value.clone()),
        E::MergeValueNotMapOrSeqOfMaps { .. } => YamlErrorKind::MergeOfNoMapping,
        E::Budget { breach, .. } => YamlErrorKind::OverBudget(limit_of(breach)),
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => YamlErrorKind::OverBudget(Limit::Aliases),
        E::ExternalMessage { source, .. } => match source.as_ref() {
            ExternalMessageSource::Parser(scan) => syntax_kind(scan.kind()),
            _ => YamlErrorKind::Other,
        },
        _ => YamlErrorKind::Other,
    }
}

fn limit_of(breach: &BudgetBreach) -> Limit {
    use BudgetBreach as B;
    match breach {
        B::Aliases { .. }
        | B::Anchors { .. }
        | B::AliasAnchorRatio { .. }
        | B::RecordedAnchorEvents { .. }
        | B::RecordedAnchorBytes { .. }
        | B::MergeKeys { .. } => Limit::Aliases,
        B::Depth { .. } | B::InclusionDepth { .. } => Limit::Depth,
        _ => Limit::Size,
    }
}

fn syntax_kind(kind: &ErrorKind) -> YamlErrorKind {
    use ErrorKind as K;
    match kind {
        K::UnknownAnchor => YamlErrorKind::UnknownAlias,
        K::TabNotAllowed
        | K::TabInBlockIndentation
        | K::TabInIndentation
        | K::TabInPlainScalar
        | K::TabAtBlockScalarStart => YamlErrorKind::Tab,
        K::InvalidIndentation
        | K::ExpectedBlockMappingKey
        | K::ExpectedBlockSequenceEntry
        | K::BlockSequenceEntryNotAllowed
        | K::InvalidBlockScalarIndent
        | K::InvalidQuotedScalarIndent => YamlErrorKind::Indentation,
        K::MappingValueNotAllowed => YamlErrorKind::ColonInValue,
        K::SimpleKeyExpected => YamlErrorKind::MissingColon,
        K::UnclosedQuotedScalar => YamlErrorKind::UnclosedQuote,
        K::UnknownQuotedScalarEscape
        | K::InvalidQuotedScalarHexEscape
        | K::InvalidLowSurrogateHexEscape
        | K::InvalidLowSurrogate
        | K::MissingLowSurrogate
        | K::UnpairedLowSurrogate
        | K::InvalidUnicodeEscape => YamlErrorKind::BadEscape,
        K::UnclosedFlowCollection { .. }
        | K::ExpectedFlowMappingSeparator
        | K::ExpectedFlowSequenceSeparator
        | K::MismatchedFlowCollectionEnd { .. }
        | K::InvalidColonPlacement
        | K::UnexpectedEofFlowSequence
        | K::UnexpectedEofFlowMapping
        | K::UnexpectedEofImplicitFlowMapping => YamlErrorKind::UnclosedBracket,
        _ => YamlErrorKind::Other,
    }
}

/// botwatch's wording, where the parser's is written for developers or says too little.
fn own_wording(kind: &YamlErrorKind) -> Option<String> {
    Some(match kind {
        YamlErrorKind::DuplicateKey(key) => format!("key `{key}` is given twice"),
        YamlErrorKind::SeveralDocuments => "the file holds more than one YAML document".into(),
        YamlErrorKind::NonFiniteNumber(written) => format!("`{written}` is not a finite number"),
        YamlErrorKind::OverBudget(Limit::Aliases) => {
            "the file expands through anchors and aliases past what botwatch reads".into()
        }
        YamlErrorKind::OverBudget(Limit::Depth) => "values nest deeper than botwatch reads".into(),
        YamlErrorKind::OverBudget(Limit::Size) => {
            "the file holds more YAML than botwatch reads".into()
        }
        _ => return None,
    })
}

/// saphyr's first line, without its snippet or its own position (ours is printed in front).
fn saphyr_wording(error: &serde_saphyr::Error) -> String {
    let rendered = error.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    first.split(" at line ").next().unwrap_or(first).to_owned()
}

/// The first tab at or after the start of `reported`'s line. The parser places some tab
/// errors at the start of the value the tab interrupts, a line or more above the tab itself.
fn first_tab_from_line_of(text: &str, reported: Position) -> Option<Position> {
    let skip = reported.line.saturating_sub(1) as usize;
    text.split('\n')
        .enumerate()
        .skip(skip)
        .find_map(|(index, line)| {
            let column = line.chars().position(|c| c == '\t')?;
            Some(Position::new(index as u32 + 1, column as u32 + 1))
        })
}
