//! The launch form's values: what each input accepts, how its text is read,
//! and (on the server) how it becomes a Flyte literal.
//!
//! The browser parses every field with the same code the server uses, so a bad
//! value is refused next to its field before anything is sent; the server
//! parses again against the interface it fetched itself and is the authority.

use serde::{Deserialize, Serialize};

use crate::literals::LiteralValue;

/// What an input accepts, derived from its Flyte type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InputKind {
    Integer,
    Float,
    String,
    Boolean,
    /// An instant: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` read as UTC.
    Datetime,
    /// A length of time: `90s`, `1h30m`, `250ms`, or a number of seconds.
    Duration,
    /// One of these names.
    Enum(Vec<String>),
    /// A JSON array of the item kind.
    List(Box<InputKind>),
    /// A JSON object whose values are of this kind.
    Map(Box<InputKind>),
    /// The kind, or nothing (`Optional[T]`): an empty field means `None`.
    Optional(Box<InputKind>),
    /// One of several types (`Union[int, str]`): the form asks which, and
    /// reads the text as that type. Typed as JSON (in a list, say), the
    /// first type that fits is used.
    Union(Vec<UnionVariant>),
    /// `None`, as one type of a union (`Optional[Union[int, str]]`).
    Nothing,
    /// A dataclass whose fields flytekit described: one input per field.
    Record(Vec<RecordField>),
    /// A dict or other JSON document without a known shape.
    Json,
    /// A file or directory by URI (`s3://…`, `file://…`, a local path of the store).
    Blob {
        directory: bool,
    },
    /// A dataframe (structured dataset, or flytekit's older schema) by the
    /// URI of its files.
    Dataset,
    /// A type the form cannot take yet; named so the person knows which.
    Unsupported(String),
}

/// One type a union input may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnionVariant {
    /// The type in Python syntax.
    pub type_name: String,
    pub kind: InputKind,
}

/// One field of a dataclass input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordField {
    pub name: String,
    /// The type in Python syntax.
    pub type_name: String,
    pub kind: InputKind,
    /// The dataclass gives it no default, so it must be filled.
    pub required: bool,
    /// The dataclass's own default, in the field's syntax.
    pub default_text: Option<String>,
}

/// A parsed input value, before it is typed as a Flyte literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LaunchValue {
    None,
    Integer(i64),
    Float(f64),
    String(String),
    Boolean(bool),
    /// Milliseconds since the Unix epoch.
    Datetime(i64),
    /// Milliseconds.
    Duration(i64),
    Enum(String),
    List(Vec<LaunchValue>),
    Map(Vec<(String, LaunchValue)>),
    /// Which variant of the union, and its value.
    Union(usize, Box<LaunchValue>),
    Json(serde_json::Value),
    Blob(String),
    Dataset(String),
    /// A dataclass's fields; ones left out take the dataclass's defaults.
    Record(Vec<(String, LaunchValue)>),
}

impl LaunchValue {
    /// The value as JSON the way flytekit encodes it inside a dataclass
    /// (mashumaro's conventions), which the form also reads back.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            LaunchValue::None => Value::Null,
            LaunchValue::Integer(number) => Value::from(*number),
            LaunchValue::Float(number) => Value::from(*number),
            LaunchValue::String(text) | LaunchValue::Enum(text) => Value::from(text.clone()),
            LaunchValue::Boolean(flag) => Value::from(*flag),
            LaunchValue::Datetime(millis) => Value::from(format_rfc3339(*millis)),
            LaunchValue::Duration(millis) => Value::from(*millis as f64 / 1000.0),
            LaunchValue::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            LaunchValue::Map(entries) | LaunchValue::Record(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
            LaunchValue::Union(_, inner) => inner.to_json(),
            LaunchValue::Json(json) => json.clone(),
            LaunchValue::Blob(uri) => serde_json::json!({ "path": uri }),
            LaunchValue::Dataset(uri) => serde_json::json!({ "uri": uri }),
        }
    }
}

impl InputKind {
    /// Whether the field is a multi-line JSON editor rather than a one-line input.
    pub fn is_json(&self) -> bool {
        match self {
            InputKind::List(_)
            | InputKind::Map(_)
            | InputKind::Json
            | InputKind::Record(_)
            | InputKind::Union(_) => true,
            InputKind::Optional(inner) => inner.is_json(),
            _ => false,
        }
    }

