//! k-prototypes (Huang 1998): clusters of mixed numeric and categorical data
//! without turning categories into 0/1 columns.
//!
//! The dissimilarity of a row to a prototype is the squared Euclidean
//! distance on the numeric columns plus `gamma` times the number of
//! categorical variables on which they differ. A prototype is the mean of
//! its rows on numeric columns and their mode on categorical ones. `gamma`
//! defaults to half the mean standard deviation of the numeric columns, as
//! Huang proposed.
//!
//! The iteration is Huang's: rows are visited in order, each moves to its
//! nearest prototype, and the two prototypes concerned are updated at once
//! (means from running sums, modes from running counts; a tie between modes
//! keeps the current one when a count rises and goes to the smallest code
//! when the mode loses a row). An epoch ends with every row labelled by its
//! nearest prototype and the total dissimilarity (the cost); the fit stops
//! when no row moved or the cost did not fall. These are also the rules of
//! the Python `kmodes` package, against which the crate is tested from
//! identical initial prototypes.
//!
//! Categorical variables come from the column kinds the data carries
//! ([`ColumnKind`]): a column of category codes is one variable, and so is
//! each group of one-hot indicators (its code is the position of the
//! indicator that is 1). Seeding is k-means++-style on the mixed
//! dissimilarity; `n_init` seeded restarts run in parallel and the lowest
//! cost wins (the first on ties), so the result does not depend on the
//! thread count.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use strata_core::params::{ParamKind, ParamValue, word};
use strata_core::{
    AlgoError, Clusterer, ColumnKind, Configurable, Diagnostics, FittedClusterer, ParamSpec,
    Params, Rng, Seed,
};

/// k-prototypes with k-means++-style seeding and `n_init` restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct KPrototypes {
    pub k: usize,
    /// Weight of one categorical mismatch; `None` for Huang's default.
    pub gamma: Option<f64>,
    pub n_init: usize,
    pub max_iter: usize,
}

impl KPrototypes {
    pub fn new(k: usize) -> Self {
        KPrototypes {
            k,
            gamma: None,
            n_init: 10,
            max_iter: 100,
        }
    }
}

impl Configurable for KPrototypes {
    fn param_specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::clusters("number of clusters"),
            ParamSpec::new(
                "gamma",
                ParamKind::PositiveOrWord("huang"),
                word("huang"),
                "weight of one categorical mismatch; \"huang\" = half the mean standard deviation of the numeric columns (Huang's default)",
            ),
            ParamSpec::count("n_init", 10, "seeded restarts; the lowest cost wins"),
            ParamSpec::count("max_iter", 100, "most epochs per restart"),
        ]
    }
    fn from_params(p: &Params) -> Result<Self, AlgoError> {
        // A number is the weight; the word (the only other value the spec
        // lets through) is Huang's default, computed from the data.
        let gamma = match p.value("gamma")? {
            ParamValue::Text(_) => None,
            _ => Some(p.f64("gamma")?),
        };
        Ok(KPrototypes {
            k: p.usize("k")?,
            gamma,
            n_init: p.usize("n_init")?,
            max_iter: p.usize("max_iter")?,
        })
    }
}

/// The input split into numeric columns and categorical variables.
#[derive(Debug, Clone)]
pub struct Mixed {
    /// Numeric columns, one row per sample.
    pub num: Array2<f64>,
    /// Category codes, one row per sample.
    pub cat: Array2<u32>,
    layout: Layout,
}

/// Where the numeric columns and the categorical variables sit in the input.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    width: usize,
    numeric: Vec<usize>,
    /// Each categorical variable: one code column, or the columns of a one-hot group.
    variables: Vec<Vec<usize>>,
    coded: Vec<bool>,
}

