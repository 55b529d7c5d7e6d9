#![forbid(unsafe_code)]

/// mimalloc, not glibc's malloc: a refresh of a large fleet interleaves short-lived page
/// buffers with the records it keeps, and glibc keeps more of the pages they leave behind
/// (docs/PERFORMANCE.md, "The allocator"). Feature `mimalloc`, on by default.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    relcon::cli::main()
}
