// The activation arena: tensors that are live at the same time never share a byte, every layer's
// inputs and output are live at its step, and the planned size reaches the lower bound (the largest
// sum of simultaneously live tensor sizes) on LeNet and the ONNX fixtures.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_test_util.hpp"
#include "pocket/models.hpp"
#include "pocket/onnx.hpp"
#include "support/test_env.hpp"

namespace pocket::engine_test {
namespace {

// Checks the plan's intervals: overlap in time implies disjoint bytes, everything inside the arena.
void expect_valid_arena(const engine::Plan& plan) {
  const auto& t = plan.tensors();
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_GE(t[i].offset, 0) << t[i].name;
    EXPECT_LE(t[i].offset + t[i].bytes, plan.arena_bytes()) << t[i].name;
    for (size_t j = i + 1; j < t.size(); ++j) {
      const bool live_together = t[i].first_step <= t[j].last_step && t[j].first_step <= t[i].last_step;
      const bool share_bytes = t[i].offset < t[j].offset + t[j].bytes && t[j].offset < t[i].offset + t[i].bytes;
      EXPECT_FALSE(live_together && share_bytes)
          << t[i].name << " [" << t[i].offset << ", +" << t[i].bytes << ") steps " << t[i].first_step << ".."
          << t[i].last_step << " overlaps " << t[j].name << " [" << t[j].offset << ", +" << t[j].bytes << ") steps "
          << t[j].first_step << ".." << t[j].last_step;
    }
  }
  // Every layer reads and writes tensors that are live at its step.
  for (size_t l = 0; l < plan.layers().size(); ++l) {
    const auto step = static_cast<int>(l);
    std::vector<int> used = plan.layers()[l].inputs;
    used.push_back(plan.layers()[l].output);
    for (int id : used) {
      const engine::PlanTensor& x = t[static_cast<size_t>(id)];
      EXPECT_TRUE(x.first_step <= step && step <= x.last_step) << x.name << " at layer " << l;
    }
  }
  EXPECT_EQ(t[static_cast<size_t>(plan.output_tensor())].last_step, static_cast<int>(plan.layers().size()) - 1);
  // The lower bound, recomputed here.
  int64_t bound = 0;
  for (int step = 0; step < static_cast<int>(plan.layers().size()); ++step) {
    int64_t live = 0;
    for (const auto& x : t) live += (x.first_step <= step && step <= x.last_step) ? x.bytes : 0;
    bound = std::max(bound, live);
  }
  EXPECT_EQ(plan.arena_lower_bound(), bound);
  EXPECT_GE(plan.arena_bytes(), bound);
}

// Quantizes a float graph with random-image calibration (no CIFAR-10 needed for the arena).
QModel quantize_random(const Graph& float_graph) {
  auto prepared = prepare_for_quantization(float_graph);
  EXPECT_TRUE(prepared) << prepared.message();
  Dataset d;
  Rng rng(3);
  d.pixels.resize(8 * kCifarImageBytes);
  for (auto& p : d.pixels) p = static_cast<uint8_t>(rng.uniform_int(256));
  d.labels.assign(8, 0);
  auto cal = calibrate(*prepared, d, "8 random images");
  EXPECT_TRUE(cal) << cal.message();
  auto m = quantize(*prepared, QuantConfig{}, &*cal);
  EXPECT_TRUE(m) << m.message();
  return *m;
}

}  // namespace