    /// A hint of the accepted syntax, shown under the field.
    pub fn hint(&self) -> String {
        match self {
            InputKind::Integer => "A whole number.".into(),
            InputKind::Float => "A number, e.g. 0.5 or 1e-3.".into(),
            InputKind::String => "Text.".into(),
            InputKind::Boolean => "Checked means true.".into(),
            InputKind::Datetime => "UTC, e.g. 2026-11-22T14:30:00Z.".into(),
            InputKind::Duration => "e.g. 90s, 1h30m, 250ms, or seconds.".into(),
            InputKind::Enum(values) => format!("One of: {}.", values.join(", ")),
            InputKind::List(_) => "A JSON array, e.g. [1, 2, 3].".into(),
            InputKind::Map(_) => "A JSON object, e.g. {\"a\": 1}.".into(),
            InputKind::Optional(inner) => format!("Leave empty for None. {}", inner.hint()),
            InputKind::Union(_) => "JSON; the first type of the union that fits is used.".into(),
            InputKind::Nothing => "Sends None.".into(),
            InputKind::Json => "A JSON object.".into(),
            InputKind::Record(fields) => format!(
                "A JSON object with the dataclass's fields: {}.",
                fields
                    .iter()
                    .map(|field| field.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            InputKind::Blob { directory: true } => "The directory's URI.".into(),
            InputKind::Blob { directory: false } => "The file's URI.".into(),
            InputKind::Dataset => {
                "The URI of the dataframe's files, e.g. s3://bucket/table/.".into()
            }
            InputKind::Unsupported(type_name) => {
                format!("{type_name} cannot be entered in the form yet.")
            }
        }
    }

    /// Reads a field's text. `Ok(None)` means the field was left empty.
    pub fn parse_field(&self, text: &str) -> Result<Option<LaunchValue>, String> {
        let trimmed = text.trim();
        if *self == InputKind::Nothing {
            return Ok(Some(LaunchValue::None));
        }
        if let InputKind::Optional(inner) = self {
            return if trimmed.is_empty() || trimmed == "null" || trimmed == "None" {
                Ok(Some(LaunchValue::None))
            } else {
                inner.parse_field(text)
            };
        }
        if trimmed.is_empty() && !matches!(self, InputKind::String) {
            return Ok(None);
        }
        if self.is_json() {
            let json: serde_json::Value = serde_json::from_str(trimmed)
                .map_err(|error| format!("not valid JSON: {error}"))?;
            return self.parse_json(&json).map(Some);
        }
        self.parse_text(text).map(Some)
    }

    /// Reads a union's field as the type the person chose (`variant`, an
    /// index into the union's types). `Ok(None)` means the field was left empty.
    pub fn parse_variant(&self, variant: usize, text: &str) -> Result<Option<LaunchValue>, String> {
        let InputKind::Union(variants) = self else {
            return Err("a type was chosen for an input that is not a union".into());
        };
        let chosen = variants
            .get(variant)
            .ok_or_else(|| format!("the union has no type number {variant}"))?;
        Ok(chosen
            .kind
            .parse_field(text)?
            .map(|value| LaunchValue::Union(variant, Box::new(value))))
    }

    /// Which of a union's types a value in JSON is read as: the first that
    /// fits, as when it is typed as JSON.
    pub fn variant_of_json(&self, json: &serde_json::Value) -> Option<usize> {
        match self {
            InputKind::Union(variants) => variants
                .iter()
                .position(|variant| variant.kind.parse_json(json).is_ok()),
            _ => None,
        }
    }

    fn parse_text(&self, text: &str) -> Result<LaunchValue, String> {
        let trimmed = text.trim();
        match self {
            InputKind::Integer => trimmed
                .parse()
                .map(LaunchValue::Integer)
                .map_err(|_| format!("\"{trimmed}\" is not a whole number")),
            InputKind::Float => trimmed
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite())
                .map(LaunchValue::Float)
                .ok_or_else(|| format!("\"{trimmed}\" is not a number")),
            InputKind::String => Ok(LaunchValue::String(text.to_string())),
            InputKind::Boolean => match trimmed.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(LaunchValue::Boolean(true)),
                "false" | "off" | "no" | "0" => Ok(LaunchValue::Boolean(false)),
                _ => Err(format!("\"{trimmed}\" is not true or false")),
            },
            InputKind::Datetime => parse_datetime(trimmed).map(LaunchValue::Datetime),
            InputKind::Duration => parse_duration(trimmed).map(LaunchValue::Duration),
            InputKind::Enum(values) => {
                if values.iter().any(|value| value == trimmed) {
                    Ok(LaunchValue::Enum(trimmed.to_string()))
                } else {
                    Err(format!("\"{trimmed}\" is not one of {}", values.join(", ")))
                }
            }
            InputKind::Blob { .. } | InputKind::Dataset => {
                if trimmed.starts_with('/') || trimmed.contains("://") {
                    Ok(if *self == InputKind::Dataset {
                        LaunchValue::Dataset(trimmed.to_string())
                    } else {
                        LaunchValue::Blob(trimmed.to_string())
                    })
                } else {
                    Err(format!(
                        "\"{trimmed}\" is not a URI like s3://bucket/key or file:///path"
                    ))
                }
            }
            InputKind::Unsupported(type_name) => {
                Err(format!("{type_name} cannot be entered in the form yet"))
            }
            json_kind => {
                let json: serde_json::Value = serde_json::from_str(trimmed)
                    .map_err(|error| format!("not valid JSON: {error}"))?;
                json_kind.parse_json(&json)
            }
        }
    }

