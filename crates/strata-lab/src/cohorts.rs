//! Segment stability over time: split the rows by a date (e.g. when a customer
//! enrolled) into an earlier and a later cohort, segment each cohort with the
//! chosen representation and clustering, and compare the two models on all
//! rows: the adjusted Rand index of their assignments, and how far matched
//! segment centres moved (in standard deviations of the prepared features).

use ndarray::{ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use strata_cluster::metrics::centroids;
use strata_core::{Clusterer, Reducer, Seed};

/// `[cohorts]` in a manifest: which date column splits the rows, and its format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortSpec {
    /// A metadata column holding dates.
    pub column: String,
    /// chrono format of the dates, e.g. "%d-%m-%Y".
    pub format: String,
}

/// Parses the dates of a column; the first unparseable value is an error
/// naming its row.
pub fn parse_dates(values: &[String], spec: &CohortSpec) -> Result<Vec<chrono::NaiveDate>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            chrono::NaiveDate::parse_from_str(v.trim(), &spec.format).map_err(|e| {
                format!(
                    "cohorts: row {i}: `{}` = \"{v}\" is not a date in the format \"{}\" ({e})",
                    spec.column, spec.format
                )
            })
        })
        .collect()
}

/// One segment of the earlier model matched to the nearest of the later one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub early_segment: usize,
    pub late_segment: usize,
    /// Distance between the two centres, in standard deviations of the prepared features.
    pub distance: f64,
    pub early_share: f64,
    pub late_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    pub column: String,
    /// Rows enrolled on or before this date form the earlier cohort.
    pub split: String,
    pub early_rows: usize,
    pub late_rows: usize,
    /// Agreement of the two cohorts' models on every row.
    pub ari: f64,
    pub drift: Vec<Drift>,
    pub verdict: String,
}

/// Fits the representation and clustering on each cohort and compares them on
/// all rows of `x` (the prepared, standardized features).
pub fn evaluate(
    x: ArrayView2<'_, f64>,
    dates: &[chrono::NaiveDate],
    column: &str,
    reducer: &dyn Reducer,
    clusterer: &dyn Clusterer,
    seed: Seed,
) -> anyhow::Result<CohortReport> {
    if dates.len() != x.nrows() || dates.is_empty() {
        anyhow::bail!("cohorts: {} dates for {} rows", dates.len(), x.nrows());
    }
    let mut sorted = dates.to_vec();
    sorted.sort_unstable();
    let split = sorted[(sorted.len().saturating_sub(1)) / 2];
    let early: Vec<usize> = (0..dates.len()).filter(|&i| dates[i] <= split).collect();
    let late: Vec<usize> = (0..dates.len()).filter(|&i| dates[i] > split).collect();
    if early.len() < 10 || late.len() < 10 {
        anyhow::bail!(
            "cohorts: splitting `{column}` at {split} leaves {} and {} rows; too few to segment",
            early.len(),
            late.len()
        );
    }
    let assign = |rows: &[usize], name: &str| -> anyhow::Result<Vec<usize>> {
        let xs = x.select(Axis(0), rows);
        let (fr, z) = reducer.fit_transform(xs.view(), seed.named("representation"))?;
        let fc = clusterer
            .fit(z.view(), seed.named("clusterer"))
            .map_err(|e| anyhow::anyhow!("cohorts: the {name} cohort: {e}"))?;
        Ok(fc.predict(fr.transform(x)?.view())?.to_vec())
    };
    let (a, b) = (assign(&early, "earlier")?, assign(&late, "later")?);
    let ari = strata_cluster::metrics::adjusted_rand_index(&a, &b)?;
    let ka = a.iter().copied().max().map_or(0, |m| m + 1);
    let kb = b.iter().copied().max().map_or(0, |m| m + 1);
    let (ca, na) = centroids(x, &a, ka);
    let (cb, nb) = centroids(x, &b, kb);
    let n = x.nrows() as f64;
    let mut drift: Vec<Drift> = (0..ka)
        .filter(|&s| na[s] > 0)
        .filter_map(|s| {
            (0..kb)
                .filter(|&t| nb[t] > 0)
                .map(|t| {
                    let d = ca
                        .row(s)
                        .iter()
                        .zip(cb.row(t).iter())
                        .map(|(p, q)| (p - q).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    (t, d)
                })
                .min_by(|p, q| p.1.total_cmp(&q.1))
                .map(|(t, d)| Drift {
                    early_segment: s,
                    late_segment: t,
                    distance: d,
                    early_share: na[s] as f64 / n,
                    late_share: nb[t] as f64 / n,
                })
        })
        .collect();
    drift.sort_by(|p, q| q.early_share.total_cmp(&p.early_share));
    let worst = drift.iter().map(|d| d.distance).fold(0.0, f64::max);
    let verdict = format!(
        "segments {} from the earlier cohort to the later one: the two cohorts' models agree with ARI {ari:.2} on all rows, and matched centres moved at most {worst:.2} standard deviations",
        if ari >= 0.8 {
            "carry over"
        } else if ari >= 0.5 {
            "partly carry over"
        } else {
            "do not carry over"
        }
    );
    Ok(CohortReport {
        column: column.to_string(),
        split: split.to_string(),
        early_rows: early.len(),
        late_rows: late.len(),
        ari,
        drift,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use strata_cluster::KMeans;

    #[test]
    fn stable_blobs_carry_over_and_bad_dates_name_their_row() {
        let mut r = strata_core::Rng::new(Seed(2));
        let n = 600;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            [[0.0, 0.0], [5.0, 5.0], [0.0, 8.0]][i % 3][j] + 0.5 * r.normal()
        });
        let start = chrono::NaiveDate::from_ymd_opt(2013, 1, 1).expect("date");
        let dates: Vec<chrono::NaiveDate> = (0..n)
            .map(|i| start + chrono::Days::new((i * 7 % 500) as u64))
            .collect();
        let rep = evaluate(
            x.view(),
            &dates,
            "enrolled",
            &crate::registry::Identity,
            &KMeans::new(3),
            Seed(1),
        )
        .unwrap();
        assert_eq!(rep.early_rows + rep.late_rows, n);
        assert!(rep.ari > 0.95, "{rep:?}");
        assert!(
            rep.drift.iter().all(|d| d.distance < 0.3),
            "{:?}",
            rep.drift
        );
        assert!(
            rep.verdict
                .starts_with("segments carry over from the earlier cohort")
        );
        let spec = CohortSpec {
            column: "Dt_Customer".into(),
            format: "%d-%m-%Y".into(),
        };
        assert_eq!(
            parse_dates(&["04-09-2012".into()], &spec).unwrap()[0].to_string(),
            "2012-09-04"
        );
        let e = parse_dates(&["04-09-2012".into(), "2012/09/05".into()], &spec).unwrap_err();
        assert!(e.starts_with("cohorts: row 1: `Dt_Customer` = \"2012/09/05\" is not a date in the format \"%d-%m-%Y\""), "{e}");
    }
}
