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
    let m = bertopic_fs::npy::parse_npy(bytes)?;
    Array2::from_shape_vec((m.rows, m.cols), m.values).map_err(|e| e.to_string())
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
