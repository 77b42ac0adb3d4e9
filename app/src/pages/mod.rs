//! One module per page.

pub mod entity_list;
pub mod home;
pub mod not_found;
pub mod project;
