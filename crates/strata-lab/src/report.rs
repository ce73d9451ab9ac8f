//! Reports: a self-contained `report.html` (inline SVG plots, no scripts, no
//! network) and a `report.md` with the same tables, per experiment folder.
//!
//! A damaged or missing run file is listed at the top of the report and left
//! out of the plots; it never stops the report.

use crate::store::{ExperimentResults, RunRecord, RunStatus};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
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

fn k_of(r: &RunRecord) -> Option<f64> {
    match r.config.clusterer.params.0.get("k") {
        Some(strata_core::ParamValue::Int(k)) => Some(*k as f64),
        _ => None,
    }
}

/// The clusterer's label without `k` (one line per such family in a plot).
fn family(r: &RunRecord) -> String {
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

fn fmt(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.abs() >= 1e4 => format!("{x:.4e}"),
        Some(x) => format!("{x:.4}"),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

type Series = Vec<(String, Vec<(f64, f64)>)>;

/// (min x, max x, min y, max y) of points.
fn bounds(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64, f64, f64) {
    points.fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(x0, x1, y0, y1), (x, y)| (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
    )
}

/// An SVG line chart (x = k) with a legend; empty string when nothing to draw.
fn line_chart(title: &str, x_desc: &str, y_desc: &str, series: &Series) -> String {
    let pts: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, p)| p.iter().copied())
        .filter(|p| p.1.is_finite())
        .collect();
    if pts.is_empty() {
        return String::new();
    }
    let (x0, mut x1, y0, y1) = bounds(pts.iter().copied());
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = if y1 > y0 {
        0.08 * (y1 - y0)
    } else {
        0.5 * y0.abs().max(1.0)
    };
    let (y0, y1) = (y0 - pad, y1 + pad);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 340)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 17))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(x0..x1, y0..y1)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .x_label_formatter(&|v| format!("{v:.0}"))
                .y_label_formatter(&|v| {
                    let a = v.abs();
                    if a >= 1e5 {
                        format!("{v:.2e}")
                    } else if a >= 100.0 {
                        format!("{v:.0}")
                    } else if a >= 1.0 {
                        format!("{v:.2}")
                    } else {
                        format!("{v:.3}")
                    }
                })
                .draw()?;
            for (i, (name, p)) in series.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(p.iter().copied(), color.stroke_width(2)))?
                    .label(name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart.draw_series(
                    p.iter()
                        .map(|&(x, y)| Circle::new((x, y), 3, color.filled())),
                )?;
            }
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperRight)
                .draw()?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!("plot `{title}`: {e}");
        }
    }
    svg
}

/// Scatter of the first two principal components coloured by cluster.
fn scatter_chart(res: &ExperimentResults, run: &RunRecord) -> String {
    let (Some(s), Some(c)) = (&res.scatter, &run.clustering) else {
        return String::new();
    };
    let mut by_cluster: BTreeMap<usize, Vec<(f64, f64)>> = BTreeMap::new();
    for (j, &row) in s.rows.iter().enumerate() {
        if let Some(&l) = c.labels.get(row) {
            by_cluster.entry(l).or_default().push((s.pc1[j], s.pc2[j]));
        }
    }
    let (x0, x1, y0, y1) = bounds(s.pc1.iter().copied().zip(s.pc2.iter().copied()));
    if !(x1 > x0 && y1 > y0) {
        return String::new();
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (620, 480)).into_drawing_area();
        let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(
                    format!("{} rows sampled, coloured by cluster", s.rows.len()),
                    ("sans-serif", 17),
                )
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(x0..x1, y0..y1)?;
            let pct = |i: usize| s.explained.get(i).map_or(0.0, |v| 100.0 * v);
            chart
                .configure_mesh()
                .x_desc(format!("PC1 ({:.1} % of variance)", pct(0)))
                .y_desc(format!("PC2 ({:.1} % of variance)", pct(1)))
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .x_label_formatter(&|v| format!("{v:.1}"))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .draw()?;
            for (l, pts) in &by_cluster {
                let color = Palette99::pick(*l).to_rgba();
                chart
                    .draw_series(
                        pts.iter()
                            .map(|&p| Circle::new(p, 2, color.mix(0.6).filled())),
                    )?
                    .label(format!(
                        "cluster {l} ({} rows)",
                        c.sizes.get(*l).copied().unwrap_or(0)
                    ))
                    .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
            }
            chart
                .configure_series_labels()
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
            root.present()?;
            Ok(())
        };
        if let Err(e) = draw() {
            tracing::warn!("scatter plot: {e}");
        }
    }
    svg
}

