//! Task-cache keys exactly as Flyte v1 builds them, so a task cached by
//! updraft is found under the key flytepropeller would use (and the keys
//! events and the console show match stock Flyte):
//!
//! - the dataset is `flyte_task-<task name>` in the task's project and
//!   domain, at version `<cache version>-<inputs hash>-<outputs hash>` where
//!   each hash is the first 8 characters of the hash of the interface's
//!   `VariableMap` (`nodes/catalog/datacatalog/transformer.go`);
//! - the tag (and the reservation key) is `flyte_cached-<hash of the
//!   inputs>`, without those named in `cache_ignore_input_vars`, each
//!   literal that carries its own `hash` replaced by that hash alone
//!   (`pluginmachinery/catalog/hashing.go`).
//!
//! A hash is Flyte's `pbhash`: the message as golang/protobuf v1.5.4's
//! `jsonpb` writes it, hashed as benlaurie/objecthash's `CommonJSONHash`
//! (SHA-256 over a canonical form in which objects are unordered), then
//! unpadded URL-safe base64. The JSON is never written out: the same tree
//! is hashed directly, which is what objecthash does after parsing it.

use std::collections::HashMap;

use base64::Engine;
use sha2::{Digest, Sha256};
use updraft_proto::datacatalog;
use updraft_proto::flyteidl::core;

/// The namespace of cached tasks' dataset names.
const TASK_NAMESPACE: &str = "flyte_task";
/// The prefix of cached outputs' tags.
const CACHED_TASK_TAG: &str = "flyte_cached";
/// How much of each interface hash goes into a dataset version.
const MAX_PARAM_HASH_LENGTH: usize = 8;
/// The longest reservation owner id (flytepropeller's `task.IDMaxLength`).
const MAX_OWNER_ID_LENGTH: usize = 50;

const TASK_VERSION_KEY: &str = "task-version";
const EXECUTION_NAME_KEY: &str = "execution-name";
const EXECUTION_DOMAIN_KEY: &str = "exec-domain";
const EXECUTION_PROJECT_KEY: &str = "exec-project";
const EXECUTION_NODE_KEY: &str = "exec-node";
const EXECUTION_ATTEMPT_KEY: &str = "exec-attempt";

/// Why a cache key cannot be made (Flyte fails the node's cache step then).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheKeyError {
    /// The task is cacheable but names no cache version.
    #[error("task {task} is cacheable but has an empty cache version (discovery_version)")]
    EmptyCacheVersion {
        /// The task's name.
        task: String,
    },
    /// A timestamp jsonpb refuses to write (nanos outside `0..1e9`).
    #[error("a datetime in the hashed message has invalid nanos {nanos}")]
    InvalidTimestamp {
        /// The nanos it has.
        nanos: i32,
    },
    /// A duration jsonpb refuses to write (out of range, or signs differ).
    #[error("a duration in the hashed message is invalid ({seconds} s, {nanos} ns)")]
    InvalidDuration {
        /// Its seconds.
        seconds: i64,
        /// Its nanos.
        nanos: i32,
    },
    /// A `google.protobuf.Value` with no kind, which jsonpb refuses.
    #[error("a struct value in the hashed message has no kind")]
    EmptyStructValue,
}

/// Where a cached task's outputs are kept in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// `flyte_task-<name>` at `<cache version>-<inputs hash>-<outputs hash>`.
    pub dataset_id: datacatalog::DatasetId,
    /// `flyte_cached-<inputs hash>`.
    pub tag: String,
}

impl CacheKey {
    /// The key of `template`'s outputs for `inputs`: its dataset from its id,
    /// `discovery_version` and interface, its tag from the inputs it does not
    /// ignore. Node-level cache overrides are not read, as in Flyte v1.16.
    pub fn for_task(
        template: &core::TaskTemplate,
        inputs: Option<&core::LiteralMap>,
    ) -> Result<Self, CacheKeyError> {
        let metadata = template.metadata.clone().unwrap_or_default();
        Ok(Self {
            dataset_id: dataset_id(
                &template.id.clone().unwrap_or_default(),
                &metadata.discovery_version,
                template.interface.as_ref(),
            )?,
            tag: artifact_tag(inputs, &metadata.cache_ignore_input_vars)?,
        })
    }

    /// The reservation of this key (`cache_serialize`).
    pub fn reservation_id(&self) -> datacatalog::ReservationId {
        datacatalog::ReservationId {
            dataset_id: Some(self.dataset_id.clone()),
            tag_name: self.tag.clone(),
        }
    }
}

/// The dataset of the task `task_id` at `cache_version` with `interface`
/// (`GenerateDatasetIDForTask`). The task's version is not part of it, so a
/// re-registered task keeps its cache.
pub fn dataset_id(
    task_id: &core::Identifier,
    cache_version: &str,
    interface: Option<&core::TypedInterface>,
) -> Result<datacatalog::DatasetId, CacheKeyError> {
    let cache_version = cache_version.trim_matches(' ');
    if cache_version.is_empty() {
        return Err(CacheKeyError::EmptyCacheVersion {
            task: task_id.name.clone(),
        });
    }
    let interface = interface.cloned().unwrap_or_default();
    let signature = |variables: Option<&core::VariableMap>| -> Result<String, CacheKeyError> {
        let mut hash = encode(&pbhash(&variable_map_json(
            variables
                .map(|map| &map.variables)
                .unwrap_or(&HashMap::new()),
        )?));
        hash.truncate(MAX_PARAM_HASH_LENGTH);
        Ok(hash)
    };
    Ok(datacatalog::DatasetId {
        project: task_id.project.clone(),
        name: format!("{TASK_NAMESPACE}-{}", task_id.name),
        domain: task_id.domain.clone(),
        version: format!(
            "{cache_version}-{}-{}",
            signature(interface.inputs.as_ref())?,
            signature(interface.outputs.as_ref())?
        ),
        ..Default::default()
    })
}

