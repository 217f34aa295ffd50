//! Starts the tests' throwaway sshd on 127.0.0.1 and prints `PORT KEY USER`; serves until stdin
//! closes. Used by `scripts/bench-console`.

fn main() {
    let sshd = vitro_e2e::sshd::Sshd::start().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    println!("{} {} {}", sshd.port(), sshd.client_key().display(), sshd.key_user());
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
}
