//! Small serde building blocks for the scenario model: ordered maps that
//! reject duplicate keys, scalars kept as text, and "text or map" values.
//! Hand-written visitors (instead of `#[serde(untagged)]`) name what was
//! expected. Each type asks for its shape with `deserialize_newtype_struct`
//! and a name from [`shape`]: the loader's deserializer (`scenario::yaml::de`)
//! then checks the shape itself and substitutes a placeholder on a mismatch,
//! so one wrong value does not stop the rest of the file from being read.
//! Other deserializers call `visit_newtype_struct`, which reads the value
//! with `deserialize_any` as before; `TextOr` is the exception (its
//! `visit_newtype_struct` reads the map form), so it reads only through
//! the loader.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The names the types here pass to `deserialize_newtype_struct`.
pub mod shape {
    pub const SCALAR: &str = "$stampede::Scalar";
    pub const TEXT: &str = "$stampede::Text";
    pub const TEXT_OR: &str = "$stampede::TextOr";
    pub const ORDERED_MAP: &str = "$stampede::OrderedMap";
    pub const STATUS_SPEC: &str = "$stampede::StatusSpec";
    pub const TEXT_LIST: &str = "$stampede::TextList";
    /// `Templated<T>`: a `{{ ... }}` string, or a value of `T`.
    pub const TEMPLATED_U64: &str = "$stampede::Templated<u64>";
    pub const TEMPLATED_U32: &str = "$stampede::Templated<u32>";
    pub const TEMPLATED_F64: &str = "$stampede::Templated<f64>";
    pub const TEMPLATED_BOOL: &str = "$stampede::Templated<bool>";
}

/// A YAML scalar kept as text: strings as written, numbers and booleans in
/// their YAML spelling, null as `null`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    /// True when the YAML value was a string (not a number, boolean or null).
    pub is_string: bool,
}

impl Scalar {
    pub fn string(text: impl Into<String>) -> Self {
        Scalar {
            text: text.into(),
            is_string: true,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::string(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::string(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(plain(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(plain(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(plain(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(plain(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(plain("null".to_string()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        self.visit_unit()
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
}

fn plain(text: String) -> Scalar {
    Scalar {
        text,
        is_string: false,
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(shape::SCALAR, ScalarVisitor)
    }
}

/// Text that may be written as a number in YAML (`timeout: 10` is read as
/// "10", so validation can say what a duration looks like).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(shape::TEXT, TextVisitor)
    }
}

/// A value written either as text or as a map (`sleep: 1s` or
/// `sleep: { min: 1s, max: 3s }`).
#[derive(Clone, Debug)]
pub enum TextOr<M> {
    Text(Text),
    Map(M),
}

impl<'de, M: Deserialize<'de>> Deserialize<'de> for TextOr<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<M>(PhantomData<M>);
        impl<'de, M: Deserialize<'de>> Visitor<'de> for V<M> {
            type Value = TextOr<M>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a map")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(TextOr::Text(Text(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(TextOr::Text(Text(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(TextOr::Text(Text(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(TextOr::Text(Text(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                M::deserialize(MapAccessDeserializer::new(map)).map(TextOr::Map)
            }
            /// The loader's deserializer calls this for the map form only,
            /// so `M` reads the mapping as its own struct (unknown keys
            /// reported with hints, `x-` keys skipped).
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                M::deserialize(d).map(TextOr::Map)
            }
        }
        d.deserialize_newtype_struct(shape::TEXT_OR, V(PhantomData))
    }
}

/// A mapping in file order; duplicate keys are an error.
#[derive(Clone, Debug)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OrderedMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                // A set, so a map of many keys is read in linear time.
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<Scalar>()? {
                    if !seen.insert(key.text.clone()) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate key {:?}",
                            key.text
                        )));
                    }
                    let value = map.next_value::<V>()?;
                    entries.push((key.text, value));
                }
                Ok(OrderedMap(entries))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(shape::ORDERED_MAP, MapVisitor(PhantomData))
    }
}

/// Status codes as written: `200`, `"200-299"`, or a list of those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSpec(pub Vec<String>);

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status code, a range like \"200-299\", or a list of them")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![v.to_string()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![v.to_string()]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusSpec, E> {
                Ok(StatusSpec(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Text>()? {
                    out.push(item.0);
                }
                Ok(StatusSpec(out))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<StatusSpec, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(shape::STATUS_SPEC, V)
    }
}

/// One string or a list of strings (`no_proxy: ".internal, 10.0.0.7"` or
/// `no_proxy: [.internal, 10.0.0.7]`), the items as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextList(pub Vec<String>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TextList, E> {
                Ok(TextList(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Text>()? {
                    out.push(item.0);
                }
                Ok(TextList(out))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<TextList, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(shape::TEXT_LIST, V)
    }
}

/// JSON Schemas of the types above, for `schemas/scenario.schema.json`
/// (`scenario::schema`): each says which YAML shapes its visitor accepts.
mod json_schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    use super::{OrderedMap, Scalar, StatusSpec, Templated, Text, TextList, TextOr};

    /// The plain type's schema: `scenario::schema` lets every integer,
    /// number and boolean also be a `{{ ... }}` string, which is exactly
    /// what a `Templated` field accepts.
    impl<T: JsonSchema> JsonSchema for Templated<T> {
        fn inline_schema() -> bool {
            true
        }
        fn schema_name() -> Cow<'static, str> {
            T::schema_name()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            T::json_schema(generator)
        }
    }

    impl JsonSchema for Scalar {
        fn schema_name() -> Cow<'static, str> {
            "Scalar".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A string, number or boolean, kept as text.",
                "type": ["string", "number", "boolean", "null"]
            })
        }
    }

    impl JsonSchema for Text {
        fn schema_name() -> Cow<'static, str> {
            "Text".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": ["string", "number"] })
        }
    }

    impl<M: JsonSchema> JsonSchema for TextOr<M> {
        fn schema_name() -> Cow<'static, str> {
            format!("TextOr_{}", M::schema_name()).into()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let map = generator.subschema_for::<M>();
            json_schema!({ "anyOf": [{ "type": ["string", "number"] }, map] })
        }
    }

    impl<V: JsonSchema> JsonSchema for OrderedMap<V> {
        fn inline_schema() -> bool {
            true
        }
        fn schema_name() -> Cow<'static, str> {
            format!("OrderedMap_{}", V::schema_name()).into()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let value = generator.subschema_for::<V>();
            json_schema!({ "type": ["object", "null"], "additionalProperties": value })
        }
    }

    impl JsonSchema for TextList {
        fn schema_name() -> Cow<'static, str> {
            "TextList".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A string, or a list of strings.",
                "anyOf": [
                    { "type": "string" },
                    { "type": "array", "items": { "type": ["string", "number"] } }
                ]
            })
        }
    }

    impl JsonSchema for StatusSpec {
        fn schema_name() -> Cow<'static, str> {
            "StatusSpec".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "description": "A status code, a range like \"200-299\", or a list of them.",
                "anyOf": [
                    { "type": ["integer", "string"] },
                    { "type": "array", "items": { "type": ["integer", "string"] } }
                ]
            })
        }
    }
}

