//! What a finished task left behind: Flyte's output files, read back.

use prost::Message;
use updraft_proto::flyteidl::core;
use updraft_storage::{Storage, StorageError};

use crate::paths::file_in;

/// The result of one task attempt, from its output files.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// `outputs.pb`: the task's outputs.
    Succeeded(core::LiteralMap),
    /// `error.pb`: the task reported an error (user or system, per its origin).
    Failed(core::ContainerError),
    /// `futures.pb`: a dynamic task generated a workflow to run next.
    Dynamic(core::DynamicJobSpec),
    /// The task ended without writing any of them.
    NoOutputs,
}

/// Why the output files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeError {
    #[error("cannot read {file}: {source}")]
    Read { file: String, source: StorageError },
    #[error("{file} is not a valid {message}: {source}")]
    Decode {
        file: String,
        message: &'static str,
        source: prost::DecodeError,
    },
}

/// Reads the outcome of an attempt whose output prefix is `output_prefix`
/// (a URI of `storage`). `error.pb` wins over the others, as in propeller: a
/// task that failed after writing partial outputs has failed.
pub async fn read_outcome(
    storage: &Storage,
    output_prefix: &str,
) -> Result<TaskOutcome, OutcomeError> {
    let output_dir = (storage, output_prefix);
    if let Some(document) =
        read_message::<core::ErrorDocument>(output_dir, "error.pb", "ErrorDocument").await?
    {
        return Ok(TaskOutcome::Failed(document.error.unwrap_or_default()));
    }
    if let Some(spec) =
        read_message::<core::DynamicJobSpec>(output_dir, "futures.pb", "DynamicJobSpec").await?
    {
        return Ok(TaskOutcome::Dynamic(spec));
    }
    if let Some(outputs) =
        read_message::<core::LiteralMap>(output_dir, "outputs.pb", "LiteralMap").await?
    {
        return Ok(TaskOutcome::Succeeded(outputs));
    }
    Ok(TaskOutcome::NoOutputs)
}

async fn read_message<M: Message + Default>(
    (storage, prefix): (&Storage, &str),
    name: &str,
    message: &'static str,
) -> Result<Option<M>, OutcomeError> {
    let uri = file_in(prefix, name);
    let bytes = match storage.get_uri(&uri).await {
        Ok(bytes) => bytes,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(source) => return Err(OutcomeError::Read { file: uri, source }),
    };
    M::decode(bytes)
        .map(Some)
        .map_err(|source| OutcomeError::Decode {
            file: uri,
            message,
            source,
        })
}
