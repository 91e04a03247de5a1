//! The `.npy` format (NumPy 1.0–3.0) for 2-D float matrices: the one parser every crate reads
//! embeddings with (`bertopic-embed`'s `read_npy`, `bertopic-reduce`'s `read_npy_f32`).

/// A 2-D matrix read from `.npy` bytes, in row-major (C) order whatever the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyMatrix {
    /// Rows (a 1-D array is one column).
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// rows × cols values, row after row.
    pub values: Vec<f32>,
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

/// Parses `.npy` bytes of a 1-D or 2-D array of `float32` or `float64` (little-endian, C or
/// Fortran order) into `f32`; the error says what is wrong with the file.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyMatrix, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
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
    let values = if fortran {
        // Column-major on disk: element (r, c) is at c·rows + r.
        let mut t = vec![0.0f32; n];
        for (i, v) in values.into_iter().enumerate() {
            let (c, r) = (i / rows.max(1), i % rows.max(1));
            t[r * cols + c] = v;
        }
        t
    } else {
        values
    };
    Ok(NpyMatrix { rows, cols, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}\n",
            if fortran { "True" } else { "False" }
        );
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn reads_c_fortran_f8_and_1d() {
        let f4: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let c = parse_npy(&npy("<f4", false, "(2, 3)", &f4)).unwrap();
        assert_eq!(
            (c.rows, c.cols, c.values.clone()),
            (2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        // The same bytes in Fortran order are the columns of a 2×3 matrix.
        let f = parse_npy(&npy("<f4", true, "(2, 3)", &f4)).unwrap();
        assert_eq!(f.values, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        let f8: Vec<u8> = [0.5f64, -1.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let one = parse_npy(&npy("<f8", false, "(2,)", &f8)).unwrap();
        assert_eq!((one.rows, one.cols, one.values), (2, 1, vec![0.5, -1.5]));
        assert!(parse_npy(&npy("<i4", false, "(2,)", &f8)).is_err());
        assert!(parse_npy(&npy("<f4", false, "(2, 3)", &f4[..20])).is_err());
        assert!(parse_npy(b"hello").is_err());
    }
}
