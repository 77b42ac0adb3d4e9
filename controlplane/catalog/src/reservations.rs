//! GetOrExtendReservation and ReleaseReservation, as datacatalog serves
//! them: a holder's heartbeat is capped at `max_reservation_heartbeat`, and
//! its reservation lapses `heartbeat_grace_period_multiplier` heartbeats
//! after it last asked, so another owner may take over from a holder that
//! died. In this process a release also wakes those waiting for it
//! ([`CatalogApi::wait_for_reservation`]), so they need not poll.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use updraft_proto::datacatalog;

use crate::CatalogApi;
use crate::error::CatalogError;
use crate::identifiers::{ReservationKey, required};
use crate::metrics::{ReservationOutcome, record_reservation};
use crate::store::{micros_since_epoch, timestamp_from_micros};

/// A reservation after asking for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationState {
    /// Whether the asking owner holds it now.
    pub acquired: bool,
    /// The reservation: its holder, the heartbeat to extend it at, and when
    /// it lapses.
    pub reservation: datacatalog::Reservation,
}

/// What waiting for a reservation came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ReservationTurn {
    /// The waiting owner holds the reservation now (its holder let it lapse,
    /// or it was free): run the task, extending it every heartbeat.
    Acquired(Box<datacatalog::Reservation>),
    /// Its holder released it, most likely after caching its outputs: look
    /// the cache up again before asking for the reservation.
    Released,
}

/// Who waits for which reservation to be released, in this process.
#[derive(Debug, Default)]
pub(crate) struct ReleaseWaiters {
    waiting: Mutex<HashMap<ReservationKey, Weak<Notify>>>,
}

impl ReleaseWaiters {
    /// The signal of `key`'s release, shared by everyone waiting for it.
    fn signal(&self, key: &ReservationKey) -> Arc<Notify> {
        let mut waiting = self.waiting.lock().expect("reservation waiters");
        if let Some(signal) = waiting.get(key).and_then(Weak::upgrade) {
            return signal;
        }
        // Waiters that gave up leave dead entries; drop them as new ones come.
        waiting.retain(|_, signal| signal.strong_count() > 0);
        let signal = Arc::new(Notify::new());
        waiting.insert(key.clone(), Arc::downgrade(&signal));
        signal
    }

    /// Wakes everyone waiting for `key`.
    fn released(&self, key: &ReservationKey) {
        let signal = self
            .waiting
            .lock()
            .expect("reservation waiters")
            .remove(key)
            .and_then(|signal| signal.upgrade());
        if let Some(signal) = signal {
            signal.notify_waiters();
        }
    }
}

fn duration_from_proto(
    duration: &prost_types::Duration,
    field: &str,
) -> Result<Duration, CatalogError> {
    let seconds = u64::try_from(duration.seconds);
    let nanos = u32::try_from(duration.nanos);
    match (seconds, nanos) {
        (Ok(seconds), Ok(nanos)) if nanos < 1_000_000_000 => Ok(Duration::new(seconds, nanos)),
        _ => Err(CatalogError::invalid(format!(
            "{field} must be a duration of zero or more"
        ))),
    }
}

fn duration_to_proto(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap_or_default(),
    }
}

impl CatalogApi {
    /// The heartbeat granted for `requested`: datacatalog's maximum unless
    /// less is asked for (nothing or zero asks for the maximum).
    fn granted_heartbeat(&self, requested: Option<Duration>) -> Duration {
        let maximum = self.state.settings.max_reservation_heartbeat;
        match requested {
            Some(requested) if !requested.is_zero() && requested < maximum => requested,
            _ => maximum,
        }
    }

    /// Acquires the reservation `reservation_id` for `owner_id`, or extends
    /// it when `owner_id` holds it already; otherwise answers its holder.
    #[tracing::instrument(skip_all, fields(owner = owner_id))]
    pub async fn get_or_extend_reservation(
        &self,
        reservation_id: &datacatalog::ReservationId,
        owner_id: &str,
        heartbeat: Option<Duration>,
    ) -> Result<ReservationState, CatalogError> {
        let key = ReservationKey::parse(Some(reservation_id), "reservation_id")?;
        required(owner_id, "owner_id")?;
        let result = self.acquire_or_extend(&key, owner_id, heartbeat).await;
        record_reservation(match &result {
            Ok(state) if state.acquired => ReservationOutcome::Acquired,
            Ok(_) => ReservationOutcome::HeldByAnother,
            Err(_) => ReservationOutcome::AcquireFailed,
        });
        result
    }

