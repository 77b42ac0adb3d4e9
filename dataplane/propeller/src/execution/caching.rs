//! Task caching for one node (or one map index), as flytepropeller does it:
//! look the outputs up before running, take turns through a reservation
//! when the task is `cache_serialize`, and cache the outputs after success.
//! Where Flyte fails the node because the catalog did not answer, the task
//! runs uncached here and the node records why.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use updraft_proto::flyteidl::core;
use updraft_proto::flyteidl::core::catalog_reservation::Status as ReservationStatus;
use updraft_proto::flyteidl::event;

use crate::catalog_keys::{
    CacheKey, artifact_metadata, dataset_metadata, reservation_owner_id, source_of_hit,
};
use crate::events::EventError;
use crate::execution::{AbortSignal, RunContext, wait_for_stop};
use crate::task_cache::{CacheEntry, CachedOutputs, ReleaseBoard, Reservation, TaskCache};

/// The heartbeat a holder asks for: flytepropeller's round (10 s), so a
/// holder that dies is replaced within three heartbeats.
const RESERVATION_HEARTBEAT: Duration = Duration::from_secs(10);
/// How often a waiter looks again for a holder in another propeller; one
/// in this propeller wakes it when it releases.
const WAITER_POLL: Duration = Duration::from_secs(1);

/// What to do before running a cached task.
pub(crate) enum BeforeRun {
    /// Its outputs are cached: use them, run nothing.
    Hit(core::LiteralMap),
    /// Run it (a miss, an overwrite, or a catalog that did not answer).
    Run,
    /// Stopped while waiting for another run's reservation.
    Stopped,
}

#[derive(Default)]
struct CachingState {
    status: core::CatalogCacheStatus,
    reservation: ReservationStatus,
    catalog_key: Option<core::CatalogMetadata>,
    /// Extends the reservation while this run holds it.
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    /// The attempt whose outputs get cached.
    attempt: u32,
}

/// The cache as one node's run uses it.
pub(crate) struct NodeCaching {
    cache: Arc<dyn TaskCache>,
    releases: Arc<ReleaseBoard>,
    key: CacheKey,
    task_id: core::Identifier,
    serialize: bool,
    overwrite: bool,
    /// The outputs the task declares: an entry lacking one is a miss.
    output_names: Vec<String>,
    owner: String,
    source_node: core::NodeExecutionIdentifier,
    state: Mutex<CachingState>,
}

impl Drop for NodeCaching {
    fn drop(&mut self) {
        if let Some(heartbeat) = self
            .state
            .get_mut()
            .expect("caching state")
            .heartbeat
            .take()
        {
            heartbeat.abort();
        }
    }
}

/// Why a task is run without the cache, when it is not obvious.
pub(crate) fn is_cacheable(task: &core::TaskTemplate) -> bool {
    let discoverable = task
        .metadata
        .as_ref()
        .is_some_and(|metadata| metadata.discoverable);
    // Flyte caches only tasks with outputs: an empty entry could not be
    // told from a miss.
    let has_outputs = task
        .interface
        .as_ref()
        .and_then(|interface| interface.outputs.as_ref())
        .is_some_and(|outputs| !outputs.variables.is_empty());
    discoverable && has_outputs
}

