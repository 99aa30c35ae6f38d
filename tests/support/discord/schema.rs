//! Discord's OpenAPI description and the JSON Schema validators built from it.
//!
//! The document is read once per process (see [`openapi_source`](super::openapi_source)) and
//! registered under a fake base URI so that its `$ref`s resolve offline. Validators are compiled
//! on first use and cached, since compiling one takes longer than a test's requests.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind as Kind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{json, Value};

use super::validate::{problem, Problem};
use super::{openapi_source, OPENAPI_ENV};

/// Base URI under which the OpenAPI document is registered for `$ref` resolution.
const SCHEMA_BASE: &str = "http://127.0.0.1/fake-discord/openapi.json";
/// Longest schema error message kept (a oneOf error prints the whole instance).
const MAX_ERROR_MESSAGE: usize = 400;

/// The parsed document and the registry its validators resolve `$ref`s in.
pub(super) struct Spec {
    doc: Value,
    registry: Registry<'static>,
}

/// The document, read on first use, or `None` when it is not there and was not asked for.
///
/// A bare clone has no `../shared` beside it, and its tests must still pass: the fake then
/// checks Discord's documented limits only, and says so once on the test output. A path named
/// in [`OPENAPI_ENV`] is a demand (`.ci/run` names one), so a missing or broken file there, or
/// a broken file at the default path, panics with a hint instead.
pub(super) fn spec() -> Option<&'static Spec> {
    static SPEC: OnceLock<Option<Spec>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let source = openapi_source();
        let text = match std::fs::read_to_string(source.path()) {
            Ok(text) => text,
            Err(e) if !source.is_required() && e.kind() == std::io::ErrorKind::NotFound => {
                announce_missing(source.path());
                return None;
            }
            Err(e) => panic!(
                "fake Discord: cannot read Discord's OpenAPI description at {}: {e}\n\
                 It is expected at ../shared/discord/openapi.json beside the crate \
                 (discord/discord-api-spec, specs/openapi.json); or set {OPENAPI_ENV}=/path/to/openapi.json",
                source.path().display()
            ),
        };
        Some(parse(source.path(), &text))
    })
    .as_ref()
}

fn parse(path: &Path, text: &str) -> Spec {
    let doc: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("fake Discord: {} is not JSON: {e}", path.display()));
    assert!(
        doc.pointer("/components/schemas")
            .is_some_and(Value::is_object),
        "fake Discord: {} has no components.schemas: not Discord's OpenAPI description?",
        path.display()
    );
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .retrieve_known_draft_meta_schemas(false)
        .add(SCHEMA_BASE, doc.clone())
        .and_then(|builder| builder.prepare())
        .unwrap_or_else(|e| panic!("fake Discord: cannot index {}: {e}", path.display()));
    Spec { doc, registry }
}

/// Tells the person running the tests, once per test binary, that bodies are not checked
/// against the schema. Written to the process's standard error directly, past the test
/// harness's capture, so that it shows in a passing run too.
fn announce_missing(path: &Path) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "note: fake Discord: Discord's OpenAPI description is not at {} and {OPENAPI_ENV} is unset, \
         so request bodies are checked against Discord's documented limits only, not its schema. \
         CI requires the description (.ci/run); to check locally, put discord/discord-api-spec's \
         specs/openapi.json there or set {OPENAPI_ENV}=/path/to/openapi.json",
        path.display()
    );
}

/// A compiled validator for a schema of the document, cached per process.
///
/// `key` is either a name in `components.schemas` (`MessageCreateRequest`) or a JSON pointer
/// into the document starting with `#/` (a route's request body schema).
fn validator(key: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(key) {
        return Arc::clone(v);
    }
    let spec = spec().expect("validators are only built when the description is there");
    let compiled = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&spec.registry)
        .offline()
        // Check `uri` and `date-time` like Discord does; unknown formats (`snowflake`, `nonce`,
        // `int32`, ...) are annotations only.
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(&schema_for(spec, key))
        .unwrap_or_else(|e| panic!("fake Discord: cannot compile the schema {key}: {e}"));
    let compiled = Arc::new(compiled);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.to_string())
        .or_insert(compiled)
        .clone()
}

