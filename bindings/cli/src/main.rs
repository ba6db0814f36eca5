//! The `mqtt-status` binary: see `docs/cli.md`.

fn main() -> std::process::ExitCode {
    mqtt_status_cli::run(std::env::args_os())
}
