//! Resolving a node's input bindings into the `LiteralMap` its task reads:
//! constants as they are, promises from the outputs of upstream nodes
//! (`start-node` holds the workflow's inputs), collections and maps built
//! recursively, union bindings wrapped in their target type. Attribute access
//! on a promise (`f.name`, `xs[0]`) is followed by [`crate::attribute_paths`].

use std::collections::HashMap;

use updraft_proto::flyteidl::core::{self, binding_data, literal, scalar};

use crate::attribute_paths::follow_attribute_path;

/// Why a binding could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("input `{input}` is bound to node {node}, which has no outputs yet")]
    MissingNodeOutputs { input: String, node: String },
    #[error(
        "input `{input}` is bound to output `{output}` of node {node}, which it did not produce"
    )]
    MissingOutput {
        input: String,
        node: String,
        output: String,
    },
    #[error("input `{input}` has an empty binding")]
    EmptyBinding { input: String },
    #[error("input `{input}`: cannot take {step} of output `{output}` of node {node}: {reason}")]
    AttributePath {
        input: String,
        node: String,
        output: String,
        step: String,
        reason: String,
    },
}

/// The implicit first node, whose outputs are the workflow's inputs.
pub const START_NODE: &str = "start-node";

/// The node a promise reads from. flytekit writes the workflow's own inputs
/// with an empty node id, which Flyte reads as the start node.
pub fn promised_node(reference: &core::OutputReference) -> &str {
    if reference.node_id.is_empty() {
        START_NODE
    } else {
        &reference.node_id
    }
}

/// Outputs of finished nodes, by node id.
pub type NodeOutputs = HashMap<String, std::sync::Arc<core::LiteralMap>>;

/// Resolves `bindings` against `outputs`.
pub fn resolve_bindings(
    bindings: &[core::Binding],
    outputs: &NodeOutputs,
) -> Result<core::LiteralMap, BindingError> {
    let mut resolved = core::LiteralMap::default();
    for binding in bindings {
        let data = binding
            .binding
            .as_ref()
            .ok_or_else(|| BindingError::EmptyBinding {
                input: binding.var.clone(),
            })?;
        resolved.literals.insert(
            binding.var.clone(),
            resolve_data(&binding.var, data, outputs)?,
        );
    }
    Ok(resolved)
}

fn resolve_data(
    input: &str,
    data: &core::BindingData,
    outputs: &NodeOutputs,
) -> Result<core::Literal, BindingError> {
    let value = match data
        .value
        .as_ref()
        .ok_or_else(|| BindingError::EmptyBinding {
            input: input.to_string(),
        })? {
        binding_data::Value::Scalar(value) => {
            literal_of(literal::Value::Scalar(Box::new(value.clone())))
        }
        binding_data::Value::Collection(collection) => {
            let literals = collection
                .bindings
                .iter()
                .map(|item| resolve_data(input, item, outputs))
                .collect::<Result<Vec<_>, _>>()?;
            literal_of(literal::Value::Collection(core::LiteralCollection {
                literals,
            }))
        }
        binding_data::Value::Map(map) => {
            let mut literals = HashMap::with_capacity(map.bindings.len());
            for (key, item) in &map.bindings {
                literals.insert(key.clone(), resolve_data(input, item, outputs)?);
            }
            literal_of(literal::Value::Map(core::LiteralMap { literals }))
        }
        binding_data::Value::Promise(reference) => resolve_promise(input, reference, outputs)?,
        binding_data::Value::OffloadedMetadata(metadata) => {
            literal_of(literal::Value::OffloadedMetadata(metadata.clone()))
        }
    };
    Ok(match &data.union {
        Some(union) => literal_of(literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(scalar::Value::Union(Box::new(core::Union {
                value: Some(Box::new(value)),
                r#type: union.target_type.clone(),
            }))),
        }))),
        None => value,
    })
}

fn resolve_promise(
    input: &str,
    reference: &core::OutputReference,
    outputs: &NodeOutputs,
) -> Result<core::Literal, BindingError> {
    let node = promised_node(reference);
    let node_outputs = outputs
        .get(node)
        .ok_or_else(|| BindingError::MissingNodeOutputs {
            input: input.to_string(),
            node: node.to_string(),
        })?;
    let current = node_outputs
        .literals
        .get(&reference.var)
        .cloned()
        .ok_or_else(|| BindingError::MissingOutput {
            input: input.to_string(),
            node: node.to_string(),
            output: reference.var.clone(),
        })?;
    if reference.attr_path.is_empty() {
        return Ok(current);
    }
    follow_attribute_path(current, &reference.attr_path).map_err(|error| {
        BindingError::AttributePath {
            input: input.to_string(),
            node: node.to_string(),
            output: reference.var.clone(),
            step: error.step,
            reason: error.reason,
        }
    })
}