/// The schema to compile for a validator key (see [`validator`]).
fn schema_for(spec: &Spec, key: &str) -> Value {
    match key.strip_prefix('#') {
        Some(pointer) => {
            let mut schema = spec
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("fake Discord: the OpenAPI document has no {key}"))
                .clone();
            absolutize_refs(&mut schema);
            schema
        }
        None => {
            assert!(
                spec.doc
                    .pointer(&format!("/components/schemas/{key}"))
                    .is_some(),
                "fake Discord: the OpenAPI document has no schema {key}"
            );
            json!({ "$ref": format!("{SCHEMA_BASE}#/components/schemas/{key}") })
        }
    }
}

/// Rewrites document-local `$ref`s (`#/components/...`) to point into the registered document.
fn absolutize_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(s) if k == "$ref" && s.starts_with('#') => {
                        *s = format!("{SCHEMA_BASE}{s}");
                    }
                    _ => absolutize_refs(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(absolutize_refs),
        _ => {}
    }
}

/// Every way `body` fails the schema `key` (see [`validator`]).
///
/// Nothing when the description is absent (see [`spec`]).
pub(super) fn schema_problems(key: &str, body: &Value) -> Vec<Problem> {
    if spec().is_none() {
        return Vec::new();
    }
    let validator = validator(key);
    let label = schema_label(key);
    validator
        .iter_errors(body)
        .map(|e| {
            problem(
                e.instance_path().as_str().to_string(),
                "SCHEMA_INVALID",
                format!("{} (schema {label})", describe(&e, 0)),
            )
        })
        .collect()
}

fn truncated(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    text.chars().take(max).collect::<String>() + "…"
}

/// A readable name for a validator key: the schema name, or `POST /route body`.
fn schema_label(key: &str) -> String {
    let Some(pointer) = key.strip_prefix("#/paths/") else {
        return key.to_string();
    };
    let mut parts = pointer.split('/');
    let route = parts
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~");
    let method = parts.next().unwrap_or("").to_ascii_uppercase();
    format!("{method} {route} request body")
}

/// An error's message; for a failed `anyOf`/`oneOf`, with the errors of the alternative that
/// came closest (fewest errors, not rejected on its type or discriminator), three levels deep.
fn describe(error: &ValidationError<'_>, depth: usize) -> String {
    let message = truncated(error.to_string(), MAX_ERROR_MESSAGE);
    let (Kind::AnyOf { context } | Kind::OneOfNotValid { context }) = error.kind() else {
        return message;
    };
    if depth >= 3 {
        return message;
    }
    let here = error.instance_path().as_str();
    let closest = context
        .iter()
        .filter(|branch| !branch.is_empty())
        .min_by_key(|branch| (discriminated(branch, here), branch.len()));
    match closest {
        Some(branch) => {
            let details: Vec<String> = branch
                .iter()
                .take(3)
                .map(|e| {
                    let at = e.instance_path().as_str();
                    let at = if at.is_empty() { "(body)" } else { at };
                    format!("{at}: {}", describe(e, depth + 1))
                })
                .collect();
            format!("{message}; closest alternative: {}", details.join("; "))
        }
        None => message,
    }
}

/// Whether an alternative was rejected outright at `here`: the wrong type, or a `type` field
/// (Discord's discriminator) of another value. Such a branch is not what the sender meant.
fn discriminated(branch: &[ValidationError<'static>], here: &str) -> bool {
    branch.iter().any(|e| {
        let at = e.instance_path().as_str();
        (at == here && matches!(e.kind(), Kind::Type { .. }))
            || (at.strip_prefix(here) == Some("/type")
                && matches!(e.kind(), Kind::Enum { .. } | Kind::Constant { .. }))
    })
}