struct Doc {
    html: String,
    md: String,
}

impl Doc {
    fn h(&mut self, level: usize, text: &str) {
        let _ = writeln!(self.html, "<h{level}>{}</h{level}>", esc(text));
        let _ = writeln!(self.md, "\n{} {text}\n", "#".repeat(level));
    }
    fn p(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p>{}</p>", esc(text));
        let _ = writeln!(self.md, "{text}\n");
    }
    fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        if rows.is_empty() {
            return;
        }
        self.html.push_str("<table><tr>");
        for h in head {
            let _ = write!(self.html, "<th>{}</th>", esc(h));
        }
        self.html.push_str("</tr>\n");
        for r in rows {
            self.html.push_str("<tr>");
            for c in r {
                let _ = write!(self.html, "<td>{}</td>", esc(c));
            }
            self.html.push_str("</tr>\n");
        }
        self.html.push_str("</table>\n");
        let _ = writeln!(self.md, "| {} |", head.join(" | "));
        let _ = writeln!(self.md, "|{}", "---|".repeat(head.len()));
        for r in rows {
            let _ = writeln!(self.md, "| {} |", r.join(" | ").replace('\n', " "));
        }
        self.md.push('\n');
    }
    /// Headings (`### `), bullet lists (`- `) and bold (`**`) from a Markdown fragment.
    fn markdown(&mut self, md: &str) {
        self.md.push_str(md);
        let mut in_list = false;
        for line in md.lines() {
            let bold = |t: &str| {
                let mut out = String::new();
                for (i, part) in esc(t).split("**").enumerate() {
                    if i % 2 == 1 {
                        let _ = write!(out, "<strong>{part}</strong>");
                    } else {
                        out.push_str(part);
                    }
                }
                out
            };
            if let Some(item) = line.strip_prefix("- ") {
                if !in_list {
                    self.html.push_str("<ul>\n");
                    in_list = true;
                }
                let _ = writeln!(self.html, "<li>{}</li>", bold(item));
                continue;
            }
            if in_list {
                self.html.push_str("</ul>\n");
                in_list = false;
            }
            if let Some(h) = line.strip_prefix("### ") {
                let _ = writeln!(self.html, "<h3>{}</h3>", esc(h));
            } else if !line.trim().is_empty() {
                let _ = writeln!(self.html, "<p>{}</p>", bold(line));
            }
        }
        if in_list {
            self.html.push_str("</ul>\n");
        }
    }
    fn svg(&mut self, svg: String) {
        if !svg.is_empty() {
            let _ = writeln!(self.html, "<figure>{svg}</figure>");
        }
    }
}

fn pm(mean: Option<&f64>, sd: Option<&f64>) -> String {
    match (mean, sd) {
        (Some(m), Some(s)) => format!("{m:.3} ± {s:.3}"),
        _ => "–".into(),
    }
}

