//! Hyperparameters as data, so that a manifest can name an algorithm and its
//! settings and a registry can validate them before anything runs.
//!
//! An algorithm crate implements [`Configurable`] for its parameter struct:
//! it lists its [`ParamSpec`]s (name, kind, default, help) and builds itself
//! from checked [`Params`]. `strata-lab` registers it with one line and from
//! then on manifests can use it, with unknown names, wrong types and
//! impossible values reported against the manifest's line and column.

use crate::AlgoError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One hyperparameter value as written in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(s) => write!(f, "{s}"),
        }
    }
}

/// What a count may not exceed once the data is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    None,
    /// At most the number of rows (a number of clusters).
    Rows,
    /// At most the number of input columns (a number of components).
    Features,
}

/// The values a parameter accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// An integer of at least `min`, bounded by the data as `bound` says.
    Int {
        min: i64,
        bound: Bound,
    },
    /// A number in `low..high`; `open` makes both ends exclusive.
    Float {
        low: f64,
        high: f64,
        open: bool,
    },
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    Bool,
    /// A count (>= 1, bounded) or a fraction in (0, 1) (e.g. of variance to keep).
    CountOrFraction {
        bound: Bound,
    },
    /// A count (>= 1, bounded) or the word `auto`.
    CountOrAuto {
        bound: Bound,
    },
    /// A number above 0, or the given word for a value the algorithm
    /// derives from the data (k-prototypes' `gamma = "huang"`).
    PositiveOrWord(&'static str),
}

impl ParamKind {
    /// What the kind accepts, for error messages.
    pub fn describe(&self) -> String {
        match self {
            ParamKind::Int { min, bound } => format!("an integer >= {min}{}", bound_text(*bound)),
            // No upper end (f64::MAX): a bound, not a range, so the
            // message does not spell out 309 digits.
            ParamKind::Float { low, high, open } if *high >= f64::MAX => {
                format!("a finite number {} {low}", if *open { ">" } else { ">=" })
            }
            ParamKind::Float { low, high, open } => {
                let (l, r) = if *open { ("(", ")") } else { ("[", "]") };
                format!("a number in {l}{low}, {high}{r}")
            }
            ParamKind::Choice(c) => format!("one of {}", c.join(", ")),
            ParamKind::Bool => "true or false".into(),
            ParamKind::CountOrFraction { bound } => {
                format!("a count >= 1{} or a fraction in (0, 1)", bound_text(*bound))
            }
            ParamKind::CountOrAuto { bound } => {
                format!("a count >= 1{} or \"auto\"", bound_text(*bound))
            }
            ParamKind::PositiveOrWord(w) => format!("a number > 0 or \"{w}\""),
        }
    }
}

/// A number as written, integer or not; `NaN` for anything else (the
/// callers match numbers first).
fn number(v: &ParamValue) -> f64 {
    match v {
        ParamValue::Int(n) => *n as f64,
        ParamValue::Float(x) => *x,
        _ => f64::NAN,
    }
}

fn bound_text(b: Bound) -> &'static str {
    match b {
        Bound::None => "",
        Bound::Rows => " and at most the number of rows",
        Bound::Features => " and at most the number of input columns",
    }
}

/// One hyperparameter an algorithm accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Value used when the manifest does not set it; `None` makes it required.
    pub default: Option<ParamValue>,
    pub help: &'static str,
}

impl ParamSpec {
    pub fn new(
        name: &'static str,
        kind: ParamKind,
        default: Option<ParamValue>,
        help: &'static str,
    ) -> Self {
        ParamSpec {
            name,
            kind,
            default,
            help,
        }
    }

    /// `k`, the number of clusters or components: required, at least 1 and
    /// at most the number of rows.
    pub fn clusters(help: &'static str) -> Self {
        ParamSpec::new(
            "k",
            ParamKind::Int {
                min: 1,
                bound: Bound::Rows,
            },
            None,
            help,
        )
    }

    /// A count of at least 1 that the data does not bound (restarts,
    /// iterations), with its default.
    pub fn count(name: &'static str, default: i64, help: &'static str) -> Self {
        ParamSpec::new(
            name,
            ParamKind::Int {
                min: 1,
                bound: Bound::None,
            },
            int(default),
            help,
        )
    }

    /// `tol`, a convergence tolerance in (0, 1), with its default.
    pub fn tolerance(default: f64, help: &'static str) -> Self {
        ParamSpec::new(
            "tol",
            ParamKind::Float {
                low: 0.0,
                high: 1.0,
                open: true,
            },
            float(default),
            help,
        )
    }

