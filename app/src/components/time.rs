//! Instants and durations in tables and headers.

use leptos::prelude::*;

use crate::components::styles;
use crate::time::{format_duration, format_utc};

/// How the console shows instants: in the browser's time zone or in UTC
/// (the person's choice, kept in `localStorage`), and the clock that keeps
/// relative hints ("5 minutes ago") current.
#[derive(Clone, Copy)]
pub struct TimeDisplay {
    pub utc: RwSignal<bool>,
    /// Milliseconds since the epoch, ticking every 30 s once hydrated; 0 on
    /// the server, whose render (UTC, no hint) hydration must match.
    now: RwSignal<i64>,
}

/// Where the choice of UTC is kept.
#[cfg(feature = "hydrate")]
const UTC_CHOICE_KEY: &str = "updraft-times";

/// Provides the [`TimeDisplay`] every [`LocalTime`] reads.
pub fn provide_time_display() {
    let display = TimeDisplay {
        utc: RwSignal::new(false),
        now: RwSignal::new(0),
    };
    // Effects run only in the browser, where the local time zone is known.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let stored = web_sys::window()
                .and_then(|w| w.local_storage().ok().flatten())
                .and_then(|storage| storage.get_item(UTC_CHOICE_KEY).ok().flatten());
            display.utc.set(stored.as_deref() == Some("utc"));
            display.now.set(js_sys::Date::now() as i64);
            set_interval(
                move || display.now.set(js_sys::Date::now() as i64),
                std::time::Duration::from_secs(30),
            );
        }
    });
    provide_context(display);
}

/// An instant: UTC from the server, then (once hydrated) the browser's local
/// time or UTC as the person chose, with a relative hint.
#[component]
pub fn LocalTime(epoch_millis: i64) -> impl IntoView {
    let utc = format_utc(epoch_millis);
    let display = use_context::<TimeDisplay>();
    let now = move || display.map_or(0, |display| display.now.get());
    let text = {
        let utc = utc.clone();
        move || {
            let in_utc = display.is_none_or(|display| display.utc.get());
            if now() == 0 || in_utc {
                return utc.clone();
            }
            #[cfg(feature = "hydrate")]
            {
                format_local(epoch_millis)
            }
            #[cfg(not(feature = "hydrate"))]
            {
                utc.clone()
            }
        }
    };
    let hint = move || match now() {
        0 => String::new(),
        now => format!("({})", crate::time::format_relative(epoch_millis, now)),
    };
    view! {
        <time datetime=iso_8601(epoch_millis) title=utc class="whitespace-nowrap">
            {text}
            <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">{hint}</span>
        </time>
    }
}

/// A button that switches every time on the page between the browser's
/// time zone and UTC.
#[component]
pub fn TimeZoneToggle() -> impl IntoView {
    let display = use_context::<TimeDisplay>();
    let in_utc = move || display.is_some_and(|display| display.utc.get());
    let toggle = move |_| {
        let Some(display) = display else {
            return;
        };
        let next = !display.utc.get_untracked();
        display.utc.set(next);
        #[cfg(feature = "hydrate")]
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(UTC_CHOICE_KEY, if next { "utc" } else { "local" });
        }
    };
    view! {
        <button
            type="button"
            title="Show times in UTC instead of this browser's time zone"
            class=styles::BUTTON_TOGGLE
            aria-pressed=move || if in_utc() { "true" } else { "false" }
            on:click=toggle
        >
            "UTC times"
        </button>
    }
}

/// A duration, or a dash when there is none yet.
#[component]
pub fn DurationText(millis: Option<i64>) -> impl IntoView {
    match millis {
        Some(millis) => {
            view! { <span class="whitespace-nowrap tabular-nums">{format_duration(millis)}</span> }
                .into_any()
        }
        None => view! { <span class="text-slate-400" aria-label="no duration yet">"—"</span> }
            .into_any(),
    }
}

fn iso_8601(epoch_millis: i64) -> String {
    // `2026-11-22 00:50:30 UTC` → `2026-11-22T00:50:30Z`.
    format_utc(epoch_millis)
        .trim_end_matches(" UTC")
        .replacen(' ', "T", 1)
        + "Z"
}

#[cfg(feature = "hydrate")]
fn format_local(epoch_millis: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(epoch_millis as f64));
    let offset_minutes = -(date.get_timezone_offset() as i64);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC{sign}{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds(),
        offset_minutes.abs() / 60,
        offset_minutes.abs() % 60
    )
}
