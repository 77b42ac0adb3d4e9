//! Whether a literal fits a literal type, as Flyte checks a value against the
//! type it was declared with (signals today). Mismatches are described by
//! where they are (`[2]`, `["key"]`) so a person can find the bad part.

use updraft_proto::flyteidl::core::{self, literal, literal_type, primitive, scalar};

/// A short name of a literal type for messages (`INTEGER`, `list of STRING`).
pub fn describe_type(literal_type: &core::LiteralType) -> String {
    match &literal_type.r#type {
        None => "an unspecified type".to_string(),
        Some(literal_type::Type::Simple(simple)) => core::SimpleType::try_from(*simple)
            .map(|simple| simple.as_str_name().to_string())
            .unwrap_or_else(|_| format!("simple type {simple}")),
        Some(literal_type::Type::Schema(_)) => "a schema".to_string(),
        Some(literal_type::Type::CollectionType(inner)) => {
            format!("a list of {}", describe_type(inner))
        }
        Some(literal_type::Type::MapValueType(inner)) => {
            format!("a map of {}", describe_type(inner))
        }
        Some(literal_type::Type::Blob(blob)) => {
            if blob.dimensionality == core::blob_type::BlobDimensionality::Multipart as i32 {
                "a directory (multipart blob)".to_string()
            } else {
                "a file (single blob)".to_string()
            }
        }
        Some(literal_type::Type::EnumType(enumeration)) => {
            format!("an enum of {}", enumeration.values.join(", "))
        }
        Some(literal_type::Type::StructuredDatasetType(_)) => "a structured dataset".to_string(),
        Some(literal_type::Type::UnionType(union)) => {
            let variants: Vec<String> = union.variants.iter().map(describe_type).collect();
            format!("one of ({})", variants.join(" | "))
        }
    }
}

fn describe_literal(value: &core::Literal) -> &'static str {
    match &value.value {
        None => "an empty literal",
        Some(literal::Value::Collection(_)) => "a list",
        Some(literal::Value::Map(_)) => "a map",
        Some(literal::Value::OffloadedMetadata(_)) => "an offloaded literal",
        Some(literal::Value::Scalar(scalar)) => match &scalar.value {
            None => "an empty scalar",
            Some(scalar::Value::Primitive(core::Primitive { value })) => match value {
                None => "an empty primitive",
                Some(primitive::Value::Integer(_)) => "an INTEGER",
                Some(primitive::Value::FloatValue(_)) => "a FLOAT",
                Some(primitive::Value::StringValue(_)) => "a STRING",
                Some(primitive::Value::Boolean(_)) => "a BOOLEAN",
                Some(primitive::Value::Datetime(_)) => "a DATETIME",
                Some(primitive::Value::Duration(_)) => "a DURATION",
            },
            Some(scalar::Value::Blob(_)) => "a blob",
            Some(scalar::Value::Binary(_)) => "a BINARY",
            Some(scalar::Value::Schema(_)) => "a schema",
            Some(scalar::Value::NoneType(_)) => "NONE",
            Some(scalar::Value::Error(_)) => "an ERROR",
            Some(scalar::Value::Generic(_)) => "a STRUCT",
            Some(scalar::Value::StructuredDataset(_)) => "a structured dataset",
            Some(scalar::Value::Union(_)) => "a union value",
        },
    }
}

fn mismatch(path: &str, expected: &core::LiteralType, value: &core::Literal) -> String {
    let location = if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    };
    format!(
        "expected {}{location} but got {}",
        describe_type(expected),
        describe_literal(value)
    )
}

/// Checks that `value` fits `expected`; the error says what did not fit, where.
pub fn check_literal_type(
    value: &core::Literal,
    expected: &core::LiteralType,
) -> Result<(), String> {
    check_at("", value, expected)
}

