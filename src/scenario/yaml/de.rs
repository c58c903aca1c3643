//! A serde `Deserializer` over the marked tree that never stops at the
//! first problem: a value of the wrong type is recorded (with its mark and
//! field path) and replaced by a placeholder (0, false, "", empty), unknown
//! struct fields are recorded and skipped, missing required fields are
//! recorded and filled with placeholders. The caller gets a complete value
//! plus every problem; a value with problems is only ever used to find
//! more problems, never run.
//!
//! The hand-written types of `model_types` ask for their shape through
//! `deserialize_newtype_struct` with a name from `model_types::shape`, so
//! that a mismatch is known here before their visitor is called (a visitor
//! is consumed by the call, so an error from it could not be recovered).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeOwned, Expected, Unexpected, Visitor};

use super::de_access::{MapDe, SeqDe};
use super::scalar::{Resolved, resolve};
use super::tree::{Mark, Node, NodeValue};
use crate::scenario::locate::FieldPath;
use crate::scenario::model_types::shape;

/// Required fields (no default, not an `Option`) of each struct, by the
/// struct's name; from the generated JSON Schema (`scenario::schema`).
pub type RequiredFields = HashMap<String, Vec<String>>;

/// One problem found while deserializing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseProblem {
    pub mark: Mark,
    /// Shown as the error's field.
    pub field: FieldPath,
    /// Validation problems at or under this path are consequences of this
    /// one (a placeholder value) and are dropped.
    pub blocks: FieldPath,
    pub message: String,
    pub hint: Option<String>,
}

/// Deserializes `root` into `T`, collecting every problem. `None` only when
/// a visitor failed in a way no placeholder could absorb (the problem is
/// still in the list).
pub fn deserialize<T: DeserializeOwned>(
    root: &Node,
    required: &RequiredFields,
) -> (Option<T>, Vec<ParseProblem>) {
    let ctx = Ctx {
        problems: RefCell::new(Vec::new()),
        required,
    };
    let value = T::deserialize(NodeDe {
        node: root,
        path: PathLink::ROOT,
        ctx: &ctx,
        quiet: false,
    })
    .ok();
    (value, ctx.problems.into_inner())
}

pub(super) struct Ctx<'a> {
    problems: RefCell<Vec<ParseProblem>>,
    pub(super) required: &'a RequiredFields,
}

impl Ctx<'_> {
    pub(super) fn report(&self, problem: ParseProblem) {
        self.problems.borrow_mut().push(problem);
    }
}

/// A field path kept on the stack while deserializing; turned into a
/// `FieldPath` only when a problem is recorded, so the walk stays linear.
#[derive(Clone, Copy)]
pub(super) struct PathLink<'a> {
    parent: Option<&'a PathLink<'a>>,
    seg: SegRef<'a>,
}

#[derive(Clone, Copy)]
enum SegRef<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> PathLink<'a> {
    pub(super) const ROOT: PathLink<'static> = PathLink {
        parent: None,
        seg: SegRef::Root,
    };

    pub(super) fn key(&'a self, key: &'a str) -> PathLink<'a> {
        PathLink {
            parent: Some(self),
            seg: SegRef::Key(key),
        }
    }

    pub(super) fn index(&'a self, index: usize) -> PathLink<'a> {
        PathLink {
            parent: Some(self),
            seg: SegRef::Index(index),
        }
    }

    pub(super) fn to_path(self) -> FieldPath {
        let mut segs = Vec::new();
        let mut link = Some(&self);
        while let Some(l) = link {
            segs.push(l.seg);
            link = l.parent;
        }
        let mut path = FieldPath::root();
        for seg in segs.into_iter().rev() {
            path = match seg {
                SegRef::Root => path,
                SegRef::Key(k) => path.key(k),
                SegRef::Index(i) => path.index(i),
            };
        }
        path
    }
}

/// The error type; `recorded` once the innermost node has put it in the
/// problem list, so outer nodes do not record it again.
#[derive(Debug)]
pub struct DeError {
    message: String,
    recorded: bool,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            recorded: false,
        }
    }
}

#[derive(Clone, Copy)]
pub(super) struct NodeDe<'a> {
    pub(super) node: &'a Node,
    pub(super) path: PathLink<'a>,
    pub(super) ctx: &'a Ctx<'a>,
    /// A placeholder: mismatches are expected and not recorded.
    pub(super) quiet: bool,
}

fn expected_text(visitor: &dyn Expected) -> String {
    struct Show<'a>(&'a dyn Expected);
    impl fmt::Display for Show<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.fmt(f)
        }
    }
    Show(visitor).to_string()
}

