fn main() {
    std::process::exit(stampede::cli::main());
}