fn check_at(path: &str, value: &core::Literal, expected: &core::LiteralType) -> Result<(), String> {
    let Some(expected_kind) = &expected.r#type else {
        return Err("the expected type is unspecified".to_string());
    };
    // A union value is judged by what it wraps.
    if let Some(literal::Value::Scalar(scalar)) = &value.value
        && let Some(scalar::Value::Union(union)) = &scalar.value
        && !matches!(expected_kind, literal_type::Type::UnionType(_))
    {
        return match &union.value {
            Some(inner) => check_at(path, inner, expected),
            None => Err(mismatch(path, expected, value)),
        };
    }
    if let Some(literal::Value::OffloadedMetadata(offloaded)) = &value.value {
        // The value itself lives elsewhere; its recorded type must be the one expected.
        return match &offloaded.inferred_type {
            Some(inferred) if inferred.r#type == expected.r#type => Ok(()),
            _ => Err(mismatch(path, expected, value)),
        };
    }
    let fits = match expected_kind {
        literal_type::Type::UnionType(union) => {
            let candidate = match &value.value {
                Some(literal::Value::Scalar(scalar)) => match &scalar.value {
                    Some(scalar::Value::Union(union_value)) => union_value.value.as_deref(),
                    _ => Some(value),
                },
                _ => Some(value),
            };
            candidate.is_some_and(|candidate| {
                union
                    .variants
                    .iter()
                    .any(|variant| check_at(path, candidate, variant).is_ok())
            })
        }
        literal_type::Type::CollectionType(inner) => {
            let Some(literal::Value::Collection(collection)) = &value.value else {
                return Err(mismatch(path, expected, value));
            };
            for (index, element) in collection.literals.iter().enumerate() {
                check_at(&format!("{path}[{index}]"), element, inner)?;
            }
            true
        }
        literal_type::Type::MapValueType(inner) => {
            let Some(literal::Value::Map(map)) = &value.value else {
                return Err(mismatch(path, expected, value));
            };
            let mut keys: Vec<&String> = map.literals.keys().collect();
            keys.sort();
            for key in keys {
                check_at(&format!("{path}[{key:?}]"), &map.literals[key], inner)?;
            }
            true
        }
        scalar_kind => {
            let Some(literal::Value::Scalar(scalar)) = &value.value else {
                return Err(mismatch(path, expected, value));
            };
            scalar_fits(scalar, scalar_kind)
        }
    };
    if fits {
        Ok(())
    } else {
        Err(mismatch(path, expected, value))
    }
}

