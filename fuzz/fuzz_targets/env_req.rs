//! `env_req` matching (pytest-vitro's rules) on any request and environment (split at the first
//! NUL byte): a match, no match or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let (request, env) = text.split_once('\0').unwrap_or((&text, "{}"));
    let (Ok(request), Ok(env)) = (serde_json::from_str(request), serde_json::from_str(env)) else { return };
    let _ = vitro::env_req::is_env_matching(&request, &env);
});
