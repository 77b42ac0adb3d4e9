//! Attribute access on promised outputs (`f.name`, `m["best"].name`,
//! `xs[0]`): following a promise's `attr_path` into the output it names.
//!
//! Literal maps and collections are walked as literals. A dataclass or
//! Pydantic model is a leaf `Binary` tagged `msgpack` (flytekit 1.14 and
//! later) or a `Struct` (older flytekits); the rest of the path is followed
//! inside it. What is picked is handed on as flytepropeller hands it on, so
//! the receiving flytekit decodes it against the input's declared type: from
//! msgpack, another msgpack binary (a scalar, a nested dataclass or a list
//! alike); from a struct, a struct, a collection or a primitive, every
//! number a float (flytekit turns a float back into an int input).

use std::fmt;

use updraft_proto::flyteidl::core::{self, literal, primitive, promise_attribute, scalar};

/// The tag flytekit gives binaries holding msgpack.
pub const MSGPACK_TAG: &str = "msgpack";

/// One step of a path that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot take {step}: {reason}")]
pub struct PathError {
    /// The step, as a user wrote it: "key `name`" or "item 2".
    pub step: String,
    /// Why, naming what the value holds where that helps fix the path.
    pub reason: String,
}

/// A step of an attribute path.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(i32),
}

impl fmt::Display for Step<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Key(key) => write!(formatter, "key `{key}`"),
            Step::Index(index) => write!(formatter, "item {index}"),
        }
    }
}

impl<'a> Step<'a> {
    fn of(attribute: &'a core::PromiseAttribute) -> Result<Self, PathError> {
        match attribute.value.as_ref() {
            Some(promise_attribute::Value::StringValue(key)) => Ok(Step::Key(key)),
            Some(promise_attribute::Value::IntValue(index)) => Ok(Step::Index(*index)),
            None => Err(PathError {
                step: "an empty step".into(),
                reason: "the attribute path is malformed".into(),
            }),
        }
    }

    fn fails(self, reason: impl Into<String>) -> PathError {
        PathError {
            step: self.to_string(),
            reason: reason.into(),
        }
    }
}

/// Follows `path` from `literal`, the output a promise names.
pub fn follow_attribute_path(
    mut literal: core::Literal,
    path: &[core::PromiseAttribute],
) -> Result<core::Literal, PathError> {
    for (taken, attribute) in path.iter().enumerate() {
        let step = Step::of(attribute)?;
        literal = match (literal.value, step) {
            (Some(literal::Value::Map(mut map)), Step::Key(key)) => {
                match map.literals.remove(key) {
                    Some(value) => value,
                    None => {
                        return Err(step.fails(format!(
                            "no such key; it has {}",
                            names(map.literals.keys().map(String::as_str))
                        )));
                    }
                }
            }
            (Some(literal::Value::Collection(collection)), Step::Index(index)) => {
                let length = collection.literals.len();
                usize::try_from(index)
                    .ok()
                    .and_then(|index| collection.literals.into_iter().nth(index))
                    .ok_or_else(|| step.fails(out_of_range(length)))?
            }
            (Some(literal::Value::Scalar(scalar)), _) => {
                let rest = &path[taken..];
                return match scalar.value {
                    Some(scalar::Value::Binary(binary)) => follow_in_binary(&binary, rest),
                    Some(scalar::Value::Generic(structure)) => follow_in_struct(structure, rest),
                    other => Err(step.fails(format!(
                        "it is {}, which has no attributes",
                        scalar_kind(other.as_ref())
                    ))),
                };
            }
            (Some(literal::Value::Map(_)), Step::Index(_)) => {
                return Err(step.fails("it is a map; take a key of it"));
            }
            (Some(literal::Value::Collection(_)), Step::Key(_)) => {
                return Err(step.fails("it is a list; take an item of it by its index"));
            }
            (Some(literal::Value::OffloadedMetadata(_)), _) => {
                return Err(step.fails("it is offloaded, which updraft does not read"));
            }
            (None, _) => return Err(step.fails("it is empty")),
        };
    }
    Ok(literal)
}

