//! Loading, empty and error states, each telling the person what to do next.

use leptos::prelude::*;

use crate::components::styles;
use crate::error::ConsoleError;

/// Shown while data loads.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! {
        <p class="animate-pulse py-8 text-sm text-slate-500 dark:text-slate-400" role="status">
            {format!("Loading {what}…")}
        </p>
    }
}

/// Shown when a list has nothing in it; `children` say how to fill it.
#[component]
pub fn EmptyState(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-dashed border-slate-300 p-8 text-center dark:border-slate-700">
            <h2 class="text-base font-semibold">{title}</h2>
            <div class="mx-auto mt-2 max-w-xl text-sm text-slate-600 dark:text-slate-400">{children()}</div>
        </section>
    }
}

/// Shown when a call failed.
#[component]
pub fn ErrorNotice(error: ConsoleError) -> impl IntoView {
    let sign_in = (error == ConsoleError::NotSignedIn).then(|| {
        let location = leptos_router::hooks::use_location();
        let href = move || {
            let here = format!("{}{}", location.pathname.get(), location.search.get());
            format!(
                "/auth/login?return_to={}",
                crate::pages::encode_component(&here)
            )
        };
        view! { " " <a href=href class="font-medium underline">"Sign in again"</a> }
    });
    view! {
        <div role="alert" class=styles::ALERT>
            {error.to_string()}
            {sign_in}
        </div>
    }
}

/// A command a person can copy.
#[component]
pub fn CommandLine(#[prop(into)] command: String) -> impl IntoView {
    view! {
        <pre class="mt-3 overflow-x-auto rounded-md bg-slate-900 px-3 py-2 text-left font-mono text-xs text-slate-100"><code>{command}</code></pre>
    }
}
