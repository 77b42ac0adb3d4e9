//! `SignalService`: the values gate nodes wait for. A propeller creates a
//! signal (idempotently, polling until it has a value), a person or
//! flytekit's `FlyteRemote.set_signal` sets it, the console lists them.

use std::sync::Arc;

use prost::Message;
use tonic::{Request, Response, Status};
use updraft_proto::flyteidl::service::signal_service_server::{SignalService, SignalServiceServer};
use updraft_proto::flyteidl::{admin, core};

use crate::error::AdminError;
use crate::filters::{ListRequestParts, SIGNAL_FIELDS, build_list_query, next_page_token};
use crate::identifiers::{execution_identifier, execution_key, require};
use crate::literal_types::{check_literal_type, describe_type};
use crate::store::{
    Condition, ExecutionKey, ExecutionRepo, SignalKey, SignalRecord, SignalRepo, now_micros,
};
use crate::{AdminState, MAX_MESSAGE_BYTES, answer};

/// The `flyteidl.service.SignalService` implementation.
#[derive(Debug, Clone)]
pub struct SignalApi {
    state: Arc<AdminState>,
}

fn signal_key(id: Option<&core::SignalIdentifier>) -> Result<SignalKey, AdminError> {
    let id = id.ok_or_else(|| AdminError::invalid("missing id"))?;
    require(&id.signal_id, "signal_id")?;
    let execution = execution_key(id.execution_id.as_ref()).map_err(|error| match error {
        AdminError::InvalidArgument(message) => {
            AdminError::InvalidArgument(format!("{message} in execution_id"))
        }
        other => other,
    })?;
    Ok(SignalKey {
        execution,
        signal_id: id.signal_id.clone(),
    })
}

fn signal_from_record(record: &SignalRecord) -> Result<admin::Signal, AdminError> {
    Ok(admin::Signal {
        id: Some(core::SignalIdentifier {
            signal_id: record.key.signal_id.clone(),
            execution_id: Some(execution_identifier(&record.key.execution)),
        }),
        r#type: Some(core::LiteralType::decode(record.literal_type.as_slice())?),
        value: record
            .value
            .as_deref()
            .map(core::Literal::decode)
            .transpose()?,
    })
}

impl SignalApi {
    pub(crate) fn new(state: Arc<AdminState>) -> Self {
        Self { state }
    }

    /// This service as a tonic service, with updraft's message-size limits.
    pub fn into_service(self) -> SignalServiceServer<Self> {
        SignalServiceServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    async fn require_execution(&self, key: &ExecutionKey) -> Result<(), AdminError> {
        match self.state.store.get_execution(key).await? {
            Some(_) => Ok(()),
            None => Err(AdminError::not_found(format!(
                "execution {key} does not exist"
            ))),
        }
    }

    async fn get_or_create_signal_impl(
        &self,
        request: admin::SignalGetOrCreateRequest,
    ) -> Result<admin::Signal, AdminError> {
        let key = signal_key(request.id.as_ref())?;
        let literal_type = request
            .r#type
            .filter(|literal_type| literal_type.r#type.is_some())
            .ok_or_else(|| AdminError::invalid("missing type"))?;
        self.require_execution(&key.execution).await?;
        let now = now_micros();
        let stored = self
            .state
            .store
            .get_or_create_signal(&SignalRecord {
                key: key.clone(),
                literal_type: literal_type.encode_to_vec(),
                value: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
        let signal = signal_from_record(&stored)?;
        // Compared decoded, so two encodings of one type are not a conflict.
        let stored_type = signal.r#type.clone().unwrap_or_default();
        if stored_type.r#type != literal_type.r#type {
            return Err(AdminError::invalid(format!(
                "signal {key} already exists with type {}, not {}",
                describe_type(&stored_type),
                describe_type(&literal_type)
            )));
        }
        Ok(signal)
    }

    async fn list_signals_impl(
        &self,
        request: admin::SignalListRequest,
    ) -> Result<admin::SignalList, AdminError> {
        let execution =
            execution_key(request.workflow_execution_id.as_ref()).map_err(|error| match error {
                AdminError::InvalidArgument(message) if message == "missing id" => {
                    AdminError::invalid("missing workflow_execution_id")
                }
                other => other,
            })?;
        self.require_execution(&execution).await?;
        let query = build_list_query(
            &SIGNAL_FIELDS,
            ListRequestParts::from(&request),
            vec![
                Condition::text("execution_project", &execution.project),
                Condition::text("execution_domain", &execution.domain),
                Condition::text("execution_name", &execution.name),
            ],
            None,
        )?;
        let records = self.state.store.list_signals(&query).await?;
        Ok(admin::SignalList {
            token: next_page_token(&query, records.len()),
            signals: records
                .iter()
                .map(signal_from_record)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn set_signal_impl(
        &self,
        request: admin::SignalSetRequest,
    ) -> Result<admin::SignalSetResponse, AdminError> {
        let key = signal_key(request.id.as_ref())?;
        let value = request
            .value
            .ok_or_else(|| AdminError::invalid("missing value"))?;
        let stored = self
            .state
            .store
            .get_signal(&key)
            .await?
            .ok_or_else(|| AdminError::not_found(format!("signal {key} does not exist")))?;
        let literal_type = core::LiteralType::decode(stored.literal_type.as_slice())?;
        check_literal_type(&value, &literal_type).map_err(|reason| {
            AdminError::invalid(format!("invalid value for signal {key}: {reason}"))
        })?;
        // As flyteadmin: setting a signal again replaces its value.
        if !self
            .state
            .store
            .set_signal_value(&key, &value.encode_to_vec(), now_micros())
            .await?
        {
            return Err(AdminError::not_found(format!(
                "signal {key} does not exist"
            )));
        }
        tracing::info!(signal = %key, "set signal");
        Ok(admin::SignalSetResponse {})
    }
}

#[tonic::async_trait]
impl SignalService for SignalApi {
    #[tracing::instrument(skip_all)]
    async fn get_or_create_signal(
        &self,
        request: Request<admin::SignalGetOrCreateRequest>,
    ) -> Result<Response<admin::Signal>, Status> {
        answer(self.get_or_create_signal_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_signals(
        &self,
        request: Request<admin::SignalListRequest>,
    ) -> Result<Response<admin::SignalList>, Status> {
        answer(self.list_signals_impl(request.into_inner())).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_signal(
        &self,
        request: Request<admin::SignalSetRequest>,
    ) -> Result<Response<admin::SignalSetResponse>, Status> {
        answer(self.set_signal_impl(request.into_inner())).await
    }
}
