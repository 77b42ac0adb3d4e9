//! Flyte's task template variables (`{{.Input}}`, `{{ .OutputPrefix }}`, …),
//! substituted into container arguments as propeller does: names match
//! case-insensitively, with or without spaces, written `{{.X}}` or `{{$X}}`.

use updraft_proto::flyteidl::core::{self, literal, primitive, scalar};

use crate::runtime::TaskLaunch;

/// Substitutes every known variable in `argument`; unknown ones are left as
/// they are (some, such as `{{ .remote_package_path }}`, belong to flytekit).
pub fn render_argument(argument: &str, launch: &TaskLaunch) -> String {
    let mut rendered = String::with_capacity(argument.len());
    let mut rest = argument;
    while let Some(open) = rest.find("{{") {
        let Some(close_offset) = rest[open + 2..].find("}}") else {
            break;
        };
        let close = open + 2 + close_offset;
        rendered.push_str(&rest[..open]);
        let expression = rest[open + 2..close].trim();
        match value_of(expression, launch) {
            Some(value) => rendered.push_str(&value),
            None => rendered.push_str(&rest[open..close + 2]),
        }
        rest = &rest[close + 2..];
    }
    rendered.push_str(rest);
    rendered
}

fn value_of(expression: &str, launch: &TaskLaunch) -> Option<String> {
    let name = expression
        .strip_prefix('.')
        .or_else(|| expression.strip_prefix('$'))?;
    let lowered = name.to_ascii_lowercase();
    if let Some(input_name) = lowered.strip_prefix("inputs.") {
        // Input names keep their case; only the `Inputs.` prefix is case-free.
        let original = &name[name.len() - input_name.len()..];
        return launch
            .inputs
            .literals
            .get(original)
            .and_then(render_literal);
    }
    Some(match lowered.as_str() {
        "input" => launch.input_path(),
        "inputprefix" => launch.input_prefix.clone(),
        "outputprefix" => launch.output_prefix.clone(),
        "rawoutputdataprefix" => launch.raw_output_prefix.clone(),
        "checkpointoutputprefix" => launch.checkpoint_prefix(),
        // flytekit reads the two quote characters as "no previous checkpoint".
        "prevcheckpointprefix" => launch
            .previous_checkpoint_prefix
            .clone()
            .unwrap_or_else(|| "\"\"".to_string()),
        "perretryuniquekey" => launch.attempt_key.clone(),
        "namespace" => format!("{}-{}", launch.execution.project, launch.execution.domain),
        _ => return None,
    })
}

/// Renders a primitive-ish literal the way propeller does for `{{.Inputs.x}}`.
fn render_literal(literal: &core::Literal) -> Option<String> {
    match literal.value.as_ref()? {
        literal::Value::Scalar(value) => match value.value.as_ref()? {
            scalar::Value::Primitive(primitive) => Some(match primitive.value.as_ref()? {
                primitive::Value::Integer(number) => number.to_string(),
                primitive::Value::FloatValue(number) => number.to_string(),
                primitive::Value::StringValue(text) => text.clone(),
                primitive::Value::Boolean(flag) => flag.to_string(),
                primitive::Value::Datetime(time) => {
                    chrono::DateTime::from_timestamp(time.seconds, u32::try_from(time.nanos).ok()?)?
                        .to_rfc3339()
                }
                primitive::Value::Duration(duration) => {
                    format!(
                        "{}s",
                        duration.seconds as f64 + f64::from(duration.nanos) / 1e9
                    )
                }
            }),
            scalar::Value::Blob(blob) => Some(blob.uri.clone()),
            scalar::Value::Schema(schema) => Some(schema.uri.clone()),
            _ => None,
        },
        literal::Value::Collection(collection) => {
            let items: Option<Vec<String>> =
                collection.literals.iter().map(render_literal).collect();
            Some(format!("[{}]", items?.join(",")))
        }
        _ => None,
    }
}

