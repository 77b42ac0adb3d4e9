//! GetOrExtendReservation and ReleaseReservation (`cache_serialize`): one
//! owner at a time, extended by asking again, taken over once a dead
//! holder's reservation lapses, and waiters in this process woken by a
//! release instead of polling.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestCatalog, dataset_id, refusal};
use tonic::Code;
use updraft_catalog::{CatalogSettings, ReservationTurn};
use updraft_proto::datacatalog;

fn reservation_id(tag: &str) -> datacatalog::ReservationId {
    datacatalog::ReservationId {
        dataset_id: Some(dataset_id("flyte_task-slow", "1.0-a-b")),
        tag_name: tag.to_string(),
    }
}

fn heartbeat(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap(),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap(),
    }
}

async fn ask(
    app: &mut TestCatalog,
    tag: &str,
    owner: &str,
    interval: Duration,
) -> datacatalog::Reservation {
    app.catalog
        .get_or_extend_reservation(datacatalog::GetOrExtendReservationRequest {
            reservation_id: Some(reservation_id(tag)),
            owner_id: owner.to_string(),
            heartbeat_interval: Some(heartbeat(interval)),
        })
        .await
        .expect("the reservation answers")
        .into_inner()
        .reservation
        .expect("a reservation")
}

async fn release(app: &mut TestCatalog, tag: &str, owner: &str) {
    app.catalog
        .release_reservation(datacatalog::ReleaseReservationRequest {
            reservation_id: Some(reservation_id(tag)),
            owner_id: owner.to_string(),
        })
        .await
        .expect("release answers");
}

fn expiry(reservation: &datacatalog::Reservation) -> SystemTime {
    let at = reservation.expires_at.as_ref().unwrap();
    UNIX_EPOCH
        + Duration::new(
            u64::try_from(at.seconds).unwrap(),
            u32::try_from(at.nanos).unwrap(),
        )
}