impl<'a> NodeDe<'a> {
    fn resolved(&self) -> Option<Resolved<'a>> {
        match &self.node.value {
            NodeValue::Scalar { text, plain, tag } => Some(resolve(text, *plain, tag.as_deref())),
            _ => None,
        }
    }

    fn unexpected(&self) -> Unexpected<'a> {
        match self.resolved() {
            None if matches!(self.node.value, NodeValue::Seq(_)) => Unexpected::Seq,
            None => Unexpected::Map,
            Some(Resolved::Null) => Unexpected::Unit,
            Some(Resolved::Bool(b)) => Unexpected::Bool(b),
            Some(Resolved::Int(i)) if i < 0 => Unexpected::Signed(i as i64),
            Some(Resolved::Int(i)) => Unexpected::Unsigned(i as u64),
            Some(Resolved::Float(f)) => Unexpected::Float(f),
            Some(Resolved::Str(s)) => Unexpected::Str(s),
        }
    }

    pub(super) fn report(&self, message: String) {
        if self.quiet {
            return;
        }
        let path = self.path.to_path();
        self.ctx.report(ParseProblem {
            mark: self.node.mark,
            field: path.clone(),
            blocks: path,
            message,
            hint: None,
        });
    }

    fn wrong_type(&self, expected: &dyn Expected) {
        let message = format!(
            "invalid type: {}, expected {}",
            self.unexpected(),
            expected_text(expected)
        );
        self.report(message);
    }

    fn wrong_value(&self, expected: &dyn Expected) {
        let message = format!(
            "invalid value: {}, expected {}",
            self.unexpected(),
            expected_text(expected)
        );
        self.report(message);
    }

    /// Records a visitor's own error at this node (once) and passes it on.
    fn guard<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|mut e| {
            if !e.recorded {
                self.report(e.message.clone());
                e.recorded = true;
            }
            e
        })
    }

    fn any<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            NodeValue::Seq(items) => visitor.visit_seq(SeqDe::new(items, &self)),
            NodeValue::Map(entries) => visitor.visit_map(MapDe::new(entries, &self)),
            NodeValue::Scalar { .. } => match self.resolved() {
                Some(Resolved::Null) | None => visitor.visit_unit(),
                Some(Resolved::Bool(b)) => visitor.visit_bool(b),
                Some(Resolved::Int(i)) if i < 0 => visitor.visit_i64(i as i64),
                Some(Resolved::Int(i)) => visitor.visit_u64(i as u64),
                Some(Resolved::Float(f)) => visitor.visit_f64(f),
                Some(Resolved::Str(s)) => visitor.visit_str(s),
            },
        };
        self.guard(result)
    }

    fn unsigned<'de, V: Visitor<'de>>(self, max: u64, visitor: V) -> Result<V::Value, DeError> {
        match self.resolved() {
            Some(Resolved::Int(i)) if (0..=i128::from(max)).contains(&i) => {
                let r = visitor.visit_u64(i as u64);
                self.guard(r)
            }
            Some(Resolved::Int(_)) => {
                self.wrong_value(&visitor);
                visitor.visit_u64(0)
            }
            _ => {
                self.wrong_type(&visitor);
                visitor.visit_u64(0)
            }
        }
    }

    fn signed<'de, V: Visitor<'de>>(
        self,
        min: i64,
        max: i64,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.resolved() {
            Some(Resolved::Int(i)) if (i128::from(min)..=i128::from(max)).contains(&i) => {
                let r = visitor.visit_i64(i as i64);
                self.guard(r)
            }
            Some(Resolved::Int(_)) => {
                self.wrong_value(&visitor);
                visitor.visit_i64(0)
            }
            _ => {
                self.wrong_type(&visitor);
                visitor.visit_i64(0)
            }
        }
    }

    fn float<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match self.resolved() {
            Some(Resolved::Int(i)) => i as f64,
            Some(Resolved::Float(f)) => f,
            _ => {
                self.wrong_type(&visitor);
                0.0
            }
        };
        visitor.visit_f64(value)
    }

    /// A `Templated<T>`: a `{{ ... }}` string or a value of `T`; anything
    /// else is reported here and read as `T`'s zero, so the rest of the
    /// file is still read.
    fn templated<'de, V: Visitor<'de>>(
        self,
        name: &'static str,
        resolved: Option<Resolved<'_>>,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let in_range = |max: u64| move |i: i128| (0..=i128::from(max)).contains(&i);
        let (fits, out_of_range) = match (name, &resolved) {
            (_, Some(Resolved::Str(s))) => (s.contains("{{"), false),
            (shape::TEMPLATED_U64, Some(Resolved::Int(i))) => {
                (in_range(u64::MAX)(*i), !in_range(u64::MAX)(*i))
            }
            (shape::TEMPLATED_U32, Some(Resolved::Int(i))) => (
                in_range(u64::from(u32::MAX))(*i),
                !in_range(u64::from(u32::MAX))(*i),
            ),
            (shape::TEMPLATED_F64, Some(Resolved::Int(_) | Resolved::Float(_))) => (true, false),
            (shape::TEMPLATED_BOOL, Some(Resolved::Bool(_))) => (true, false),
            _ => (false, false),
        };
        if fits {
            return self.any(visitor);
        }
        if out_of_range {
            self.wrong_value(&visitor);
        } else {
            self.wrong_type(&visitor);
        }
        match name {
            shape::TEMPLATED_F64 => visitor.visit_f64(0.0),
            shape::TEMPLATED_BOOL => visitor.visit_bool(false),
            _ => visitor.visit_u64(0),
        }
    }

    /// The shapes the `model_types` types accept; see the module comment.
    fn shaped<'de, V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let resolved = self.resolved();
        let is_map = matches!(self.node.value, NodeValue::Map(_));
        let fits = match name {
            shape::SCALAR => resolved.is_some(),
            shape::TEXT => matches!(
                resolved,
                Some(Resolved::Str(_) | Resolved::Int(_) | Resolved::Float(_))
            ),
            shape::TEXT_OR => {
                if is_map {
                    let r = visitor.visit_newtype_struct(self);
                    return self.guard(r);
                }
                matches!(
                    resolved,
                    Some(Resolved::Str(_) | Resolved::Int(_) | Resolved::Float(_))
                )
            }
            shape::ORDERED_MAP => is_map || resolved == Some(Resolved::Null),
            shape::STATUS_SPEC => {
                matches!(self.node.value, NodeValue::Seq(_))
                    || matches!(resolved, Some(Resolved::Str(_) | Resolved::Int(_)))
            }
            shape::TEXT_LIST => {
                matches!(self.node.value, NodeValue::Seq(_))
                    || matches!(resolved, Some(Resolved::Str(_)))
            }
            shape::TEMPLATED_U64
            | shape::TEMPLATED_U32
            | shape::TEMPLATED_F64
            | shape::TEMPLATED_BOOL => return self.templated(name, resolved, visitor),
            _ => {
                let r = visitor.visit_newtype_struct(self);
                return self.guard(r);
            }
        };
        if fits {
            return self.any(visitor);
        }
        self.wrong_type(&visitor);
        match name {
            shape::SCALAR | shape::ORDERED_MAP => visitor.visit_unit(),
            _ => visitor.visit_str(""),
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(Resolved::Bool(b)) = self.resolved() {
            let r = visitor.visit_bool(b);
            return self.guard(r);
        }
        self.wrong_type(&visitor);
        visitor.visit_bool(false)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u8::MAX), visitor)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u16::MAX), visitor)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::from(u32::MAX), visitor)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.unsigned(u64::MAX, visitor)
    }
    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i8::MIN), i64::from(i8::MAX), visitor)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i16::MIN), i64::from(i16::MAX), visitor)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::from(i32::MIN), i64::from(i32::MAX), visitor)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.signed(i64::MIN, i64::MAX, visitor)
    }
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.float(visitor)
    }

    /// Any scalar but null reads as the text written (`name: 123` is "123"),
    /// as serde_norway did.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Scalar { text, .. } if self.resolved() != Some(Resolved::Null) => {
                let r = visitor.visit_str(text);
                self.guard(r)
            }
            _ => {
                self.wrong_type(&visitor);
                visitor.visit_str("")
            }
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.resolved() == Some(Resolved::Null) {
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.resolved() != Some(Resolved::Null) {
            self.wrong_type(&visitor);
        }
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.shaped(name, visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Seq(items) => {
                let r = visitor.visit_seq(SeqDe::new(items, &self));
                self.guard(r)
            }
            _ => {
                self.wrong_type(&visitor);
                visitor.visit_seq(SeqDe::new(&[], &self))
            }
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Map(entries) => {
                let r = visitor.visit_map(MapDe::new(entries, &self));
                self.guard(r)
            }
            _ => {
                self.wrong_type(&visitor);
                visitor.visit_map(MapDe::new(&[], &self))
            }
        }
    }

    /// A struct: unknown keys reported (but `x-` keys, kept for anchors,
    /// skipped silently), missing required fields reported and filled. An
    /// empty value (`request:`) reads as an empty mapping, so what is
    /// missing from it is named.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let entries = match &self.node.value {
            NodeValue::Map(entries) => entries.as_slice(),
            _ if self.resolved() == Some(Resolved::Null) => &[],
            _ => {
                self.wrong_type(&visitor);
                let quiet = NodeDe {
                    quiet: true,
                    ..self
                };
                let access = super::de_struct::StructDe::new(name, fields, &[], &quiet);
                return visitor.visit_map(access);
            }
        };
        let access = super::de_struct::StructDe::new(name, fields, entries, &self);
        let r = visitor.visit_map(access);
        self.guard(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        let message = format!("invalid type: {}, expected enum {name}", self.unexpected());
        self.report(message.clone());
        Err(DeError {
            message,
            recorded: true,
        })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
#[path = "de_tests.rs"]
mod tests;
