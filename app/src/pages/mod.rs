//! One module per page, and the URL helpers they share.

pub mod entity_detail;
pub mod entity_list;
pub mod execution;
pub mod executions;
pub mod home;
pub mod launch;
pub mod not_found;
pub mod project;
pub mod redirects;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// One value of the URL's query string (empty when absent), as a memo so pages
/// refetch when it changes.
pub fn use_query_value(key: &'static str) -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(key).unwrap_or_default()))
}

/// `?a=1&b=x%20y` from pairs, leaving out empty values; `""` when nothing is left.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{}={}", encode_component(key), encode_component(value)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

/// `href` with `pairs` added to its query string (which it may already have).
pub fn append_query(href: &str, pairs: &[(&str, &str)]) -> String {
    let query = query_string(pairs);
    match query.strip_prefix('?') {
        Some(rest) if href.contains('?') => format!("{href}&{rest}"),
        _ => format!("{href}{query}"),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `/console/projects/{project}/domains/{domain}{rest}`, with the names encoded.
pub fn project_path(project: &str, domain: &str, rest: &str) -> String {
    format!(
        "/console/projects/{}/domains/{}{rest}",
        encode_component(project),
        encode_component(domain)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_query_strings_without_empty_values() {
        assert_eq!(query_string(&[("phase", ""), ("sort", "")]), "");
        assert_eq!(
            query_string(&[("phase", "FAILED"), ("token", "a b&c")]),
            "?phase=FAILED&token=a%20b%26c"
        );
    }

    #[test]
    fn appends_to_a_query_string_or_starts_one() {
        assert_eq!(append_query("/x", &[("node", "n0")]), "/x?node=n0");
        assert_eq!(
            append_query("/x?view=graph", &[("node", "n0")]),
            "/x?view=graph&node=n0"
        );
        assert_eq!(
            append_query("/x?view=graph", &[("node", "")]),
            "/x?view=graph"
        );
    }

    #[test]
    fn builds_project_paths() {
        assert_eq!(
            project_path("flytesnacks", "development", "/workflows/myapp.wf"),
            "/console/projects/flytesnacks/domains/development/workflows/myapp.wf"
        );
    }
}