    fn parse_json(&self, json: &serde_json::Value) -> Result<LaunchValue, String> {
        use serde_json::Value;
        match (self, json) {
            (InputKind::Optional(_) | InputKind::Nothing, Value::Null) => Ok(LaunchValue::None),
            (InputKind::Optional(inner), other) => inner.parse_json(other),
            (InputKind::Integer, Value::Number(number)) => number
                .as_i64()
                .map(LaunchValue::Integer)
                .ok_or_else(|| format!("{number} is not a whole number")),
            (InputKind::Float, Value::Number(number)) => number
                .as_f64()
                .map(LaunchValue::Float)
                .ok_or_else(|| format!("{number} is not a number")),
            (InputKind::Boolean, Value::Bool(value)) => Ok(LaunchValue::Boolean(*value)),
            (InputKind::Duration, Value::Number(_)) => self.parse_text(&json.to_string()),
            (
                InputKind::String
                | InputKind::Datetime
                | InputKind::Duration
                | InputKind::Enum(_)
                | InputKind::Blob { .. }
                | InputKind::Dataset,
                Value::String(text),
            ) => self.parse_text(text),
            // Inside a dataclass flytekit writes a dataframe as `{"uri": uri}`.
            (InputKind::Dataset, Value::Object(entries)) => match entries.get("uri") {
                Some(Value::String(uri)) => self.parse_text(uri),
                _ => Err(format!("{json} is not a URI")),
            },
            (InputKind::List(item), Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(index, value)| {
                    item.parse_json(value)
                        .map_err(|error| format!("item {index}: {error}"))
                })
                .collect::<Result<_, _>>()
                .map(LaunchValue::List),
            (InputKind::Map(value_kind), Value::Object(entries)) => entries
                .iter()
                .map(|(key, value)| {
                    value_kind
                        .parse_json(value)
                        .map(|value| (key.clone(), value))
                        .map_err(|error| format!("key \"{key}\": {error}"))
                })
                .collect::<Result<_, _>>()
                .map(LaunchValue::Map),
            (InputKind::Union(variants), value) => variants
                .iter()
                .enumerate()
                .find_map(|(index, variant)| {
                    variant
                        .kind
                        .parse_json(value)
                        .ok()
                        .map(|parsed| LaunchValue::Union(index, Box::new(parsed)))
                })
                .ok_or_else(|| format!("{value} fits none of the union's types")),
            (InputKind::Json, Value::Object(_)) => Ok(LaunchValue::Json(json.clone())),
            (InputKind::Record(fields), Value::Object(entries)) => {
                if let Some(unknown) = entries
                    .keys()
                    .find(|key| !fields.iter().any(|field| &field.name == *key))
                {
                    return Err(format!("the dataclass has no field \"{unknown}\""));
                }
                let mut values = Vec::new();
                for field in fields {
                    match entries.get(&field.name) {
                        Some(value) => values.push((
                            field.name.clone(),
                            field
                                .kind
                                .parse_json(value)
                                .map_err(|error| format!("{}: {error}", field.name))?,
                        )),
                        None if field.required => {
                            return Err(format!("{}: required", field.name));
                        }
                        None => {}
                    }
                }
                Ok(LaunchValue::Record(values))
            }
            // Inside a dataclass flytekit writes a file as `{"path": uri}`.
            (InputKind::Blob { .. }, Value::Object(entries)) => match entries.get("path") {
                Some(Value::String(uri)) => self.parse_text(uri),
                _ => Err(format!("{json} is not a URI")),
            },
            (InputKind::Unsupported(type_name), _) => {
                Err(format!("{type_name} cannot be entered in the form yet"))
            }
            (kind, value) => Err(format!("{value} is not {}", kind.expected())),
        }
    }

