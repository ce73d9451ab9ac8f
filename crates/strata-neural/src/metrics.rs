//! Classification metrics: the study's four (accuracy, recall, precision,
//! specificity) plus F1, balanced accuracy, ROC-AUC and PR-AUC (average
//! precision, as scikit-learn's `average_precision_score`).

use serde::{Deserialize, Serialize};

/// Counts of a binary decision against the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub tn: usize,
    pub r#fn: usize,
}

impl Confusion {
    /// Decisions `score >= threshold` against `y`.
    pub fn at(scores: &[f64], y: &[u8], threshold: f64) -> Confusion {
        let mut c = Confusion::default();
        for (s, t) in scores.iter().zip(y) {
            match (*s >= threshold, *t == 1) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.r#fn += 1,
            }
        }
        c
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Every metric of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub recall: f64,
    pub precision: f64,
    pub specificity: f64,
    pub f1: f64,
    pub balanced_accuracy: f64,
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub threshold: f64,
    pub confusion: Confusion,
}

/// Names of the metrics, in report order.
pub const METRIC_NAMES: [&str; 8] = [
    "accuracy",
    "recall",
    "precision",
    "specificity",
    "f1",
    "balanced_accuracy",
    "roc_auc",
    "pr_auc",
];

impl Metrics {
    pub fn compute(scores: &[f64], y: &[u8], threshold: f64) -> Metrics {
        let c = Confusion::at(scores, y, threshold);
        let recall = ratio(c.tp, c.tp + c.r#fn);
        let precision = ratio(c.tp, c.tp + c.fp);
        let specificity = ratio(c.tn, c.tn + c.fp);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Metrics {
            accuracy: ratio(c.tp + c.tn, y.len()),
            recall,
            precision,
            specificity,
            f1,
            balanced_accuracy: 0.5 * (recall + specificity),
            roc_auc: roc_auc(scores, y),
            pr_auc: average_precision(scores, y),
            threshold,
            confusion: c,
        }
    }

    /// A metric by name (see [`METRIC_NAMES`]).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "accuracy" => self.accuracy,
            "recall" => self.recall,
            "precision" => self.precision,
            "specificity" => self.specificity,
            "f1" => self.f1,
            "balanced_accuracy" => self.balanced_accuracy,
            "roc_auc" => self.roc_auc,
            "pr_auc" => self.pr_auc,
            _ => return None,
        })
    }
}

/// Indices sorted by decreasing score (ties keep index order).
fn by_score_desc(scores: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    idx
}

/// Area under the ROC curve (ties count one half), NaN without both classes.
pub fn roc_auc(scores: &[f64], y: &[u8]) -> f64 {
    let pos = y.iter().filter(|&&t| t == 1).count();
    let neg = y.len() - pos;
    if pos == 0 || neg == 0 {
        return f64::NAN;
    }
    // Mann-Whitney U with average ranks of tied scores.
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] == 1 {
                rank_sum_pos += avg;
            }
        }
        i = j + 1;
    }
    (rank_sum_pos - (pos * (pos + 1)) as f64 / 2.0) / (pos * neg) as f64
}

/// Average precision: sum over distinct thresholds of (recall gain) x precision.
pub fn average_precision(scores: &[f64], y: &[u8]) -> f64 {
    let pos = y.iter().filter(|&&t| t == 1).count();
    if pos == 0 {
        return f64::NAN;
    }
    let idx = by_score_desc(scores);
    let (mut tp, mut fp, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let s = scores[idx[i]];
        while i < idx.len() && scores[idx[i]] == s {
            if y[idx[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let recall = tp as f64 / pos as f64;
        ap += (recall - last_recall) * tp as f64 / (tp + fp) as f64;
        last_recall = recall;
    }
    ap
}

/// How the decision threshold is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdRule {
    /// Always 0.5.
    Half,
    /// The threshold that maximizes F1 on the validation split.
    MaxF1,
    /// The highest threshold reaching this recall on the validation split.
    TargetRecall(f64),
}

impl ThresholdRule {
    pub fn describe(&self) -> String {
        match self {
            ThresholdRule::Half => "fixed at 0.5".into(),
            ThresholdRule::MaxF1 => "chosen on the validation split to maximize F1".into(),
            ThresholdRule::TargetRecall(r) => {
                format!("chosen on the validation split to reach recall {r}")
            }
        }
    }

    /// The threshold for validation scores `scores` with truth `y`.
    pub fn choose(&self, scores: &[f64], y: &[u8]) -> f64 {
        let candidates = || {
            let mut s: Vec<f64> = scores.to_vec();
            s.sort_by(|a, b| b.total_cmp(a));
            s.dedup();
            s
        };
        match *self {
            ThresholdRule::Half => 0.5,
            ThresholdRule::MaxF1 => {
                let mut best = (f64::NEG_INFINITY, 0.5);
                for t in candidates() {
                    let f = Metrics::compute_f1(scores, y, t);
                    if f > best.0 {
                        best = (f, t);
                    }
                }
                best.1
            }
            ThresholdRule::TargetRecall(r) => {
                let pos = y.iter().filter(|&&t| t == 1).count().max(1) as f64;
                for t in candidates() {
                    let c = Confusion::at(scores, y, t);
                    if c.tp as f64 / pos >= r {
                        return t;
                    }
                }
                0.0
            }
        }
    }
}

impl Metrics {
    fn compute_f1(scores: &[f64], y: &[u8], t: f64) -> f64 {
        let c = Confusion::at(scores, y, t);
        let (p, r) = (ratio(c.tp, c.tp + c.fp), ratio(c.tp, c.tp + c.r#fn));
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_confusion_and_rates() {
        // truth 1 1 1 0 0 0 0 0 ; scores above 0.5 for rows 0, 1, 3
        let y = [1, 1, 1, 0, 0, 0, 0, 0];
        let s = [0.9, 0.8, 0.2, 0.7, 0.1, 0.3, 0.4, 0.05];
        let m = Metrics::compute(&s, &y, 0.5);
        assert_eq!(
            m.confusion,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 4,
                r#fn: 1
            }
        );
        assert!((m.accuracy - 6.0 / 8.0).abs() < 1e-15);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.specificity - 4.0 / 5.0).abs() < 1e-15);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-15);
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-15);
        // ROC-AUC: of 15 (pos, neg) pairs, pos wins 13 (0.2 loses to 0.7, 0.3, 0.4 -> 12... count):
        // 0.9 and 0.8 beat all 5 negatives (10); 0.2 beats 0.1 and 0.05 (2) -> 12/15.
        assert!((m.roc_auc - 12.0 / 15.0).abs() < 1e-15);
        // AP: ranks 0.9(+) 0.8(+) 0.7(-) 0.4 0.3 0.2(+) ... = (1 + 1 + 3/6) / 3
        assert!((m.pr_auc - (1.0 + 1.0 + 0.5) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn ties_and_thresholds() {
        let y = [1, 0, 1, 0];
        let s = [0.5, 0.5, 0.5, 0.5];
        assert_eq!(roc_auc(&s, &y), 0.5);
        assert_eq!(average_precision(&s, &y), 0.5);
        assert!(roc_auc(&s, &[0, 0, 0, 0]).is_nan());
        let s = [0.9, 0.6, 0.4, 0.1];
        let y = [1, 0, 1, 0];
        assert_eq!(ThresholdRule::Half.choose(&s, &y), 0.5);
        assert_eq!(ThresholdRule::TargetRecall(1.0).choose(&s, &y), 0.4);
        assert_eq!(ThresholdRule::MaxF1.choose(&s, &y), 0.4);
    }
}
