//! Minimal `.npy` reader/writer for 2-D float matrices (NumPy format versions 1–3).

use std::path::Path;

use ndarray::Array2;

use crate::error::EmbedError;

const MAGIC: &[u8] = b"\x93NUMPY";

fn npy_err(path: &Path, reason: impl Into<String>) -> EmbedError {
    EmbedError::Npy {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Value of `'key': value` in the header dict (a tiny parser for the fixed layout NumPy writes).
fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let start = header.find(&pat)? + pat.len();
    let rest = header[start..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

/// Reads a 2-D `.npy` file of `float32` or `float64` (little-endian; C or Fortran order) as `f32`.
///
/// A 1-D array is returned as a single column.
pub fn read_npy(path: &Path) -> Result<Array2<f32>, EmbedError> {
    let bytes = std::fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    parse_npy(&bytes).map_err(|r| npy_err(path, r))
}

/// [`read_npy`] on bytes in memory; `name` labels errors.
pub fn npy_from_bytes(name: &Path, bytes: &[u8]) -> Result<Array2<f32>, EmbedError> {
    parse_npy(bytes).map_err(|r| npy_err(name, r))
}

fn parse_npy(bytes: &[u8]) -> Result<Array2<f32>, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (bad magic)".into());
    }
    let major = bytes[6];
    let (hlen, hstart) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(format!("unsupported format version {v}")),
    };
    let data_start = hstart + hlen;
    if bytes.len() < data_start {
        return Err("truncated header".into());
    }
    let header = std::str::from_utf8(&bytes[hstart..data_start])
        .map_err(|_| "header is not UTF-8".to_string())?;
    let descr = header_field(header, "descr").ok_or("header lacks 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let width = match descr {
        "<f4" | "=f4" => 4,
        "<f8" | "=f8" => 8,
        other => {
            return Err(format!(
                "unsupported dtype {other} (need little-endian f4 or f8)"
            ))
        }
    };
    let fortran =
        header_field(header, "fortran_order").ok_or("header lacks 'fortran_order'")? == "True";
    let shape_s = header_field(header, "shape").ok_or("header lacks 'shape'")?;
    let dims: Vec<usize> = shape_s
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad shape {shape_s}"))
        })
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        _ => return Err(format!("need a 1-D or 2-D array, got shape {shape_s}")),
    };
    let n = rows.checked_mul(cols).ok_or("shape overflows")?;
    let data = &bytes[data_start..];
    if data.len() != n * width {
        return Err(format!(
            "data is {} bytes, shape {shape_s} of {descr} needs {}",
            data.len(),
            n * width
        ));
    }
    let values: Vec<f32> = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                f64::from_le_bytes(b) as f32
            })
            .collect()
    };
    let arr = if fortran {
        Array2::from_shape_vec((cols, rows), values)
            .map(|a| a.reversed_axes().as_standard_layout().into_owned())
    } else {
        Array2::from_shape_vec((rows, cols), values)
    };
    arr.map_err(|e| e.to_string())
}

/// Writes `a` as a little-endian `float32` `.npy` file (format 1.0, C order).
///
/// The file is written to a temporary sibling and renamed into place, so readers never see a
/// half-written file.
pub fn write_npy(path: &Path, a: &Array2<f32>) -> Result<(), EmbedError> {
    write_atomic(path, &npy_bytes(a))
}

/// The `.npy` bytes of `a` (little-endian f32, C order), as [`write_npy`] writes them.
pub fn npy_bytes(a: &Array2<f32>) -> Vec<u8> {
    let (rows, cols) = a.dim();
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Pad so that magic + version + length + header (+ '\n') is a multiple of 64, as NumPy does.
    let total = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut buf = Vec::with_capacity(10 + header.len() + rows * cols * 4);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&[1, 0]);
    buf.extend_from_slice(&(header.len() as u16).to_le_bytes());
    buf.extend_from_slice(header.as_bytes());
    for v in a.iter() {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    buf
}

/// Writes `bytes` to `path` atomically, through the workspace's one safe writer.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EmbedError> {
    Ok(bertopic_fs::write_file(path, bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        let a = Array2::from_shape_fn((3, 5), |(i, j)| i as f32 * 10.0 + j as f32 - 0.5);
        write_npy(&p, &a).unwrap();
        let b = read_npy(&p).unwrap();
        assert_eq!(a, b);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!((bytes.len() - 3 * 5 * 4) % 64, 0);
    }

    #[test]
    fn truncated_is_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_npy(&p, &Array2::zeros((4, 4))).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(read_npy(&p), Err(EmbedError::Npy { .. })));
        std::fs::write(&p, b"hello").unwrap();
        assert!(matches!(read_npy(&p), Err(EmbedError::Npy { .. })));
    }
}