fn follow_in_binary(
    binary: &core::Binary,
    path: &[core::PromiseAttribute],
) -> Result<core::Literal, PathError> {
    let first = Step::of(&path[0])?;
    if binary.tag != MSGPACK_TAG {
        return Err(first.fails(format!(
            "it is a binary in format `{}`; only `{MSGPACK_TAG}` can be looked into",
            binary.tag
        )));
    }
    let mut value = rmpv::decode::read_value(&mut binary.value.as_slice())
        .map_err(|error| first.fails(format!("it is not valid msgpack: {error}")))?;
    for attribute in path {
        let step = Step::of(attribute)?;
        value = match (value, step) {
            (rmpv::Value::Map(entries), Step::Key(key)) => {
                let known = names(entries.iter().filter_map(|(name, _)| name.as_str()));
                entries
                    .into_iter()
                    .find_map(|(name, value)| (name.as_str() == Some(key)).then_some(value))
                    .ok_or_else(|| step.fails(format!("no such key; it has {known}")))?
            }
            // Dict fields with integer keys: flytekit writes `d[1]` as an index.
            (rmpv::Value::Map(entries), Step::Index(index)) => entries
                .into_iter()
                .find_map(|(name, value)| (name.as_i64() == Some(index.into())).then_some(value))
                .ok_or_else(|| step.fails("it is a map with no such key"))?,
            (rmpv::Value::Array(items), Step::Index(index)) => {
                let length = items.len();
                usize::try_from(index)
                    .ok()
                    .and_then(|index| items.into_iter().nth(index))
                    .ok_or_else(|| step.fails(out_of_range(length)))?
            }
            (rmpv::Value::Array(_), Step::Key(_)) => {
                return Err(step.fails("it is a list; take an item of it by its index"));
            }
            (other, _) => {
                return Err(step.fails(format!(
                    "it is {}, which has no attributes",
                    msgpack_kind(&other)
                )));
            }
        };
    }
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &value)
        .map_err(|error| first.fails(format!("cannot encode what it picked: {error}")))?;
    Ok(scalar_literal(scalar::Value::Binary(core::Binary {
        value: bytes,
        tag: MSGPACK_TAG.into(),
    })))
}

fn follow_in_struct(
    structure: prost_types::Struct,
    path: &[core::PromiseAttribute],
) -> Result<core::Literal, PathError> {
    use prost_types::value::Kind;

    let mut kind = Kind::StructValue(structure);
    for attribute in path {
        let step = Step::of(attribute)?;
        kind = match (kind, step) {
            (Kind::StructValue(mut structure), Step::Key(key)) => structure
                .fields
                .remove(key)
                .and_then(|value| value.kind)
                .ok_or_else(|| {
                    step.fails(format!(
                        "no such key; it has {}",
                        names(structure.fields.keys().map(String::as_str))
                    ))
                })?,
            (Kind::ListValue(list), Step::Index(index)) => {
                let length = list.values.len();
                usize::try_from(index)
                    .ok()
                    .and_then(|index| list.values.into_iter().nth(index))
                    .and_then(|value| value.kind)
                    .ok_or_else(|| step.fails(out_of_range(length)))?
            }
            (Kind::StructValue(_), Step::Index(_)) => {
                return Err(step.fails("it is a map; take a key of it"));
            }
            (Kind::ListValue(_), Step::Key(_)) => {
                return Err(step.fails("it is a list; take an item of it by its index"));
            }
            (other, _) => {
                return Err(step.fails(format!(
                    "it is {}, which has no attributes",
                    struct_kind(&other)
                )));
            }
        };
    }
    Ok(struct_value_literal(kind))
}

/// The literal flytepropeller makes of a value picked from a struct.
fn struct_value_literal(kind: prost_types::value::Kind) -> core::Literal {
    use prost_types::value::Kind;

    let primitive = |value| {
        scalar_literal(scalar::Value::Primitive(core::Primitive {
            value: Some(value),
        }))
    };
    match kind {
        Kind::StructValue(structure) => scalar_literal(scalar::Value::Generic(structure)),
        Kind::ListValue(list) => core::Literal {
            value: Some(literal::Value::Collection(core::LiteralCollection {
                literals: list
                    .values
                    .into_iter()
                    .map(|value| match value.kind {
                        Some(kind) => struct_value_literal(kind),
                        None => none_literal(),
                    })
                    .collect(),
            })),
            ..Default::default()
        },
        Kind::StringValue(text) => primitive(primitive::Value::StringValue(text)),
        // A struct keeps every number as a double, so an int field arrives
        // as a float: flytekit converts it back for an int input.
        Kind::NumberValue(number) => primitive(primitive::Value::FloatValue(number)),
        Kind::BoolValue(flag) => primitive(primitive::Value::Boolean(flag)),
        Kind::NullValue(_) => none_literal(),
    }
}

