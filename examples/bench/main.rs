//! vigil's benchmarks, one binary (each example links the library and the AWS SDK, so one link
//! instead of two): `bench index DIR` builds the CloudTrail index over DIR and times pivots;
//! `bench load DIR` times the console's own load (first searchable segment, complete);
//! `bench hunt DIR` times the bundled rules against one pivot;
//! `bench render [FINDINGS EVENTS]` times frames over a large synthetic state. The data comes
//! from the generator, `cargo run --release --example gen_trail`.

mod hunt;
mod index;
mod load;
mod render;

/// The binary's allocator, so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    vigil::process::without_huge_pages();
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("index") => index::run(args),
        Some("load") => load::run(args),
        Some("hunt") => hunt::run(args),
        Some("render") => render::run(args).map_err(|e| anyhow::anyhow!("{e}")),
        _ => anyhow::bail!(
            "usage: bench index DIR | bench load DIR | bench hunt DIR | bench render [FINDINGS EVENTS]"
        ),
    }
}
