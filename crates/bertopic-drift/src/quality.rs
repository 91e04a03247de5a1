//! Quality on new data: coherence of the model's topics on the batch (computed by the caller)
//! against training coherence, and inference time (informational).

use crate::config::DriftConfig;
use crate::error::{finite, DriftError, Result};
use crate::level::{num, Check, Level};
use serde::{Deserialize, Serialize};

/// Numbers the caller measured; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QualityInputs {
    /// Mean c_v of the model's topics on the batch texts.
    pub batch_c_v: Option<f64>,
    /// Mean c_v on the training texts (the reference for the drop).
    pub training_c_v: Option<f64>,
    /// Mean NPMI (c_npmi) on the batch texts.
    pub batch_npmi: Option<f64>,
    /// Mean NPMI on the training texts.
    pub training_npmi: Option<f64>,
    /// Standard deviation of c_v over samples of training texts of the batch's size, when
    /// known: how much c_v moves without drift. The drop thresholds then rise to the
    /// `p_medium` / `p_high` normal quantiles of this spread when those are larger.
    pub training_c_v_sd: Option<f64>,
    /// Standard deviation of NPMI over samples of training texts of the batch's size.
    pub training_npmi_sd: Option<f64>,
    /// Seconds spent assigning topics to the batch (embedding included, as the caller sees fit).
    pub inference_seconds: Option<f64>,
    /// Batch documents, to turn `inference_seconds` into seconds per document.
    pub batch_docs: Option<usize>,
}

/// One coherence measure on the batch, and its drop from training when known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoherenceChange {
    /// Coherence on the batch.
    pub batch: f64,
    /// Coherence on the training data, if given.
    pub training: Option<f64>,
    /// `training − batch`, with thresholds; `None` without a training value.
    pub drop: Option<Check>,
}

/// Result of the quality signal ([`quality_drift`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityDrift {
    /// c_v, if the batch value was given.
    pub c_v: Option<CoherenceChange>,
    /// NPMI, if the batch value was given.
    pub npmi: Option<CoherenceChange>,
    /// Inference seconds for the batch (informational).
    pub inference_seconds: Option<f64>,
    /// Inference seconds per document (informational).
    pub seconds_per_doc: Option<f64>,
    /// Level: the highest coherence drop level (LOW when no drop could be computed).
    pub level: Level,
}

impl QualityDrift {
    /// Reason strings for each coherence drop above LOW.
    pub fn reasons(&self) -> Vec<String> {
        [("c_v", &self.c_v), ("NPMI", &self.npmi)]
            .into_iter()
            .filter_map(|(name, c)| {
                let c = c.as_ref()?;
                let drop = c.drop?;
                let t = drop.crossed()?;
                Some(format!(
                    "quality: {name} fell from {} to {} (drop {} ≥ {})",
                    num(c.training?),
                    num(c.batch),
                    num(drop.value),
                    num(t)
                ))
            })
            .collect()
    }
}

