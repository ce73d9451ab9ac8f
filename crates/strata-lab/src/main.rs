fn main() -> std::process::ExitCode {
    strata_lab::cli::main()
}
