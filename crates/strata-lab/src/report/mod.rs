//! Reports: a self-contained `report.html` (inline SVG plots, no scripts, no
//! network) and a `report.md` with the same tables, per experiment folder.
//!
//! A damaged or missing run file is listed at the top of the report and left
//! out of the plots; it never stops the report.

mod decisions;
mod page;
mod plots;
mod runs;

use crate::store::{ExperimentResults, RunRecord, RunStatus};
use page::{Doc, esc};
use std::path::PathBuf;

/// Headline metrics: name, whether higher is better.
pub const HEADLINE: &[(&str, bool)] = &[
    ("silhouette_common", true),
    ("silhouette", true),
    ("stability_mean_ari", true),
    ("calinski_harabasz", true),
    ("davies_bouldin", false),
    ("bic", false),
];

pub use crate::selection::{MIN_CLUSTER_SHARE, STABLE_ARI, choose, smallest_share};

pub(super) fn k_of(r: &RunRecord) -> Option<f64> {
    match r.config.clusterer.params.0.get("k") {
        Some(strata_core::ParamValue::Int(k)) => Some(*k as f64),
        _ => None,
    }
}

/// The clusterer's label without `k` (one line per such family in a plot).
pub(super) fn family(r: &RunRecord) -> String {
    let mut c = r.config.clusterer.clone();
    c.params.0.remove("k");
    let mut label = c.label();
    for noisy in [
        "init=kmeans, ",
        "max_iter=100, ",
        "max_iter=300, ",
        "reg_covar=0.000001, ",
        "tol=0.001",
        "tol=0.0001",
        "algorithm=auto, ",
    ] {
        label = label.replace(noisy, "");
    }
    label.replace(", )", ")").replace("()", "")
}


pub use crate::claims::{Claim, claims};

/// Renders the report of one experiment folder as (HTML, Markdown).
pub fn render(res: &ExperimentResults) -> (String, String) {
    let mut d = Doc {
        html: String::new(),
        md: String::new(),
    };
    let plan = &res.plan;
    d.h(1, &format!("strata report: {}", plan.experiment));
    if !plan.description.is_empty() {
        d.p(&plan.description);
    }
    d.p(&format!(
        "Dataset {} ({} rows x {} features, SHA-256 {}), manifest {}, strata {}.",
        plan.dataset.descriptor,
        plan.dataset.rows,
        plan.dataset.features,
        &plan.dataset.sha256[..plan.dataset.sha256.len().min(12)],
        plan.manifest_path,
        plan.strata_version
    ));
    let failed: Vec<&RunRecord> = res
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Failed)
        .collect();
    d.p(&format!(
        "{} planned runs: {} stored ({} failed), {} missing, {} damaged.",
        plan.runs.len(),
        res.runs.len(),
        failed.len(),
        res.missing.len(),
        res.damaged.len()
    ));
    for e in &res.damaged {
        d.p(&format!("Damaged run file, skipped: {e}"));
    }
    if !res.missing.is_empty() {
        d.p("Missing runs are those of other shards or of an interrupted sweep; run the sweep again (or `strata merge` the shards) to complete them.");
    }

    let all: Vec<&RunRecord> = res.runs.iter().collect();
    decisions::claims_section(&mut d, res);
    decisions::selection_section(&mut d, res, &all);
    decisions::segments_section(&mut d, res);
    decisions::targeting_section(&mut d, res);
    if let Some(c) = &res.cohorts {
        decisions::cohort_section(&mut d, c);
    }
    decisions::mixed_section(&mut d, &all);
    decisions::campaign_test_section(&mut d, res);
    if let Some(s) = &res.similarity {
        decisions::similarity_section(&mut d, s);
    }
    runs::best_section(&mut d, &all);
    runs::curves_section(&mut d, &all);
    runs::representations_section(&mut d, &all);
    runs::all_runs_section(&mut d, &all);
    runs::classification_stage(&mut d, res);

    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>strata report: {}</title>\n<style>\
body{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}}\
table{{border-collapse:collapse;margin:1em 0;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left}}\
th{{background:#f0f0f0}}figure{{display:inline-block;margin:0.5em}}h3{{margin-top:1.5em}}\
</style></head><body>\n{}</body></html>\n",
        esc(&plan.experiment),
        d.html
    );
    (html, d.md)
}

/// Writes `report.html`, `report.md` and `RESULTS.md` into the experiment folder.
pub fn write(res: &ExperimentResults) -> anyhow::Result<Vec<PathBuf>> {
    let (html, md) = render(res);
    let h = res.dir.join("report.html");
    let m = res.dir.join("report.md");
    let r = res.dir.join(crate::results_md::FILE);
    crate::store::write_atomic(&h, html.as_bytes())?;
    crate::store::write_atomic(&m, md.as_bytes())?;
    crate::store::write_atomic(&r, crate::results_md::render(res).as_bytes())?;
    Ok(vec![h, m, r])
}