impl NodeCaching {
    /// The caching of `task` run on `key_inputs` as the node `unique_node_id`,
    /// or `None` when it is not cached (not cacheable, or no catalog).
    pub(crate) fn for_task(
        context: &RunContext,
        task: &core::TaskTemplate,
        key_inputs: &core::LiteralMap,
        unique_node_id: &str,
    ) -> Option<Arc<Self>> {
        let cache = context.environment.task_cache.clone()?;
        if !is_cacheable(task) {
            return None;
        }
        let key = match CacheKey::for_task(task, Some(key_inputs)) {
            Ok(key) => key,
            Err(error) => {
                tracing::warn!(node = unique_node_id, %error, "cannot key the task's cache; running it uncached");
                return None;
            }
        };
        let serialize = task
            .metadata
            .as_ref()
            .is_some_and(|metadata| metadata.cache_serializable);
        let catalog_key = catalog_key(&key, None, None);
        Some(Arc::new(Self {
            cache,
            releases: Arc::clone(&context.environment.cache_releases),
            owner: reservation_owner_id(&context.execution_id.name, unique_node_id, 0),
            key,
            task_id: task.id.clone().unwrap_or_default(),
            serialize,
            overwrite: context.overwrite_cache,
            output_names: task
                .interface
                .as_ref()
                .and_then(|interface| interface.outputs.as_ref())
                .map(|outputs| outputs.variables.keys().cloned().collect())
                .unwrap_or_default(),
            source_node: core::NodeExecutionIdentifier {
                node_id: unique_node_id.to_string(),
                execution_id: Some(context.execution_id.clone()),
            },
            state: Mutex::new(CachingState {
                status: if context.overwrite_cache {
                    core::CatalogCacheStatus::CacheSkipped
                } else {
                    core::CatalogCacheStatus::CacheMiss
                },
                catalog_key: Some(catalog_key),
                ..Default::default()
            }),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CachingState> {
        self.state.lock().expect("caching state")
    }

    /// The cache status as node events carry it.
    pub(crate) fn metadata(&self) -> event::TaskNodeMetadata {
        let state = self.state();
        event::TaskNodeMetadata {
            cache_status: state.status as i32,
            catalog_key: state.catalog_key.clone(),
            reservation_status: state.reservation as i32,
            ..Default::default()
        }
    }

    /// The cache status alone (a map index reports only that).
    pub(crate) fn status(&self) -> core::CatalogCacheStatus {
        self.state().status
    }

    /// Records which attempt is running, so its outputs are cached as its own.
    pub(crate) fn set_attempt(&self, attempt: u32) {
        self.state().attempt = attempt;
    }

    /// Looks the outputs up and, for a serialised task, waits its turn.
    /// `on_wait` is called once when another run holds the reservation.
    pub(crate) async fn before_run(
        self: &Arc<Self>,
        stop: &AbortSignal,
        on_wait: impl AsyncFnOnce() -> Result<(), EventError>,
    ) -> Result<BeforeRun, EventError> {
        let mut on_wait = Some(on_wait);
        loop {
            // Listening before asking: a release in between is not missed.
            let signal = self.releases.signal(&self.key);
            let released = signal.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.overwrite
                && let Some(outputs) = self.lookup().await
            {
                return Ok(BeforeRun::Hit(outputs));
            }
            if self.state().status == core::CatalogCacheStatus::CacheLookupFailure
                || !self.serialize
            {
                return Ok(BeforeRun::Run);
            }
            match self
                .cache
                .reserve(&self.key, &self.owner, RESERVATION_HEARTBEAT)
                .await
            {
                Ok(Reservation::Acquired { heartbeat }) => {
                    self.hold(heartbeat);
                    return Ok(BeforeRun::Run);
                }
                Ok(Reservation::HeldBy { owner }) => {
                    tracing::debug!(
                        holder = owner,
                        "waiting for another run of the same cached task"
                    );
                    self.state().reservation = ReservationStatus::ReservationExists;
                    if let Some(on_wait) = on_wait.take() {
                        on_wait().await?;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot take the task's cache reservation; running it");
                    self.state().reservation = ReservationStatus::ReservationFailure;
                    return Ok(BeforeRun::Run);
                }
            }
            tokio::select! {
                () = released => {}
                () = tokio::time::sleep(WAITER_POLL) => {}
                () = wait_for_stop(stop) => return Ok(BeforeRun::Stopped),
            }
        }
    }

    async fn lookup(&self) -> Option<core::LiteralMap> {
        let found = match self.cache.lookup(&self.key).await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "cannot look the task's outputs up in the cache; running it");
                self.state().status = core::CatalogCacheStatus::CacheLookupFailure;
                return None;
            }
        };
        let CachedOutputs {
            outputs,
            artifact_id,
            dataset_metadata,
            artifact_metadata,
        } = found?;
        if let Some(missing) = self
            .output_names
            .iter()
            .find(|name| !outputs.literals.contains_key(*name))
        {
            tracing::warn!(
                artifact = artifact_id,
                output = missing,
                "a cached entry lacks an output the task declares; running the task"
            );
            return None;
        }
        let source = source_of_hit(
            dataset_metadata.as_ref(),
            artifact_metadata.as_ref(),
            &self.task_id,
        );
        let mut state = self.state();
        state.status = core::CatalogCacheStatus::CacheHit;
        state.catalog_key = Some(catalog_key(&self.key, Some(artifact_id), Some(source)));
        Some(outputs)
    }

    fn hold(self: &Arc<Self>, heartbeat: Duration) {
        let cache = Arc::clone(&self.cache);
        let key = self.key.clone();
        let owner = self.owner.clone();
        let keeper = tokio::spawn(async move {
            loop {
                tokio::time::sleep(heartbeat).await;
                if let Err(error) = cache.reserve(&key, &owner, heartbeat).await {
                    tracing::warn!(%error, "cannot extend the task's cache reservation");
                }
            }
        });
        let mut state = self.state();
        state.reservation = ReservationStatus::ReservationAcquired;
        if let Some(previous) = state.heartbeat.replace(keeper) {
            previous.abort();
        }
    }

    /// Caches the outputs of a successful run; a hit caches nothing.
    pub(crate) async fn populate(&self, outputs: &core::LiteralMap) {
        let attempt = {
            let state = self.state();
            if state.status == core::CatalogCacheStatus::CacheHit {
                return;
            }
            state.attempt
        };
        let source = core::TaskExecutionIdentifier {
            task_id: Some(self.task_id.clone()),
            node_execution_id: Some(self.source_node.clone()),
            retry_attempt: attempt,
        };
        let entry = CacheEntry {
            key: self.key.clone(),
            outputs: outputs.clone(),
            dataset_metadata: dataset_metadata(&source),
            artifact_metadata: artifact_metadata(&source),
            overwrite: self.overwrite,
        };
        let stored = self.cache.put(entry).await;
        let mut state = self.state();
        match stored {
            Ok(artifact_id) => {
                state.status = core::CatalogCacheStatus::CachePopulated;
                // After an overwrite the entry is this run's; otherwise, as
                // in Flyte, a populated key names no source.
                let source = self.overwrite.then_some(source);
                state.catalog_key = Some(catalog_key(&self.key, Some(artifact_id), source));
            }
            Err(error) => {
                tracing::warn!(%error, "cannot cache the task's outputs");
                state.status = core::CatalogCacheStatus::CachePutFailure;
            }
        }
    }

    /// Ends this run's part: stops extending the reservation and releases
    /// it, whatever the outcome, so a waiter runs at once instead of waiting
    /// for it to lapse (Flyte releases only after success).
    pub(crate) async fn finish(&self) {
        let held = {
            let mut state = self.state();
            if let Some(heartbeat) = state.heartbeat.take() {
                heartbeat.abort();
            }
            state.reservation == ReservationStatus::ReservationAcquired
        };
        if !held {
            return;
        }
        match self.cache.release(&self.key, &self.owner).await {
            Ok(()) => self.state().reservation = ReservationStatus::ReservationReleased,
            Err(error) => {
                tracing::warn!(%error, "cannot release the task's cache reservation; it will lapse");
            }
        }
        self.releases.released(&self.key);
    }
}

/// The key as events show it: the dataset as an identifier, the tag, and
/// for a hit the artifact and the run that produced it.
fn catalog_key(
    key: &CacheKey,
    artifact_id: Option<String>,
    source: Option<core::TaskExecutionIdentifier>,
) -> core::CatalogMetadata {
    let dataset = &key.dataset_id;
    core::CatalogMetadata {
        dataset_id: Some(core::Identifier {
            resource_type: core::ResourceType::Dataset as i32,
            project: dataset.project.clone(),
            domain: dataset.domain.clone(),
            name: dataset.name.clone(),
            version: dataset.version.clone(),
            org: String::new(),
        }),
        artifact_tag: Some(core::CatalogArtifactTag {
            artifact_id: artifact_id.unwrap_or_default(),
            name: key.tag.clone(),
        }),
        source_execution: source.map(core::catalog_metadata::SourceExecution::SourceTaskExecution),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use updraft_proto::flyteidl::core;
    use updraft_proto::flyteidl::core::node_execution::Phase as NodePhase;
    use updraft_proto::flyteidl::event;

    use crate::catalog_keys::CacheKey;
    use crate::execution::tests::wait_until;
    use crate::execution::{ExecutionEnd, StopReason};
    use crate::testing::*;

    fn bed_with_catalog() -> (TestBed, Arc<InMemoryCatalog>) {
        let catalog = Arc::new(InMemoryCatalog::default());
        (
            TestBed::default().with_catalog(Arc::clone(&catalog)),
            catalog,
        )
    }

    fn adder(version: &str) -> core::TaskTemplate {
        cached(task("add_one", &["x"], &["o0"]), version)
    }

    fn single(task: &core::TaskTemplate) -> core::WorkflowTemplate {
        workflow(
            "wf",
            &["x"],
            vec![task_node("n0", task, vec![promise("x", INPUTS, "x")])],
            vec![promise("o0", "n0", "o0")],
        )
    }

    fn run_of(name: &str, task: &core::TaskTemplate, x: i64) -> ClaimedExecutionFor {
        claim(
            name,
            single(task),
            std::slice::from_ref(task),
            &[],
            literals([("x", integer(x))]),
        )
    }

    type ClaimedExecutionFor = updraft_proto::updraft::admin::v1::ClaimedExecution;

    fn overwriting(mut claim: ClaimedExecutionFor) -> ClaimedExecutionFor {
        claim
            .execution
            .as_mut()
            .and_then(|execution| execution.spec.as_mut())
            .expect("a spec")
            .overwrite_cache = true;
        claim
    }

    /// The cache metadata of `node`'s last event in `execution`.
    fn cache_of(bed: &TestBed, execution: &str, node: &str) -> event::TaskNodeMetadata {
        bed.admin
            .node_events()
            .into_iter()
            .filter(|event| {
                event.id.as_ref().is_some_and(|id| {
                    id.node_id == node
                        && id
                            .execution_id
                            .as_ref()
                            .is_some_and(|execution_id| execution_id.name == execution)
                })
            })
            .filter_map(|event| match event.target_metadata {
                Some(event::node_execution_event::TargetMetadata::TaskNodeMetadata(metadata)) => {
                    Some(metadata)
                }
                _ => None,
            })
            .next_back()
            .unwrap_or_default()
    }

    fn status(metadata: &event::TaskNodeMetadata) -> core::CatalogCacheStatus {
        core::CatalogCacheStatus::try_from(metadata.cache_status).expect("a cache status")
    }

    fn source_execution(metadata: &event::TaskNodeMetadata) -> Option<String> {
        match metadata.catalog_key.as_ref()?.source_execution.as_ref()? {
            core::catalog_metadata::SourceExecution::SourceTaskExecution(source) => source
                .node_execution_id
                .as_ref()?
                .execution_id
                .as_ref()
                .map(|execution| execution.name.clone()),
        }
    }

    #[tokio::test]
    async fn a_second_run_reads_the_cached_outputs_and_starts_no_task() {
        let (bed, catalog) = bed_with_catalog();
        let task = adder("1.0");
        bed.runtime.script("add_one", vec![add_one()]);

        assert_eq!(
            bed.run(run_of("e1", &task, 41)).await,
            ExecutionEnd::Succeeded
        );
        let first = cache_of(&bed, "e1", "n0");
        assert_eq!(status(&first), core::CatalogCacheStatus::CachePopulated);
        assert_eq!(catalog.entries(), 1);

        assert_eq!(
            bed.run(run_of("e2", &task, 41)).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(
            bed.runtime.launch_count("add_one"),
            1,
            "the hit ran nothing"
        );
        assert_eq!(
            bed.admin.node_phases("e2", "n0"),
            [NodePhase::Succeeded],
            "a hit is one event"
        );
        let hit = cache_of(&bed, "e2", "n0");
        assert_eq!(status(&hit), core::CatalogCacheStatus::CacheHit);
        assert_eq!(source_execution(&hit).as_deref(), Some("e1"));
        let key = hit.catalog_key.expect("a catalog key");
        assert_eq!(
            key.dataset_id.as_ref().map(|id| id.name.as_str()),
            Some("flyte_task-add_one")
        );
        assert!(key.artifact_tag.is_some_and(
            |tag| tag.name.starts_with("flyte_cached-") && !tag.artifact_id.is_empty()
        ));
        assert_eq!(
            bed.workflow_outputs("e2")
                .await
                .expect("outputs")
                .literals
                .get("o0"),
            Some(&integer(42))
        );
        assert!(
            bed.admin.task_events().iter().all(|event| event
                .parent_node_execution_id
                .as_ref()
                .and_then(|id| id.execution_id.as_ref())
                .is_none_or(|id| id.name != "e2")),
            "a hit reports no task attempt"
        );
    }

    #[tokio::test]
    async fn other_inputs_or_a_new_cache_version_miss() {
        let (bed, _catalog) = bed_with_catalog();
        bed.runtime.script("add_one", vec![add_one()]);
        bed.run(run_of("e1", &adder("1.0"), 1)).await;
        bed.run(run_of("e2", &adder("1.0"), 2)).await;
        bed.run(run_of("e3", &adder("2.0"), 1)).await;
        assert_eq!(bed.runtime.launch_count("add_one"), 3);
        assert_eq!(
            status(&cache_of(&bed, "e3", "n0")),
            core::CatalogCacheStatus::CachePopulated
        );
    }

    #[tokio::test]
    async fn an_ignored_input_does_not_change_the_key() {
        let (bed, _catalog) = bed_with_catalog();
        let mut task = cached(task("sum", &["x", "noise"], &["o0"]), "1.0");
        task.metadata
            .as_mut()
            .expect("metadata")
            .cache_ignore_input_vars = vec!["noise".into()];
        bed.runtime.script("sum", vec![add_one()]);
        let workflow = workflow(
            "wf",
            &["x", "noise"],
            vec![task_node(
                "n0",
                &task,
                vec![promise("x", INPUTS, "x"), promise("noise", INPUTS, "noise")],
            )],
            vec![promise("o0", "n0", "o0")],
        );
        for (name, noise) in [("e1", 1), ("e2", 2)] {
            let run = claim(
                name,
                workflow.clone(),
                std::slice::from_ref(&task),
                &[],
                literals([("x", integer(5)), ("noise", integer(noise))]),
            );
            assert_eq!(bed.run(run).await, ExecutionEnd::Succeeded);
        }
        assert_eq!(bed.runtime.launch_count("sum"), 1);
        assert_eq!(
            status(&cache_of(&bed, "e2", "n0")),
            core::CatalogCacheStatus::CacheHit
        );
    }

    #[tokio::test]
    async fn overwrite_cache_runs_the_task_and_replaces_the_entry() {
        let (bed, catalog) = bed_with_catalog();
        let task = adder("1.0");
        bed.runtime.script("add_one", vec![add_one()]);
        bed.run(run_of("e1", &task, 1)).await;
        assert_eq!(
            bed.run(overwriting(run_of("e2", &task, 1))).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(bed.runtime.launch_count("add_one"), 2);
        let overwritten = cache_of(&bed, "e2", "n0");
        assert_eq!(
            status(&overwritten),
            core::CatalogCacheStatus::CachePopulated
        );
        assert_eq!(source_execution(&overwritten).as_deref(), Some("e2"));
        bed.run(run_of("e3", &task, 1)).await;
        assert_eq!(
            source_execution(&cache_of(&bed, "e3", "n0")).as_deref(),
            Some("e2")
        );
        assert_eq!(catalog.entries(), 1);
    }

    #[tokio::test]
    async fn a_catalog_that_does_not_answer_leaves_the_task_running_uncached() {
        let (bed, catalog) = bed_with_catalog();
        let task = adder("1.0");
        bed.runtime.script("add_one", vec![add_one()]);
        catalog.fail_lookups(true);
        assert_eq!(
            bed.run(run_of("e1", &task, 1)).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(
            status(&cache_of(&bed, "e1", "n0")),
            core::CatalogCacheStatus::CachePopulated,
            "a failed lookup still caches the outputs"
        );
        catalog.fail_lookups(false);
        catalog.evict_all();
        catalog.fail_puts(true);
        assert_eq!(
            bed.run(run_of("e2", &task, 1)).await,
            ExecutionEnd::Succeeded
        );
        assert_eq!(
            status(&cache_of(&bed, "e2", "n0")),
            core::CatalogCacheStatus::CachePutFailure
        );
        assert_eq!(bed.runtime.launch_count("add_one"), 2);
    }

    #[tokio::test]
    async fn a_failed_lookup_is_recorded_while_the_task_runs() {
        let (bed, catalog) = bed_with_catalog();
        let task = adder("1.0");
        bed.runtime
            .script("add_one", vec![Step::fail("boom", false)]);
        catalog.fail_lookups(true);
        assert!(matches!(
            bed.run(run_of("e1", &task, 1)).await,
            ExecutionEnd::Failed(_)
        ));
        assert_eq!(
            status(&cache_of(&bed, "e1", "n0")),
            core::CatalogCacheStatus::CacheLookupFailure
        );
        assert_eq!(catalog.entries(), 0, "a failure caches nothing");
    }

    #[tokio::test]
    async fn tasks_without_outputs_or_cache_are_not_looked_up() {
        let (bed, catalog) = bed_with_catalog();
        let no_outputs = cached(task("side_effect", &["x"], &[]), "1.0");
        let uncached = task("add_one", &["x"], &["o0"]);
        bed.runtime
            .script("side_effect", vec![Step::outputs(literals([]))]);
        bed.runtime.script("add_one", vec![add_one()]);
        let workflow = workflow(
            "wf",
            &["x"],
            vec![
                task_node("n0", &no_outputs, vec![promise("x", INPUTS, "x")]),
                task_node("n1", &uncached, vec![promise("x", INPUTS, "x")]),
            ],
            vec![],
        );
        let run = claim(
            "e1",
            workflow,
            &[no_outputs, uncached],
            &[],
            literals([("x", integer(1))]),
        );
        assert_eq!(bed.run(run).await, ExecutionEnd::Succeeded);
        assert_eq!(catalog.calls(), (0, 0));
        assert_eq!(
            cache_of(&bed, "e1", "n0"),
            event::TaskNodeMetadata::default()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn identical_serialized_runs_execute_the_task_once() {
        let (bed, catalog) = bed_with_catalog();
        let task = serialized(adder("1.0"));
        bed.runtime.script(
            "add_one",
            vec![Step::After(Duration::from_secs(5), Box::new(add_one()))],
        );
        let runs: Vec<_> = (0..4)
            .map(|index| bed.start(run_of(&format!("e{index}"), &task, 7)))
            .collect();
        for (handle, _stop) in runs {
            assert_eq!(handle.await.expect("the run"), ExecutionEnd::Succeeded);
        }
        assert_eq!(bed.runtime.launch_count("add_one"), 1);
        let statuses: Vec<_> = (0..4)
            .map(|index| status(&cache_of(&bed, &format!("e{index}"), "n0")))
            .collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|status| **status == core::CatalogCacheStatus::CacheHit)
                .count(),
            3,
            "{statuses:?}"
        );
        let waited = (0..4).any(|index| {
            bed.admin
                .node_phases(&format!("e{index}"), "n0")
                .contains(&NodePhase::Queued)
        });
        assert!(
            waited,
            "waiters report QUEUED while another run holds the reservation"
        );
        assert_eq!(catalog.entries(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_that_died_is_replaced_once_its_reservation_lapses() {
        let (bed, catalog) = bed_with_catalog();
        let task = serialized(adder("1.0"));
        bed.runtime.script("add_one", vec![add_one()]);
        let key = CacheKey::for_task(&task, Some(&literals([("x", integer(3))]))).expect("a key");
        catalog.hold_reservation(&key, "a-propeller-that-died", Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        assert_eq!(
            bed.run(run_of("e1", &task, 3)).await,
            ExecutionEnd::Succeeded
        );
        assert!(started.elapsed() >= Duration::from_secs(30));
        assert_eq!(bed.runtime.launch_count("add_one"), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_can_be_terminated() {
        let (bed, catalog) = bed_with_catalog();
        let task = serialized(adder("1.0"));
        bed.runtime.script("add_one", vec![add_one()]);
        let key = CacheKey::for_task(&task, Some(&literals([("x", integer(3))]))).expect("a key");
        catalog.hold_reservation(&key, "another-run", Duration::from_secs(3600));
        let (handle, stop) = bed.start(run_of("e1", &task, 3));
        wait_until(|| {
            bed.admin
                .node_phases("e1", "n0")
                .contains(&NodePhase::Queued)
        })
        .await;
        stop.send_replace(Some(StopReason::Terminate("by a test".into())));
        assert_eq!(handle.await.expect("the run"), ExecutionEnd::Aborted);
        assert_eq!(bed.runtime.launch_count("add_one"), 0);
    }

    #[tokio::test]
    async fn a_dynamic_node_is_cached_on_its_parent_task() {
        let (bed, _catalog) = bed_with_catalog();
        let parent = cached(task("fan_out", &["x"], &["o0"]), "d1");
        let child = task("add_one", &["x"], &["o0"]);
        let spec = core::DynamicJobSpec {
            nodes: vec![task_node("d0", &child, vec![promise("x", INPUTS, "x")])],
            min_successes: 1,
            outputs: vec![promise("o0", "d0", "o0")],
            tasks: vec![child.clone()],
            subworkflows: vec![],
        };
        bed.runtime.script("fan_out", vec![Step::Dynamic(spec)]);
        bed.runtime.script("add_one", vec![add_one()]);
        for name in ["e1", "e2"] {
            assert_eq!(
                bed.run(run_of(name, &parent, 10)).await,
                ExecutionEnd::Succeeded
            );
        }
        assert_eq!(bed.runtime.launch_count("fan_out"), 1);
        assert_eq!(bed.runtime.launch_count("add_one"), 1);
        assert_eq!(
            status(&cache_of(&bed, "e1", "n0")),
            core::CatalogCacheStatus::CachePopulated
        );
        assert_eq!(
            status(&cache_of(&bed, "e2", "n0")),
            core::CatalogCacheStatus::CacheHit
        );
        assert_eq!(
            bed.workflow_outputs("e2")
                .await
                .expect("outputs")
                .literals
                .get("o0"),
            Some(&integer(11))
        );
    }
}
