//! The harness every store's suite runs on: each test on SQLite and, when
//! `UPDRAFT_TEST_POSTGRES` names a server, on PostgreSQL too, each time
//! on a fresh database; and readers of what the databases made of the
//! migrations ([`schema`]) and of how they would run a query ([`plans`]).

pub mod plans;
pub mod schema;

use sqlx::{Connection, Executor};

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in the test's directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

tokio::task_local! {
    /// The backend of the test running on this task, set by [`run_on`].
    static TEST_BACKEND: Backend;
}

/// Runs one test body with [`Backend::of_this_test`] answering `backend`.
pub async fn run_on(backend: Backend, test: impl Future<Output = ()>) {
    TEST_BACKEND.scope(backend, test).await;
}

/// Turns each named `async fn` of the test file into a module of two tests,
/// `NAME::sqlite` and `NAME::postgres`, so a failure names its backend. The
/// PostgreSQL one passes without running when `UPDRAFT_TEST_POSTGRES` is
/// not set. A test function left out of the list is dead code, which the
/// lints refuse.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn sqlite() {
                    $crate::testing::run_on($crate::testing::Backend::Sqlite, super::$test()).await;
                }

                #[tokio::test]
                async fn postgres() {
                    match $crate::testing::Backend::postgres_from_environment() {
                        Some(backend) => $crate::testing::run_on(backend, super::$test()).await,
                        None => eprintln!("UPDRAFT_TEST_POSTGRES is not set; skipping"),
                    }
                }
            }
        )+
    };
}

impl Backend {
    /// Postgres when `UPDRAFT_TEST_POSTGRES` names a server, else SQLite.
    pub fn from_environment() -> Self {
        Self::postgres_from_environment().unwrap_or(Self::Sqlite)
    }

    /// The PostgreSQL server `UPDRAFT_TEST_POSTGRES` names, if it names one.
    pub fn postgres_from_environment() -> Option<Self> {
        match std::env::var("UPDRAFT_TEST_POSTGRES") {
            Ok(server_url) if !server_url.is_empty() => Some(Self::Postgres(server_url)),
            _ => None,
        }
    }

    /// The backend of the running test.
    #[track_caller]
    pub fn of_this_test() -> Self {
        TEST_BACKEND
            .try_with(Clone::clone)
            .expect("the test runs in one that on_every_backend! made, on the test's own task")
    }

    /// `sqlite` or `postgres`, for reports.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// The URL of a fresh, empty database of `backend` (a SQLite file in `directory`).
pub async fn fresh_database_url(backend: &Backend, directory: &std::path::Path) -> String {
    match backend {
        Backend::Postgres(server_url) => {
            sqlx::any::install_default_drivers();
            let name = format!("test_{}", uuid::Uuid::new_v4().simple());
            let mut connection = sqlx::AnyConnection::connect(server_url)
                .await
                .expect("connect to UPDRAFT_TEST_POSTGRES");
            connection
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create a test database");
            let without_query = server_url.split('?').next().unwrap_or(server_url);
            let (server, _database) = without_query
                .rsplit_once('/')
                .expect("UPDRAFT_TEST_POSTGRES names a database");
            format!("{server}/{name}")
        }
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            directory.join("updraft.db").display()
        ),
    }
}
