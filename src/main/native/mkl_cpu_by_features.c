/*
 * libgpt2cls_mkl_cpu.so: answers MKL's "is this a genuine Intel CPU?" with yes.
 *
 * libtorch links Intel oneMKL statically and exports MKL's internal mkl_serv_intel_cpu_true, which MKL's
 * kernel dispatch calls through libtorch's PLT. On an AMD CPU it answers 0 and MKL falls back to generic
 * code paths: sgemm ~25 % slower on an AMD EPYC with AVX2 (BENCHMARKS.md). Loaded into the process's global
 * symbol scope before libtorch (io.gpt2cls.runtime.NativeRuntime, RTLD_GLOBAL), this definition is the one
 * libtorch's call binds to; MKL then picks its kernels by the CPU's feature flags (AVX2, FMA, AVX-512) alone,
 * as it does on Intel CPUs. No libc, no other symbol: the library runs on any x86-64 Linux.
 *
 * Rebuild: src/main/native/build.sh (writes src/main/resources/linux-x86-64/libgpt2cls_mkl_cpu.so).
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