fn none_literal() -> core::Literal {
    scalar_literal(scalar::Value::NoneType(core::Void {}))
}

fn scalar_literal(value: scalar::Value) -> core::Literal {
    core::Literal {
        value: Some(literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(value),
        }))),
        ..Default::default()
    }
}

fn out_of_range(length: usize) -> String {
    match length {
        1 => "out of range; it has 1 item".into(),
        _ => format!("out of range; it has {length} items"),
    }
}

/// Names for an error message, sorted so it reads the same every time, and
/// cut short: a dict output may have thousands of keys.
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let mut names: Vec<_> = names.collect();
    if names.is_empty() {
        return "no keys".into();
    }
    names.sort_unstable();
    let shown = names
        .iter()
        .take(SHOWN)
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match names.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{shown} and {more} more"),
        _ => shown,
    }
}

fn scalar_kind(value: Option<&scalar::Value>) -> &'static str {
    match value {
        Some(scalar::Value::Primitive(_)) => "a primitive value",
        Some(scalar::Value::Blob(_)) => "a file",
        Some(scalar::Value::Binary(_)) => "a binary",
        Some(scalar::Value::Schema(_)) => "a schema",
        Some(scalar::Value::NoneType(_)) => "None",
        Some(scalar::Value::Error(_)) => "an error",
        Some(scalar::Value::Generic(_)) => "a struct",
        Some(scalar::Value::StructuredDataset(_)) => "a structured dataset",
        Some(scalar::Value::Union(_)) => "a union value",
        None => "empty",
    }
}

fn msgpack_kind(value: &rmpv::Value) -> &'static str {
    match value {
        rmpv::Value::Nil => "None",
        rmpv::Value::Boolean(_) => "a bool",
        rmpv::Value::Integer(_) => "an int",
        rmpv::Value::F32(_) | rmpv::Value::F64(_) => "a float",
        rmpv::Value::String(_) => "a string",
        rmpv::Value::Binary(_) => "bytes",
        rmpv::Value::Array(_) => "a list",
        rmpv::Value::Map(_) => "a map",
        rmpv::Value::Ext(..) => "a msgpack extension value",
    }
}

fn struct_kind(kind: &prost_types::value::Kind) -> &'static str {
    use prost_types::value::Kind;

    match kind {
        Kind::NullValue(_) => "None",
        Kind::NumberValue(_) => "a number",
        Kind::StringValue(_) => "a string",
        Kind::BoolValue(_) => "a bool",
        Kind::StructValue(_) => "a map",
        Kind::ListValue(_) => "a list",
    }
}

#[cfg(test)]
mod tests {
    use prost_types::value::Kind;
    use rmpv::Value;

    use super::*;

    fn key(name: &str) -> core::PromiseAttribute {
        core::PromiseAttribute {
            value: Some(promise_attribute::Value::StringValue(name.into())),
        }
    }

    fn index(index: i32) -> core::PromiseAttribute {
        core::PromiseAttribute {
            value: Some(promise_attribute::Value::IntValue(index)),
        }
    }

    fn primitive_literal(value: primitive::Value) -> core::Literal {
        scalar_literal(scalar::Value::Primitive(core::Primitive {
            value: Some(value),
        }))
    }

