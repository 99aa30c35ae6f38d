//! Binding one poll into CEL without building maps: the typed snapshot is read in place.
//!
//! The first binding went snapshot → JSON → CEL maps on every poll, and again for every
//! platform: a few hundred allocations before the first rule ran. Here a poll's figures are
//! converted once into fixed tables of CEL scalars ([`Poll`]), and a [`Scope`] answers CEL's
//! lookups by name from them (cel's `VariableResolver`), with `previous`, `platform`, `bot`
//! and `api` as small objects that find their fields on access. Nothing is allocated per
//! lookup, and nothing per platform.
//!
//! The names and values are those of the template variables in [`super::vars`], from which
//! the rule schema is derived; `binds_what_the_template_variables_hold` compares the two on
//! every variable, so they cannot drift apart.

use std::sync::Arc;

use cel::common::traits::Indexer;
use cel::common::types::{CelBool, CelDouble, CelString, Kind, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::ExecutionError;

use super::vars::{ApiStatus, EvalInput};
use crate::analytics::{Field, FieldRef, Platform, Snapshot};

/// One value as CEL sees it: numbers as doubles (CEL has no mixed int/double arithmetic, and
/// rules write `x > 0.8 * y`).
#[derive(Debug, Clone)]
enum Scalar<'a> {
    Number(CelDouble),
    Flag(CelBool),
    Text(CelString<'a>),
}

impl<'a> Scalar<'a> {
    fn number(n: i64) -> Scalar<'a> {
        Scalar::Number((n as f64).into())
    }

    fn text(s: &'a str) -> Scalar<'a> {
        Scalar::Text(CelString::from(s))
    }

    fn val(&self) -> &(dyn Val + 'a) {
        match self {
            Scalar::Number(n) => n,
            Scalar::Flag(b) => b,
            Scalar::Text(s) => s,
        }
    }
}

/// A snapshot's figures by their API names, plus the derived quota figures.
#[derive(Debug, Clone)]
struct Figures<'a> {
    fields: [Option<Scalar<'a>>; Field::ALL.len()],
    quota_ratio: Option<Scalar<'a>>,
    quota_remaining: Option<Scalar<'a>>,
}

impl<'a> Figures<'a> {
    /// Reads `snapshot` once: numbers converted, text borrowed.
    fn of(snapshot: &'a Snapshot) -> Figures<'a> {
        Figures {
            fields: std::array::from_fn(|index| {
                Some(match Field::ALL[index].get_ref(snapshot)? {
                    FieldRef::Int(n) => Scalar::number(n),
                    FieldRef::Bool(b) => Scalar::Flag(b.into()),
                    FieldRef::Text(t) => Scalar::text(t),
                })
            }),
            quota_ratio: snapshot
                .line_quota_ratio()
                .map(|r| Scalar::Number(r.into())),
            quota_remaining: snapshot.line_quota_remaining().map(Scalar::number),
        }
    }

    /// The figure named `name`: `None` when the API did not send it, or there is no such name.
    fn get(&self, name: &str) -> Option<&(dyn Val + 'a)> {
        let scalar = match name {
            "lineQuotaRatio" => self.quota_ratio.as_ref(),
            "lineQuotaRemaining" => self.quota_remaining.as_ref(),
            _ => self.fields[Field::named(name)?.index()].as_ref(),
        };
        scalar.map(Scalar::val)
    }
}

/// `platform`, and `previous.platform`: one platform's figures.
#[derive(Debug, Clone)]
struct PlatformFigures<'a> {
    name: Scalar<'a>,
    label: Scalar<'a>,
    integrated: Option<Scalar<'a>>,
    average_conversation_value: Option<Scalar<'a>>,
    average_conversation_time: Option<Scalar<'a>>,
}

impl<'a> PlatformFigures<'a> {
    /// `snapshot`'s figures for `platform`; after a failed poll, only its name and label.
    fn of(snapshot: Option<&Snapshot>, platform: Platform) -> PlatformFigures<'a> {
        let view = snapshot.map(|s| s.platform(platform));
        PlatformFigures {
            name: Scalar::text(platform.id()),
            label: Scalar::text(platform.display_name()),
            integrated: view
                .and_then(|v| v.integrated)
                .map(|b| Scalar::Flag(b.into())),
            average_conversation_value: view
                .and_then(|v| v.average_conversation_value)
                .map(Scalar::number),
            average_conversation_time: view
                .and_then(|v| v.average_conversation_time)
                .map(Scalar::number),
        }
    }

    fn field(&self, name: &str) -> Option<&(dyn Val + 'a)> {
        let scalar = match name {
            "name" => Some(&self.name),
            "label" => Some(&self.label),
            "integrated" => self.integrated.as_ref(),
            "averageConversationValue" => self.average_conversation_value.as_ref(),
            "averageConversationTime" => self.average_conversation_time.as_ref(),
            _ => None,
        };
        scalar.map(Scalar::val)
    }
}

/// `previous`: the last snapshot's figures, with its `platform` in a per-platform rule.
#[derive(Debug, Clone)]
struct Previous<'s, 'a> {
    figures: &'s Figures<'a>,
    platform: Option<&'s PlatformFigures<'a>>,
}

impl<'s, 'a> Previous<'s, 'a> {
    fn field(&self, name: &str) -> Option<&(dyn Val + 'a)> {
        match (name, self.platform) {
            ("platform", Some(platform)) => Some(platform),
            _ => self.figures.get(name),
        }
    }
}

/// `bot`: its id and name.
#[derive(Debug, Clone)]
struct BotFigures<'a> {
    id: Scalar<'a>,
    name: Scalar<'a>,
}