impl Layout {
    fn new(kinds: &[ColumnKind]) -> Layout {
        let mut numeric = Vec::new();
        let mut variables: Vec<Vec<usize>> = Vec::new();
        let mut coded = Vec::new();
        let mut groups: Vec<(u32, usize)> = Vec::new();
        for (j, k) in kinds.iter().enumerate() {
            match k {
                ColumnKind::Numeric => numeric.push(j),
                ColumnKind::Categorical => {
                    variables.push(vec![j]);
                    coded.push(true);
                }
                ColumnKind::OneHot(g) => match groups.iter().find(|(h, _)| h == g) {
                    Some(&(_, v)) => variables[v].push(j),
                    None => {
                        groups.push((*g, variables.len()));
                        variables.push(vec![j]);
                        coded.push(false);
                    }
                },
            }
        }
        Layout {
            width: kinds.len(),
            numeric,
            variables,
            coded,
        }
    }

    fn split(&self, x: ArrayView2<'_, f64>, names: &[String]) -> Result<Mixed, AlgoError> {
        strata_core::check_columns(x, self.width)?;
        strata_core::check_finite(x, None)?;
        let n = x.nrows();
        let num = Array2::from_shape_fn((n, self.numeric.len()), |(i, j)| x[[i, self.numeric[j]]]);
        let mut cat = Array2::<u32>::zeros((n, self.variables.len()));
        for (v, cols) in self.variables.iter().enumerate() {
            for i in 0..n {
                cat[[i, v]] = if self.coded[v] {
                    let c = x[[i, cols[0]]];
                    if c < 0.0 || c.fract() != 0.0 || c > f64::from(u32::MAX / 2) {
                        return Err(AlgoError::InvalidParameter {
                            name: names.get(cols[0]).cloned().unwrap_or_else(|| format!("column {}", cols[0])),
                            value: format!("{c} at row {i}"),
                            expected: "a category code (0, 1, 2...)".into(),
                        });
                    }
                    c as u32
                } else {
                    // The indicator that is 1; none set is a code of its own.
                    cols.iter().position(|&j| x[[i, j]] > 0.5).unwrap_or(cols.len()) as u32
                };
            }
        }
        Ok(Mixed {
            num,
            cat,
            layout: self.clone(),
        })
    }
}

impl Mixed {
    /// Splits `x` by column kinds (`names` for messages).
    pub fn new(x: ArrayView2<'_, f64>, kinds: &[ColumnKind], names: &[String]) -> Result<Mixed, AlgoError> {
        if kinds.len() != x.ncols() {
            return Err(AlgoError::ColumnMismatch {
                expected: kinds.len(),
                got: x.ncols(),
            });
        }
        Layout::new(kinds).split(x, names)
    }

    pub fn rows(&self) -> usize {
        self.num.nrows()
    }

    /// Huang's default gamma: half the mean (population) standard deviation
    /// of the numeric columns; 1 without numeric columns.
    pub fn default_gamma(&self) -> f64 {
        let (n, p) = self.num.dim();
        if p == 0 || n == 0 {
            return 1.0;
        }
        let sd: f64 = (0..p)
            .map(|j| {
                let c = self.num.column(j);
                let m = c.sum() / n as f64;
                (c.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64).sqrt()
            })
            .sum::<f64>()
            / p as f64;
        0.5 * sd
    }
}

/// Numeric and categorical parts of the prototypes.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototypes {
    pub num: Array2<f64>,
    pub cat: Array2<u32>,
}

/// Dissimilarity of row `i` of `m` to prototype `c`.
fn dissim(m: &Mixed, i: usize, p: &Prototypes, c: usize, gamma: f64) -> f64 {
    pair_dissim(
        (m.num.row(i), m.cat.row(i)),
        (p.num.row(c), p.cat.row(c)),
        gamma,
    )
}