    fn msgpack(value: &Value) -> core::Literal {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, value).unwrap();
        scalar_literal(scalar::Value::Binary(core::Binary {
            value: bytes,
            tag: MSGPACK_TAG.into(),
        }))
    }

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(name, value)| (Value::from(name), value))
                .collect(),
        )
    }

    /// A dataclass as flytekit 1.16 writes it:
    /// `Fruit(name="apple", size=3, weight=0.5, ripe=True,
    /// origin=Farm(name="hill", rows=[4, 5]), tags=["red", "sweet"])`.
    fn fruit() -> Value {
        map(vec![
            ("name", Value::from("apple")),
            ("size", Value::from(3)),
            ("weight", Value::from(0.5)),
            ("ripe", Value::from(true)),
            (
                "origin",
                map(vec![
                    ("name", Value::from("hill")),
                    ("rows", Value::Array(vec![Value::from(4), Value::from(5)])),
                ]),
            ),
            (
                "tags",
                Value::Array(vec![Value::from("red"), Value::from("sweet")]),
            ),
        ])
    }

    fn struct_value(kind: Kind) -> prost_types::Value {
        prost_types::Value { kind: Some(kind) }
    }

    /// The same dataclass as older flytekits write it, a protobuf struct.
    fn fruit_struct() -> core::Literal {
        let origin = prost_types::Struct {
            fields: [
                (
                    "name".to_string(),
                    struct_value(Kind::StringValue("hill".into())),
                ),
                (
                    "rows".to_string(),
                    struct_value(Kind::ListValue(prost_types::ListValue {
                        values: vec![
                            struct_value(Kind::NumberValue(4.0)),
                            struct_value(Kind::NumberValue(5.0)),
                        ],
                    })),
                ),
            ]
            .into(),
        };
        scalar_literal(scalar::Value::Generic(prost_types::Struct {
            fields: [
                (
                    "name".to_string(),
                    struct_value(Kind::StringValue("apple".into())),
                ),
                ("size".to_string(), struct_value(Kind::NumberValue(3.0))),
                ("ripe".to_string(), struct_value(Kind::BoolValue(true))),
                ("note".to_string(), struct_value(Kind::NullValue(0))),
                (
                    "origin".to_string(),
                    struct_value(Kind::StructValue(origin.clone())),
                ),
            ]
            .into(),
        }))
    }

    fn picked(literal: core::Literal, path: &[core::PromiseAttribute]) -> core::Literal {
        follow_attribute_path(literal, path).expect("the path resolves")
    }

    fn failure(literal: core::Literal, path: &[core::PromiseAttribute]) -> String {
        follow_attribute_path(literal, path)
            .expect_err("the path must not resolve")
            .to_string()
    }

    #[test]
    fn scalars_in_a_msgpack_dataclass_come_back_as_msgpack_of_their_own_type() {
        assert_eq!(
            picked(msgpack(&fruit()), &[key("name")]),
            msgpack(&Value::from("apple"))
        );
        assert_eq!(
            picked(msgpack(&fruit()), &[key("size")]),
            msgpack(&Value::from(3))
        );
        assert_eq!(
            picked(msgpack(&fruit()), &[key("weight")]),
            msgpack(&Value::from(0.5))
        );
        assert_eq!(
            picked(msgpack(&fruit()), &[key("ripe")]),
            msgpack(&Value::from(true))
        );
    }

    #[test]
    fn a_nested_dataclass_and_a_list_in_msgpack_stay_msgpack() {
        let origin = picked(msgpack(&fruit()), &[key("origin")]);
        assert_eq!(
            origin,
            msgpack(&map(vec![
                ("name", Value::from("hill")),
                ("rows", Value::Array(vec![Value::from(4), Value::from(5)])),
            ]))
        );
        assert_eq!(
            picked(msgpack(&fruit()), &[key("tags")]),
            msgpack(&Value::Array(vec![
                Value::from("red"),
                Value::from("sweet")
            ]))
        );
        assert_eq!(
            picked(msgpack(&fruit()), &[key("origin"), key("rows"), index(1)]),
            msgpack(&Value::from(5))
        );
    }

    #[test]
    fn integer_keys_of_a_dict_field_are_taken_by_index() {
        let counts = Value::Map(vec![(Value::from(7), Value::from("seven"))]);
        assert_eq!(
            picked(msgpack(&counts), &[index(7)]),
            msgpack(&Value::from("seven"))
        );
    }

    #[test]
    fn a_dict_of_dataclasses_is_walked_as_a_literal_map_then_into_msgpack() {
        let fruits = core::Literal {
            value: Some(literal::Value::Map(core::LiteralMap {
                literals: [("best".to_string(), msgpack(&fruit()))].into(),
            })),
            ..Default::default()
        };
        assert_eq!(picked(fruits.clone(), &[key("best")]), msgpack(&fruit()));
        assert_eq!(
            picked(fruits, &[key("best"), key("name")]),
            msgpack(&Value::from("apple"))
        );
    }

    #[test]
    fn a_list_of_dataclasses_is_walked_as_a_collection_then_into_msgpack() {
        let fruits = core::Literal {
            value: Some(literal::Value::Collection(core::LiteralCollection {
                literals: vec![
                    primitive_literal(primitive::Value::Integer(0)),
                    msgpack(&fruit()),
                ],
            })),
            ..Default::default()
        };
        assert_eq!(
            picked(fruits.clone(), &[index(0)]),
            primitive_literal(primitive::Value::Integer(0))
        );
        assert_eq!(
            picked(fruits, &[index(1), key("size")]),
            msgpack(&Value::from(3))
        );
    }

    #[test]
    fn values_in_a_struct_become_literals_with_every_number_a_float() {
        assert_eq!(
            picked(fruit_struct(), &[key("name")]),
            primitive_literal(primitive::Value::StringValue("apple".into()))
        );
        assert_eq!(
            picked(fruit_struct(), &[key("size")]),
            primitive_literal(primitive::Value::FloatValue(3.0))
        );
        assert_eq!(
            picked(fruit_struct(), &[key("ripe")]),
            primitive_literal(primitive::Value::Boolean(true))
        );
        assert_eq!(picked(fruit_struct(), &[key("note")]), none_literal());
        assert_eq!(
            picked(fruit_struct(), &[key("origin"), key("rows")]),
            core::Literal {
                value: Some(literal::Value::Collection(core::LiteralCollection {
                    literals: vec![
                        primitive_literal(primitive::Value::FloatValue(4.0)),
                        primitive_literal(primitive::Value::FloatValue(5.0)),
                    ],
                })),
                ..Default::default()
            }
        );
        let origin = picked(fruit_struct(), &[key("origin")]);
        assert!(
            matches!(
                &origin.value,
                Some(literal::Value::Scalar(scalar))
                    if matches!(&scalar.value, Some(scalar::Value::Generic(origin)) if origin.fields.len() == 2)
            ),
            "a nested struct stays a struct: {origin:?}"
        );
    }

    #[test]
    fn a_missing_key_names_the_keys_there_are() {
        assert_eq!(
            failure(msgpack(&fruit()), &[key("colour")]),
            "cannot take key `colour`: no such key; it has `name`, `origin`, `ripe`, `size`, `tags`, `weight`"
        );
        assert_eq!(
            failure(fruit_struct(), &[key("origin"), key("acres")]),
            "cannot take key `acres`: no such key; it has `name`, `rows`"
        );
    }

    #[test]
    fn an_index_past_the_end_says_how_long_the_list_is() {
        assert_eq!(
            failure(msgpack(&fruit()), &[key("tags"), index(2)]),
            "cannot take item 2: out of range; it has 2 items"
        );
        let empty = core::Literal {
            value: Some(literal::Value::Collection(
                core::LiteralCollection::default(),
            )),
            ..Default::default()
        };
        assert_eq!(
            failure(empty, &[index(-1)]),
            "cannot take item -1: out of range; it has 0 items"
        );
    }

    #[test]
    fn steps_of_the_wrong_kind_say_what_the_value_is() {
        assert_eq!(
            failure(msgpack(&fruit()), &[key("name"), key("first")]),
            "cannot take key `first`: it is a string, which has no attributes"
        );
        assert_eq!(
            failure(
                primitive_literal(primitive::Value::Integer(3)),
                &[key("real")]
            ),
            "cannot take key `real`: it is a primitive value, which has no attributes"
        );
        assert_eq!(
            failure(msgpack(&fruit()), &[key("tags"), key("first")]),
            "cannot take key `first`: it is a list; take an item of it by its index"
        );
    }

    #[test]
    fn a_binary_in_another_format_is_not_looked_into() {
        let pickled = scalar_literal(scalar::Value::Binary(core::Binary {
            value: vec![0x80],
            tag: "pickle".into(),
        }));
        assert_eq!(
            failure(pickled, &[key("name")]),
            "cannot take key `name`: it is a binary in format `pickle`; only `msgpack` can be looked into"
        );
    }
}