TEST(Arena, PlannerOnChainsAndRandomLifetimes) {
  // A chain: each tensor lives from its producer to its consumer.
  std::vector<engine::ArenaRequest> chain = {{3072, 0, 0}, {1176, 0, 1}, {400, 1, 2}, {120, 2, 3}, {84, 3, 4}, {10, 4, 4}};
  engine::ArenaPlan p = engine::plan_arena(chain);
  EXPECT_EQ(p.lower_bound, 3072 + 1176);
  EXPECT_EQ(p.bytes, p.lower_bound);
  // Alignment rounds every size up.
  p = engine::plan_arena(chain, 16);
  EXPECT_EQ(p.lower_bound, 3072 + 1184);
  for (int64_t off : p.offsets) EXPECT_EQ(off % 16, 0);
  // Random lifetimes: never an overlap, never below the bound.
  Rng rng(9);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<engine::ArenaRequest> req(2 + rng.uniform_int(20));
    for (auto& r : req) {
      r.bytes = 1 + rng.uniform_int(1000);
      r.first_step = static_cast<int>(rng.uniform_int(12));
      r.last_step = r.first_step + static_cast<int>(rng.uniform_int(5));
    }
    p = engine::plan_arena(req);
    EXPECT_GE(p.bytes, p.lower_bound);
    for (size_t i = 0; i < req.size(); ++i) {
      for (size_t j = i + 1; j < req.size(); ++j) {
        const bool live = req[i].first_step <= req[j].last_step && req[j].first_step <= req[i].last_step;
        const bool share = p.offsets[i] < p.offsets[j] + req[j].bytes && p.offsets[j] < p.offsets[i] + req[i].bytes;
        ASSERT_FALSE(live && share) << "trial " << trial << " requests " << i << ", " << j;
      }
    }
  }
}

TEST(Arena, LeNetReachesTheLowerBound) {
  const QModel m = quantize_random(make_lenet(true, 1));
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  expect_valid_arena(*plan);
  // Input 3x32x32 plus conv1's pooled output 6x14x14 are live together while conv1 runs.
  EXPECT_EQ(plan->arena_lower_bound(), 3072 + 1176);
  EXPECT_EQ(plan->arena_bytes(), plan->arena_lower_bound()) << plan->describe();
  // The flatten is an alias of conv2's output, not a copy.
  const auto& t = plan->tensors();
  EXPECT_EQ(t.size(), 6u) << "input, conv1, conv2 (+flatten alias), fc1, fc2, fc3";
}

TEST(Arena, FixturesReachTheLowerBound) {
  for (const std::string name : {"lenet_nobias", "lenet_bias", "resblock_bn", "dwsep"}) {
    SCOPED_TRACE(name);
    auto g = load_onnx(test::fixtures_dir() + "/" + name + ".onnx");
    ASSERT_TRUE(g) << g.message();
    g->normalization = Normalization::lab();
    const QModel m = quantize_random(*g);
    auto plan = engine::compile(m);
    ASSERT_TRUE(plan) << plan.message();
    expect_valid_arena(*plan);
    EXPECT_EQ(plan->arena_bytes(), plan->arena_lower_bound()) << plan->describe();
  }
}

TEST(Arena, RunDoesNotWriteOutsideTheArenaAndTwoArenasAgree) {
  // The plan's own arena and a caller's arena (with guard bytes around it) give the same output,
  // and the guard bytes stay untouched.
  const QModel m = quantize_random(make_lenet(false, 2));
  auto plan = engine::compile(m);
  ASSERT_TRUE(plan) << plan.message();
  std::vector<int8_t> in(static_cast<size_t>(plan->input().bytes)), a(10), b(10);
  Rng rng(4);
  for (auto& v : in) v = static_cast<int8_t>(static_cast<int>(rng.uniform_int(256)) - 128);
  plan->run(in.data(), a.data());
  const size_t guard = 64;
  std::vector<int8_t> buffer(static_cast<size_t>(plan->arena_bytes()) + 2 * guard, 0x5a);
  plan->run(in.data(), b.data(), std::span<int8_t>(buffer.data() + guard, static_cast<size_t>(plan->arena_bytes())));
  EXPECT_EQ(a, b);
  for (size_t i = 0; i < guard; ++i) {
    EXPECT_EQ(buffer[i], 0x5a);
    EXPECT_EQ(buffer[buffer.size() - 1 - i], 0x5a);
  }
}

}  // namespace pocket::engine_test
