//! Kernels compiled for the baseline CPU, for AVX2 and (some) for AVX-512,
//! picked at run time.
//!
//! Every build performs the same floating-point operations in the same
//! order (Rust never contracts `a * b + c` into a fused multiply-add, and
//! never reorders a sum), so the results are bit-identical; only the vector
//! width differs. The kernels hold 16 rows as `[f64; 16]`: four AVX2
//! registers, or two AVX-512 ones, which halves the instructions of every
//! multiply, add and compare.
//!
//! `STRATA_SIMD=baseline|avx2|avx512` caps the level (read once per
//! process), so a benchmark can compare the builds; `with_simd_cap` caps it
//! for one thread, so the tests can check every build against the baseline
//! on one machine.

use std::sync::atomic::{AtomicU8, Ordering};

/// The widest instruction set a kernel may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    Baseline = 1,
    Avx2 = 2,
    Avx512 = 3,
}

static LEVEL: AtomicU8 = AtomicU8::new(0);

thread_local! {
    /// A cap for the calling thread only (see [`with_simd_cap`]).
    static THREAD_CAP: std::cell::Cell<SimdLevel> = const { std::cell::Cell::new(SimdLevel::Avx512) };
}

/// The level the kernels run at: the widest the CPU has, capped by
/// `STRATA_SIMD` when it names a level (any other value is ignored) and by
/// [`with_simd_cap`] on the calling thread.
pub fn simd_level() -> SimdLevel {
    let process = match LEVEL.load(Ordering::Relaxed) {
        1 => SimdLevel::Baseline,
        2 => SimdLevel::Avx2,
        3 => SimdLevel::Avx512,
        _ => {
            let level = detect().min(cap(std::env::var("STRATA_SIMD").ok().as_deref()));
            LEVEL.store(level as u8, Ordering::Relaxed);
            level
        }
    };
    process.min(THREAD_CAP.with(|c| c.get()))
}

/// Runs `f` with the kernels that the calling thread runs capped at
/// `level` (work `f` hands to other threads is not capped): the tests check
/// each build of a kernel against the baseline on one machine.
pub fn with_simd_cap<R>(level: SimdLevel, f: impl FnOnce() -> R) -> R {
    /// Puts the thread's previous cap back, also when `f` panics.
    struct Restore(SimdLevel);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD_CAP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(THREAD_CAP.with(|c| c.replace(level)));
    f()
}

/// The cap `STRATA_SIMD` sets: none unless it names a level.
fn cap(var: Option<&str>) -> SimdLevel {
    match var.map(str::trim) {
        Some("baseline") => SimdLevel::Baseline,
        Some("avx2") => SimdLevel::Avx2,
        _ => SimdLevel::Avx512,
    }
}

#[cfg(target_arch = "x86_64")]
fn detect() -> SimdLevel {
    if std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx2")
    {
        SimdLevel::Avx512
    } else if std::arch::is_x86_feature_detected!("avx2") {
        SimdLevel::Avx2
    } else {
        SimdLevel::Baseline
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> SimdLevel {
    SimdLevel::Baseline
}

/// Runs a kernel body compiled for AVX2 when the CPU has it (see
/// [`simd_level`]), else for the baseline; the results are the same to the
/// bit on every path. With a leading `avx512`, the body is also compiled for
/// AVX-512 and runs so where the CPU has it: only for kernels measured faster
/// there, whose loops the compiler turns into whole-register operations (on
/// some loop shapes it picks gathers and scatters across iterations
/// instead, which are slower than AVX2). With `avx512(wide)`, the AVX-512
/// build runs the body `wide` instead: one written for that unit's register
/// width, which must give the same bits as `$body` (a test's job).
#[macro_export]
macro_rules! simd_dispatch {
    (avx512 $(#[$doc:meta])* $vis:vis fn $name:ident $(<$(const $g:ident: usize),*>)? ($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $crate::simd_dispatch!(avx512($body) $(#[$doc])* $vis fn $name $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? => $body);
    };
    (avx512($wide:ident) $(#[$doc:meta])* $vis:vis fn $name:ident $(<$(const $g:ident: usize),*>)? ($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,avx512f,avx512vl,avx512dq,avx512bw")]
                #[allow(clippy::too_many_arguments)]
                fn wide512 $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? {
                    $wide $(::<$($g),*>)? ($($arg),*)
                }
                if $crate::simd_level() == $crate::SimdLevel::Avx512 {
                    // SAFETY: the CPU has these features, checked by
                    // `simd_level`.
                    return unsafe { wide512 $(::<$($g),*>)? ($($arg),*) };
                }
            }
            // Otherwise the AVX2 or baseline build, as without `avx512`.
            $crate::simd_dispatch!(fn narrow $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? => $body);
            narrow $(::<$($g),*>)? ($($arg),*)
        }
    };
    ($(#[$doc:meta])* $vis:vis fn $name:ident $(<$(const $g:ident: usize),*>)? ($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn wide $(<$(const $g: usize),*>)? ($($arg: $ty),*) $(-> $ret)? {
                    $body $(::<$($g),*>)? ($($arg),*)
                }
                if $crate::simd_level() >= $crate::SimdLevel::Avx2 {
                    // SAFETY: the CPU has AVX2, checked by `simd_level`.
                    return unsafe { wide $(::<$($g),*>)? ($($arg),*) };
                }
            }
            $body $(::<$($g),*>)? ($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_caps_the_level() {
        assert_eq!(cap(Some("baseline")), SimdLevel::Baseline);
        assert_eq!(cap(Some(" avx2 ")), SimdLevel::Avx2);
        assert_eq!(cap(Some("avx512")), SimdLevel::Avx512);
        assert_eq!(cap(Some("fast")), SimdLevel::Avx512);
        assert_eq!(cap(None), SimdLevel::Avx512);
        assert!(simd_level() <= detect());
        let top = simd_level();
        assert_eq!(with_simd_cap(SimdLevel::Baseline, simd_level), SimdLevel::Baseline);
        assert_eq!(with_simd_cap(SimdLevel::Avx2, simd_level), top.min(SimdLevel::Avx2));
        assert_eq!(simd_level(), top);
        let caught = std::panic::catch_unwind(|| with_simd_cap(SimdLevel::Baseline, || panic!("in f")));
        assert!(caught.is_err());
        assert_eq!(simd_level(), top);
    }
}
