//! Where the encoder runs: the CPU (default) or a CUDA GPU (cargo feature `cuda`).

use candle_core::Device;

use crate::error::EmbedError;

/// The hardware that runs the encoder.
///
/// A property of the run, not of the model: embeddings on either agree to rounding (CUDA is
/// checked at cosine ≥ 0.9999 against the CPU), so they share the embedding cache, and a model
/// trained on a GPU predicts on a CPU unchanged.
///
/// ```
/// use bertopic_embed::EmbedDevice;
///
/// assert_eq!("cpu".parse::<EmbedDevice>()?, EmbedDevice::Cpu);
/// assert_eq!("cuda".parse::<EmbedDevice>()?, EmbedDevice::Cuda(0));
/// assert_eq!("cuda:1".parse::<EmbedDevice>()?, EmbedDevice::Cuda(1));
/// assert!("gpu".parse::<EmbedDevice>().is_err());
/// # Ok::<(), bertopic_embed::EmbedError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedDevice {
    /// The CPU: the packed engine, f32 or int8.
    #[default]
    Cpu,
    /// CUDA GPU number `N` (`cuda:N`): candle-transformers' BERT on candle's CUDA backend, f32
    /// only. Needs a binary built with the `cuda` feature.
    Cuda(usize),
}

/// Whether this build has the CUDA backend (the `cuda` cargo feature).
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// How to get a binary that can use `--device cuda`.
pub(crate) const REBUILD_HINT: &str =
    "rebuild with `cargo build --release -p bertopic-cli --features cuda` (needs the CUDA toolkit's nvcc)";

impl EmbedDevice {
    /// True for [`EmbedDevice::Cuda`].
    pub fn is_cuda(self) -> bool {
        matches!(self, EmbedDevice::Cuda(_))
    }

    /// Whether this build can use the device at all (without opening it): a program checks this
    /// up front, so `--device cuda` fails at once even when no document needs embedding.
    pub fn check_built(self) -> Result<(), EmbedError> {
        match self {
            EmbedDevice::Cuda(n) if !CUDA_BUILT => Err(EmbedError::DeviceUnavailable {
                device: format!("cuda:{n}"),
                reason: format!("this binary was built without the `cuda` feature; {REBUILD_HINT}"),
            }),
            _ => Ok(()),
        }
    }

    /// The candle device; a typed error when this binary has no CUDA backend or the GPU cannot
    /// be opened.
    pub(crate) fn candle(self) -> Result<Device, EmbedError> {
        self.check_built()?;
        match self {
            EmbedDevice::Cpu => Ok(Device::Cpu),
            // candle's `new_cuda` exists in every build (without its `cuda` feature it only
            // errors), so no cfg is needed here.
            EmbedDevice::Cuda(n) => {
                Device::new_cuda(n).map_err(|e| EmbedError::DeviceUnavailable {
                    device: format!("cuda:{n}"),
                    reason: format!(
                        "cannot open CUDA device {n} ({e}); check `nvidia-smi` and the device number"
                    ),
                })
            }
        }
    }
}

impl std::str::FromStr for EmbedDevice {
    type Err = EmbedError;
    fn from_str(s: &str) -> Result<Self, EmbedError> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(EmbedDevice::Cpu),
            "cuda" => Ok(EmbedDevice::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse::<usize>().ok())
                .map(EmbedDevice::Cuda)
                .ok_or_else(|| {
                    EmbedError::InvalidParam(format!(
                        "unknown device `{other}`: use cpu, cuda or cuda:N (N = GPU number)"
                    ))
                }),
        }
    }
}

impl std::fmt::Display for EmbedDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbedDevice::Cpu => f.write_str("cpu"),
            EmbedDevice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_devices() {
        for (s, d) in [
            ("cpu", EmbedDevice::Cpu),
            ("CUDA", EmbedDevice::Cuda(0)),
            ("cuda:3", EmbedDevice::Cuda(3)),
        ] {
            assert_eq!(s.parse::<EmbedDevice>().unwrap(), d);
        }
        assert_eq!(EmbedDevice::Cuda(2).to_string(), "cuda:2");
        for bad in ["gpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            assert!(bad.parse::<EmbedDevice>().is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_rebuild() {
        let e = EmbedDevice::Cuda(0).candle().unwrap_err().to_string();
        assert!(e.contains("built without the `cuda` feature"), "{e}");
        assert!(e.contains("--features cuda"), "{e}");
        assert!(EmbedDevice::Cuda(1).check_built().is_err());
        assert!(EmbedDevice::Cpu.check_built().is_ok());
        assert!(EmbedDevice::Cpu.candle().unwrap().is_cpu());
    }
}