/// k-prototypes' dissimilarity of two rows given as (numeric, categorical)
/// parts: the squared Euclidean distance, summed in column order, plus
/// `gamma` per categorical mismatch. Contiguous rows (the usual case) are
/// read as slices, which compiles to a plain loop; the sum is the same.
#[inline]
fn pair_dissim(
    a: (ArrayView1<'_, f64>, ArrayView1<'_, u32>),
    b: (ArrayView1<'_, f64>, ArrayView1<'_, u32>),
    gamma: f64,
) -> f64 {
    let num: f64 = match (a.0.to_slice(), b.0.to_slice()) {
        (Some(x), Some(y)) => squared_distance(x, y),
        _ => a.0.iter().zip(b.0.iter()).map(|(u, v)| (u - v) * (u - v)).sum(),
    };
    let differ = match (a.1.to_slice(), b.1.to_slice()) {
        (Some(x), Some(y)) => mismatches(x, y),
        _ => a.1.iter().zip(b.1.iter()).filter(|(u, v)| u != v).count(),
    };
    num + gamma * differ as f64
}

/// Squared Euclidean distance of two slices, summed in column order.
#[inline]
fn squared_distance(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(u, v)| (u - v) * (u - v)).sum()
}

/// Positions where two code slices differ.
#[inline]
fn mismatches(x: &[u32], y: &[u32]) -> usize {
    x.iter().zip(y).filter(|(u, v)| u != v).count()
}

/// The nearest prototype of row `i` (the first on ties) and its dissimilarity.
fn nearest(m: &Mixed, i: usize, p: &Prototypes, gamma: f64) -> (usize, f64) {
    let k = p.num.nrows().max(p.cat.nrows());
    let contiguous = (
        m.num.row(i).to_slice(),
        m.cat.row(i).to_slice(),
        p.num.as_slice(),
        p.cat.as_slice(),
    );
    let (xn, xc, pn, pc) = match contiguous {
        (Some(xn), Some(xc), Some(pn), Some(pc))
            if pn.len() == k * xn.len() && pc.len() == k * xc.len() =>
        {
            (xn, xc, pn, pc)
        }
        _ => {
            let mut best = (0, f64::INFINITY);
            for c in 0..k {
                let d = dissim(m, i, p, c, gamma);
                if d < best.1 {
                    best = (c, d);
                }
            }
            return best;
        }
    };
    let (dn, dc) = (xn.len(), xc.len());
    // Four prototypes at a time: four independent sums, each adding its
    // terms in column order as `pair_dissim` does.
    const W: usize = 4;
    let mut best = (0, f64::INFINITY);
    for c0 in (0..k).step_by(W) {
        let w = W.min(k - c0);
        let mut num = [0.0f64; W];
        let mut mis = [0usize; W];
        if w == W {
            let row = |t: usize| &pn[(c0 + t) * dn..(c0 + t + 1) * dn];
            let columns = xn.iter().zip(row(0)).zip(row(1)).zip(row(2)).zip(row(3));
            for ((((&x, &a), &b), &c), &d) in columns {
                for (t, v) in [a, b, c, d].into_iter().enumerate() {
                    let e = x - v;
                    num[t] += e * e;
                }
            }
        } else {
            for t in 0..w {
                let row = &pn[(c0 + t) * dn..(c0 + t + 1) * dn];
                num[t] = squared_distance(xn, row);
            }
        }
        for t in 0..w {
            let row = &pc[(c0 + t) * dc..(c0 + t + 1) * dc];
            mis[t] = mismatches(xc, row);
        }
        for t in 0..w {
            let d = num[t] + gamma * mis[t] as f64;
            if d < best.1 {
                best = (c0 + t, d);
            }
        }
    }
    best
}

/// Labels by nearest prototype and the total dissimilarity.
pub fn labels_cost(m: &Mixed, p: &Prototypes, gamma: f64) -> (Vec<usize>, f64) {
    let mut cost = 0.0;
    let labels = (0..m.rows())
        .map(|i| {
            let (c, d) = nearest(m, i, p, gamma);
            cost += d;
            c
        })
        .collect();
    (labels, cost)
}

/// Category counts of one variable in one cluster, with the codes ever
/// looked up (a mode among equal counts goes to the smallest such code).
#[derive(Debug, Clone, Default)]
struct Counts {
    count: Vec<i64>,
    seen: Vec<bool>,
}

