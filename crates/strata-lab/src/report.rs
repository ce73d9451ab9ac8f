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

/// Mean pairwise ARI above which a clustering counts as stable.
pub const STABLE_ARI: f64 = 0.8;

/// Headline metrics: name, whether higher is better.
pub const HEADLINE: &[(&str, bool)] = &[
    ("silhouette", true),
    ("stability_mean_ari", true),
    ("calinski_harabasz", true),
    ("davies_bouldin", false),
    ("bic", false),
];

/// Smallest share of rows a cluster must hold for a clustering to be
/// recommended: a "segment" of a handful of outliers is not actionable.
pub const MIN_CLUSTER_SHARE: f64 = 0.02;

fn smallest_share(r: &RunRecord) -> f64 {
    r.clustering.as_ref().map_or(0.0, |c| {
        let n: usize = c.sizes.iter().sum();
        c.sizes
            .iter()
            .copied()
            .filter(|&s| s > 0)
            .min()
            .unwrap_or(0) as f64
            / n.max(1) as f64
    })
}

/// The run a report recommends, and why: among runs whose every cluster holds
/// at least 2 % of the rows, the highest silhouette among the stable ones.
pub fn choose<'a>(runs: &[&'a RunRecord]) -> Option<(&'a RunRecord, String)> {
    let scored: Vec<&RunRecord> = runs
        .iter()
        .copied()
        .filter(|r| r.status == RunStatus::Ok && r.metrics.contains_key("silhouette"))
        .collect();
    if scored.is_empty() {
        return None;
    }
    let sizeable: Vec<&RunRecord> = scored
        .iter()
        .copied()
        .filter(|r| smallest_share(r) >= MIN_CLUSTER_SHARE)
        .collect();
    let (scored, size_note) = if sizeable.is_empty() {
        (
            scored,
            " (every run has a cluster under 2 % of the rows)".to_string(),
        )
    } else {
        let left = scored.len() - sizeable.len();
        let note = if left > 0 {
            format!(" ({left} runs with a cluster under 2 % of the rows set aside)")
        } else {
            String::new()
        };
        (sizeable, note)
    };
    let has_stability = scored
        .iter()
        .any(|r| r.metrics.contains_key("stability_mean_ari"));
    let stable: Vec<&RunRecord> = scored
        .iter()
        .copied()
        .filter(|r| {
            r.metrics
                .get("stability_mean_ari")
                .is_some_and(|a| *a >= STABLE_ARI)
        })
        .collect();
    let (pool, why) = if has_stability && !stable.is_empty() {
        (
            stable.clone(),
            format!(
                "highest silhouette among the {} of {} runs whose stability ARI is at least {STABLE_ARI}",
                stable.len(),
                scored.len()
            ),
        )
    } else if has_stability {
        (
            scored.clone(),
            format!(
                "highest silhouette; no run reached stability ARI {STABLE_ARI}, so treat it with care"
            ),
        )
    } else {
        (
            scored.clone(),
            "highest silhouette (stability not measured)".to_string(),
        )
    };
    let best = pool
        .into_iter()
        .max_by(|a, b| a.metrics["silhouette"].total_cmp(&b.metrics["silhouette"]))?;
    let mut reason = format!(
        "{why}{size_note}: silhouette {:.3}",
        best.metrics["silhouette"]
    );
    if let Some(a) = best.metrics.get("stability_mean_ari") {
        let _ = write!(reason, ", stability ARI {a:.3}");
    }
    Some((best, reason))
}

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
        d.h(3, "Each feature set against the original features (paired over the same folds, bootstrap 95 % interval)");
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
                ]
            })
            .collect();
        d.table(
            &[
                "feature set",
                "model",
                "metric",
                "difference",
                "95 % interval",
                "verdict",
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

/// One claim of the study and what this experiment's results say about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Claim {
    pub claim: &'static str,
    /// `None` when the evidence is mixed.
    pub holds: Option<bool>,
    pub evidence: String,
}

impl Claim {
    pub fn verdict(&self) -> &'static str {
        match self.holds {
            Some(true) => "holds",
            Some(false) => "does not hold",
            None => "mixed",
        }
    }
}

