#include "bench/driver/harness.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace strata::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kReportInterval = std::chrono::milliseconds(100);
constexpr int kProgressBarWidth = 30;

// Samples throughput once per second (and progress every kReportInterval) and draws the progress bar until told
// to finish. Stops the clients at the deadline.
class Reporter {
 public:
  Reporter(const PhaseSpec& spec, const std::vector<std::unique_ptr<ClientThread>>& clients,
           std::atomic<bool>* stop)
      : spec_(spec), clients_(clients), stop_(stop) {}

  void Run(Clock::time_point start) {
    uint64_t last_ops = 0;
    auto next_second = start + std::chrono::seconds(1);
    progress_.emplace_back(0.0, 0);
    std::unique_lock lock(mu_);
    while (!finished_) {
      cv_.wait_for(lock, kReportInterval);
      const auto now = Clock::now();
      const uint64_t done = Done();
      progress_.emplace_back(std::chrono::duration<double>(now - start).count(), done);
      while (now >= next_second) {
        series_.push_back(static_cast<double>(done - last_ops));
        last_ops = done;
        next_second += std::chrono::seconds(1);
      }
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (spec_.duration_seconds > 0 && elapsed >= spec_.duration_seconds) {
        stop_->store(true, std::memory_order_relaxed);
      }
      if (spec_.progress) Draw(done, elapsed);
    }
    // The last partial second, scaled to a rate, if it is long enough to mean anything.
    const auto end = Clock::now();
    const double tail = std::chrono::duration<double>(end - (next_second - std::chrono::seconds(1)))
                            .count();
    if (tail >= 0.2) series_.push_back(static_cast<double>(Done() - last_ops) / tail);
    progress_.emplace_back(std::chrono::duration<double>(end - start).count(), Done());
    if (spec_.progress) std::fprintf(stderr, "\r\033[K");
  }

  void Finish() {
    std::lock_guard lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }

  std::vector<double> TakeSeries() { return std::move(series_); }
  std::vector<std::pair<double, uint64_t>> TakeProgress() { return std::move(progress_); }

 private:
  uint64_t Done() const {
    uint64_t done = 0;
    for (const auto& c : clients_) done += c->done.load(std::memory_order_relaxed);
    return done;
  }

  void Draw(uint64_t done, double elapsed) {
    double fraction = spec_.ops == 0 ? 1.0 : static_cast<double>(done) / spec_.ops;
    if (spec_.duration_seconds > 0) fraction = std::max(fraction, elapsed / spec_.duration_seconds);
    fraction = std::min(fraction, 1.0);
    const int filled = static_cast<int>(fraction * kProgressBarWidth);
    char bar[kProgressBarWidth + 1];
    for (int i = 0; i < kProgressBarWidth; ++i) bar[i] = i < filled ? '#' : '.';
    bar[kProgressBarWidth] = '\0';
    std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %.1fk ops/s", spec_.label.c_str(), bar,
                 100 * fraction, elapsed > 0 ? done / elapsed / 1000 : 0.0);
    std::fflush(stderr);
  }

  const PhaseSpec& spec_;
  const std::vector<std::unique_ptr<ClientThread>>& clients_;
  std::atomic<bool>* stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::vector<double> series_;
  std::vector<std::pair<double, uint64_t>> progress_;
};

// One client: its share [begin, end) of the phase's ops.
Status RunClient(const PhaseSpec& spec, ClientThread& t, uint64_t begin, uint64_t end,
                 std::atomic<bool>* stop) {
  for (uint64_t op = begin; op < end && !t.exhausted; ++op) {
    if (stop->load(std::memory_order_relaxed)) break;
    const auto t0 = Clock::now();
    Status s = spec.op(t, op);
    const auto t1 = Clock::now();
    if (!s.ok()) {
      stop->store(true, std::memory_order_relaxed);
      return s;
    }
    if (t.exhausted) break;
    t.latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    t.done.fetch_add(1, std::memory_order_relaxed);
  }
  return Status::Ok();
}

}  // namespace

Result<PhaseOutcome> RunPhase(const PhaseSpec& spec) {
  const uint32_t thread_count = std::max<uint32_t>(1, spec.threads);
  std::vector<std::unique_ptr<ClientThread>> clients;
  for (uint32_t i = 0; i < thread_count; ++i) {
    clients.push_back(std::make_unique<ClientThread>(i, MixSeed(spec.seed, i),
                                                     spec.compressibility, spec.value_size));
  }
  std::atomic<bool> stop{false};
  std::atomic<bool> background_stop{false};
  std::vector<Status> statuses(thread_count);
  Status background_status;
  Reporter reporter(spec, clients, &stop);

  const auto start = Clock::now();
  std::thread reporter_thread([&] { reporter.Run(start); });
  std::thread background_thread;
  if (spec.background) {
    background_thread = std::thread([&] { background_status = spec.background(background_stop); });
  }
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < thread_count; ++i) {
    const uint64_t begin = spec.ops * i / thread_count;
    const uint64_t end = spec.ops * (i + 1) / thread_count;
    threads.emplace_back(
        [&, i, begin, end] { statuses[i] = RunClient(spec, *clients[i], begin, end, &stop); });
  }
  for (auto& t : threads) t.join();
  const auto finish = Clock::now();
  background_stop.store(true);
  if (background_thread.joinable()) background_thread.join();
  reporter.Finish();
  reporter_thread.join();

  for (const Status& s : statuses) STRATA_RETURN_IF_ERROR(s);
  STRATA_RETURN_IF_ERROR(background_status);
  PhaseOutcome out;
  out.seconds = std::chrono::duration<double>(finish - start).count();
  for (auto& c : clients) {
    c->cursor.reset();
    out.ops += c->done.load();
    out.found += c->found;
    out.bytes += c->bytes;
    out.user_bytes_written += c->user_bytes_written;
    out.latency.Merge(c->latency);
  }
  out.ops_per_second = reporter.TakeSeries();
  out.progress = reporter.TakeProgress();
  return out;
}

}  // namespace strata::bench