fn literal_of(value: literal::Value) -> core::Literal {
    core::Literal {
        value: Some(value),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use updraft_proto::flyteidl::core::{primitive, promise_attribute};

    fn integer(value: i64) -> core::Literal {
        literal_of(literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(scalar::Value::Primitive(core::Primitive {
                value: Some(primitive::Value::Integer(value)),
            })),
        })))
    }

    fn promise(node: &str, var: &str) -> core::BindingData {
        core::BindingData {
            value: Some(binding_data::Value::Promise(core::OutputReference {
                node_id: node.into(),
                var: var.into(),
                attr_path: vec![],
            })),
            union: None,
        }
    }

    fn outputs() -> NodeOutputs {
        let mut outputs = NodeOutputs::new();
        outputs.insert(
            "start-node".into(),
            std::sync::Arc::new(core::LiteralMap {
                literals: [("a".to_string(), integer(3))].into(),
            }),
        );
        outputs.insert(
            "n0".into(),
            std::sync::Arc::new(core::LiteralMap {
                literals: [(
                    "o0".to_string(),
                    literal_of(literal::Value::Collection(core::LiteralCollection {
                        literals: vec![integer(10), integer(20)],
                    })),
                )]
                .into(),
            }),
        );
        outputs
    }

    #[test]
    fn resolves_promises_constants_and_collections() {
        let bindings = vec![
            core::Binding {
                var: "x".into(),
                binding: Some(promise("start-node", "a")),
            },
            core::Binding {
                var: "xs".into(),
                binding: Some(core::BindingData {
                    value: Some(binding_data::Value::Collection(
                        core::BindingDataCollection {
                            bindings: vec![promise("start-node", "a"), promise("start-node", "a")],
                        },
                    )),
                    union: None,
                }),
            },
        ];

        let resolved = resolve_bindings(&bindings, &outputs()).unwrap();

        assert_eq!(resolved.literals["x"], integer(3));
        assert_eq!(
            resolved.literals["xs"],
            literal_of(literal::Value::Collection(core::LiteralCollection {
                literals: vec![integer(3), integer(3)]
            }))
        );
    }

    #[test]
    fn an_empty_node_id_reads_the_workflow_inputs() {
        let resolved = resolve_bindings(
            &[core::Binding {
                var: "x".into(),
                binding: Some(promise("", "a")),
            }],
            &outputs(),
        )
        .unwrap();

        assert_eq!(resolved.literals["x"], integer(3));
    }

    #[test]
    fn follows_list_indexes_in_attribute_paths() {
        let mut data = promise("n0", "o0");
        if let Some(binding_data::Value::Promise(reference)) = data.value.as_mut() {
            reference.attr_path.push(core::PromiseAttribute {
                value: Some(promise_attribute::Value::IntValue(1)),
            });
        }

        let resolved = resolve_bindings(
            &[core::Binding {
                var: "y".into(),
                binding: Some(data),
            }],
            &outputs(),
        )
        .unwrap();

        assert_eq!(resolved.literals["y"], integer(20));
    }

    #[test]
    fn a_bad_attribute_path_names_the_node_the_output_and_the_key() {
        let mut data = promise("n0", "o0");
        if let Some(binding_data::Value::Promise(reference)) = data.value.as_mut() {
            reference.attr_path.push(core::PromiseAttribute {
                value: Some(promise_attribute::Value::StringValue("name".into())),
            });
        }

        let error = resolve_bindings(
            &[core::Binding {
                var: "y".into(),
                binding: Some(data),
            }],
            &outputs(),
        )
        .unwrap_err();

        assert_eq!(
            error.to_string(),
            "input `y`: cannot take key `name` of output `o0` of node n0: it is a list; take an item of it by its index"
        );
    }

    #[test]
    fn names_the_missing_output() {
        let error = resolve_bindings(
            &[core::Binding {
                var: "y".into(),
                binding: Some(promise("n0", "o7")),
            }],
            &outputs(),
        )
        .unwrap_err();

        assert_eq!(
            error.to_string(),
            "input `y` is bound to output `o7` of node n0, which it did not produce"
        );
    }

    #[test]
    fn wraps_union_bindings_in_their_type() {
        let mut data = promise("start-node", "a");
        data.union = Some(core::UnionInfo {
            target_type: Some(core::LiteralType::default()),
        });

        let resolved = resolve_bindings(
            &[core::Binding {
                var: "u".into(),
                binding: Some(data),
            }],
            &outputs(),
        )
        .unwrap();

        match &resolved.literals["u"].value {
            Some(literal::Value::Scalar(scalar)) => {
                assert!(matches!(scalar.value, Some(scalar::Value::Union(_))))
            }
            other => panic!("expected a union, got {other:?}"),
        }
    }
}
