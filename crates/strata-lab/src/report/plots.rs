//! SVG charts (plotters, rendered to strings): curves against k and the
//! scatter of the chosen clustering.

use crate::store::{ExperimentResults, RunRecord};
use plotters::prelude::*;
use std::collections::BTreeMap;

pub(super) type Series = Vec<(String, Vec<(f64, f64)>)>;

/// (min x, max x, min y, max y) of points.
fn bounds(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64, f64, f64) {
    points.fold(
        (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
        |(x0, x1, y0, y1), (x, y)| (x0.min(x), x1.max(x), y0.min(y), y1.max(y)),
    )
}

/// An SVG line chart (x = k) with a legend; empty string when nothing to draw.
pub(super) fn line_chart(title: &str, x_desc: &str, y_desc: &str, series: &Series) -> String {
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
pub(super) fn scatter_chart(res: &ExperimentResults, run: &RunRecord) -> String {
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
