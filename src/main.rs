use clap::Parser;

fn main() -> std::process::ExitCode {
    citizenhour::telemetry::init();
    let cli = citizenhour::cli::Cli::parse();
    match citizenhour::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler / error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