impl<'a> BotFigures<'a> {
    fn field(&self, name: &str) -> Option<&(dyn Val + 'a)> {
        match name {
            "id" => Some(self.id.val()),
            "name" => Some(self.name.val()),
            _ => None,
        }
    }
}

/// `api`: whether the last poll succeeded, and why not.
#[derive(Debug, Clone)]
struct ApiFigures<'a> {
    up: Scalar<'a>,
    consecutive_failures: Scalar<'a>,
    error: Scalar<'a>,
    error_kind: Scalar<'a>,
}

impl<'a> ApiFigures<'a> {
    fn of(api: &'a ApiStatus) -> ApiFigures<'a> {
        ApiFigures {
            up: Scalar::Flag(api.up.into()),
            consecutive_failures: Scalar::number(api.consecutive_failures.into()),
            error: Scalar::text(api.error.as_deref().unwrap_or_default()),
            error_kind: Scalar::text(api.error_kind.unwrap_or_default()),
        }
    }

    fn field(&self, name: &str) -> Option<&(dyn Val + 'a)> {
        let scalar = match name {
            "up" => &self.up,
            "consecutive_failures" => &self.consecutive_failures,
            "error" => &self.error,
            "error_kind" => &self.error_kind,
            _ => return None,
        };
        Some(scalar.val())
    }
}

/// Every object has the same CEL type: something with named fields.
static OBJECT_TYPE: Type = Type::simple_type(Kind::Struct, "botwatch.object");

/// Makes an object with a `field(name)` method a CEL value whose fields `.name` and
/// `["name"]` read, and `has(.name)` tests.
macro_rules! cel_object {
    ($($object:ident<$($lt:lifetime),+>),* $(,)?) => {$(
        impl<$($lt),+> Val for $object<$($lt),+> {
            fn get_type(&self) -> &Type {
                &OBJECT_TYPE
            }

            fn cel_type() -> &'static Type {
                &OBJECT_TYPE
            }

            fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
            where
                Self: 'w,
            {
                Box::new(self.clone())
            }

            fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
            where
                Self: 'w,
            {
                Some(self)
            }
        }

        impl<$($lt),+> Indexer for $object<$($lt),+> {
            fn get<'b, 'w>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
            where
                Self: 'w,
            {
                let name = field_name(index)?;
                self.field(name)
                    .map(CowVal::Borrowed)
                    .ok_or_else(|| ExecutionError::NoSuchKey(Arc::new(name.to_owned())))
            }

            fn steal<'w>(
                self: Box<Self>,
                index: &dyn Val,
            ) -> Result<Box<dyn Val + 'w>, ExecutionError>
            where
                Self: 'w,
            {
                self.get(index).map(CowVal::into_owned)
            }
        }
    )*};
}

cel_object!(
    PlatformFigures<'a>,
    Previous<'s, 'a>,
    BotFigures<'a>,
    ApiFigures<'a>
);

/// The name of a field access (`x.name` or `x["name"]`).
fn field_name(index: &dyn Val) -> Result<&str, ExecutionError> {
    index
        .downcast_ref::<CelString>()
        .map(CelString::inner)
        .ok_or_else(|| ExecutionError::function_error("_[_]", "fields are named by strings"))
}

/// A poll's figures, converted once and shared by every [`Scope`] of its evaluation.
pub(crate) struct Poll<'a> {
    current: Option<Figures<'a>>,
    /// `previous` only next to a current snapshot: after a failed poll, rules that read
    /// snapshot data stay unknown, and so do those that read only `previous`.
    previous: Option<Figures<'a>>,
    platforms: [(PlatformFigures<'a>, Option<PlatformFigures<'a>>); Platform::ALL.len()],
    bot: BotFigures<'a>,
    api: ApiFigures<'a>,
}

impl<'a> Poll<'a> {
    /// Converts the figures of `input`.
    pub(crate) fn new(input: &EvalInput<'a>) -> Poll<'a> {
        let previous_snapshot = input.previous.filter(|_| input.snapshot.is_some());
        Poll {
            current: input.snapshot.map(Figures::of),
            previous: previous_snapshot.map(Figures::of),
            platforms: std::array::from_fn(|index| {
                let platform = Platform::ALL[index];
                (
                    PlatformFigures::of(input.snapshot, platform),
                    previous_snapshot.map(|p| PlatformFigures::of(Some(p), platform)),
                )
            }),
            bot: BotFigures {
                id: Scalar::text(input.bot_id),
                name: Scalar::text(input.bot_name),
            },
            api: ApiFigures::of(input.api),
        }
    }

    /// The variables of a per-bot rule, or of a per-platform rule for `platform`.
    pub(crate) fn scope(&self, platform: Option<Platform>) -> Scope<'_, 'a> {
        let platforms = platform.map(|p| &self.platforms[p.index()]);
        Scope {
            poll: self,
            previous: self.previous.as_ref().map(|figures| Previous {
                figures,
                platform: platforms.and_then(|(_, previous)| previous.as_ref()),
            }),
            platform: platforms.map(|(current, _)| current),
        }
    }
}

/// The variables of one evaluation, answered by name as CEL asks for them.
pub(crate) struct Scope<'s, 'a> {
    poll: &'s Poll<'a>,
    previous: Option<Previous<'s, 'a>>,
    platform: Option<&'s PlatformFigures<'a>>,
}

impl VariableResolver for Scope<'_, '_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let value: &dyn Val = match variable {
            "previous" => self.previous.as_ref()?,
            "platform" => self.platform?,
            "bot" => &self.poll.bot,
            "api" => &self.poll.api,
            field => self.poll.current.as_ref()?.get(field)?,
        };
        Some(CowVal::Borrowed(value))
    }
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
