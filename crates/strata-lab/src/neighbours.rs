//! Similar songs, measured against human judgements.
//!
//! `strata similar` returns the nearest tracks in a representation of the
//! audio features; this module says whether they are good. The Spotify file
//! records which tracks people put in the same playlist, and each playlist's
//! genre and subgenre. A track can sit in several playlists, so every row of
//! the file counts (read before de-duplication): two tracks "share a
//! playlist" when any row of one and any row of the other name the same one.
//!
//! For a seeded sample of query tracks, precision@k is the share of a query's
//! k nearest tracks (itself excluded) that share a playlist, a subgenre, a
//! genre with it; its mean over queries gets a 95 % interval (normal, over
//! queries). Two baselines are computed the same way: k random tracks, and
//! the k tracks nearest by popularity alone. "Regardless of popularity" is
//! measured too: the popularity spread within each query's neighbours
//! against the catalogue's, the mean popularity gap to the query, and the
//! share of neighbours from the catalogue's least popular quartile.
//!
//! The representation `strata similar` searches is the one with the highest
//! precision on the first judgement over the first half of the queries; its
//! precision, and the baselines', is then read on the other half, which took
//! no part in the choice (the best of several scores on the same queries
//! would be flattered by their noise).
//!
//! The reports call the rows by the descriptor's `noun` ("tracks" for the
//! Spotify file; "rows" when a descriptor gives none).

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use strata_core::{Rng, Seed};

/// `[similarity]` in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilaritySpec {
    /// Columns of the file whose shared values mark tracks that belong
    /// together (e.g. `playlist_id`, `playlist_subgenre`, `playlist_genre`),
    /// read on every row of the file.
    pub judgements: Vec<String>,
    /// A metadata column holding popularity, for the baseline and the spread.
    pub popularity: String,
    /// Neighbours per query.
    #[serde(default = "ten")]
    pub k: usize,
    /// Query tracks, drawn at random (seeded).
    #[serde(default = "two_thousand")]
    pub queries: usize,
}

fn ten() -> usize {
    10
}
fn two_thousand() -> usize {
    2000
}

impl SimilaritySpec {
    pub fn check(&self) -> Result<(), String> {
        if self.judgements.is_empty() {
            return Err("similarity.judgements: name at least one column".into());
        }
        if self.k == 0 {
            return Err("similarity.k = 0: expected at least 1 neighbour".into());
        }
        if self.queries < 4 {
            return Err(format!(
                "similarity.queries = {}: expected at least 4 (half choose the representation, half measure it)",
                self.queries
            ));
        }
        Ok(())
    }
}

/// For each dataset row, the codes of the values it takes in one judgement
/// column over every row of the file with the same id (sorted, distinct).
pub type Memberships = Vec<Vec<u32>>;

/// Groups the file's rows by id: per judgement column, the codes of every
/// value each id takes; `ids` gives the order of the result.
pub fn memberships(
    raw: &strata_data::RawTable,
    id_column: &str,
    columns: &[String],
    ids: &[String],
) -> anyhow::Result<Vec<Memberships>> {
    let raw_ids = raw.text_column(id_column, &[])?;
    let position: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let mut out = Vec::new();
    for col in columns {
        let values = raw.text_column(col, &[]).map_err(|e| {
            anyhow::anyhow!("similarity.judgements: {e}")
        })?;
        let mut codes: HashMap<String, u32> = HashMap::new();
        let mut m: Memberships = vec![Vec::new(); ids.len()];
        for (id, v) in raw_ids.iter().zip(values) {
            let (Some(id), Some(v)) = (id, v) else { continue };
            let Some(&row) = position.get(id.as_str()) else { continue };
            let next = codes.len() as u32;
            let c = *codes.entry(v).or_insert(next);
            m[row].push(c);
        }
        for v in &mut m {
            v.sort_unstable();
            v.dedup();
        }
        out.push(m);
    }
    Ok(out)
}

fn share_any(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    false
}

/// A mean over queries with its 95 % interval: the normal interval of the
/// mean (1.96 standard errors either side), cut at 0 and 1, the range of a
/// precision (a rare judgement's random baseline would otherwise reach
/// below 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    fn of(v: &[f64]) -> Estimate {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let half = strata_core::stats::Z95 * sd / n.sqrt();
        Estimate {
            mean,
            low: (mean - half).max(0.0),
            high: (mean + half).min(1.0),
        }
    }
}