    async fn acquire_or_extend(
        &self,
        key: &ReservationKey,
        owner_id: &str,
        heartbeat: Option<Duration>,
    ) -> Result<ReservationState, CatalogError> {
        let heartbeat = self.granted_heartbeat(heartbeat);
        let lapse = heartbeat * self.state.settings.heartbeat_grace_period_multiplier;
        // A release between the write and the read leaves no holder to
        // report; asking once more settles it.
        for _ in 0..2 {
            let now = SystemTime::now();
            let record = self
                .state
                .store
                .get_or_extend_reservation(
                    key,
                    owner_id,
                    micros_since_epoch(now + lapse),
                    micros_since_epoch(now),
                )
                .await?;
            if record.owner_id.is_empty() {
                continue;
            }
            return Ok(ReservationState {
                acquired: record.owner_id == owner_id,
                reservation: datacatalog::Reservation {
                    reservation_id: Some(key.to_reservation_id()),
                    owner_id: record.owner_id,
                    heartbeat_interval: Some(duration_to_proto(heartbeat)),
                    expires_at: Some(timestamp_from_micros(record.expires_at)),
                    metadata: None,
                },
            });
        }
        Err(CatalogError::not_found(format!(
            "the reservation of {key} keeps being released while it is asked for; ask again"
        )))
    }

    /// Ends `owner_id`'s reservation (a reservation it does not hold is left
    /// alone, and that is no error) and wakes those waiting for it here.
    #[tracing::instrument(skip_all, fields(owner = owner_id))]
    pub async fn release_reservation(
        &self,
        reservation_id: &datacatalog::ReservationId,
        owner_id: &str,
    ) -> Result<(), CatalogError> {
        let key = ReservationKey::parse(Some(reservation_id), "reservation_id")?;
        required(owner_id, "owner_id")?;
        match self.state.store.release_reservation(&key, owner_id).await {
            Ok(true) => {
                record_reservation(ReservationOutcome::Released);
                self.state.releases.released(&key);
                Ok(())
            }
            Ok(false) => {
                record_reservation(ReservationOutcome::NotHeld);
                Ok(())
            }
            Err(error) => {
                record_reservation(ReservationOutcome::ReleaseFailed);
                Err(error.into())
            }
        }
    }

    /// Asks for the reservation as [`CatalogApi::get_or_extend_reservation`]
    /// does and, while another owner holds it, waits without polling: until
    /// the holder releases it in this process ([`ReservationTurn::Released`]:
    /// look the cache up again), or until its reservation lapses (then asks
    /// again, and so on). A holder in another process is only noticed when
    /// its reservation lapses or by asking again; wrap this in a timeout to
    /// look sooner.
    pub async fn wait_for_reservation(
        &self,
        reservation_id: &datacatalog::ReservationId,
        owner_id: &str,
        heartbeat: Option<Duration>,
    ) -> Result<ReservationTurn, CatalogError> {
        let key = ReservationKey::parse(Some(reservation_id), "reservation_id")?;
        loop {
            // Listening before asking: a release between the answer and the
            // wait is not missed.
            let released = self.state.releases.signal(&key).notified_owned();
            let state = self
                .get_or_extend_reservation(reservation_id, owner_id, heartbeat)
                .await?;
            if state.acquired {
                return Ok(ReservationTurn::Acquired(Box::new(state.reservation)));
            }
            let lapses_in = state
                .reservation
                .expires_at
                .as_ref()
                .map(|at| {
                    let at = UNIX_EPOCH
                        + Duration::new(
                            u64::try_from(at.seconds).unwrap_or_default(),
                            u32::try_from(at.nanos).unwrap_or_default(),
                        );
                    at.duration_since(SystemTime::now()).unwrap_or_default()
                })
                .unwrap_or_default();
            if tokio::time::timeout(lapses_in, released).await.is_ok() {
                return Ok(ReservationTurn::Released);
            }
        }
    }

    pub(crate) async fn get_or_extend_reservation_impl(
        &self,
        request: datacatalog::GetOrExtendReservationRequest,
    ) -> Result<datacatalog::GetOrExtendReservationResponse, CatalogError> {
        let reservation_id = request
            .reservation_id
            .ok_or_else(|| CatalogError::invalid("reservation_id is required"))?;
        let heartbeat = request
            .heartbeat_interval
            .as_ref()
            .map(|heartbeat| duration_from_proto(heartbeat, "heartbeat_interval"))
            .transpose()?;
        let state = self
            .get_or_extend_reservation(&reservation_id, &request.owner_id, heartbeat)
            .await?;
        Ok(datacatalog::GetOrExtendReservationResponse {
            reservation: Some(state.reservation),
        })
    }

    pub(crate) async fn release_reservation_impl(
        &self,
        request: datacatalog::ReleaseReservationRequest,
    ) -> Result<datacatalog::ReleaseReservationResponse, CatalogError> {
        let reservation_id = request
            .reservation_id
            .ok_or_else(|| CatalogError::invalid("reservation_id is required"))?;
        self.release_reservation(&reservation_id, &request.owner_id)
            .await?;
        Ok(datacatalog::ReleaseReservationResponse {})
    }
}
