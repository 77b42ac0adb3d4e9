//! Building blocks shared by the pages: one set of Tailwind components.

pub mod layout;
pub mod states;
pub mod theme;
