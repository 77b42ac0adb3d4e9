//! The inline log viewer: a task attempt's log streamed from the BFF as
//! server-sent events, followed while the task runs, whole once it is done.

use leptos::prelude::*;

/// Most text kept in the page; older lines are dropped past it.
#[cfg(feature = "hydrate")]
const MAX_LOG_CHARS: usize = 2 * 1024 * 1024;

/// Where a log stream stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// Not connected yet (and always, before hydration).
    Connecting,
    /// New text arrives while the attempt runs.
    Following,
    /// The connection dropped; the browser resumes where it stopped.
    Reconnecting,
    /// The attempt finished and all of its log is shown.
    Complete,
    /// There is no log to show here; says why.
    Unavailable(String),
}

/// The log of one attempt, streamed from `url` (an `/api/live/logs/…` stream).
#[component]
pub fn LogViewer(url: String, #[prop(into)] label: String) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let (truncated, set_truncated) = signal(false);
    let (state, set_state) = signal(LogState::Connecting);
    let (follow, set_follow) = signal(true);
    let log = NodeRef::<leptos::html::Pre>::new();
    #[cfg(feature = "hydrate")]
    {
        subscribe(&url, set_text, set_truncated, set_state);
        // Scrolls after the text is in the page: the next frame.
        Effect::new(move |_| {
            text.track();
            if follow.get() {
                request_animation_frame(move || {
                    if let Some(element) = log.get_untracked() {
                        element.set_scroll_top(element.scroll_height());
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, set_text, set_truncated, set_state);
    let on_scroll = move |_| {
        // Scrolling up to read stops following; the toggle turns it back on.
        if let Some(element) = log.get_untracked() {
            let from_bottom =
                element.scroll_height() - element.scroll_top() - element.client_height();
            if from_bottom > 24 && follow.get_untracked() {
                set_follow.set(false);
            }
        }
    };
    let status = move || match state.get() {
        LogState::Connecting => "Connecting to the log…".to_string(),
        LogState::Following => "Following the log while the task runs.".to_string(),
        LogState::Reconnecting => "Connection lost; resuming…".to_string(),
        LogState::Complete if text.with(String::is_empty) => {
            "The attempt wrote nothing to its log.".to_string()
        }
        LogState::Complete => "The attempt has finished; this is its whole log.".to_string(),
        LogState::Unavailable(reason) => format!("No log to show: {reason}."),
    };
    let state_name = move || match state.get() {
        LogState::Connecting => "connecting",
        LogState::Following => "following",
        LogState::Reconnecting => "reconnecting",
        LogState::Complete => "complete",
        LogState::Unavailable(_) => "unavailable",
    };
    view! {
        <div>
            <div class="flex flex-wrap items-center justify-between gap-2 text-sm">
                <p role="status" aria-live="polite" data-log-state=state_name class="text-slate-600 dark:text-slate-400">{status}</p>
                <label class="inline-flex items-center gap-1.5">
                    <input type="checkbox" prop:checked=move || follow.get()
                        on:change=move |event| set_follow.set(event_target_checked(&event))
                        class="h-4 w-4 rounded border-slate-300" />
                    "Follow"
                </label>
            </div>
            {move || truncated.get().then(|| view! {
                <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">"Showing the end of a long log."</p>
            })}
            <pre node_ref=log on:scroll=on_scroll tabindex="0" aria-label=label
                class="mt-1 h-96 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-950 p-3 font-mono text-xs leading-5 text-slate-100">
                {move || text.get()}
            </pre>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn subscribe(
    url: &str,
    set_text: WriteSignal<String>,
    set_truncated: WriteSignal<bool>,
    set_state: WriteSignal<LogState>,
) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    let Ok(source) = EventSource::new(url) else {
        set_state.set(LogState::Unavailable(
            "the browser cannot open the log stream".into(),
        ));
        return;
    };
    // Each event's data is a JSON string.
    fn text_of(event: &MessageEvent) -> String {
        event
            .data()
            .as_string()
            .and_then(|data| js_sys::JSON::parse(&data).ok())
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    }
    let on_log = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let chunk = text_of(&event);
        set_state.set(LogState::Following);
        set_text.update(|text| {
            text.push_str(&chunk);
            if text.len() > MAX_LOG_CHARS {
                let mut cut = text.len() - MAX_LOG_CHARS;
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                text.drain(..cut);
                set_truncated.set(true);
            }
        });
    });
    let on_end = {
        let source = source.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            source.close();
            set_state.set(LogState::Complete);
        })
    };
    let on_unavailable = {
        let source = source.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            source.close();
            set_state.set(LogState::Unavailable(text_of(&event)));
        })
    };
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            // The browser retries by itself (sending Last-Event-ID) unless it
            // gave up.
            if source.ready_state() == EventSource::CLOSED {
                set_state.set(LogState::Unavailable(
                    "the connection to the console was lost; reopen the node".into(),
                ));
            } else {
                set_state.set(LogState::Reconnecting);
            }
        })
    };
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    for (name, handler) in [
        ("log", &on_log),
        ("end", &on_end),
        ("unavailable", &on_unavailable),
    ] {
        let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    }
    let subscription = StoredValue::new_local((source, [on_log, on_end, on_unavailable, on_error]));
    on_cleanup(move || {
        subscription.with_value(|(source, _)| source.close());
        subscription.dispose();
    });
}
