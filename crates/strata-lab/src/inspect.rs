//! Text rendering of a dataset load: what was read, what each step did, and a
//! per-feature summary.

use std::fmt::Write;
use strata_data::LoadedDataset;

fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.3e}")
    } else if v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The inspection report printed by `strata data inspect`.
pub fn render(l: &LoadedDataset) -> String {
    let r = &l.report;
    let d = &l.descriptor;
    let mut s = String::new();
    let _ = writeln!(s, "dataset   {} ({})", d.name, d.path.display());
    if !d.description.is_empty() {
        let _ = writeln!(s, "          {}", d.description);
    }
    let _ = writeln!(s, "file      {}", r.file.display());
    if r.sha256.is_empty() {
        let _ = writeln!(s, "sha256    (not checked)");
    } else {
        let _ = writeln!(s, "sha256    {} (verified)", r.sha256);
    }
    let mut dialect = format!("{}-separated", r.delimiter);
    if r.had_bom {
        dialect.push_str(", UTF-8 BOM removed");
    }
    if r.crlf {
        dialect.push_str(", CRLF line ends");
    }
    let _ = writeln!(s, "dialect   {dialect}");
    let _ = writeln!(
        s,
        "before    {} rows x {} columns",
        r.raw_rows, r.raw_columns
    );
    let _ = writeln!(s, "after     {} rows x {} features", r.rows, r.features);
    match &r.dedup_key {
        Some(k) => {
            let _ = writeln!(
                s,
                "dupes     {} rows repeated a `{k}` and were removed",
                r.duplicates_removed
            );
        }
        None => {
            let _ = writeln!(s, "dupes     no de-duplication key");
        }
    }
    let _ = writeln!(
        s,
        "          {} rows have the same features as an earlier row",
        r.duplicate_feature_rows
    );
    if let Some((name, pos, n)) = &r.target {
        let rate = if *n > 0 {
            100.0 * *pos as f64 / *n as f64
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "target    {name}: {pos} positive, {} negative ({rate:.1} % positive)",
            n - pos
        );
    } else {
        let _ = writeln!(s, "target    none");
    }
    if let Some(e) = l.dataset.economics() {
        match e.constant() {
            Some((c, v)) => {
                let _ = writeln!(
                    s,
                    "economics cost per contact {}, revenue per response {}",
                    num(c),
                    num(v)
                );
            }
            None => {
                let _ = writeln!(s, "economics per-customer cost and revenue");
            }
        }
    }
    let _ = writeln!(
        s,
        "metadata  {}",
        l.metadata
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let _ = writeln!(s, "\npreprocessing");
    for n in &r.notes {
        let _ = writeln!(s, "  [{}] {n}", n.step);
    }

    let _ = writeln!(
        s,
        "\nfeatures (original units; missing = before imputation)"
    );
    let w = r
        .feature_summaries
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        s,
        "  {:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>8}  {:>6}",
        "feature", "missing", "min", "mean", "max", "scaled μ", "σ"
    );
    for f in &r.feature_summaries {
        let _ = writeln!(
            s,
            "  {:<w$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>8.3}  {:>6.3}",
            f.name,
            f.missing,
            num(f.min),
            num(f.mean),
            num(f.max),
            f.scaled_mean + 0.0,
            f.scaled_sd
        );
    }
    s
}
