//! Similar rows regardless of popularity: the nearest rows (tracks, on the
//! Spotify catalogue) to a query row in the chosen representation of the
//! features. What is shown about a row (its name, "by", group and
//! popularity) is metadata, so it never enters the features searched here;
//! each of those columns is optional.

use ndarray::{Array2, ArrayView2};
use strata_data::descriptor::DisplayColumns;

/// Rows to search: their coordinates and what to show about them.
pub struct Catalogue {
    pub ids: Vec<String>,
    /// Per row, the values of the columns [`shown`] names, each only when
    /// one is shown: the name (a query matches it as it does the id), what
    /// follows "by", the group (with its column's name, the table's
    /// heading) and the popularity.
    pub names: Option<Vec<String>>,
    pub by: Option<Vec<String>>,
    pub group: Option<(String, Vec<String>)>,
    pub popularity: Option<Vec<f64>>,
    /// One row per track (the representation the clustering used).
    pub points: Array2<f64>,
    /// Segment of each track, when a clustering is known.
    pub segments: Option<Vec<usize>>,
    /// What a row is, singular and plural (the descriptor's `noun`), in
    /// the messages.
    pub noun: [String; 2],
}

/// The metadata columns `strata similar` shows: each from its flag
/// (`flags`) where given, else from the descriptor's `[display]`, else (the
/// popularity only) the manifest's `[similarity] popularity`; a column named
/// nowhere is not shown.
pub fn shown(flags: &DisplayColumns, display: &DisplayColumns, popularity: Option<&str>) -> DisplayColumns {
    let pick = |f: &Option<String>, d: &Option<String>| f.clone().or_else(|| d.clone());
    DisplayColumns {
        name: pick(&flags.name, &display.name),
        by: pick(&flags.by, &display.by),
        group: pick(&flags.group, &display.group),
        popularity: pick(&flags.popularity, &display.popularity).or_else(|| popularity.map(String::from)),
    }
}

/// One neighbour.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub row: usize,
    pub distance: f64,
}

fn sq_dist(x: ArrayView2<'_, f64>, a: usize, b: usize) -> f64 {
    x.row(a)
        .iter()
        .zip(x.row(b).iter())
        .map(|(p, q)| (p - q) * (p - q))
        .sum()
}

