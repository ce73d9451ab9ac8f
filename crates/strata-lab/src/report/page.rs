//! The page: one builder that writes the same content as HTML and Markdown,
//! and the number formats every section shares.

use std::fmt::Write as _;

pub(super) struct Doc {
    pub(super) html: String,
    pub(super) md: String,
}

impl Doc {
    pub(super) fn h(&mut self, level: usize, text: &str) {
        let _ = writeln!(self.html, "<h{level}>{}</h{level}>", esc(text));
        let _ = writeln!(self.md, "\n{} {text}\n", "#".repeat(level));
    }
    pub(super) fn p(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p>{}</p>", esc(text));
        let _ = writeln!(self.md, "{text}\n");
    }
    pub(super) fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
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
    pub(super) fn markdown(&mut self, md: &str) {
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
    /// A heading over charts only: the Markdown, which has no charts, skips it.
    pub(super) fn chart_heading(&mut self, level: usize, text: &str) {
        let _ = writeln!(self.html, "<h{level}>{}</h{level}>", esc(text));
    }
    /// A paragraph for the Markdown only (where the HTML shows charts).
    pub(super) fn md_only(&mut self, text: &str) {
        let _ = writeln!(self.md, "{text}\n");
    }
    pub(super) fn svg(&mut self, svg: String) {
        if !svg.is_empty() {
            let _ = writeln!(self.html, "<figure>{svg}</figure>");
        }
    }
}

pub(super) fn pm(mean: Option<&f64>, sd: Option<&f64>) -> String {
    match (mean, sd) {
        (Some(m), Some(s)) => format!("{m:.3} ± {s:.3}"),
        _ => "–".into(),
    }
}

/// A value in original units, with as many decimals as its size needs.
pub(super) fn fmt_units(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A metric for a table cell: `–` when absent.
pub(super) fn fmt(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.abs() >= 1e4 => format!("{x:.4e}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// Escapes text for HTML.
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