impl Counts {
    fn touch(&mut self, code: u32) -> &mut i64 {
        let c = code as usize;
        if c >= self.count.len() {
            self.count.resize(c + 1, 0);
            self.seen.resize(c + 1, false);
        }
        self.seen[c] = true;
        &mut self.count[c]
    }
    /// The code with the highest count, the smallest on ties.
    fn mode(&self) -> u32 {
        let mut best: Option<(i64, usize)> = None;
        for (c, (&n, &s)) in self.count.iter().zip(&self.seen).enumerate() {
            if s && best.is_none_or(|(b, _)| n > b) {
                best = Some((n, c));
            }
        }
        best.map_or(0, |(_, c)| c as u32)
    }
}

/// The outcome of one run from given prototypes.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub labels: Vec<usize>,
    pub prototypes: Prototypes,
    pub cost: f64,
    pub n_iter: usize,
    /// Cost after the initial update and after each epoch.
    pub epoch_costs: Vec<f64>,
}

/// Runs the iteration from `init` (module docs). An empty cluster after the
/// initial assignment is an error; one emptied during an epoch takes a
/// random row (drawn from `rng`) of the largest cluster.
pub fn run_from(m: &Mixed, init: &Prototypes, gamma: f64, max_iter: usize, rng: &mut Rng) -> Result<Run, AlgoError> {
    let (n, p, q, k) = (m.rows(), m.num.ncols(), m.cat.ncols(), init.num.nrows());
    if init.cat.nrows() != k || init.num.ncols() != p || init.cat.ncols() != q || k == 0 {
        return Err(AlgoError::Other(format!(
            "k-prototypes: initial prototypes of shape {:?} and {:?} for {p} numeric columns and {q} categorical variables",
            init.num.dim(),
            init.cat.dim()
        )));
    }
    let mut protos = init.clone();
    let mut member = vec![0usize; n];
    let mut sums = Array2::<f64>::zeros((k, p));
    let mut sizes = vec![0usize; k];
    let mut freq: Vec<Vec<Counts>> = vec![vec![Counts::default(); q]; k];
    for i in 0..n {
        let (c, _) = nearest(m, i, &protos, gamma);
        member[i] = c;
        sizes[c] += 1;
        for j in 0..p {
            sums[[c, j]] += m.num[[i, j]];
        }
        for a in 0..q {
            *freq[c][a].touch(m.cat[[i, a]]) += 1;
        }
    }
    if let Some(empty) = sizes.iter().position(|&s| s == 0) {
        return Err(AlgoError::Numerical(format!(
            "k-prototypes: cluster {empty} is empty after the initial assignment (duplicate initial prototypes?)"
        )));
    }
    for c in 0..k {
        for j in 0..p {
            protos.num[[c, j]] = sums[[c, j]] / sizes[c] as f64;
        }
        for a in 0..q {
            protos.cat[[c, a]] = freq[c][a].mode();
        }
    }
    let (mut labels, mut cost) = labels_cost(m, &protos, gamma);
    let mut epoch_costs = vec![cost];
    let mut n_iter = 0;
    let mut converged = false;
    while n_iter < max_iter && !converged {
        n_iter += 1;
        let mut moves = 0;
        for i in 0..n {
            let (to, _) = nearest(m, i, &protos, gamma);
            if to == member[i] {
                continue;
            }
            moves += 1;
            let from = member[i];
            move_point(m, i, to, from, &mut member, &mut sums, &mut sizes, &mut freq, &mut protos);
            for c in [to, from] {
                for j in 0..p {
                    protos.num[[c, j]] = if sizes[c] > 0 { sums[[c, j]] / sizes[c] as f64 } else { 0.0 };
                }
            }
            if sizes[from] == 0 {
                // Refill the emptied cluster with a random row of the largest one.
                let largest = (0..k).fold(0, |b, c| if sizes[c] > sizes[b] { c } else { b });
                let choices: Vec<usize> = (0..n).filter(|&r| member[r] == largest).collect();
                let r = choices[rng.below(choices.len())];
                move_point(m, r, from, largest, &mut member, &mut sums, &mut sizes, &mut freq, &mut protos);
            }
        }
        let (l, c) = labels_cost(m, &protos, gamma);
        converged = moves == 0 || c >= cost;
        labels = l;
        cost = c;
        epoch_costs.push(c);
    }
    Ok(Run {
        labels,
        prototypes: protos,
        cost,
        n_iter,
        epoch_costs,
    })
}

