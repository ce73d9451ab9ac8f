//! Similar songs regardless of popularity: the nearest tracks to a query track
//! in the chosen representation of the audio features. Popularity is metadata
//! in the Spotify descriptor, so it never enters the features searched here;
//! it is only listed beside each neighbour.

use ndarray::{Array2, ArrayView2};

/// Tracks to search: their coordinates and what to show about them.
pub struct Catalogue {
    pub ids: Vec<String>,
    pub names: Vec<String>,
    pub artists: Vec<String>,
    pub genres: Vec<String>,
    pub popularity: Vec<f64>,
    /// One row per track (the representation the clustering used).
    pub points: Array2<f64>,
    /// Segment of each track, when a clustering is known.
    pub segments: Option<Vec<usize>>,
    /// What a row is, singular and plural (the descriptor's `noun`), in
    /// the messages.
    pub noun: [String; 2],
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
        let hits: Vec<usize> = (0..self.names.len())
            .filter(|&i| self.names[i].to_lowercase() == q)
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => {
                let mut scored: Vec<(usize, &str)> = self
                    .names
                    .iter()
                    .map(|n| {
                        (
                            strata_core::text::edit_distance(&q, &n.to_lowercase()),
                            n.as_str(),
                        )
                    })
                    .collect();
                scored.sort();
                scored.dedup_by(|a, b| a.1 == b.1);
                let close: Vec<String> = scored
                    .iter()
                    .take(5)
                    .map(|(_, n)| format!("\"{n}\""))
                    .collect();
                Err(format!(
                    "no {} named or identified \"{query}\"; closest names: {}",
                    self.noun[0],
                    close.join(", ")
                ))
            }
            many => {
                let list: Vec<String> = many
                    .iter()
                    .take(20)
                    .map(|&i| {
                        format!(
                            "  {}  \"{}\" by {}",
                            self.ids[i], self.names[i], self.artists[i]
                        )
                    })
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

    /// A table of the query and its neighbours.
    pub fn render(&self, of: usize, found: &[Neighbour]) -> String {
        let seg = |i: usize| {
            self.segments
                .as_ref()
                .map_or(String::new(), |s| format!("  segment {}", s[i]))
        };
        let mut out = format!(
            "\"{}\" by {} ({}, popularity {:.0}{})\n\n  #  distance  popularity  genre  {}\n",
            self.names[of],
            self.artists[of],
            self.genres[of],
            self.popularity[of],
            seg(of),
            self.noun[0]
        );
        for (k, nb) in found.iter().enumerate() {
            let i = nb.row;
            out.push_str(&format!(
                "{:>3}  {:>8.3}  {:>10.0}  {}  \"{}\" by {} [{}]{}\n",
                k + 1,
                nb.distance,
                self.popularity[i],
                self.genres[i],
                self.names[i],
                self.artists[i],
                self.ids[i],
                seg(i)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalogue {
        let points = ndarray::array![[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [0.5, 0.1]];
        Catalogue {
            ids: (0..5).map(|i| format!("t{i}")).collect(),
            names: vec![
                "Hello".into(),
                "Hello".into(),
                "Blue".into(),
                "Far".into(),
                "Near".into(),
            ],
            artists: vec!["A".into(), "B".into(), "C".into(), "D".into(), "E".into()],
            genres: vec!["pop".into(); 5],
            popularity: vec![90.0, 3.0, 50.0, 10.0, 0.0],
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
        let e = c.find("Blu").unwrap_err();
        assert!(
            e.starts_with("no track named or identified \"Blu\"; closest names: \"Blue\""),
            "{e}"
        );
    }
}