/// How one way of finding neighbours scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodScore {
    /// A representation's label, or a baseline's name.
    pub method: String,
    pub baseline: bool,
    /// Precision@k per judgement column, in the spec's order.
    pub precision: Vec<(String, Estimate)>,
    /// Mean over queries of the standard deviation of the neighbours' popularity.
    pub neighbour_popularity_sd: f64,
    /// Mean absolute popularity difference between a query and its neighbours.
    pub popularity_gap: f64,
    /// Share of neighbours from the catalogue's least popular quartile.
    pub least_popular_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityReport {
    pub k: usize,
    pub queries: usize,
    /// Rows searched (one per id).
    pub items: usize,
    /// What a row is, singular and plural (the descriptor's `noun`), in the
    /// report's words; the random baseline is named with the plural.
    pub noun: [String; 2],
    /// Rows that sit in more than one value of the first judgement column.
    pub multi_membership: usize,
    pub catalogue_popularity_sd: f64,
    /// Popularity at or below which a track is in the least popular quartile.
    pub least_popular_cut: f64,
    pub methods: Vec<MethodScore>,
    /// The representation with the highest precision on the first judgement
    /// over the first [`SimilarityReport::choosing_queries`] query tracks.
    pub best: String,
    pub reason: String,
    /// How many of the query tracks (the first ones of the seeded sample)
    /// chose `best`; the others measure it.
    pub choosing_queries: usize,
    /// Precision@k on the first judgement over the query tracks that took
    /// no part in the choice: `best` first, then the baselines.
    pub held_out: Vec<(String, Estimate)>,
}

impl SimilarityReport {
    /// The judgement columns, in the spec's order (the first chooses the
    /// representation).
    pub fn judgements(&self) -> Vec<&str> {
        self.methods
            .first()
            .map(|m| m.precision.iter().map(|(j, _)| j.as_str()).collect())
            .unwrap_or_default()
    }
}

/// Queries that share one pass over a block of rows, and the rows in a
/// block (its columns stay in cache while every query of the group reads
/// them).
const QUERY_GROUP: usize = 16;
const ROW_BLOCK: usize = 1024;

/// For each query row `q`, the `k` nearest rows of `x` (itself excluded),
/// nearest first, ties to the lower row. A row's squared distance is summed
/// over the features in order; the rows are read in blocks, column by
/// column, by groups of queries at once.
fn knn_many(x: ArrayView2<'_, f64>, queries: &[usize], k: usize) -> Vec<Vec<usize>> {
    let n = x.nrows();
    let k = k.min(n.saturating_sub(1));
    let cols: Vec<f64> = x.t().iter().copied().collect();
    queries
        .par_chunks(QUERY_GROUP)
        .flat_map_iter(|group| {
            let points: Vec<Vec<f64>> = group.iter().map(|&q| x.row(q).to_vec()).collect();
            let mut nearest: Vec<Nearest> = group.iter().map(|_| Nearest::new(k)).collect();
            let mut dist = vec![0.0; ROW_BLOCK];
            for a in (0..n).step_by(ROW_BLOCK) {
                let b = (a + ROW_BLOCK).min(n);
                let dist = &mut dist[..b - a];
                for ((&q, point), near) in group.iter().zip(&points).zip(&mut nearest) {
                    dist.fill(0.0);
                    for (j, &p) in point.iter().enumerate() {
                        for (o, &v) in dist.iter_mut().zip(&cols[j * n + a..j * n + b]) {
                            let t = v - p;
                            *o += t * t;
                        }
                    }
                    for (r, &v) in dist.iter().enumerate() {
                        if a + r != q {
                            near.offer(v, a + r);
                        }
                    }
                }
            }
            nearest.into_iter().map(Nearest::rows)
        })
        .collect()
}

/// The `k` smallest (distance, row) pairs offered so far, in increasing
/// order (distances by `total_cmp`, then rows).
struct Nearest {
    k: usize,
    best: Vec<(f64, usize)>,
}

