// parallel_for (src/nn/ops/parallel.cpp): every index runs exactly once, for back-to-back jobs,
// nested calls and several calling threads at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "../src/nn/ops/ops_internal.hpp"

namespace pocket::ops {
namespace {

TEST(ParallelFor, EveryIndexExactlyOnceOverManyJobs) {
  EXPECT_GE(parallel_threads(), 1);
  for (int64_t count : {0, 1, 2, 3, 7, 64, 1000}) {
    for (int job = 0; job < 200; ++job) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      parallel_for(count, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
      for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << count << " " << i;
    }
  }
}

TEST(ParallelFor, SerialWhenAskedAndNestedCallsComplete) {
  std::vector<int> order;
  parallel_for(5, [&](int64_t i) { order.push_back(static_cast<int>(i)); }, false);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  std::vector<std::atomic<int>> hits(64);
  parallel_for(8, [&](int64_t outer) {
    parallel_for(8, [&](int64_t inner) { hits[static_cast<size_t>(outer * 8 + inner)].fetch_add(1); });
  });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ParallelFor, SeveralCallingThreads) {
  constexpr int kCallers = 4, kJobs = 100, kCount = 37;
  std::vector<std::vector<std::atomic<int>>> hits(kCallers);
  for (auto& h : hits) h = std::vector<std::atomic<int>>(kJobs * kCount);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&hits, c] {
      for (int job = 0; job < kJobs; ++job) {
        parallel_for(kCount, [&](int64_t i) { hits[static_cast<size_t>(c)][static_cast<size_t>(job * kCount + i)].fetch_add(1); });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  for (auto& h : hits) {
    for (auto& x : h) ASSERT_EQ(x.load(), 1);
  }
}

}  // namespace
}  // namespace pocket::ops
