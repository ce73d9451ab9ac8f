//! Where a sweep's time goes: the wall and CPU seconds of each of its
//! phases (planning, representations, runs, silhouettes in the common
//! space, classification, the decision stages, similar tracks, reports),
//! logged at `-v` and written to `timings.json` in the results folder.
//!
//! The phases run one after another, each using every thread it can, so
//! the process's CPU time over a phase is that phase's. A run record's own
//! `timings_s` are wall-clock shares of work that runs beside other runs;
//! these are not.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// File name of the phase timings in the results folder.
pub const TIMINGS_FILE: &str = "timings.json";

/// One phase of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub phase: String,
    /// The experiment it belongs to; `None` for a phase shared by all.
    pub experiment: Option<String>,
    pub wall_s: f64,
    /// The process's user and system CPU seconds over the phase, every
    /// thread counted (10 ms resolution); `None` where the platform does
    /// not say (it is read from `/proc/self/stat`).
    pub cpu_s: Option<f64>,
}

/// The phases of one sweep, in the order they finished.
#[derive(Debug, Default)]
pub struct Phases(Mutex<Vec<Phase>>);

impl Phases {
    /// Runs `f` as the phase `name` (of `experiment`, if one) and records it.
    pub fn time<T>(&self, name: &str, experiment: Option<&str>, f: impl FnOnce() -> T) -> T {
        let (t, cpu) = (Instant::now(), process_cpu_s());
        let out = f();
        let phase = Phase {
            phase: name.to_string(),
            experiment: experiment.map(str::to_string),
            wall_s: t.elapsed().as_secs_f64(),
            // Whole ticks: the difference of two readings, rounded back to
            // the hundredths they count.
            cpu_s: cpu.zip(process_cpu_s()).map(|(a, b)| ((b - a) * 100.0).round().max(0.0) / 100.0),
        };
        let cpu = phase.cpu_s.map_or(String::new(), |c| format!(", {c:.1} CPU-s"));
        match &phase.experiment {
            Some(e) => tracing::info!("{e}: {name} took {:.1} s{cpu}", phase.wall_s),
            None => tracing::info!("{name} took {:.1} s{cpu}", phase.wall_s),
        }
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(phase);
        out
    }

    /// The phases recorded so far.
    pub fn list(&self) -> Vec<Phase> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes the phases to `timings.json` in `out`.
    pub fn write(&self, out: &Path) -> anyhow::Result<()> {
        crate::store::write_json(&out.join(TIMINGS_FILE), &self.list())
    }
}

/// The process's user plus system CPU seconds so far, all threads.
fn process_cpu_s() -> Option<f64> {
    cpu_from_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// User plus system CPU seconds from the text of `/proc/<pid>/stat`. The
/// command name (field 2, in parentheses) may hold spaces and parentheses,
/// so the fields are counted from the last `)`: `utime` and `stime` are
/// fields 14 and 15, in clock ticks of 1/100 s (the kernel's `USER_HZ`,
/// fixed for this file whatever the kernel's own tick).
fn cpu_from_stat(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // After the name: field 3 (the state) is index 0, so field 14 is 11.
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_come_from_utime_and_stime_after_the_name() {
        // A command name with a space and a parenthesis of its own; utime
        // 250 ticks, stime 17, then cutime and cstime (children, not ours).
        let stat = "4242 (strata (x) run) R 1 4242 4242 0 -1 4194304 900 0 0 0 250 17 999 888 20 0 3 0";
        assert_eq!(cpu_from_stat(stat), Some(2.67));
        assert_eq!(cpu_from_stat("no parenthesis 1 2 3"), None);
        assert_eq!(cpu_from_stat("1 (short) R 1 2"), None);
    }

    #[test]
    fn this_process_reports_its_cpu_time_on_linux() {
        if cfg!(target_os = "linux") {
            let a = process_cpu_s().expect("/proc/self/stat");
            let b = process_cpu_s().expect("/proc/self/stat");
            assert!(a >= 0.0 && b >= a, "{a} then {b}");
        }
    }

    #[test]
    fn phases_are_listed_in_order_with_their_experiment() {
        let p = Phases::default();
        let v = p.time("runs", None, || 7);
        assert_eq!(v, 7);
        p.time("cohorts", Some("campaign"), || ());
        let l = p.list();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].phase.as_str(), l[0].experiment.as_deref()), ("runs", None));
        assert_eq!((l[1].phase.as_str(), l[1].experiment.as_deref()), ("cohorts", Some("campaign")));
        assert!(l.iter().all(|ph| ph.wall_s >= 0.0 && ph.cpu_s.is_none_or(|c| c >= 0.0)));
    }
}
