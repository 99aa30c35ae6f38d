//! Reading a YAML rules file into nodes that remember where they were written.
//!
//! serde stops at the first error, so a rules file is read in two layers: the YAML structure
//! (the top-level keys and the list of rules) with serde-saphyr, and each rule as a list of
//! `key: value` nodes with their positions. Every key is then checked on its own, which lets
//! `botwatch check` report every mistake of a file in one run.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::diagnostic::Position;

/// A YAML value with the position it was written at.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub value: serde_json::Value,
    pub position: Position,
    /// Byte offset of the value in the file, when known.
    pub offset: Option<usize>,
}

/// A YAML mapping whose keys and values remember their positions, in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mapping {
    pub entries: Vec<(Key, Node)>,
}

/// A mapping key with its position.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub name: String,
    pub position: Position,
}

/// The top level of a rules file. Unknown top-level keys are collected, not fatal, so they
/// are reported together with the mistakes inside the rules.
#[derive(Debug, Default)]
pub(crate) struct RawFile {
    /// The document is empty (or holds only comments): not even `rules: []`.
    pub is_empty: bool,
    pub defaults: Option<Spanned<Mapping>>,
    pub rules: Vec<Spanned<Mapping>>,
    pub unknown_keys: Vec<Key>,
}

impl<'de> Deserialize<'de> for RawFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;
        impl<'de> Visitor<'de> for FileVisitor {
            type Value = RawFile;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping with `rules:` (and optionally `defaults:`)")
            }
            fn visit_unit<E>(self) -> Result<RawFile, E> {
                Ok(RawFile {
                    is_empty: true,
                    ..RawFile::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFile, A::Error> {
                let mut file = RawFile::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    match key.value.as_str() {
                        "defaults" => file.defaults = map.next_value()?,
                        "rules" => file.rules = map.next_value::<Option<_>>()?.unwrap_or_default(),
                        // Editors' schema association (`$schema`) is not ours to check.
                        "$schema" => drop(map.next_value::<serde::de::IgnoredAny>()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            file.unknown_keys.push(Key {
                                position: position_of(&key.referenced),
                                name: key.value,
                            });
                        }
                    }
                }
                Ok(file)
            }
        }
        deserializer.deserialize_any(FileVisitor)
    }
}

/// The [`Position`] of a serde-saphyr location.
pub fn position_of(location: &serde_saphyr::Location) -> Position {
    Position::new(
        u32::try_from(location.line()).unwrap_or(u32::MAX).max(1),
        u32::try_from(location.column()).unwrap_or(u32::MAX).max(1),
    )
}

fn node(spanned: Spanned<serde_json::Value>) -> Node {
    Node {
        position: position_of(&spanned.referenced),
        offset: spanned
            .referenced
            .span()
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok()),
        value: spanned.value,
    }
}

impl<'de> Deserialize<'de> for Mapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MappingVisitor;
        impl<'de> Visitor<'de> for MappingVisitor {
            type Value = Mapping;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of keys to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Mapping, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<serde_json::Value>>()?;
                    let key = Key {
                        position: position_of(&key.referenced),
                        name: key.value,
                    };
                    entries.push((key, node(value)));
                }
                Ok(Mapping { entries })
            }
        }
        deserializer.deserialize_map(MappingVisitor)
    }
}

/// Where the text of a scalar starts, so that a column inside an expression or a template
/// can be turned into a position in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextOrigin {
    /// Position of the first character of the text.
    start: Position,
    /// For literal block scalars (`|`), lines keep their breaks: this is the indentation column.
    block_indent: Option<u32>,
}

impl TextOrigin {
    /// Works out where the text of `node` starts in `file`.
    pub(crate) fn of(node: &Node, file: &str) -> TextOrigin {
        let offset = node.offset.unwrap_or(0);
        let here = node.position;
        let rest = file.get(offset..).unwrap_or("");
        // saphyr places a block scalar at its first content line; the indicator (`|`, `|-`,
        // `>`…) is the last thing written before it.
        let before = file.get(..offset).unwrap_or("").trim_end();
        let indicator =
            before.trim_end_matches(|c: char| matches!(c, '-' | '+') || c.is_ascii_digit());
        match (indicator.chars().last(), rest.chars().next()) {
            (Some('|'), _) => TextOrigin {
                start: here,
                block_indent: Some(here.column),
            },
            (_, Some('"') | Some('\'')) => TextOrigin {
                start: Position::new(here.line, here.column + 1),
                block_indent: None,
            },
            _ => TextOrigin {
                start: here,
                block_indent: None,
            },
        }
    }

    /// The file position of the character at `line` (1-based) and `column` (0-based) of the text.
    pub(crate) fn at(&self, line: u32, column: u32) -> Position {
        match self.block_indent {
            Some(indent) => {
                Position::new(self.start.line + line.saturating_sub(1), indent + column)
            }
            None if line <= 1 => Position::new(self.start.line, self.start.column + column),
            None => self.start,
        }
    }

    /// The file position of the character at byte `offset` of `text`.
    pub(crate) fn at_offset(&self, text: &str, offset: usize) -> Position {
        let before = text.get(..offset.min(text.len())).unwrap_or(text);
        let line = before.matches('\n').count() as u32 + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() as u32;
        self.at(line, column)
    }
}
