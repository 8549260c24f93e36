#include "thread_pool.h"

#include <atomic>

namespace ms {

namespace {
thread_local const ThreadPool* tl_running_pool = nullptr;  // set while a thread runs tasks of that pool
}

ThreadPool::ThreadPool(unsigned n_threads) {
  if (n_threads == 0) n_threads = std::thread::hardware_concurrency();
  if (n_threads == 0) n_threads = 1;
  n_threads_ = n_threads;
  threads_.reserve(n_threads - 1);
  for (unsigned w = 1; w < n_threads; ++w) threads_.emplace_back([this, w] { worker_main(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_tasks(unsigned worker) {
  const ThreadPool* prev = tl_running_pool;
  tl_running_pool = this;
  for (;;) {
    if (failed_.load(std::memory_order_relaxed)) break;
    const uint64_t t = next_->fetch_add(1, std::memory_order_relaxed);
    if (t >= n_tasks_) break;
    try {
      (*fn_)(t, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lk(err_mu_);
      if (!err_ || t < err_task_) { err_ = std::current_exception(); err_task_ = t; }
      failed_.store(true, std::memory_order_relaxed);
    }
  }
  tl_running_pool = prev;
}

void ThreadPool::worker_main(unsigned worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_work_.wait(lk, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_tasks(worker);
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--busy_ == 0) cv_done_.notify_all();
    }
  }
}

void ThreadPool::parallel_for_worker(uint64_t n_tasks, const std::function<void(uint64_t, unsigned)>& fn) {
  if (n_tasks == 0) return;
  if (tl_running_pool == this || n_threads_ == 1 || n_tasks == 1) {
    // Nested call or nothing to share: run inline. Worker id 0 is unique
    // within this call since it runs serially (kernels allocate per-worker
    // scratch per call, so a nested call never shares the outer call's).
    std::exception_ptr err;
    for (uint64_t t = 0; t < n_tasks; ++t) {
      try { fn(t, 0); } catch (...) { err = std::current_exception(); break; }
    }
    if (err) std::rethrow_exception(err);
    return;
  }
  std::lock_guard<std::mutex> call_lk(call_mu_);
  std::atomic<uint64_t> next{0};
  {
    std::lock_guard<std::mutex> lk(mu_);
    fn_ = &fn;
    n_tasks_ = n_tasks;
    next_ = &next;
    failed_.store(false);
    err_ = nullptr;
    busy_ = unsigned(threads_.size());
    ++generation_;
  }
  cv_work_.notify_all();
  run_tasks(0);
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, [&] { return busy_ == 0; });
    fn_ = nullptr;
    next_ = nullptr;
  }
  if (err_) {
    std::exception_ptr e = err_;
    err_ = nullptr;
    std::rethrow_exception(e);
  }
}

void ThreadPool::parallel_for(uint64_t n_tasks, const std::function<void(uint64_t)>& fn) {
  parallel_for_worker(n_tasks, [&fn](uint64_t t, unsigned) { fn(t); });
}

}  // namespace ms
