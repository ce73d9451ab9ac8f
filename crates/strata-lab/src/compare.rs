//! `strata compare A B`: what differs between two experiments and what it
//! changed. A and B are manifests (their results are read from the results
//! folder) or experiment result folders.

use crate::report::HEADLINE;
use crate::store::{ExperimentResults, RunRecord, RunStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Finds the results of `target`: a manifest's folder under `out`, or a folder.
pub fn resolve(target: &Path, out: &Path) -> anyhow::Result<ExperimentResults> {
    if target.is_file() {
        let m = crate::manifest::Manifest::from_path(target)?;
        let dir = out.join(&m.name);
        if !dir.join("plan.json").is_file() {
            anyhow::bail!(
                "{}: no results in {} yet; run `strata run {}` (or `cargo xtask sweep`) first",
                target.display(),
                dir.display(),
                target.display()
            );
        }
        return ExperimentResults::read(&dir);
    }
    let folders = ExperimentResults::folders(target);
    match folders.as_slice() {
        [one] => ExperimentResults::read(one),
        [] => anyhow::bail!(
            "{}: neither a manifest nor a results folder (no plan.json)",
            target.display()
        ),
        many => anyhow::bail!(
            "{}: holds {} experiments; name one of: {}",
            target.display(),
            many.len(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Flattens a TOML document into `path = value` pairs.
fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        toml::Value::Array(a) if a.iter().all(|x| x.is_table()) && !a.is_empty() => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// One configuration key that differs.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDiff {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// One pair of runs with the same representation and clusterer.
#[derive(Debug, Clone, Serialize)]
pub struct RunPair {
    pub representation: String,
    pub clusterer: String,
    pub a: BTreeMap<String, f64>,
    pub b: BTreeMap<String, f64>,
    pub delta: BTreeMap<String, f64>,
}

/// Which side is better on one headline metric (best run against best run).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub metric: String,
    pub higher_is_better: bool,
    pub best_a: Option<f64>,
    pub best_b: Option<f64>,
    pub winner: String,
}

/// How far two experiments' numbers can be set side by side: on other
/// data, no metric compares; on the same rows prepared otherwise (another
/// recipe, so another feature space), only those that do not depend on the
/// features' space (pipeline stability, an agreement of labels on the same
/// rows); on the same prepared features, every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparable {
    Everything,
    SameRowsOtherFeatures,
    OtherData,
}

/// The headline metrics that read the rows' labels only, not the space
/// the features span.
const SPACE_FREE: &[&str] = &["stability_mean_ari"];

impl Comparable {
    /// From each side's data and whether their manifests' `[features]`
    /// (the columns that segment, hence the common space) differ.
    fn of(a: &crate::store::DatasetRef, b: &crate::store::DatasetRef, features_differ: bool) -> Comparable {
        if a.sha256 != b.sha256 || a.rows != b.rows {
            Comparable::OtherData
        } else if a.recipe != b.recipe || a.features != b.features || features_differ {
            Comparable::SameRowsOtherFeatures
        } else {
            Comparable::Everything
        }
    }

    /// Whether the two sides' values of `metric` can be compared.
    pub fn metric(self, metric: &str) -> bool {
        match self {
            Comparable::Everything => true,
            Comparable::SameRowsOtherFeatures => SPACE_FREE.contains(&metric),
            Comparable::OtherData => false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    /// Each side's data: descriptor, rows and prepared features.
    pub data_a: String,
    pub data_b: String,
    pub comparable: Comparable,
    pub config_differences: Vec<KeyDiff>,
    pub matched: Vec<RunPair>,
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub best_a: Option<(String, String)>,
    pub best_b: Option<(String, String)>,
    pub verdicts: Vec<Verdict>,
}

fn key(r: &RunRecord) -> (String, String) {
    (r.config.representation.label(), r.config.clusterer.label())
}

pub fn compare(a: &ExperimentResults, b: &ExperimentResults) -> Comparison {
    let parse = |t: &str| {
        let mut m = BTreeMap::new();
        if let Ok(v) = t.parse::<toml::Table>() {
            flatten("", &toml::Value::Table(v), &mut m);
        }
        m
    };
    let (ca, cb) = (parse(&a.plan.manifest_text), parse(&b.plan.manifest_text));
    let mut keys: Vec<&String> = ca.keys().chain(cb.keys()).collect();
    keys.sort();
    keys.dedup();
    let config_differences = keys
        .into_iter()
        .filter(|k| ca.get(*k) != cb.get(*k))
        .map(|k| KeyDiff {
            key: k.clone(),
            a: ca.get(k).cloned(),
            b: cb.get(k).cloned(),
        })
        .collect::<Vec<KeyDiff>>();
    let features_differ = config_differences.iter().any(|d| d.key == "features" || d.key.starts_with("features."));
    let comparable = Comparable::of(&a.plan.dataset, &b.plan.dataset, features_differ);
    let ok = |r: &&RunRecord| r.status == RunStatus::Ok;
    let rb: BTreeMap<(String, String), &RunRecord> =
        b.runs.iter().filter(ok).map(|r| (key(r), r)).collect();
    let mut matched = Vec::new();
    for ra in a.runs.iter().filter(ok) {
        if let Some(rb) = rb.get(&key(ra)) {
            let pick = |r: &RunRecord| -> BTreeMap<String, f64> {
                HEADLINE
                    .iter()
                    .filter_map(|(m, _)| r.metrics.get(*m).map(|v| (m.to_string(), *v)))
                    .collect()
            };
            let (ma, mb) = (pick(ra), pick(rb));
            let delta = ma
                .iter()
                .filter(|(k, _)| comparable.metric(k))
                .filter_map(|(k, va)| mb.get(k).map(|vb| (k.clone(), vb - va)))
                .collect();
            matched.push(RunPair {
                representation: key(ra).0,
                clusterer: key(ra).1,
                a: ma,
                b: mb,
                delta,
            });
        }
    }
    let best = |res: &ExperimentResults| {
        let all: Vec<&RunRecord> = res.runs.iter().collect();
        crate::selection::chosen(&all, res.plan.pin.as_ref(), res.plan.margins.silhouette).map(|(r, why)| {
            (
                format!(
                    "{} on {}",
                    r.config.clusterer.label(),
                    r.config.representation.label()
                ),
                why,
            )
        })
    };
    let verdicts = HEADLINE
        .iter()
        .map(|(m, higher)| {
            let best_of = |res: &ExperimentResults| {
                res.runs
                    .iter()
                    .filter_map(|r| r.metrics.get(*m).copied())
                    .filter(|v| v.is_finite())
                    .reduce(|x, y| if (y > x) == *higher { y } else { x })
            };
            let (ba, bb) = (best_of(a), best_of(b));
            let winner = match (ba, bb) {
                _ if !comparable.metric(m) => match comparable {
                    Comparable::OtherData => "not comparable (other data)".to_string(),
                    _ => "not comparable (other features)".to_string(),
                },
                (Some(x), Some(y)) if x == y => "tie".to_string(),
                (Some(x), Some(y)) => if (y > x) == *higher { "B" } else { "A" }.to_string(),
                (Some(_), None) => "A (B lacks it)".into(),
                (None, Some(_)) => "B (A lacks it)".into(),
                (None, None) => "neither has it".into(),
            };
            Verdict {
                metric: m.to_string(),
                higher_is_better: *higher,
                best_a: ba,
                best_b: bb,
                winner,
            }
        })
        .collect();
    let data = |d: &crate::store::DatasetRef| {
        format!("{} ({} rows, {} prepared features)", d.descriptor, d.rows, d.features)
    };
    Comparison {
        a: a.dir.display().to_string(),
        b: b.dir.display().to_string(),
        data_a: data(&a.plan.dataset),
        data_b: data(&b.plan.dataset),
        comparable,
        only_in_a: a
            .runs
            .iter()
            .filter(ok)
            .count()
            .saturating_sub(matched.len()),
        only_in_b: b
            .runs
            .iter()
            .filter(ok)
            .count()
            .saturating_sub(matched.len()),
        config_differences,
        matched,
        best_a: best(a),
        best_b: best(b),
        verdicts,
    }
}

fn num(v: Option<&f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.4}"))
}

impl Comparison {
    pub fn markdown(&self) -> String {
        let mut s = format!("# Compare\n\nA: {}\nB: {}\n\n", self.a, self.b);
        let space_free = HEADLINE
            .iter()
            .map(|(m, _)| *m)
            .filter(|m| self.comparable.metric(m))
            .collect::<Vec<_>>()
            .join(", ");
        match self.comparable {
            Comparable::Everything => s.push_str(&format!("Data: both on {}.\n", self.data_a)),
            Comparable::SameRowsOtherFeatures => s.push_str(&format!(
                "Data: the same rows in other feature spaces (A: {}; B: {}; a different recipe, or `[features]` choosing other columns): only {space_free} compare; the other metrics are shown side by side, without a difference or a winner.\n",
                self.data_a, self.data_b
            )),
            Comparable::OtherData => s.push_str(&format!(
                "Data: other data (A: {}; B: {}): no metric compares across them; each side's values are shown, without a difference or a winner.\n",
                self.data_a, self.data_b
            )),
        }
        s.push_str("\n## Configuration keys that differ\n\n");
        if self.config_differences.is_empty() {
            s.push_str("None.\n");
        } else {
            s.push_str("| key | A | B |\n|---|---|---|\n");
            for d in &self.config_differences {
                s.push_str(&format!(
                    "| {} | {} | {} |\n",
                    d.key,
                    d.a.as_deref().unwrap_or("(unset)"),
                    d.b.as_deref().unwrap_or("(unset)")
                ));
            }
        }
        s.push_str(&format!(
            "\n## Matching runs ({} matched; {} only in A, {} only in B)\n\n| representation | clusterer |",
            self.matched.len(),
            self.only_in_a,
            self.only_in_b
        ));
        for (m, _) in HEADLINE {
            s.push_str(&format!(" {m} A | {m} B | Δ |"));
        }
        s.push_str(&format!(
            "\n|---|---|{}\n",
            "---|---|---|".repeat(HEADLINE.len())
        ));
        for p in &self.matched {
            s.push_str(&format!("| {} | {} |", p.representation, p.clusterer));
            for (m, _) in HEADLINE {
                s.push_str(&format!(
                    " {} | {} | {} |",
                    num(p.a.get(*m)),
                    num(p.b.get(*m)),
                    num(p.delta.get(*m))
                ));
            }
            s.push('\n');
        }
        s.push_str("\n## Best per experiment\n\n");
        for (side, b) in [("A", &self.best_a), ("B", &self.best_b)] {
            match b {
                Some((what, why)) => s.push_str(&format!("- {side}: {what} ({why})\n")),
                None => s.push_str(&format!("- {side}: no run with a silhouette\n")),
            }
        }
        s.push_str("\n## Winner per headline metric (best run of each side)\n\n| metric | better | best A | best B | winner |\n|---|---|---|---|---|\n");
        for v in &self.verdicts {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                v.metric,
                if v.higher_is_better {
                    "higher"
                } else {
                    "lower"
                },
                num(v.best_a.as_ref()),
                num(v.best_b.as_ref()),
                v.winner
            ));
        }
        s
    }

    /// The matched runs as CSV (one row per pair, A, B and delta per metric).
    pub fn csv(&self) -> String {
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        let mut s = String::from("representation,clusterer");
        for (m, _) in HEADLINE {
            s.push_str(&format!(",{m}_a,{m}_b,{m}_delta"));
        }
        s.push('\n');
        let cell = |v: Option<&f64>| v.map_or(String::new(), |x| x.to_string());
        for p in &self.matched {
            s.push_str(&format!(
                "{},{}",
                quote(&p.representation),
                quote(&p.clusterer)
            ));
            for (m, _) in HEADLINE {
                s.push_str(&format!(
                    ",{},{},{}",
                    cell(p.a.get(*m)),
                    cell(p.b.get(*m)),
                    cell(p.delta.get(*m))
                ));
            }
            s.push('\n');
        }
        s
    }
}

/// Convenience for the CLI: resolves both sides and compares them.
pub fn compare_paths(a: &Path, b: &Path, out: &Path) -> anyhow::Result<Comparison> {
    let ra = resolve(a, out)?;
    let rb = resolve(b, out)?;
    Ok(compare(&ra, &rb))
}
