//! Verdicts with four outcomes, decided against margins of practical relevance.
//!
//! A claim is **supported** when its evidence clears the margin, **not shown**
//! when the evidence is compatible both with no relevant effect and with a
//! relevant one (absence of evidence, not evidence of absence), **contradicted**
//! when it excludes any relevant effect in the claimed direction, and **mixed**
//! when the parts of a claim disagree (some supported, some contradicted).
//!
//! The rules, for an interval `[low, high]` of an effect and a margin `m > 0`:
//!
//! | kind | supported | contradicted | not shown |
//! |---|---|---|---|
//! | improvement ("b is better") | `low >= m` | `high < m` | otherwise |
//! | equivalence ("changes little") | `-m <= low` and `high <= m` | `low > m` or `high < -m` | otherwise |
//!
//! A difference without an interval (a point estimate, such as the
//! silhouettes of two runs stored without group scores) is judged as the interval `[d, d]` would be, except that
//! "no relevant difference" is only **not shown**: a point estimate cannot
//! exclude a relevant effect it has no uncertainty for.

use serde::{Deserialize, Serialize};

/// The outcome of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    NotShown,
    Contradicted,
    Mixed,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::NotShown => "not shown",
            Verdict::Contradicted => "contradicted",
            Verdict::Mixed => "mixed",
        }
    }
}

/// Margins of practical relevance, per metric: `[verdicts]` in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Margins {
    /// Recall gain that matters when finding responders (absolute).
    pub recall: f64,
    /// Accuracy change within which "accuracy changes little" holds.
    pub accuracy: f64,
    /// Silhouette difference (in the common space) that counts as better.
    pub silhouette: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Margins {
            recall: 0.02,
            accuracy: 0.01,
            silhouette: 0.02,
        }
    }
}

impl Margins {
    /// Every margin must be a finite number in (0, 1).
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("recall", self.recall),
            ("accuracy", self.accuracy),
            ("silhouette", self.silhouette),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(format!(
                    "verdicts.{name} = {v}: a margin of practical relevance is a number between 0 and 1 (exclusive)"
                ));
            }
        }
        Ok(())
    }
}

/// "b improves on a" from an interval of `b - a` and a margin.
pub fn improvement(low: f64, high: f64, margin: f64) -> Verdict {
    if low >= margin {
        Verdict::Supported
    } else if high < margin {
        Verdict::Contradicted
    } else {
        Verdict::NotShown
    }
}

/// "the change is small": an equivalence test of an interval within ±margin.
pub fn equivalence(low: f64, high: f64, margin: f64) -> Verdict {
    if low >= -margin && high <= margin {
        Verdict::Supported
    } else if low > margin || high < -margin {
        Verdict::Contradicted
    } else {
        Verdict::NotShown
    }
}

/// "b is better than a" from a point difference `b - a` without interval:
/// supported beyond the margin, contradicted below minus the margin (the
/// opposite holds by a relevant amount), not shown in between.
pub fn point_improvement(diff: f64, margin: f64) -> Verdict {
    if diff >= margin {
        Verdict::Supported
    } else if diff <= -margin {
        Verdict::Contradicted
    } else {
        Verdict::NotShown
    }
}

/// Both parts of one claim must hold: contradicted if either is, supported
/// if both are, not shown otherwise.
pub fn both(a: Verdict, b: Verdict) -> Verdict {
    use Verdict::*;
    match (a, b) {
        (Contradicted, _) | (_, Contradicted) => Contradicted,
        (Supported, Supported) => Supported,
        (Mixed, _) | (_, Mixed) => Mixed,
        _ => NotShown,
    }
}

/// One claim tested on several comparisons (representations, feature sets):
/// unanimous outcomes carry over; supported beside contradicted is mixed;
/// otherwise (some not shown) the claim is not shown, unless some part is
/// supported, which makes it mixed too.
pub fn combine(parts: &[Verdict]) -> Option<Verdict> {
    use Verdict::*;
    let first = *parts.first()?;
    if parts.iter().all(|&v| v == first) {
        return Some(first);
    }
    if parts.iter().any(|&v| v == Supported || v == Mixed) {
        Some(Mixed)
    } else {
        Some(NotShown)
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::*;
    use super::*;

    #[test]
    fn improvement_has_three_outcomes() {
        assert_eq!(improvement(0.03, 0.10, 0.02), Supported);
        assert_eq!(improvement(0.02, 0.10, 0.02), Supported);
        // Includes 0 and a relevant gain: absence of evidence.
        assert_eq!(improvement(-0.022, 0.104, 0.02), NotShown);
        // Positive but not shown to be relevant.
        assert_eq!(improvement(0.005, 0.05, 0.02), NotShown);
        // Excludes any relevant gain, whether small or negative.
        assert_eq!(improvement(-0.01, 0.015, 0.02), Contradicted);
        assert_eq!(improvement(-0.2, -0.1, 0.02), Contradicted);
    }

    #[test]
    fn equivalence_has_three_outcomes() {
        assert_eq!(equivalence(-0.008, 0.009, 0.01), Supported);
        assert_eq!(equivalence(-0.015, 0.012, 0.01), NotShown);
        assert_eq!(equivalence(0.011, 0.05, 0.01), Contradicted);
        assert_eq!(equivalence(-0.05, -0.02, 0.01), Contradicted);
    }

    #[test]
    fn point_improvement_never_claims_equivalence() {
        assert_eq!(point_improvement(0.05, 0.02), Supported);
        assert_eq!(point_improvement(0.003, 0.02), NotShown);
        assert_eq!(point_improvement(-0.003, 0.02), NotShown);
        assert_eq!(point_improvement(-0.05, 0.02), Contradicted);
    }

    #[test]
    fn conjunction_and_combination() {
        assert_eq!(both(Supported, Supported), Supported);
        assert_eq!(both(Supported, NotShown), NotShown);
        assert_eq!(both(NotShown, Contradicted), Contradicted);
        assert_eq!(both(Mixed, Supported), Mixed);
        assert_eq!(combine(&[]), None);
        assert_eq!(combine(&[Supported, Supported]), Some(Supported));
        assert_eq!(combine(&[Contradicted, Contradicted]), Some(Contradicted));
        assert_eq!(combine(&[NotShown, NotShown]), Some(NotShown));
        assert_eq!(combine(&[Supported, Contradicted]), Some(Mixed));
        assert_eq!(combine(&[Supported, NotShown]), Some(Mixed));
        assert_eq!(combine(&[NotShown, Contradicted]), Some(NotShown));
    }

    #[test]
    fn margins_are_checked() {
        assert!(Margins::default().check().is_ok());
        let bad = Margins {
            recall: 0.0,
            ..Margins::default()
        };
        assert!(bad.check().unwrap_err().contains("verdicts.recall = 0"));
        let bad = Margins {
            silhouette: f64::NAN,
            ..Margins::default()
        };
        assert!(bad.check().is_err());
    }
}
