//! `vitro-lab` (run as `vitro lab ...`): the lab's boards, queue and history, and its admin.

fn main() -> std::process::ExitCode {
    vitro_plugin_lab::cli::main()
}
