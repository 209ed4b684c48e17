#include "bench/driver/workloads.h"

#include <algorithm>
#include <functional>

#include "bench/driver/generators.h"
#include "bench/driver/harness.h"
#include "bench/driver/metrics.h"
#include "bench/driver/ycsb.h"
#include "core/assert.h"

namespace strata::bench {

KeySpace::KeySpace(uint64_t capacity)
    : capacity_(capacity), words_(new std::atomic<uint64_t>[(capacity + 63) / 64]) {
  for (uint64_t i = 0; i < (capacity + 63) / 64; ++i) words_[i].store(0);
}

void KeySpace::MarkLive(uint64_t n) {
  STRATA_ASSERT(n < capacity_);
  const uint64_t bit = 1ull << (n % 64);
  if ((words_[n / 64].fetch_or(bit, std::memory_order_relaxed) & bit) == 0) {
    live_.fetch_add(1, std::memory_order_relaxed);
  }
}

void KeySpace::MarkDead(uint64_t n) {
  STRATA_ASSERT(n < capacity_);
  const uint64_t bit = 1ull << (n % 64);
  if ((words_[n / 64].fetch_and(~bit, std::memory_order_relaxed) & bit) != 0) {
    live_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void KeySpace::RaiseRecords(uint64_t n) {
  uint64_t cur = records_.load();
  while (cur < n && !records_.compare_exchange_weak(cur, n)) {
  }
}

uint64_t KeyCapacity(const BenchConfig& config) {
  uint64_t ycsb = 0;
  for (const auto& b : config.benchmarks) ycsb += b.rfind("ycsb-", 0) == 0 ? 1 : 0;
  return config.num + ycsb * config.read_ops() + 1;
}

namespace {

// Salt for the permutation fillrandom and ycsb-load share, so both write the
// same keys in the same order.
constexpr uint64_t kPermutationSalt = 0x7065726d;
constexpr uint64_t kFillsyncDivisor = 1000;  // db_bench: fillsync does num/1000 ops

uint64_t NameSalt(std::string_view name) {
  uint64_t h = 0;
  for (char c : name) h = Fnv1a64(h ^ static_cast<uint8_t>(c));
  return h;
}

struct Builder {
  WorkloadContext* ctx;
  const BenchConfig& c() const { return *ctx->config; }

  PhaseSpec Base(const std::string& name, uint64_t ops) const {
    PhaseSpec spec;
    spec.label = ctx->engine + " " + name;
    spec.ops = ops;
    spec.threads = c().threads;
    spec.seed = MixSeed(c().seed, NameSalt(name));
    spec.compressibility = c().compressibility;
    spec.value_size = c().value_size;
    spec.duration_seconds = c().duration_seconds;
    spec.progress = ctx->progress;
    return spec;
  }

  // Writes key number n with a fresh value.
  Status Put(ClientThread& t, uint64_t n, bool sync) const {
    FormatKey(n, c().key_size, &t.key);
    const std::string_view value = t.values.Next();
    STRATA_RETURN_IF_ERROR(ctx->db->Put(t.key, value, sync));
    ctx->keys->MarkLive(n);
    t.bytes += t.key.size() + value.size();
    t.user_bytes_written += t.key.size() + value.size();
    return Status::Ok();
  }

  Status Get(ClientThread& t, uint64_t n) const {
    FormatKey(n, c().key_size, &t.key);
    Status s = ctx->db->Get(t.key, &t.value);
    if (s.IsNotFound()) return Status::Ok();
    STRATA_RETURN_IF_ERROR(s);
    ++t.found;
    t.bytes += t.key.size() + t.value.size();
    return Status::Ok();
  }

  Status Scan(ClientThread& t, uint64_t n, uint64_t length) const {
    FormatKey(n, c().key_size, &t.key);
    uint64_t entries = 0, bytes = 0;
    STRATA_RETURN_IF_ERROR(ctx->db->Scan(t.key, length, &entries, &bytes));
    if (entries > 0) ++t.found;
    t.bytes += bytes;
    return Status::Ok();
  }

  PhaseSpec Fill(const std::string& name, bool random, uint64_t ops, bool sync) const {
    PhaseSpec spec = Base(name, ops);
    auto perm = std::make_shared<Permutation>(c().num, MixSeed(c().seed, kPermutationSalt));
    spec.op = [this, perm, random, sync](ClientThread& t, uint64_t op) {
      return Put(t, random ? (*perm)(op) : op, sync);
    };
    return spec;
  }

  PhaseSpec Overwrite(const std::string& name) const {
    PhaseSpec spec = Base(name, c().num);
    spec.op = [this](ClientThread& t, uint64_t) {
      return Put(t, t.rng.Uniform(c().num), c().sync);
    };
    return spec;
  }

  PhaseSpec ReadRandom(const std::string& name) const {
    PhaseSpec spec = Base(name, c().read_ops());
    spec.op = [this](ClientThread& t, uint64_t) { return Get(t, t.rng.Uniform(c().num)); };
    return spec;
  }

  PhaseSpec SeekRandom(const std::string& name) const {
    PhaseSpec spec = Base(name, c().read_ops());
    spec.op = [this](ClientThread& t, uint64_t) {
      return Scan(t, t.rng.Uniform(c().num), 1 + uint64_t{c().seek_nexts});
    };
    return spec;
  }

  // Each thread walks the database from the first key with one cursor.
  PhaseSpec ReadSeq(const std::string& name) const {
    PhaseSpec spec = Base(name, c().read_ops());
    spec.op = [this](ClientThread& t, uint64_t) {
      if (t.cursor == nullptr) {
        t.cursor = ctx->db->NewCursor();
        t.cursor->SeekToFirst();
      } else {
        t.cursor->Next();
      }
      if (!t.cursor->Valid()) {
        t.exhausted = true;
        return t.cursor->status();
      }
      ++t.found;
      t.bytes += t.cursor->key().size() + t.cursor->value().size();
      return Status::Ok();
    };
    return spec;
  }

  PhaseSpec DeleteRandom(const std::string& name) const {
    PhaseSpec spec = Base(name, c().num);
    spec.op = [this](ClientThread& t, uint64_t) {
      const uint64_t n = t.rng.Uniform(c().num);
      FormatKey(n, c().key_size, &t.key);
      STRATA_RETURN_IF_ERROR(ctx->db->Delete(t.key, c().sync));
      ctx->keys->MarkDead(n);
      t.bytes += t.key.size();
      t.user_bytes_written += t.key.size();
      return Status::Ok();
    };
    return spec;
  }

  // readrandom on --threads readers while one more thread overwrites random
  // keys as fast as it can; the readers' throughput is what is reported.
  PhaseSpec ReadWhileWriting(const std::string& name,
                             std::shared_ptr<std::atomic<uint64_t>> writer_bytes) const {
    PhaseSpec spec = ReadRandom(name);
    const uint64_t writer_seed = MixSeed(spec.seed, 0xffff);
    spec.background = [this, writer_seed, writer_bytes](const std::atomic<bool>& stop) {
      ClientThread w(0, writer_seed, c().compressibility, c().value_size);
      while (!stop.load(std::memory_order_relaxed)) {
        STRATA_RETURN_IF_ERROR(Put(w, w.rng.Uniform(c().num), c().sync));
      }
      writer_bytes->fetch_add(w.user_bytes_written);
      return Status::Ok();
    };
    return spec;
  }

  PhaseSpec Ycsb(const YcsbSpec& y) const;
};

// Picks record numbers for a YCSB run, per YCSB's CoreWorkload: zipfian
// over the loaded records plus the inserts expected during the run,
// skipping numbers not inserted yet; latest relative to the newest record.
class KeyChooser {
 public:
  KeyChooser(const YcsbSpec& y, uint64_t records, uint64_t ops)
      : distribution_(y.distribution),
        zipf_(records + static_cast<uint64_t>(2 * ops * y.insert) + 1, y.zipfian_theta),
        latest_(records) {}

  uint64_t Next(Random* rng, uint64_t records) {
    constexpr int kRetriesMax = 64;
    switch (distribution_) {
      case RequestDistribution::kUniform:
        return rng->Uniform(records);
      case RequestDistribution::kLatest:
        return latest_.Next(rng, records);
      case RequestDistribution::kZipfian:
        for (int i = 0; i < kRetriesMax; ++i) {
          const uint64_t n = Fnv1a64(zipf_.Next(rng)) % zipf_.items();
          if (n < records) return n;
        }
        return rng->Uniform(records);
    }
    return 0;
  }

 private:
  RequestDistribution distribution_;
  Zipfian zipf_;
  SkewedLatest latest_;
};

PhaseSpec Builder::Ycsb(const YcsbSpec& y) const {
  PhaseSpec spec = Base(y.name, c().read_ops());
  const uint64_t records = ctx->keys->records();
  // One chooser per thread, copied from a prototype (zeta is computed once).
  auto proto = std::make_shared<KeyChooser>(y, records, spec.ops);
  auto choosers = std::make_shared<std::vector<KeyChooser>>(spec.threads, *proto);
  auto scan_zipf = std::make_shared<Zipfian>(y.scan_length_max, y.zipfian_theta);
  const double total = y.total();
  spec.op = [this, y, total, choosers, scan_zipf](ClientThread& t, uint64_t) -> Status {
    KeyChooser& chooser = (*choosers)[t.index];
    double pick = t.rng.NextDouble() * total;
    const uint64_t records = ctx->keys->records();
    if ((pick -= y.read) < 0) return Get(t, chooser.Next(&t.rng, records));
    if ((pick -= y.update) < 0) return Put(t, chooser.Next(&t.rng, records), c().sync);
    if ((pick -= y.insert) < 0) {
      const uint64_t n = ctx->keys->NextInsert();
      if (n >= ctx->keys->capacity()) return Status::InvalidArgument("YCSB inserts overflow");
      return Put(t, n, c().sync);
    }
    if ((pick -= y.scan) < 0) {
      Zipfian local = *scan_zipf;
      const uint64_t length = y.scan_length_zipfian ? 1 + local.Next(&t.rng)
                                                    : 1 + t.rng.Uniform(y.scan_length_max);
      return Scan(t, chooser.Next(&t.rng, records), length);
    }
    const uint64_t n = chooser.Next(&t.rng, records);
    STRATA_RETURN_IF_ERROR(Get(t, n));
    return Put(t, n, c().sync);
  };
  return spec;
}

Result<PhaseSpec> BuildPhase(const std::string& name, const Builder& b,
                             std::shared_ptr<std::atomic<uint64_t>> writer_bytes) {
  const BenchConfig& c = b.c();
  if (name == "fillseq") return b.Fill(name, false, c.num, c.sync);
  if (name == "fillrandom" || name == "ycsb-load") return b.Fill(name, true, c.num, c.sync);
  if (name == "fillsync") {
    return b.Fill(name, true, std::max<uint64_t>(1, c.num / kFillsyncDivisor), true);
  }
  if (name == "overwrite") return b.Overwrite(name);
  if (name == "readrandom") return b.ReadRandom(name);
  if (name == "readseq") return b.ReadSeq(name);
  if (name == "seekrandom") return b.SeekRandom(name);
  if (name == "deleterandom") return b.DeleteRandom(name);
  if (name == "readwhilewriting") return b.ReadWhileWriting(name, writer_bytes);
  if (name == "ycsb-custom") {
    std::string ignored;
    STRATA_ASSIGN_OR_RETURN(YcsbSpec y, LoadYcsbPropertyFile(c.property_file, &ignored));
    return b.Ycsb(y);
  }
  if (name.size() == 6 && name.rfind("ycsb-", 0) == 0) {
    STRATA_ASSIGN_OR_RETURN(YcsbSpec y, CoreWorkload(name[5]));
    return b.Ycsb(y);
  }
  return Status::InvalidArgument("unknown workload '" + name + "'");
}

}  // namespace

Result<WorkloadResult> RunWorkload(const std::string& name, WorkloadContext* context) {
  const BenchConfig& c = *context->config;
  Builder builder{context};
  auto writer_bytes = std::make_shared<std::atomic<uint64_t>>(0);
  STRATA_ASSIGN_OR_RETURN(PhaseSpec spec, BuildPhase(name, builder, writer_bytes));

  const Result<ProcIo> io_before = ReadProcIo();
  const EngineCounters counters_before = context->db->Counters();
  ResetPeakRss();
  STRATA_ASSIGN_OR_RETURN(PhaseOutcome phase, RunPhase(spec));
  const Result<ProcIo> io_after = ReadProcIo();
  const EngineCounters counters_after = context->db->Counters();

  if (name == "fillseq" || name == "fillrandom" || name == "ycsb-load") {
    context->keys->RaiseRecords(c.num);
  }
  WorkloadResult r;
  r.engine = context->engine;
  r.workload = name;
  r.ops = phase.ops;
  r.found = phase.found;
  r.bytes = phase.bytes;
  r.seconds = phase.seconds;
  r.latency = phase.latency;
  r.ops_per_second = std::move(phase.ops_per_second);
  r.progress = std::move(phase.progress);
  r.user_bytes_written = phase.user_bytes_written + writer_bytes->load();
  if (io_before.ok() && io_after.ok()) {
    r.io_write_bytes = Delta(io_before->write_bytes, io_after->write_bytes);
    if (!IsStrataEngine(context->engine)) {
      r.syscall_write_bytes = Delta(io_before->wchar, io_after->wchar);
    }
  }
  auto delta = [](const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
    return a && b ? std::optional<uint64_t>(Delta(*a, *b)) : std::nullopt;
  };
  r.engine_user_bytes = delta(counters_before.user_bytes_written, counters_after.user_bytes_written);
  r.engine_device_bytes =
      delta(counters_before.device_bytes_written, counters_after.device_bytes_written);
  if (auto nanos = delta(counters_before.modeled_nanos, counters_after.modeled_nanos)) {
    r.modeled_seconds = static_cast<double>(*nanos) / 1e9;
  }
  r.modeled_write_bytes =
      delta(counters_before.modeled_write_bytes, counters_after.modeled_write_bytes);
  r.live_bytes = context->keys->live_count() * (uint64_t{c.key_size} + c.value_size);
  r.peak_rss_bytes = PeakRssBytes();
  return r;
}

}  // namespace strata::bench
