#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    relcon::cli::main()
}
