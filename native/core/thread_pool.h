// Fixed-size thread pool for data-parallel loops over task indices.
//
// Determinism contract used by every kernel: work is split into fixed-size
// chunks that do not depend on the number of threads; per-chunk partial
// results are combined in chunk order by the caller. Integer counts may be
// merged per worker (addition of integers is order-independent).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ms {

class ThreadPool {
 public:
  // n_threads = total threads that run tasks, including the calling thread
  // (n_threads - 1 workers are started). 0 -> std::thread::hardware_concurrency().
  explicit ThreadPool(unsigned n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return n_threads_; }

  // Runs fn(task) for every task in [0, n_tasks) and blocks until all are done.
  // Tasks are claimed dynamically (any order, any thread). If tasks throw, the
  // remaining unclaimed tasks are skipped and the exception of the lowest
  // failing task index is rethrown here. Calls from different threads are
  // serialized; a call from inside a task runs its tasks inline on that thread.
  void parallel_for(uint64_t n_tasks, const std::function<void(uint64_t task)>& fn);
  // Same; `worker` in [0, size()) identifies the executing thread (for
  // per-thread scratch); two tasks never run concurrently with the same worker.
  void parallel_for_worker(uint64_t n_tasks, const std::function<void(uint64_t task, unsigned worker)>& fn);

 private:
  void worker_main(unsigned worker);
  void run_tasks(unsigned worker);

  unsigned n_threads_;
  std::vector<std::thread> threads_;
  std::mutex call_mu_;  // one parallel_for at a time

  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  unsigned busy_ = 0;  // workers still inside the current job

  // current job
  const std::function<void(uint64_t, unsigned)>* fn_ = nullptr;
  uint64_t n_tasks_ = 0;
  std::atomic<uint64_t>* next_ = nullptr;
  std::atomic<bool> failed_{false};
  std::mutex err_mu_;
  std::exception_ptr err_;
  uint64_t err_task_ = 0;
};

}  // namespace ms
