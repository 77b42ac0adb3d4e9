//! Branch conditions: comparisons and conjunctions over primitives, whose
//! variables name the branch node's own (resolved) inputs, as flytekit writes them.

use std::cmp::Ordering;

use updraft_proto::flyteidl::core::{
    self, boolean_expression, comparison_expression, conjunction_expression, literal, operand,
    primitive, scalar,
};

/// Why a condition could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("the condition reads `{0}`, which is not an input of the branch node")]
    UnknownVariable(String),
    #[error("the condition reads `{0}`, which is not a primitive value")]
    NotPrimitive(String),
    #[error("cannot compare {left} with {right}")]
    Incomparable { left: String, right: String },
    #[error("the condition is empty")]
    Empty,
}

/// A value a comparison can read: a primitive, or none (`is_none` checks).
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Primitive(primitive::Value),
    None,
}

/// Evaluates `expression` with its variables read from `inputs`.
pub fn evaluate(
    expression: &core::BooleanExpression,
    inputs: &core::LiteralMap,
) -> Result<bool, ConditionError> {
    match expression.expr.as_ref().ok_or(ConditionError::Empty)? {
        boolean_expression::Expr::Conjunction(conjunction) => {
            let left = conjunction
                .left_expression
                .as_ref()
                .ok_or(ConditionError::Empty)?;
            let right = conjunction
                .right_expression
                .as_ref()
                .ok_or(ConditionError::Empty)?;
            // Both sides are evaluated, so a bad variable is reported even when
            // the other side alone would decide.
            let left = evaluate(left, inputs)?;
            let right = evaluate(right, inputs)?;
            Ok(match conjunction.operator() {
                conjunction_expression::LogicalOperator::And => left && right,
                conjunction_expression::LogicalOperator::Or => left || right,
            })
        }
        boolean_expression::Expr::Comparison(comparison) => {
            let left = operand_value(comparison.left_value.as_ref(), inputs)?;
            let right = operand_value(comparison.right_value.as_ref(), inputs)?;
            compare(comparison.operator(), &left, &right)
        }
    }
}

fn compare(
    operator: comparison_expression::Operator,
    left: &Value,
    right: &Value,
) -> Result<bool, ConditionError> {
    use comparison_expression::Operator;
    let ordering = match (left, right) {
        (Value::None, Value::None) => Some(Ordering::Equal),
        (Value::None, _) | (_, Value::None) => None,
        (Value::Primitive(left), Value::Primitive(right)) => Some(order(left, right)?),
    };
    Ok(match (operator, ordering) {
        (Operator::Eq, ordering) => ordering == Some(Ordering::Equal),
        (Operator::Neq, ordering) => ordering != Some(Ordering::Equal),
        (_, None) => {
            return Err(ConditionError::Incomparable {
                left: describe(left),
                right: describe(right),
            });
        }
        (Operator::Gt, Some(ordering)) => ordering == Ordering::Greater,
        (Operator::Gte, Some(ordering)) => ordering != Ordering::Less,
        (Operator::Lt, Some(ordering)) => ordering == Ordering::Less,
        (Operator::Lte, Some(ordering)) => ordering != Ordering::Greater,
    })
}

fn order(left: &primitive::Value, right: &primitive::Value) -> Result<Ordering, ConditionError> {
    use primitive::Value as P;
    let incomparable = || ConditionError::Incomparable {
        left: describe(&Value::Primitive(left.clone())),
        right: describe(&Value::Primitive(right.clone())),
    };
    let ordering = match (left, right) {
        (P::Integer(left), P::Integer(right)) => left.cmp(right),
        // Python compares ints and floats by value; so does propeller.
        (P::Integer(left), P::FloatValue(right)) => {
            (*left as f64).partial_cmp(right).ok_or_else(incomparable)?
        }
        (P::FloatValue(left), P::Integer(right)) => left
            .partial_cmp(&(*right as f64))
            .ok_or_else(incomparable)?,
        (P::FloatValue(left), P::FloatValue(right)) => {
            left.partial_cmp(right).ok_or_else(incomparable)?
        }
        (P::StringValue(left), P::StringValue(right)) => left.cmp(right),
        (P::Boolean(left), P::Boolean(right)) => left.cmp(right),
        (P::Datetime(left), P::Datetime(right)) => {
            (left.seconds, left.nanos).cmp(&(right.seconds, right.nanos))
        }
        (P::Duration(left), P::Duration(right)) => {
            (left.seconds, left.nanos).cmp(&(right.seconds, right.nanos))
        }
        _ => return Err(incomparable()),
    };
    Ok(ordering)
}

fn describe(value: &Value) -> String {
    match value {
        Value::None => "none".into(),
        Value::Primitive(primitive::Value::Integer(value)) => format!("the integer {value}"),
        Value::Primitive(primitive::Value::FloatValue(value)) => format!("the float {value}"),
        Value::Primitive(primitive::Value::StringValue(value)) => format!("the string {value:?}"),
        Value::Primitive(primitive::Value::Boolean(value)) => format!("the boolean {value}"),
        Value::Primitive(primitive::Value::Datetime(_)) => "a datetime".into(),
        Value::Primitive(primitive::Value::Duration(_)) => "a duration".into(),
    }
}