/// The quality signal: coherence drop from training to batch (c_v and NPMI, each with its own
/// thresholds since they live on different scales) and inference time per document.
///
/// A training value without the batch value is ignored (nothing to compare). Coherence on a
/// small batch is noisier than on the training corpus, so compare with training coherence at
/// the batch's size, and pass its spread (`training_c_v_sd`, `training_npmi_sd`): a drop then
/// needs to reach both the fixed threshold and `z(1 − p_medium)` (`z(1 − p_high)` for HIGH)
/// standard deviations, i.e. to be unlikely for a batch without drift. NPMI of 200–500
/// documents moves by a few hundredths between samples, the size of the fixed 0.03.
///
/// # Errors
/// NaN or infinite values, negative seconds, invalid config.
pub fn quality_drift(inputs: &QualityInputs, config: &DriftConfig) -> Result<QualityDrift> {
    let cfg = &config.quality;
    cfg.validate()?;
    let fields = [
        ("batch c_v", inputs.batch_c_v),
        ("training c_v", inputs.training_c_v),
        ("batch NPMI", inputs.batch_npmi),
        ("training NPMI", inputs.training_npmi),
        ("inference seconds", inputs.inference_seconds),
    ];
    for (what, x) in fields {
        if let Some(x) = x {
            finite(x, what, "quality inputs")?;
        }
    }
    if let Some(s) = inputs.inference_seconds.filter(|s| *s < 0.0) {
        return Err(DriftError::OutOfRange {
            what: "inference seconds".into(),
            problem: format!("is {s}; pass the elapsed time, >= 0"),
        });
    }
    for (what, x) in [
        ("training c_v sd", inputs.training_c_v_sd),
        ("training NPMI sd", inputs.training_npmi_sd),
    ] {
        if let Some(x) = x {
            finite(x, what, "quality inputs")?;
            if x < 0.0 {
                return Err(DriftError::OutOfRange {
                    what: what.into(),
                    problem: format!("is {x}; a standard deviation is >= 0"),
                });
            }
        }
    }
    let (z_medium, z_high) = (
        crate::topic::normal_quantile(1.0 - cfg.p_medium),
        crate::topic::normal_quantile(1.0 - cfg.p_high),
    );
    let change =
        |batch: Option<f64>, training: Option<f64>, sd: Option<f64>, medium: f64, high: f64| {
            let (medium, high) = match sd {
                Some(sd) => (medium.max(z_medium * sd), high.max(z_high * sd)),
                None => (medium, high),
            };
            batch.map(|b| CoherenceChange {
                batch: b,
                training,
                drop: training.map(|t| Check::above(t - b, medium, high)),
            })
        };
    let c_v = change(
        inputs.batch_c_v,
        inputs.training_c_v,
        inputs.training_c_v_sd,
        cfg.c_v_drop_medium,
        cfg.c_v_drop_high,
    );
    let npmi = change(
        inputs.batch_npmi,
        inputs.training_npmi,
        inputs.training_npmi_sd,
        cfg.npmi_drop_medium,
        cfg.npmi_drop_high,
    );
    let level = [&c_v, &npmi]
        .iter()
        .filter_map(|c| c.as_ref()?.drop.map(|d| d.level))
        .max()
        .unwrap_or(Level::Low);
    let seconds_per_doc = match (inputs.inference_seconds, inputs.batch_docs) {
        (Some(s), Some(n)) if n > 0 => Some(s / n as f64),
        _ => None,
    };
    Ok(QualityDrift {
        c_v,
        npmi,
        inference_seconds: inputs.inference_seconds,
        seconds_per_doc,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_raises_the_drop_thresholds() {
        // NPMI drop 0.04 ≥ 0.03 is MEDIUM with fixed thresholds; with a spread of 0.02 the
        // MEDIUM threshold is max(0.03, 2.326348 · 0.02) = 0.0465270 and the drop is LOW.
        let mut inputs = QualityInputs {
            batch_npmi: Some(0.06),
            training_npmi: Some(0.10),
            ..Default::default()
        };
        let c = DriftConfig::default();
        assert_eq!(quality_drift(&inputs, &c).unwrap().level, Level::Medium);
        inputs.training_npmi_sd = Some(0.02);
        let q = quality_drift(&inputs, &c).unwrap();
        assert_eq!(q.level, Level::Low);
        let d = q.npmi.unwrap().drop.unwrap();
        assert!((d.medium - 0.046_527).abs() < 1e-5, "{}", d.medium);
        // HIGH: max(0.06, 3.090232 · 0.02) = 0.0618046.
        assert!((d.high - 0.061_805).abs() < 1e-5, "{}", d.high);
        // A big drop stays HIGH.
        inputs.batch_npmi = Some(0.0);
        assert_eq!(quality_drift(&inputs, &c).unwrap().level, Level::High);
        inputs.training_npmi_sd = Some(-1.0);
        assert!(quality_drift(&inputs, &c).is_err());
    }

    #[test]
    fn drops_by_hand() {
        let inputs = QualityInputs {
            batch_c_v: Some(0.50),
            training_c_v: Some(0.62), // drop 0.12 -> HIGH
            batch_npmi: Some(0.08),
            training_npmi: Some(0.10), // drop 0.02 -> LOW
            inference_seconds: Some(2.0),
            batch_docs: Some(400),
            ..Default::default()
        };
        let q = quality_drift(&inputs, &DriftConfig::default()).unwrap();
        let c_v = q.c_v.as_ref().unwrap().drop.unwrap();
        assert!((c_v.value - 0.12).abs() < 1e-12);
        assert_eq!(c_v.level, Level::High);
        assert_eq!(q.npmi.as_ref().unwrap().drop.unwrap().level, Level::Low);
        assert_eq!(q.level, Level::High);
        assert_eq!(q.seconds_per_doc, Some(0.005));
        assert_eq!(
            q.reasons(),
            vec!["quality: c_v fell from 0.62 to 0.5 (drop 0.12 ≥ 0.1)".to_string()]
        );
    }

    #[test]
    fn missing_values_are_informational_only() {
        let inputs = QualityInputs {
            batch_npmi: Some(0.05),
            training_c_v: Some(0.6),
            inference_seconds: Some(1.0),
            batch_docs: Some(0),
            ..Default::default()
        };
        let q = quality_drift(&inputs, &DriftConfig::default()).unwrap();
        assert!(q.c_v.is_none());
        assert_eq!(q.npmi.as_ref().unwrap().drop, None);
        assert_eq!(q.level, Level::Low);
        assert_eq!(q.seconds_per_doc, None);
        // Coherence can rise: a negative drop is LOW.
        let inputs = QualityInputs {
            batch_c_v: Some(0.7),
            training_c_v: Some(0.6),
            ..Default::default()
        };
        assert_eq!(
            quality_drift(&inputs, &DriftConfig::default())
                .unwrap()
                .level,
            Level::Low
        );
    }

    #[test]
    fn bad_numbers_are_errors() {
        let nan = QualityInputs {
            batch_c_v: Some(f64::NAN),
            ..Default::default()
        };
        assert!(matches!(
            quality_drift(&nan, &DriftConfig::default()),
            Err(DriftError::NonFinite { .. })
        ));
        let negative = QualityInputs {
            inference_seconds: Some(-1.0),
            ..Default::default()
        };
        assert!(matches!(
            quality_drift(&negative, &DriftConfig::default()),
            Err(DriftError::OutOfRange { .. })
        ));
    }
}
