//! Levels, threshold checks and the number formatting used in reasons.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Severity of a signal or of the whole report. Ordered: `Low < Medium < High`.
///
/// Serialised as `"LOW"`, `"MEDIUM"`, `"HIGH"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// No drift detected (or the signal could not be scored).
    #[default]
    Low,
    /// Some drift: worth a look.
    Medium,
    /// Strong drift: the model probably needs attention (refit, new topics).
    High,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Low => "LOW",
            Level::Medium => "MEDIUM",
            Level::High => "HIGH",
        })
    }
}

/// Which side of a threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Drift when the value is at or above the threshold (`value >= threshold`), e.g. PSI.
    Above,
    /// Drift when the value is strictly below the threshold (`value < threshold`), e.g. Jaccard.
    Below,
}

/// One measured value with its two thresholds and the level they give.
///
/// Serialised as `{"value": .., "medium": .., "high": .., "direction": "above"|"below",
/// "level": ..}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The measured value.
    pub value: f64,
    /// Threshold for [`Level::Medium`].
    pub medium: f64,
    /// Threshold for [`Level::High`].
    pub high: f64,
    /// Whether values above or below the thresholds are bad.
    pub direction: Direction,
    /// The level the value reaches.
    pub level: Level,
}

impl Check {
    /// A check where large values are bad: `value >= high` is HIGH, `value >= medium` is MEDIUM.
    pub fn above(value: f64, medium: f64, high: f64) -> Check {
        let level = if value >= high {
            Level::High
        } else if value >= medium {
            Level::Medium
        } else {
            Level::Low
        };
        Check {
            value,
            medium,
            high,
            direction: Direction::Above,
            level,
        }
    }

    /// A check where small values are bad: `value < high` is HIGH, `value < medium` is MEDIUM.
    pub fn below(value: f64, medium: f64, high: f64) -> Check {
        let level = if value < high {
            Level::High
        } else if value < medium {
            Level::Medium
        } else {
            Level::Low
        };
        Check {
            value,
            medium,
            high,
            direction: Direction::Below,
            level,
        }
    }

    /// The threshold that was crossed (the HIGH one if both were), `None` at LOW.
    pub fn crossed(&self) -> Option<f64> {
        match self.level {
            Level::High => Some(self.high),
            Level::Medium => Some(self.medium),
            Level::Low => None,
        }
    }

    /// `"<name> <value> < <threshold>"` (or `≥`) when the check is above LOW.
    pub(crate) fn describe(&self, name: &str) -> Option<String> {
        self.describe_with(name, num)
    }

    /// Like [`Check::describe`], formatting numbers with `show` (e.g. as percentages).
    pub(crate) fn describe_with(&self, name: &str, show: fn(f64) -> String) -> Option<String> {
        let threshold = self.crossed()?;
        let op = match self.direction {
            Direction::Above => "≥",
            Direction::Below => "<",
        };
        Some(format!(
            "{name} {} {op} {}",
            show(self.value),
            show(threshold)
        ))
    }
}

/// A number with about three significant digits, trailing zeros trimmed (`0.25`, `0.0123`,
/// `1.23e-5`), for reasons and notes.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    if a < 1e-4 {
        return format!("{x:.2e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A share in `[0, 1]` shown as a percentage (`0.125` → `12.5%`).
pub(crate) fn pct(x: f64) -> String {
    format!("{}%", num(x * 100.0))
}

/// A difference of shares shown in percentage points (`0.13` → `13 points`).
pub(crate) fn points(x: f64) -> String {
    format!("{} points", num(x * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_serialise_upper_case() {
        assert!(Level::Low < Level::Medium && Level::Medium < Level::High);
        assert_eq!(Level::Medium.to_string(), "MEDIUM");
        let json = serde_json::to_string(&Level::High).unwrap();
        assert_eq!(json, "\"HIGH\"");
        let back: Level = serde_json::from_str("\"LOW\"").unwrap();
        assert_eq!(back, Level::Low);
    }

    #[test]
    fn check_above_uses_inclusive_thresholds() {
        assert_eq!(Check::above(0.09, 0.1, 0.25).level, Level::Low);
        assert_eq!(Check::above(0.1, 0.1, 0.25).level, Level::Medium);
        assert_eq!(Check::above(0.25, 0.1, 0.25).level, Level::High);
        assert_eq!(Check::above(0.3, 0.1, 0.25).crossed(), Some(0.25));
    }

    #[test]
    fn check_below_uses_strict_thresholds() {
        assert_eq!(Check::below(0.6, 0.6, 0.4).level, Level::Low);
        assert_eq!(Check::below(0.59, 0.6, 0.4).level, Level::Medium);
        assert_eq!(Check::below(0.4, 0.6, 0.4).level, Level::Medium);
        assert_eq!(Check::below(0.39, 0.6, 0.4).level, Level::High);
        assert_eq!(
            Check::below(0.5, 0.6, 0.4)
                .describe("mean Jaccard")
                .unwrap(),
            "mean Jaccard 0.5 < 0.6"
        );
        assert_eq!(Check::below(0.7, 0.6, 0.4).describe("x"), None);
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(0.6), "0.6");
        assert_eq!(num(0.012345), "0.0123");
        assert_eq!(num(0.31234), "0.312");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(1234.56), "1235");
        assert_eq!(num(0.00002), "2.00e-5");
        assert_eq!(num(-0.5), "-0.5");
        assert_eq!(pct(0.125), "12.5%");
        assert_eq!(points(0.13), "13 points");
    }
}
