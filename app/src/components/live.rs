//! Live pages: a server-sent event stream from the BFF says when what a page
//! shows has changed, and the page refetches. The indicator tells the person
//! whether they are looking at live data.

use leptos::prelude::*;

/// The state of a page's live connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveState {
    /// Not connected yet (and always, before hydration).
    Connecting,
    /// Changes arrive as they happen.
    Live,
    /// The connection dropped; the browser is reconnecting.
    Reconnecting,
    /// The BFF cannot reach the control plane; what is shown may be old.
    Stale,
    /// Nothing more will change (the execution has ended).
    Final,
}

/// Subscribes to `url` (an `/api/live/…` stream) while the calling component
/// lives. Returns a counter that goes up on every change, for resources to
/// key on, and the connection's state.
pub fn use_live_updates(
    url: impl Fn() -> String + Send + Sync + 'static,
) -> (ReadSignal<u64>, ReadSignal<LiveState>) {
    let (changes, set_changes) = signal(0u64);
    let (state, set_state) = signal(LiveState::Connecting);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let url = url();
        subscribe(&url, set_changes, (state, set_state));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, set_changes, set_state);
    (changes, state)
}

/// How long the browser may keep reconnecting before the page says it is
/// not updating: a server that refuses connections is retried for ever.
#[cfg(feature = "hydrate")]
const RECONNECTING_AT_MOST: std::time::Duration = std::time::Duration::from_secs(20);

#[cfg(feature = "hydrate")]
fn subscribe(
    url: &str,
    set_changes: WriteSignal<u64>,
    (state, set_state): (ReadSignal<LiveState>, WriteSignal<LiveState>),
) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::EventSource;

    let Ok(source) = EventSource::new(url) else {
        set_state.set(LiveState::Stale);
        return;
    };
    // Each spell of reconnecting has its own number: a timer left from an
    // earlier one must not end a later one early.
    let reconnecting_spell = StoredValue::new(0u64);
    let on_open = Closure::<dyn FnMut()>::new(move || {
        reconnecting_spell.update_value(|spell| *spell += 1);
        set_state.set(LiveState::Live);
    });
    let on_change = Closure::<dyn FnMut()>::new(move || {
        set_state.set(LiveState::Live);
        set_changes.update(|count| *count += 1);
    });
    let on_stale = Closure::<dyn FnMut()>::new(move || set_state.set(LiveState::Stale));
    let on_end = {
        let source = source.clone();
        Closure::<dyn FnMut()>::new(move || {
            source.close();
            set_state.set(LiveState::Final);
        })
    };
    let on_error = {
        let source = source.clone();
        Closure::<dyn FnMut()>::new(move || {
            // The browser retries by itself unless it gave up (CLOSED).
            if source.ready_state() == EventSource::CLOSED {
                set_state.set(LiveState::Stale);
            } else if matches!(
                state.get_untracked(),
                LiveState::Connecting | LiveState::Live
            ) {
                // A page already stale stays so until a connection opens.
                set_state.set(LiveState::Reconnecting);
                reconnecting_spell.update_value(|spell| *spell += 1);
                let spell = reconnecting_spell.get_value();
                set_timeout(
                    move || {
                        if reconnecting_spell.try_get_value() == Some(spell)
                            && state.try_get_untracked() == Some(LiveState::Reconnecting)
                        {
                            set_state.try_set(LiveState::Stale);
                        }
                    },
                    RECONNECTING_AT_MOST,
                );
            }
        })
    };
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    for (name, handler) in [
        ("change", &on_change),
        ("stale", &on_stale),
        ("end", &on_end),
        ("gone", &on_end),
    ] {
        let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    }
    // The handlers live exactly as long as the subscription.
    let subscription =
        StoredValue::new_local((source, [on_open, on_change, on_stale, on_end, on_error]));
    on_cleanup(move || {
        subscription.with_value(|(source, _)| source.close());
        subscription.dispose();
    });
}

/// A small pill: live, reconnecting, or stale with what to do.
#[component]
pub fn LiveIndicator(state: ReadSignal<LiveState>) -> impl IntoView {
    let text = move || match state.get() {
        LiveState::Connecting | LiveState::Final => "",
        LiveState::Live => "Live",
        LiveState::Reconnecting => "Reconnecting…",
        LiveState::Stale => "Not updating: reload the page",
    };
    let class = move || {
        let colours = match state.get() {
            LiveState::Live => {
                "bg-emerald-50 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
            }
            LiveState::Reconnecting => {
                "bg-amber-50 text-amber-800 dark:bg-amber-950 dark:text-amber-200"
            }
            LiveState::Stale => "bg-red-50 text-red-800 dark:bg-red-950 dark:text-red-200",
            LiveState::Connecting | LiveState::Final => "hidden",
        };
        format!(
            "inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium {colours}"
        )
    };
    let live_attribute = move || format!("{:?}", state.get()).to_lowercase();
    view! {
        <span role="status" aria-live="polite" class=class data-live=live_attribute>
            <span aria-hidden="true" class="h-1.5 w-1.5 rounded-full bg-current"></span>
            {text}
        </span>
    }
}
