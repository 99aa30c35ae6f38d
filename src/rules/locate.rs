//! Which rule a YAML-level error is in, and every key given twice in a rules file.
//!
//! When serde-saphyr rejects a rules file, no rule has been read, yet the user needs to know
//! which rule to look at. The file is walked again as the event stream of the parser
//! serde-saphyr is built on (granit-parser), keeping only the path from the top of the
//! document down to the current point: the item of `rules:` it is in, that rule's `name:`, and
//! the keys already given in each mapping on the path. Nothing is matched by pattern, so a
//! `name:` written in a description or a comment is never taken for a rule's name, and the walk
//! sees the file as the parser does: it stops at a syntax error, and it reads on past an alias
//! to an anchor never defined (naming it) instead of stopping there.
//!
//! A walk is one pass over the file, holding the keys of the mappings on one path; it runs
//! only when the file has a YAML error.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{self, Event, Marker, Parser};

use super::diagnostic::Position;

/// What the YAML around an error says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Site {
    /// The rule the error is in, when it has a plain `name:` the parser reached.
    pub rule: Option<String>,
    /// The anchor named by an alias at the error, when no such anchor is defined above it.
    pub unknown_alias: Option<String>,
}

/// A key given a second time in one mapping.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DuplicateKey {
    /// The key.
    pub key: String,
    /// Where it is given again.
    pub at: Position,
    /// Where it is given first.
    pub first: Position,
    /// The rule it is in, when it has a plain `name:` the parser reached.
    pub rule: Option<String>,
}

/// What a mapping or list is to a rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The document's top-level mapping.
    Top,
    /// The list under the top-level `rules:`.
    RulesList,
    /// One item of that list.
    Rule,
    /// Anything else.
    Other,
}

/// A mapping or list open at the current point of the walk.
struct Frame {
    role: Role,
    is_mapping: bool,
    /// In a mapping: whether the next node is a key (else it is the last key's value).
    expects_key: bool,
    /// Keys given so far in a mapping, each with where it was first given (a map, so that a
    /// mapping of a million keys is walked in linear time).
    first_at: HashMap<String, Position>,
    /// The key given last, whose value comes next.
    last_key: Option<String>,
    /// The plain value of `name:`, in a rule.
    name: Option<String>,
}

/// Walks `text` up to `at`, where a YAML error was reported, and says what is around it.
pub(crate) fn site_of(text: &str, at: Position) -> Site {
    let mut path = Path::default();
    let mut site = Site::default();
    let mut arrived = false;
    for (event, here) in events(text) {
        if !arrived && here >= at {
            arrived = true;
            if let Event::UnresolvedAlias(name) = &event {
                site.unknown_alias = Some(name.to_string());
            }
        }
        let closed = path.step(&event, here);
        if !arrived {
            continue;
        }
        match (path.rule(), closed) {
            // Inside a rule whose name comes later: read on to the end of the rule.
            (Some(rule), _) if rule.name.is_none() => continue,
            (Some(rule), _) => site.rule = rule.name.clone(),
            (None, Some(rule)) if rule.role == Role::Rule => site.rule = rule.name,
            (None, _) => {}
        }
        return site;
    }
    site.rule = path.rule().and_then(|rule| rule.name.clone());
    site
}

/// Every key given twice in one mapping, in file order, up to the first syntax error.
pub(crate) fn duplicate_keys(text: &str) -> Vec<DuplicateKey> {
    let mut path = Path::default();
    let mut found: Vec<DuplicateKey> = Vec::new();
    // Those found in the current rule before its `name:` was read: named when it closes.
    let mut unnamed: Vec<usize> = Vec::new();
    for (event, here) in events(text) {
        if let (Some(first), Event::Scalar(key, ..)) = (path.earlier_key(&event), &event) {
            let rule = path.rule().map(|rule| rule.name.clone());
            if rule == Some(None) {
                unnamed.push(found.len());
            }
            let (key, rule) = (key.to_string(), rule.flatten());
            found.push(DuplicateKey {
                key,
                at: here,
                first,
                rule,
            });
        }
        if let Some(rule) = path.step(&event, here).filter(|f| f.role == Role::Rule) {
            name_unnamed(&mut found, &mut unnamed, rule.name.as_deref());
        }
    }
    let open_rule = path.rule().and_then(|rule| rule.name.clone());
    name_unnamed(&mut found, &mut unnamed, open_rule.as_deref());
    found
}

fn name_unnamed(found: &mut [DuplicateKey], unnamed: &mut Vec<usize>, name: Option<&str>) {
    for index in unnamed.drain(..) {
        found[index].rule = name.map(str::to_owned);
    }
}

/// The events of `text` with where each starts. A syntax error ends them: what was read up
/// to it is all there is.
fn events(text: &str) -> impl Iterator<Item = (Event<'_>, Position)> {
    let options = granit_parser::options! { emit_unresolved_aliases: true, emit_comments: false };
    Parser::new_from_str_with_options(text, options)
        .map_while(Result::ok)
        .map(|(event, span)| (event, position(&span.start)))
}