/// Moves row `i` from cluster `from` to `to`, updating the running sums,
/// the category counts and both prototypes' modes (the caller updates the
/// means).
#[allow(clippy::too_many_arguments)]
fn move_point(
    m: &Mixed,
    i: usize,
    to: usize,
    from: usize,
    member: &mut [usize],
    sums: &mut Array2<f64>,
    sizes: &mut [usize],
    freq: &mut [Vec<Counts>],
    protos: &mut Prototypes,
) {
    member[i] = to;
    sizes[to] += 1;
    sizes[from] -= 1;
    for j in 0..m.num.ncols() {
        let v = m.num[[i, j]];
        sums[[to, j]] += v;
        sums[[from, j]] -= v;
    }
    for a in 0..m.cat.ncols() {
        let v = m.cat[[i, a]];
        let now = {
            let c = freq[to][a].touch(v);
            *c += 1;
            *c
        };
        let current = protos.cat[[to, a]];
        if *freq[to][a].touch(current) < now {
            protos.cat[[to, a]] = v;
        }
        *freq[from][a].touch(v) -= 1;
        if protos.cat[[from, a]] == v {
            protos.cat[[from, a]] = freq[from][a].mode();
        }
    }
}

/// k-means++-style seeding on the mixed dissimilarity: the first prototype
/// is a random row, each next one a row drawn with probability proportional
/// to its dissimilarity to the nearest prototype so far.
pub fn seed_prototypes(m: &Mixed, k: usize, gamma: f64, rng: &mut Rng) -> Prototypes {
    let n = m.rows();
    let mut chosen = vec![rng.below(n)];
    let proto_of = |rows: &[usize]| Prototypes {
        num: Array2::from_shape_fn((rows.len(), m.num.ncols()), |(c, j)| m.num[[rows[c], j]]),
        cat: Array2::from_shape_fn((rows.len(), m.cat.ncols()), |(c, a)| m.cat[[rows[c], a]]),
    };
    let mut best: Vec<f64> = (0..n).map(|i| dissim(m, i, &proto_of(&chosen), 0, gamma)).collect();
    while chosen.len() < k {
        let total: f64 = best.iter().sum();
        let next = if total > 0.0 {
            let mut t = rng.uniform() * total;
            let mut pick = n - 1;
            for (i, &d) in best.iter().enumerate() {
                if t < d {
                    pick = i;
                    break;
                }
                t -= d;
            }
            pick
        } else {
            rng.below(n)
        };
        chosen.push(next);
        let p = proto_of(&[next]);
        for (i, b) in best.iter_mut().enumerate() {
            *b = b.min(dissim(m, i, &p, 0, gamma));
        }
    }
    proto_of(&chosen)
}

/// A fitted k-prototypes model.
pub struct FittedKPrototypes {
    layout: Layout,
    names: Vec<String>,
    prototypes: Prototypes,
    gamma: f64,
    labels: Array1<usize>,
    cost: f64,
    n_iter: usize,
}

impl FittedKPrototypes {
    pub fn prototypes(&self) -> &Prototypes {
        &self.prototypes
    }
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
    pub fn cost(&self) -> f64 {
        self.cost
    }
}

