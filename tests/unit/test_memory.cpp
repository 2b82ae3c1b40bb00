// common/memory: with freed memory retained, a second round of the same large allocations
// page-faults (almost) nothing; the faults are counted by the kernel (getrusage).
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/memory.h"

namespace {

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Allocates, touches every page of and frees blocks of the sizes a forward's activations have
// (above glibc's largest mmap threshold of 32 MiB, and below it); returns the minor faults taken.
long faults_of_one_round() {
  const long before = minor_faults();
  std::vector<void*> blocks;
  for (const size_t mb : {48, 24, 6, 1}) {
    void* p = std::malloc(mb << 20);
    std::memset(p, 1, mb << 20);
    blocks.push_back(p);
  }
  for (void* p : blocks) std::free(p);
  return minor_faults() - before;
}

TEST(RetainFreedMemory, ASecondRoundReusesThePagesOfTheFirst) {
  ASSERT_TRUE(stilts::retain_freed_memory());
  EXPECT_TRUE(stilts::retaining_freed_memory());
  const long first = faults_of_one_round();  // 79 MiB: about 20,000 pages of 4 KiB
  const long second = faults_of_one_round();
  EXPECT_GT(first, 10000);
  EXPECT_LT(second, first / 50) << "first round " << first << " faults, second " << second;
  // Handing the free memory back makes the next round fault its pages in again.
  stilts::release_freed_memory();
  EXPECT_GT(faults_of_one_round(), 10000);
}

TEST(RetainFreedMemory, GlibcDefaultsFaultEveryRoundAgain) {
  // Without the policy (the process default; this test runs in its own process under ctest),
  // blocks above the mmap threshold are unmapped on free and fault in again.
  if (stilts::retaining_freed_memory()) GTEST_SKIP() << "the policy is already on in this process";
  faults_of_one_round();
  EXPECT_GT(faults_of_one_round(), 10000);
}

TEST(RetainFreedMemory, TheEnvironmentCanOptOut) {
  if (stilts::retaining_freed_memory()) GTEST_SKIP() << "the policy is already on in this process";
  setenv("STILTS_RETAIN_MEMORY", "0", 1);
  EXPECT_FALSE(stilts::retain_freed_memory());
  EXPECT_FALSE(stilts::retaining_freed_memory());
  unsetenv("STILTS_RETAIN_MEMORY");
}

}  // namespace