    /// Checks a value. `shape` is `(rows, input columns)` once the data is
    /// known; without it only the data-independent rules are checked. Returns
    /// the value normalised (an integral float given for a count stays a count).
    pub fn check(
        &self,
        v: &ParamValue,
        shape: Option<(usize, usize)>,
    ) -> Result<ParamValue, String> {
        let wrong = || format!("`{}` = {v}: expected {}", self.name, self.kind.describe());
        let bounded = |n: i64, min: i64, bound: Bound| -> Result<ParamValue, String> {
            if n < min {
                return Err(wrong());
            }
            if let Some((rows, cols)) = shape {
                let (limit, what) = match bound {
                    Bound::None => (usize::MAX, ""),
                    Bound::Rows => (rows, "rows"),
                    Bound::Features => (cols, "input columns"),
                };
                if n as u64 > limit as u64 {
                    return Err(format!(
                        "`{}` = {n} is more than the data's {limit} {what}",
                        self.name
                    ));
                }
            }
            Ok(ParamValue::Int(n))
        };
        match (&self.kind, v) {
            (ParamKind::Int { min, bound }, ParamValue::Int(n)) => bounded(*n, *min, *bound),
            (ParamKind::Float { low, high, open }, ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = number(v);
                let inside = if *open {
                    x > *low && x < *high
                } else {
                    x >= *low && x <= *high
                };
                if inside {
                    Ok(ParamValue::Float(x))
                } else {
                    Err(wrong())
                }
            }
            (ParamKind::Choice(c), ParamValue::Text(s)) => {
                if c.contains(&s.as_str()) {
                    Ok(v.clone())
                } else {
                    Err(format!(
                        "`{}` = \"{s}\" is not allowed{}; expected one of {}",
                        self.name,
                        crate::text::did_you_mean(s, c.iter()),
                        c.join(", ")
                    ))
                }
            }
            (ParamKind::Bool, ParamValue::Bool(_)) => Ok(v.clone()),
            (ParamKind::CountOrFraction { bound }, ParamValue::Int(n)) => bounded(*n, 1, *bound),
            (ParamKind::CountOrFraction { .. }, ParamValue::Float(x)) => {
                if *x > 0.0 && *x < 1.0 {
                    Ok(v.clone())
                } else {
                    Err(wrong())
                }
            }
            (ParamKind::CountOrAuto { bound }, ParamValue::Int(n)) => bounded(*n, 1, *bound),
            (ParamKind::CountOrAuto { .. }, ParamValue::Text(s)) if s == "auto" => Ok(v.clone()),
            (ParamKind::PositiveOrWord(_), ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = number(v);
                if x > 0.0 && x.is_finite() {
                    Ok(ParamValue::Float(x))
                } else {
                    Err(wrong())
                }
            }
            (ParamKind::PositiveOrWord(w), ParamValue::Text(s)) if s == w => Ok(v.clone()),
            _ => Err(wrong()),
        }
    }
}

/// Checked hyperparameters of one algorithm: every declared parameter is
/// present (defaults filled in), so getters only fail on a programming error
/// in a `Configurable` impl, which they report as an [`AlgoError`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Params(pub BTreeMap<String, ParamValue>);

impl Params {
    fn get(&self, name: &str) -> Result<&ParamValue, AlgoError> {
        self.0.get(name).ok_or_else(|| AlgoError::InvalidParameter {
            name: name.to_string(),
            value: "missing".into(),
            expected: "a value (declared in the algorithm's parameter list)".into(),
        })
    }
    fn mismatch(name: &str, v: &ParamValue, expected: &str) -> AlgoError {
        AlgoError::InvalidParameter {
            name: name.to_string(),
            value: v.to_string(),
            expected: expected.to_string(),
        }
    }
    /// A non-negative integer.
    pub fn usize(&self, name: &str) -> Result<usize, AlgoError> {
        match self.get(name)? {
            ParamValue::Int(n) if *n >= 0 => Ok(*n as usize),
            v => Err(Self::mismatch(name, v, "a non-negative integer")),
        }
    }
    pub fn f64(&self, name: &str) -> Result<f64, AlgoError> {
        match self.get(name)? {
            ParamValue::Float(x) => Ok(*x),
            ParamValue::Int(n) => Ok(*n as f64),
            v => Err(Self::mismatch(name, v, "a number")),
        }
    }
    pub fn bool(&self, name: &str) -> Result<bool, AlgoError> {
        match self.get(name)? {
            ParamValue::Bool(b) => Ok(*b),
            v => Err(Self::mismatch(name, v, "true or false")),
        }
    }
    pub fn text(&self, name: &str) -> Result<&str, AlgoError> {
        match self.get(name)? {
            ParamValue::Text(s) => Ok(s),
            v => Err(Self::mismatch(name, v, "a word")),
        }
    }
    /// The raw value.
    pub fn value(&self, name: &str) -> Result<&ParamValue, AlgoError> {
        self.get(name)
    }
}

/// An algorithm that can be built from manifest parameters.
pub trait Configurable: Sized {
    /// The parameters it accepts, with defaults.
    fn param_specs() -> Vec<ParamSpec>;
    /// Builds the algorithm from checked parameters.
    fn from_params(p: &Params) -> Result<Self, AlgoError>;
    /// Rules that need the data's shape `(rows, input columns)` beyond the
    /// per-parameter bounds (e.g. a memory limit); checked before any run.
    fn check_shape(_p: &Params, _rows: usize, _cols: usize) -> Result<(), String> {
        Ok(())
    }
}