impl KPrototypes {
    /// Fits on `x` whose columns are described by `kinds`.
    pub fn fit_mixed(
        &self,
        x: ArrayView2<'_, f64>,
        kinds: &[ColumnKind],
        names: &[String],
        seed: Seed,
    ) -> Result<FittedKPrototypes, AlgoError> {
        let m = Mixed::new(x, kinds, names)?;
        strata_core::check_min_samples(x, self.k.max(1), "kprototypes")?;
        if self.k == 0 || self.n_init == 0 || self.max_iter == 0 {
            return Err(AlgoError::InvalidParameter {
                name: "k/n_init/max_iter".into(),
                value: format!("{}/{}/{}", self.k, self.n_init, self.max_iter),
                expected: "at least 1 each".into(),
            });
        }
        let gamma = self.gamma.unwrap_or_else(|| m.default_gamma());
        let runs: Vec<Result<Run, AlgoError>> = (0..self.n_init)
            .into_par_iter()
            .map(|r| {
                // A restart whose seeding leaves a cluster empty (duplicate
                // rows) draws again, up to 10 times.
                let mut rng = Rng::new(seed.child(r as u64));
                let mut last = None;
                for _ in 0..10 {
                    let init = seed_prototypes(&m, self.k, gamma, &mut rng);
                    match run_from(&m, &init, gamma, self.max_iter, &mut rng) {
                        Ok(run) => return Ok(run),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| AlgoError::Other("k-prototypes: no restart".into())))
            })
            .collect();
        let mut best: Option<Run> = None;
        for r in runs {
            let r = r?;
            if best.as_ref().is_none_or(|b| r.cost < b.cost) {
                best = Some(r);
            }
        }
        let best = best.ok_or_else(|| AlgoError::Other("k-prototypes: no restart".into()))?;
        Ok(FittedKPrototypes {
            layout: m.layout.clone(),
            names: names.to_vec(),
            prototypes: best.prototypes,
            gamma,
            labels: Array1::from(best.labels),
            cost: best.cost,
            n_iter: best.n_iter,
        })
    }
}

impl Clusterer for KPrototypes {
    fn name(&self) -> &str {
        "kprototypes"
    }
    /// Without column kinds every column is numeric.
    fn fit(&self, x: ArrayView2<'_, f64>, seed: Seed) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        let kinds = vec![ColumnKind::Numeric; x.ncols()];
        let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{}", j + 1)).collect();
        Ok(Box::new(self.fit_mixed(x, &kinds, &names, seed)?))
    }
    fn fit_typed(
        &self,
        x: ArrayView2<'_, f64>,
        kinds: &[ColumnKind],
        names: &[String],
        seed: Seed,
    ) -> Result<Box<dyn FittedClusterer>, AlgoError> {
        Ok(Box::new(self.fit_mixed(x, kinds, names, seed)?))
    }
}

impl FittedClusterer for FittedKPrototypes {
    fn n_clusters(&self) -> usize {
        self.prototypes.num.nrows()
    }
    fn labels(&self) -> &Array1<usize> {
        &self.labels
    }
    fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<usize>, AlgoError> {
        let m = self.layout.split(x, &self.names)?;
        Ok(Array1::from(labels_cost(&m, &self.prototypes, self.gamma).0))
    }
    fn diagnostics(&self, _x: ArrayView2<'_, f64>) -> Diagnostics {
        Diagnostics::default()
            .scalar("cost", self.cost)
            .scalar("gamma", self.gamma)
            .scalar("n_iter", self.n_iter as f64)
            .scalar("categorical_variables", self.layout.variables.len() as f64)
    }
}

/// Mixed dissimilarity for distance-based metrics: the square root of
/// k-prototypes' dissimilarity between two rows, so that without
/// categorical variables it is the Euclidean distance.
pub fn mixed_distance(m: &Mixed, a: usize, b: usize, gamma: f64) -> f64 {
    pair_dissim(
        (m.num.row(a), m.cat.row(a)),
        (m.num.row(b), m.cat.row(b)),
        gamma,
    )
    .sqrt()
}

