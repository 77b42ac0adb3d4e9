//! Who is signed in, and what the console lets them try: the APIs enforce
//! roles; the console mirrors them so a person sees why an action is off
//! instead of meeting a refusal after filling in a form.

use leptos::prelude::*;

use crate::api::{SignedInUser, who_is_signed_in};
use crate::components::styles;
use crate::pages::project::use_project_domain;

/// The signed-in person (`None` inside when the console has no login).
#[derive(Clone, Copy)]
pub struct CurrentUser(Resource<Option<SignedInUser>>);

/// Loads the signed-in person once per page and shares it.
pub fn provide_current_user() {
    let user = Resource::new(
        || (),
        // A console without login, or a failed look, leaves every action on:
        // the APIs still decide.
        |_| async { who_is_signed_in().await.ok().flatten() },
    );
    provide_context(CurrentUser(user));
}

/// The signed-in person's name and a sign-out button, in the header.
#[component]
pub fn UserMenu() -> impl IntoView {
    let Some(CurrentUser(user)) = use_context::<CurrentUser>() else {
        return ().into_any();
    };
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                user.await.map(|user| {
                    let role = user.default_role.clone().unwrap_or_else(|| "no role".into());
                    view! {
                        <div class="flex items-center gap-2 text-sm">
                            <span id="signed-in-user" title=user.email.clone().unwrap_or_default()>
                                {user.name.clone()}
                                <span class="ml-1 text-xs text-slate-500 dark:text-slate-400">{format!("({role})")}</span>
                            </span>
                            // A real form: signing out works before hydration too.
                            <form method="post" action="/auth/logout">
                                <button type="submit" id="sign-out"
                                    class=styles::BUTTON_SMALL>
                                    "Sign out"
                                </button>
                            </form>
                        </div>
                    }
                })
            })}
        </Suspense>
    }
    .into_any()
}

/// Shows `children` only to a signed-in person (things that need to know
/// who is looking, such as "launched by me").
#[component]
pub fn SignedInOnly(children: ChildrenFn) -> impl IntoView {
    let Some(CurrentUser(user)) = use_context::<CurrentUser>() else {
        return ().into_any();
    };
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                user.await.map(|_| children.with_value(|children| children()))
            })}
        </Suspense>
    }
    .into_any()
}

/// An action the signed-in person may not take: its label on a disabled
/// button, and why.
#[component]
pub fn RoleMissing(role: &'static str, label: String, reason: String) -> impl IntoView {
    view! {
        <div class="max-w-xs text-right">
            <button type="button" disabled data-needs-role=role
                class=styles::BUTTON_UNAVAILABLE>
                {label}
            </button>
            <p class="mt-1 text-xs text-slate-500 dark:text-slate-400">{format!("You cannot do this: {reason}.")}</p>
        </div>
    }
}

/// The role check of [`NeedsRole`] for a view already inside a `Suspend`,
/// where a `Suspense` of its own would break hydration of what follows.
/// Take it when the component is made; await it inside the `Suspend`.
#[derive(Clone, Copy)]
pub struct RoleCheck(Option<CurrentUser>);

impl RoleCheck {
    pub fn from_context() -> Self {
        Self(use_context::<CurrentUser>())
    }

    /// Why the signed-in person may not act with `role` in `project`;
    /// `None` when they may, or when nobody signs in here.
    pub async fn missing(self, project: &str, role: &'static str) -> Option<String> {
        let CurrentUser(user) = self.0?;
        user.await.and_then(|user| user.missing_role(project, role))
    }
}

/// Shows `children` (an action) when the signed-in person holds `role` in
/// the page's project, else the action's `label` on a disabled button that
/// says which role is missing.
#[component]
pub fn NeedsRole(
    role: &'static str,
    #[prop(into)] label: String,
    children: ChildrenFn,
) -> impl IntoView {
    let check = RoleCheck::from_context();
    if check.0.is_none() {
        return children().into_any();
    }
    let (project, _) = use_project_domain();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let label = label.clone();
                Suspend::new(async move {
                    match check.missing(&project.get_untracked(), role).await {
                        None => children.with_value(|children| children()).into_any(),
                        Some(reason) => view! { <RoleMissing role label reason /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}