/// Shorthands for defaults in `param_specs`.
pub fn int(n: i64) -> Option<ParamValue> {
    Some(ParamValue::Int(n))
}
pub fn float(x: f64) -> Option<ParamValue> {
    Some(ParamValue::Float(x))
}
pub fn word(s: &str) -> Option<ParamValue> {
    Some(ParamValue::Text(s.to_string()))
}
pub fn flag(b: bool) -> Option<ParamValue> {
    Some(ParamValue::Bool(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorthand_specs_take_the_usual_ranges() {
        let k = ParamSpec::clusters("");
        assert_eq!((k.name, k.default.clone()), ("k", None));
        assert!(k.check(&ParamValue::Int(0), None).is_err());
        assert!(k.check(&ParamValue::Int(1), Some((4, 2))).is_ok());
        assert!(k.check(&ParamValue::Int(5), Some((4, 2))).is_err());
        let c = ParamSpec::count("n_init", 10, "");
        assert_eq!((c.name, c.default.clone()), ("n_init", Some(ParamValue::Int(10))));
        assert!(c.check(&ParamValue::Int(0), None).is_err());
        assert!(c.check(&ParamValue::Int(500), Some((4, 2))).is_ok());
        let t = ParamSpec::tolerance(1e-4, "");
        assert_eq!((t.name, t.default.clone()), ("tol", Some(ParamValue::Float(1e-4))));
        assert!(t.check(&ParamValue::Float(0.0), None).is_err());
        assert!(t.check(&ParamValue::Float(1.0), None).is_err());
        assert!(t.check(&ParamValue::Float(0.5), None).is_ok());
    }

    #[test]
    fn checks_kinds_and_bounds() {
        let k = ParamSpec::new(
            "k",
            ParamKind::Int {
                min: 2,
                bound: Bound::Rows,
            },
            None,
            "",
        );
        assert_eq!(k.check(&ParamValue::Int(3), None), Ok(ParamValue::Int(3)));
        assert!(
            k.check(&ParamValue::Int(1), None)
                .unwrap_err()
                .contains("integer >= 2")
        );
        assert!(
            k.check(&ParamValue::Int(50), Some((40, 3)))
                .unwrap_err()
                .contains("more than the data's 40 rows")
        );
        let f = ParamSpec::new(
            "n_components",
            ParamKind::CountOrFraction {
                bound: Bound::Features,
            },
            None,
            "",
        );
        assert!(f.check(&ParamValue::Float(0.9), None).is_ok());
        assert!(f.check(&ParamValue::Float(1.5), None).is_err());
        assert!(f.check(&ParamValue::Int(13), Some((100, 12))).is_err());
        let c = ParamSpec::new("covariance", ParamKind::Choice(&["full", "diag"]), None, "");
        assert!(
            c.check(&ParamValue::Text("ful".into()), None)
                .unwrap_err()
                .contains("did you mean `full`")
        );
        let p = ParamSpec::new(
            "tol",
            ParamKind::Float {
                low: 0.0,
                high: 1.0,
                open: true,
            },
            None,
            "",
        );
        assert!(p.check(&ParamValue::Int(0), None).is_err());
        assert!(p.check(&ParamValue::Text("x".into()), None).is_err());
        // A number with no upper end reads as a bound (it printed f64::MAX's 309 digits).
        let eps = ParamSpec::new(
            "eps",
            ParamKind::Float {
                low: 0.0,
                high: f64::MAX,
                open: true,
            },
            None,
            "",
        );
        assert_eq!(eps.check(&ParamValue::Float(1e300), None), Ok(ParamValue::Float(1e300)));
        for bad in [-1.0, 0.0, f64::INFINITY] {
            let e = eps.check(&ParamValue::Float(bad), None).unwrap_err();
            assert!(e.ends_with("expected a finite number > 0"), "{e}");
        }
        let g = ParamSpec::new("gamma", ParamKind::PositiveOrWord("huang"), None, "");
        assert_eq!(g.check(&ParamValue::Int(2), None), Ok(ParamValue::Float(2.0)));
        assert_eq!(g.check(&ParamValue::Text("huang".into()), None), Ok(ParamValue::Text("huang".into())));
        let zero = g.check(&ParamValue::Float(0.0), None).unwrap_err();
        assert!(zero.contains("a number > 0 or \"huang\""), "{zero}");
        assert!(g.check(&ParamValue::Text("auto".into()), None).is_err());
        assert!(g.check(&ParamValue::Float(f64::INFINITY), None).is_err());
    }

    #[test]
    fn getters_report_mismatches() {
        let mut p = Params::default();
        p.0.insert("k".into(), ParamValue::Int(3));
        p.0.insert("w".into(), ParamValue::Text("full".into()));
        assert_eq!(p.usize("k").unwrap(), 3);
        assert_eq!(p.f64("k").unwrap(), 3.0);
        assert!(p.bool("k").is_err());
        assert!(p.usize("missing").is_err());
        assert_eq!(p.text("w").unwrap(), "full");
    }
}