fn classification_section(d: &mut Doc, c: &crate::classify::ClassificationRecord) {
    d.p(&format!(
        "Target `{}`: {} positives of {} rows ({:.1} %). {} folds x {} repeats, stratified; within each training fold 20 % is held out for early stopping and the decision threshold, which is {}. Figures are means ± standard deviations over the {} test folds.",
        c.target,
        c.positives,
        c.rows,
        100.0 * c.positives as f64 / c.rows.max(1) as f64,
        c.config.folds,
        c.config.repeats,
        c.report.threshold_rule,
        c.config.folds * c.config.repeats
    ));
    let mut rows = Vec::new();
    for s in &c.report.summary {
        let mut row = vec![s.feature_set.clone(), s.model.clone()];
        for m in [
            "accuracy",
            "recall",
            "precision",
            "specificity",
            "pr_auc",
            "roc_auc",
            "balanced_accuracy",
        ] {
            row.push(pm(s.mean.get(m), s.sd.get(m)));
        }
        row.push(format!(
            "TP {} FP {} TN {} FN {}",
            s.confusion.tp, s.confusion.fp, s.confusion.tn, s.confusion.r#fn
        ));
        rows.push(row);
    }
    d.table(
        &[
            "feature set",
            "model",
            "accuracy",
            "recall",
            "precision",
            "specificity",
            "PR-AUC",
            "ROC-AUC",
            "balanced accuracy",
            "confusion (summed over folds)",
        ],
        &rows,
    );
    if !c.comparisons.is_empty() {
        let first = &c.comparisons[0];
        d.h(3, "Each feature set against the original features");
        d.p(&format!(
            "Paired over the same {} folds; {:.0} % intervals from the {}, which widens the interval for the overlap of the training sets of repeated cross-validation. Intervals are per comparison (unadjusted); the family is all {} comparisons below, and the last column gives Holm-adjusted p-values over it.",
            first.n_pairs,
            100.0 * first.level,
            first.method,
            first.family_size
        ));
        let rows: Vec<Vec<String>> = c
            .comparisons
            .iter()
            .map(|p| {
                vec![
                    p.b.clone(),
                    p.model.clone(),
                    p.metric.clone(),
                    format!("{:+.3}", p.mean_diff),
                    format!("[{:+.3}, {:+.3}]", p.low, p.high),
                    p.verdict(),
                    format!("{:.3}", p.p_holm),
                ]
            })
            .collect();
        d.table(
            &[
                "feature set",
                "model",
                "metric",
                "difference",
                "95 % interval (unadjusted)",
                "verdict",
                "p (Holm)",
            ],
            &rows,
        );
    }
    if let Some(h) = c
        .report
        .folds
        .iter()
        .find(|f| f.model == "mlp" && f.repeat == 0 && f.fold == 0)
        .and_then(|f| f.history.as_ref().map(|h| (f.feature_set.clone(), h)))
    {
        let (fs, h) = h;
        let series: Series = vec![
            (
                "training loss".into(),
                h.train_loss
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            ),
            (
                "validation loss".into(),
                h.validation_loss
                    .iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            ),
        ];
        d.svg(line_chart(
            &format!("MLP learning curve — {fs}, repeat 0 fold 0"),
            "epoch",
            "weighted cross-entropy",
            &series,
        ));
        d.p(&format!(
            "Kept the weights of epoch {}{}.",
            h.best_epoch + 1,
            if h.stopped_early {
                " (stopped early)"
            } else {
                ""
            }
        ));
    }
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
    let verdicts = claims(res);
    if !verdicts.is_empty() {
        d.h(2, "Claims of the study, tested on this data");
        d.p("Four outcomes: supported (the evidence clears the margin of practical relevance), not shown (compatible with no relevant effect and with a relevant one), contradicted (excludes any relevant effect in the claimed direction), mixed (parts disagree). Each rule, margin and method is stated beside its verdict; margins come from the manifest's [verdicts] table.");
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|c| {
                vec![
                    c.claim.to_string(),
                    c.verdict().to_string(),
                    c.evidence.clone(),
                    c.rule.clone(),
                ]
            })
            .collect();
        d.table(&["claim", "verdict", "evidence", "rule"], &rows);
    }
    d.h(2, "Chosen clustering");
    match &res.plan.pin {
        Some(p) => d.p(&format!(
            "Pinned by the manifest: [segments] {}. The rule that would otherwise apply, and its table below: {}.",
            p.label(),
            crate::selection::RULE
        )),
        None => d.p(&format!("Rule: {}.", crate::selection::RULE)),
    }
    match crate::selection::chosen(&all, res.plan.pin.as_ref()) {
        Some((best, why)) => {
            d.p(&format!(
                "{} on {}: {why}.",
                best.config.clusterer.label(),
                best.config.representation.label()
            ));
            if let Some(c) = &best.clustering {
                d.p(&format!("Cluster sizes: {:?}.", c.sizes));
            }
            for w in best.warnings.iter().filter(|w| w.contains("collapsed to reg_covar")) {
                d.p(&format!("Warning on the chosen run: {w}."));
            }
            d.svg(scatter_chart(res, best));
        }
        None => d.p("No run has a common-space silhouette, so none can be recommended."),
    }
    let mixtures = all
        .iter()
        .filter(|r| r.config.clusterer.algorithm == "gmm")
        .count();
    let collapsed = all
        .iter()
        .filter(|r| r.warnings.iter().any(|w| w.contains("collapsed to reg_covar")))
        .count();
    if collapsed > 0 {
        d.p(&format!(
            "Discrete columns: in {collapsed} of {mixtures} mixture runs a component is constant on a discrete column (binary, one-hot, a count, `key`, `mode`), so its variance there is only reg_covar and the likelihood, BIC and posteriors follow that column; each run's note in the table of all runs names the columns."
        ));
    }
    let table = crate::selection::candidates(&all);
    if !table.is_empty() {
        d.h(3, "Selection table (the 15 best candidates by common-space silhouette)");
        d.p("Common-space silhouette: the run's labels scored in the prepared features, comparable across representations. Own-space silhouette: scored in the run's representation, comparable only within it. Pipeline stability: mean ± sd of the ARI between fits of representation and clusterer on resamples, on shared rows.");
        let rows: Vec<Vec<String>> = table
            .iter()
            .take(15)
            .map(|c| {
                vec![
                    c.run.config.representation.label(),
                    c.run.config.clusterer.label(),
                    format!("{:.3}", c.common_silhouette),
                    fmt(c.own_silhouette),
                    c.stability
                        .map_or("–".into(), |(m, s)| format!("{m:.3} ± {s:.3}")),
                    format!("{:.1} %", 100.0 * c.smallest_share),
                    if c.eligible { "yes" } else { "no" }.into(),
                ]
            })
            .collect();
        d.table(
            &[
                "representation",
                "clusterer",
                "common-space silhouette",
                "own-space silhouette",
                "pipeline stability ARI",
                "smallest segment",
                "passes size and stability filters",
            ],
            &rows,
        );
    }

    if let Some(seg) = &res.segments {
        d.h(2, "Segments of the chosen clustering");
        d.p(&format!(
            "{} on {}. Traits are the largest standardized differences from all rows, in original units.{}",
            seg.clusterer,
            seg.representation,
            if seg.agreement.is_empty() {
                String::new()
            } else {
                let a: Vec<String> = seg.agreement.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
                format!(" Agreement with descriptive labels (used only to describe): {}.", a.join(", "))
            }
        ));
        d.markdown(&crate::segments::render(&seg.cards));
    }

    if let Some(t) = &res.targeting {
        d.h(2, "Campaign targeting on held-out customers");
        d.p(&format!(
            "Segments, their actions and the MLP were fitted on {} customers; {} others ({} responders) were held out and never used in a fit. {}.",
            t.train_rows,
            t.test_rows.len(),
            t.test_positives,
            t.verdict
        ));
        let rows: Vec<Vec<String>> = t
            .policies
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    p.contacted.to_string(),
                    format!("{:.0}", p.profit),
                    format!("[{:.0}, {:.0}]", p.low, p.high),
                ]
            })
            .collect();
        d.table(
            &[
                "policy",
                "customers contacted",
                "profit",
                "bootstrap 95 % interval",
            ],
            &rows,
        );
        let rows: Vec<Vec<String>> = t
            .segments
            .iter()
            .map(|s| {
                vec![
                    s.segment.to_string(),
                    s.train_size.to_string(),
                    format!(
                        "{:.1} % [{:.1}, {:.1}]",
                        100.0 * s.train_rate,
                        100.0 * s.rate_low,
                        100.0 * s.rate_high
                    ),
                    format!("[{:+.2}, {:+.2}]", s.profit_low, s.profit_high),
                    format!("{:?}", s.action).to_lowercase(),
                    s.test_size.to_string(),
                    format!("{:.1} %", 100.0 * s.test_rate),
                ]
            })
            .collect();
        d.table(
            &[
                "segment",
                "training customers",
                "training response rate",
                "profit per contact",
                "action",
                "held-out customers",
                "held-out response rate",
            ],
            &rows,
        );
        let mut series: Series = vec![(
            "MLP ranked list".into(),
            t.curve.iter().map(|&(n, p)| (n as f64, p)).collect(),
        )];
        for p in t.policies.iter().filter(|p| p.name != "MLP ranked list") {
            series.push((p.name.clone(), vec![(p.contacted as f64, p.profit)]));
        }
        d.svg(line_chart(
            "profit curve on held-out customers",
            "customers contacted",
            "cumulative profit",
            &series,
        ));
    }

    if let Some(c) = &res.cohorts {
        cohort_section(&mut d, c);
    }

    // Best per (representation, clusterer family).
    let mut groups: BTreeMap<(String, String), Vec<&RunRecord>> = BTreeMap::new();
    for r in &all {
        groups
            .entry((r.config.representation.label(), family(r)))
            .or_default()
            .push(r);
    }
    d.h(2, "Best configuration per representation and clusterer");
    let mut rows = Vec::new();
    for ((rep, fam), runs) in &groups {
        if let Some((b, why)) = choose(runs) {
            rows.push(vec![
                rep.clone(),
                fam.clone(),
                b.config
                    .clusterer
                    .params
                    .0
                    .get("k")
                    .map_or("–".into(), |k| k.to_string()),
                fmt(b.metrics.get("silhouette_common").copied()),
                fmt(b.metrics.get("silhouette").copied()),
                fmt(b.metrics.get("stability_mean_ari").copied()),
                fmt(b.metrics.get("bic").copied()),
                why,
            ]);
        }
    }
    d.table(
        &[
            "representation",
            "clusterer",
            "k",
            "common-space silhouette",
            "own-space silhouette",
            "pipeline stability ARI",
            "BIC",
            "why",
        ],
        &rows,
    );

    // Curves against k, one chart per representation and metric.
    d.h(2, "Metrics against k");
    let reps: Vec<String> = {
        let mut v: Vec<String> = all
            .iter()
            .map(|r| r.config.representation.label())
            .collect();
        v.dedup();
        let mut seen = Vec::new();
        v.retain(|x| {
            let new = !seen.contains(x);
            seen.push(x.clone());
            new
        });
        v
    };
    for rep in &reps {
        d.h(3, rep);
        for (metric, label) in [
            ("inertia", "inertia (within-cluster sum of squares)"),
            ("silhouette_common", "mean silhouette in the common space (prepared features)"),
            ("silhouette", "mean silhouette in this representation's own space (compare within it only)"),
            ("bic", "BIC"),
            ("aic", "AIC"),
            ("stability_mean_ari", "pipeline stability (mean ARI)"),
        ] {
            let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            for r in all
                .iter()
                .filter(|r| &r.config.representation.label() == rep)
            {
                if let (Some(k), Some(v)) = (k_of(r), r.metrics.get(metric)) {
                    series.entry(family(r)).or_default().push((k, *v));
                }
            }
            let mut series: Series = series.into_iter().collect();
            for (_, p) in &mut series {
                p.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            d.svg(line_chart(
                &format!("{label} — {rep}"),
                "k (clusters)",
                label,
                &series,
            ));
        }
    }

    // Representations.
    d.h(2, "Representations");
    let mut rep_rows = Vec::new();
    let mut seen = Vec::new();
    for r in &all {
        let label = r.config.representation.label();
        if seen.contains(&label) {
            continue;
        }
        let Some(info) = &r.representation else {
            continue;
        };
        seen.push(label.clone());
        let kurt: Vec<String> = info.kurtosis.iter().map(|k| format!("{k:.2}")).collect();
        rep_rows.push(vec![
            label.clone(),
            info.n_components.to_string(),
            fmt(info.reconstruction_error),
            kurt.join(", "),
            info.diagnostics.warnings.join("; "),
        ]);
        if let (Some(ratio), Some(cum)) = (
            info.diagnostics.series.get("explained_variance_ratio"),
            info.diagnostics.series.get("cumulative_variance_ratio"),
        ) {
            let series: Series = vec![
                (
                    "per component".into(),
                    ratio
                        .iter()
                        .enumerate()
                        .map(|(i, v)| ((i + 1) as f64, *v))
                        .collect(),
                ),
                (
                    "cumulative".into(),
                    cum.iter()
                        .enumerate()
                        .map(|(i, v)| ((i + 1) as f64, *v))
                        .collect(),
                ),
            ];
            d.svg(line_chart(
                &format!("explained variance — {label}"),
                "component",
                "share of variance",
                &series,
            ));
        }
        if let Some(k) = info.diagnostics.series.get("component_kurtosis") {
            let series: Series = vec![(
                "excess kurtosis".into(),
                k.iter()
                    .enumerate()
                    .map(|(i, v)| ((i + 1) as f64, *v))
                    .collect(),
            )];
            d.svg(line_chart(
                &format!("kurtosis per component — {label}"),
                "component",
                "excess kurtosis",
                &series,
            ));
        }
    }
    d.table(
        &[
            "representation",
            "components",
            "reconstruction MSE",
            "excess kurtosis per component",
            "warnings",
        ],
        &rep_rows,
    );

    // Every run.
    d.h(2, "All runs");
    let mut rows = Vec::new();
    for r in &all {
        let mut row = vec![
            r.hash.clone(),
            r.config.representation.label(),
            r.config.clusterer.label(),
            format!("{:?}", r.status).to_lowercase(),
        ];
        for (m, _) in HEADLINE {
            row.push(fmt(r.metrics.get(*m).copied()));
        }
        row.push(fmt(r.metrics.get("inertia").copied()));
        row.push(r.error.clone().unwrap_or_else(|| r.warnings.join("; ")));
        rows.push(row);
    }
    d.table(
        &[
            "run",
            "representation",
            "clusterer",
            "status",
            "common-space silhouette",
            "own-space silhouette",
            "pipeline stability ARI",
            "Calinski-Harabasz",
            "Davies-Bouldin",
            "BIC",
            "inertia",
            "notes",
        ],
        &rows,
    );
    d.h(2, "Downstream classification");
    match &res.classification {
        None => d.p("This experiment has no classification stage."),
        Some(c) => classification_section(&mut d, c),
    }

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

/// Segment drift: each cohort's own pipeline, matched segments, centres per
/// feature and response per cohort.
fn cohort_section(d: &mut Doc, c: &crate::cohorts::CohortReport) {
    d.h(2, "Segment drift between cohorts");
    let excluded = if c.excluded.is_empty() {
        String::new()
    } else {
        format!(
            " Features derived from `{}` ({}) differ between cohorts by construction: they are left out of both pipelines and of the comparison.",
            c.column,
            c.excluded.join(", ")
        )
    };
    d.p(&format!(
        "Rows with `{}` on or before {} ({} rows) and after it ({} rows) each got their own pipeline, fitted on their own rows only: preprocessing recipe, representation and clustering of the chosen segmentation ({} and {} columns).{excluded} Each pipeline then assigns every row; {}.",
        c.column, c.split, c.early_rows, c.late_rows, c.early_columns, c.late_columns, c.verdict
    ));
    let rate = |r: &Option<crate::cohorts::Rate>| {
        r.as_ref().map_or("–".to_string(), |r| {
            format!("{:.1} % [{:.1}, {:.1}]", 100.0 * r.rate, 100.0 * r.low, 100.0 * r.high)
        })
    };
    let rows: Vec<Vec<String>> = c
        .matches
        .iter()
        .map(|m| {
            vec![
                format!("{} ({:.1} %)", m.early_segment, 100.0 * m.early_share),
                format!("{} ({:.1} %)", m.late_segment, 100.0 * m.late_share),
                format!("{:.1} %", 100.0 * m.overlap),
                rate(&m.early_response),
                rate(&m.late_response),
                m.features
                    .iter()
                    .take(3)
                    .map(|f| {
                        format!(
                            "{} {} → {} ({:+.2} sd)",
                            f.feature,
                            fmt_units(f.early),
                            fmt_units(f.late),
                            f.shift_sd
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    d.table(
        &[
            "earlier segment (share of its cohort)",
            "matched later segment",
            "earlier segment's rows the later pipeline puts there",
            "response, earlier cohort (95 % Wilson)",
            "response, later cohort",
            "largest centre shifts (original units; pooled sd)",
        ],
        &rows,
    );
    if !c.unmatched.is_empty() {
        d.p(&format!(
            "Without a match (the pipelines found different numbers of segments): {}.",
            c.unmatched
                .iter()
                .map(|(cohort, s)| format!("{cohort} segment {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// A value in original units, with as many decimals as its size needs.
fn fmt_units(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}
