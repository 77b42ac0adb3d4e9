//! Building blocks shared by the pages: one set of Tailwind components.

pub mod access;
pub mod cache;
pub mod graph;
pub mod layout;
pub mod live;
pub mod logs;
pub mod phase;
pub mod phase_chart;
pub mod shortcuts;
pub mod states;
pub mod styles;
pub mod theme;
pub mod time;
pub mod timeline;
pub mod values;