/// The tag of the outputs for `inputs` (`GenerateArtifactTagName`).
pub fn artifact_tag(
    inputs: Option<&core::LiteralMap>,
    cache_ignore_input_vars: &[String],
) -> Result<String, CacheKeyError> {
    Ok(format!(
        "{CACHED_TASK_TAG}-{}",
        inputs_hash(inputs, cache_ignore_input_vars)?
    ))
}

/// The hash of `inputs` without those named in `cache_ignore_input_vars`,
/// each literal that carries its own hash standing for that hash alone
/// (`HashLiteralMap`).
pub fn inputs_hash(
    inputs: Option<&core::LiteralMap>,
    cache_ignore_input_vars: &[String],
) -> Result<String, CacheKeyError> {
    let empty = HashMap::new();
    let literals = inputs.map(|inputs| &inputs.literals).unwrap_or(&empty);
    let kept: HashMap<String, core::Literal> = literals
        .iter()
        .filter(|(name, _)| !cache_ignore_input_vars.contains(name))
        .map(|(name, literal)| (name.clone(), hashified(literal)))
        .collect();
    Ok(encode(&pbhash(&literal_map_json(&kept)?)))
}

/// `literal` with every literal that carries its own `hash` replaced by
/// `Literal { hash }`, looking into collections and maps only.
fn hashified(literal: &core::Literal) -> core::Literal {
    use core::literal::Value;
    if !literal.hash.is_empty() {
        return core::Literal {
            hash: literal.hash.clone(),
            ..Default::default()
        };
    }
    // As in Flyte, the rebuilt collection or map keeps neither the
    // literal's metadata nor anything but its elements.
    match &literal.value {
        Some(Value::Collection(collection)) => core::Literal {
            value: Some(Value::Collection(core::LiteralCollection {
                literals: collection.literals.iter().map(hashified).collect(),
            })),
            ..Default::default()
        },
        Some(Value::Map(map)) => core::Literal {
            value: Some(Value::Map(core::LiteralMap {
                literals: map
                    .literals
                    .iter()
                    .map(|(name, literal)| (name.clone(), hashified(literal)))
                    .collect(),
            })),
            ..Default::default()
        },
        _ => literal.clone(),
    }
}

/// The dataset metadata propeller writes when it first caches a task
/// (`GetDatasetMetadataForSource`).
pub fn dataset_metadata(source: &core::TaskExecutionIdentifier) -> datacatalog::Metadata {
    datacatalog::Metadata {
        key_map: HashMap::from([(
            TASK_VERSION_KEY.to_string(),
            source.task_id.clone().unwrap_or_default().version,
        )]),
    }
}

/// The artifact metadata naming the task execution that produced it
/// (`GetArtifactMetadataForSource`); eviction by execution reads it.
pub fn artifact_metadata(source: &core::TaskExecutionIdentifier) -> datacatalog::Metadata {
    let node = source.node_execution_id.clone().unwrap_or_default();
    let execution = node.execution_id.unwrap_or_default();
    datacatalog::Metadata {
        key_map: HashMap::from([
            (EXECUTION_PROJECT_KEY.to_string(), execution.project),
            (EXECUTION_DOMAIN_KEY.to_string(), execution.domain),
            (EXECUTION_NAME_KEY.to_string(), execution.name),
            (EXECUTION_NODE_KEY.to_string(), node.node_id),
            (
                EXECUTION_ATTEMPT_KEY.to_string(),
                source.retry_attempt.to_string(),
            ),
        ]),
    }
}

