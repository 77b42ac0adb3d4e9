//! The scheduler on a real admin (SQLite, and PostgreSQL when
//! `UPDRAFT_TEST_POSTGRES` names a server):
//!
//! - fire precision: 100 launch plans scheduled `* * * * *` in `updraft
//!   start` (propeller off, so nothing else runs) all fire at the next
//!   minute boundary; the delay is admin's `created_at` (the execution
//!   QUEUED) minus its `scheduled_at`;
//! - scale: `updraft scheduler` as its own process, with 10,000 active
//!   schedules none of which is due during the run: its CPU time over an
//!   idle stretch, its resident memory, and the time from admin activating
//!   one more launch plan to the scheduler keeping it (read from its
//!   `updraft:scheduler:active_schedules` gauge, so on SQLite it includes
//!   up to one poll interval, 500 ms; on PostgreSQL admin notifies it).
//!
//! Prints numbers; asserts nothing about them.
//!
//! `cargo bench -p updraft --bench scheduler`
//! (`UPDRAFT_BENCH_IDLE_SECS` sets the idle stretch, 30 s by default.)

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use updraft::config::{CommandLineOverrides, Config};
use updraft::startup::{Application, Components};
use updraft_database::testing::{Backend, fresh_database_url};
use updraft_proto::flyteidl::admin;
use updraft_proto::flyteidl::core::{self, ResourceType};
use updraft_proto::flyteidl::service::admin_service_client::AdminServiceClient;
use updraft_scheduler::{LaunchPlanVersion, Schedule, ScheduleStore};

type Admin = AdminServiceClient<tonic::transport::Channel>;

const PROJECT: &str = "flytesnacks";
const DOMAIN: &str = "development";
const FIRES: usize = 100;
const SCHEDULES: usize = 10_000;
const ACTIVATIONS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if std::env::var_os("TEST_LOG").is_some() {
            updraft::telemetry::init();
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("scheduler benchmark: {cores} cores, load {}", load.trim());
        let idle = Duration::from_secs(
            std::env::var("UPDRAFT_BENCH_IDLE_SECS")
                .ok()
                .and_then(|secs| secs.parse().ok())
                .unwrap_or(30),
        );
        let mut backends = vec![Backend::Sqlite];
        backends.extend(Backend::postgres_from_environment());
        for backend in &backends {
            fire_precision(backend).await;
        }
        for backend in &backends {
            ten_thousand_schedules(backend, idle).await;
        }
    });
}

/// An updraft serving in this process until dropped.
struct InProcess {
    address: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _folder: tempfile::TempDir,
}

async fn serve(components: Components, database_url: &str, folder: tempfile::TempDir) -> InProcess {
    let overrides = CommandLineOverrides {
        addr: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(folder.path().to_path_buf()),
        ..CommandLineOverrides::default()
    };
    let environment = vec![
        (
            "UPDRAFT_DATABASE__URL".to_string(),
            database_url.to_string(),
        ),
        (
            "UPDRAFT_PROPELLER__ENABLED".to_string(),
            "false".to_string(),
        ),
    ];
    let config = Config::load(None, environment, &overrides).expect("config");
    let application = Application::build_components(config, components)
        .await
        .expect("updraft starts");
    let address = application.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    InProcess {
        address,
        _stop: stop,
        _folder: folder,
    }
}

async fn admin_client(address: SocketAddr) -> Admin {
    AdminServiceClient::connect(format!("http://{address}"))
        .await
        .expect("connect to admin")
}

fn identifier(resource_type: ResourceType, name: &str) -> core::Identifier {
    core::Identifier {
        resource_type: resource_type as i32,
        project: PROJECT.into(),
        domain: DOMAIN.into(),
        name: name.into(),
        version: "v1".into(),
        org: String::new(),
    }
}

fn cron(expression: &str) -> admin::Schedule {
    admin::Schedule {
        kickoff_time_input_arg: String::new(),
        schedule_expression: Some(admin::schedule::ScheduleExpression::CronSchedule(
            admin::CronSchedule {
                schedule: expression.into(),
                offset: String::new(),
            },
        )),
    }
}

