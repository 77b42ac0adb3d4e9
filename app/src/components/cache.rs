//! Task caching on the execution page: a badge per node and map index saying
//! what the cache did, and the confirmed evict actions.

use leptos::prelude::*;

use crate::api::{CacheStatus, EvictionOutcome};
use crate::components::states::ErrorNotice;
use crate::components::styles;
use crate::error::ConsoleError;

/// Background, text and ring colours of a status: green where the cache
/// saved a run, sky where it was filled, red where it failed, grey for the
/// rest.
fn status_colours(status: CacheStatus) -> &'static str {
    match status {
        CacheStatus::Hit => {
            "bg-emerald-100 text-emerald-900 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-200 dark:ring-emerald-800"
        }
        CacheStatus::Populated => {
            "bg-sky-100 text-sky-900 ring-sky-300 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-800"
        }
        CacheStatus::LookupFailure | CacheStatus::PutFailure => {
            "bg-red-100 text-red-900 ring-red-300 dark:bg-red-950 dark:text-red-200 dark:ring-red-800"
        }
        CacheStatus::Miss | CacheStatus::Skipped | CacheStatus::Evicted => {
            "bg-slate-100 text-slate-700 ring-slate-300 dark:bg-slate-900 dark:text-slate-300 dark:ring-slate-700"
        }
        CacheStatus::Disabled => "text-slate-500 ring-transparent dark:text-slate-400",
    }
}

/// A badge with the status's shape and label; hovering (or a screen
/// reader) gives what it means.
#[component]
pub fn CacheBadge(status: CacheStatus) -> impl IntoView {
    let meaning = status.meaning();
    view! {
        <span title=meaning data-cache-status=status.name()
            class=format!("inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", status_colours(status))>
            <span aria-hidden="true">{status.symbol()}</span>
            {status.label()}
            <span class="sr-only">{format!(": {meaning}")}</span>
        </span>
    }
}

/// "2 from cache, 1 cached": how many of a map task's indexes had each
/// status, or `None` when none reported one.
pub fn cache_counts(statuses: impl IntoIterator<Item = CacheStatus>) -> Option<String> {
    let statuses: Vec<CacheStatus> = statuses.into_iter().collect();
    let counts: Vec<String> = CacheStatus::ALL
        .into_iter()
        .filter_map(|status| {
            let count = statuses.iter().filter(|seen| **seen == status).count();
            (count > 0).then(|| format!("{count} {}", status.label().to_lowercase()))
        })
        .collect();
    (!counts.is_empty()).then(|| counts.join(", "))
}

/// An eviction that asks first: the button opens a question with "Yes,
/// evict" and "Cancel"; the outcome (or why it failed) shows below.
#[component]
pub fn ConfirmedEviction(
    /// The button's label.
    label: &'static str,
    /// What the question says will happen.
    #[prop(into)]
    question: String,
    /// Said when the catalog had nothing left to evict.
    nothing_left: &'static str,
    pending: Signal<bool>,
    outcome: Signal<Option<Result<EvictionOutcome, ConsoleError>>>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    view! {
        <div class="text-sm">
            <button type="button" disabled=move || pending.get()
                aria-expanded=move || if asking.get() { "true" } else { "false" }
                on:click=move |_| asking.update(|asking| *asking = !*asking)
                class=styles::BUTTON_SECONDARY>
                {move || if pending.get() { "Evicting…".to_string() } else { format!("{label}…") }}
            </button>
            {move || asking.get().then(|| view! {
                <div role="group" aria-label=format!("Confirm: {label}")
                    class="mt-2 max-w-md rounded-lg border border-amber-300 bg-amber-50 p-3 dark:border-amber-800 dark:bg-amber-950">
                    <p>{question.clone()}</p>
                    <div class="mt-2 flex gap-2">
                        <button type="button"
                            on:click=move |_| {
                                asking.set(false);
                                on_confirm.run(());
                            }
                            class=styles::BUTTON_DANGER>"Yes, evict"</button>
                        <button type="button" on:click=move |_| asking.set(false)
                            class="rounded-md px-3 py-1.5 text-sm hover:bg-slate-100 dark:hover:bg-slate-800">"Cancel"</button>
                    </div>
                </div>
            })}
            {move || outcome.get().map(|result| match result {
                Ok(evicted) => view! {
                    <p role="status" class="mt-2">{evicted.message(nothing_left)}</p>
                }.into_any(),
                Err(error) => view! { <div class="mt-2 max-w-md"><ErrorNotice error /></div> }.into_any(),
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::cache_counts;
    use crate::api::CacheStatus;

    #[test]
    fn counts_list_each_status_seen_in_a_fixed_order() {
        assert_eq!(cache_counts([]), None);
        assert_eq!(
            cache_counts([CacheStatus::Populated, CacheStatus::Hit, CacheStatus::Hit]).as_deref(),
            Some("2 from cache, 1 cached")
        );
    }
}
