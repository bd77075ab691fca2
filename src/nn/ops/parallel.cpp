// A small pool of helper threads for parallel_for (see ops_internal.hpp).
//
// Why not OpenMP: an OpenMP parallel region ends in a barrier that waits for EVERY thread of the
// team, so on a machine busy with other processes one descheduled thread stalls the region for a
// whole scheduler time slice, and spinning waiters burn the cores the others need (measured: a
// LeNet training step 10-30x slower than single-threaded under a parallel build). Here the caller
// claims indices itself and only waits for indices a helper has already started, so a busy machine
// degrades to single-threaded speed; helpers spin briefly, then sleep.
//
// Protocol: a job (body, ctx, count) is published under mutex_ with a new generation. Helpers
// register in active_ under mutex_, claim indices from next_, and deregister when next_ runs past
// count. run() returns only when every index is finished and no helper is registered, and a new job
// is published only when no helper is registered, so a helper never sees a stale body.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

int configured_threads() {
  for (const char* name : {"POCKET_THREADS", "OMP_NUM_THREADS"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') {
      const int n = std::atoi(v);  // "4" or the first entry of an OpenMP list "4,2"
      if (n >= 1) return std::min(n, 64);
    }
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 64u));
}

constexpr std::chrono::microseconds kPoll{100};

class Pool {
 public:
  explicit Pool(int helpers) {
    for (int i = 0; i < helpers; ++i) threads_.emplace_back([this] { helper_loop(); });
    for (std::thread& t : threads_) t.detach();  // they sleep in wake_ until the process exits
  }

  int threads() const { return static_cast<int>(threads_.size()) + 1; }

  void run(int64_t count, detail::Body body, const void* ctx) {
    std::unique_lock<std::mutex> job(run_mutex_, std::try_to_lock);
    if (!job.owns_lock()) {  // another thread's job is running: do this one alone
      for (int64_t i = 0; i < count; ++i) body(ctx, i);
      return;
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      idle_.wait(lock, [this] { return active_.load(std::memory_order_acquire) == 0; });
      body_ = body;
      ctx_ = ctx;
      count_ = count;
      next_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (int64_t i = next_.fetch_add(1); i < count; i = next_.fetch_add(1)) body(ctx, i);
    // Every index is claimed; wait for those still running on helpers.
    const auto until = std::chrono::steady_clock::now() + kPoll;
    while (active_.load(std::memory_order_acquire) != 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return active_.load(std::memory_order_acquire) == 0; });
  }

 private:
  void helper_loop() {
    uint64_t seen = 0;
    for (;;) {
      // Poll briefly for the next job (the ops of one training step follow each other within
      // microseconds), then sleep.
      const auto until = std::chrono::steady_clock::now() + kPoll;
      while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
      }
      detail::Body body = nullptr;
      const void* ctx = nullptr;
      int64_t count = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        seen = generation_.load(std::memory_order_relaxed);
        body = body_;
        ctx = ctx_;
        count = count_;
        active_.fetch_add(1, std::memory_order_acq_rel);
      }
      for (int64_t i = next_.fetch_add(1); i < count; i = next_.fetch_add(1)) body(ctx, i);
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last = active_.fetch_sub(1, std::memory_order_acq_rel) == 1;
      }
      if (last) idle_.notify_all();
    }
  }

  std::mutex run_mutex_;  // one job at a time
  std::mutex mutex_;      // guards the job fields and active_
  std::condition_variable wake_;
  std::condition_variable idle_;
  detail::Body body_ = nullptr;
  const void* ctx_ = nullptr;
  int64_t count_ = 0;
  std::atomic<int> active_{0};  // helpers registered in the current job (changed under mutex_)
  std::atomic<int64_t> next_{0};
  std::atomic<uint64_t> generation_{0};
  std::vector<std::thread> threads_;
};

Pool& pool() {
  static Pool* p = new Pool(configured_threads() - 1);  // never destroyed: helpers outlive main
  return *p;
}

thread_local bool t_inside_job = false;

}  // namespace

int parallel_threads() { return pool().threads(); }

namespace detail {

void parallel_run(int64_t count, Body body, const void* ctx) {
  if (t_inside_job || parallel_threads() == 1) {  // nested, or nothing to share with
    for (int64_t i = 0; i < count; ++i) body(ctx, i);
    return;
  }
  struct Guarded {
    Body body;
    const void* ctx;
    static void call(const void* self, int64_t i) {
      const auto* g = static_cast<const Guarded*>(self);
      const bool outer = t_inside_job;
      t_inside_job = true;
      g->body(g->ctx, i);
      t_inside_job = outer;
    }
  } guarded{body, ctx};
  pool().run(count, &Guarded::call, &guarded);
}

}  // namespace detail
}  // namespace pocket::ops