impl Catalogue {
    /// The row of a track given by id, or by name (case-insensitive) when the
    /// name is unique. An ambiguous name lists the matches with their artists
    /// and ids; an unknown one suggests the closest names, and an empty one
    /// says so.
    pub fn find(&self, query: &str) -> Result<usize, String> {
        if query.trim().is_empty() {
            return Err(format!("the query is empty: pass a {}'s name or id", self.noun[0]));
        }
        if let Some(i) = self.ids.iter().position(|id| id == query) {
            return Ok(i);
        }
        let q = query.trim().to_lowercase();
        let Some(names) = &self.names else {
            // An id close to the query is named; otherwise a few ids show
            // what they look like.
            let hint = match strata_core::text::closest(query.trim(), &self.ids) {
                Some(id) => format!("did you mean `{id}`?"),
                None => format!(
                    "ids look like {}",
                    self.ids.iter().take(3).map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")
                ),
            };
            return Err(format!(
                "no {} with the id \"{query}\" (no name column to match: pass --name-column, or set [display] name in the descriptor); {hint}",
                self.noun[0]
            ));
        };
        let hits: Vec<usize> = (0..names.len())
            .filter(|&i| names[i].to_lowercase() == q)
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let close = closest(&q, names);
                Err(format!(
                    "no {} named or identified \"{query}\"; closest names: {close}",
                    self.noun[0],
                ))
            }
            many => {
                let list: Vec<String> = many
                    .iter()
                    .take(20)
                    .map(|&i| format!("  {}  \"{}\"{}", self.ids[i], names[i], self.by_text(i)))
                    .collect();
                Err(format!(
                    "\"{query}\" names {} {}; pass the id of the one you mean:\n{}",
                    many.len(),
                    self.noun[1],
                    list.join("\n")
                ))
            }
        }
    }

    /// " by X" for row `i` when a "by" column is shown, else nothing.
    fn by_text(&self, i: usize) -> String {
        self.by.as_ref().map_or(String::new(), |b| format!(" by {}", b[i]))
    }

    /// The row's name quoted, then " by X", as shown (empty without a name
    /// column).
    fn title(&self, i: usize) -> String {
        match &self.names {
            Some(n) => format!("\"{}\"{}", n[i], self.by_text(i)),
            None => self.by_text(i).trim_start().to_string(),
        }
    }

    /// The `n` tracks nearest to row `of` (itself excluded), closest first;
    /// with `same_segment`, only tracks of its segment.
    pub fn nearest(&self, of: usize, n: usize, same_segment: bool) -> Vec<Neighbour> {
        let x = self.points.view();
        let seg = self.segments.as_ref().filter(|_| same_segment);
        let mut all: Vec<Neighbour> = (0..x.nrows())
            .filter(|&i| i != of && seg.is_none_or(|s| s[i] == s[of]))
            .map(|i| Neighbour {
                row: i,
                distance: sq_dist(x, of, i).sqrt(),
            })
            .collect();
        let n = n.min(all.len());
        if n == 0 {
            return Vec::new();
        }
        all.select_nth_unstable_by(n - 1, |a, b| {
            a.distance.total_cmp(&b.distance).then(a.row.cmp(&b.row))
        });
        all.truncate(n);
        all.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.row.cmp(&b.row)));
        all
    }

    /// A table of the query and its neighbours: the shown columns only.
    pub fn render(&self, of: usize, found: &[Neighbour]) -> String {
        let seg = |i: usize| self.segments.as_ref().map(|s| format!("segment {}", s[i]));
        let mut about: Vec<String> = Vec::new();
        if let Some((_, g)) = &self.group {
            about.push(g[of].clone());
        }
        if let Some(p) = &self.popularity {
            about.push(format!("popularity {:.0}", p[of]));
        }
        about.extend(seg(of));
        // Without a name, the id names the query.
        let mut out = match self.names {
            Some(_) => format!("query: {} [{}]", self.title(of), self.ids[of]),
            None => format!("query: [{}]{}", self.ids[of], self.by_text(of)),
        };
        if !about.is_empty() {
            out.push_str(&format!(" ({})", about.join(", ")));
        }
        out.push_str("\n\n  #  distance");
        if self.popularity.is_some() {
            out.push_str("  popularity");
        }
        if let Some((name, _)) = &self.group {
            out.push_str(&format!("  {name}"));
        }
        out.push_str(&format!("  {}\n", self.noun[0]));
        for (k, nb) in found.iter().enumerate() {
            let i = nb.row;
            out.push_str(&format!("{:>3}  {:>8.3}", k + 1, nb.distance));
            if let Some(p) = &self.popularity {
                out.push_str(&format!("  {:>10.0}", p[i]));
            }
            if let Some((_, g)) = &self.group {
                out.push_str(&format!("  {}", g[i]));
            }
            let title = self.title(i);
            out.push_str(&format!("  {}{}[{}]", title, if title.is_empty() { "" } else { " " }, self.ids[i]));
            if let Some(s) = seg(i) {
                out.push_str(&format!("  {s}"));
            }
            out.push('\n');
        }
        out
    }
}

