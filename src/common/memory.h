// The process's heap policy for tensors (glibc malloc).
//
// By default glibc serves every block above a threshold (128 KiB, rising to at most 32 MiB) with its
// own mmap and unmaps it on free, and trims the top of the heap once enough is free there. A forward
// or training step frees its activations and allocates the same sizes again next time, so each step
// page-faults all of its activation memory in afresh: at BERT-base batch 32 that was 54% of a bf16
// forward here (bench/README.md). Retaining freed memory makes later steps reuse the pages.
#pragma once

namespace stilts {

// Keeps freed memory in the process for reuse: no mmap for large blocks, no trimming of the heap.
// The resident size then stays at its high-water mark. The environment variable
// STILTS_RETAIN_MEMORY=0 keeps glibc's defaults (nothing is changed and false is returned); true
// when the policy is in effect.
bool retain_freed_memory();

// Whether retain_freed_memory() put the policy in effect in this process.
bool retaining_freed_memory();

// Gives the free heap memory back to the kernel now (malloc_trim), e.g. before measuring a peak from
// a clean start.
void release_freed_memory();

}  // namespace stilts