/// A number or boolean that may also be written as a template
/// (`vus: "{{ VUS | default(10) }}"`), so a k6 suite's `__ENV` knobs port
/// over. A template is rendered once the environment is known and typed
/// then; a plain string that is not a template is still a type error here,
/// where serde can point at it.
#[derive(Clone, Debug, PartialEq)]
pub enum Templated<T> {
    /// Written as a YAML number or boolean.
    Value(T),
    /// Written as a string holding at least one `{{ ... }}`.
    Template(String),
}

/// The types a [`Templated`] field can hold.
pub trait TemplatedType: Sized + Copy {
    /// What a value looks like, for errors: "a whole number".
    const EXPECTED: &'static str;
    /// The [`shape`] the loader checks before the visitor sees the value.
    const SHAPE: &'static str;
    /// The value a rendered template spells, if it spells one.
    fn parse(text: &str) -> Option<Self>;
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
}

impl TemplatedType for u64 {
    const EXPECTED: &'static str = "a whole number";
    const SHAPE: &'static str = shape::TEMPLATED_U64;
    fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok()
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        v.try_into().ok()
    }
}

impl TemplatedType for u32 {
    const EXPECTED: &'static str = "a whole number";
    const SHAPE: &'static str = shape::TEMPLATED_U32;
    fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok()
    }
    fn from_u64(v: u64) -> Option<Self> {
        v.try_into().ok()
    }
    fn from_i64(v: i64) -> Option<Self> {
        v.try_into().ok()
    }
}

impl TemplatedType for f64 {
    const EXPECTED: &'static str = "a number";
    const SHAPE: &'static str = shape::TEMPLATED_F64;
    fn parse(text: &str) -> Option<Self> {
        text.trim().parse().ok().filter(|f: &f64| f.is_finite())
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
}

impl TemplatedType for bool {
    const EXPECTED: &'static str = "a boolean";
    const SHAPE: &'static str = shape::TEMPLATED_BOOL;
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}

impl<'de, T: TemplatedType> Deserialize<'de> for Templated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<T: TemplatedType> V<T> {
            fn value<E: de::Error>(
                &self,
                value: Option<T>,
                shown: de::Unexpected<'_>,
            ) -> Result<Templated<T>, E> {
                value
                    .map(Templated::Value)
                    .ok_or_else(|| E::invalid_type(shown, self))
            }
        }
        impl<'de, T: TemplatedType> Visitor<'de> for V<T> {
            type Value = Templated<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{} or a \"{{{{ NAME }}}}\" template", T::EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.contains("{{") {
                    Ok(Templated::Template(v.to_string()))
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.value(T::from_u64(v), de::Unexpected::Unsigned(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                self.value(T::from_i64(v), de::Unexpected::Signed(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                self.value(T::from_f64(v), de::Unexpected::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                self.value(T::from_bool(v), de::Unexpected::Bool(v))
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_newtype_struct(T::SHAPE, V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::Templated;

    fn parse<T: super::TemplatedType>(yaml: &str) -> Result<Templated<T>, String> {
        serde_norway::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn literals_and_templates_are_kept_apart() {
        assert_eq!(parse::<u64>("10"), Ok(Templated::Value(10)));
        assert_eq!(parse::<f64>("10"), Ok(Templated::Value(10.0)));
        assert_eq!(parse::<bool>("true"), Ok(Templated::Value(true)));
        assert_eq!(
            parse::<u64>("\"{{ VUS | default(10) }}\""),
            Ok(Templated::Template("{{ VUS | default(10) }}".into()))
        );
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused_where_it_is_written() {
        assert_eq!(
            parse::<u64>("ten"),
            Err("invalid type: string \"ten\", expected a whole number or a \"{{ NAME }}\" template".into())
        );
        assert_eq!(
            parse::<u64>("-1"),
            Err(
                "invalid type: integer `-1`, expected a whole number or a \"{{ NAME }}\" template"
                    .into()
            )
        );
        assert_eq!(
            parse::<u32>("1.5"),
            Err("invalid type: floating point `1.5`, expected a whole number or a \"{{ NAME }}\" template".into())
        );
        assert_eq!(
            parse::<bool>("1"),
            Err(
                "invalid type: integer `1`, expected a boolean or a \"{{ NAME }}\" template".into()
            )
        );
    }
}
