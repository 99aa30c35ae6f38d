//! Bounding what one expression can cost when it runs.
//!
//! cel evaluates recursively and runs comprehensions (`all`, `exists`, `map`…) to completion,
//! so a short expression can still overflow a worker thread's stack (`1+1+…+1`, a few hundred
//! terms) or loop for minutes (comprehensions nested over long lists). The compiled tree is
//! measured before it is accepted: depth, comprehensions inside comprehensions, list sizes.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

/// Deepest expression tree accepted (an operator chain of N terms is N deep).
pub const MAX_DEPTH: usize = 40;
/// Comprehensions nested in one another, at most.
pub const MAX_NESTED_COMPREHENSIONS: usize = 2;
/// Elements of one list literal, at most.
pub const MAX_LIST_ITEMS: usize = 100;

/// The first bound `expr` breaks, as a message.
pub(crate) fn check(expr: &IdedExpr) -> Result<(), String> {
    measure(expr, 1, 0)
}

fn measure(node: &IdedExpr, depth: usize, comprehensions: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "the expression is nested more than {MAX_DEPTH} operations deep"
        ));
    }
    let next = depth + 1;
    match &node.expr {
        Expr::Call(call) => {
            call.target
                .iter()
                .try_for_each(|t| measure(t, next, comprehensions))?;
            call.args
                .iter()
                .try_for_each(|a| measure(a, next, comprehensions))
        }
        Expr::Comprehension(c) => {
            let inner = comprehensions + 1;
            if inner > MAX_NESTED_COMPREHENSIONS {
                return Err(format!("more than {MAX_NESTED_COMPREHENSIONS} comprehensions (all, exists, map, filter) are nested"));
            }
            measure(&c.iter_range, next, comprehensions)?;
            measure(&c.accu_init, next, comprehensions)?;
            [&c.loop_cond, &c.loop_step, &c.result]
                .into_iter()
                .try_for_each(|e| measure(e, next, inner))
        }
        Expr::List(list) => {
            if list.elements.len() > MAX_LIST_ITEMS {
                return Err(format!(
                    "a list has {} elements; at most {MAX_LIST_ITEMS} are accepted",
                    list.elements.len()
                ));
            }
            list.elements
                .iter()
                .try_for_each(|e| measure(e, next, comprehensions))
        }
        Expr::Map(map) => map
            .entries
            .iter()
            .try_for_each(|e| entry(&e.expr, next, comprehensions)),
        Expr::Struct(s) => s
            .entries
            .iter()
            .try_for_each(|e| entry(&e.expr, next, comprehensions)),
        Expr::Select(select) => measure(&select.operand, next, comprehensions),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

fn entry(entry: &EntryExpr, depth: usize, comprehensions: usize) -> Result<(), String> {
    match entry {
        EntryExpr::MapEntry(e) => {
            measure(&e.key, depth, comprehensions)?;
            measure(&e.value, depth, comprehensions)
        }
        EntryExpr::StructField(f) => measure(&f.value, depth, comprehensions),
    }
}