async fn one_owner_holds_a_reservation_until_it_releases_it() {
    let mut app = TestCatalog::spawn().await;
    let held = ask(
        &mut app,
        "flyte_cached-x",
        "owner-a",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(held.owner_id, "owner-a");
    assert_eq!(
        held.reservation_id,
        Some(datacatalog::ReservationId {
            dataset_id: Some(dataset_id("flyte_task-slow", "1.0-a-b")),
            tag_name: "flyte_cached-x".into(),
        })
    );
    assert_eq!(
        held.heartbeat_interval,
        Some(heartbeat(Duration::from_secs(5)))
    );
    // It lapses three heartbeats after it was asked for.
    let lapses_in = expiry(&held).duration_since(SystemTime::now()).unwrap();
    assert!(
        lapses_in > Duration::from_secs(13) && lapses_in <= Duration::from_secs(15),
        "{lapses_in:?}"
    );

    let refused = ask(
        &mut app,
        "flyte_cached-x",
        "owner-b",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        refused.owner_id, "owner-a",
        "another owner is told who holds it"
    );
    assert_eq!(expiry(&refused), expiry(&held));

    tokio::time::sleep(Duration::from_millis(20)).await;
    let extended = ask(
        &mut app,
        "flyte_cached-x",
        "owner-a",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(extended.owner_id, "owner-a");
    assert!(expiry(&extended) > expiry(&held), "asking again extends it");

    // Releasing someone else's reservation changes nothing and is no error.
    release(&mut app, "flyte_cached-x", "owner-b").await;
    assert_eq!(
        ask(
            &mut app,
            "flyte_cached-x",
            "owner-b",
            Duration::from_secs(5)
        )
        .await
        .owner_id,
        "owner-a"
    );
    release(&mut app, "flyte_cached-x", "owner-a").await;
    assert_eq!(
        ask(
            &mut app,
            "flyte_cached-x",
            "owner-b",
            Duration::from_secs(5)
        )
        .await
        .owner_id,
        "owner-b"
    );
    // Another tag is another reservation.
    assert_eq!(
        ask(
            &mut app,
            "flyte_cached-y",
            "owner-a",
            Duration::from_secs(5)
        )
        .await
        .owner_id,
        "owner-a"
    );
}

async fn a_dead_holders_reservation_lapses_and_is_taken_over() {
    let mut app = TestCatalog::spawn().await;
    let held = ask(
        &mut app,
        "flyte_cached-x",
        "dead",
        Duration::from_millis(100),
    )
    .await;
    assert_eq!(held.owner_id, "dead");
    assert_eq!(
        ask(
            &mut app,
            "flyte_cached-x",
            "alive",
            Duration::from_millis(100)
        )
        .await
        .owner_id,
        "dead"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        ask(
            &mut app,
            "flyte_cached-x",
            "alive",
            Duration::from_millis(100)
        )
        .await
        .owner_id,
        "alive"
    );
}

async fn heartbeats_are_capped_at_the_configured_maximum() {
    let mut app = TestCatalog::spawn_with(CatalogSettings {
        max_reservation_heartbeat: Duration::from_secs(2),
        heartbeat_grace_period_multiplier: 3,
    })
    .await;
    let held = ask(
        &mut app,
        "flyte_cached-x",
        "owner-a",
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        held.heartbeat_interval,
        Some(heartbeat(Duration::from_secs(2)))
    );
    let lapses_in = expiry(&held).duration_since(SystemTime::now()).unwrap();
    assert!(lapses_in <= Duration::from_secs(6), "{lapses_in:?}");
}

async fn malformed_reservations_are_refused_naming_the_field() {
    let mut app = TestCatalog::spawn().await;
    let no_owner = app
        .catalog
        .get_or_extend_reservation(datacatalog::GetOrExtendReservationRequest {
            reservation_id: Some(reservation_id("flyte_cached-x")),
            owner_id: String::new(),
            heartbeat_interval: None,
        })
        .await;
    assert_eq!(
        refusal(no_owner),
        (Code::InvalidArgument, "owner_id is required".to_string())
    );
    let no_tag = app
        .catalog
        .release_reservation(datacatalog::ReleaseReservationRequest {
            reservation_id: Some(reservation_id("")),
            owner_id: "a".into(),
        })
        .await;
    assert_eq!(
        refusal(no_tag),
        (
            Code::InvalidArgument,
            "reservation_id.tag_name is required".to_string()
        )
    );
    let negative = app
        .catalog
        .get_or_extend_reservation(datacatalog::GetOrExtendReservationRequest {
            reservation_id: Some(reservation_id("flyte_cached-x")),
            owner_id: "a".into(),
            heartbeat_interval: Some(prost_types::Duration {
                seconds: -1,
                nanos: 0,
            }),
        })
        .await;
    let (code, message) = refusal(negative);
    assert_eq!(code, Code::InvalidArgument);
    assert!(message.starts_with("heartbeat_interval"), "{message}");
}

async fn a_waiter_is_woken_by_the_release_not_by_polling() {
    let app = TestCatalog::spawn().await;
    let id = reservation_id("flyte_cached-x");
    let heartbeat = Some(Duration::from_secs(10));
    let first = app
        .api
        .wait_for_reservation(&id, "owner-a", heartbeat)
        .await
        .unwrap();
    assert!(matches!(first, ReservationTurn::Acquired(_)), "{first:?}");

    let waiter = {
        let api = app.api.clone();
        let id = id.clone();
        tokio::spawn(async move { api.wait_for_reservation(&id, "owner-b", heartbeat).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !waiter.is_finished(),
        "owner-b waits while owner-a holds it"
    );
    let released_at = std::time::Instant::now();
    app.api.release_reservation(&id, "owner-a").await.unwrap();
    let turn = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("woken well before the 30 s lapse")
        .unwrap()
        .unwrap();
    assert_eq!(turn, ReservationTurn::Released);
    assert!(released_at.elapsed() < Duration::from_secs(1));
}

async fn a_waiter_takes_over_when_the_holder_lapses() {
    let app = TestCatalog::spawn().await;
    let id = reservation_id("flyte_cached-x");
    let short = Some(Duration::from_millis(100));
    app.api
        .get_or_extend_reservation(&id, "dead", short)
        .await
        .unwrap();
    let turn = tokio::time::timeout(
        Duration::from_secs(5),
        app.api.wait_for_reservation(&id, "alive", short),
    )
    .await
    .expect("the lapse ends the wait")
    .unwrap();
    match turn {
        ReservationTurn::Acquired(reservation) => assert_eq!(reservation.owner_id, "alive"),
        other => panic!("expected the reservation, got {other:?}"),
    }
}

common::on_every_backend!(
    one_owner_holds_a_reservation_until_it_releases_it,
    a_dead_holders_reservation_lapses_and_is_taken_over,
    heartbeats_are_capped_at_the_configured_maximum,
    malformed_reservations_are_refused_naming_the_field,
    a_waiter_is_woken_by_the_release_not_by_polling,
    a_waiter_takes_over_when_the_holder_lapses,
);
