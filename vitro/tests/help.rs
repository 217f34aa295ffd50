//! The binary starts and documents itself (this test also makes `cargo test --workspace` build
//! the `vitro` binary that the end-to-end tests in `tests/` run).

#[test]
#[allow(clippy::disallowed_methods)] // a test runs the binary, not a plugin
fn help_lists_the_plugins_command() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vitro")).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("plugins"), "{text}");
}
