//! Phase badges: colour plus text (never colour alone) for execution and node phases.

use leptos::prelude::*;

/// How a phase is drawn; one per family of phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseTone {
    Waiting,
    Running,
    Succeeded,
    Failed,
    Aborted,
    Neutral,
}

/// Groups Flyte's phase names (`RUNNING`, `TIMED_OUT`, …) into tones.
pub fn phase_tone(phase: &str) -> PhaseTone {
    match phase {
        "QUEUED" | "UNDEFINED" | "INITIALIZING" | "WAITING_FOR_RESOURCES" | "NOT_STARTED" => {
            PhaseTone::Waiting
        }
        "RUNNING" | "DYNAMIC_RUNNING" | "SUCCEEDING" | "FAILING" | "ABORTING" => PhaseTone::Running,
        "SUCCEEDED" | "RECOVERED" => PhaseTone::Succeeded,
        "FAILED" | "TIMED_OUT" => PhaseTone::Failed,
        "ABORTED" => PhaseTone::Aborted,
        _ => PhaseTone::Neutral,
    }
}

/// `TIMED_OUT` → `Timed out`.
pub fn phase_label(phase: &str) -> String {
    let lower = phase.to_ascii_lowercase().replace('_', " ");
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Unknown".into(),
    }
}

/// Whether an execution in this phase has finished and can no longer change.
pub fn is_terminal_execution_phase(phase: &str) -> bool {
    matches!(
        phase,
        "SUCCEEDED" | "FAILED" | "ABORTED" | "TIMED_OUT" | "RECOVERED"
    )
}

/// The execution phases a person filters by, in lifecycle order.
pub const EXECUTION_PHASES: [&str; 10] = [
    "QUEUED",
    "RUNNING",
    "SUCCEEDING",
    "SUCCEEDED",
    "FAILING",
    "FAILED",
    "ABORTING",
    "ABORTED",
    "TIMED_OUT",
    "UNDEFINED",
];

/// Background, text and ring colours of a tone, light and dark.
pub fn tone_colours(tone: PhaseTone) -> &'static str {
    match tone {
        PhaseTone::Waiting => {
            "bg-amber-100 text-amber-900 ring-amber-300 dark:bg-amber-950 dark:text-amber-200 dark:ring-amber-800"
        }
        PhaseTone::Running => {
            "bg-sky-100 text-sky-900 ring-sky-300 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-800"
        }
        PhaseTone::Succeeded => {
            "bg-emerald-100 text-emerald-900 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-200 dark:ring-emerald-800"
        }
        PhaseTone::Failed => {
            "bg-red-100 text-red-900 ring-red-300 dark:bg-red-950 dark:text-red-200 dark:ring-red-800"
        }
        PhaseTone::Aborted => {
            "bg-slate-200 text-slate-800 ring-slate-400 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-600"
        }
        PhaseTone::Neutral => {
            "bg-slate-100 text-slate-700 ring-slate-300 dark:bg-slate-900 dark:text-slate-300 dark:ring-slate-700"
        }
    }
}

/// The shape drawn beside a phase, so colour is never the only cue.
pub fn tone_symbol(tone: PhaseTone) -> &'static str {
    match tone {
        PhaseTone::Waiting => "◷",
        PhaseTone::Running => "▶",
        PhaseTone::Succeeded => "✓",
        PhaseTone::Failed => "✕",
        PhaseTone::Aborted => "■",
        PhaseTone::Neutral => "•",
    }
}

/// A rounded badge with a shape and the phase's name.
#[component]
pub fn PhaseBadge(#[prop(into)] phase: String) -> impl IntoView {
    let tone = phase_tone(&phase);
    view! {
        <span
            class=format!("inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", tone_colours(tone))
            data-phase=phase.clone()
        >
            <span aria-hidden="true">{tone_symbol(tone)}</span>
            {phase_label(&phase)}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_groups_phases() {
        assert_eq!(phase_label("TIMED_OUT"), "Timed out");
        assert_eq!(phase_label("SUCCEEDED"), "Succeeded");
        assert_eq!(phase_tone("TIMED_OUT"), PhaseTone::Failed);
        assert_eq!(phase_tone("DYNAMIC_RUNNING"), PhaseTone::Running);
        assert!(is_terminal_execution_phase("ABORTED"));
        assert!(!is_terminal_execution_phase("ABORTING"));
    }
}