/// The five values closest to `q` (case-insensitive edit distance), quoted.
fn closest(q: &str, values: &[String]) -> String {
    let mut scored: Vec<(usize, &str)> = values
        .iter()
        .map(|n| (strata_core::text::edit_distance(q, &n.to_lowercase()), n.as_str()))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.iter().take(5).map(|(_, n)| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalogue {
        let points = ndarray::array![[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.5, 0.1]];
        Catalogue {
            ids: (0..5).map(|i| format!("t{i}")).collect(),
            names: Some(vec![
                "Hello".into(),
                "Hello".into(),
                "Blue".into(),
                "Far".into(),
                "Near".into(),
            ]),
            by: Some(vec!["A".into(), "B".into(), "C".into(), "D".into(), "E".into()]),
            group: Some(("genre".into(), vec!["pop".into(); 5])),
            popularity: Some(vec![90.0, 3.0, 50.0, 10.0, 0.0]),
            points,
            segments: Some(vec![0, 0, 1, 1, 0]),
            noun: ["track".into(), "tracks".into()],
        }
    }

    #[test]
    fn duplicate_first_then_by_distance() {
        let c = cat();
        let n = c.nearest(0, 3, false);
        assert_eq!(n.iter().map(|x| x.row).collect::<Vec<_>>(), [1, 4, 2]);
        assert_eq!(n[0].distance, 0.0);
        let s = c.nearest(0, 3, true);
        assert_eq!(s.iter().map(|x| x.row).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn names_ids_ambiguity_and_suggestions() {
        let c = cat();
        assert_eq!(c.find("t3"), Ok(3));
        assert_eq!(c.find("blue"), Ok(2));
        let e = c.find("Hello").unwrap_err();
        assert!(
            e.contains("\"Hello\" names 2 tracks; pass the id") && e.contains("t0  \"Hello\" by A"),
            "{e}"
        );
        assert_eq!(c.find("  "), Err("the query is empty: pass a track's name or id".into()));
        let songs = Catalogue { noun: ["song".into(), "songs".into()], ..cat() };
        assert_eq!(songs.find(""), Err("the query is empty: pass a song's name or id".into()));
        assert!(songs.find("Hello").unwrap_err().contains("\"Hello\" names 2 songs;"));
        assert!(songs.find("Blu").unwrap_err().starts_with("no song named"));
        assert!(songs.render(0, &[]).ends_with("  #  distance  popularity  genre  song\n"), "{}", songs.render(0, &[]));
        // Without a name column a query is an id; the closest ids are named.
        let ids_only = Catalogue { names: None, ..cat() };
        assert_eq!(ids_only.find("t4"), Ok(4));
        let e = ids_only.find("Hello").unwrap_err();
        assert!(e.starts_with("no track with the id \"Hello\" (no name column to match") && e.ends_with("; ids look like \"t0\", \"t1\", \"t2\""), "{e}");
        assert!(ids_only.find("t44").unwrap_err().ends_with("; did you mean `t4`?"), "{:?}", ids_only.find("t44"));
        let e = c.find("Blu").unwrap_err();
        assert!(
            e.starts_with("no track named or identified \"Blu\"; closest names: \"Blue\""),
            "{e}"
        );
    }

    #[test]
    fn only_the_shown_columns_are_rendered() {
        let c = cat();
        let found = c.nearest(0, 2, false);
        assert_eq!(
            c.render(0, &found),
            "query: \"Hello\" by A [t0] (pop, popularity 90, segment 0)\n\n  #  distance  popularity  genre  track\n  \
             1     0.000           3  pop  \"Hello\" by B [t1]  segment 0\n  2     0.510           0  pop  \"Near\" by E [t4]  segment 0\n"
        );
        let bare = Catalogue { names: None, by: None, group: None, popularity: None, segments: None, ..cat() };
        assert_eq!(
            bare.render(0, &found),
            "query: [t0]\n\n  #  distance  track\n  1     0.000  [t1]\n  2     0.510  [t4]\n"
        );
        let by_only = Catalogue { names: None, group: None, popularity: None, ..cat() };
        assert!(
            by_only.render(0, &found).starts_with("query: [t0] by A (segment 0)\n\n  #  distance  track\n  1     0.000  by B [t1]  segment 0\n"),
            "{}",
            by_only.render(0, &found)
        );
    }

    #[test]
    fn flags_then_display_then_the_similarity_popularity() {
        let display = DisplayColumns {
            name: Some("title".into()),
            by: Some("artist".into()),
            group: None,
            popularity: None,
        };
        let flags = DisplayColumns { by: Some("maker".into()), ..DisplayColumns::default() };
        let got = shown(&flags, &display, Some("plays"));
        assert_eq!(
            got,
            DisplayColumns { name: Some("title".into()), by: Some("maker".into()), group: None, popularity: Some("plays".into()) }
        );
        let display = DisplayColumns { popularity: Some("stars".into()), ..display };
        assert_eq!(shown(&DisplayColumns::default(), &display, Some("plays")).popularity.as_deref(), Some("stars"));
        assert_eq!(shown(&DisplayColumns::default(), &DisplayColumns::default(), None), DisplayColumns::default());
    }
}
