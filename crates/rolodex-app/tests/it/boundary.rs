//! The dependency rule (architecture.md): `rolodex-app` depends on `rolodex-domain` and small
//! libraries only, never on an adapter, a runtime or a driver.

#[test]
fn rolodex_app_depends_on_no_adapter_runtime_or_driver() {
    let manifest = include_str!("../../Cargo.toml");
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(['.', '=', ' ']).next())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    assert!(deps.contains(&"rolodex-domain"), "{deps:?}");
    for forbidden in [
        "tokio",
        "reqwest",
        "diesel",
        "diesel-async",
        "axum",
        "lettre",
        "rolodex-store",
        "rolodex-graph",
        "rolodex-google",
        "rolodex-ghl",
        "rolodex-files",
        "rolodex-http",
    ] {
        assert!(!deps.contains(&forbidden), "rolodex-app must not depend on {forbidden}");
    }
}
