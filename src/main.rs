fn main() {
    std::process::exit(parity::main_entry());
}
