// The torch intra-op thread count when the user sets none (--threads 0 or absent), measured on Debian's
// libtorch 1.13 + OpenBLAS (pthread) on 2-core AVX-512 machines (README, "Performance"):
//   fp32: 1. GEMMs run in OpenBLAS's own pool (one thread per core) whatever at::set_num_threads says;
//         more torch threads add OpenMP threads that spin against it (2-4x slower at batch 1).
//   int8: 1. oneDNN's int8 linears are fast single-threaded, and 2 threads contend with OpenBLAS's
//         pool, which the fp32 attention products still use.
//   bf16, fp16: oneDNN's bf16 kernels run on torch's OpenMP pool and scale with it on an idle machine
//         (about 1.7x with 2 threads): OMP_NUM_THREADS when it is set (torchrun and stilts launch set it
//         for each rank, so ranks sharing a machine do not oversubscribe it), else every core.
// Training, evaluation and a study's stages take default_threads: a function of the machine and the
// environment only, so a rerun computes what the run computed. stilts bench takes measurement_threads.
// The count is logged by training and recorded with every benchmark figure. Torch-free.
#pragma once

#include "common/precision.h"

namespace stilts {

// InputError when OMP_NUM_THREADS is set but is not a positive integer (or a comma list of them, whose
// first is the outer level's).
int default_threads(Precision precision);

// default_threads for a measurement: bf16 and fp16 without OMP_NUM_THREADS take at most the cores idle
// now (the cores minus those busy over 250 ms of /proc/stat, rounded, at least 1), unless
// OMP_WAIT_POLICY=passive: OpenMP threads spin-wait, and on cores busy with other processes 2 threads
// were 3-5x slower than 1 (passive waiting removes that loss).
int measurement_threads(Precision precision);

}  // namespace stilts