fn scalar_fits(scalar: &core::Scalar, expected: &literal_type::Type) -> bool {
    use core::SimpleType;
    let primitive = match &scalar.value {
        Some(scalar::Value::Primitive(primitive)) => primitive.value.as_ref(),
        _ => None,
    };
    match expected {
        literal_type::Type::Simple(simple) => match SimpleType::try_from(*simple) {
            Ok(SimpleType::None) => matches!(scalar.value, Some(scalar::Value::NoneType(_))),
            Ok(SimpleType::Integer) => matches!(primitive, Some(primitive::Value::Integer(_))),
            Ok(SimpleType::Float) => matches!(primitive, Some(primitive::Value::FloatValue(_))),
            Ok(SimpleType::String) => matches!(primitive, Some(primitive::Value::StringValue(_))),
            Ok(SimpleType::Boolean) => matches!(primitive, Some(primitive::Value::Boolean(_))),
            Ok(SimpleType::Datetime) => matches!(primitive, Some(primitive::Value::Datetime(_))),
            Ok(SimpleType::Duration) => matches!(primitive, Some(primitive::Value::Duration(_))),
            Ok(SimpleType::Binary) => matches!(scalar.value, Some(scalar::Value::Binary(_))),
            Ok(SimpleType::Error) => matches!(scalar.value, Some(scalar::Value::Error(_))),
            // flytekit sends dataclasses and dicts either as a protobuf Struct
            // or, since 1.14, as msgpack bytes under the same STRUCT type.
            Ok(SimpleType::Struct) => matches!(
                scalar.value,
                Some(scalar::Value::Generic(_) | scalar::Value::Binary(_))
            ),
            Err(_) => false,
        },
        literal_type::Type::Blob(blob_type) => match &scalar.value {
            Some(scalar::Value::Blob(blob)) => {
                let given = blob
                    .metadata
                    .as_ref()
                    .and_then(|metadata| metadata.r#type.as_ref());
                given.is_none_or(|given| {
                    given.dimensionality == blob_type.dimensionality
                        && (given.format.is_empty()
                            || blob_type.format.is_empty()
                            || given.format == blob_type.format)
                })
            }
            _ => false,
        },
        literal_type::Type::EnumType(enumeration) => {
            matches!(primitive, Some(primitive::Value::StringValue(text)) if enumeration.values.contains(text))
        }
        literal_type::Type::Schema(_) => matches!(scalar.value, Some(scalar::Value::Schema(_))),
        literal_type::Type::StructuredDatasetType(_) => {
            matches!(scalar.value, Some(scalar::Value::StructuredDataset(_)))
        }
        literal_type::Type::CollectionType(_)
        | literal_type::Type::MapValueType(_)
        | literal_type::Type::UnionType(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple(simple: core::SimpleType) -> core::LiteralType {
        core::LiteralType {
            r#type: Some(literal_type::Type::Simple(simple as i32)),
            ..Default::default()
        }
    }

    fn scalar_literal(value: scalar::Value) -> core::Literal {
        core::Literal {
            value: Some(literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(value),
            }))),
            ..Default::default()
        }
    }

    fn primitive_literal(value: primitive::Value) -> core::Literal {
        scalar_literal(scalar::Value::Primitive(core::Primitive {
            value: Some(value),
        }))
    }

    #[test]
    fn primitives_must_match_their_simple_type() {
        let boolean = primitive_literal(primitive::Value::Boolean(true));
        assert!(check_literal_type(&boolean, &simple(core::SimpleType::Boolean)).is_ok());
        let error = check_literal_type(&boolean, &simple(core::SimpleType::Integer)).unwrap_err();
        assert_eq!(error, "expected INTEGER but got a BOOLEAN");
    }

    #[test]
    fn collections_report_the_bad_element() {
        let list_of_integers = core::LiteralType {
            r#type: Some(literal_type::Type::CollectionType(Box::new(simple(
                core::SimpleType::Integer,
            )))),
            ..Default::default()
        };
        let value = core::Literal {
            value: Some(literal::Value::Collection(core::LiteralCollection {
                literals: vec![
                    primitive_literal(primitive::Value::Integer(1)),
                    primitive_literal(primitive::Value::StringValue("two".into())),
                ],
            })),
            ..Default::default()
        };
        assert_eq!(
            check_literal_type(&value, &list_of_integers).unwrap_err(),
            "expected INTEGER at [1] but got a STRING"
        );
    }

    #[test]
    fn optionals_accept_none_and_the_wrapped_type() {
        let optional_string = core::LiteralType {
            r#type: Some(literal_type::Type::UnionType(core::UnionType {
                variants: vec![
                    simple(core::SimpleType::String),
                    simple(core::SimpleType::None),
                ],
            })),
            ..Default::default()
        };
        let none = scalar_literal(scalar::Value::NoneType(core::Void {}));
        let text = primitive_literal(primitive::Value::StringValue("x".into()));
        let number = primitive_literal(primitive::Value::Integer(3));
        assert!(check_literal_type(&none, &optional_string).is_ok());
        assert!(check_literal_type(&text, &optional_string).is_ok());
        assert!(check_literal_type(&number, &optional_string).is_err());
    }

    #[test]
    fn enums_accept_only_their_values() {
        let colour = core::LiteralType {
            r#type: Some(literal_type::Type::EnumType(core::EnumType {
                values: vec!["red".into(), "green".into()],
            })),
            ..Default::default()
        };
        let red = primitive_literal(primitive::Value::StringValue("red".into()));
        let blue = primitive_literal(primitive::Value::StringValue("blue".into()));
        assert!(check_literal_type(&red, &colour).is_ok());
        assert!(check_literal_type(&blue, &colour).is_err());
    }
}