/// The task execution a cache hit came from, for the hit's event
/// (`GetSourceFromMetadata`): what the metadata lacks reads as the current
/// task's project and domain, `unknown` and attempt 0.
pub fn source_of_hit(
    dataset_metadata: Option<&datacatalog::Metadata>,
    artifact_metadata: Option<&datacatalog::Metadata>,
    current_task: &core::Identifier,
) -> core::TaskExecutionIdentifier {
    let dataset = |key: &str, default: &str| {
        dataset_metadata
            .and_then(|metadata| metadata.key_map.get(key))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let artifact = |key: &str, default: &str| {
        artifact_metadata
            .and_then(|metadata| metadata.key_map.get(key))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    core::TaskExecutionIdentifier {
        task_id: Some(core::Identifier {
            version: dataset(TASK_VERSION_KEY, "unknown"),
            ..current_task.clone()
        }),
        node_execution_id: Some(core::NodeExecutionIdentifier {
            node_id: artifact(EXECUTION_NODE_KEY, "unknown"),
            execution_id: Some(core::WorkflowExecutionIdentifier {
                project: artifact(EXECUTION_PROJECT_KEY, &current_task.project),
                domain: artifact(EXECUTION_DOMAIN_KEY, &current_task.domain),
                name: artifact(EXECUTION_NAME_KEY, "unknown"),
                org: String::new(),
            }),
        }),
        retry_attempt: artifact(EXECUTION_ATTEMPT_KEY, "0")
            .parse()
            .unwrap_or_default(),
    }
}

/// The reservation owner of one attempt of one node
/// (`computeCatalogReservationOwnerID`): `<execution>-<unique node id>-<attempt>`,
/// or, when longer than 50 characters, `f` and the FNV-1a 32 of that in
/// Flyte's lowercase base32.
pub fn reservation_owner_id(execution_name: &str, unique_node_id: &str, attempt: u32) -> String {
    let parts = [
        execution_name.to_string(),
        unique_node_id.to_string(),
        attempt.to_string(),
    ];
    let mut joined = String::new();
    for part in &parts {
        if !joined.is_empty() {
            joined.push('-');
        }
        joined.push_str(part);
    }
    if joined.len() <= MAX_OWNER_ID_LENGTH {
        return joined;
    }
    let mut hash: u32 = 0x811c_9dc5;
    for byte in joined.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!(
        "f{}",
        base32_without_padding(&hash.to_be_bytes(), OWNER_ID_ALPHABET)
    )
}

/// flyteplugins' base32 alphabet for shortened ids.
const OWNER_ID_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz123456";

/// Base32 (RFC 4648 bit order) in `alphabet`, without padding.
fn base32_without_padding(bytes: &[u8], alphabet: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(alphabet[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(alphabet[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Unpadded URL-safe base64, as the keys carry hashes.
fn encode(hash: &[u8; 32]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
}

/// A JSON value as objecthash sees it after parsing: every number a float64.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// objecthash's `ObjectHash` of a parsed JSON value.
fn pbhash(value: &Json) -> [u8; 32] {
    fn tagged(tag: &[u8], bytes: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(tag);
        hasher.update(bytes);
        hasher.finalize().into()
    }
    match value {
        Json::Null => tagged(b"n", b""),
        Json::Bool(value) => tagged(b"b", if *value { b"1" } else { b"0" }),
        Json::Number(value) => tagged(b"f", normalized_float(*value).as_bytes()),
        Json::String(value) => tagged(b"u", value.as_bytes()),
        Json::List(items) => {
            let mut joined = Vec::with_capacity(items.len() * 32);
            for item in items {
                joined.extend_from_slice(&pbhash(item));
            }
            tagged(b"l", &joined)
        }
        Json::Object(entries) => {
            let mut pairs: Vec<([u8; 32], [u8; 32])> = entries
                .iter()
                .map(|(key, value)| (tagged(b"u", key.as_bytes()), pbhash(value)))
                .collect();
            pairs.sort();
            let mut joined = Vec::with_capacity(pairs.len() * 64);
            for (key, value) in pairs {
                joined.extend_from_slice(&key);
                joined.extend_from_slice(&value);
            }
            tagged(b"d", &joined)
        }
    }
}

/// objecthash's float form: sign, binary exponent, then the mantissa's bits.
fn normalized_float(original: f64) -> String {
    if original.is_nan() {
        return "NaN".to_string();
    }
    if original.is_infinite() {
        return if original > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_string();
    }
    if original == 0.0 {
        return "+0:".to_string();
    }
    let (mut normalized, mut value) = if original < 0.0 {
        ("-".to_string(), -original)
    } else {
        ("+".to_string(), original)
    };
    let mut exponent = 0;
    while value > 1.0 {
        value /= 2.0;
        exponent += 1;
    }
    while value <= 0.5 {
        value *= 2.0;
        exponent -= 1;
    }
    normalized.push_str(&format!("{exponent}:"));
    while value != 0.0 && normalized.len() < 1000 {
        if value >= 1.0 {
            normalized.push('1');
            value -= 1.0;
        } else {
            normalized.push('0');
        }
        value *= 2.0;
    }
    normalized
}

/// A JSON object written as jsonpb writes a message: fields in any order
/// (objecthash sorts them), those jsonpb omits left out by the caller.
#[derive(Default)]
struct Fields(Vec<(String, Json)>);

impl Fields {
    /// A field jsonpb always writes when present (a message, a oneof member).
    fn set(mut self, name: &str, value: Json) -> Self {
        self.0.push((name.to_string(), value));
        self
    }

    /// A proto3 string: omitted when empty.
    fn text(self, name: &str, value: &str) -> Self {
        if value.is_empty() {
            self
        } else {
            self.set(name, Json::String(value.to_string()))
        }
    }

    /// A message field: omitted when unset.
    fn message<T>(
        self,
        name: &str,
        value: Option<&T>,
        json: impl FnOnce(&T) -> Result<Json, CacheKeyError>,
    ) -> Result<Self, CacheKeyError> {
        Ok(match value {
            Some(value) => self.set(name, json(value)?),
            None => self,
        })
    }

    /// A proto3 enum: omitted when zero, else its name (or number if unknown).
    fn enumeration(self, name: &str, value: i32, enum_name: Option<&str>) -> Self {
        if value == 0 {
            self
        } else {
            self.set(name, enum_json(value, enum_name))
        }
    }

    fn done(self) -> Json {
        Json::Object(self.0)
    }
}

fn enum_json(value: i32, enum_name: Option<&str>) -> Json {
    match enum_name {
        Some(name) => Json::String(name.to_string()),
        None => Json::Number(f64::from(value)),
    }
}

/// A map field's object (empty maps are omitted by the caller).
fn map_json<T>(
    map: &HashMap<String, T>,
    json: impl Fn(&T) -> Result<Json, CacheKeyError>,
) -> Result<Json, CacheKeyError> {
    Ok(Json::Object(
        map.iter()
            .map(|(key, value)| Ok((key.clone(), json(value)?)))
            .collect::<Result<_, CacheKeyError>>()?,
    ))
}

fn list_json<T>(
    items: &[T],
    json: impl Fn(&T) -> Result<Json, CacheKeyError>,
) -> Result<Json, CacheKeyError> {
    Ok(Json::List(
        items.iter().map(json).collect::<Result<_, _>>()?,
    ))
}

/// A repeated or map field: omitted when empty.
fn nonempty(fields: Fields, name: &str, value: Option<Json>) -> Fields {
    match value {
        Some(Json::List(items)) if items.is_empty() => fields,
        Some(Json::Object(entries)) if entries.is_empty() => fields,
        Some(value) => fields.set(name, value),
        None => fields,
    }
}

fn literal_map_json(literals: &HashMap<String, core::Literal>) -> Result<Json, CacheKeyError> {
    Ok(nonempty(
        Fields::default(),
        "literals",
        Some(map_json(literals, literal_json)?),
    )
    .done())
}

fn variable_map_json(variables: &HashMap<String, core::Variable>) -> Result<Json, CacheKeyError> {
    Ok(nonempty(
        Fields::default(),
        "variables",
        Some(map_json(variables, variable_json)?),
    )
    .done())
}

fn literal_json(literal: &core::Literal) -> Result<Json, CacheKeyError> {
    use core::literal::Value;
    let fields = match &literal.value {
        Some(Value::Scalar(scalar)) => Fields::default().set("scalar", scalar_json(scalar)?),
        Some(Value::Collection(collection)) => Fields::default().set(
            "collection",
            nonempty(
                Fields::default(),
                "literals",
                Some(list_json(&collection.literals, literal_json)?),
            )
            .done(),
        ),
        Some(Value::Map(map)) => Fields::default().set("map", literal_map_json(&map.literals)?),
        Some(Value::OffloadedMetadata(offloaded)) => Fields::default().set(
            "offloadedMetadata",
            Fields::default()
                .text("uri", &offloaded.uri)
                .text(
                    "sizeBytes",
                    &if offloaded.size_bytes == 0 {
                        String::new()
                    } else {
                        offloaded.size_bytes.to_string()
                    },
                )
                .message(
                    "inferredType",
                    offloaded.inferred_type.as_ref(),
                    literal_type_json,
                )?
                .done(),
        ),
        None => Fields::default(),
    };
    let fields = fields.text("hash", &literal.hash);
    let metadata = map_json(&literal.metadata, |value| Ok(Json::String(value.clone())))?;
    Ok(nonempty(fields, "metadata", Some(metadata)).done())
}

fn scalar_json(scalar: &core::Scalar) -> Result<Json, CacheKeyError> {
    use core::scalar::Value;
    Ok(match &scalar.value {
        Some(Value::Primitive(primitive)) => {
            Fields::default().set("primitive", primitive_json(primitive)?)
        }
        Some(Value::Blob(blob)) => Fields::default().set(
            "blob",
            Fields::default()
                .message("metadata", blob.metadata.as_ref(), |metadata| {
                    Ok(Fields::default()
                        .message("type", metadata.r#type.as_ref(), |blob_type| {
                            Ok(blob_type_json(blob_type))
                        })?
                        .done())
                })?
                .text("uri", &blob.uri)
                .done(),
        ),
        Some(Value::Binary(binary)) => Fields::default().set(
            "binary",
            Fields::default()
                .text(
                    "value",
                    &base64::engine::general_purpose::STANDARD.encode(&binary.value),
                )
                .text("tag", &binary.tag)
                .done(),
        ),
        Some(Value::Schema(schema)) => Fields::default().set(
            "schema",
            Fields::default()
                .text("uri", &schema.uri)
                .message("type", schema.r#type.as_ref(), |schema_type| {
                    Ok(schema_type_json(schema_type))
                })?
                .done(),
        ),
        Some(Value::NoneType(_)) => Fields::default().set("noneType", Json::Object(Vec::new())),
        Some(Value::Error(error)) => Fields::default().set(
            "error",
            Fields::default()
                .text("failedNodeId", &error.failed_node_id)
                .text("message", &error.message)
                .done(),
        ),
        Some(Value::Generic(generic)) => Fields::default().set("generic", struct_json(generic)?),
        Some(Value::StructuredDataset(dataset)) => Fields::default().set(
            "structuredDataset",
            Fields::default()
                .text("uri", &dataset.uri)
                .message("metadata", dataset.metadata.as_ref(), |metadata| {
                    Ok(Fields::default()
                        .message(
                            "structuredDatasetType",
                            metadata.structured_dataset_type.as_ref(),
                            structured_dataset_type_json,
                        )?
                        .done())
                })?
                .done(),
        ),
        Some(Value::Union(union)) => Fields::default().set(
            "union",
            Fields::default()
                .message("value", union.value.as_deref(), literal_json)?
                .message("type", union.r#type.as_ref(), literal_type_json)?
                .done(),
        ),
        None => Fields::default(),
    }
    .done())
}

fn primitive_json(primitive: &core::Primitive) -> Result<Json, CacheKeyError> {
    use core::primitive::Value;
    // Oneof members are written even when zero (`"integer":"0"`).
    Ok(match &primitive.value {
        Some(Value::Integer(value)) => {
            Fields::default().set("integer", Json::String(value.to_string()))
        }
        Some(Value::FloatValue(value)) => Fields::default().set("floatValue", double_json(*value)),
        Some(Value::StringValue(value)) => {
            Fields::default().set("stringValue", Json::String(value.clone()))
        }
        Some(Value::Boolean(value)) => Fields::default().set("boolean", Json::Bool(*value)),
        Some(Value::Datetime(value)) => Fields::default().set("datetime", timestamp_json(value)?),
        Some(Value::Duration(value)) => Fields::default().set("duration", duration_json(value)?),
        None => Fields::default(),
    }
    .done())
}

/// jsonpb writes non-finite doubles as strings.
fn double_json(value: f64) -> Json {
    if value.is_nan() {
        Json::String("NaN".to_string())
    } else if value.is_infinite() {
        Json::String(if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string())
    } else {
        Json::Number(value)
    }
}

/// Drops trailing zero groups of the nine fractional digits, as jsonpb does
/// (0, 3, 6 or 9 digits remain).
fn trimmed_fraction(text: String) -> String {
    let text = text.strip_suffix("000").map(str::to_string).unwrap_or(text);
    let text = text.strip_suffix("000").map(str::to_string).unwrap_or(text);
    text.strip_suffix(".000")
        .map(str::to_string)
        .unwrap_or(text)
}

fn timestamp_json(timestamp: &prost_types::Timestamp) -> Result<Json, CacheKeyError> {
    let invalid = CacheKeyError::InvalidTimestamp {
        nanos: timestamp.nanos,
    };
    let nanos = u32::try_from(timestamp.nanos).map_err(|_| invalid.clone())?;
    let time = chrono::DateTime::from_timestamp(timestamp.seconds, nanos)
        .filter(|_| nanos < 1_000_000_000)
        .ok_or(invalid)?;
    let text = format!("{}.{:09}", time.format("%Y-%m-%dT%H:%M:%S"), nanos);
    Ok(Json::String(format!("{}Z", trimmed_fraction(text))))
}

fn duration_json(duration: &prost_types::Duration) -> Result<Json, CacheKeyError> {
    const MAX_SECONDS: i64 = 315_576_000_000;
    let (seconds, nanos) = (duration.seconds, duration.nanos);
    let invalid = CacheKeyError::InvalidDuration { seconds, nanos };
    if !(-MAX_SECONDS..=MAX_SECONDS).contains(&seconds)
        || !(-999_999_999..=999_999_999).contains(&nanos)
        || (seconds > 0 && nanos < 0)
        || (seconds < 0 && nanos > 0)
    {
        return Err(invalid);
    }
    let sign = if seconds < 0 || nanos < 0 { "-" } else { "" };
    let text = format!(
        "{sign}{}.{:09}",
        seconds.unsigned_abs(),
        nanos.unsigned_abs()
    );
    Ok(Json::String(format!("{}s", trimmed_fraction(text))))
}

fn struct_json(value: &prost_types::Struct) -> Result<Json, CacheKeyError> {
    map_json(
        &value
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        value_json,
    )
}

fn value_json(value: &prost_types::Value) -> Result<Json, CacheKeyError> {
    use prost_types::value::Kind;
    match &value.kind {
        Some(Kind::NullValue(_)) => Ok(Json::Null),
        Some(Kind::NumberValue(number)) => Ok(double_json(*number)),
        Some(Kind::StringValue(text)) => Ok(Json::String(text.clone())),
        Some(Kind::BoolValue(flag)) => Ok(Json::Bool(*flag)),
        Some(Kind::StructValue(inner)) => struct_json(inner),
        Some(Kind::ListValue(list)) => list_json(&list.values, value_json),
        None => Err(CacheKeyError::EmptyStructValue),
    }
}

fn blob_type_json(blob_type: &core::BlobType) -> Json {
    Fields::default()
        .text("format", &blob_type.format)
        .enumeration(
            "dimensionality",
            blob_type.dimensionality,
            core::blob_type::BlobDimensionality::try_from(blob_type.dimensionality)
                .ok()
                .map(|dimensionality| dimensionality.as_str_name()),
        )
        .done()
}

fn schema_type_json(schema_type: &core::SchemaType) -> Json {
    let columns = Json::List(
        schema_type
            .columns
            .iter()
            .map(|column| {
                Fields::default()
                    .text("name", &column.name)
                    .enumeration(
                        "type",
                        column.r#type,
                        core::schema_type::schema_column::SchemaColumnType::try_from(column.r#type)
                            .ok()
                            .map(|column_type| column_type.as_str_name()),
                    )
                    .done()
            })
            .collect(),
    );
    nonempty(Fields::default(), "columns", Some(columns)).done()
}

fn structured_dataset_type_json(
    dataset_type: &core::StructuredDatasetType,
) -> Result<Json, CacheKeyError> {
    let columns = list_json(&dataset_type.columns, |column| {
        Ok(Fields::default()
            .text("name", &column.name)
            .message(
                "literalType",
                column.literal_type.as_ref(),
                literal_type_json,
            )?
            .done())
    })?;
    Ok(nonempty(Fields::default(), "columns", Some(columns))
        .text("format", &dataset_type.format)
        .text("externalSchemaType", &dataset_type.external_schema_type)
        .text(
            "externalSchemaBytes",
            &base64::engine::general_purpose::STANDARD.encode(&dataset_type.external_schema_bytes),
        )
        .done())
}

fn literal_type_json(literal_type: &core::LiteralType) -> Result<Json, CacheKeyError> {
    use core::literal_type::Type;
    let fields = match &literal_type.r#type {
        // A oneof member: written even when NONE (0).
        Some(Type::Simple(simple)) => Fields::default().set(
            "simple",
            enum_json(
                *simple,
                core::SimpleType::try_from(*simple)
                    .ok()
                    .map(|simple| simple.as_str_name()),
            ),
        ),
        Some(Type::Schema(schema)) => Fields::default().set("schema", schema_type_json(schema)),
        Some(Type::CollectionType(inner)) => {
            Fields::default().set("collectionType", literal_type_json(inner)?)
        }
        Some(Type::MapValueType(inner)) => {
            Fields::default().set("mapValueType", literal_type_json(inner)?)
        }
        Some(Type::Blob(blob)) => Fields::default().set("blob", blob_type_json(blob)),
        Some(Type::EnumType(enum_type)) => Fields::default().set(
            "enumType",
            nonempty(
                Fields::default(),
                "values",
                Some(Json::List(
                    enum_type.values.iter().cloned().map(Json::String).collect(),
                )),
            )
            .done(),
        ),
        Some(Type::StructuredDatasetType(dataset_type)) => Fields::default().set(
            "structuredDatasetType",
            structured_dataset_type_json(dataset_type)?,
        ),
        Some(Type::UnionType(union)) => Fields::default().set(
            "unionType",
            nonempty(
                Fields::default(),
                "variants",
                Some(list_json(&union.variants, literal_type_json)?),
            )
            .done(),
        ),
        None => Fields::default(),
    };
    let fields = fields
        .message("metadata", literal_type.metadata.as_ref(), struct_json)?
        .message(
            "annotation",
            literal_type.annotation.as_ref(),
            |annotation| {
                Ok(Fields::default()
                    .message("annotations", annotation.annotations.as_ref(), struct_json)?
                    .done())
            },
        )?
        .message("structure", literal_type.structure.as_ref(), |structure| {
            let dataclass = map_json(&structure.dataclass_type, literal_type_json)?;
            Ok(nonempty(
                Fields::default().text("tag", &structure.tag),
                "dataclassType",
                Some(dataclass),
            )
            .done())
        })?;
    Ok(fields.done())
}

fn variable_json(variable: &core::Variable) -> Result<Json, CacheKeyError> {
    Ok(Fields::default()
        .message("type", variable.r#type.as_ref(), literal_type_json)?
        .text("description", &variable.description)
        .message(
            "artifactPartialId",
            variable.artifact_partial_id.as_ref(),
            artifact_id_json,
        )?
        .message("artifactTag", variable.artifact_tag.as_ref(), |tag| {
            Fields::default()
                .message("artifactKey", tag.artifact_key.as_ref(), |key| {
                    Ok(artifact_key_json(key))
                })?
                .message("value", tag.value.as_ref(), label_value_json)
                .map(Fields::done)
        })?
        .done())
}

fn artifact_key_json(key: &core::ArtifactKey) -> Json {
    Fields::default()
        .text("project", &key.project)
        .text("domain", &key.domain)
        .text("name", &key.name)
        .text("org", &key.org)
        .done()
}

fn artifact_id_json(id: &core::ArtifactId) -> Result<Json, CacheKeyError> {
    Ok(Fields::default()
        .message("artifactKey", id.artifact_key.as_ref(), |key| {
            Ok(artifact_key_json(key))
        })?
        .text("version", &id.version)
        .message("partitions", id.partitions.as_ref(), |partitions| {
            Ok(nonempty(
                Fields::default(),
                "value",
                Some(map_json(&partitions.value, label_value_json)?),
            )
            .done())
        })?
        .message("timePartition", id.time_partition.as_ref(), |partition| {
            Ok(Fields::default()
                .message("value", partition.value.as_ref(), label_value_json)?
                .enumeration(
                    "granularity",
                    partition.granularity,
                    core::Granularity::try_from(partition.granularity)
                        .ok()
                        .map(|granularity| granularity.as_str_name()),
                )
                .done())
        })?
        .done())
}

fn label_value_json(value: &core::LabelValue) -> Result<Json, CacheKeyError> {
    use core::label_value::Value;
    Ok(match &value.value {
        Some(Value::StaticValue(text)) => {
            Fields::default().set("staticValue", Json::String(text.clone()))
        }
        Some(Value::TimeValue(time)) => Fields::default().set("timeValue", timestamp_json(time)?),
        Some(Value::TriggeredBinding(binding)) => {
            use core::artifact_binding_data::PartitionData;
            let fields = match &binding.partition_data {
                Some(PartitionData::PartitionKey(key)) => {
                    Fields::default().set("partitionKey", Json::String(key.clone()))
                }
                Some(PartitionData::BindToTimePartition(flag)) => {
                    Fields::default().set("bindToTimePartition", Json::Bool(*flag))
                }
                None => Fields::default(),
            };
            let fields = fields.message(
                "timeTransform",
                binding.time_transform.as_ref(),
                |transform| {
                    Ok(Fields::default()
                        .text("transform", &transform.transform)
                        .enumeration(
                            "op",
                            transform.op,
                            core::Operator::try_from(transform.op)
                                .ok()
                                .map(|operator| operator.as_str_name()),
                        )
                        .done())
                },
            )?;
            Fields::default().set("triggeredBinding", fields.done())
        }
        Some(Value::InputBinding(binding)) => Fields::default().set(
            "inputBinding",
            Fields::default().text("var", &binding.var).done(),
        ),
        Some(Value::RuntimeBinding(_)) => {
            Fields::default().set("runtimeBinding", Json::Object(Vec::new()))
        }
        None => Fields::default(),
    }
    .done())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integer(value: i64) -> core::Literal {
        core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(core::scalar::Value::Primitive(core::Primitive {
                    value: Some(core::primitive::Value::Integer(value)),
                })),
            }))),
            ..Default::default()
        }
    }

    fn string(value: &str) -> core::Literal {
        core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(core::scalar::Value::Primitive(core::Primitive {
                    value: Some(core::primitive::Value::StringValue(value.to_string())),
                })),
            }))),
            ..Default::default()
        }
    }

    fn literals(pairs: Vec<(&str, core::Literal)>) -> core::LiteralMap {
        core::LiteralMap {
            literals: pairs
                .into_iter()
                .map(|(name, literal)| (name.to_string(), literal))
                .collect(),
        }
    }

    fn simple(simple: core::SimpleType, description: &str) -> core::Variable {
        core::Variable {
            r#type: Some(core::LiteralType {
                r#type: Some(core::literal_type::Type::Simple(simple as i32)),
                ..Default::default()
            }),
            description: description.to_string(),
            ..Default::default()
        }
    }

    fn variables(pairs: Vec<(&str, core::Variable)>) -> core::VariableMap {
        core::VariableMap {
            variables: pairs
                .into_iter()
                .map(|(name, variable)| (name.to_string(), variable))
                .collect(),
        }
    }

    fn task(name: &str) -> core::Identifier {
        core::Identifier {
            resource_type: core::ResourceType::Task as i32,
            project: "project".into(),
            domain: "domain".into(),
            name: name.into(),
            version: "version".into(),
            org: String::new(),
        }
    }

    fn structured_dataset(uri: &str, hash: &str) -> core::Literal {
        core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(core::scalar::Value::StructuredDataset(
                    core::StructuredDataset {
                        uri: uri.into(),
                        metadata: Some(core::StructuredDatasetMetadata {
                            structured_dataset_type: Some(core::StructuredDatasetType {
                                format: "my-columnar-data-format".into(),
                                ..Default::default()
                            }),
                        }),
                    },
                )),
            }))),
            hash: hash.into(),
            ..Default::default()
        }
    }

    // The vectors of flyteplugins' hashing_test.go, transformer_test.go and
    // datacatalog_test.go (flyte v1.16.8).

    #[test]
    fn empty_inputs_hash_as_flyte_hashes_them() {
        const EMPTY: &str = "GKw-c0PwFokMUQ6T-TUmEWnZ4_VlQ2Qpgw-vCTT0-OQ";
        assert_eq!(inputs_hash(None, &[]).unwrap(), EMPTY);
        assert_eq!(
            inputs_hash(Some(&core::LiteralMap::default()), &[]).unwrap(),
            EMPTY
        );
        assert_eq!(
            artifact_tag(None, &[]).unwrap(),
            "flyte_cached-GKw-c0PwFokMUQ6T-TUmEWnZ4_VlQ2Qpgw-vCTT0-OQ"
        );
    }

    #[test]
    fn tags_match_flytes_and_ignored_inputs_leave_them() {
        let two = literals(vec![("1", integer(1)), ("2", integer(2))]);
        assert_eq!(
            artifact_tag(Some(&two), &[]).unwrap(),
            "flyte_cached-GQid5LjHbakcW68DS3P2jp80QLbiF0olFHF2hTh5bg8"
        );
        let three = literals(vec![
            ("1", integer(1)),
            ("2", integer(2)),
            ("3", integer(3)),
        ]);
        assert_eq!(
            artifact_tag(Some(&three), &["3".to_string()]).unwrap(),
            "flyte_cached-GQid5LjHbakcW68DS3P2jp80QLbiF0olFHF2hTh5bg8"
        );
        let out = literals(vec![("out1", string("output1-stringval"))]);
        assert_eq!(
            artifact_tag(Some(&out), &[]).unwrap(),
            "flyte_cached-BE6CZsMk6N3ExR_4X9EuwBgj2Jh2UwasXK3a_pM9xlY"
        );
    }

    #[test]
    fn dataset_versions_match_flytes() {
        assert_eq!(dataset_version_of(None, "1.0.0"), "1.0.0-GKw-c0Pw-GKw-c0Pw");
        let empty = core::TypedInterface {
            inputs: Some(core::VariableMap::default()),
            outputs: Some(core::VariableMap::default()),
        };
        assert_eq!(
            dataset_version_of(Some(&empty), "1.0.0"),
            "1.0.0-GKw-c0Pw-GKw-c0Pw"
        );
        let integers = core::TypedInterface {
            inputs: Some(variables(vec![
                ("1", simple(core::SimpleType::Integer, "")),
                ("2", simple(core::SimpleType::Integer, "")),
            ])),
            outputs: None,
        };
        assert_eq!(
            dataset_version_of(Some(&integers), "1.0.0"),
            "1.0.0-UxVtPm0k-GKw-c0Pw"
        );
        let strings = core::TypedInterface {
            inputs: Some(variables(vec![(
                "test",
                simple(core::SimpleType::String, ""),
            )])),
            outputs: Some(variables(vec![(
                "test",
                simple(core::SimpleType::String, ""),
            )])),
        };
        let id = dataset_id(&task("name"), "1.0.0", Some(&strings)).unwrap();
        assert_eq!(
            id,
            datacatalog::DatasetId {
                project: "project".into(),
                name: "flyte_task-name".into(),
                domain: "domain".into(),
                version: "1.0.0-ue5g6uuI-ue5g6uuI".into(),
                ..Default::default()
            }
        );
    }

    fn dataset_version_of(interface: Option<&core::TypedInterface>, cache_version: &str) -> String {
        dataset_id(&task("name"), cache_version, interface)
            .unwrap()
            .version
    }

    #[test]
    fn the_cache_version_is_trimmed_and_required() {
        assert_eq!(
            dataset_version_of(None, " 1.0.0 "),
            "1.0.0-GKw-c0Pw-GKw-c0Pw"
        );
        assert_eq!(
            dataset_id(&task("name"), "  ", None),
            Err(CacheKeyError::EmptyCacheVersion {
                task: "name".into()
            })
        );
    }

    // Templates flytekit 1.16.31 serialises, through Flyte's algorithm.

    /// `@task(cache=True, cache_version="1.0") def plain(a: int, b: str) -> int`
    /// as flytekit registers it (each description the variable's name).
    fn plain_task() -> core::TaskTemplate {
        core::TaskTemplate {
            id: Some(task("plain")),
            metadata: Some(core::TaskMetadata {
                discoverable: true,
                discovery_version: "1.0".into(),
                ..Default::default()
            }),
            interface: Some(core::TypedInterface {
                inputs: Some(variables(vec![
                    ("a", simple(core::SimpleType::Integer, "a")),
                    ("b", simple(core::SimpleType::String, "b")),
                ])),
                outputs: Some(variables(vec![(
                    "o0",
                    simple(core::SimpleType::Integer, "o0"),
                )])),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_flytekit_task_gets_flytes_key() {
        let template = plain_task();
        let inputs = literals(vec![("a", integer(1)), ("b", string("x"))]);
        let key = CacheKey::for_task(&template, Some(&inputs)).unwrap();
        assert_eq!(key.dataset_id.name, "flyte_task-plain");
        assert_eq!(key.dataset_id.version, "1.0-8ueHozKE-7VS6zKbE");
        assert_eq!(
            key.tag,
            "flyte_cached-f4NgadVdOfTUdbbFvIDANsjZZyWPH06DtwflWgk4k_c"
        );
        assert_eq!(key.reservation_id().tag_name, key.tag);

        let mut ignoring_b = template;
        ignoring_b
            .metadata
            .as_mut()
            .unwrap()
            .cache_ignore_input_vars = vec!["b".into()];
        let key = CacheKey::for_task(&ignoring_b, Some(&inputs)).unwrap();
        assert_eq!(
            key.tag,
            "flyte_cached-DNhkpTTPC5YDtRGb4yT-PFxgMSgHzHrKAQKgQGEfGRY"
        );
        // The task's version is not part of the key.
        let mut reregistered = plain_task();
        reregistered.id.as_mut().unwrap().version = "v2".into();
        assert_eq!(
            CacheKey::for_task(&reregistered, Some(&inputs))
                .unwrap()
                .dataset_id
                .version,
            "1.0-8ueHozKE-7VS6zKbE"
        );
    }

    #[test]
    fn literals_with_their_own_hash_stand_for_it_alone() {
        // hashing_test.go: a literal that sets its hash hashes as `{hash}`,
        // in a collection and in a map too.
        let alone = |hash: &str| core::Literal {
            hash: hash.into(),
            ..Default::default()
        };
        let hash_of = |literal: core::Literal| {
            inputs_hash(Some(&literals(vec![("x", literal)])), &[]).unwrap()
        };
        assert_eq!(
            hash_of(structured_dataset("my-blob-stora://some-address", "abcde")),
            hash_of(alone("abcde"))
        );
        assert_ne!(
            hash_of(structured_dataset("my-blob-stora://some-address", "")),
            hash_of(alone("abcde"))
        );
        let collection = |items: Vec<core::Literal>| core::Literal {
            value: Some(core::literal::Value::Collection(core::LiteralCollection {
                literals: items,
            })),
            ..Default::default()
        };
        assert_eq!(
            hash_of(collection(vec![
                structured_dataset("my-blob-stora://some-address", "hash1"),
                structured_dataset("my-blob-stora://another-address", ""),
            ])),
            hash_of(collection(vec![
                alone("hash1"),
                structured_dataset("my-blob-stora://another-address", ""),
            ]))
        );
        let map = |pairs: Vec<(&str, core::Literal)>| core::Literal {
            value: Some(core::literal::Value::Map(literals(pairs))),
            ..Default::default()
        };
        assert_eq!(
            hash_of(map(vec![(
                "l",
                structured_dataset("my-blob-stora://a", "h")
            )])),
            hash_of(map(vec![("l", alone("h"))]))
        );
        // A collection's own metadata is dropped when it is rebuilt.
        let mut with_metadata = collection(vec![integer(1)]);
        with_metadata.metadata.insert("k".into(), "v".into());
        assert_eq!(
            hash_of(with_metadata),
            hash_of(collection(vec![integer(1)]))
        );
        // A scalar's metadata is hashed as it is.
        let mut scalar_with_metadata = integer(1);
        scalar_with_metadata.metadata.insert("k".into(), "v".into());
        assert_ne!(hash_of(scalar_with_metadata), hash_of(integer(1)));
    }

    #[test]
    fn zero_valued_oneof_members_are_hashed_as_written() {
        // jsonpb writes `"integer":"0"` and `"simple":"NONE"`, so a zero is
        // not the same as nothing.
        let nothing = core::Literal {
            value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(core::scalar::Value::Primitive(core::Primitive {
                    value: None,
                })),
            }))),
            ..Default::default()
        };
        let hash_of = |literal: core::Literal| {
            inputs_hash(Some(&literals(vec![("x", literal)])), &[]).unwrap()
        };
        assert_ne!(hash_of(integer(0)), hash_of(nothing));
        let none_type = core::TypedInterface {
            inputs: Some(variables(vec![("x", simple(core::SimpleType::None, ""))])),
            outputs: None,
        };
        let untyped = core::TypedInterface {
            inputs: Some(variables(vec![(
                "x",
                core::Variable {
                    r#type: Some(core::LiteralType::default()),
                    ..Default::default()
                },
            )])),
            outputs: None,
        };
        assert_ne!(
            dataset_version_of(Some(&none_type), "1"),
            dataset_version_of(Some(&untyped), "1")
        );
    }

    #[test]
    fn well_known_types_are_written_as_jsonpb_writes_them() {
        let time =
            |seconds, nanos| timestamp_json(&prost_types::Timestamp { seconds, nanos }).unwrap();
        assert_eq!(time(0, 0), Json::String("1970-01-01T00:00:00Z".into()));
        assert_eq!(
            time(1_704_067_200, 500_000_000),
            Json::String("2024-01-01T00:00:00.500Z".into())
        );
        assert_eq!(
            time(1, 1_000),
            Json::String("1970-01-01T00:00:01.000001Z".into())
        );
        let duration =
            |seconds, nanos| duration_json(&prost_types::Duration { seconds, nanos }).unwrap();
        assert_eq!(duration(3, 0), Json::String("3s".into()));
        assert_eq!(duration(-1, -500_000_000), Json::String("-1.500s".into()));
        assert_eq!(duration(0, 1), Json::String("0.000000001s".into()));
        assert!(
            duration_json(&prost_types::Duration {
                seconds: 1,
                nanos: -1
            })
            .is_err()
        );
    }

    #[test]
    fn floats_are_normalised_as_objecthash_does() {
        assert_eq!(normalized_float(0.0), "+0:");
        assert_eq!(normalized_float(1.0), "+0:1");
        assert_eq!(normalized_float(-1.5), "-1:011");
        assert_eq!(normalized_float(0.25), "+-2:1");
        assert_eq!(normalized_float(f64::NAN), "NaN");
    }

    #[test]
    fn metadata_and_sources_are_flytes() {
        let source = core::TaskExecutionIdentifier {
            task_id: Some(task("plain")),
            node_execution_id: Some(core::NodeExecutionIdentifier {
                node_id: "n0".into(),
                execution_id: Some(core::WorkflowExecutionIdentifier {
                    project: "project".into(),
                    domain: "domain".into(),
                    name: "abc".into(),
                    org: String::new(),
                }),
            }),
            retry_attempt: 2,
        };
        let dataset = dataset_metadata(&source);
        let artifact = artifact_metadata(&source);
        assert_eq!(dataset.key_map["task-version"], "version");
        assert_eq!(artifact.key_map["execution-name"], "abc");
        assert_eq!(artifact.key_map["exec-attempt"], "2");
        assert_eq!(
            source_of_hit(Some(&dataset), Some(&artifact), &task("plain")),
            source
        );
        let unknown = source_of_hit(None, None, &task("plain"));
        assert_eq!(unknown.task_id.unwrap().version, "unknown");
        assert_eq!(unknown.node_execution_id.unwrap().node_id, "unknown");
    }

    #[test]
    fn owner_ids_are_joined_or_hashed_as_flyte_does() {
        assert_eq!(reservation_owner_id("abc", "n0", 1), "abc-n0-1");
        let long = reservation_owner_id(&"x".repeat(40), "n0-0-dn1", 0);
        assert!(long.starts_with('f') && long.len() == 8, "{long}");
        assert!(long.bytes().skip(1).all(|c| OWNER_ID_ALPHABET.contains(&c)));
    }
}
