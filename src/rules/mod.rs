//! The second stage: rules from `rules.yaml`, compiled once and evaluated on every snapshot.
//!
//! [`RuleSet::load`] reads and checks a file (every mistake at once, with positions);
//! [`evaluate`] runs every rule of a bot against one poll and says, per rule instance, whether
//! the problem condition and the recovery condition hold, fail, or are unknown. This module
//! knows snapshots but nothing of alert state: that is the next stage's business.

mod bind;
mod cost;
mod diagnostic;
pub(crate) mod draft;
mod eval;
mod expr;
mod fields;
mod file;
mod locate;
mod read;
mod rule;
pub mod schema;
mod source;
mod template;
mod vars;
mod yaml_error;

pub use diagnostic::{Diagnostic, Diagnostics, Position};
pub use eval::{evaluate, Evaluation, Truth};
pub use expr::Expression;
pub use file::{LoadError, RuleSet};
pub use read::MAX_RULES_FILE_BYTES;
pub use rule::{Each, Rule, Severity};
pub use source::position_of;
pub use template::Template;
pub use vars::{sample_snapshot, ApiStatus, EvalInput};
pub(crate) use yaml_error::{YamlError, YamlErrorKind};
