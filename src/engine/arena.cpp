// The activation arena: offsets from tensor lifetimes.
//
// Two tensors may share bytes iff their lifetimes (inclusive step intervals) are disjoint. The
// lower bound is the largest sum of sizes of tensors live at one step: every placement needs at
// least that. Placement is greedy: tensors are taken in some order and each goes to the lowest
// offset where it overlaps no already placed tensor with an overlapping lifetime. We try two orders
// and keep the smaller arena:
//   - by size, largest first (ties: earlier first step): big tensors get the low offsets and the
//     small ones fill the gaps, which is what usually wins on networks with skip connections;
//   - by first step (ties: larger first): tensors go in the order the network writes them.
// On a chain (LeNet) both reach the lower bound: each tensor only has to avoid its producer's input
// and its consumer's output.
// The lower bound is not always reachable (placing intervals is an NP-hard packing problem: a
// long-lived tensor can split the free space so that a later large tensor fits in neither part),
// so a gap between the two numbers means fragmentation, which the report shows.
#include <algorithm>
#include <numeric>

#include "pocket/engine.hpp"

namespace pocket::engine {
namespace {

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

bool lifetimes_overlap(const ArenaRequest& a, const ArenaRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

std::vector<int64_t> place(std::span<const ArenaRequest> req, const std::vector<size_t>& order, int64_t alignment,
                           int64_t* total) {
  std::vector<int64_t> offset(req.size(), -1);
  std::vector<size_t> placed;
  *total = 0;
  for (size_t i : order) {
    const int64_t size = align_up(req[i].bytes, alignment);
    // Busy byte ranges of the placed tensors that are live at the same time, by offset.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed) {
      if (lifetimes_overlap(req[i], req[j])) busy.emplace_back(offset[j], offset[j] + align_up(req[j].bytes, alignment));
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [begin, end] : busy) {
      if (at + size <= begin) break;  // fits in the gap before this range
      at = std::max(at, align_up(end, alignment));
    }
    offset[i] = at;
    placed.push_back(i);
    *total = std::max(*total, at + size);
  }
  return offset;
}

}  // namespace

ArenaPlan plan_arena(std::span<const ArenaRequest> requests, int64_t alignment) {
  ArenaPlan plan;
  if (alignment < 1) alignment = 1;
  int last = 0;
  for (const ArenaRequest& r : requests) last = std::max(last, r.last_step);
  for (int step = 0; step <= last; ++step) {
    int64_t live = 0;
    for (const ArenaRequest& r : requests) {
      if (r.first_step <= step && step <= r.last_step) live += align_up(r.bytes, alignment);
    }
    plan.lower_bound = std::max(plan.lower_bound, live);
  }
  std::vector<size_t> by_size(requests.size());
  std::iota(by_size.begin(), by_size.end(), size_t{0});
  std::vector<size_t> by_start = by_size;
  std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first_step < requests[b].first_step;
  });
  std::stable_sort(by_start.begin(), by_start.end(), [&](size_t a, size_t b) {
    if (requests[a].first_step != requests[b].first_step) return requests[a].first_step < requests[b].first_step;
    return requests[a].bytes > requests[b].bytes;
  });
  int64_t size_total = 0, start_total = 0;
  std::vector<int64_t> size_offsets = place(requests, by_size, alignment, &size_total);
  std::vector<int64_t> start_offsets = place(requests, by_start, alignment, &start_total);
  if (start_total < size_total) {
    plan.offsets = std::move(start_offsets);
    plan.bytes = start_total;
    plan.method = "greedy by first use";
  } else {
    plan.offsets = std::move(size_offsets);
    plan.bytes = size_total;
    plan.method = "greedy by size";
  }
  return plan;
}

}  // namespace pocket::engine
