//! `/console/projects/{project}/domains/{domain}/{kind}/{name}/launch`: a form
//! typed by the interface, checked field by field before anything is sent.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::{
    EntityKind, LaunchField, LaunchForm, LaunchOptions, LaunchRequest, get_launch_form,
    launch_execution,
};
use crate::components::access::NeedsRole;
use crate::components::states::{ErrorNotice, Loading};
use crate::components::styles;
use crate::components::values::ValueTable;
use crate::launch::InputKind;
use crate::pages::not_found::NotFoundPage;
use crate::pages::project::{ProjectHeader, use_project_domain};
use crate::pages::{encode_component, project_path, use_query_value};

#[component]
pub fn LaunchPage() -> impl IntoView {
    let params = use_params_map();
    let kind = Memo::new(move |_| {
        params.with(|p| EntityKind::from_route_segment(&p.get("kind").unwrap_or_default()))
    });
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    move || match kind.get() {
        Some(kind) => view! { <Launch kind name /> }.into_any(),
        None => view! { <NotFoundPage /> }.into_any(),
    }
}

#[component]
fn Launch(kind: EntityKind, name: Memo<String>) -> impl IntoView {
    let (project, domain) = use_project_domain();
    let relaunch_of = use_query_value("relaunch");
    // A version page launches its own version, not the newest.
    let version = use_query_value("version");
    let form = Resource::new(
        move || {
            (
                project.get(),
                domain.get(),
                name.get(),
                version.get(),
                relaunch_of.get(),
            )
        },
        move |(project, domain, name, version, relaunch_of)| {
            get_launch_form(project, domain, kind, name, version, relaunch_of)
        },
    );
    let detail_href = move || {
        project_path(
            &project.get(),
            &domain.get(),
            &format!(
                "/{}/{}",
                kind.route_segment(),
                encode_component(&name.get())
            ),
        )
    };
    view! {
        <Title text=move || format!("Launch {}", name.get()) />
        <ProjectHeader />
        <nav aria-label="Breadcrumb" class="mt-6 text-sm text-slate-500 dark:text-slate-400">
            <a href=detail_href class="text-sky-700 hover:underline dark:text-sky-400">{move || name.get()}</a>
            <span aria-hidden="true">" / "</span>
            <span aria-current="page">"Launch"</span>
        </nav>
        <h2 class="mt-2 text-xl font-semibold tracking-tight">
            {format!("Launch {} ", kind.singular())}
            <span class="break-all font-mono text-lg">{move || name.get()}</span>
        </h2>
        <Transition fallback=move || view! { <Loading what="the form" /> }>
            {move || Suspend::new(async move {
                match form.await {
                    Ok(form) => view! { <LaunchFormView form project=project.get_untracked() domain=domain.get_untracked() /> }.into_any(),
                    Err(error) => view! { <div class="mt-4"><ErrorNotice error /></div> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One field's state: its text and, once checked, why it is refused.
#[derive(Clone, Copy)]
struct FieldState {
    text: RwSignal<String>,
    error: RwSignal<Option<String>>,
}

fn check(field: &LaunchField, text: &str) -> Option<String> {
    match field.kind.parse_field(text) {
        Err(reason) => Some(reason),
        Ok(None) if field.required && field.default_text.is_none() => Some("required".to_string()),
        Ok(_) => None,
    }
}

#[component]
fn LaunchFormView(form: LaunchForm, project: String, domain: String) -> impl IntoView {
    let LaunchForm {
        target,
        target_is_task,
        fields,
        fixed_inputs,
        relaunch_of,
        options,
    } = form;
    let form_fields: Vec<FormField> = fields
        .into_iter()
        .map(|field| {
            let initial = field.default_text.clone();
            FormField::new(field, initial)
        })
        .collect();
    let labels = RwSignal::new(options.labels);
    let annotations = RwSignal::new(options.annotations);
    let raw_output_prefix = RwSignal::new(options.raw_output_prefix);
    let max_parallelism = RwSignal::new(options.max_parallelism);
    let service_account = RwSignal::new(options.service_account);
    let overwrite_cache = RwSignal::new(options.overwrite_cache);
    let launch = Action::new(|request: &LaunchRequest| launch_execution(request.clone()));
    let navigate = use_navigate();

    let version_note = format!(
        "{} version {}",
        if target_is_task {
            "Task"
        } else {
            "Launch plan"
        },
        target.version
    );
    let fields_for_submit = form_fields.clone();
    let (submit_project, submit_domain) = (project.clone(), domain.clone());
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let mut first_invalid = None;
        for field in &fields_for_submit {
            field.check_all(&mut first_invalid);
        }
        if let Some(name) = first_invalid {
            focus_field(&name);
            return;
        }
        launch.dispatch(LaunchRequest {
            project: submit_project.clone(),
            domain: submit_domain.clone(),
            name: target.name.clone(),
            version: target.version.clone(),
            target_is_task,
            inputs: fields_for_submit
                .iter()
                .map(|field| (field.name().to_string(), field.text()))
                .collect(),
            union_variants: fields_for_submit
                .iter()
                .filter_map(FormField::chosen_variant)
                .collect(),
            options: LaunchOptions {
                labels: labels.get_untracked(),
                annotations: annotations.get_untracked(),
                raw_output_prefix: raw_output_prefix.get_untracked(),
                max_parallelism: max_parallelism.get_untracked(),
                overwrite_cache: overwrite_cache.get_untracked(),
                service_account: service_account.get_untracked(),
            },
            relaunch_of: relaunch_of.clone().unwrap_or_default(),
        });
    };
    Effect::new(move |_| {
        if let Some(Ok(execution)) = launch.value().get() {
            navigate(
                &project_path(
                    &project,
                    &domain,
                    &format!("/executions/{}", encode_component(&execution)),
                ),
                Default::default(),
            );
        }
    });
    let server_error = move || match launch.value().get() {
        Some(Err(error)) => Some(view! { <div class="mt-4"><ErrorNotice error /></div> }),
        _ => None,
    };
    let has_fields = !form_fields.is_empty();
    view! {
        <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{version_note}</p>
        <form class="mt-6 max-w-3xl space-y-5" on:submit=on_submit novalidate>
            {(!has_fields).then(|| view! { <p class="text-sm">"This takes no inputs."</p> })}
            {form_fields.into_iter().map(render_form_field).collect_view()}
            {(!fixed_inputs.is_empty()).then(|| view! {
                <div>
                    <h3 class="font-medium">"Fixed by the launch plan"</h3>
                    <ValueTable caption="Fixed inputs" values=fixed_inputs />
                </div>
            })}
            <details class="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                <summary class="cursor-pointer font-medium">"Advanced options"</summary>
                <div class="mt-4 grid gap-4 sm:grid-cols-2">
                    <TextOption id="launch-labels" label="Labels" hint="One key=value per line." value=labels multiline=true />
                    <TextOption id="launch-annotations" label="Annotations" hint="One key=value per line." value=annotations multiline=true />
                    <TextOption id="launch-raw-output" label="Raw output prefix" hint="Where large outputs are written, e.g. s3://bucket/prefix." value=raw_output_prefix />
                    <TextOption id="launch-parallelism" label="Max parallelism" hint="Nodes running at once; empty for the default." value=max_parallelism />
                    <TextOption id="launch-service-account" label="Service account" hint="Kubernetes service account the tasks run as." value=service_account />
                    <label class="flex items-center gap-2 self-center text-sm">
                        <input type="checkbox" prop:checked=move || overwrite_cache.get()
                            on:change=move |event| overwrite_cache.set(event_target_checked(&event)) />
                        "Overwrite cached outputs"
                    </label>
                </div>
            </details>
            {server_error}
            <div class="flex items-center gap-3">
                <NeedsRole role="contributor" label="Launch">
                    <button type="submit" disabled=move || launch.pending().get()
                        class=styles::BUTTON_CALL_TO_ACTION>
                        {move || if launch.pending().get() { "Launching…" } else { "Launch" }}
                    </button>
                </NeedsRole>
            </div>
        </form>
    }
}

/// A dataclass's member `settings.limits.cpu` gets `launch-input-settings-limits-cpu`:
/// Python names have no `-`, so ids stay unique and need no CSS escaping.
fn field_id(name: &str) -> String {
    format!("launch-input-{}", name.replace('.', "-"))
}

/// One entry of the form: an input, or a dataclass shown as a group with an
/// input per field (nested dataclasses nest).
#[derive(Clone)]
enum FormField {
    Input {
        field: LaunchField,
        state: FieldState,
    },
    Group {
        field: LaunchField,
        members: Vec<FormField>,
    },
    /// A union: which of its types, and an entry for each type (the chosen
    /// one shown), so switching back keeps what was typed.
    Choice {
        field: LaunchField,
        chosen: RwSignal<usize>,
        options: Vec<FormField>,
    },
}

impl FormField {
    /// `initial` is the text the input starts with. A top-level input's
    /// default is also what the launch plan uses when it is left empty; a
    /// dataclass member's prefill is not (the server gets only what the
    /// group sends), so members carry none and stay required.
    fn new(field: LaunchField, initial: Option<String>) -> Self {
        Self::entry(field, initial, true)
    }

    /// `choose_union_type`: whether a union asks which of its types the
    /// value is. Inside a dataclass it does not: the dataclass travels as
    /// JSON, which flytekit reads as the first type that fits whatever the
    /// form chose, so a choice there would only mislead.
    fn entry(field: LaunchField, initial: Option<String>, choose_union_type: bool) -> Self {
        if let (InputKind::Union(variants), true) = (&field.kind, choose_union_type) {
            // A union's default is in JSON, the syntax it is typed in
            // elsewhere; each type's entry takes its own syntax.
            let default: Option<serde_json::Value> = initial
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok());
            let chosen = field
                .default_variant
                .or_else(|| {
                    default
                        .as_ref()
                        .and_then(|json| field.kind.variant_of_json(json))
                })
                .unwrap_or(0);
            let options = variants
                .iter()
                .enumerate()
                .map(|(index, variant)| {
                    let initial = default
                        .as_ref()
                        .filter(|_| index == chosen)
                        .map(|json| variant.kind.text_from_json(json));
                    FormField::new(
                        LaunchField {
                            name: format!("{}.{index}", field.name),
                            type_name: variant.type_name.clone(),
                            description: String::new(),
                            kind: variant.kind.clone(),
                            required: field.required,
                            // Left empty, the default applies, but only
                            // the default's own type may stand for it: an
                            // empty int must not send a default str.
                            default_text: field.default_text.clone().filter(|_| index == chosen),
                            default_variant: None,
                        },
                        initial,
                    )
                })
                .collect();
            return FormField::Choice {
                field,
                chosen: RwSignal::new(chosen),
                options,
            };
        }
        let InputKind::Record(record) = &field.kind else {
            let initial = initial.unwrap_or_else(|| {
                if field.kind == InputKind::Boolean {
                    "false".into()
                } else {
                    String::new()
                }
            });
            return FormField::Input {
                state: FieldState {
                    text: RwSignal::new(initial),
                    error: RwSignal::new(None),
                },
                field,
            };
        };
        // A whole default (a launch plan's, or the relaunched execution's)
        // wins over the dataclass's own field defaults.
        let whole_default: Option<serde_json::Value> = initial
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok());
        let members = record
            .iter()
            .map(|member| {
                let from_whole = whole_default
                    .as_ref()
                    .and_then(|whole| whole.get(&member.name))
                    .map(|value| member.kind.text_from_json(value));
                FormField::entry(
                    LaunchField {
                        name: format!("{}.{}", field.name, member.name),
                        type_name: member.type_name.clone(),
                        description: String::new(),
                        kind: member.kind.clone(),
                        required: member.required,
                        default_text: None,
                        default_variant: None,
                    },
                    from_whole.or_else(|| member.default_text.clone()),
                    false,
                )
            })
            .collect();
        FormField::Group { field, members }
    }

    fn field(&self) -> &LaunchField {
        match self {
            FormField::Input { field, .. }
            | FormField::Group { field, .. }
            | FormField::Choice { field, .. } => field,
        }
    }

    fn name(&self) -> &str {
        &self.field().name
    }

    /// The entry of the type the person chose, for a union.
    fn chosen_option(&self) -> Option<&FormField> {
        match self {
            FormField::Choice {
                chosen, options, ..
            } => options.get(chosen.get_untracked()),
            _ => None,
        }
    }

    /// A union's name and the type chosen for it, sent with its text.
    fn chosen_variant(&self) -> Option<(String, usize)> {
        match self {
            FormField::Choice { field, chosen, .. } => {
                Some((field.name.clone(), chosen.get_untracked()))
            }
            _ => None,
        }
    }

    /// Checks every input, showing each one's reason, and remembers the
    /// first refused one to move the focus there.
    fn check_all(&self, first_invalid: &mut Option<String>) {
        match self {
            FormField::Input { field, state } => {
                let error = check(field, &state.text.get_untracked());
                if error.is_some() && first_invalid.is_none() {
                    *first_invalid = Some(field.name.clone());
                }
                state.error.set(error);
            }
            FormField::Group { members, .. } => {
                for member in members {
                    member.check_all(first_invalid);
                }
            }
            FormField::Choice { .. } => {
                if let Some(option) = self.chosen_option() {
                    option.check_all(first_invalid);
                }
            }
        }
    }

    /// The value sent for this entry: the input's text, or a dataclass's
    /// fields gathered into one JSON object (empty inputs left out, so the
    /// dataclass's defaults apply).
    fn text(&self) -> String {
        match self {
            FormField::Input { state, .. } => state.text.get_untracked(),
            FormField::Group { .. } => self.json().unwrap_or_default().to_string(),
            FormField::Choice { .. } => self
                .chosen_option()
                .map(FormField::text)
                .unwrap_or_default(),
        }
    }

    /// The entry as JSON inside its dataclass; `None` leaves it out, so the
    /// dataclass's own default applies. An optional member left empty is an
    /// explicit `null` (`None`), not left out.
    fn json(&self) -> Option<serde_json::Value> {
        match self {
            FormField::Input { field, state } => {
                let text = state.text.get_untracked();
                // An empty text member with a default means "the default",
                // not an empty string.
                if field.kind == InputKind::String && text.is_empty() && !field.required {
                    return None;
                }
                field
                    .kind
                    .parse_field(&text)
                    .ok()
                    .flatten()
                    .map(|value| value.to_json())
            }
            FormField::Choice { .. } => self.chosen_option().and_then(FormField::json),
            FormField::Group { members, .. } => Some(serde_json::Value::Object(
                members
                    .iter()
                    .filter_map(|member| {
                        let short = member.name().rsplit('.').next().unwrap_or_default();
                        member.json().map(|value| (short.to_string(), value))
                    })
                    .collect(),
            )),
        }
    }
}

fn render_form_field(form_field: FormField) -> AnyView {
    render_form_field_as(form_field, None)
}

/// `caption` replaces the entry's own name in its label: a union's entry
/// for one type is labelled "value".
fn render_form_field_as(form_field: FormField, caption: Option<&'static str>) -> AnyView {
    match form_field {
        FormField::Input { field, .. } if field.kind == InputKind::Nothing => {
            let id = field_id(&field.name);
            view! { <p id=id class="text-sm text-slate-500 dark:text-slate-400">{field.kind.hint()}</p> }
                .into_any()
        }
        FormField::Input { field, state } => view! { <Field field state caption /> }.into_any(),
        FormField::Choice {
            field,
            chosen,
            options,
        } => {
            let type_id = format!("{}-type", field_id(&field.name));
            let type_names: Vec<String> = options
                .iter()
                .map(|option| option.field().type_name.clone())
                .collect();
            view! {
                <fieldset class="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                    <EntryLegend field=field.clone() caption />
                    <div class="mt-2 flex flex-wrap items-start gap-4">
                        <div>
                            <label for=type_id.clone() class="block text-sm font-medium">"type"</label>
                            <select id=type_id class=styles::INPUT
                                prop:value=move || chosen.get().to_string()
                                on:change=move |event| {
                                    if let Ok(index) = event_target_value(&event).parse() {
                                        chosen.set(index);
                                    }
                                }>
                                // Marked in the markup too, so the page shows the
                                // chosen type before it is hydrated.
                                {type_names.into_iter().enumerate().map(|(index, type_name)| view! {
                                    <option value=index.to_string() selected=index == chosen.get_untracked()>{type_name}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="min-w-0 flex-1">
                            {options.into_iter().enumerate().map(|(index, option)| view! {
                                <div hidden=move || chosen.get() != index>
                                    {render_form_field_as(option, Some("value"))}
                                </div>
                            }).collect_view()}
                        </div>
                    </div>
                </fieldset>
            }
            .into_any()
        }
        FormField::Group { field, members } => view! {
            <fieldset class="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                <EntryLegend field caption />
                <div class="mt-2 space-y-4">
                    {members.into_iter().map(render_form_field).collect_view()}
                </div>
            </fieldset>
        }
        .into_any(),
    }
}

/// A group's or a union's legend: its name, its type, whether it is
/// required, and its description.
#[component]
fn EntryLegend(field: LaunchField, caption: Option<&'static str>) -> impl IntoView {
    let name = caption.map_or_else(
        || {
            field
                .name
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string()
        },
        str::to_string,
    );
    view! {
        <legend class="px-1 text-sm font-medium">
            <span class="font-mono">{name}</span>
            // A dataclass's members spell out its fields: the legend names it only.
            <span class="ml-2 font-mono text-xs text-slate-500 dark:text-slate-400">{field.type_name.split('(').next().unwrap_or_default().to_string()}</span>
            {field.required.then(|| view! { <span class="ml-2 text-xs text-red-700 dark:text-red-400">"required"</span> })}
        </legend>
        {(!field.description.is_empty()).then(|| view! {
            <p class="text-xs text-slate-500 dark:text-slate-400">{field.description.clone()}</p>
        })}
    }
}

fn focus_field(name: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(&field_id(name)))
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

#[component]
fn Field(field: LaunchField, state: FieldState, caption: Option<&'static str>) -> impl IntoView {
    let id = field_id(&field.name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let checked = field.clone();
    let validate = move || {
        state
            .error
            .set(check(&checked, &state.text.get_untracked()))
    };
    let invalid = move || state.error.get().is_some();
    let described_by = format!("{hint_id} {error_id}");
    let control = match field.kind.clone() {
        InputKind::Boolean => view! {
            <input id=id.clone() type="checkbox" class="mt-1 h-4 w-4"
                prop:checked=move || state.text.get() == "true"
                on:change=move |event| state.text.set(event_target_checked(&event).to_string())
                aria-describedby=described_by.clone() />
        }.into_any(),
        InputKind::Enum(values) => view! {
            <select id=id.clone() class=styles::INPUT aria-describedby=described_by.clone() aria-invalid=move || invalid().to_string()
                on:change=move |event| { state.text.set(event_target_value(&event)); validate(); }
                prop:value=move || state.text.get()>
                <option value="">"Choose…"</option>
                {values.into_iter().map(|value| view! { <option value=value.clone()>{value.clone()}</option> }).collect_view()}
            </select>
        }.into_any(),
        kind if kind.is_json() => view! {
            <textarea id=id.clone() rows="4" spellcheck="false" class=format!("{} font-mono", styles::INPUT)
                aria-describedby=described_by.clone() aria-invalid=move || invalid().to_string()
                prop:value=move || state.text.get()
                on:input=move |event| state.text.set(event_target_value(&event))
                on:blur=move |_| validate()></textarea>
        }.into_any(),
        _ => view! {
            <input id=id.clone() type="text" class=styles::INPUT
                aria-describedby=described_by.clone() aria-invalid=move || invalid().to_string()
                prop:value=move || state.text.get()
                on:input=move |event| state.text.set(event_target_value(&event))
                on:blur=move |_| validate() />
        }.into_any(),
    };
    let description = (!field.description.is_empty()).then(|| format!("{} ", field.description));
    view! {
        <div>
            <label for=id class="block text-sm font-medium">
                <span class="font-mono">{caption.map_or_else(|| field.name.rsplit('.').next().unwrap_or_default().to_string(), str::to_string)}</span>
                <span class="ml-2 font-mono text-xs text-slate-500 dark:text-slate-400">{field.type_name.clone()}</span>
                {field.required.then(|| view! { <span class="ml-2 text-xs text-red-700 dark:text-red-400">"required"</span> })}
            </label>
            {control}
            <p id=hint_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{description}{field.kind.hint()}</p>
            <p id=error_id role="alert" class="mt-1 text-xs text-red-700 dark:text-red-400">
                {move || state.error.get()}
            </p>
        </div>
    }
}

#[component]
fn TextOption(
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] multiline: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let control = if multiline {
        view! {
            <textarea id=id rows="2" class=format!("{} font-mono", styles::INPUT) aria-describedby=hint_id.clone()
                prop:value=move || value.get() on:input=move |event| value.set(event_target_value(&event))></textarea>
        }.into_any()
    } else {
        view! {
            <input id=id type="text" class=styles::INPUT aria-describedby=hint_id.clone()
                prop:value=move || value.get() on:input=move |event| value.set(event_target_value(&event)) />
        }.into_any()
    };
    view! {
        <div>
            <label for=id class="block text-sm font-medium">{label}</label>
            {control}
            <p id=hint_id class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
        </div>
    }
}
