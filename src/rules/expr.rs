//! Compiling rule expressions (CEL) once, at load time, and checking every variable they name.
//!
//! cel's `Program::references()` only lists top-level names, so a typo behind a dot
//! (`previous.lineQuotaConsumptoin`) is caught here by walking the expression tree against the
//! variable [`Shape`]. cel's parser recurses, so an expression is bounded in size and nesting
//! before it is handed over: a hostile rules file must not be able to overflow the stack.

use std::sync::{Arc, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

use super::diagnostic::did_you_mean;
use super::vars::Shape;

/// Longest expression accepted, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 2048;
/// Deepest nesting of brackets accepted in an expression.
pub const MAX_NESTING: usize = 24;

/// A problem with an expression, at a character offset of its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExprError {
    /// Line (from 1) and column (from 0) inside the expression text.
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub hint: Option<String>,
}

/// A compiled CEL expression together with its text.
#[derive(Debug)]
pub struct Expression {
    program: cel::Program,
    text: String,
}

/// The CEL environment shared by every expression: the standard library.
pub(crate) fn env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(cel::Env::stdlib())).clone()
}

impl Expression {
    /// Compiles `text` and checks that every variable it uses exists in `schema`.
    pub(crate) fn compile(text: &str, schema: &Shape) -> Result<Expression, Vec<ExprError>> {
        check_bounds(text)?;
        let program = env().compile(text).map_err(|errors| {
            errors
                .errors
                .iter()
                .map(|e| ExprError {
                    line: e.pos.0.max(1) as u32,
                    // cel counts parse-error columns from 1, node offsets from 0.
                    column: (e.pos.1 - 1).max(0) as u32,
                    message: format!("invalid expression: {}", short_parse_message(&e.msg)),
                    hint: Some(
                        "expressions are CEL, e.g. `lineQuotaConsumption > 0.8 * lineQuota`".into(),
                    ),
                })
                .collect::<Vec<_>>()
        })?;
        let at = |id: u64| {
            let offset = program
                .source_info()
                .offset_for(id)
                .map(|(start, _)| start)
                .unwrap_or(0);
            line_col(text, offset as usize)
        };
        if let Err((id, message)) = super::cost::check(program.expression()) {
            let (line, column) = at(id);
            return Err(vec![ExprError {
                line,
                column,
                message,
                hint: Some(
                    "write the condition out with && and ||, or split it into several rules".into(),
                ),
            }]);
        }
        let mut checker = RefChecker {
            schema,
            found: Vec::new(),
        };
        checker.walk(program.expression());
        let mut errors = Vec::new();
        for (id, message, hint) in checker.found {
            let (line, column) = at(id);
            errors.push(ExprError {
                line,
                column,
                message,
                hint,
            });
        }
        if errors.is_empty() {
            Ok(Expression {
                program,
                text: text.to_owned(),
            })
        } else {
            Err(errors)
        }
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs the expression against bound variables.
    pub(crate) fn execute(
        &self,
        context: &cel::Context<'_, '_>,
    ) -> Result<cel::Value, cel::ExecutionError> {
        self.program.execute(context)
    }
}

fn check_bounds(text: &str) -> Result<(), Vec<ExprError>> {
    let fail = |message: String| {
        Err(vec![ExprError {
            line: 1,
            column: 0,
            message,
            hint: Some("split the condition into several rules, or simplify it".into()),
        }])
    };
    if text.trim().is_empty() {
        return Err(vec![ExprError {
            line: 1,
            column: 0,
            message: "the expression is empty".into(),
            hint: Some(
                "write a CEL condition, e.g. `lineQuotaConsumption > 0.8 * lineQuota`".into(),
            ),
        }]);
    }
    if text.len() > MAX_EXPRESSION_BYTES {
        return fail(format!(
            "the expression is {} bytes long; at most {MAX_EXPRESSION_BYTES} are accepted",
            text.len()
        ));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return fail(format!(
            "the expression nests brackets {deepest} deep; at most {MAX_NESTING} are accepted"
        ));
    }
    Ok(())
}

/// cel's parse messages end with the whole token set of the grammar; keep the useful start.
fn short_parse_message(message: &str) -> String {
    let short = message.split(" expecting {").next().unwrap_or(message);
    let short = short.strip_prefix("Syntax error: ").unwrap_or(short);
    short.replace("mismatched input '<EOF>'", "the expression ends too early")
}

/// Line (from 1) and column (from 0, in characters) of character `offset` of `text`.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let (mut line, mut column) = (1u32, 0u32);
    for c in text.chars().take(offset) {
        if c == '\n' {
            line += 1;
            column = 0;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Checks every variable and field an expression reads against the schema. It runs after the
/// cost check, so there are no comprehensions and every identifier is a root variable.
struct RefChecker<'s> {
    schema: &'s Shape,
    found: Vec<(u64, String, Option<String>)>,
}

impl RefChecker<'_> {
    fn walk(&mut self, node: &IdedExpr) {
        match &node.expr {
            Expr::Ident(_) | Expr::Select(_) => self.check_path(node),
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target);
                }
                call.args.iter().for_each(|a| self.walk(a));
            }
            // Refused by the cost check before the walk.
            Expr::Comprehension(_) => {}
            Expr::List(list) => list.elements.iter().for_each(|e| self.walk(e)),
            Expr::Map(map) => map.entries.iter().for_each(|e| self.walk_entry(&e.expr)),
            Expr::Struct(s) => s.entries.iter().for_each(|e| self.walk_entry(&e.expr)),
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }

    fn walk_entry(&mut self, entry: &EntryExpr) {
        match entry {
            EntryExpr::MapEntry(e) => {
                self.walk(&e.key);
                self.walk(&e.value);
            }
            EntryExpr::StructField(f) => self.walk(&f.value),
        }
    }

    /// Checks `a.b.c` against the schema, or walks into whatever the chain is rooted at.
    fn check_path(&mut self, node: &IdedExpr) {
        let mut selects = Vec::new();
        let mut root = node;
        while let Expr::Select(select) = &root.expr {
            selects.push((root.id, select.field.as_str()));
            root = &select.operand;
        }
        let Expr::Ident(name) = &root.expr else {
            return self.walk(root);
        };
        let Some(mut shape) = self.schema.field(name) else {
            let hint = did_you_mean(name, self.schema.field_names())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(unknown_variable_hint(name)));
            self.found
                .push((root.id, format!("unknown variable `{name}`"), hint));
            return;
        };
        let mut path = name.clone();
        for (id, field) in selects.into_iter().rev() {
            match shape.field(field) {
                Some(next) => shape = next,
                None => {
                    let (message, hint) = match shape {
                        Shape::Scalar(kind) => (
                            format!("`{path}` is {kind} and has no field `{field}`"),
                            None,
                        ),
                        Shape::Object(_) => (
                            format!("`{path}` has no field `{field}`"),
                            did_you_mean(field, shape.field_names())
                                .map(|s| format!("did you mean `{path}.{s}`?")),
                        ),
                    };
                    self.found.push((id, message, hint));
                    return;
                }
            }
            path.push('.');
            path.push_str(field);
        }
    }
}

