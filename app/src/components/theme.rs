//! The light/dark switch. The choice is kept in `localStorage` and applied
//! before first paint by the shell's bootstrap script.

use crate::components::styles;
use leptos::prelude::*;

/// A button that flips between light and dark themes.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    // The server cannot know the browser's preference; the button's label is
    // corrected as soon as the page hydrates.
    let (dark, set_dark) = signal(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let is_dark = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
                .is_some_and(|root| root.class_list().contains("dark"));
            set_dark.set(is_dark);
        }
    });
    let toggle = move |_| {
        let next = !dark.get_untracked();
        set_dark.set(next);
        #[cfg(feature = "hydrate")]
        {
            if let Some(window) = web_sys::window() {
                if let Some(root) = window.document().and_then(|d| d.document_element()) {
                    let _ = root.class_list().toggle_with_force("dark", next);
                }
                if let Ok(Some(storage)) = window.local_storage() {
                    let _ = storage.set_item("updraft-theme", if next { "dark" } else { "light" });
                }
            }
        }
    };
    view! {
        <button
            type="button"
            class=styles::BUTTON_TOGGLE
            aria-pressed=move || if dark.get() { "true" } else { "false" }
            on:click=toggle
        >
            {move || if dark.get() { "Light theme" } else { "Dark theme" }}
        </button>
    }
}
