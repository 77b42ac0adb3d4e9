//! The project dashboard's chart: executions of the last days, stacked by
//! phase. Drawn with plain elements, so the server renders it whole; a table
//! with the same numbers is there for screen readers.

use leptos::prelude::*;

use crate::api::PhaseChart;
use crate::components::phase::{PhaseTone, phase_tone};

/// The families of phases the chart stacks, bottom first.
const TONES: [(PhaseTone, &str, &str); 6] = [
    (PhaseTone::Succeeded, "Succeeded", "bg-emerald-500"),
    (PhaseTone::Failed, "Failed", "bg-red-500"),
    (PhaseTone::Aborted, "Aborted", "bg-slate-400"),
    (PhaseTone::Running, "Running", "bg-sky-500"),
    (PhaseTone::Waiting, "Queued", "bg-amber-400"),
    (PhaseTone::Neutral, "Other", "bg-slate-300"),
];

/// How many executions of each family in `phases`, in [`TONES`] order.
fn tone_counts(phases: &[(String, u32)]) -> [u32; TONES.len()] {
    let mut counts = [0; TONES.len()];
    for (phase, count) in phases {
        let tone = phase_tone(phase);
        if let Some(at) = TONES
            .iter()
            .position(|(candidate, _, _)| *candidate == tone)
        {
            counts[at] += count;
        }
    }
    counts
}

/// `12-04` for the UTC day starting at `day_millis`.
fn day_label(day_millis: i64) -> String {
    crate::time::format_rfc3339(day_millis)[5..10].to_string()
}

#[component]
pub fn PhaseChartView(chart: PhaseChart) -> impl IntoView {
    let days: Vec<(String, [u32; TONES.len()])> = chart
        .days
        .iter()
        .map(|(day, phases)| (day_label(*day), tone_counts(phases)))
        .collect();
    let busiest = days
        .iter()
        .map(|(_, counts)| counts.iter().sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1);
    let total: u32 = days.iter().flat_map(|(_, counts)| counts).sum();
    let bars = days
        .iter()
        .map(|(label, counts)| {
            let day_total: u32 = counts.iter().sum();
            let segments = TONES
                .iter()
                .zip(counts)
                .filter(|(_, count)| **count > 0)
                .map(|((_, name, colour), count)| {
                    let height = format!("height: {}%", f64::from(*count) * 100.0 / f64::from(busiest));
                    view! { <div class=*colour style=height title=format!("{name}: {count}")></div> }
                })
                .collect_view();
            view! {
                <div class="flex flex-1 flex-col items-center gap-1">
                    <span class="text-xs tabular-nums text-slate-500 dark:text-slate-400">{day_total}</span>
                    <div class="flex h-32 w-full max-w-12 flex-col-reverse overflow-hidden rounded-sm bg-slate-100 dark:bg-slate-800">
                        {segments}
                    </div>
                    <span class="text-xs tabular-nums text-slate-500 dark:text-slate-400">{label.clone()}</span>
                </div>
            }
        })
        .collect_view();
    let rows = days
        .iter()
        .map(|(label, counts)| {
            let cells = counts
                .iter()
                .map(|count| view! { <td>{*count}</td> })
                .collect_view();
            view! { <tr><th scope="row">{label.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    let headers = TONES
        .iter()
        .map(|(_, name, _)| view! { <th scope="col">{*name}</th> })
        .collect_view();
    let legend = TONES
        .iter()
        .map(|(_, name, colour)| {
            view! {
                <li class="flex items-center gap-1">
                    <span class=format!("inline-block h-2.5 w-2.5 rounded-sm {colour}")></span>
                    {*name}
                </li>
            }
        })
        .collect_view();
    view! {
        <figure class="mt-3">
            <div aria-hidden="true" class="flex items-end gap-2">{bars}</div>
            <table class="sr-only">
                <caption>"Executions per day (UTC), by phase"</caption>
                <thead><tr><th scope="col">"Day"</th>{headers}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <figcaption class="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-slate-600 dark:text-slate-300">
                <span>{format!(
                    "{total} {} created in the last {} days (UTC)",
                    if total == 1 { "execution" } else { "executions" },
                    days.len()
                )}</span>
                {chart.capped.then(|| view! { <span>"(the most recent only: the project has more)"</span> })}
                <ul class="flex flex-wrap gap-3" aria-hidden="true">{legend}</ul>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_fold_into_their_families() {
        let counts = tone_counts(&[
            ("SUCCEEDED".into(), 3),
            ("RECOVERED".into(), 1),
            ("FAILED".into(), 2),
            ("TIMED_OUT".into(), 1),
            ("QUEUED".into(), 4),
        ]);
        assert_eq!(counts, [4, 3, 0, 0, 4, 0]);
    }

    #[test]
    fn days_are_labelled_month_and_day() {
        assert_eq!(day_label(1_796_342_400_000), "12-04");
    }
}