// flytekit still writes constants as the deprecated `primitive` operand.
#[allow(deprecated)]
fn operand_value(
    operand: Option<&core::Operand>,
    inputs: &core::LiteralMap,
) -> Result<Value, ConditionError> {
    match operand.and_then(|operand| operand.val.as_ref()) {
        None => Err(ConditionError::Empty),
        Some(operand::Val::Primitive(primitive)) => primitive
            .value
            .clone()
            .map(Value::Primitive)
            .ok_or(ConditionError::Empty),
        Some(operand::Val::Scalar(scalar)) => {
            scalar_value(scalar).ok_or_else(|| ConditionError::NotPrimitive("a constant".into()))
        }
        Some(operand::Val::Var(name)) => {
            let literal = inputs
                .literals
                .get(name)
                .ok_or_else(|| ConditionError::UnknownVariable(name.clone()))?;
            match &literal.value {
                Some(literal::Value::Scalar(scalar)) => scalar_value(scalar),
                _ => None,
            }
            .ok_or_else(|| ConditionError::NotPrimitive(name.clone()))
        }
    }
}

fn scalar_value(scalar: &core::Scalar) -> Option<Value> {
    match scalar.value.as_ref()? {
        scalar::Value::Primitive(primitive) => primitive.value.clone().map(Value::Primitive),
        scalar::Value::NoneType(_) => Some(Value::None),
        // Optional values arrive wrapped in a union.
        scalar::Value::Union(union) => match union.value.as_ref()?.value.as_ref()? {
            literal::Value::Scalar(inner) => scalar_value(inner),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comparison_expression::Operator;

    fn integer_literal(value: i64) -> core::Literal {
        core::Literal {
            value: Some(literal::Value::Scalar(Box::new(core::Scalar {
                value: Some(scalar::Value::Primitive(core::Primitive {
                    value: Some(primitive::Value::Integer(value)),
                })),
            }))),
            ..Default::default()
        }
    }

    fn var(name: &str) -> Option<core::Operand> {
        Some(core::Operand {
            val: Some(operand::Val::Var(name.into())),
        })
    }

    #[allow(deprecated)]
    fn constant(value: primitive::Value) -> Option<core::Operand> {
        Some(core::Operand {
            val: Some(operand::Val::Primitive(core::Primitive {
                value: Some(value),
            })),
        })
    }

    fn comparison(
        operator: Operator,
        left: Option<core::Operand>,
        right: Option<core::Operand>,
    ) -> core::BooleanExpression {
        core::BooleanExpression {
            expr: Some(boolean_expression::Expr::Comparison(
                core::ComparisonExpression {
                    operator: operator as i32,
                    left_value: left,
                    right_value: right,
                },
            )),
        }
    }

    fn inputs() -> core::LiteralMap {
        core::LiteralMap {
            literals: [("n0.o0".to_string(), integer_literal(-6))].into(),
        }
    }

    #[test]
    fn compares_variables_with_constants() {
        let below = comparison(
            Operator::Lt,
            var("n0.o0"),
            constant(primitive::Value::Integer(0)),
        );
        let above = comparison(
            Operator::Gt,
            var("n0.o0"),
            constant(primitive::Value::FloatValue(-6.5)),
        );
        let equal = comparison(
            Operator::Eq,
            var("n0.o0"),
            constant(primitive::Value::Integer(-6)),
        );

        assert!(evaluate(&below, &inputs()).unwrap());
        assert!(evaluate(&above, &inputs()).unwrap());
        assert!(evaluate(&equal, &inputs()).unwrap());
    }

    #[test]
    fn conjunctions_combine_both_sides() {
        let both = core::BooleanExpression {
            expr: Some(boolean_expression::Expr::Conjunction(Box::new(
                core::ConjunctionExpression {
                    operator: conjunction_expression::LogicalOperator::And as i32,
                    left_expression: Some(Box::new(comparison(
                        Operator::Lt,
                        var("n0.o0"),
                        constant(primitive::Value::Integer(0)),
                    ))),
                    right_expression: Some(Box::new(comparison(
                        Operator::Gt,
                        var("n0.o0"),
                        constant(primitive::Value::Integer(-5)),
                    ))),
                },
            ))),
        };

        assert!(!evaluate(&both, &inputs()).unwrap());
    }

    #[test]
    fn names_a_missing_variable_and_refuses_mixed_types() {
        let missing = comparison(
            Operator::Eq,
            var(".x"),
            constant(primitive::Value::Integer(0)),
        );
        let mixed = comparison(
            Operator::Gt,
            var("n0.o0"),
            constant(primitive::Value::StringValue("a".into())),
        );

        assert_eq!(
            evaluate(&missing, &inputs()).unwrap_err(),
            ConditionError::UnknownVariable(".x".into())
        );
        assert_eq!(
            evaluate(&mixed, &inputs()).unwrap_err().to_string(),
            "cannot compare the integer -6 with the string \"a\""
        );
    }
}
