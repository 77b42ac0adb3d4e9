//! The catalog, the control plane's memory of task outputs: Flyte's
//! `datacatalog.DataCatalog` service, answering as datacatalog does so
//! propeller's task caching keys, finds and fills entries exactly as in
//! Flyte, plus what Flyte lacks ([`updraft_proto::updraft::catalog::v1`]
//! eviction, an artifact and its tags stored in one transaction, a lost
//! blob counted as a miss, waking waiters when a reservation is released).
//!
//! Storage is a [`store::CatalogStore`] (its own tables in the database
//! admin uses) plus the object store for artifact data ([`blobs`]).
//! [`CatalogApi`] is the gRPC service and, for an in-process propeller, the
//! Rust API: [`CatalogApi::lookup_cached_outputs`],
//! [`CatalogApi::put_cached_outputs`], [`CatalogApi::get_or_extend_reservation`],
//! [`CatalogApi::wait_for_reservation`] and [`CatalogApi::release_reservation`].

mod artifacts;
pub mod blobs;
mod cache;
mod datasets;
pub mod error;
mod eviction;
pub mod identifiers;
pub mod listing;
pub mod metrics;
mod reservations;
mod service;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

pub use cache::{CacheHit, CachePut, PutOutcome};
pub use reservations::{ReservationState, ReservationTurn};

use crate::blobs::ArtifactBlobs;
use crate::store::CatalogStore;

/// Largest request the catalog decodes: artifacts carry a task's outputs
/// inline (each output a `Literal`), as large as admin's messages.
pub const MAX_MESSAGE_BYTES: usize = 20 * 1024 * 1024;

/// How the catalog serves reservations, datacatalog's settings of the same
/// names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSettings {
    /// The longest heartbeat a holder may ask for (`max-reservation-heartbeat`,
    /// 10 s).
    pub max_reservation_heartbeat: Duration,
    /// A reservation lapses this many heartbeats after it was last extended
    /// (`heartbeat-grace-period-multiplier`, 3).
    pub heartbeat_grace_period_multiplier: u32,
}

impl Default for CatalogSettings {
    fn default() -> Self {
        Self {
            max_reservation_heartbeat: Duration::from_secs(10),
            heartbeat_grace_period_multiplier: 3,
        }
    }
}

/// The state every catalog service shares.
#[derive(Debug)]
struct CatalogState {
    store: CatalogStore,
    blobs: ArtifactBlobs,
    settings: CatalogSettings,
    releases: reservations::ReleaseWaiters,
}

/// The `datacatalog.DataCatalog` implementation, and the catalog's Rust API.
#[derive(Debug, Clone)]
pub struct CatalogApi {
    state: Arc<CatalogState>,
}

/// Why the catalog's storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database failed to open or migrate.
    #[error("cannot open the catalog's database")]
    Database(#[from] store::StoreError),
}

impl CatalogApi {
    /// A catalog over already opened stores.
    pub fn new(
        store: CatalogStore,
        storage: updraft_storage::Storage,
        settings: CatalogSettings,
    ) -> Self {
        Self {
            state: Arc::new(CatalogState {
                store,
                blobs: ArtifactBlobs::new(storage),
                settings,
                releases: reservations::ReleaseWaiters::default(),
            }),
        }
    }

    /// Opens the database at `database_url` (migrating the catalog's tables)
    /// over an already opened object store.
    pub async fn open(
        database_url: &str,
        storage: updraft_storage::Storage,
        settings: CatalogSettings,
    ) -> Result<Self, OpenError> {
        let store = CatalogStore::connect(database_url).await?;
        Ok(Self::new(store, storage, settings))
    }

    /// The database this catalog uses.
    pub fn store(&self) -> &CatalogStore {
        &self.state.store
    }

    /// The object store this catalog keeps artifact data in.
    pub fn storage(&self) -> &updraft_storage::Storage {
        self.state.blobs.storage()
    }

    /// This catalog as the `DataCatalog` tonic service.
    pub fn into_service(
        self,
    ) -> updraft_proto::datacatalog::data_catalog_server::DataCatalogServer<Self> {
        updraft_proto::datacatalog::data_catalog_server::DataCatalogServer::new(self)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// The eviction service sharing this catalog's stores.
    pub fn eviction_service(
        &self,
    ) -> updraft_proto::updraft::catalog::v1::cache_eviction_service_server::CacheEvictionServiceServer<
        eviction::EvictionApi,
    >{
        updraft_proto::updraft::catalog::v1::cache_eviction_service_server::CacheEvictionServiceServer::new(
            eviction::EvictionApi::new(self.clone()),
        )
    }
}

pub use eviction::EvictionApi;
