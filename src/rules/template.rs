//! Alert texts (`summary`, `description`) as minijinja templates.
//!
//! A template is checked when the rules load: every variable it names must exist, and it is
//! rendered once against a sample where every field is present, so a template that would fail
//! or overflow a chat message is refused by `botwatch check`, not discovered at 3 a.m. At run
//! time a field the API did not send prints as `n/a` instead of failing the alert. Rendering
//! happens only when an alert event is emitted, never per evaluation, so templates are kept as
//! checked text and rendered with [`minijinja::Environment::render_str`].

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

use super::diagnostic::did_you_mean;
use super::vars::{self, EvalInput, Shape};
use crate::analytics::Platform;

/// Rendering budget of one template (minijinja fuel), so that no loop can stall the engine.
const FUEL: u64 = 50_000;
/// Names minijinja provides that are not variables.
const GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];

/// A checked template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
}

/// A problem with a template, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateError {
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_fuel(Some(FUEL));
        env.set_formatter(|out, state, value| {
            if value.is_undefined() {
                out.write_str("n/a").map_err(minijinja::Error::from)
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env
    })
}

impl Template {
    /// Checks `source` against the variables in `schema` and renders it once against a sample;
    /// the result may be at most `max_chars` long.
    pub(crate) fn compile(
        source: &str,
        schema: &Shape,
        each_platform: bool,
        max_chars: usize,
    ) -> Result<Template, TemplateError> {
        let compiled = environment()
            .template_from_str(source)
            .map_err(|e| from_minijinja(source, &e))?;
        let mut names: Vec<String> = compiled.undeclared_variables(true).into_iter().collect();
        names.sort();
        for name in names {
            if let Some((message, hint)) = check_path(&name, schema) {
                let offset = source
                    .find(name.split('.').next().unwrap_or(&name))
                    .unwrap_or(0);
                return Err(TemplateError {
                    offset,
                    message,
                    hint,
                });
            }
        }
        let template = Template {
            source: source.to_owned(),
        };
        let sample = vars::sample_snapshot();
        let api = vars::ApiStatus::up();
        let input = vars::sample_input(&sample, &api);
        let rendered = template
            .try_render(&input, each_platform.then_some(Platform::Facebook))
            .map_err(|e| from_minijinja(source, &e))?;
        let length = rendered.chars().count();
        if length > max_chars {
            return Err(TemplateError {
                offset: 0,
                message: format!(
                    "renders to {length} characters with sample data; at most {max_chars} fit"
                ),
                hint: Some("shorten the text; details belong in `description`".into()),
            });
        }
        Ok(template)
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the template; on a rendering error (which the load-time check makes unlikely)
    /// the error is logged and the raw template text is returned, so an alert is never lost.
    pub fn render(&self, input: &EvalInput<'_>, platform: Option<Platform>) -> String {
        self.try_render(input, platform).unwrap_or_else(|error| {
            tracing::warn!(%error, template = %self.source, "alert template failed to render");
            self.source.clone()
        })
    }

    fn try_render(
        &self,
        input: &EvalInput<'_>,
        platform: Option<Platform>,
    ) -> Result<String, minijinja::Error> {
        let context =
            minijinja::Value::from(minijinja::value::Serde(vars::variables(input, platform)));
        environment().render_str(&self.source, context)
    }
}

fn check_path(path: &str, schema: &Shape) -> Option<(String, Option<String>)> {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or(path);
    if GLOBALS.contains(&root) {
        return None;
    }
    let Some(mut shape) = schema.field(root) else {
        let hint = did_you_mean(root, schema.field_names()).map(|s| format!("did you mean `{s}`?"));
        return Some((format!("unknown variable `{root}` in template"), hint));
    };
    let mut seen = root.to_owned();
    for part in parts {
        match shape.field(part) {
            Some(next) => shape = next,
            None if matches!(shape, Shape::Scalar(_)) => return None, // e.g. a method-like filter call
            None => {
                let hint = did_you_mean(part, shape.field_names())
                    .map(|s| format!("did you mean `{seen}.{s}`?"));
                return Some((format!("`{seen}` has no field `{part}`"), hint));
            }
        }
        seen.push('.');
        seen.push_str(part);
    }
    None
}

fn from_minijinja(source: &str, error: &minijinja::Error) -> TemplateError {
    let offset = error.range().map(|r| r.start).or_else(|| {
        let line = error.line()?;
        Some(
            source
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum(),
        )
    });
    TemplateError {
        offset: offset.unwrap_or(0),
        message: format!("invalid template: {}", error.detail().unwrap_or(&error.kind().to_string())),
        hint: Some("templates are Jinja, e.g. \"LINE quota at {{ (lineQuotaRatio * 100) | round(1) }} % on {{ bot.name }}\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::vars::schema;

    fn compile(source: &str) -> Result<Template, TemplateError> {
        Template::compile(source, &schema(true), true, 256)
    }

    #[test]
    fn renders_integers_as_integers_and_missing_values_as_na() {
        let t = compile("{{ lineQuotaConsumption }}/{{ lineQuota }} {{ platform.label }} {{ whatsappIsIntegration }}").unwrap();
        let snapshot = crate::analytics::Snapshot {
            line_quota: Some(1000),
            line_quota_consumption: Some(850),
            ..Default::default()
        };
        let api = vars::ApiStatus::up();
        let input = EvalInput {
            snapshot: Some(&snapshot),
            previous: None,
            bot_id: "b",
            bot_name: "B",
            api: &api,
        };
        assert_eq!(
            t.render(&input, Some(Platform::Facebook)),
            "850/1000 Facebook n/a"
        );
    }

    #[test]
    fn unknown_variables_are_refused_with_a_suggestion() {
        let e = compile("quota on {{ bot.nme }}").unwrap_err();
        assert_eq!(e.message, "`bot` has no field `nme`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `bot.name`?"));
        assert_eq!(e.offset, 12);
    }

    #[test]
    fn syntax_errors_loops_and_overlong_texts_are_refused() {
        assert!(compile("{{ bot.name ")
            .unwrap_err()
            .message
            .starts_with("invalid template"));
        assert!(compile(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
        )
        .is_err());
        assert!(compile(&"x".repeat(300))
            .unwrap_err()
            .message
            .contains("300 characters"));
    }
}