/// The run with the highest `metric` among those whose every cluster holds at
/// least 2 % of the rows (a tiny outlier cluster inflates the silhouette).
fn best_by<'a>(runs: impl Iterator<Item = &'a RunRecord>, metric: &str) -> Option<&'a RunRecord> {
    runs.filter(|r| {
        r.metrics.get(metric).is_some_and(|v| v.is_finite())
            && smallest_share(r) >= MIN_CLUSTER_SHARE
    })
    .max_by(|a, b| a.metrics[metric].total_cmp(&b.metrics[metric]))
}

/// The study's claims that this experiment's results can test.
pub fn claims(res: &ExperimentResults) -> Vec<Claim> {
    let mut out = Vec::new();
    let ok: Vec<&RunRecord> = res
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .collect();
    let reps: Vec<String> = {
        let mut v: Vec<String> = ok.iter().map(|r| r.config.representation.label()).collect();
        v.sort();
        v.dedup();
        v
    };
    // (1) k-means suits the features better than Gaussian mixtures.
    let (mut km_wins, mut compared, mut lines) = (0, 0, Vec::new());
    for rep in &reps {
        let of = |alg: &str| {
            best_by(
                ok.iter().copied().filter(|r| {
                    &r.config.representation.label() == rep && r.config.clusterer.algorithm == alg
                }),
                "silhouette",
            )
        };
        if let (Some(k), Some(g)) = (of("kmeans"), of("gmm")) {
            compared += 1;
            let (sk, sg) = (k.metrics["silhouette"], g.metrics["silhouette"]);
            if sk > sg {
                km_wins += 1;
            }
            let stab = |r: &RunRecord| {
                r.metrics
                    .get("stability_mean_ari")
                    .map_or(String::new(), |a| format!(", stability {a:.2}"))
            };
            lines.push(format!(
                "{}: k-means best silhouette {sk:.3} (k={}{}) vs mixture {sg:.3} (k={}{})",
                rep.split('(').next().unwrap_or(rep),
                k.config
                    .clusterer
                    .params
                    .0
                    .get("k")
                    .map_or("?".into(), |v| v.to_string()),
                stab(k),
                g.config
                    .clusterer
                    .params
                    .0
                    .get("k")
                    .map_or("?".into(), |v| v.to_string()),
                stab(g)
            ));
        }
    }
    if compared > 0 {
        out.push(Claim {
            claim: "k-means suits these features better than Gaussian mixtures",
            holds: if km_wins == compared { Some(true) } else if km_wins == 0 { Some(false) } else { None },
            evidence: format!(
                "k-means has the higher best silhouette on {km_wins} of {compared} representations (clusterings with a cluster under 2 % of the rows left out). {}",
                lines.join("; ")
            ),
        });
    }
    // (2) Dimensionality reduction improves cluster cohesion.
    let none = best_by(
        ok.iter()
            .copied()
            .filter(|r| r.config.representation.algorithm == "none"),
        "silhouette",
    );
    if let Some(n) = none {
        let sn = n.metrics["silhouette"];
        let mut better = 0;
        let mut lines = Vec::new();
        let reduced: Vec<&String> = reps.iter().filter(|r| !r.starts_with("none")).collect();
        for rep in &reduced {
            if let Some(b) = best_by(
                ok.iter()
                    .copied()
                    .filter(|r| &&r.config.representation.label() == rep),
                "silhouette",
            ) {
                let sb = b.metrics["silhouette"];
                if sb > sn {
                    better += 1;
                }
                lines.push(format!("{} {sb:.3}", rep.split('(').next().unwrap_or(rep)));
            }
        }
        if !reduced.is_empty() {
            out.push(Claim {
                claim: "dimensionality reduction improves cluster cohesion",
                holds: if better == reduced.len() { Some(true) } else if better == 0 { Some(false) } else { None },
                evidence: format!(
                    "best silhouette without reduction {sn:.3}; with {} (higher on {better} of {}). Silhouettes are measured in each representation's own space, so a smaller space with fewer noisy directions scores higher by construction; read this as cohesion in the reduced space.",
                    lines.join(", "),
                    reduced.len()
                ),
            });
        }
    }
    // (3) Cluster features improve recall of rare responders, accuracy barely moves.
    if let Some(c) = &res.classification {
        let find = |fs: &str, metric: &str| {
            c.comparisons
                .iter()
                .find(|p| p.model == "mlp" && p.b == fs && p.metric == metric)
        };
        let sets: Vec<String> = c
            .report
            .summary
            .iter()
            .filter(|s| {
                s.model == "mlp"
                    && (s.feature_set.starts_with("original+clusters")
                        || s.feature_set.starts_with("original+posteriors"))
            })
            .map(|s| s.feature_set.clone())
            .collect();
        let mut gains = 0;
        let mut lines = Vec::new();
        for fs in &sets {
            if let (Some(r), Some(a)) = (find(fs, "recall"), find(fs, "accuracy")) {
                if r.low > 0.0 {
                    gains += 1;
                }
                lines.push(format!(
                    "{fs}: recall {:+.3} [{:+.3}, {:+.3}], accuracy {:+.3} [{:+.3}, {:+.3}]",
                    r.mean_diff, r.low, r.high, a.mean_diff, a.low, a.high
                ));
            }
        }
        if !lines.is_empty() {
            out.push(Claim {
                claim: "cluster features improve the MLP's recall of rare responders while accuracy changes little",
                holds: if gains == lines.len() { Some(true) } else if gains == 0 { Some(false) } else { None },
                evidence: format!(
                    "paired over {} folds against the original features (bootstrap 95 % intervals); a gain counts only when the interval excludes 0. {}",
                    c.config.folds * c.config.repeats,
                    lines.join("; ")
                ),
            });
        }
    }
    // (4) Some segments do not respond and some are worth pushing.
    if let Some(seg) = &res.segments {
        use crate::segments::Action;
        let acts: Vec<(usize, Action, f64)> = seg
            .cards
            .iter()
            .filter_map(|c| {
                c.campaign
                    .as_ref()
                    .and_then(|k| Some((c.segment, k.action?, k.profit_per_contact?)))
            })
            .collect();
        if !acts.is_empty() {
            let n = |a: Action| acts.iter().filter(|x| x.1 == a).count();
            let (contact, skip) = (n(Action::Contact), n(Action::Skip));
            let list: Vec<String> = acts
                .iter()
                .map(|(s, a, p)| format!("segment {s}: {p:+.2} per contact ({a:?})"))
                .collect();
            out.push(Claim {
                claim: "some segments do not respond and some are worth pushing",
                holds: Some(contact > 0 && skip > 0),
                evidence: format!(
                    "in the chosen clustering ({} on {}): {contact} segment(s) to contact, {skip} to skip, {} uncertain; {}",
                    seg.clusterer,
                    seg.representation.split('(').next().unwrap_or(&seg.representation),
                    n(Action::Uncertain),
                    list.join(", ")
                ),
            });
        }
    }
    out
}

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
        let rows: Vec<Vec<String>> = verdicts
            .iter()
            .map(|c| {
                vec![
                    c.claim.to_string(),
                    c.verdict().to_string(),
                    c.evidence.clone(),
                ]
            })
            .collect();
        d.table(&["claim", "verdict", "evidence"], &rows);
    }
    d.h(2, "Chosen clustering");
    match choose(&all) {
        Some((best, why)) => {
            d.p(&format!(
                "{} on {}: {why}.",
                best.config.clusterer.label(),
                best.config.representation.label()
            ));
            if let Some(c) = &best.clustering {
                d.p(&format!("Cluster sizes: {:?}.", c.sizes));
            }
            d.svg(scatter_chart(res, best));
        }
        None => d.p("No run has a silhouette, so none can be recommended."),
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
        d.h(2, "Segment stability over time");
        d.p(&format!(
            "Rows with `{}` on or before {} ({} rows) and after it ({} rows) were segmented separately with the chosen representation and clustering; {}.",
            c.column, c.split, c.early_rows, c.late_rows, c.verdict
        ));
        let rows: Vec<Vec<String>> = c
            .drift
            .iter()
            .map(|d| {
                vec![
                    format!("{} ({:.1} %)", d.early_segment, 100.0 * d.early_share),
                    format!("{} ({:.1} %)", d.late_segment, 100.0 * d.late_share),
                    format!("{:.2}", d.distance),
                ]
            })
            .collect();
        d.table(
            &[
                "earlier cohort's segment (share of all rows)",
                "nearest later segment",
                "centre moved (sd)",
            ],
            &rows,
        );
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
            "silhouette",
            "stability ARI",
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
            ("silhouette", "mean silhouette"),
            ("bic", "BIC"),
            ("aic", "AIC"),
            ("stability_mean_ari", "stability (mean ARI)"),
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
            "silhouette",
            "stability ARI",
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

/// Writes `report.html` and `report.md` into the experiment folder.
pub fn write(res: &ExperimentResults) -> anyhow::Result<Vec<PathBuf>> {
    let (html, md) = render(res);
    let h = res.dir.join("report.html");
    let m = res.dir.join("report.md");
    crate::store::write_atomic(&h, html.as_bytes())?;
    crate::store::write_atomic(&m, md.as_bytes())?;
    Ok(vec![h, m])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{AlgoConfig, Evaluation, RunConfig};
    use crate::store::{ClusteringInfo, DatasetRef};
    use strata_core::{Diagnostics, Params, Seed};

    fn run(hash: &str, silhouette: f64, stability: Option<f64>, sizes: Vec<usize>) -> RunRecord {
        let mut metrics = BTreeMap::from([("silhouette".to_string(), silhouette)]);
        if let Some(s) = stability {
            metrics.insert("stability_mean_ari".into(), s);
        }
        let algo = |a: &str| AlgoConfig {
            algorithm: a.into(),
            params: Params::default(),
        };
        RunRecord {
            hash: hash.into(),
            experiment: "x".into(),
            config: RunConfig {
                representation: algo("none"),
                clusterer: algo("kmeans"),
                evaluation: Evaluation::default(),
                seed: Seed(0),
            },
            dataset: DatasetRef {
                descriptor: "d".into(),
                sha256: String::new(),
                rows: sizes.iter().sum(),
                features: 2,
            },
            strata_version: String::new(),
            status: RunStatus::Ok,
            error: None,
            representation: None,
            clustering: Some(ClusteringInfo {
                n_clusters: sizes.len(),
                sizes,
                diagnostics: Diagnostics::default(),
                labels: Vec::new(),
            }),
            metrics,
            silhouette_rows: None,
            timings_s: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn choose_prefers_stable_sizeable_clusterings() {
        let tiny = run("tiny", 0.9, Some(1.0), vec![995, 5]);
        let unstable = run("unstable", 0.6, Some(0.5), vec![500, 500]);
        let stable = run("stable", 0.4, Some(0.9), vec![600, 400]);
        let (best, why) = choose(&[&tiny, &unstable, &stable]).expect("a choice");
        assert_eq!(best.hash, "stable");
        assert!(
            why.contains("among the 1 of 2 runs whose stability ARI is at least 0.8"),
            "{why}"
        );
        assert!(
            why.contains("1 runs with a cluster under 2 % of the rows set aside"),
            "{why}"
        );
        // Without any stable run: the highest silhouette, with a warning.
        let (best, why) = choose(&[&tiny, &unstable]).expect("a choice");
        assert_eq!(best.hash, "unstable");
        assert!(why.contains("no run reached stability ARI 0.8"), "{why}");
        // Without stability measured.
        let a = run("a", 0.3, None, vec![50, 50]);
        let b = run("b", 0.5, None, vec![50, 50]);
        let (best, why) = choose(&[&a, &b]).expect("a choice");
        assert_eq!(
            (
                best.hash.as_str(),
                why.starts_with("highest silhouette (stability not measured)")
            ),
            ("b", true)
        );
        assert!(choose(&[]).is_none());
    }
}
