//! Bounding what one expression can cost when it runs.
//!
//! cel evaluates recursively, so a short expression can still overflow a worker thread's stack
//! (`1+1+…+1`, a few hundred terms): the depth of the compiled tree is bounded. And cel runs
//! comprehensions (`all`, `exists`, `map`…) to completion, where the variable a comprehension
//! binds can be used any number of times in its body (`x + x + … + x`), multiplying values at
//! every step: a 1.8 KiB expression over two lists of 100 took 93 s to evaluate once. Rules see
//! one snapshot of single values, so there is nothing for a comprehension to iterate over: they
//! are refused, and with them every way for an expression's work to outgrow its own size.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// Deepest expression tree accepted (an operator chain of N terms is N deep).
pub const MAX_DEPTH: usize = 40;
/// Elements of one list literal, at most.
pub const MAX_LIST_ITEMS: usize = 100;

/// The first bound `expr` breaks: the id of the node that breaks it, and why.
pub(crate) fn check(expr: &IdedExpr) -> Result<(), (u64, String)> {
    measure(expr, 1)
}

fn measure(node: &IdedExpr, depth: usize) -> Result<(), (u64, String)> {
    if depth > MAX_DEPTH {
        return Err((
            node.id,
            format!("the expression is nested more than {MAX_DEPTH} operations deep"),
        ));
    }
    let next = depth + 1;
    match &node.expr {
        Expr::Call(call) => {
            call.target.iter().try_for_each(|t| measure(t, next))?;
            call.args.iter().try_for_each(|a| measure(a, next))
        }
        // Reported where the iterated list starts: the macro's own node is its `(`.
        Expr::Comprehension(c) => Err((
            c.iter_range.id,
            "comprehensions (all, exists, exists_one, map, filter) are not supported: a rule sees single values, with nothing to iterate over".into(),
        )),
        Expr::List(list) => {
            if list.elements.len() > MAX_LIST_ITEMS {
                return Err((
                    node.id,
                    format!(
                        "a list has {} elements; at most {MAX_LIST_ITEMS} are accepted",
                        list.elements.len()
                    ),
                ));
            }
            list.elements.iter().try_for_each(|e| measure(e, next))
        }
        Expr::Map(map) => map.entries.iter().try_for_each(|e| entry(&e.expr, next)),
        Expr::Struct(s) => s.entries.iter().try_for_each(|e| entry(&e.expr, next)),
        Expr::Select(select) => measure(&select.operand, next),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

fn entry(entry: &EntryExpr, depth: usize) -> Result<(), (u64, String)> {
    match entry {
        EntryExpr::MapEntry(e) => {
            measure(&e.key, depth)?;
            measure(&e.value, depth)
        }
        EntryExpr::StructField(f) => measure(&f.value, depth),
    }
}
