//! Instants and durations in tables and headers.

use leptos::prelude::*;

use crate::time::{format_duration, format_utc};

/// An instant: UTC from the server, then the browser's local time with a
/// relative hint ("5 minutes ago") once the page is hydrated.
#[component]
pub fn LocalTime(epoch_millis: i64) -> impl IntoView {
    let utc = format_utc(epoch_millis);
    let (text, set_text) = signal(utc.clone());
    let (hint, set_hint) = signal(String::new());
    // Effects run only in the browser, where the local time zone is known.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let now = js_sys::Date::now() as i64;
            set_text.set(format_local(epoch_millis));
            set_hint.set(crate::time::format_relative(epoch_millis, now));
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (set_text, set_hint);
        }
    });
    view! {
        <time datetime=iso_8601(epoch_millis) title=utc class="whitespace-nowrap">
            {move || text.get()}
            <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">
                {move || { let hint = hint.get(); if hint.is_empty() { String::new() } else { format!("({hint})") } }}
            </span>
        </time>
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