    fn expected(&self) -> &'static str {
        match self {
            InputKind::Integer => "a whole number",
            InputKind::Float => "a number",
            InputKind::Boolean => "true or false",
            InputKind::List(_) => "a JSON array",
            InputKind::Map(_) | InputKind::Json | InputKind::Record(_) => "a JSON object",
            InputKind::Nothing => "None",
            _ => "a string",
        }
    }

    /// A value found in JSON (a dataclass's default, or its part of a whole
    /// default) as this field's text.
    pub fn text_from_json(&self, json: &serde_json::Value) -> String {
        use serde_json::Value;
        let inner = match self {
            InputKind::Optional(inner) => inner,
            other => other,
        };
        match (inner, json) {
            (_, Value::Null) => String::new(),
            (kind, value) if kind.is_json() => value.to_string(),
            (InputKind::Blob { .. } | InputKind::Dataset, Value::Object(entries)) => entries
                .get("path")
                .or_else(|| entries.get("uri"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            (_, Value::String(text)) => text.clone(),
            (_, value) => value.to_string(),
        }
    }

    /// A launch plan's default shown in the field, in the field's syntax.
    pub fn default_text(&self, value: &LiteralValue) -> Option<String> {
        let inner = match self {
            InputKind::Optional(inner) => inner,
            other => other,
        };
        if inner.is_json() {
            return literal_json(value).map(|json| json.to_string());
        }
        Some(match value {
            LiteralValue::None => String::new(),
            LiteralValue::Integer(number) => number.to_string(),
            LiteralValue::Float(number) => number.to_string(),
            LiteralValue::String(text) => text.clone(),
            LiteralValue::Boolean(value) => value.to_string(),
            LiteralValue::Datetime(millis) => format_rfc3339(*millis),
            LiteralValue::Duration(millis) => format!("{millis}ms"),
            LiteralValue::Blob { uri, .. } | LiteralValue::Dataset { uri, .. } => uri.clone(),
            _ => return None,
        })
    }
}

fn literal_json(value: &LiteralValue) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match value {
        LiteralValue::None => Value::Null,
        LiteralValue::Integer(number) => Value::from(*number),
        LiteralValue::Float(number) => Value::from(*number),
        LiteralValue::String(text) => Value::from(text.clone()),
        LiteralValue::Boolean(value) => Value::from(*value),
        LiteralValue::Datetime(millis) => Value::from(format_rfc3339(*millis)),
        LiteralValue::Duration(millis) => Value::from(format!("{millis}ms")),
        LiteralValue::Blob { uri, .. } => Value::from(uri.clone()),
        LiteralValue::Collection(items) => {
            Value::Array(items.iter().map(literal_json).collect::<Option<_>>()?)
        }
        LiteralValue::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| Some((key.clone(), literal_json(value)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// `2026-11-22T14:30:00Z`, or with `+01:00`; seconds and fractions optional;
/// without a zone the time is UTC.
pub fn parse_datetime(text: &str) -> Result<i64, String> {
    let invalid = || format!("\"{text}\" is not a date and time like 2026-11-22T14:30:00Z");
    let (date, rest) = text.split_once(['T', ' ']).ok_or_else(invalid)?;
    let mut date_parts = date.splitn(3, '-');
    let number = |part: Option<&str>| -> Result<i64, String> {
        part.filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(invalid)
    };
    let (year, month, day) = (
        number(date_parts.next())?,
        number(date_parts.next())?,
        number(date_parts.next())?,
    );
    let (clock, offset_minutes) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(index) = rest.rfind(['+', '-']) {
        let (clock, zone) = rest.split_at(index);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = zone[1..].split_once(':').ok_or_else(invalid)?;
        (
            clock,
            sign * (number(Some(hours))? * 60 + number(Some(minutes))?),
        )
    } else {
        (rest, 0)
    };
    let mut clock_parts = clock.splitn(3, ':');
    let hour = number(clock_parts.next())?;
    let minute = number(clock_parts.next())?;
    let (second, millis) = match clock_parts.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            let fraction: String = fraction.chars().chain("000".chars()).take(3).collect();
            (number(Some(whole))?, number(Some(&fraction))?)
        }
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(invalid());
    }
    let days = crate::time::days_from_civil(year, month, day);
    Ok(
        ((days * 86_400 + hour * 3600 + minute * 60 + second) - offset_minutes * 60) * 1000
            + millis,
    )
}

/// `2026-11-22T14:30:00Z`, or with milliseconds when there are some.
pub fn format_rfc3339(epoch_millis: i64) -> String {
    let utc = crate::time::format_utc(epoch_millis);
    let (date, rest) = utc.split_once(' ').unwrap_or((&utc, ""));
    let clock = rest.trim_end_matches(" UTC");
    match epoch_millis.rem_euclid(1000) {
        0 => format!("{date}T{clock}Z"),
        millis => format!("{date}T{clock}.{millis:03}Z"),
    }
}

/// `250ms`, `90s`, `5m`, `1h30m`, `2d`, combinations of them, or plain seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("\"{text}\" is not a duration like 90s, 1h30m or 250ms");
    if let Ok(seconds) = text.parse::<f64>() {
        return if seconds.is_finite() && seconds >= 0.0 {
            Ok((seconds * 1000.0).round() as i64)
        } else {
            Err(invalid())
        };
    }
    let mut total = 0i64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let amount: i64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_length = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match rest[..unit_length].trim() {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(invalid()),
        };
        total = amount
            .checked_mul(factor)
            .and_then(|millis| total.checked_add(millis))
            .ok_or_else(invalid)?;
        rest = &rest[unit_length..];
    }
    Ok(total)
}

/// Labels or annotations typed one `key=value` per line.
pub fn parse_key_values(what: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.split_once('=')
                .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
                .filter(|(key, _)| !key.is_empty())
                .ok_or_else(|| format!("{what}: \"{line}\" is not key=value"))
        })
        .collect()
}

#[cfg(feature = "ssr")]
pub use convert::{input_kind, to_literal};

#[cfg(feature = "ssr")]
mod convert {
    use super::{InputKind, LaunchValue, RecordField, UnionVariant};
    use updraft_proto::flyteidl::core;

    /// What the form accepts for a Flyte type.
    pub fn input_kind(literal_type: &core::LiteralType) -> InputKind {
        use core::SimpleType;
        use core::literal_type::Type;
        match &literal_type.r#type {
            Some(Type::Simple(simple)) => match SimpleType::try_from(*simple) {
                Ok(SimpleType::Integer) => InputKind::Integer,
                Ok(SimpleType::Float) => InputKind::Float,
                Ok(SimpleType::String) => InputKind::String,
                Ok(SimpleType::Boolean) => InputKind::Boolean,
                Ok(SimpleType::Datetime) => InputKind::Datetime,
                Ok(SimpleType::Duration) => InputKind::Duration,
                Ok(SimpleType::Struct) => record_kind(literal_type).unwrap_or(InputKind::Json),
                _ => InputKind::Unsupported(crate::literals::render_type(literal_type)),
            },
            Some(Type::EnumType(enum_type)) => InputKind::Enum(enum_type.values.clone()),
            Some(Type::CollectionType(item)) => InputKind::List(Box::new(input_kind(item))),
            Some(Type::MapValueType(value)) => InputKind::Map(Box::new(input_kind(value))),
            Some(Type::Blob(blob)) => InputKind::Blob {
                directory: blob.dimensionality
                    == core::blob_type::BlobDimensionality::Multipart as i32,
            },
            Some(Type::StructuredDatasetType(_) | Type::Schema(_)) => InputKind::Dataset,
            Some(Type::UnionType(union)) => {
                let is_none = |variant: &core::LiteralType| matches!(variant.r#type, Some(Type::Simple(simple)) if simple == SimpleType::None as i32);
                let others: Vec<&core::LiteralType> = union
                    .variants
                    .iter()
                    .filter(|variant| !is_none(variant))
                    .collect();
                let has_none = others.len() < union.variants.len();
                match (has_none, others.as_slice()) {
                    // No type to choose: nothing the form could send.
                    (_, []) => InputKind::Unsupported(crate::literals::render_type(literal_type)),
                    (true, [only]) => InputKind::Optional(Box::new(input_kind(only))),
                    _ => InputKind::Union(
                        union
                            .variants
                            .iter()
                            .map(|variant| UnionVariant {
                                type_name: crate::literals::render_type(variant),
                                kind: if is_none(variant) {
                                    InputKind::Nothing
                                } else {
                                    input_kind(variant)
                                },
                            })
                            .collect(),
                    ),
                }
            }
            _ => InputKind::Unsupported(crate::literals::render_type(literal_type)),
        }
    }

