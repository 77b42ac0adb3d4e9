//! `sqlx::migrate!` embeds the migration files at compile time; without this a
//! new migration is silently left out until some source file changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
