//! Tables of typed variables (an interface) and of values (inputs, outputs).

use leptos::prelude::*;

use crate::literals::{LiteralValue, NamedValue, TypedVariable};

/// An interface's inputs or outputs: name, type, default, description.
#[component]
pub fn VariableTable(
    #[prop(into)] caption: String,
    variables: Vec<TypedVariable>,
    #[prop(optional)] show_defaults: bool,
) -> impl IntoView {
    if variables.is_empty() {
        return view! {
            <p class="text-sm text-slate-500 dark:text-slate-400">{format!("No {}.", caption.to_lowercase())}</p>
        }
        .into_any();
    }
    view! {
        <table class="w-full text-left text-sm">
            <caption class="sr-only">{caption}</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="py-2 pr-4">"Name"</th>
                    <th scope="col" class="py-2 pr-4">"Type"</th>
                    {show_defaults.then(|| view! { <th scope="col" class="py-2 pr-4">"Default"</th> })}
                    <th scope="col" class="py-2">"Description"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                {variables.into_iter().map(|variable| view! {
                    <tr>
                        <td class="py-2 pr-4 font-mono">{variable.name}</td>
                        <td class="py-2 pr-4"><code class="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">{variable.type_name}</code></td>
                        {show_defaults.then(|| {
                            let default = match (&variable.default, variable.required) {
                                (Some(value), _) => value.to_inline(),
                                (None, true) => "required".to_string(),
                                (None, false) => "—".to_string(),
                            };
                            view! { <td class="py-2 pr-4 font-mono text-xs">{default}</td> }
                        })}
                        <td class="py-2 text-slate-600 dark:text-slate-400">{variable.description}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Named values (an execution's inputs or outputs), long ones over several lines.
#[component]
pub fn ValueTable(#[prop(into)] caption: String, values: Vec<NamedValue>) -> impl IntoView {
    view! {
        <table class="w-full text-left text-sm">
            <caption class="sr-only">{caption}</caption>
            <thead class="text-xs uppercase text-slate-500 dark:text-slate-400">
                <tr>
                    <th scope="col" class="w-48 py-2 pr-4">"Name"</th>
                    <th scope="col" class="py-2">"Value"</th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-200 dark:divide-slate-800">
                {values.into_iter().map(|named| view! {
                    <tr class="align-top">
                        <th scope="row" class="py-2 pr-4 font-mono font-normal">{named.name}</th>
                        <td class="py-2"><ValueText value=named.value /></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// One value: short ones inline, long ones pretty-printed.
#[component]
pub fn ValueText(value: LiteralValue) -> impl IntoView {
    let display = value.to_display();
    if display.len() <= 72 && !display.contains('\n') {
        view! { <code class="break-all font-mono text-xs">{display}</code> }.into_any()
    } else {
        let pretty = match &value {
            LiteralValue::String(text) => text.clone(),
            other => other.to_pretty(),
        };
        view! {
            <pre class="max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-100 p-2 font-mono text-xs dark:bg-slate-900">{pretty}</pre>
        }
        .into_any()
    }
}