/// A one-node workflow to hang launch plans on.
async fn register_workflow(admin: &mut Admin) -> core::Identifier {
    let task_id = identifier(ResourceType::Task, "noop");
    admin
        .create_task(admin::TaskCreateRequest {
            id: Some(task_id.clone()),
            spec: Some(admin::TaskSpec {
                template: Some(core::TaskTemplate {
                    id: Some(task_id.clone()),
                    r#type: "raw-container".into(),
                    interface: Some(core::TypedInterface::default()),
                    target: Some(core::task_template::Target::Container(core::Container {
                        image: "ignored:latest".into(),
                        command: vec!["true".into()],
                        ..Default::default()
                    })),
                    ..Default::default()
                }),
                description: None,
            }),
        })
        .await
        .expect("create task");
    let workflow_id = identifier(ResourceType::Workflow, "wf");
    admin
        .create_workflow(admin::WorkflowCreateRequest {
            id: Some(workflow_id.clone()),
            spec: Some(admin::WorkflowSpec {
                template: Some(core::WorkflowTemplate {
                    id: Some(workflow_id.clone()),
                    interface: Some(core::TypedInterface::default()),
                    nodes: vec![core::Node {
                        id: "n0".into(),
                        target: Some(core::node::Target::TaskNode(core::TaskNode {
                            reference: Some(core::task_node::Reference::ReferenceId(task_id)),
                            overrides: None,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                sub_workflows: vec![],
                description: None,
            }),
        })
        .await
        .expect("create workflow");
    workflow_id
}

async fn register_launch_plan(
    admin: &mut Admin,
    workflow_id: &core::Identifier,
    name: &str,
    schedule: admin::Schedule,
) {
    admin
        .create_launch_plan(admin::LaunchPlanCreateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, name)),
            spec: Some(admin::LaunchPlanSpec {
                workflow_id: Some(workflow_id.clone()),
                entity_metadata: Some(admin::LaunchPlanMetadata {
                    schedule: Some(schedule),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .expect("create launch plan");
}

async fn set_state(admin: &mut Admin, name: &str, state: admin::LaunchPlanState) {
    admin
        .update_launch_plan(admin::LaunchPlanUpdateRequest {
            id: Some(identifier(ResourceType::LaunchPlan, name)),
            state: state as i32,
        })
        .await
        .expect("update launch plan");
}

/// Every scheduled execution of the project: (scheduled at, created at).
async fn scheduled_executions(admin: &mut Admin) -> Vec<(jiff::Timestamp, jiff::Timestamp)> {
    let mut found = Vec::new();
    let mut token = String::new();
    loop {
        let page = admin
            .list_executions(admin::ResourceListRequest {
                id: Some(admin::NamedEntityIdentifier {
                    project: PROJECT.into(),
                    domain: DOMAIN.into(),
                    ..Default::default()
                }),
                limit: 100,
                token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("list executions")
            .into_inner();
        for execution in &page.executions {
            let metadata = execution
                .spec
                .as_ref()
                .and_then(|spec| spec.metadata.as_ref());
            let created = execution
                .closure
                .as_ref()
                .and_then(|closure| closure.created_at);
            if let (Some(metadata), Some(created)) = (metadata, created)
                && metadata.mode == admin::execution_metadata::ExecutionMode::Scheduled as i32
                && let Some(scheduled) = metadata.scheduled_at
            {
                found.push((timestamp(scheduled), timestamp(created)));
            }
        }
        if page.token.is_empty() || page.executions.is_empty() {
            return found;
        }
        token = page.token;
    }
}

fn timestamp(protobuf: prost_types::Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::new(protobuf.seconds, protobuf.nanos).expect("a valid timestamp")
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1_000.0)
}

async fn fire_precision(backend: &Backend) {
    let folder = tempfile::tempdir().expect("a folder");
    let database_url = fresh_database_url(backend, folder.path()).await;
    let updraft = serve(Components::All, &database_url, folder).await;
    let mut admin = admin_client(updraft.address).await;
    let workflow_id = register_workflow(&mut admin).await;
    let names: Vec<String> = (0..FIRES).map(|i| format!("every_minute_{i}")).collect();
    for name in &names {
        register_launch_plan(&mut admin, &workflow_id, name, cron("* * * * *")).await;
    }
    for name in &names {
        set_state(&mut admin, name, admin::LaunchPlanState::Active).await;
    }
    let activated = jiff::Timestamp::now();
    // Activations that straddle a boundary fire at the next one: at most two.
    let deadline = Instant::now() + Duration::from_secs(135);
    let mut fired = scheduled_executions(&mut admin).await;
    while fired.len() < FIRES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        fired = scheduled_executions(&mut admin).await;
    }
    for name in &names {
        set_state(&mut admin, name, admin::LaunchPlanState::Inactive).await;
    }
    let mut delays: Vec<Duration> = fired
        .iter()
        .map(|(scheduled, created)| scheduled.duration_until(*created).unsigned_abs())
        .collect();
    delays.sort();
    println!(
        "fire precision ({}): {FIRES} launch plans `* * * * *` activated at {activated}, {} fires",
        backend.label(),
        delays.len()
    );
    if delays.is_empty() {
        println!("  no fire within the deadline");
        return;
    }
    println!(
        "  scheduled -> QUEUED in admin: p50 {}  p99 {}  max {}  min {}",
        milliseconds(percentile(&delays, 0.5)),
        milliseconds(percentile(&delays, 0.99)),
        milliseconds(*delays.last().unwrap()),
        milliseconds(delays[0]),
    );
}

/// `updraft scheduler` as a child process, killed when dropped.
struct SchedulerProcess {
    child: Child,
    address: String,
    http: reqwest::Client,
}

impl Drop for SchedulerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SchedulerProcess {
    fn start(database_url: &str, admin: SocketAddr, data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_updraft"))
            .args(["scheduler", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("UPDRAFT_DATABASE__URL", database_url)
            .env(
                "UPDRAFT_SCHEDULER__ADMIN_ENDPOINT",
                format!("http://{admin}"),
            )
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .spawn()
            .expect("start updraft scheduler");
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("updraft scheduler printed its address")
                .expect("read its output");
            if let Some((_, rest)) = line.split_once("gRPC and HTTP: ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Its later output must not fill the pipe and block it.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            address,
            http: reqwest::Client::new(),
        }
    }

    /// The schedules it keeps, from its metrics; `None` before it reports.
    async fn schedules_kept(&self) -> Option<usize> {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.address))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix("updraft:scheduler:active_schedules "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .map(|value| value as usize)
    }

    async fn wait_until_it_keeps(&self, count: usize, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.schedules_kept().await == Some(count) {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }

    /// User plus system CPU time of every thread so far.
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/<pid>/stat");
        // Fields after the command name, which may hold spaces: state first,
        // so utime and stime (fields 14 and 15) are the 12th and 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
    }

    /// Resident memory now and at its peak, in MiB.
    fn resident_memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/<pid>/status");
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|value| value.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
    }

    async fn idle_cost(&self, idle: Duration) -> String {
        let before = self.cpu_time();
        let started = Instant::now();
        tokio::time::sleep(idle).await;
        let used = self.cpu_time() - before;
        let share = used.as_secs_f64() / started.elapsed().as_secs_f64() * 100.0;
        let (resident, peak) = self.resident_memory();
        format!(
            "CPU {share:.2} % of a core ({} over {:.0} s), RSS {resident:.1} MiB (peak {peak:.1} MiB)",
            milliseconds(used),
            started.elapsed().as_secs_f64()
        )
    }
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Schedules none of which is due within the next hour: daily and weekly
/// cron times two or more hours ahead, and fixed rates of hours.
fn quiet_schedule(index: usize, hour_now: usize) -> admin::Schedule {
    let minute = index * 7 % 60;
    let hour = (hour_now + 2 + index % 21) % 24;
    match index % 3 {
        0 => cron(&format!("{minute} {hour} * * *")),
        1 => cron(&format!("{minute} {hour} * * {}", index % 7)),
        _ => admin::Schedule {
            kickoff_time_input_arg: String::new(),
            schedule_expression: Some(admin::schedule::ScheduleExpression::Rate(
                admin::FixedRate {
                    value: 2 + (index % 22) as u32,
                    unit: admin::FixedRateUnit::Hour as i32,
                },
            )),
        },
    }
}

async fn ten_thousand_schedules(backend: &Backend, idle: Duration) {
    let folder = tempfile::tempdir().expect("a folder");
    let scheduler_dir = folder.path().join("scheduler");
    let database_url = fresh_database_url(backend, folder.path()).await;
    let label = backend.label();
    let updraft = serve(Components::Admin, &database_url, folder).await;
    let mut admin = admin_client(updraft.address).await;
    let workflow_id = register_workflow(&mut admin).await;
    let hour_now = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .hour() as usize;
    for index in 0..ACTIVATIONS {
        let schedule = quiet_schedule(index, hour_now);
        register_launch_plan(
            &mut admin,
            &workflow_id,
            &format!("extra_{index}"),
            schedule,
        )
        .await;
    }

    let scheduler = SchedulerProcess::start(&database_url, updraft.address, &scheduler_dir);
    if scheduler
        .wait_until_it_keeps(0, Duration::from_secs(30))
        .await
        .is_none()
    {
        println!("{label}: the scheduler never reported leading; skipped");
        return;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("10,000 schedules ({label}), `updraft scheduler` alone:");
    println!(
        "  no schedules, idle:      {}",
        scheduler.idle_cost(idle / 3).await
    );

    // Written as admin writes them, in one transaction: the launch plans
    // need not exist, since none is due while this runs.
    let store = ScheduleStore::connect(&database_url)
        .await
        .expect("the schedule store");
    let written = Instant::now();
    let mut transaction = store.pool().begin().await.expect("begin");
    let activated_at = jiff::Timestamp::now().as_microsecond();
    for index in 0..SCHEDULES {
        let launch_plan = LaunchPlanVersion {
            project: PROJECT.into(),
            domain: DOMAIN.into(),
            name: format!("quiet_{index}"),
            version: "v1".into(),
        };
        let schedule = Schedule::from_proto(&quiet_schedule(index, hour_now)).expect("valid");
        updraft_scheduler::store::activate_schedule(
            &mut transaction,
            &launch_plan,
            schedule.as_ref(),
            activated_at,
        )
        .await
        .expect("activate a schedule");
    }
    transaction.commit().await.expect("commit");
    let write_time = written.elapsed();
    let picked_up = scheduler
        .wait_until_it_keeps(SCHEDULES, Duration::from_secs(60))
        .await;
    println!(
        "  10,000 written in one transaction in {}; kept by the scheduler {} later",
        milliseconds(write_time),
        picked_up.map_or_else(|| "never".to_string(), milliseconds)
    );
    // Let the first round of sleeps settle before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "  10,000 schedules, idle:  {}",
        scheduler.idle_cost(idle).await
    );

    let mut latencies = Vec::new();
    for index in 0..ACTIVATIONS {
        let started = Instant::now();
        set_state(
            &mut admin,
            &format!("extra_{index}"),
            admin::LaunchPlanState::Active,
        )
        .await;
        if scheduler
            .wait_until_it_keeps(SCHEDULES + index + 1, Duration::from_secs(10))
            .await
            .is_some()
        {
            latencies.push(started.elapsed());
        }
        // Not in step with its poll.
        tokio::time::sleep(Duration::from_millis(137)).await;
    }
    latencies.sort();
    println!(
        "  activate one more -> kept: {} (of {ACTIVATIONS})",
        latencies
            .iter()
            .map(|latency| milliseconds(*latency))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut reads = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let active = store.list_active_schedules().await.expect("list");
        reads.push(started.elapsed());
        assert_eq!(active.len(), SCHEDULES + ACTIVATIONS);
    }
    reads.sort();
    println!(
        "  reading all active schedules (what a change costs the scheduler's database): median {}",
        milliseconds(reads[reads.len() / 2])
    );
    let (resident, peak) = scheduler.resident_memory();
    println!("  scheduler RSS at the end {resident:.1} MiB (peak {peak:.1} MiB)");
}