impl Nearest {
    fn new(k: usize) -> Nearest {
        Nearest {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    fn offer(&mut self, d: f64, row: usize) {
        let order = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if self.best.len() == self.k {
            match self.best.last() {
                Some(worst) if order(&(d, row), worst).is_lt() => {}
                _ => return,
            }
        }
        let at = self.best.partition_point(|e| order(e, &(d, row)).is_lt());
        self.best.insert(at, (d, row));
        self.best.truncate(self.k);
    }

    fn rows(self) -> Vec<usize> {
        self.best.into_iter().map(|(_, i)| i).collect()
    }
}

/// Each query's precision: the share of its neighbours that share a value
/// of the judgement `m` with it.
fn per_query(lists: &[Vec<usize>], queries: &[usize], m: &Memberships) -> Vec<f64> {
    queries
        .iter()
        .zip(lists)
        .map(|(&q, l)| l.iter().filter(|&&b| share_any(&m[q], &m[b])).count() as f64 / l.len().max(1) as f64)
        .collect()
}

/// Scores one neighbour list per query; also returns each query's
/// precision on the first judgement (for choosing on some queries and
/// measuring on the others).
fn score(
    method: &str,
    baseline: bool,
    lists: &[Vec<usize>],
    queries: &[usize],
    judged: &[(String, Memberships)],
    popularity: &[f64],
    least_cut: f64,
) -> (MethodScore, Vec<f64>) {
    let per: Vec<Vec<f64>> = judged.iter().map(|(_, m)| per_query(lists, queries, m)).collect();
    let precision = judged
        .iter()
        .zip(&per)
        .map(|((name, _), p)| (name.clone(), Estimate::of(p)))
        .collect();
    let (mut sd_sum, mut gap_sum, mut gap_n, mut least, mut total) = (0.0, 0.0, 0usize, 0usize, 0usize);
    for (&q, l) in queries.iter().zip(lists) {
        let p: Vec<f64> = l.iter().map(|&b| popularity[b]).filter(|v| v.is_finite()).collect();
        if p.len() >= 2 {
            let m = p.iter().sum::<f64>() / p.len() as f64;
            sd_sum += (p.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (p.len() - 1) as f64).sqrt();
        }
        if popularity[q].is_finite() {
            for v in &p {
                gap_sum += (v - popularity[q]).abs();
                gap_n += 1;
            }
        }
        least += p.iter().filter(|&&v| v <= least_cut).count();
        total += p.len();
    }
    let score = MethodScore {
        method: method.to_string(),
        baseline,
        precision,
        neighbour_popularity_sd: sd_sum / queries.len().max(1) as f64,
        popularity_gap: gap_sum / gap_n.max(1) as f64,
        least_popular_share: least as f64 / total.max(1) as f64,
    };
    (score, per.into_iter().next().unwrap_or_default())
}

/// The query tracks: a seeded sample of `queries` of the `n` rows (all of
/// them when fewer; the sweep refuses a manifest asking for more), without
/// replacement, in draw order.
fn query_sample(n: usize, queries: usize, seed: Seed) -> Vec<usize> {
    let mut rng = Rng::new(seed.named("queries"));
    let mut rows: Vec<usize> = (0..n).collect();
    let q = queries.min(n);
    for i in 0..q {
        let j = i + rng.below(n - i);
        rows.swap(i, j);
    }
    rows.truncate(q);
    rows
}

/// Evaluates each representation's neighbours and both baselines.
pub fn evaluate(
    spaces: &[(String, ndarray::Array2<f64>)],
    judged: &[(String, Memberships)],
    popularity: &[f64],
    spec: &SimilaritySpec,
    seed: Seed,
    noun: &[String; 2],
) -> anyhow::Result<SimilarityReport> {
    spec.check().map_err(|e| anyhow::anyhow!(e))?;
    let n = popularity.len();
    if n < 2 || spaces.iter().any(|(_, x)| x.nrows() != n) || judged.iter().any(|(_, m)| m.len() != n) {
        anyhow::bail!("similarity: every representation, judgement and the popularity need one entry per {} ({n})", noun[0]);
    }
    let items = &noun[1];
    let queries = query_sample(n, spec.queries, seed);
    let q = queries.len();
    let mut sorted: Vec<f64> = popularity.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let least_cut = sorted.get(sorted.len().saturating_sub(1) / 4).copied().unwrap_or(f64::NAN);
    let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
    let catalogue_sd = (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (sorted.len().max(2) - 1) as f64).sqrt();

    // Each method's precision per query on the first judgement, in the
    // order of `methods`: the first half of the queries chooses the
    // representation, the other half measures it.
    if judged.is_empty() {
        anyhow::bail!("similarity: no judgement");
    }
    let mut firsts: Vec<Vec<f64>> = Vec::new();
    let mut methods = Vec::new();
    for (label, x) in spaces {
        let lists = knn_many(x.view(), &queries, spec.k);
        let (m, first) = score(label, false, &lists, &queries, judged, popularity, least_cut);
        methods.push(m);
        firsts.push(first);
    }
    // Random rows.
    let mut rng = Rng::new(seed.named("random-neighbours"));
    let random: Vec<Vec<usize>> = queries
        .iter()
        .map(|&qq| {
            let mut l = Vec::with_capacity(spec.k);
            while l.len() < spec.k.min(n - 1) {
                let b = rng.below(n);
                if b != qq && !l.contains(&b) {
                    l.push(b);
                }
            }
            l
        })
        .collect();
    let (m, first) = score(&format!("random {items}"), true, &random, &queries, judged, popularity, least_cut);
    let random = methods.len();
    methods.push(m);
    firsts.push(first);
    // Nearest by popularity alone; ties (popularity is an integer) broken by a seeded random key.
    let mut rng = Rng::new(seed.named("popularity-ties"));
    let tie: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let pop = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| if j == 0 { popularity[i] } else { 1e-6 * tie[i] });
    let by_pop = knn_many(pop.view(), &queries, spec.k);
    let (m, first) = score("nearest by popularity", true, &by_pop, &queries, judged, popularity, least_cut);
    methods.push(m);
    firsts.push(first);

    let first = judged.first().map(|(n, _)| n.clone()).unwrap_or_default();
    let choosing = q / 2;
    let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let chose = |i: usize| avg(&firsts[i][..choosing]);
    let best = (0..methods.len())
        .filter(|&i| !methods[i].baseline)
        .max_by(|&a, &b| chose(a).total_cmp(&chose(b)))
        .ok_or_else(|| anyhow::anyhow!("similarity: no representation to evaluate"))?;
    let held_out: Vec<(String, Estimate)> = std::iter::once(best)
        .chain((0..methods.len()).filter(|&i| methods[i].baseline))
        .map(|i| (methods[i].method.clone(), Estimate::of(&firsts[i][choosing..])))
        .collect();
    let (b, r) = (held_out[0].1, avg(&firsts[random][choosing..]));
    let reason = format!(
        "highest precision@{k} on `{first}` over query {items} 1 to {choosing} ({:.3}, against {:.3} for random {items}) of the {} representations; on the other {} query {items}, which took no part in the choice, {:.3} [{:.3}, {:.3}] against {r:.3} for random {items}",
        chose(best),
        chose(random),
        spaces.len(),
        q - choosing,
        b.mean,
        b.low,
        b.high,
        k = spec.k,
    );
    let best = &methods[best];
    let multi = judged.first().map_or(0, |(_, m)| m.iter().filter(|v| v.len() > 1).count());
    Ok(SimilarityReport {
        k: spec.k,
        queries: q,
        items: n,
        noun: noun.clone(),
        multi_membership: multi,
        catalogue_popularity_sd: catalogue_sd,
        least_popular_cut: least_cut,
        best: best.method.clone(),
        reason,
        choosing_queries: choosing,
        held_out,
        methods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// The mean over queries with 1.96 standard errors either side, cut at
    /// the range of a precision: one hit in 20 queries (mean 0.05, sd
    /// 0.2236, half-width 0.098) reaches below 0; 19 reach above 1.
    #[test]
    fn query_means_have_normal_intervals_cut_at_0_and_1() {
        let mut v = vec![0.0; 20];
        v[3] = 1.0;
        let e = Estimate::of(&v);
        let half = strata_core::stats::Z95 * (0.95f64 / 19.0).sqrt() / 20f64.sqrt();
        assert!((e.mean - 0.05).abs() < 1e-15 && e.low == 0.0 && (e.high - 0.05 - half).abs() < 1e-12, "{e:?}");
        let w: Vec<f64> = v.iter().map(|x| 1.0 - x).collect();
        let e = Estimate::of(&w);
        assert!((e.mean - 0.95).abs() < 1e-15 && e.high == 1.0 && (0.95 - half - e.low).abs() < 1e-12, "{e:?}");
        // Away from the ends, nothing is cut.
        let e = Estimate::of(&[0.4, 0.6, 0.5, 0.5]);
        assert!(e.low > 0.4 && e.high < 0.6 && (e.low + e.high - 1.0).abs() < 1e-12, "{e:?}");
    }

    /// The blocked search against a sort of every distance, on rows with
    /// many tied distances (small integers) and more rows than one block.
    #[test]
    fn blocked_neighbours_are_those_of_a_full_sort() {
        let n = 2 * ROW_BLOCK + 37;
        let mut rng = Rng::new(Seed(11));
        let x = Array2::from_shape_fn((n, 3), |_| (rng.uniform() * 4.0).floor());
        let queries: Vec<usize> = (0..40).map(|i| (i * 131) % n).chain([0, n - 1]).collect();
        for k in [1, 10, 25] {
            let lists = knn_many(x.view(), &queries, k);
            for (&q, got) in queries.iter().zip(&lists) {
                let mut all: Vec<(f64, usize)> = (0..n)
                    .filter(|&i| i != q)
                    .map(|i| {
                        let d: f64 = (0..3).map(|j| (x[[i, j]] - x[[q, j]]).powi(2)).sum();
                        (d, i)
                    })
                    .collect();
                all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let want: Vec<usize> = all.iter().take(k).map(|e| e.1).collect();
                assert_eq!(got, &want, "query {q}, k = {k}");
            }
        }
        // Fewer rows than k: every other row.
        let small = Array2::from_shape_fn((4, 2), |(i, j)| (i * 2 + j) as f64);
        assert_eq!(knn_many(small.view(), &[2], 10), vec![vec![1, 3, 0]]);
    }

    #[test]
    fn memberships_use_every_row_of_an_id() {
        let frame = polars::prelude::df!(
            "id" => ["a", "b", "a", "c", "b"],
            "playlist" => ["p1", "p2", "p3", "p3", "p2"],
        )
        .expect("frame");
        let raw = strata_data::RawTable::from_frame("t.csv", frame);
        let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = memberships(&raw, "id", &["playlist".into()], &ids).unwrap();
        // a sits in p1 and p3 (codes 0 and 2), b in p2 (twice), c in p3.
        assert_eq!(m[0], vec![vec![0, 2], vec![1], vec![2]]);
        assert!(share_any(&m[0][0], &m[0][2]), "a and c share p3 through a's second row");
        assert!(!share_any(&m[0][0], &m[0][1]));
        assert!(memberships(&raw, "id", &["nope".into()], &ids).is_err());
    }

    /// The first half of the queries chooses, the second half measures:
    /// space "a" finds the playlists of the choosing queries, space "b"
    /// those of the measuring ones. "a" is chosen, and its precision is read
    /// on the queries where it fails.
    #[test]
    fn the_choosing_queries_choose_and_the_others_measure() {
        let (n, spec) = (
            600,
            SimilaritySpec {
                judgements: vec!["playlist".into()],
                popularity: "pop".into(),
                k: 5,
                queries: 200,
            },
        );
        let seed = Seed(3);
        let queries = query_sample(n, spec.queries, seed);
        let (choosing, measuring) = queries.split_at(100);
        // Blobs of 30 tracks, by two unrelated groupings.
        let (ga, gb) = (|i: usize| i % 20, |i: usize| (i / 20) % 20);
        let mut r = Rng::new(Seed(5));
        let a = Array2::from_shape_fn((n, 2), |(i, _)| ga(i) as f64 * 10.0 + 0.1 * r.normal());
        let b = Array2::from_shape_fn((n, 2), |(i, _)| gb(i) as f64 * 10.0 + 0.1 * r.normal());
        // A choosing query sits in its "a" playlist, a measuring one in its
        // "b" playlist, every other track in both.
        let playlists: Memberships = (0..n)
            .map(|i| {
                let (pa, pb) = (ga(i) as u32, 100 + gb(i) as u32);
                if choosing.contains(&i) {
                    vec![pa]
                } else if measuring.contains(&i) {
                    vec![pb]
                } else {
                    vec![pa, pb]
                }
            })
            .collect();
        let popularity: Vec<f64> = (0..n).map(|i| (i % 100) as f64).collect();
        let rep = evaluate(
            &[("a".into(), a), ("b".into(), b)],
            &[("playlist".into(), playlists)],
            &popularity,
            &spec,
            seed,
            &["track".into(), "tracks".into()],
        )
        .unwrap();
        assert_eq!(rep.best, "a");
        assert_eq!(rep.held_out[0].0, "a");
        assert!(rep.held_out[0].1.mean < 0.3, "{:?}", rep.held_out);
        let all = |m: &str| rep.methods.iter().find(|x| x.method == m).expect(m).precision[0].1.mean;
        // Over all queries the two spaces look alike.
        assert!((all("a") - all("b")).abs() < 0.05, "{} {}", all("a"), all("b"));
        assert!(rep.reason.contains("on the other 100 query tracks, which took no part in the choice"), "{}", rep.reason);
        let e = evaluate(&[], &[], &[0.0; 3], &SimilaritySpec { queries: 3, ..spec }, seed, &["row".into(), "rows".into()]).unwrap_err();
        assert!(e.to_string().contains("similarity.queries = 3: expected at least 4"), "{e}");
    }

    #[test]
    fn precision_against_baselines_on_planted_groups() {
        // 300 tracks in 30 playlists of 10; the audio space places each
        // playlist in its own tight blob, popularity is unrelated to it.
        let n = 300;
        let mut r = Rng::new(Seed(8));
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (i / 10) as f64 * 10.0 * (j as f64 + 1.0) + 0.1 * r.normal());
        let noise = Array2::from_shape_fn((n, 2), |_| r.normal());
        let playlists: Memberships = (0..n).map(|i| vec![(i / 10) as u32]).collect();
        let genres: Memberships = (0..n).map(|i| vec![(i / 100) as u32]).collect();
        let popularity: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64).collect();
        let spec = SimilaritySpec {
            judgements: vec!["playlist".into(), "genre".into()],
            popularity: "pop".into(),
            k: 5,
            queries: 100,
        };
        let rep = evaluate(
            &[("blobs".into(), x), ("noise".into(), noise)],
            &[("playlist".into(), playlists), ("genre".into(), genres)],
            &popularity,
            &spec,
            Seed(1),
            &["song".into(), "songs".into()],
        )
        .unwrap();
        let m = |name: &str| rep.methods.iter().find(|m| m.method == name).expect(name);
        // In the blobs every neighbour shares the playlist: precision 1.
        assert_eq!(m("blobs").precision[0].1.mean, 1.0);
        // Random songs (the baseline named with the descriptor's plural)
        // share it with chance 9/299.
        let random = m("random songs").precision[0].1;
        assert!(random.low < 9.0 / 299.0 && 9.0 / 299.0 < random.high + 0.02, "{random:?}");
        assert!(m("noise").precision[0].1.mean < 0.2);
        assert_eq!(rep.best, "blobs");
        assert!(rep.reason.starts_with("highest precision@5 on `playlist` over query songs 1 to 50 (1.000"), "{}", rep.reason);
        assert!(rep.reason.ends_with(" for random songs") && !rep.reason.contains("track"), "{}", rep.reason);
        assert_eq!((rep.items, rep.noun[0].as_str()), (300, "song"));
        assert_eq!(rep.choosing_queries, 50);
        let held: Vec<&str> = rep.held_out.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(held, ["blobs", "random songs", "nearest by popularity"]);
        assert_eq!(rep.held_out[0].1.mean, 1.0);
        // Popularity neighbours have nearly the query's popularity; the blobs' do not.
        assert!(m("nearest by popularity").popularity_gap < 1.0);
        assert!(m("blobs").popularity_gap > 10.0);
        assert!(m("nearest by popularity").neighbour_popularity_sd < m("blobs").neighbour_popularity_sd);
        assert_eq!(rep.queries, 100);
        assert_eq!(rep.multi_membership, 0);
        // The least popular quartile holds about a quarter of random neighbours.
        assert!((m("random songs").least_popular_share - 0.25).abs() < 0.08);
    }
}
