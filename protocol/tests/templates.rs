//! The template files under `protocol/templates/`: each fits the meta-schema, is listed in the
//! crate, is named for its name and version, resolves its `extends`, has params and result
//! schemas that are valid JSON Schemas, and examples that fit them.

use std::path::Path;

use serde_json::Value;
use vitro_protocol::templates::{Template, TemplateRef, Templates};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_template_file_fits_the_meta_schema_and_is_shipped() {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema/template.schema.json")).unwrap())
            .unwrap();
    let meta = jsonschema::validator_for(&meta).unwrap();
    let shipped: Vec<&str> = Templates::builtin_files().iter().map(|(name, _)| *name).collect();
    let mut files: Vec<String> = std::fs::read_dir(root().join("templates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for file in &files {
        let text = std::fs::read_to_string(root().join("templates").join(file)).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let errors: Vec<String> =
            meta.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{file} does not fit template.schema.json: {errors:?}");
        let template: Template = serde_json::from_value(value).unwrap();
        assert_eq!(*file, format!("{}.v{}.json", template.name, template.version));
        assert!(shipped.contains(&file.as_str()), "{file} is not listed in templates.rs BUILTIN");
    }
    assert_eq!(files.len(), shipped.len(), "BUILTIN lists a file that is not there");
}

#[test]
fn every_method_has_valid_schemas_and_fitting_examples() {
    let templates = Templates::builtin();
    for template in templates.all() {
        let reference = TemplateRef { name: template.name.clone(), version: template.version };
        templates.methods(&reference).unwrap_or_else(|e| panic!("{reference}: {e}"));
        for (name, method) in &template.methods {
            let at = format!("{reference} {name}");
            assert_eq!(method.params["type"], "object", "{at}: params are an object of named arguments");
            let options = || jsonschema::options().should_validate_formats(true);
            let params = options().build(&method.params).unwrap_or_else(|e| panic!("{at} params: {e}"));
            let result = options().build(&method.result).unwrap_or_else(|e| panic!("{at} result: {e}"));
            assert!(!method.examples.is_empty(), "{at}: give at least one example");
            for example in &method.examples {
                assert!(
                    params.is_valid(&example.params),
                    "{at}: example params {} do not fit",
                    example.params
                );
                if let Some(answer) = &example.result {
                    assert!(result.is_valid(answer), "{at}: example result {answer} does not fit");
                }
            }
        }
    }
}