/// Points `pyflyte-fast-execute --dest-dir` at the attempt's own working
/// directory. flytekit writes `/root` (its container default) into the tasks a
/// dynamic task generates; on a shared host every such attempt would unpack
/// its code into the same folder at once, and outside the attempt's sandbox.
pub fn confine_code_destination(words: &mut [String]) {
    let end = words
        .iter()
        .position(|word| word == "--")
        .unwrap_or(words.len());
    let mut index = 0;
    while index < end {
        if words[index] == "--dest-dir" && index + 1 < end {
            words[index + 1] = ".".to_string();
            index += 1;
        } else if words[index].starts_with("--dest-dir=") {
            words[index] = "--dest-dir=.".to_string();
        }
        index += 1;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn launch() -> TaskLaunch {
        let mut inputs = core::LiteralMap::default();
        inputs.literals.insert(
            "Count".into(),
            core::Literal {
                value: Some(literal::Value::Scalar(Box::new(core::Scalar {
                    value: Some(scalar::Value::Primitive(core::Primitive {
                        value: Some(primitive::Value::Integer(42)),
                    })),
                }))),
                ..Default::default()
            },
        );
        TaskLaunch {
            attempt_key: "exec-n0-0".into(),
            attempt_number: 0,
            template: core::TaskTemplate::default(),
            inputs: std::sync::Arc::new(inputs),
            input_prefix: "/store/exec/n0/data".into(),
            output_prefix: "/store/exec/n0/data/0".into(),
            raw_output_prefix: "/store/raw/ab".into(),
            previous_checkpoint_prefix: None,
            execution: core::WorkflowExecutionIdentifier {
                project: "p".into(),
                domain: "d".into(),
                name: "exec".into(),
                org: String::new(),
            },
            environment: BTreeMap::new(),
        }
    }

    #[test]
    fn substitutes_flytekit_arguments_in_any_spelling() {
        let launch = launch();
        assert_eq!(
            render_argument("{{.input}}", &launch),
            "/store/exec/n0/data/inputs.pb"
        );
        assert_eq!(
            render_argument("{{ .OutputPrefix }}", &launch),
            "/store/exec/n0/data/0"
        );
        assert_eq!(
            render_argument("{{$RawOutputDataPrefix}}", &launch),
            "/store/raw/ab"
        );
        assert_eq!(
            render_argument("{{.checkpointOutputPrefix}}", &launch),
            "/store/raw/ab/_flytecheckpoints"
        );
        assert_eq!(
            render_argument("{{.prevCheckpointPrefix}}", &launch),
            "\"\""
        );
        assert_eq!(
            render_argument("{{.PerRetryUniqueKey}}", &launch),
            "exec-n0-0"
        );
    }

    #[test]
    fn renders_primitive_inputs_and_keeps_unknown_variables() {
        let launch = launch();
        assert_eq!(render_argument("--n={{.Inputs.Count}}", &launch), "--n=42");
        assert_eq!(
            render_argument("{{ .remote_package_path }}", &launch),
            "{{ .remote_package_path }}"
        );
        assert_eq!(
            render_argument("{{.Inputs.missing}}", &launch),
            "{{.Inputs.missing}}"
        );
        assert_eq!(
            render_argument("plain {{ unclosed", &launch),
            "plain {{ unclosed"
        );
    }

    #[test]
    fn fast_execute_code_lands_in_the_attempt_directory() {
        let mut words: Vec<String> = [
            "pyflyte-fast-execute",
            "--additional-distribution",
            "file:///store/fast.tar.gz",
            "--dest-dir",
            "/root",
            "--",
            "pyflyte-execute",
            "--dest-dir",
            "kept",
        ]
        .map(String::from)
        .to_vec();
        super::confine_code_destination(&mut words);
        assert_eq!(words[4], ".");
        assert_eq!(words[8], "kept", "the task's own arguments are left alone");

        let mut joined = vec!["--dest-dir=/root".to_string()];
        super::confine_code_destination(&mut joined);
        assert_eq!(joined, vec!["--dest-dir=."]);
    }
}
