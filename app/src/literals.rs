//! Flyte types and values as a person reads them: `List[int]`, `Dict[str, float]`,
//! `[1, 2, 3]`, `{"a": 0.5}`, a file's URI.
//!
//! The server turns protobuf `LiteralType`s into Python-style type names and
//! `Literal`s into [`LiteralValue`] trees (feature `ssr`); the browser only
//! receives these plain serde values, so it never links protobuf code.

use serde::{Deserialize, Serialize};

/// A Flyte value ready to display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LiteralValue {
    /// Python's `None` (Flyte's `Void`).
    None,
    Integer(i64),
    Float(f64),
    String(String),
    Boolean(bool),
    /// An instant, in milliseconds since the Unix epoch.
    Datetime(i64),
    /// A length of time, in milliseconds.
    Duration(i64),
    /// A file or directory in the object store.
    Blob {
        uri: String,
        format: String,
        directory: bool,
    },
    /// A dataframe (structured dataset or legacy schema) in the object store.
    Dataset {
        uri: String,
        format: String,
    },
    /// Bytes that could not be decoded for display (unknown tag or corrupt data).
    Binary {
        tag: String,
        size: usize,
    },
    /// A list.
    Collection(Vec<LiteralValue>),
    /// A map, a dataclass or a JSON object, keys in a stable order.
    Map(Vec<(String, LiteralValue)>),
    /// An error a failed upstream node produced in place of a value.
    Error {
        node: String,
        message: String,
    },
    /// The value is too large to inline and lives in the object store.
    Offloaded {
        uri: String,
        size_bytes: u64,
    },
    /// A literal with no value set.
    Empty,
}

/// An input or output of an interface, or a value with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypedVariable {
    pub name: String,
    /// The type, rendered Python-style (`List[int]`).
    pub type_name: String,
    pub description: String,
    /// The default value of a launch-plan parameter, if it has one.
    pub default: Option<LiteralValue>,
    /// Whether a launch must provide the value.
    pub required: bool,
}

/// A named value: one entry of an execution's inputs or outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedValue {
    pub name: String,
    pub value: LiteralValue,
}

/// Widest inline rendering before [`LiteralValue::to_pretty`] breaks lines.
const INLINE_WIDTH: usize = 72;

impl LiteralValue {
    /// One-line rendering in Python-like syntax; strings are quoted inside
    /// collections and maps so `["a", "b"]` reads unambiguously.
    pub fn to_inline(&self) -> String {
        let mut out = String::new();
        self.write_inline(&mut out);
        out
    }

    /// The rendering for a value cell: a top-level string is shown without
    /// quotes, everything else as [`LiteralValue::to_inline`].
    pub fn to_display(&self) -> String {
        match self {
            LiteralValue::String(text) => text.clone(),
            other => other.to_inline(),
        }
    }

