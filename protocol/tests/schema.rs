//! The committed schemas equal what the types generate. Regenerate with
//! `VITRO_UPDATE_SCHEMAS=1 cargo test -p vitro-protocol --test schema`.

use std::path::Path;

#[test]
fn committed_schemas_match_the_rust_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema");
    let update = std::env::var_os("VITRO_UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (name, content) in vitro_protocol::schema::committed_files() {
        let path = dir.join(&name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != content {
            if update {
                std::fs::write(&path, content).unwrap();
            } else {
                stale.push(name);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "protocol/schema/{{{}}} differ from the Rust types; run \
         `VITRO_UPDATE_SCHEMAS=1 cargo test -p vitro-protocol --test schema` and commit the result",
        stale.join(",")
    );
}

#[test]
fn the_readmes_generated_tables_are_current_and_every_method_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let mut generated = readme.clone();
    for (name, content) in vitro_protocol::docs::sections() {
        generated = vitro_protocol::docs::replace_section(&generated, name, &content).unwrap_or_else(|| {
            panic!("protocol/README.md lacks the markers of the generated section {name}")
        });
    }
    if generated != readme {
        assert!(
            std::env::var_os("VITRO_UPDATE_SCHEMAS").is_some(),
            "protocol/README.md's generated tables are stale; run \
             `VITRO_UPDATE_SCHEMAS=1 cargo test -p vitro-protocol --test schema` and commit the result"
        );
        std::fs::write(&path, &generated).unwrap();
    }
    for method in vitro_protocol::methods::all() {
        assert!(generated.contains(&format!("| `{}` |", method.name)), "README lacks method {}", method.name);
    }
}
