//! `vitro-plugin-lab`: leases boards from the lab's store for `vitro`.

fn main() -> std::process::ExitCode {
    vitro_plugin_lab::plugin::plugin().run()
}