    /// A multi-line rendering for long collections and maps, two spaces per level.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write_pretty(&mut out, 0);
        out
    }

    /// Whether this value is a reference to data in the object store.
    pub fn storage_uri(&self) -> Option<&str> {
        match self {
            LiteralValue::Blob { uri, .. }
            | LiteralValue::Dataset { uri, .. }
            | LiteralValue::Offloaded { uri, .. } => Some(uri),
            _ => None,
        }
    }

    fn write_inline(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            LiteralValue::None => out.push_str("None"),
            LiteralValue::Empty => out.push_str("(no value)"),
            LiteralValue::Integer(value) => {
                let _ = write!(out, "{value}");
            }
            LiteralValue::Float(value) => out.push_str(&format_float(*value)),
            LiteralValue::String(text) => {
                let _ = write!(out, "{text:?}");
            }
            LiteralValue::Boolean(value) => out.push_str(if *value { "True" } else { "False" }),
            LiteralValue::Datetime(millis) => out.push_str(&crate::time::format_utc(*millis)),
            LiteralValue::Duration(millis) => out.push_str(&crate::time::format_duration(*millis)),
            LiteralValue::Blob {
                uri,
                format,
                directory,
            } => {
                let kind = if *directory { "directory" } else { "file" };
                if format.is_empty() {
                    let _ = write!(out, "{kind} {uri}");
                } else {
                    let _ = write!(out, "{kind} {uri} ({format})");
                }
            }
            LiteralValue::Dataset { uri, format } => {
                if format.is_empty() {
                    let _ = write!(out, "dataset {uri}");
                } else {
                    let _ = write!(out, "dataset {uri} ({format})");
                }
            }
            LiteralValue::Binary { tag, size } => {
                let tag = if tag.is_empty() { "untagged" } else { tag };
                let _ = write!(out, "{size} bytes ({tag})");
            }
            LiteralValue::Collection(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    item.write_inline(out);
                }
                out.push(']');
            }
            LiteralValue::Map(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{key:?}: ");
                    value.write_inline(out);
                }
                out.push('}');
            }
            LiteralValue::Error { node, message } => {
                let _ = write!(out, "error from {node}: {message}");
            }
            LiteralValue::Offloaded { uri, size_bytes } => {
                let _ = write!(out, "offloaded {uri} ({size_bytes} bytes)");
            }
        }
    }

    fn write_pretty(&self, out: &mut String, indent: usize) {
        let inline = self.to_inline();
        let fits = inline.len() + indent <= INLINE_WIDTH;
        match self {
            LiteralValue::Collection(items) if !fits && !items.is_empty() => {
                out.push_str("[\n");
                for item in items {
                    push_indent(out, indent + 1);
                    item.write_pretty(out, indent + 1);
                    out.push_str(",\n");
                }
                push_indent(out, indent);
                out.push(']');
            }
            LiteralValue::Map(entries) if !fits && !entries.is_empty() => {
                out.push_str("{\n");
                for (key, value) in entries {
                    push_indent(out, indent + 1);
                    out.push_str(&format!("{key:?}: "));
                    value.write_pretty(out, indent + 1);
                    out.push_str(",\n");
                }
                push_indent(out, indent);
                out.push('}');
            }
            _ => out.push_str(&inline),
        }
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Floats as Python prints them: `1.0`, `0.25`, `1e+20`, `nan`.
fn format_float(value: f64) -> String {
    if value.is_nan() {
        "nan".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

#[cfg(feature = "ssr")]
pub use convert::*;

/// Protobuf → display conversions, on the server only.
#[cfg(feature = "ssr")]
mod convert {
    use super::{LiteralValue, NamedValue, TypedVariable};
    use updraft_proto::flyteidl::core;

    /// A Flyte type in Python syntax, as flytekit users write it.
    pub fn render_type(literal_type: &core::LiteralType) -> String {
        use core::literal_type::Type;
        match &literal_type.r#type {
            Some(Type::Simple(simple)) => render_simple_type(*simple, literal_type),
            Some(Type::CollectionType(item)) => format!("List[{}]", render_type(item)),
            Some(Type::MapValueType(value)) => format!("Dict[str, {}]", render_type(value)),
            Some(Type::Blob(blob)) => {
                let directory =
                    blob.dimensionality == core::blob_type::BlobDimensionality::Multipart as i32;
                let base = if directory {
                    "FlyteDirectory"
                } else {
                    "FlyteFile"
                };
                if blob.format.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}[{}]", blob.format)
                }
            }
            Some(Type::Schema(_)) => "FlyteSchema".into(),
            Some(Type::StructuredDatasetType(dataset)) => {
                if dataset.format.is_empty() {
                    "StructuredDataset".into()
                } else {
                    format!("StructuredDataset[{}]", dataset.format)
                }
            }
            Some(Type::EnumType(enumeration)) => {
                format!("Enum[{}]", enumeration.values.join(", "))
            }
            Some(Type::UnionType(union)) => render_union(&union.variants),
            None => "unknown".into(),
        }
    }

    fn render_simple_type(simple: i32, literal_type: &core::LiteralType) -> String {
        use core::SimpleType;
        match SimpleType::try_from(simple) {
            Ok(SimpleType::None) => "None".into(),
            Ok(SimpleType::Integer) => "int".into(),
            Ok(SimpleType::Float) => "float".into(),
            Ok(SimpleType::String) => "str".into(),
            Ok(SimpleType::Boolean) => "bool".into(),
            Ok(SimpleType::Datetime) => "datetime".into(),
            Ok(SimpleType::Duration) => "timedelta".into(),
            Ok(SimpleType::Binary) => "bytes".into(),
            Ok(SimpleType::Error) => "error".into(),
            Ok(SimpleType::Struct) => render_struct_type(literal_type),
            Err(_) => format!("unknown simple type {simple}"),
        }
    }

    /// Dataclasses and Pydantic models are `STRUCT`s whose metadata holds a JSON
    /// schema (with a `title`) and whose structure lists the fields.
    fn render_struct_type(literal_type: &core::LiteralType) -> String {
        let title = literal_type
            .metadata
            .as_ref()
            .and_then(|metadata| metadata.fields.get("title"))
            .and_then(|value| match &value.kind {
                Some(prost_types::value::Kind::StringValue(title)) => Some(title.clone()),
                _ => None,
            });
        let fields = literal_type
            .structure
            .as_ref()
            .map(|structure| {
                let mut fields: Vec<_> = structure.dataclass_type.iter().collect();
                fields.sort_by(|a, b| a.0.cmp(b.0));
                fields
                    .into_iter()
                    .map(|(name, field_type)| format!("{name}: {}", render_type(field_type)))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        match (title, fields.is_empty()) {
            (Some(title), false) => format!("{title}({})", fields.join(", ")),
            (Some(title), true) => title,
            (None, false) => format!("dataclass({})", fields.join(", ")),
            (None, true) => "dict".into(),
        }
    }

    fn render_union(variants: &[core::LiteralType]) -> String {
        let is_none = |variant: &core::LiteralType| {
            matches!(
                variant.r#type,
                Some(core::literal_type::Type::Simple(simple)) if simple == core::SimpleType::None as i32
            )
        };
        let others: Vec<String> = variants
            .iter()
            .filter(|variant| !is_none(variant))
            .map(render_type)
            .collect();
        let has_none = others.len() < variants.len();
        match (has_none, others.as_slice()) {
            (true, []) => "None".into(),
            (true, [only]) => format!("Optional[{only}]"),
            (true, many) => format!("Optional[Union[{}]]", many.join(", ")),
            (false, many) => format!("Union[{}]", many.join(", ")),
        }
    }

    /// A protobuf timestamp in milliseconds since the Unix epoch.
    pub fn timestamp_millis(timestamp: &prost_types::Timestamp) -> i64 {
        timestamp.seconds * 1000 + i64::from(timestamp.nanos) / 1_000_000
    }

    /// A protobuf duration in milliseconds.
    pub fn duration_millis(duration: &prost_types::Duration) -> i64 {
        duration.seconds * 1000 + i64::from(duration.nanos) / 1_000_000
    }

    /// A literal as a displayable value.
    pub fn literal_value(literal: &core::Literal) -> LiteralValue {
        use core::literal::Value;
        match &literal.value {
            Some(Value::Scalar(scalar)) => scalar_value(scalar),
            Some(Value::Collection(collection)) => {
                LiteralValue::Collection(collection.literals.iter().map(literal_value).collect())
            }
            Some(Value::Map(map)) => LiteralValue::Map(
                literal_map_values(map)
                    .into_iter()
                    .map(|named| (named.name, named.value))
                    .collect(),
            ),
            Some(Value::OffloadedMetadata(offloaded)) => LiteralValue::Offloaded {
                uri: offloaded.uri.clone(),
                size_bytes: offloaded.size_bytes,
            },
            None => LiteralValue::Empty,
        }
    }

    /// The entries of a literal map, sorted by name (protobuf maps have no order).
    pub fn literal_map_values(map: &core::LiteralMap) -> Vec<NamedValue> {
        let mut values: Vec<NamedValue> = map
            .literals
            .iter()
            .map(|(name, literal)| NamedValue {
                name: name.clone(),
                value: literal_value(literal),
            })
            .collect();
        values.sort_by(|a, b| a.name.cmp(&b.name));
        values
    }

    fn scalar_value(scalar: &core::Scalar) -> LiteralValue {
        use core::scalar::Value;
        match &scalar.value {
            Some(Value::Primitive(primitive)) => primitive_value(primitive),
            Some(Value::Blob(blob)) => {
                let blob_type = blob.metadata.as_ref().and_then(|m| m.r#type.as_ref());
                LiteralValue::Blob {
                    uri: blob.uri.clone(),
                    format: blob_type.map(|t| t.format.clone()).unwrap_or_default(),
                    directory: blob_type.is_some_and(|t| {
                        t.dimensionality == core::blob_type::BlobDimensionality::Multipart as i32
                    }),
                }
            }
            Some(Value::Binary(binary)) => binary_value(&binary.value, &binary.tag),
            Some(Value::Schema(schema)) => LiteralValue::Dataset {
                uri: schema.uri.clone(),
                format: String::new(),
            },
            Some(Value::StructuredDataset(dataset)) => LiteralValue::Dataset {
                uri: dataset.uri.clone(),
                format: dataset
                    .metadata
                    .as_ref()
                    .and_then(|m| m.structured_dataset_type.as_ref())
                    .map(|t| t.format.clone())
                    .unwrap_or_default(),
            },
            Some(Value::NoneType(_)) => LiteralValue::None,
            Some(Value::Error(error)) => LiteralValue::Error {
                node: error.failed_node_id.clone(),
                message: error.message.clone(),
            },
            Some(Value::Generic(generic)) => struct_value(generic),
            Some(Value::Union(union)) => union
                .value
                .as_deref()
                .map(literal_value)
                .unwrap_or(LiteralValue::Empty),
            None => LiteralValue::Empty,
        }
    }

    fn primitive_value(primitive: &core::Primitive) -> LiteralValue {
        use core::primitive::Value;
        match &primitive.value {
            Some(Value::Integer(value)) => LiteralValue::Integer(*value),
            Some(Value::FloatValue(value)) => LiteralValue::Float(*value),
            Some(Value::StringValue(value)) => LiteralValue::String(value.clone()),
            Some(Value::Boolean(value)) => LiteralValue::Boolean(*value),
            Some(Value::Datetime(value)) => LiteralValue::Datetime(timestamp_millis(value)),
            Some(Value::Duration(value)) => LiteralValue::Duration(duration_millis(value)),
            None => LiteralValue::Empty,
        }
    }

    /// flytekit stores dataclasses, Pydantic models and untyped dicts as
    /// MessagePack under the tag `msgpack`.
    fn binary_value(bytes: &[u8], tag: &str) -> LiteralValue {
        if tag == "msgpack"
            && let Some(value) = super::msgpack::decode(bytes)
        {
            return value;
        }
        LiteralValue::Binary {
            tag: tag.to_string(),
            size: bytes.len(),
        }
    }

    /// A JSON number as an integer, when it is whole and within the range
    /// an `f64` holds exactly.
    pub fn whole_number(number: f64) -> Option<i64> {
        (number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0).then_some(number as i64)
    }

    fn struct_value(object: &prost_types::Struct) -> LiteralValue {
        let mut entries: Vec<(String, LiteralValue)> = object
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), json_value(value)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        LiteralValue::Map(entries)
    }

    fn json_value(value: &prost_types::Value) -> LiteralValue {
        use prost_types::value::Kind;
        match &value.kind {
            Some(Kind::NullValue(_)) | None => LiteralValue::None,
            // JSON has one number type; integral numbers read better as integers.
            Some(Kind::NumberValue(number)) => match whole_number(*number) {
                Some(whole) => LiteralValue::Integer(whole),
                None => LiteralValue::Float(*number),
            },
            Some(Kind::StringValue(text)) => LiteralValue::String(text.clone()),
            Some(Kind::BoolValue(flag)) => LiteralValue::Boolean(*flag),
            Some(Kind::StructValue(object)) => struct_value(object),
            Some(Kind::ListValue(list)) => {
                LiteralValue::Collection(list.values.iter().map(json_value).collect())
            }
        }
    }

    /// The variables of an interface, sorted by name.
    pub fn typed_variables(variables: Option<&core::VariableMap>) -> Vec<TypedVariable> {
        let Some(variables) = variables else {
            return Vec::new();
        };
        let mut list: Vec<TypedVariable> = variables
            .variables
            .iter()
            .map(|(name, variable)| TypedVariable {
                name: name.clone(),
                type_name: variable
                    .r#type
                    .as_ref()
                    .map(render_type)
                    .unwrap_or_else(|| "unknown".into()),
                description: variable.description.clone(),
                default: None,
                required: true,
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    /// A launch plan's parameters with their defaults, sorted by name.
    pub fn typed_parameters(parameters: Option<&core::ParameterMap>) -> Vec<TypedVariable> {
        use core::parameter::Behavior;
        let Some(parameters) = parameters else {
            return Vec::new();
        };
        let mut list: Vec<TypedVariable> = parameters
            .parameters
            .iter()
            .map(|(name, parameter)| {
                let variable = parameter.var.clone().unwrap_or_default();
                let (default, required) = match &parameter.behavior {
                    Some(Behavior::Default(literal)) => (Some(literal_value(literal)), false),
                    Some(Behavior::Required(required)) => (None, *required),
                    _ => (None, false),
                };
                TypedVariable {
                    name: name.clone(),
                    type_name: variable
                        .r#type
                        .as_ref()
                        .map(render_type)
                        .unwrap_or_else(|| "unknown".into()),
                    description: variable.description,
                    default,
                    required,
                }
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }
}

/// A small MessagePack reader: enough to show flytekit's msgpack-encoded
/// dataclasses and dicts as values. Returns `None` on anything malformed.
#[cfg(any(feature = "ssr", test))]
mod msgpack {
    use super::LiteralValue;

    /// Decodes one complete MessagePack value; trailing bytes make it invalid.
    pub fn decode(bytes: &[u8]) -> Option<LiteralValue> {
        let mut reader = Reader { bytes, position: 0 };
        let value = reader.value(0)?;
        (reader.position == bytes.len()).then_some(value)
    }

    /// Deeper nesting than this is treated as malformed rather than risking the stack.
    const MAX_DEPTH: usize = 64;

    struct Reader<'a> {
        bytes: &'a [u8],
        position: usize,
    }

    impl Reader<'_> {
        fn take(&mut self, count: usize) -> Option<&[u8]> {
            let end = self.position.checked_add(count)?;
            let slice = self.bytes.get(self.position..end)?;
            self.position = end;
            Some(slice)
        }

        fn byte(&mut self) -> Option<u8> {
            self.take(1).map(|b| b[0])
        }

        fn unsigned(&mut self, width: usize) -> Option<u64> {
            let bytes = self.take(width)?;
            Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
        }

        fn signed(&mut self, width: usize) -> Option<i64> {
            let raw = self.unsigned(width)?;
            let shift = 64 - 8 * width as u32;
            Some(((raw << shift) as i64) >> shift)
        }

        fn text(&mut self, length: usize) -> Option<LiteralValue> {
            let bytes = self.take(length)?;
            Some(LiteralValue::String(
                String::from_utf8(bytes.to_vec()).ok()?,
            ))
        }

        fn array(&mut self, length: usize, depth: usize) -> Option<LiteralValue> {
            let mut items = Vec::with_capacity(length.min(1024));
            for _ in 0..length {
                items.push(self.value(depth + 1)?);
            }
            Some(LiteralValue::Collection(items))
        }

        fn map(&mut self, length: usize, depth: usize) -> Option<LiteralValue> {
            let mut entries = Vec::with_capacity(length.min(1024));
            for _ in 0..length {
                let key = match self.value(depth + 1)? {
                    LiteralValue::String(key) => key,
                    other => other.to_inline(),
                };
                entries.push((key, self.value(depth + 1)?));
            }
            Some(LiteralValue::Map(entries))
        }

        fn value(&mut self, depth: usize) -> Option<LiteralValue> {
            if depth > MAX_DEPTH {
                return None;
            }
            let marker = self.byte()?;
            match marker {
                0x00..=0x7f => Some(LiteralValue::Integer(i64::from(marker))),
                0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth),
                0x90..=0x9f => self.array(usize::from(marker & 0x0f), depth),
                0xa0..=0xbf => self.text(usize::from(marker & 0x1f)),
                0xc0 => Some(LiteralValue::None),
                0xc2 => Some(LiteralValue::Boolean(false)),
                0xc3 => Some(LiteralValue::Boolean(true)),
                0xc4..=0xc6 => {
                    let length = self.unsigned(1 << (marker - 0xc4))? as usize;
                    self.take(length)?;
                    Some(LiteralValue::Binary {
                        tag: "bytes".into(),
                        size: length,
                    })
                }
                0xca => {
                    let bits = self.unsigned(4)? as u32;
                    Some(LiteralValue::Float(f64::from(f32::from_bits(bits))))
                }
                0xcb => Some(LiteralValue::Float(f64::from_bits(self.unsigned(8)?))),
                0xcc..=0xcf => {
                    let value = self.unsigned(1 << (marker - 0xcc))?;
                    Some(match i64::try_from(value) {
                        Ok(value) => LiteralValue::Integer(value),
                        Err(_) => LiteralValue::Float(value as f64),
                    })
                }
                0xd0..=0xd3 => Some(LiteralValue::Integer(self.signed(1 << (marker - 0xd0))?)),
                0xd9..=0xdb => {
                    let length = self.unsigned(1 << (marker - 0xd9))? as usize;
                    self.text(length)
                }
                0xdc | 0xdd => {
                    let length = self.unsigned(if marker == 0xdc { 2 } else { 4 })? as usize;
                    self.array(length, depth)
                }
                0xde | 0xdf => {
                    let length = self.unsigned(if marker == 0xde { 2 } else { 4 })? as usize;
                    self.map(length, depth)
                }
                0xe0..=0xff => Some(LiteralValue::Integer(i64::from(marker as i8))),
                // Extension types (0xc7–0xc9, 0xd4–0xd8) and the unused 0xc1.
                _ => None,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn decodes_a_dataclass_like_map() {
            // {"x": 1, "name": "a", "ratio": 0.5, "tags": [true, None]}
            let mut bytes = vec![0x84, 0xa1, b'x', 0x01, 0xa4];
            bytes.extend_from_slice(b"name");
            bytes.extend_from_slice(&[0xa1, b'a', 0xa5]);
            bytes.extend_from_slice(b"ratio");
            bytes.push(0xcb);
            bytes.extend_from_slice(&0.5f64.to_bits().to_be_bytes());
            bytes.extend_from_slice(&[0xa4]);
            bytes.extend_from_slice(b"tags");
            bytes.extend_from_slice(&[0x92, 0xc3, 0xc0]);

            assert_eq!(
                decode(&bytes),
                Some(LiteralValue::Map(vec![
                    ("x".into(), LiteralValue::Integer(1)),
                    ("name".into(), LiteralValue::String("a".into())),
                    ("ratio".into(), LiteralValue::Float(0.5)),
                    (
                        "tags".into(),
                        LiteralValue::Collection(vec![
                            LiteralValue::Boolean(true),
                            LiteralValue::None
                        ])
                    ),
                ]))
            );
        }

        #[test]
        fn decodes_signed_and_wide_integers() {
            assert_eq!(decode(&[0xff]), Some(LiteralValue::Integer(-1)));
            assert_eq!(decode(&[0xd0, 0x80]), Some(LiteralValue::Integer(-128)));
            assert_eq!(
                decode(&[0xd1, 0xff, 0x00]),
                Some(LiteralValue::Integer(-256))
            );
            assert_eq!(
                decode(&[0xcd, 0x01, 0x00]),
                Some(LiteralValue::Integer(256))
            );
        }

        #[test]
        fn rejects_truncated_and_trailing_input() {
            assert_eq!(decode(&[0x92, 0x01]), None);
            assert_eq!(decode(&[0x01, 0x02]), None);
            assert_eq!(decode(&[0xa3, b'a']), None);
            assert_eq!(decode(&[]), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiteralValue;

    #[test]
    fn renders_values_in_python_syntax() {
        assert_eq!(LiteralValue::Integer(42).to_inline(), "42");
        assert_eq!(LiteralValue::Float(2.0).to_inline(), "2.0");
        assert_eq!(LiteralValue::Float(0.25).to_inline(), "0.25");
        assert_eq!(LiteralValue::Boolean(true).to_inline(), "True");
        assert_eq!(LiteralValue::None.to_inline(), "None");
        assert_eq!(LiteralValue::String("hi".into()).to_display(), "hi");
        assert_eq!(LiteralValue::String("hi".into()).to_inline(), "\"hi\"");
        assert_eq!(
            LiteralValue::Collection(vec![
                LiteralValue::Integer(1),
                LiteralValue::String("two".into())
            ])
            .to_display(),
            "[1, \"two\"]"
        );
        assert_eq!(
            LiteralValue::Map(vec![("a".into(), LiteralValue::Float(1.5))]).to_inline(),
            "{\"a\": 1.5}"
        );
        assert_eq!(LiteralValue::Duration(90_000).to_inline(), "1m 30s");
    }

    #[test]
    fn renders_storage_references_with_their_uri() {
        let file = LiteralValue::Blob {
            uri: "s3://bucket/a.csv".into(),
            format: "csv".into(),
            directory: false,
        };
        assert_eq!(file.to_inline(), "file s3://bucket/a.csv (csv)");
        assert_eq!(file.storage_uri(), Some("s3://bucket/a.csv"));
        let directory = LiteralValue::Blob {
            uri: "s3://bucket/dir".into(),
            format: String::new(),
            directory: true,
        };
        assert_eq!(directory.to_inline(), "directory s3://bucket/dir");
    }

    #[test]
    fn breaks_long_values_over_lines() {
        let long = LiteralValue::Collection(
            (0..30)
                .map(|i| LiteralValue::String(format!("item-{i}")))
                .collect(),
        );
        let pretty = long.to_pretty();
        assert!(pretty.starts_with("[\n  \"item-0\",\n"), "{pretty}");
        assert!(pretty.ends_with("\n]"), "{pretty}");
        let short = LiteralValue::Collection(vec![LiteralValue::Integer(1)]);
        assert_eq!(short.to_pretty(), "[1]");
    }
}

#[cfg(all(test, feature = "ssr"))]
mod conversion_tests {
    use super::*;
    use std::collections::HashMap;
    use updraft_proto::flyteidl::core;

    fn simple(simple: core::SimpleType) -> core::LiteralType {
        core::LiteralType {
            r#type: Some(core::literal_type::Type::Simple(simple as i32)),
            ..Default::default()
        }
    }

    fn of(kind: core::literal_type::Type) -> core::LiteralType {
        core::LiteralType {
            r#type: Some(kind),
            ..Default::default()
        }
    }

    fn scalar(value: core::scalar::Value) -> core::Literal {
        core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(value),
            }))),
            ..Default::default()
        }
    }

    fn primitive(value: core::primitive::Value) -> core::Literal {
        scalar(core::scalar::Value::Primitive(core::Primitive {
            value: Some(value),
        }))
    }

    #[test]
    fn renders_primitive_types() {
        use core::SimpleType;
        let names: Vec<std::string::String> = [
            SimpleType::Integer,
            SimpleType::Float,
            SimpleType::String,
            SimpleType::Boolean,
            SimpleType::Datetime,
            SimpleType::Duration,
            SimpleType::None,
        ]
        .into_iter()
        .map(|t| render_type(&simple(t)))
        .collect();
        assert_eq!(
            names,
            [
                "int",
                "float",
                "str",
                "bool",
                "datetime",
                "timedelta",
                "None"
            ]
        );
    }

    #[test]
    fn renders_collection_and_map_types() {
        use core::literal_type::Type;
        let list = of(Type::CollectionType(Box::new(simple(
            core::SimpleType::Integer,
        ))));
        assert_eq!(render_type(&list), "List[int]");
        let map = of(Type::MapValueType(Box::new(simple(
            core::SimpleType::Float,
        ))));
        assert_eq!(render_type(&map), "Dict[str, float]");
        let nested = of(Type::CollectionType(Box::new(map)));
        assert_eq!(render_type(&nested), "List[Dict[str, float]]");
    }

    #[test]
    fn renders_blob_enum_and_dataset_types() {
        use core::literal_type::Type;
        let file = of(Type::Blob(core::BlobType {
            format: "csv".into(),
            dimensionality: core::blob_type::BlobDimensionality::Single as i32,
        }));
        assert_eq!(render_type(&file), "FlyteFile[csv]");
        let directory = of(Type::Blob(core::BlobType {
            format: String::new(),
            dimensionality: core::blob_type::BlobDimensionality::Multipart as i32,
        }));
        assert_eq!(render_type(&directory), "FlyteDirectory");
        let colour = of(Type::EnumType(core::EnumType {
            values: vec!["red".into(), "green".into()],
        }));
        assert_eq!(render_type(&colour), "Enum[red, green]");
        let frame = of(Type::StructuredDatasetType(core::StructuredDatasetType {
            format: "parquet".into(),
            ..Default::default()
        }));
        assert_eq!(render_type(&frame), "StructuredDataset[parquet]");
    }

    #[test]
    fn renders_unions_and_optionals() {
        use core::literal_type::Type;
        let optional = of(Type::UnionType(core::UnionType {
            variants: vec![
                simple(core::SimpleType::Integer),
                simple(core::SimpleType::None),
            ],
        }));
        assert_eq!(render_type(&optional), "Optional[int]");
        let union = of(Type::UnionType(core::UnionType {
            variants: vec![
                simple(core::SimpleType::Integer),
                simple(core::SimpleType::String),
            ],
        }));
        assert_eq!(render_type(&union), "Union[int, str]");
        let optional_union = of(Type::UnionType(core::UnionType {
            variants: vec![
                simple(core::SimpleType::Integer),
                simple(core::SimpleType::String),
                simple(core::SimpleType::None),
            ],
        }));
        assert_eq!(render_type(&optional_union), "Optional[Union[int, str]]");
    }

    #[test]
    fn renders_dataclasses_by_title_and_fields() {
        let mut metadata = prost_types::Struct::default();
        metadata.fields.insert(
            "title".into(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::StringValue("Point".into())),
            },
        );
        let point = core::LiteralType {
            metadata: Some(metadata),
            structure: Some(core::TypeStructure {
                tag: String::new(),
                dataclass_type: HashMap::from([
                    ("y".to_string(), simple(core::SimpleType::Float)),
                    ("x".to_string(), simple(core::SimpleType::Integer)),
                ]),
            }),
            ..simple(core::SimpleType::Struct)
        };
        assert_eq!(render_type(&point), "Point(x: int, y: float)");
        assert_eq!(render_type(&simple(core::SimpleType::Struct)), "dict");
    }

    #[test]
    fn converts_primitive_literals() {
        use core::primitive::Value;
        assert_eq!(
            literal_value(&primitive(Value::Integer(7))),
            LiteralValue::Integer(7)
        );
        assert_eq!(
            literal_value(&primitive(Value::StringValue("world".into()))),
            LiteralValue::String("world".into())
        );
        assert_eq!(
            literal_value(&primitive(Value::Datetime(prost_types::Timestamp {
                seconds: 1,
                nanos: 500_000_000
            }))),
            LiteralValue::Datetime(1500)
        );
        assert_eq!(
            literal_value(&scalar(core::scalar::Value::NoneType(core::Void {}))),
            LiteralValue::None
        );
    }

    #[test]
    fn converts_collections_maps_and_unions() {
        use core::primitive::Value;
        let list = core::Literal {
            value: Some(core::literal::Value::Collection(core::LiteralCollection {
                literals: vec![primitive(Value::Integer(1)), primitive(Value::Integer(2))],
            })),
            ..Default::default()
        };
        assert_eq!(literal_value(&list).to_inline(), "[1, 2]");
        let map = core::Literal {
            value: Some(core::literal::Value::Map(core::LiteralMap {
                literals: HashMap::from([
                    ("b".to_string(), primitive(Value::FloatValue(0.5))),
                    ("a".to_string(), primitive(Value::FloatValue(1.0))),
                ]),
            })),
            ..Default::default()
        };
        assert_eq!(literal_value(&map).to_inline(), "{\"a\": 1.0, \"b\": 0.5}");
        let union = scalar(core::scalar::Value::Union(Box::new(core::Union {
            value: Some(Box::new(primitive(Value::Integer(3)))),
            r#type: Some(simple(core::SimpleType::Integer)),
        })));
        assert_eq!(literal_value(&union), LiteralValue::Integer(3));
    }

    #[test]
    fn converts_blobs_and_msgpack_binaries() {
        let blob = scalar(core::scalar::Value::Blob(core::Blob {
            metadata: Some(core::BlobMetadata {
                r#type: Some(core::BlobType {
                    format: String::new(),
                    dimensionality: core::blob_type::BlobDimensionality::Multipart as i32,
                }),
            }),
            uri: "s3://b/dir".into(),
        }));
        assert_eq!(literal_value(&blob).to_inline(), "directory s3://b/dir");
        let binary = scalar(core::scalar::Value::Binary(core::Binary {
            value: vec![0x81, 0xa1, b'x', 0x05],
            tag: "msgpack".into(),
        }));
        assert_eq!(literal_value(&binary).to_inline(), "{\"x\": 5}");
        let opaque = scalar(core::scalar::Value::Binary(core::Binary {
            value: vec![1, 2, 3],
            tag: "pickle".into(),
        }));
        assert_eq!(literal_value(&opaque).to_inline(), "3 bytes (pickle)");
    }

    #[test]
    fn lists_parameters_with_defaults_and_required_flags() {
        let parameters = core::ParameterMap {
            parameters: HashMap::from([
                (
                    "name".to_string(),
                    core::Parameter {
                        var: Some(core::Variable {
                            r#type: Some(simple(core::SimpleType::String)),
                            ..Default::default()
                        }),
                        behavior: Some(core::parameter::Behavior::Default(primitive(
                            core::primitive::Value::StringValue("world".into()),
                        ))),
                    },
                ),
                (
                    "count".to_string(),
                    core::Parameter {
                        var: Some(core::Variable {
                            r#type: Some(simple(core::SimpleType::Integer)),
                            ..Default::default()
                        }),
                        behavior: Some(core::parameter::Behavior::Required(true)),
                    },
                ),
            ]),
        };
        let list = typed_parameters(Some(&parameters));
        assert_eq!(list[0].name, "count");
        assert!(list[0].required);
        assert_eq!(list[1].type_name, "str");
        assert_eq!(list[1].default, Some(LiteralValue::String("world".into())));
    }
}
