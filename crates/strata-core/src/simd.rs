//! Kernels compiled for the baseline CPU and for AVX2, picked at run time.

/// Runs a kernel body compiled for AVX2 when the CPU has it, else for the
/// baseline. Both builds perform the same floating-point operations in the
/// same order (Rust never contracts `a * b + c` into a fused multiply-add), so
/// the results are bit-identical; only the vector width differs.
#[macro_export]
macro_rules! simd_dispatch {
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
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { wide $(::<$($g),*>)? ($($arg),*) };
                }
            }
            $body $(::<$($g),*>)? ($($arg),*)
        }
    };
}
