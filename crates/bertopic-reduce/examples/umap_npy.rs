//! UMAP (BERTopic's defaults, a given seed) of a `.npy`, written as a float32 `.npy`: the reduction
//! half of issue #22's stage swap (cluster the output with Python's hdbscan, or ours with
//! bertopic-cluster's `hdbscan_npy` example).
//!
//! `cargo run -p bertopic-reduce --example umap_npy -- <in.npy> <out.npy> [seed]`

use std::io::Write;

use bertopic_reduce::{read_npy_f32, Reducer, Umap, UmapParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, ..] = &args[..] else {
        return Err("usage: umap_npy <in.npy> <out.npy> [seed]".into());
    };
    let seed = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(42);
    let data = read_npy_f32(std::path::Path::new(input))?;
    let t = std::time::Instant::now();
    let (_fitted, emb) = Umap::new(UmapParams {
        seed,
        ..UmapParams::default()
    })?
    .fit(data.view())?;
    eprintln!(
        "UMAP of {} rows: {:.1} s",
        data.nrows(),
        t.elapsed().as_secs_f64()
    );
    let (rows, cols) = emb.dim();
    // .npy v1.0: magic, header length, a dict padded with spaces to a multiple of 64 bytes.
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for x in emb.iter() {
        out.write_all(&x.to_le_bytes())?;
    }
    out.flush()?;
    Ok(())
}