fn position(mark: &Marker) -> Position {
    let line = u32::try_from(mark.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(mark.col().saturating_add(1)).unwrap_or(u32::MAX);
    Position::new(line, column)
}

/// The mappings and lists open at the current point of the walk, outermost first.
#[derive(Default)]
struct Path {
    frames: Vec<Frame>,
}

impl Path {
    /// The rule on the path, if the walk is inside one.
    fn rule(&self) -> Option<&Frame> {
        self.frames.iter().find(|frame| frame.role == Role::Rule)
    }

    /// Where `event`, when it is a key, was already given in the same mapping.
    fn earlier_key(&self, event: &Event<'_>) -> Option<Position> {
        let Event::Scalar(key, ..) = event else {
            return None;
        };
        let frame = self
            .frames
            .last()
            .filter(|f| f.is_mapping && f.expects_key)?;
        frame.first_at.get(key.as_ref()).copied()
    }

    /// Takes one event in; returns the mapping or list it closes, if it closes one.
    fn step(&mut self, event: &Event<'_>, here: Position) -> Option<Frame> {
        match event {
            Event::Scalar(text, ..) => self.node(here, Some(text)),
            Event::Alias(_) | Event::UnresolvedAlias(_) => self.node(here, None),
            Event::SequenceStart(..) => self.open(here, false),
            Event::MappingStart(..) => self.open(here, true),
            Event::SequenceEnd | Event::MappingEnd => return self.frames.pop(),
            _ => {}
        }
        None
    }

    fn open(&mut self, here: Position, is_mapping: bool) {
        let role = self.role_of_child(is_mapping);
        self.node(here, None);
        self.frames.push(Frame {
            role,
            is_mapping,
            expects_key: true,
            first_at: HashMap::new(),
            last_key: None,
            name: None,
        });
    }

    /// What a mapping or list opened here is to a rules file.
    fn role_of_child(&self, is_mapping: bool) -> Role {
        let Some(parent) = self.frames.last() else {
            return if is_mapping { Role::Top } else { Role::Other };
        };
        let under_key = |key: &str| {
            parent.is_mapping && !parent.expects_key && parent.last_key.as_deref() == Some(key)
        };
        match parent.role {
            Role::Top if !is_mapping && under_key("rules") => Role::RulesList,
            Role::RulesList if is_mapping => Role::Rule,
            _ => Role::Other,
        }
    }

    /// A node (scalar, alias or the start of a collection) in the innermost open collection.
    fn node(&mut self, here: Position, scalar: Option<&str>) {
        let Some(frame) = self.frames.last_mut().filter(|f| f.is_mapping) else {
            return; // a list item, or the document itself
        };
        if frame.expects_key {
            let key = scalar.unwrap_or_default().to_owned();
            frame.first_at.entry(key.clone()).or_insert(here);
            frame.last_key = Some(key);
        } else if frame.role == Role::Rule && frame.last_key.as_deref() == Some("name") {
            frame.name = scalar.map(str::to_owned);
        }
        frame.expects_key = !frame.expects_key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "defaults:\n  for: 1m\nrules:\n  - name: first\n    when: x\n  - description: \"name: fake\"\n    when: y\n    name: second\n";

    #[test]
    fn an_error_in_a_rule_is_placed_in_it_even_when_its_name_comes_later() {
        assert_eq!(
            site_of(RULES, Position::new(5, 11)).rule.as_deref(),
            Some("first")
        );
        assert_eq!(
            site_of(RULES, Position::new(7, 11)).rule.as_deref(),
            Some("second")
        );
    }

    #[test]
    fn an_error_outside_the_rules_is_in_no_rule() {
        assert_eq!(site_of(RULES, Position::new(2, 8)), Site::default());
    }

    #[test]
    fn every_key_given_twice_is_found_in_its_rule_even_before_the_name() {
        let text = "rules:\n  - when: x\n    when: y\n    name: a\n  - name: b\n    labels: {t: 1, t: 2}\n";
        let found = duplicate_keys(text);
        let summary: Vec<_> = found
            .iter()
            .map(|d| (d.key.as_str(), d.at, d.first, d.rule.as_deref()))
            .collect();
        assert_eq!(
            summary,
            [
                ("when", Position::new(3, 5), Position::new(2, 5), Some("a")),
                ("t", Position::new(6, 20), Position::new(6, 14), Some("b")),
            ]
        );
    }

    #[test]
    fn an_alias_to_no_anchor_is_named_and_read_past() {
        let text = "rules:\n  - when: *cond\n    name: a\n";
        let site = site_of(text, Position::new(2, 11));
        assert_eq!(site.unknown_alias.as_deref(), Some("cond"));
        assert_eq!(site.rule.as_deref(), Some("a"));
    }
}
