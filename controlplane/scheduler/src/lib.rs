//! The scheduler: launches the launch plans whose schedule is active, at
//! each cron or fixed-rate time, by calling admin's `CreateExecution` as
//! flytescheduler does, so the executions look the same (`f…000` names
//! derived from the launch plan and the scheduled time, mode SCHEDULED,
//! `scheduled_at`, the kickoff time input of cron schedules).
//!
//! Admin validates a schedule when a launch plan is registered
//! ([`Schedule::from_proto`]) and writes it, in the transaction that
//! (de)activates the launch plan, to the scheduler's table
//! ([`store::activate_schedule`], [`store::deactivate_schedule`]). The
//! [`Scheduler`] reads that table, fires each schedule on its own task, and
//! records per schedule the last time it launched, so a restart catches up
//! on the times it missed and launches none twice (admin refuses a second
//! execution of the same name, which counts as launched). Of several
//! schedulers on one database only the one holding the lease launches.

pub mod cron;
pub mod execution_names;
pub mod scheduler;
pub mod schedules;
pub mod store;

pub use scheduler::{Scheduler, SchedulerSettings, SchedulerStatus};
pub use schedules::{
    CronOffset, InvalidSchedule, LaunchPlanVersion, Schedule, ScheduleRules, Timing,
};
pub use store::{ActiveSchedule, ScheduleStore, StoreError};
