//! Device templates: declarations checked at start, `vitro templates ...`.

use serde_json::json;

use crate::deploy::{env, stderr, Bed};

#[test]
fn a_type_that_declares_a_template_without_its_required_methods_fails_at_start() {
    let bed = Bed::new("template-missing", json!([{"name": "board", "type": "fixture"}]), env());
    let out = bed.run(&[bed.plugin("--implements lan@1")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: plugin fixture: device type fixture declares template lan@1, but lacks its required \
             method execute_command (from linux_host@1, which it extends)"
        ),
        "{err}"
    );
    assert!(err.contains("lacks its required method release_dhcp"), "every missing method is named: {err}");
    assert!(bed.trace().iter().all(|l| l.starts_with("plugin ")), "nothing was deployed: {:?}", bed.trace());
}
