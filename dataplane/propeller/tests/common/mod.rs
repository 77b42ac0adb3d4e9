//! Helpers the propeller integration tests share.

use std::path::{Path, PathBuf};

use updraft_proto::flyteidl::core::{self, literal, primitive, scalar};

pub fn python_bin_dir() -> PathBuf {
    std::env::var_os("UPDRAFT_TEST_PYTHON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin"))
}

pub fn integer(value: i64) -> core::Literal {
    core::Literal {
        value: Some(literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(scalar::Value::Primitive(core::Primitive {
                value: Some(primitive::Value::Integer(value)),
            })),
        }))),
        ..Default::default()
    }
}

pub fn as_integer(literal: &core::Literal) -> Option<i64> {
    match literal.value.as_ref()? {
        literal::Value::Scalar(scalar) => match scalar.value.as_ref()? {
            scalar::Value::Primitive(core::Primitive {
                value: Some(primitive::Value::Integer(n)),
            }) => Some(*n),
            _ => None,
        },
        _ => None,
    }
}