/// Mean silhouette under [`mixed_distance`] (clusters of one row score 0,
/// as in scikit-learn). Exact, O(n^2): for tables of thousands of rows.
pub fn mixed_silhouette(m: &Mixed, labels: &[usize], gamma: f64) -> Result<f64, AlgoError> {
    let n = m.rows();
    if labels.len() != n {
        return Err(AlgoError::ColumnMismatch {
            expected: n,
            got: labels.len(),
        });
    }
    let k = labels.iter().copied().max().map_or(0, |x| x + 1);
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    let distinct = sizes.iter().filter(|&&s| s > 0).count();
    if distinct < 2 || distinct >= n {
        return Err(AlgoError::Other(format!(
            "silhouette needs between 2 and n - 1 clusters, got {distinct}"
        )));
    }
    let s: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut sum = vec![0.0; k];
            for j in 0..n {
                if j != i {
                    sum[labels[j]] += mixed_distance(m, i, j, gamma);
                }
            }
            let own = labels[i];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let a = sum[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && sizes[c] > 0)
                .map(|c| sum[c] / sizes[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if a.max(b) > 0.0 { (b - a) / a.max(b) } else { 0.0 }
        })
        .collect();
    Ok(s.iter().sum::<f64>() / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn kinds_1num_1onehot() -> Vec<ColumnKind> {
        vec![ColumnKind::Numeric, ColumnKind::OneHot(3), ColumnKind::OneHot(3), ColumnKind::Categorical]
    }

    #[test]
    fn gamma_is_huangs_by_default_or_a_given_weight() {
        let params = |gamma: Option<ParamValue>| {
            let mut p = Params::default();
            for spec in KPrototypes::param_specs() {
                let v = if spec.name == "gamma" { gamma.clone() } else { None };
                let v = v.or(spec.default.clone()).unwrap_or(ParamValue::Int(3));
                p.0.insert(spec.name.to_string(), spec.check(&v, None).expect("valid"));
            }
            p
        };
        assert_eq!(KPrototypes::from_params(&params(None)).expect("default").gamma, None);
        let given = KPrototypes::from_params(&params(Some(ParamValue::Float(1.5)))).expect("given");
        assert_eq!(given.gamma, Some(1.5));
        // 0 used to mean Huang's default; now it is refused with the word to use.
        let spec = KPrototypes::param_specs().into_iter().find(|s| s.name == "gamma").expect("gamma");
        assert!(spec.check(&ParamValue::Int(0), None).unwrap_err().contains("\"huang\""));
    }

    #[test]
    fn split_decodes_one_hot_groups_and_checks_codes() {
        let x = array![[1.5, 0.0, 1.0, 2.0], [-1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
        let names: Vec<String> = ["a", "g=x", "g=y", "c"].iter().map(|s| s.to_string()).collect();
        let m = Mixed::new(x.view(), &kinds_1num_1onehot(), &names).unwrap();
        assert_eq!(m.num, array![[1.5], [-1.0], [0.0]]);
        // Variables: the one-hot group (position of the 1; none set = 2), then the code column.
        assert_eq!(m.cat, array![[1, 2], [0, 0], [2, 1]]);
        let bad = array![[1.5, 0.0, 1.0, 2.5]];
        let e = Mixed::new(bad.view(), &kinds_1num_1onehot(), &names).unwrap_err();
        assert!(e.to_string().contains("`c` = 2.5 at row 0"), "{e}");
        assert!((m.default_gamma() - 0.5 * (x.column(0).std(0.0))).abs() < 1e-15);
    }

    #[test]
    fn numeric_only_refusal_names_coded_columns() {
        let names: Vec<String> = ["a", "edu"].iter().map(|s| s.to_string()).collect();
        let e = strata_core::require_numeric("kmeans", &[ColumnKind::Numeric, ColumnKind::Categorical], &names).unwrap_err();
        assert!(e.to_string().contains("edu") && e.to_string().contains("`kmeans` needs numbers"), "{e}");
        assert!(strata_core::require_numeric("kmeans", &[ColumnKind::Numeric, ColumnKind::OneHot(0)], &names).is_ok());
    }

    /// Two groups differing in a number and a category; a hand-checked run.
    #[test]
    fn recovers_planted_groups_and_is_deterministic() {
        let mut r = Rng::new(Seed(3));
        let n = 200;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => (if i < 100 { 0.0 } else { 4.0 }) + 0.3 * r.normal(),
            1 => r.normal(),
            _ => if i < 100 { (i % 2) as f64 } else { 2.0 + (i % 2) as f64 },
        });
        let kinds = vec![ColumnKind::Numeric, ColumnKind::Numeric, ColumnKind::Categorical];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let f = KPrototypes::new(2).fit_mixed(x.view(), &kinds, &names, Seed(1)).unwrap();
        let l = f.labels();
        assert!((0..100).all(|i| l[i] == l[0]) && (100..200).all(|i| l[i] == l[100]) && l[0] != l[100]);
        let again = KPrototypes::new(2).fit_mixed(x.view(), &kinds, &names, Seed(1)).unwrap();
        assert_eq!(again.labels(), l);
        assert_eq!(again.cost().to_bits(), f.cost().to_bits());
        // Same restarts on one thread.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let one = pool.install(|| KPrototypes::new(2).fit_mixed(x.view(), &kinds, &names, Seed(1)).unwrap());
        assert_eq!(one.cost().to_bits(), f.cost().to_bits());
        assert_eq!(f.predict(x.view()).unwrap(), l);
        // The cost is the total dissimilarity to the final prototypes.
        let m = Mixed::new(x.view(), &kinds, &names).unwrap();
        let (labels, cost) = labels_cost(&m, f.prototypes(), f.gamma());
        assert_eq!(labels, l.to_vec());
        assert!((cost - f.cost()).abs() < 1e-9);
        assert!(f.predict(x.slice(ndarray::s![.., ..2])).is_err());
    }

    #[test]
    fn modes_keep_ties_on_gain_and_take_the_smallest_code_on_loss() {
        let mut c = Counts::default();
        *c.touch(3) += 2;
        *c.touch(1) += 2;
        assert_eq!(c.mode(), 1, "tie: smallest code");
        *c.touch(1) -= 1;
        assert_eq!(c.mode(), 3);
    }

    #[test]
    fn mixed_silhouette_matches_a_direct_computation() {
        // 5 rows, 1 numeric column, 1 categorical; gamma 2.
        let x = array![[0.0, 0.0], [0.5, 0.0], [1.0, 1.0], [5.0, 1.0], [6.0, 0.0]];
        let kinds = vec![ColumnKind::Numeric, ColumnKind::Categorical];
        let names: Vec<String> = vec!["a".into(), "c".into()];
        let m = Mixed::new(x.view(), &kinds, &names).unwrap();
        let labels = [0, 0, 0, 1, 1];
        let g = 2.0;
        let d = |i: usize, j: usize| {
            let num = (x[[i, 0]] - x[[j, 0]]).powi(2);
            let mis = if x[[i, 1]] == x[[j, 1]] { 0.0 } else { 1.0 };
            (num + g * mis).sqrt()
        };
        let mut total = 0.0;
        for i in 0..5 {
            let same: Vec<usize> = (0..5).filter(|&j| j != i && labels[j] == labels[i]).collect();
            let other: Vec<usize> = (0..5).filter(|&j| labels[j] != labels[i]).collect();
            let a = same.iter().map(|&j| d(i, j)).sum::<f64>() / same.len() as f64;
            let b = other.iter().map(|&j| d(i, j)).sum::<f64>() / other.len() as f64;
            total += (b - a) / a.max(b);
        }
        let s = mixed_silhouette(&m, &labels, g).unwrap();
        assert!((s - total / 5.0).abs() < 1e-12, "{s} vs {}", total / 5.0);
        assert!(mixed_silhouette(&m, &[0; 5], g).is_err());
    }
}
