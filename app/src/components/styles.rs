//! The console's controls, as Tailwind class lists: every button, field and
//! notice of one kind looks and focuses the same on every page.

/// The main action of a form or toolbar (Apply, Search, Submit).
pub const BUTTON_PRIMARY: &str = "rounded-md bg-sky-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-sky-500 disabled:opacity-60";

/// The page's call to action (Launch), larger than the rest.
pub const BUTTON_CALL_TO_ACTION: &str = "rounded-md bg-sky-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-sky-700 focus:outline-none focus:ring-2 focus:ring-sky-500/60 disabled:opacity-60";

/// Approving: the action that lets work go on.
pub const BUTTON_APPROVE: &str = "rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800 focus-visible:outline-2 focus-visible:outline-emerald-500 disabled:opacity-60";

/// Any other action, and links that look like buttons.
pub const BUTTON_SECONDARY: &str = "rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 disabled:cursor-not-allowed disabled:text-slate-400 dark:border-slate-700 dark:hover:bg-slate-800";

/// Header toggles (theme, time zone): a secondary button, a little narrower.
pub const BUTTON_TOGGLE: &str = "rounded-md border border-slate-300 px-2.5 py-1.5 text-sm hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-700 dark:hover:bg-slate-800";

/// Small buttons inside text (sign in, sign out).
pub const BUTTON_SMALL: &str = "rounded-md border border-slate-300 px-2 py-1 text-xs hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-sky-500 dark:border-slate-700 dark:hover:bg-slate-800";

/// An action the person may not take, shown so they know it exists.
pub const BUTTON_UNAVAILABLE: &str = "cursor-not-allowed rounded-md border border-slate-300 px-3 py-1.5 text-sm text-slate-400 dark:border-slate-700";

/// Actions that end or refuse something (Terminate, Reject).
pub const BUTTON_DANGER: &str = "rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50 focus-visible:outline-2 focus-visible:outline-red-500 disabled:opacity-60 dark:border-red-800 dark:text-red-200 dark:hover:bg-red-950";

/// Filter selects and search boxes of the list pages.
pub const SELECT: &str = "rounded-md border border-slate-300 bg-white px-2 py-1.5 dark:border-slate-700 dark:bg-slate-900";

/// Form fields, red when `aria-invalid`.
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/40 aria-[invalid=true]:border-red-500 dark:border-slate-700 dark:bg-slate-900";

/// An error the page shows in place of what it could not load or do.
pub const ALERT: &str = "rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100";
