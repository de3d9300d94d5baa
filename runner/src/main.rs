fn main() {
    eprintln!("x07-lite: not built yet");
    std::process::exit(2);
}