    /// A dataclass's fields, from the field types and the JSON schema that
    /// flytekit attaches to its type; `None` for a struct of unknown shape.
    fn record_kind(literal_type: &core::LiteralType) -> Option<InputKind> {
        use prost_types::value::Kind;
        let field_types = &literal_type.structure.as_ref()?.dataclass_type;
        if field_types.is_empty() {
            return None;
        }
        let schema = literal_type.metadata.as_ref();
        let required: Option<Vec<String>> = schema
            .and_then(|schema| schema.fields.get("required"))
            .and_then(|value| match &value.kind {
                Some(Kind::ListValue(list)) => Some(
                    list.values
                        .iter()
                        .filter_map(|name| match &name.kind {
                            Some(Kind::StringValue(name)) => Some(name.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            });
        let property = |name: &str| {
            schema
                .and_then(|schema| schema.fields.get("properties"))
                .and_then(|value| match &value.kind {
                    Some(Kind::StructValue(properties)) => properties.fields.get(name),
                    _ => None,
                })
                .and_then(|value| match &value.kind {
                    Some(Kind::StructValue(property)) => Some(property),
                    _ => None,
                })
        };
        let mut fields: Vec<RecordField> = field_types
            .iter()
            .map(|(name, field_type)| {
                let kind = input_kind(field_type);
                let default_text = property(name)
                    .and_then(|property| property.fields.get("default"))
                    .map(|default| kind.text_from_json(&json_from_prost(default)));
                RecordField {
                    name: name.clone(),
                    type_name: crate::literals::render_type(field_type),
                    required: match &required {
                        Some(required) => required.contains(name),
                        None => !matches!(kind, InputKind::Optional(_)),
                    },
                    default_text,
                    kind,
                }
            })
            .collect();
        // Required fields first, in the dataclass's own order (the schema
        // keeps it); the rest by name.
        let position = |field: &RecordField| {
            required
                .as_ref()
                .and_then(|required| required.iter().position(|name| name == &field.name))
                .unwrap_or(usize::MAX)
        };
        fields.sort_by(|a, b| position(a).cmp(&position(b)).then(a.name.cmp(&b.name)));
        Some(InputKind::Record(fields))
    }

    fn json_from_prost(value: &prost_types::Value) -> serde_json::Value {
        use prost_types::value::Kind;
        match &value.kind {
            None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
            // JSON schema keeps one number type; `retries: int = 3` must
            // read back as 3, not 3.0, or the form refuses its own default.
            Some(Kind::NumberValue(number)) => match crate::literals::whole_number(*number) {
                Some(whole) => serde_json::Value::from(whole),
                None => serde_json::Value::from(*number),
            },
            Some(Kind::StringValue(text)) => serde_json::Value::from(text.clone()),
            Some(Kind::BoolValue(flag)) => serde_json::Value::from(*flag),
            Some(Kind::StructValue(object)) => serde_json::Value::Object(
                object
                    .fields
                    .iter()
                    .map(|(key, value)| (key.clone(), json_from_prost(value)))
                    .collect(),
            ),
            Some(Kind::ListValue(list)) => {
                serde_json::Value::Array(list.values.iter().map(json_from_prost).collect())
            }
        }
    }

    /// The literal flytekit expects for `value` typed as `literal_type`.
    pub fn to_literal(value: &LaunchValue, literal_type: &core::LiteralType) -> core::Literal {
        use core::literal::Value as LiteralKind;
        use core::literal_type::Type;
        use core::primitive::Value as Primitive;
        let scalar = |value: core::scalar::Value| core::Literal {
            value: Some(LiteralKind::Scalar(Box::new(core::Scalar {
                value: Some(value),
            }))),
            ..Default::default()
        };
        let primitive = |value: Primitive| {
            scalar(core::scalar::Value::Primitive(core::Primitive {
                value: Some(value),
            }))
        };
        match value {
            LaunchValue::None => scalar(core::scalar::Value::NoneType(core::Void {})),
            LaunchValue::Integer(number) => primitive(Primitive::Integer(*number)),
            LaunchValue::Float(number) => primitive(Primitive::FloatValue(*number)),
            LaunchValue::String(text) | LaunchValue::Enum(text) => {
                primitive(Primitive::StringValue(text.clone()))
            }
            LaunchValue::Boolean(flag) => primitive(Primitive::Boolean(*flag)),
            LaunchValue::Datetime(millis) => {
                primitive(Primitive::Datetime(prost_types::Timestamp {
                    seconds: millis.div_euclid(1000),
                    nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
                }))
            }
            LaunchValue::Duration(millis) => {
                primitive(Primitive::Duration(prost_types::Duration {
                    seconds: millis / 1000,
                    nanos: ((millis % 1000) * 1_000_000) as i32,
                }))
            }
            LaunchValue::List(items) => {
                let item_type = match &literal_type.r#type {
                    Some(Type::CollectionType(item)) => item.as_ref().clone(),
                    _ => core::LiteralType::default(),
                };
                core::Literal {
                    value: Some(LiteralKind::Collection(core::LiteralCollection {
                        literals: items
                            .iter()
                            .map(|item| to_literal(item, &item_type))
                            .collect(),
                    })),
                    ..Default::default()
                }
            }
            LaunchValue::Map(entries) => {
                let value_type = match &literal_type.r#type {
                    Some(Type::MapValueType(value)) => value.as_ref().clone(),
                    _ => core::LiteralType::default(),
                };
                core::Literal {
                    value: Some(LiteralKind::Map(core::LiteralMap {
                        literals: entries
                            .iter()
                            .map(|(key, value)| (key.clone(), to_literal(value, &value_type)))
                            .collect(),
                    })),
                    ..Default::default()
                }
            }
            LaunchValue::Union(index, inner) => {
                let variant = match &literal_type.r#type {
                    Some(Type::UnionType(union)) => {
                        union.variants.get(*index).cloned().unwrap_or_default()
                    }
                    _ => core::LiteralType::default(),
                };
                scalar(core::scalar::Value::Union(Box::new(core::Union {
                    value: Some(Box::new(to_literal(inner, &variant))),
                    r#type: Some(variant),
                })))
            }
            LaunchValue::Json(json) => scalar(core::scalar::Value::Generic(json_struct(json))),
            LaunchValue::Record(_) => {
                scalar(core::scalar::Value::Generic(json_struct(&value.to_json())))
            }
            LaunchValue::Dataset(uri) if matches!(literal_type.r#type, Some(Type::Schema(_))) => {
                let schema_type = match &literal_type.r#type {
                    Some(Type::Schema(schema_type)) => Some(schema_type.clone()),
                    _ => None,
                };
                scalar(core::scalar::Value::Schema(core::Schema {
                    uri: uri.clone(),
                    r#type: schema_type,
                }))
            }
            LaunchValue::Dataset(uri) => {
                let dataset_type = match &literal_type.r#type {
                    Some(Type::StructuredDatasetType(dataset_type)) => dataset_type.clone(),
                    _ => core::StructuredDatasetType::default(),
                };
                scalar(core::scalar::Value::StructuredDataset(
                    core::StructuredDataset {
                        uri: uri.clone(),
                        metadata: Some(core::StructuredDatasetMetadata {
                            structured_dataset_type: Some(core::StructuredDatasetType {
                                // flytekit's own default when a type names none.
                                format: if dataset_type.format.is_empty() {
                                    "parquet".into()
                                } else {
                                    dataset_type.format.clone()
                                },
                                ..dataset_type
                            }),
                        }),
                    },
                ))
            }
            LaunchValue::Blob(uri) => {
                let metadata = match &literal_type.r#type {
                    Some(Type::Blob(blob)) => Some(core::BlobMetadata {
                        r#type: Some(blob.clone()),
                    }),
                    _ => None,
                };
                scalar(core::scalar::Value::Blob(core::Blob {
                    metadata,
                    uri: uri.clone(),
                }))
            }
        }
    }

    #[cfg(test)]
    #[test]
    fn a_dataframe_is_sent_as_the_literal_its_type_names() {
        let uri = LaunchValue::Dataset("s3://bucket/table/".into());
        let structured = core::LiteralType {
            r#type: Some(core::literal_type::Type::StructuredDatasetType(
                core::StructuredDatasetType::default(),
            )),
            ..Default::default()
        };
        assert_eq!(input_kind(&structured), InputKind::Dataset);
        let Some(core::literal::Value::Scalar(scalar)) = to_literal(&uri, &structured).value else {
            panic!("a scalar");
        };
        let Some(core::scalar::Value::StructuredDataset(dataset)) = scalar.value else {
            panic!("a structured dataset");
        };
        assert_eq!(dataset.uri, "s3://bucket/table/");
        assert_eq!(
            dataset
                .metadata
                .and_then(|metadata| metadata.structured_dataset_type)
                .map(|dataset_type| dataset_type.format),
            Some("parquet".to_string())
        );

        let legacy = core::LiteralType {
            r#type: Some(core::literal_type::Type::Schema(core::SchemaType::default())),
            ..Default::default()
        };
        assert_eq!(input_kind(&legacy), InputKind::Dataset);
        let Some(core::literal::Value::Scalar(scalar)) = to_literal(&uri, &legacy).value else {
            panic!("a scalar");
        };
        assert!(matches!(
            scalar.value,
            Some(core::scalar::Value::Schema(core::Schema { ref uri, .. })) if uri == "s3://bucket/table/"
        ));
    }

    #[cfg(test)]
    #[test]
    fn a_dataclass_type_becomes_one_input_per_field() {
        use prost_types::value::Kind;
        let simple = |simple: core::SimpleType| core::LiteralType {
            r#type: Some(core::literal_type::Type::Simple(simple as i32)),
            ..Default::default()
        };
        let text = |text: &str| prost_types::Value {
            kind: Some(Kind::StringValue(text.into())),
        };
        let object = |entries: Vec<(&str, prost_types::Value)>| prost_types::Struct {
            fields: entries
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
        };
        let schema = object(vec![
            (
                "required",
                prost_types::Value {
                    kind: Some(Kind::ListValue(prost_types::ListValue {
                        values: vec![text("title"), text("retries")],
                    })),
                },
            ),
            (
                "properties",
                prost_types::Value {
                    kind: Some(Kind::StructValue(object(vec![
                        (
                            "memory",
                            prost_types::Value {
                                kind: Some(Kind::StructValue(object(vec![(
                                    "default",
                                    text("1Gi"),
                                )]))),
                            },
                        ),
                        (
                            "workers",
                            prost_types::Value {
                                kind: Some(Kind::StructValue(object(vec![(
                                    "default",
                                    prost_types::Value {
                                        kind: Some(Kind::NumberValue(3.0)),
                                    },
                                )]))),
                            },
                        ),
                    ]))),
                },
            ),
        ]);
        let settings = core::LiteralType {
            r#type: Some(core::literal_type::Type::Simple(
                core::SimpleType::Struct as i32,
            )),
            metadata: Some(schema),
            structure: Some(core::TypeStructure {
                dataclass_type: [
                    ("memory", simple(core::SimpleType::String)),
                    ("retries", simple(core::SimpleType::Integer)),
                    ("title", simple(core::SimpleType::String)),
                    ("workers", simple(core::SimpleType::Integer)),
                ]
                .into_iter()
                .map(|(name, field_type)| (name.to_string(), field_type))
                .collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let InputKind::Record(fields) = input_kind(&settings) else {
            panic!("a dataclass with known fields is a record");
        };
        let summary: Vec<(&str, bool, Option<&str>)> = fields
            .iter()
            .map(|field| {
                (
                    field.name.as_str(),
                    field.required,
                    field.default_text.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("title", true, None),
                ("retries", true, None),
                ("memory", false, Some("1Gi")),
                ("workers", false, Some("3")),
            ]
        );
        // A struct of unknown shape (a plain dict) stays one JSON box.
        assert_eq!(
            input_kind(&simple(core::SimpleType::Struct)),
            InputKind::Json
        );
    }

    fn json_struct(json: &serde_json::Value) -> prost_types::Struct {
        match json {
            serde_json::Value::Object(entries) => prost_types::Struct {
                fields: entries
                    .iter()
                    .map(|(key, value)| (key.clone(), json_value(value)))
                    .collect(),
            },
            _ => prost_types::Struct::default(),
        }
    }

    fn json_value(json: &serde_json::Value) -> prost_types::Value {
        use prost_types::value::Kind;
        let kind = match json {
            serde_json::Value::Null => Kind::NullValue(0),
            serde_json::Value::Bool(flag) => Kind::BoolValue(*flag),
            serde_json::Value::Number(number) => Kind::NumberValue(number.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(text) => Kind::StringValue(text.clone()),
            serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
                values: items.iter().map(json_value).collect(),
            }),
            serde_json::Value::Object(_) => Kind::StructValue(json_struct(json)),
        };
        prost_types::Value { kind: Some(kind) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(type_name: &str, kind: InputKind) -> UnionVariant {
        UnionVariant {
            type_name: type_name.into(),
            kind,
        }
    }

    fn int_or_str() -> InputKind {
        InputKind::Union(vec![
            variant("int", InputKind::Integer),
            variant("str", InputKind::String),
        ])
    }

    #[test]
    fn a_union_reads_its_text_as_the_chosen_type() {
        let union = int_or_str();
        assert_eq!(
            union.parse_variant(1, "5"),
            Ok(Some(LaunchValue::Union(
                1,
                Box::new(LaunchValue::String("5".into()))
            )))
        );
        assert_eq!(
            union.parse_variant(0, "5"),
            Ok(Some(LaunchValue::Union(
                0,
                Box::new(LaunchValue::Integer(5))
            )))
        );
        assert_eq!(
            union.parse_variant(0, "five"),
            Err("\"five\" is not a whole number".into())
        );
        assert_eq!(union.parse_variant(0, " "), Ok(None));
        assert!(union.parse_variant(2, "5").is_err());
        assert!(InputKind::Integer.parse_variant(0, "5").is_err());
    }

    #[test]
    fn an_optional_union_takes_none_as_a_type_of_its_own() {
        let union = InputKind::Union(vec![
            variant("datetime", InputKind::Datetime),
            variant("str", InputKind::String),
            variant("None", InputKind::Nothing),
        ]);
        assert_eq!(
            union.parse_variant(2, ""),
            Ok(Some(LaunchValue::Union(2, Box::new(LaunchValue::None))))
        );
        assert_eq!(
            union.parse_field("null"),
            Ok(Some(LaunchValue::Union(2, Box::new(LaunchValue::None))))
        );
        // Typed as JSON, text that is also a date goes to the first type.
        assert_eq!(
            union.variant_of_json(&serde_json::json!("2026-01-02T03:04:05Z")),
            Some(0)
        );
        assert_eq!(union.variant_of_json(&serde_json::json!("soon")), Some(1));
        assert_eq!(union.variant_of_json(&serde_json::Value::Null), Some(2));
        assert_eq!(union.variant_of_json(&serde_json::json!([1])), None);
    }

    #[test]
    fn fields_parse_in_their_own_syntax() {
        assert_eq!(
            InputKind::Integer.parse_field(" 42 "),
            Ok(Some(LaunchValue::Integer(42)))
        );
        assert_eq!(InputKind::Integer.parse_field(""), Ok(None));
        assert!(
            InputKind::Integer
                .parse_field("4.2")
                .unwrap_err()
                .contains("whole number")
        );
        assert_eq!(
            InputKind::String.parse_field(""),
            Ok(Some(LaunchValue::String(String::new())))
        );
        assert_eq!(
            InputKind::Optional(Box::new(InputKind::Integer)).parse_field(""),
            Ok(Some(LaunchValue::None))
        );
        assert_eq!(
            InputKind::List(Box::new(InputKind::Integer)).parse_field("[1, 2]"),
            Ok(Some(LaunchValue::List(vec![
                LaunchValue::Integer(1),
                LaunchValue::Integer(2)
            ])))
        );
        let error = InputKind::List(Box::new(InputKind::Integer))
            .parse_field("[1, \"x\"]")
            .unwrap_err();
        assert!(error.contains("item 1"), "{error}");
        let error = InputKind::Enum(vec!["RED".into(), "GREEN".into()])
            .parse_field("BLUE")
            .unwrap_err();
        assert!(error.contains("RED, GREEN"), "{error}");
        assert_eq!(
            int_or_str().parse_field("\"a\""),
            Ok(Some(LaunchValue::Union(
                1,
                Box::new(LaunchValue::String("a".into()))
            )))
        );
    }

    #[test]
    fn datetimes_and_durations_read_as_people_write_them() {
        assert_eq!(parse_datetime("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_datetime("1970-01-01T01:00+01:00"), Ok(0));
        assert_eq!(
            parse_datetime("2026-11-22T14:30:00.5Z"),
            Ok(1_795_357_800_500)
        );
        assert!(parse_datetime("2026-13-01T00:00Z").is_err());
        assert_eq!(
            format_rfc3339(1_795_357_800_500),
            "2026-11-22T14:30:00.500Z"
        );
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("250ms"), Ok(250));
        assert_eq!(parse_duration("1.5"), Ok(1500));
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn defaults_are_shown_in_the_field_syntax() {
        let list = InputKind::List(Box::new(InputKind::Integer));
        assert_eq!(
            list.default_text(&LiteralValue::Collection(vec![LiteralValue::Integer(1)])),
            Some("[1]".into())
        );
        assert_eq!(
            InputKind::Duration.default_text(&LiteralValue::Duration(90_000)),
            Some("90000ms".into())
        );
    }

    fn settings_kind() -> InputKind {
        let member = |name: &str, kind: InputKind, required: bool| RecordField {
            name: name.into(),
            type_name: String::new(),
            kind,
            required,
            default_text: None,
        };
        InputKind::Record(vec![
            member("title", InputKind::String, true),
            member(
                "limits",
                InputKind::Record(vec![member("cpu", InputKind::Integer, true)]),
                true,
            ),
            member("wait", InputKind::Duration, false),
            member("report", InputKind::Blob { directory: false }, false),
        ])
    }

    #[test]
    fn a_dataclass_reads_its_fields_and_names_the_one_at_fault() {
        let settings = settings_kind();
        let parsed = settings
            .parse_field(
                r#"{"title": "t", "limits": {"cpu": 2}, "wait": "90s", "report": "s3://b/k"}"#,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.to_json(),
            serde_json::json!({
                "title": "t", "limits": {"cpu": 2}, "wait": 90.0, "report": {"path": "s3://b/k"}
            })
        );
        // What flytekit writes reads back as the same value.
        assert_eq!(
            settings
                .parse_json(&parsed.to_json())
                .map(|value| value.to_json()),
            Ok(parsed.to_json())
        );
        // Fields with a default may be left out; required ones may not.
        assert!(
            settings
                .parse_field(r#"{"title": "t", "limits": {"cpu": 1}}"#)
                .is_ok()
        );
        assert_eq!(
            settings.parse_field(r#"{"title": "t", "limits": {}}"#),
            Err("limits: cpu: required".into())
        );
        assert_eq!(
            settings.parse_field(r#"{"title": "t", "limits": {"cpu": "x"}}"#),
            Err("limits: cpu: \"x\" is not a whole number".into())
        );
        assert_eq!(
            settings.parse_field(r#"{"title": "t", "limits": {"cpu": 1}, "colour": 1}"#),
            Err("the dataclass has no field \"colour\"".into())
        );
    }

    #[test]
    fn a_blob_must_be_named_by_a_uri() {
        let file = InputKind::Blob { directory: false };
        assert_eq!(
            file.parse_field("s3://bucket/key.csv"),
            Ok(Some(LaunchValue::Blob("s3://bucket/key.csv".into())))
        );
        assert!(file.parse_field("/data/key.csv").is_ok());
        let error = file.parse_field("key.csv").unwrap_err();
        assert!(error.contains("not a URI"), "{error}");
    }

    #[test]
    fn parts_of_a_default_become_field_text() {
        use serde_json::json;
        assert_eq!(InputKind::Integer.text_from_json(&json!(3)), "3");
        assert_eq!(InputKind::String.text_from_json(&json!("a b")), "a b");
        assert_eq!(
            InputKind::Blob { directory: false }.text_from_json(&json!({"path": "s3://b/k"})),
            "s3://b/k"
        );
        assert_eq!(
            InputKind::List(Box::new(InputKind::String)).text_from_json(&json!(["a"])),
            "[\"a\"]"
        );
        assert_eq!(
            InputKind::Optional(Box::new(InputKind::String)).text_from_json(&json!(null)),
            ""
        );
    }

    #[test]
    fn labels_are_key_value_lines() {
        assert_eq!(
            parse_key_values("labels", "team=ml\n\n env = dev "),
            Ok(vec![
                ("team".into(), "ml".into()),
                ("env".into(), "dev".into())
            ])
        );
        assert!(
            parse_key_values("labels", "oops")
                .unwrap_err()
                .contains("labels")
        );
    }
}