fn unknown_variable_hint(name: &str) -> String {
    if name == "platform" {
        "`platform` exists only in rules with `each: platform`".into()
    } else {
        "variables are the API's field names (lineQuota, fbIsIntegration…), previous, bot, api and, with `each: platform`, platform".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::vars::schema;

    fn errors(text: &str) -> Vec<ExprError> {
        Expression::compile(text, &schema(true))
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn accepts_rules_as_people_write_them() {
        for text in [
            "lineQuotaConsumption > 0.8 * lineQuota",
            "lineQuota > 0",
            "lineQuota == 1000",
            "int(lineQuota) % 7 == 6",
            "previous.platform.integrated && !platform.integrated",
            "has(previous.lineQuota) && lineProgram in ['輕用量', '中用量']",
            "api.consecutive_failures >= 3 && !api.up",
            "lineProgram.startsWith('輕') || {'a': bot.name}['a'] == 'x'",
        ] {
            assert_eq!(errors(text), vec![], "{text}");
        }
    }

    #[test]
    fn a_typo_behind_a_dot_is_found_with_its_column() {
        let found = errors("lineQuota > 0 && previous.lineQuotaConsumptoin > 1");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "`previous` has no field `lineQuotaConsumptoin`"
        );
        assert_eq!(
            found[0].hint.as_deref(),
            Some("did you mean `previous.lineQuotaConsumption`?")
        );
        assert_eq!((found[0].line, found[0].column), (1, 25));
    }

    #[test]
    fn unknown_top_level_names_get_a_suggestion() {
        let found = errors("lineQuotaa > 1");
        assert_eq!(found[0].message, "unknown variable `lineQuotaa`");
        assert_eq!(found[0].hint.as_deref(), Some("did you mean `lineQuota`?"));
        assert_eq!(found[0].column, 0);
    }

    #[test]
    fn platform_is_refused_outside_each_platform_rules() {
        let found = Expression::compile("platform.integrated", &schema(false)).unwrap_err();
        assert!(found[0].hint.as_deref().unwrap().contains("each: platform"));
    }

    #[test]
    fn syntax_errors_and_hostile_nesting_are_errors_not_crashes() {
        let found = errors("lineQuota > > 1");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].message, "invalid expression: extraneous input '>'");
        assert_eq!(found[0].column, 12);
        let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert!(errors(&deep)[0].message.contains("nests brackets 200 deep"));
        assert!(errors(&"1 + ".repeat(1000))[0]
            .message
            .contains("bytes long"));
        let chain = format!("{}1 > 0", "1 + ".repeat(100));
        assert!(errors(&chain)[0].message.contains("operations deep"));
    }

    #[test]
    fn the_longest_operator_chain_that_fits_is_refused_without_overflowing_the_parser() {
        // 2001 bytes, 1001 terms: parsed on a test thread's 2 MiB stack.
        let chain = format!("{}1", "1+".repeat(1000));
        assert!(errors(&chain)[0].message.contains("operations deep"));
    }

    #[test]
    fn costly_expressions_are_refused_before_they_run() {
        let long_list = format!("[{}]", vec!["1"; 200].join(","));
        assert!(errors(&format!("lineQuota in {long_list}"))[0]
            .message
            .contains("200 elements"));
        for comprehension in [
            "[1, 2].all(a, a > 0)",
            "lineQuota > 0 && [3].exists(b, b < 1)",
        ] {
            let found = errors(comprehension);
            assert!(found[0].message.contains("comprehensions"), "{found:?}");
        }
        let found = errors("lineQuota > 0 && [3].exists(b, b < 1)");
        assert_eq!(found[0].column, 17, "at the comprehension: {found:?}");
    }

    #[test]
    fn the_costliest_accepted_expression_runs_on_a_small_stack() {
        // Tokio's worker threads have 2 MiB of stack; the evaluation must fit, even unoptimised.
        let terms = (1..)
            .take_while(|n| {
                errors(&format!("{}lineQuota > 0", "lineQuota + ".repeat(*n))).is_empty()
            })
            .last()
            .unwrap();
        let text = format!("{}lineQuota > 0", "lineQuota + ".repeat(terms));
        let expression = Expression::compile(&text, &schema(true)).unwrap();
        let outcome = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let mut context = cel::Context::with_env(env());
                context.add_variable_from_value("lineQuota", cel::Value::Float(1.0));
                matches!(expression.execute(&context), Ok(cel::Value::Bool(true)))
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(outcome, "{terms} terms evaluated");
    }
}
