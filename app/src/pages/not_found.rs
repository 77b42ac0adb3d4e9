use leptos::prelude::*;
use leptos_meta::Title;

/// Any URL the console does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http_status_not_found());
        }
    }
    view! {
        <Title text="Not found" />
        <section class="py-16 text-center">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600 dark:text-slate-400">"There is nothing at this address."</p>
            <a href="/console" class="mt-4 inline-block text-sky-700 underline dark:text-sky-400">"Go to the projects"</a>
        </section>
    }
}

#[cfg(feature = "ssr")]
fn http_status_not_found() -> http::StatusCode {
    http::StatusCode::NOT_FOUND
}
