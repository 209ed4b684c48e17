// strata_raft_bench: replication throughput and latency of a 3-node libraft
// 0.15 cluster on loopback (issue 12), with the state machine and the raft
// log swapped in turn, and the time to install a snapshot on a follower
// against the disk's sequential write rate measured in the same run.
//
// The three nodes run in this one process, each on its own thread with its
// own libuv loop (so they spread over the cores as separate processes
// would), talking raft_uv_tcp on 127.0.0.1. Every raft call is made on the
// calling node's loop thread. Each measurement is a fresh cluster in a fresh
// directory under --dir.
//
// Configurations (--configs), "<state machine>-<raft log>":
//   mem-uv        (a) an in-memory state machine (decodes every Command and
//                 applies its batch to a std::map, with the same
//                 client/request-id deduplication) on stock raft_uv
//   lsm-uv, btree-uv          (b) EngineStateMachine over that engine, raft_uv
//   lsm-strata, btree-strata  (c) the same over LogStoreIo (the raft log in a
//                 strata LogStore, replica/log_store_io.h)
// Workloads (--workloads):
//   single  pipelined single-entry applies: --inflight raft_apply calls in
//           flight, each carrying one Command (one Put of --value-bytes)
//   batch   batched applies: --batch-inflight calls in flight, each carrying
//           --batch Commands (buffers)
// Each run applies --warmup entries first, then measures --entries entries
// (or --seconds, whichever ends first): committed entries/s on the leader,
// and per-apply latency from raft_apply to its callback (libraft calls back
// once per call, when its first entry is applied). No snapshot is taken
// during the runs unless --snapshot-threshold says so.
//
// Install (--install-bytes, 0 to skip; --install-configs): one follower is
// closed cleanly, the leader applies --install-bytes of Commands (64 Puts of
// --install-value-bytes each), takes one snapshot and compacts its log, then
// the follower restarts; the time from its restart until its last applied
// index reaches the leader's is the install time (it must have installed
// the snapshot, not caught up by log). The disk's sequential write rate is
// measured on a file of the same size in the same directory first.
//
// TCP_NODELAY is set on raft_uv's sockets (it never does: with Nagle on, a
// message behind an unacknowledged one waits for the peer's delayed ACK, up
// to 40 ms), as `strata raftkv serve` does; --no-tcp-nodelay runs stock
// raft_uv sockets. Engine state machines send snapshots out of band (a
// manifest through raft, the state over the snapshot service on raft port
// + 2), as raftkv does.
//
// The process stops (exit 3) when its resident memory passes --max-rss-gib
// (default 12): libraft 0.15 keeps the log in memory, and a snapshot is a
// few in-memory copies of the whole state. peak_rss_mib is the process's
// high-water mark so far.
//
// --repeat N runs every measurement N times (interleaved: each round runs
// every configuration once) and reports medians.
//
// Usage: strata_raft_bench [--dir DIR] [--configs LIST] [--workloads single,batch]
//        [--entries N] [--seconds S] [--warmup N] [--value-bytes N] [--inflight N]
//        [--batch N] [--batch-inflight N] [--repeat N] [--snapshot-threshold N]
//        [--install-bytes SIZE] [--install-configs LIST] [--install-value-bytes N]
//        [--max-rss-gib G] [--tcp-nodelay] [--keep]
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "bench/disk_rate.h"
#include "core/coding.h"
#include "replica/command.h"
#include "replica/kv_protocol.h"
#include "replica/log_store_io.h"
#include "replica/raft_c.h"
#include "replica/snapshot_transport.h"
#include "replica/state_machine.h"
#include "strata/engine.h"
#include "strata/log_store.h"

namespace strata::bench {
namespace {

using Clock = std::chrono::steady_clock;
using replica::EngineStateMachine;

constexpr unsigned kNodes = 3;
constexpr unsigned kNever = UINT_MAX;  // a snapshot threshold that is never reached
constexpr uint64_t kClientId = 1;

struct Config {
  std::string dir = STRATA_BENCH_DEFAULT_DIR;
  std::vector<std::string> configs = {"mem-uv", "lsm-uv", "lsm-strata", "btree-uv",
                                      "btree-strata"};
  std::vector<std::string> workloads = {"single", "batch"};
  uint64_t entries = 100000;
  double seconds = 60;  // a cap on one measured run
  uint64_t warmup = 10000;
  size_t value_bytes = 100;
  unsigned inflight = 256;
  unsigned batch = 64;
  unsigned batch_inflight = 4;
  unsigned repeat = 1;
  unsigned snapshot_threshold = kNever;
  uint64_t install_bytes = 64ull << 20;
  std::vector<std::string> install_configs = {"lsm-uv", "lsm-strata"};
  size_t install_value_bytes = 400;  // inline in a 4 KiB btree page
  double max_rss_gib = 12;  // 0: no limit
  bool tcp_nodelay = true;
  bool keep = false;
};

void Die(std::string_view what) {
  fmt::print(stderr, "strata_raft_bench: {}\n", what);
  std::exit(1);
}

void Check(const Status& s, std::string_view what) {
  if (!s.ok()) Die(fmt::format("{}: {}", what, s.ToString()));
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= list.size();) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    if (comma > pos) out.push_back(list.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

// "64MiB", "1GiB", "4096" -> bytes.
uint64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  const double n = std::strtod(text.c_str(), &end);
  const std::string unit = end;
  uint64_t scale = 1;
  if (unit == "KiB" || unit == "K") {
    scale = 1ull << 10;
  } else if (unit == "MiB" || unit == "M") {
    scale = 1ull << 20;
  } else if (unit == "GiB" || unit == "G") {
    scale = 1ull << 30;
  } else if (!unit.empty()) {
    Die(fmt::format("size {:?}: want N, NKiB, NMiB or NGiB", text));
  }
  return static_cast<uint64_t>(n * static_cast<double>(scale));
}

struct Kind {
  std::string name;
  std::string sm;   // "mem" or an engine kind
  std::string log;  // "uv" or "strata"
};

Kind ParseKind(const std::string& name) {
  const size_t dash = name.rfind('-');
  Kind k{name, name.substr(0, dash), dash == std::string::npos ? "" : name.substr(dash + 1)};
  if (dash == std::string::npos || (k.log != "uv" && k.log != "strata")) {
    Die(fmt::format("config {:?}: want <mem|lsm|btree>-<uv|strata>", name));
  }
  if (k.sm != "mem") {
    bool known = false;
    for (const std::string& e : RegisteredEngineKinds()) known |= e == k.sm;
    if (!known) Die(fmt::format("config {:?}: engine {:?} is not built in", name, k.sm));
  }
  return k;
}

Status MakeDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::IOError(fmt::format("{}: {}", path, ec.message()));
  return Status::Ok();
}

// --- the in-memory state machine (a) ----------------------------------------

// Does what EngineStateMachine does, into a std::map: decodes the Command
// (checksum included), drops duplicates by (client id, request id), applies
// the batch. Snapshots are the whole map.
class MemStateMachine {
 public:
  MemStateMachine() {
    fsm_.version = 1;
    fsm_.data = this;
    fsm_.apply = [](raft_fsm* f, const raft_buffer* buf, void** result) {
      return static_cast<MemStateMachine*>(f->data)->Apply(buf, result);
    };
    fsm_.snapshot = [](raft_fsm* f, raft_buffer* bufs[], unsigned* n) {
      return static_cast<MemStateMachine*>(f->data)->Snapshot(bufs, n);
    };
    fsm_.restore = [](raft_fsm* f, raft_buffer* buf) {
      return static_cast<MemStateMachine*>(f->data)->Restore(buf);
    };
  }
  raft_fsm* fsm() { return &fsm_; }

 private:
  class Applier final : public WriteBatch::Handler {
   public:
    explicit Applier(std::map<std::string, std::string>* map) : map_(map) {}
    Status OnPut(std::string_view key, std::string_view value) override {
      (*map_)[std::string(key)] = std::string(value);
      return Status::Ok();
    }
    Status OnDelete(std::string_view key) override {
      map_->erase(std::string(key));
      return Status::Ok();
    }
    Status OnPutVersioned(std::string_view key, uint64_t, std::string_view value) override {
      return OnPut(key, value);
    }
    Status OnDeleteRange(std::string_view begin, std::string_view end) override {
      map_->erase(map_->lower_bound(std::string(begin)), map_->lower_bound(std::string(end)));
      return Status::Ok();
    }

   private:
    std::map<std::string, std::string>* map_;
  };

  int Apply(const raft_buffer* buf, void** result) {
    Result<replica::Command> cmd =
        replica::DecodeCommand(std::string_view(static_cast<const char*>(buf->base), buf->len));
    if (!cmd.ok()) Die(fmt::format("mem state machine: {}", cmd.status().ToString()));
    uint64_t& last = clients_[cmd->client_id];
    if (cmd->client_id == 0 || cmd->request_id > last) {
      Applier applier(&map_);
      Check(cmd->batch.Iterate(&applier), "mem state machine: apply");
      last = cmd->request_id;
    }
    *result = nullptr;
    return 0;
  }

  int Snapshot(raft_buffer* bufs[], unsigned* n) {
    std::string out;
    PutFixed64(&out, map_.size());
    for (const auto& [key, value] : map_) {
      PutLengthPrefixed(&out, key);
      PutLengthPrefixed(&out, value);
    }
    auto* array = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
    array[0].len = out.size();
    array[0].base = raft_malloc(out.size());
    std::memcpy(array[0].base, out.data(), out.size());
    *bufs = array;
    *n = 1;
    return 0;
  }

  int Restore(raft_buffer* buf) {
    std::string_view in(static_cast<const char*>(buf->base), buf->len);
    map_.clear();
    uint64_t count = 0;
    if (!GetFixed64(&in, &count)) Die("mem state machine: bad snapshot");
    for (uint64_t i = 0; i < count; ++i) {
      std::string_view key, value;
      if (!GetLengthPrefixed(&in, &key) || !GetLengthPrefixed(&in, &value)) {
        Die("mem state machine: bad snapshot");
      }
      map_.emplace(key, value);
    }
    raft_free(buf->base);
    return 0;
  }

  raft_fsm fsm_{};
  std::map<std::string, std::string> map_;
  std::unordered_map<uint64_t, uint64_t> clients_;
};

// --- commands ---------------------------------------------------------------

// Encoded Commands of one client with ascending request ids: `puts` Puts of
// random 19-byte keys and incompressible values sliced from a random pool.
class Payload {
 public:
  explicit Payload(uint64_t seed) : rng_(seed), pool_(1 << 20, '\0') {
    for (char& ch : pool_) ch = static_cast<char>(rng_());
  }
  std::string Next(size_t puts, size_t value_bytes) {
    WriteBatch batch;
    for (size_t i = 0; i < puts; ++i) {
      const std::string key = fmt::format("key{:016x}", rng_());
      const size_t at = rng_() % (pool_.size() - value_bytes);
      Check(batch.Put(key, std::string_view(pool_).substr(at, value_bytes)), "batch");
    }
    return replica::EncodeCommand(kClientId, ++request_id_, batch);
  }

 private:
  std::mt19937_64 rng_;
  std::string pool_;
  uint64_t request_id_ = 0;
};

// --- one node -----------------------------------------------------------------

struct Tuning {
  // raft_uv_tcp never sets TCP_NODELAY: a message that follows an unacked
  // one waits for the peer's delayed ACK (Nagle), up to 40 ms on Linux.
  // true: a timer sets it on every TCP handle of the loop every 5 ms.
  bool tcp_nodelay = true;
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  unsigned snapshot_threshold = kNever;
  unsigned snapshot_trailing = 128;
};

class Node {
 public:
  Node(Kind kind, uint64_t id, std::vector<std::string> addresses, std::string dir)
      : kind_(std::move(kind)), id_(id), addresses_(std::move(addresses)), dir_(std::move(dir)) {}
  ~Node() { Stop(); }

  // Starts the loop thread and raft on it; returns once raft_start returned.
  // `started_at`, when not null, is set just before the node opens anything
  // (the start of a restart).
  void Start(const Tuning& tuning, Clock::time_point* started_at = nullptr) {
    std::promise<Status> started;
    if (started_at != nullptr) *started_at = Clock::now();
    thread_ = std::thread([this, tuning, &started] { Main(tuning, &started); });
    Check(started.get_future().get(), fmt::format("node {}", id_));
    running_ = true;
  }

  // Closes raft cleanly (raft_close, then the io and the transport) and
  // joins the loop thread; the state on disk stays.
  void Stop() {
    if (!running_) return;
    Post([this] {
      if (poll_open_) uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
      poll_open_ = false;
      if (nodelay_open_) uv_close(reinterpret_cast<uv_handle_t*>(&nodelay_), nullptr);
      nodelay_open_ = false;
      raft_close(&raft_, [](raft* r) {
        Node* self = static_cast<Node*>(r->data);
        if (self->log_io_) {
          self->log_io_.reset();  // its raft_io closed before raft called back
        } else {
          raft_uv_close(&self->uv_);
        }
        raft_uv_tcp_close(&self->transport_);
        uv_close(reinterpret_cast<uv_handle_t*>(&self->async_), nullptr);
      });
    });
    thread_.join();
    running_ = false;
    uv_loop_close(&loop_);
    log_host_.reset();
    snap_server_.reset();
    engine_sm_.reset();
    snap_transport_.reset();
    mem_sm_.reset();
  }

  // Runs `fn` on the loop thread.
  void Post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      posted_.push_back(std::move(fn));
    }
    uv_async_send(&async_);
  }

  // Runs `fn` on the loop thread and returns its result.
  template <typename F>
  auto Call(F fn) -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    std::promise<R> done;
    Post([&] {
      if constexpr (std::is_void_v<R>) {
        fn();
        done.set_value();
      } else {
        done.set_value(fn());
      }
    });
    return done.get_future().get();
  }

  // Loop thread only.
  raft* r() { return &raft_; }
  EngineStateMachine* engine_sm() { return engine_sm_.get(); }
  // Fulfils `reached` on the loop thread once raft_last_applied >= index.
  void WatchApplied(uint64_t index, std::promise<Clock::time_point>* reached) {
    watch_index_ = index;
    watch_ = reached;
    uv_timer_init(&loop_, &poll_);
    poll_.data = this;
    poll_open_ = true;
    uv_timer_start(
        &poll_,
        [](uv_timer_t* t) {
          Node* self = static_cast<Node*>(t->data);
          raft_id leader = 0;
          const char* address = nullptr;
          raft_leader(&self->raft_, &leader, &address);
          if (leader != 0 && self->first_contact_ == Clock::time_point{}) {
            self->first_contact_ = Clock::now();
          }
          if (self->watch_ != nullptr && raft_last_applied(&self->raft_) >= self->watch_index_) {
            self->watch_->set_value(Clock::now());
            self->watch_ = nullptr;
            uv_timer_stop(t);
          }
        },
        0, 1);
  }

  // Loop thread only: when WatchApplied first saw a leader (the first
  // message from it), and the seconds spent in the state machine's restore.
  Clock::time_point first_contact() const { return first_contact_; }
  double restore_seconds() const { return restore_s_; }

  uint64_t id() const { return id_; }
  const std::string& dir() const { return dir_; }

 private:
  void Main(const Tuning& tuning, std::promise<Status>* started) {
    Status s = Open(tuning);
    started->set_value(s);
    if (!s.ok()) return;  // the caller exits
    uv_run(&loop_, UV_RUN_DEFAULT);
  }

  Status Open(const Tuning& tuning) {
    // A restarted node reuses these structs.
    loop_ = uv_loop_t{};
    async_ = uv_async_t{};
    transport_ = raft_uv_transport{};
    uv_ = raft_io{};
    raft_ = raft{};
    int rv = uv_loop_init(&loop_);
    if (rv != 0) return Status::IOError(fmt::format("uv_loop_init: {}", uv_strerror(rv)));
    uv_async_init(&loop_, &async_, [](uv_async_t* a) {
      Node* self = static_cast<Node*>(a->data);
      std::deque<std::function<void()>> work;
      {
        std::lock_guard<std::mutex> lock(self->mu_);
        work.swap(self->posted_);
      }
      for (auto& fn : work) fn();
    });
    async_.data = this;

    STRATA_RETURN_IF_ERROR(MakeDir(dir_));
    raft_fsm* fsm = nullptr;
    if (kind_.sm == "mem") {
      mem_sm_ = std::make_unique<MemStateMachine>();
      fsm = mem_sm_->fsm();
    } else {
      // Out-of-band snapshots, as raftkv: a manifest through raft, the state
      // over the members' snapshot services.
      std::vector<std::string> others;
      for (uint64_t k = 0; k < addresses_.size(); ++k) {
        if (k + 1 == id_) continue;
        STRATA_ASSIGN_OR_RETURN(std::string other, replica::SnapshotAddressFor(addresses_[k]));
        others.push_back(std::move(other));
      }
      STRATA_ASSIGN_OR_RETURN(std::string self_snapshot,
                              replica::SnapshotAddressFor(addresses_[id_ - 1]));
      snap_transport_ = std::make_unique<replica::TcpSnapshotTransport>(
          std::move(others), replica::TcpSnapshotOptions{});
      replica::StateMachineOptions o;
      o.engine_options.engine = kind_.sm;
      o.db_dir = dir_ + "/db";
      o.transport = snap_transport_.get();
      o.snapshot_source = self_snapshot;
      STRATA_RETURN_IF_ERROR(EngineStateMachine::Open(o, &engine_sm_));
      STRATA_RETURN_IF_ERROR(replica::TcpSnapshotServer::Start(
          self_snapshot,
          [sm = engine_sm_.get()](uint64_t min, uint64_t* applied,
                                  const snapshot::ByteSink& sink) {
            return sm->ServeStream(min, applied, sink);
          },
          replica::TcpSnapshotOptions{}, &snap_server_));
      fsm = engine_sm_->fsm();
    }
    const std::string raft_dir = dir_ + "/raft";
    STRATA_RETURN_IF_ERROR(MakeDir(raft_dir));
    rv = raft_uv_tcp_init(&transport_, &loop_);
    if (rv != 0) return Status::IOError(fmt::format("raft_uv_tcp_init: {}", rv));
    raft_io* io = nullptr;
    if (kind_.log == "uv") {
      rv = raft_uv_init(&uv_, &loop_, raft_dir.c_str(), &transport_);
      if (rv != 0) return Status::IOError(fmt::format("raft_uv_init: {}", uv_.errmsg));
      io = &uv_;
    } else {
      STRATA_RETURN_IF_ERROR(
          OpenLogStoreHost(LogStoreHostOptions{}, dir_ + "/raftlog", &log_host_));
      replica::LogStoreIoOptions o;
      o.host = log_host_.get();
      o.group = 1;
      o.snapshot_dir = dir_ + "/raftsnap";
      o.scratch_dir = raft_dir;
      STRATA_RETURN_IF_ERROR(replica::LogStoreIo::Create(&loop_, &transport_, o, &log_io_));
      io = log_io_->io();
    }
    const std::string& self_address = addresses_[id_ - 1];
    // The state machine behind a forwarding fsm that times restore.
    inner_fsm_ = fsm;
    outer_fsm_ = raft_fsm{};
    outer_fsm_.version = 1;
    outer_fsm_.data = this;
    outer_fsm_.apply = [](raft_fsm* f, const raft_buffer* buf, void** result) {
      raft_fsm* inner = static_cast<Node*>(f->data)->inner_fsm_;
      return inner->apply(inner, buf, result);
    };
    outer_fsm_.snapshot = [](raft_fsm* f, raft_buffer* bufs[], unsigned* n) {
      raft_fsm* inner = static_cast<Node*>(f->data)->inner_fsm_;
      return inner->snapshot(inner, bufs, n);
    };
    outer_fsm_.restore = [](raft_fsm* f, raft_buffer* buf) {
      Node* self = static_cast<Node*>(f->data);
      const auto t0 = Clock::now();
      const int rv = self->inner_fsm_->restore(self->inner_fsm_, buf);
      self->restore_s_ += Seconds(t0);
      return rv;
    };
    rv = raft_init(&raft_, io, &outer_fsm_, id_, self_address.c_str());
    if (rv != 0) return Status::IOError(fmt::format("raft_init: {}", raft_errmsg(&raft_)));
    raft_.data = this;
    if (engine_sm_) engine_sm_->set_raft(&raft_);

    raft_configuration conf;
    raft_configuration_init(&conf);
    for (uint64_t k = 0; k < addresses_.size(); ++k) {
      rv = raft_configuration_add(&conf, k + 1, addresses_[k].c_str(), RAFT_VOTER);
      if (rv != 0) return Status::IOError("raft_configuration_add");
    }
    rv = raft_bootstrap(&raft_, &conf);
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
      return Status::IOError(fmt::format("raft_bootstrap: {}", raft_strerror(rv)));
    }
    raft_set_election_timeout(&raft_, tuning.election_timeout_ms);
    raft_set_heartbeat_timeout(&raft_, tuning.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&raft_, tuning.snapshot_threshold);
    raft_set_snapshot_trailing(&raft_, tuning.snapshot_trailing);
    // A large snapshot takes longer to send than the 30 s default.
    raft_set_install_snapshot_timeout(&raft_, 3600 * 1000);
    raft_set_pre_vote(&raft_, true);
    rv = raft_start(&raft_);
    if (rv != 0) {
      return Status::IOError(
          fmt::format("raft_start: {} ({})", raft_strerror(rv), raft_errmsg(&raft_)));
    }
    if (tuning.tcp_nodelay) {
      nodelay_ = uv_timer_t{};
      uv_timer_init(&loop_, &nodelay_);
      nodelay_open_ = true;
      uv_timer_start(
          &nodelay_,
          [](uv_timer_t* t) {
            uv_walk(
                t->loop,
                [](uv_handle_t* h, void*) {
                  if (h->type == UV_TCP && !uv_is_closing(h)) {
                    uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(h), 1);
                  }
                },
                nullptr);
          },
          0, 5);
    }
    return Status::Ok();
  }

  Kind kind_;
  uint64_t id_;
  std::vector<std::string> addresses_;
  std::string dir_;
  std::thread thread_;
  bool running_ = false;

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
  raft_uv_transport transport_{};
  raft_io uv_{};
  std::unique_ptr<LogStoreHost> log_host_;
  std::unique_ptr<replica::LogStoreIo> log_io_;
  std::unique_ptr<MemStateMachine> mem_sm_;
  std::unique_ptr<replica::TcpSnapshotTransport> snap_transport_;
  std::unique_ptr<EngineStateMachine> engine_sm_;
  std::unique_ptr<replica::TcpSnapshotServer> snap_server_;
  raft raft_{};

  uv_timer_t nodelay_{};
  bool nodelay_open_ = false;
  uv_timer_t poll_{};
  bool poll_open_ = false;
  raft_fsm outer_fsm_{};
  raft_fsm* inner_fsm_ = nullptr;
  double restore_s_ = 0;
  Clock::time_point first_contact_{};
  uint64_t watch_index_ = 0;
  std::promise<Clock::time_point>* watch_ = nullptr;
};

// --- the driver: applies on the leader's loop thread -------------------------

struct RunResult {
  uint64_t entries = 0;  // committed and applied on the leader
  uint64_t calls = 0;
  double seconds = 0;
  std::vector<float> latency_us;  // one per raft_apply call
  int error = 0;                  // the first failure (raft_apply or its callback)
};

// Keeps `inflight` raft_apply calls of `per_call` Commands each outstanding
// until `target` entries were issued (or `max_seconds` passed), then waits
// for the outstanding ones. Lives on the leader's loop thread.
class Driver {
 public:
  struct Spec {
    unsigned per_call = 1;
    unsigned inflight = 1;
    uint64_t target = 0;
    double max_seconds = 0;  // 0: no limit
    size_t puts_per_command = 1;
    size_t value_bytes = 100;
  };
  Driver(raft* r, Payload* payload, const Spec& spec, std::promise<RunResult>* done)
      : r_(r), payload_(payload), spec_(spec), done_(done) {
    result_.latency_us.reserve(spec.target / spec.per_call + spec.inflight);
  }

  void Start() {
    t0_ = Clock::now();
    Fill();
  }

 private:
  struct Call {
    struct raft_apply req;
    Driver* driver;
    Clock::time_point t0;
    unsigned n;
  };

  bool Stopping() const {
    return stop_ || issued_ >= spec_.target ||
           (spec_.max_seconds > 0 && Seconds(t0_) >= spec_.max_seconds);
  }

  void Fill() {
    while (in_flight_ < spec_.inflight && !Stopping()) Issue();
    if (in_flight_ == 0 && Stopping() && !finished_) {
      finished_ = true;
      result_.seconds = Seconds(t0_);
      done_->set_value(std::move(result_));
      delete this;
    }
  }

  void Issue() {
    const unsigned n =
        static_cast<unsigned>(std::min<uint64_t>(spec_.per_call, spec_.target - issued_));
    bufs_.resize(n);
    for (unsigned k = 0; k < n; ++k) {
      const std::string cmd = payload_->Next(spec_.puts_per_command, spec_.value_bytes);
      bufs_[k].len = cmd.size();
      bufs_[k].base = raft_malloc(cmd.size());
      std::memcpy(bufs_[k].base, cmd.data(), cmd.size());
    }
    auto* call = new Call();
    call->req.data = call;
    call->driver = this;
    call->n = n;
    call->t0 = Clock::now();
    const int rv = raft_apply(r_, &call->req, bufs_.data(), n, &Driver::Done);
    if (rv != 0) {
      for (raft_buffer& b : bufs_) raft_free(b.base);
      delete call;
      if (result_.error == 0) result_.error = rv;
      stop_ = true;
      return;
    }
    issued_ += n;
    ++in_flight_;
  }

  static void Done(struct raft_apply* req, int status, void*) {
    std::unique_ptr<Call> call(static_cast<Call*>(req->data));
    Driver* d = call->driver;
    const auto now = Clock::now();
    --d->in_flight_;
    if (status != 0) {
      if (d->result_.error == 0) d->result_.error = status;
      d->stop_ = true;
    } else {
      d->result_.entries += call->n;
      ++d->result_.calls;
      d->result_.latency_us.push_back(
          static_cast<float>(std::chrono::duration<double, std::micro>(now - call->t0).count()));
    }
    d->Fill();
  }

  raft* r_;
  Payload* payload_;
  Spec spec_;
  std::promise<RunResult>* done_;
  RunResult result_;
  Clock::time_point t0_;
  uint64_t issued_ = 0;
  unsigned in_flight_ = 0;
  bool stop_ = false;
  bool finished_ = false;
  std::vector<raft_buffer> bufs_;
};

// --- a cluster ----------------------------------------------------------------

std::atomic<unsigned> g_cluster_count{0};

class Cluster {
 public:
  Cluster(const Kind& kind, std::string dir) : dir_(std::move(dir)) {
    Fresh();
    // Ports below 32768 (outside Linux's ephemeral range), derived from the
    // pid so that concurrent runs rarely collide; each cluster moves on.
    const unsigned base =
        10000 + (static_cast<unsigned>(::getpid()) * 7 + g_cluster_count.fetch_add(1) * 9) % 20000;
    // Each node: raft port, and its snapshot stream service on raft port + 2.
    std::vector<std::string> addresses;
    for (unsigned k = 0; k < kNodes; ++k) {
      addresses.push_back(fmt::format("127.0.0.1:{}", base + 3 * k));
    }
    for (unsigned k = 0; k < kNodes; ++k) {
      nodes_.push_back(
          std::make_unique<Node>(kind, k + 1, addresses, fmt::format("{}/n{}", dir_, k + 1)));
    }
  }
  ~Cluster() {
    for (auto& n : nodes_) n->Stop();
    nodes_.clear();
  }

  void Start(const Tuning& tuning) {
    tuning_ = tuning;
    for (auto& n : nodes_) n->Start(tuning);
  }

  // Waits until one running node is leader; returns it.
  Node* WaitLeader(const std::vector<Node*>& running) {
    const auto t0 = Clock::now();
    while (Seconds(t0) < 60) {
      for (Node* n : running) {
        if (n->Call([n] { return raft_state(n->r()) == RAFT_LEADER; })) return n;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Die("no leader elected within 60 s");
    return nullptr;
  }
  Node* WaitLeader() {
    std::vector<Node*> all;
    for (auto& n : nodes_) all.push_back(n.get());
    return WaitLeader(all);
  }

  RunResult Run(Node* leader, Payload* payload, const Driver::Spec& spec) {
    std::promise<RunResult> done;
    leader->Post([&] { (new Driver(leader->r(), payload, spec, &done))->Start(); });
    return done.get_future().get();
  }

  Node* node(unsigned k) { return nodes_[k].get(); }
  const std::string& dir() const { return dir_; }

 private:
  void Fresh() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    Check(MakeDir(dir_), "scratch dir");
  }

  std::string dir_;
  Tuning tuning_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// --- throughput and latency ------------------------------------------------

struct Sample {
  double entries_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

double Percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Driver::Spec WorkloadSpec(const Config& c, const std::string& workload, uint64_t target) {
  Driver::Spec spec;
  if (workload == "single") {
    spec.per_call = 1;
    spec.inflight = c.inflight;
  } else {
    spec.per_call = c.batch;
    spec.inflight = c.batch_inflight;
  }
  spec.target = target;
  spec.value_bytes = c.value_bytes;
  return spec;
}

Sample Measure(const Config& c, const Kind& kind, const std::string& workload, unsigned round) {
  Cluster cluster(kind, fmt::format("{}/{}-{}-{}", c.dir, kind.name, workload, round));
  Tuning tuning;
  tuning.snapshot_threshold = c.snapshot_threshold;
  tuning.tcp_nodelay = c.tcp_nodelay;
  cluster.Start(tuning);
  Node* leader = cluster.WaitLeader();
  Payload payload(round * 1000 + 1);
  if (c.warmup > 0) {
    RunResult warm = cluster.Run(leader, &payload, WorkloadSpec(c, workload, c.warmup));
    if (warm.error != 0) {
      Die(fmt::format("{} {}: warmup: {}", kind.name, workload, raft_strerror(warm.error)));
    }
  }
  Driver::Spec spec = WorkloadSpec(c, workload, c.entries);
  spec.max_seconds = c.seconds;
  RunResult run = cluster.Run(leader, &payload, spec);
  if (run.error != 0) {
    Die(fmt::format("{} {}: {} (leadership lost? the machine may be overloaded)", kind.name,
                    workload, raft_strerror(run.error)));
  }
  Sample s;
  s.entries_per_s = static_cast<double>(run.entries) / run.seconds;
  s.p50_us = Percentile(run.latency_us, 0.50);
  s.p99_us = Percentile(run.latency_us, 0.99);
  fmt::print("run workload={} config={} round={} entries={} calls={} seconds={:.3f} "
             "entries_per_s={:.0f} p50_us={:.0f} p99_us={:.0f}\n",
             workload, kind.name, round, run.entries, run.calls, run.seconds, s.entries_per_s,
             s.p50_us, s.p99_us);
  std::fflush(stdout);
  return s;
}

void PrintTables(const Config& c, const std::map<std::string, std::map<std::string,
                                                   std::vector<Sample>>>& samples) {
  for (const std::string& workload : c.workloads) {
    const auto& by_config = samples.at(workload);
    const std::string shape =
        workload == "single"
            ? fmt::format("1 entry per raft_apply, {} in flight", c.inflight)
            : fmt::format("{} entries per raft_apply, {} in flight", c.batch, c.batch_inflight);
    fmt::print("\n{} ({}; {} entries of {}-byte values; median of {} run(s))\n", workload, shape,
               c.entries, c.value_bytes, c.repeat);
    fmt::print("  {:<14} {:>11} {:>10} {:>10}\n", "config", "entries/s", "p50 ms", "p99 ms");
    std::map<std::string, double> rate;
    for (const std::string& name : c.configs) {
      const std::vector<Sample>& v = by_config.at(name);
      std::vector<double> r, p50, p99;
      for (const Sample& s : v) {
        r.push_back(s.entries_per_s);
        p50.push_back(s.p50_us);
        p99.push_back(s.p99_us);
      }
      rate[name] = Median(r);
      fmt::print("  {:<14} {:>11.0f} {:>10.2f} {:>10.2f}\n", name, rate[name], Median(p50) / 1000,
                 Median(p99) / 1000);
      fmt::print("median workload={} config={} entries_per_s={:.0f} p50_us={:.0f} p99_us={:.0f}\n",
                 workload, name, rate[name], Median(p50), Median(p99));
    }
    // The issue's bars: (b) >= 0.8x (a); (c) >= 1.0x (b) with the same engine.
    for (const std::string& engine : {std::string("lsm"), std::string("btree")}) {
      const std::string a = "mem-uv", b = engine + "-uv", cc = engine + "-strata";
      if (rate.count(a) && rate.count(b)) {
        const double x = rate[b] / rate[a];
        fmt::print("  ({}) / ({}) = {:.2f}x  (bar >= 0.80x: {})\n", b, a, x,
                   x >= 0.8 ? "met" : "NOT met");
      }
      if (rate.count(b) && rate.count(cc)) {
        const double x = rate[cc] / rate[b];
        fmt::print("  ({}) / ({}) = {:.2f}x  (bar >= 1.00x: {})\n", cc, b, x,
                   x >= 1.0 ? "met" : "NOT met");
      }
    }
  }
}

// --- snapshot install ---------------------------------------------------------

// A /proc/self/status field in KiB (VmRSS, VmHWM), 0 if unreadable.
uint64_t ProcStatusKiB(const std::string& field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field.c_str(), field.size()) == 0 && line[field.size()] == ':') {
      kib = std::strtoull(line + field.size() + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib;
}

// Stops the process when it outgrows `limit_gib` of resident memory: libraft
// 0.15 holds the whole log and several copies of a snapshot in memory, and
// the machine is shared.
class RssGuard {
 public:
  // `scratch` (if not empty) is removed before stopping.
  RssGuard(double limit_gib, std::string scratch)
      : limit_kib_(static_cast<uint64_t>(limit_gib * 1048576)), scratch_(std::move(scratch)) {
    if (limit_kib_ == 0) return;
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
        const uint64_t rss = ProcStatusKiB("VmRSS");
        if (rss > limit_kib_) {
          fmt::print(stderr, "strata_raft_bench: resident memory {:.1f} GiB passed --max-rss-gib "
                     "{:.1f}: stopping\n", rss / 1048576.0, limit_kib_ / 1048576.0);
          std::error_code ec;
          if (!scratch_.empty()) std::filesystem::remove_all(scratch_, ec);
          std::_Exit(3);
        }
      }
    });
  }
  ~RssGuard() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  uint64_t limit_kib_;
  std::string scratch_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

uint64_t SnapshotFileBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file(ec) && name.starts_with("snapshot-") && !name.ends_with(".meta") &&
        !name.ends_with(".tmp")) {
      total += e.file_size(ec);
    }
  }
  return total;
}

struct InstallSample {
  double load_s = 0;
  double snapshot_s = 0;  // leader: take + store + compact
  double restart_s = 0;   // follower restart -> caught up
  double install_s = 0;   // the leader's first message to the follower -> caught up
  double restore_s = 0;   // of which in the follower's fsm restore
  uint64_t snapshot_bytes = 0;  // the raft snapshot (a manifest, out of band)
  uint64_t state_bytes = 0;     // the follower's installed database directory
};


InstallSample MeasureInstall(const Config& c, const Kind& kind, unsigned round) {
  Cluster cluster(kind, fmt::format("{}/install-{}-{}", c.dir, kind.name, round));
  Tuning tuning;  // no snapshot until asked for
  tuning.tcp_nodelay = c.tcp_nodelay;
  cluster.Start(tuning);
  Node* leader = cluster.WaitLeader();
  // The loop threads block for seconds while a large snapshot is taken or
  // restored: no election may interrupt the measurement.
  Tuning patient = tuning;
  patient.election_timeout_ms = 600 * 1000;
  for (unsigned k = 0; k < kNodes; ++k) {
    Node* n = cluster.node(k);
    n->Call([n] { raft_set_election_timeout(n->r(), 600 * 1000); });
  }
  Node* follower = cluster.node(leader->id() == kNodes ? 0 : kNodes - 1);
  follower->Stop();

  // Load: Commands of 64 Puts, 4 per raft_apply, 4 calls in flight.
  Payload payload(round * 1000 + 7);
  const size_t command_bytes = 64 * (c.install_value_bytes + 19);
  Driver::Spec load;
  load.per_call = 4;
  load.inflight = 4;
  load.puts_per_command = 64;
  load.value_bytes = c.install_value_bytes;
  load.target = (c.install_bytes + command_bytes - 1) / command_bytes;
  auto t0 = Clock::now();
  RunResult loaded = cluster.Run(leader, &payload, load);
  InstallSample out;
  out.load_s = Seconds(t0);
  if (loaded.error != 0) Die(fmt::format("install load: {}", raft_strerror(loaded.error)));

  // One snapshot on the leader, its log compacted past the follower.
  leader->Call([leader] {
    raft_set_snapshot_threshold(leader->r(), 1);
    raft_set_snapshot_trailing(leader->r(), 16);
  });
  Driver::Spec one;
  one.target = 1;
  t0 = Clock::now();
  if (cluster.Run(leader, &payload, one).error != 0) Die("install: apply after load");
  uint64_t target = 0;
  for (;;) {
    const bool done = leader->Call([&] {
      target = raft_last_applied(leader->r());
      return leader->r()->log.snapshot.last_index > 0;
    });
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  out.snapshot_s = Seconds(t0);
  leader->Call([leader] { raft_set_snapshot_threshold(leader->r(), kNever); });
  out.snapshot_bytes = SnapshotFileBytes(leader->dir());

  // raft_uv queues messages for a peer it cannot reach and, on each failed
  // reconnect (every second), drops all but the newest 3. The AppendEntries
  // sent during the load still carry the entries the follower misses: let
  // heartbeats sent after the compaction push them out, or the follower
  // catches up from them instead of installing the snapshot.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  // Restart the follower and time its catch-up.
  std::promise<Clock::time_point> reached;
  Clock::time_point restarted;
  follower->Start(patient, &restarted);
  follower->Post([&] { follower->WatchApplied(target, &reached); });
  const Clock::time_point caught_up = reached.get_future().get();
  const auto [contact, restore_s] = follower->Call([follower] {
    return std::make_pair(follower->first_contact(), follower->restore_seconds());
  });
  out.restart_s = std::chrono::duration<double>(caught_up - restarted).count();
  out.install_s = std::chrono::duration<double>(caught_up - contact).count();
  out.restore_s = restore_s;
  out.state_bytes = TreeBytes(follower->dir() + "/db");
  if (kind.sm != "mem") {
    const replica::StateMachineStats st =
        follower->Call([follower] { return follower->engine_sm()->stats(); });
    if (st.restores_installed != 1) {
      Die(fmt::format("install: the follower caught up to index {} with {} snapshot installs "
                      "(want 1), {} skipped, {} entries applied",
                      target, st.restores_installed, st.restores_skipped, st.applied));
    }
  }
  fmt::print(
      "install config={} round={} loaded_mib={:.0f} load_s={:.2f} snapshot_mib={:.1f} "
      "state_mib={:.1f} snapshot_s={:.2f} restart_s={:.2f} install_s={:.2f} "
      "restore_s={:.2f} install_mb_per_s={:.1f} peak_rss_mib={:.0f}\n",
      kind.name, round, static_cast<double>(load.target * command_bytes) / 1048576.0, out.load_s,
      static_cast<double>(out.snapshot_bytes) / 1048576.0,
      static_cast<double>(out.state_bytes) / 1048576.0, out.snapshot_s, out.restart_s,
      out.install_s, out.restore_s, static_cast<double>(out.state_bytes) / 1e6 / out.install_s,
      ProcStatusKiB("VmHWM") / 1024.0);
  std::fflush(stdout);
  return out;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  using namespace strata::bench;
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    bool has_value = false;
    if (arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) Die(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    auto number = [&]() { return std::strtoull(next().c_str(), nullptr, 10); };
    if (arg == "--dir") {
      c.dir = next();
    } else if (arg == "--configs") {
      c.configs = SplitList(next());
    } else if (arg == "--workloads") {
      c.workloads = SplitList(next());
    } else if (arg == "--entries") {
      c.entries = number();
    } else if (arg == "--seconds") {
      c.seconds = std::strtod(next().c_str(), nullptr);
    } else if (arg == "--warmup") {
      c.warmup = number();
    } else if (arg == "--value-bytes") {
      c.value_bytes = number();
    } else if (arg == "--inflight") {
      c.inflight = static_cast<unsigned>(number());
    } else if (arg == "--batch") {
      c.batch = static_cast<unsigned>(number());
    } else if (arg == "--batch-inflight") {
      c.batch_inflight = static_cast<unsigned>(number());
    } else if (arg == "--repeat") {
      c.repeat = static_cast<unsigned>(number());
    } else if (arg == "--snapshot-threshold") {
      const uint64_t n = number();
      c.snapshot_threshold = n == 0 ? kNever : static_cast<unsigned>(n);
    } else if (arg == "--install-bytes") {
      c.install_bytes = ParseSize(next());
    } else if (arg == "--install-configs") {
      c.install_configs = SplitList(next());
    } else if (arg == "--install-value-bytes") {
      c.install_value_bytes = number();
    } else if (arg == "--max-rss-gib") {
      c.max_rss_gib = std::strtod(next().c_str(), nullptr);
    } else if (arg == "--tcp-nodelay") {
      c.tcp_nodelay = true;
    } else if (arg == "--no-tcp-nodelay") {
      c.tcp_nodelay = false;
    } else if (arg == "--keep") {
      c.keep = true;
    } else {
      fmt::print(stderr,
                 "usage: strata_raft_bench [--dir DIR] [--configs mem-uv,lsm-uv,lsm-strata,"
                 "btree-uv,btree-strata] [--workloads single,batch] [--entries N] [--seconds S] "
                 "[--warmup N] [--value-bytes N] [--inflight N] [--batch N] [--batch-inflight N] "
                 "[--repeat N] [--snapshot-threshold N] [--install-bytes SIZE] "
                 "[--install-configs LIST] [--install-value-bytes N] [--max-rss-gib G] "
                 "[--no-tcp-nodelay] [--keep]\n");
      return 2;
    }
  }
  if (c.entries == 0 || c.inflight == 0 || c.batch == 0 || c.batch_inflight == 0 ||
      c.repeat == 0 || c.value_bytes == 0) {
    Die("--entries, --inflight, --batch, --batch-inflight, --repeat and --value-bytes must be > 0");
  }
  for (const std::string& w : c.workloads) {
    if (w != "single" && w != "batch") Die(fmt::format("workload {:?}: want single or batch", w));
  }
  std::vector<Kind> kinds, install_kinds;
  for (const std::string& name : c.configs) kinds.push_back(ParseKind(name));
  if (c.install_bytes > 0) {
    for (const std::string& name : c.install_configs) install_kinds.push_back(ParseKind(name));
  }
  // A peer that went away must not kill the process through a socket write.
  std::signal(SIGPIPE, SIG_IGN);
  Check(MakeDir(c.dir), "--dir");
  // Each run's directory lives below a directory of its own, so that --dir
  // can be shared and the cleanup removes only what this run made.
  c.dir = fmt::format("{}/raft-bench-{}", c.dir, ::getpid());
  Check(MakeDir(c.dir), "scratch dir");
  fmt::print("strata_raft_bench: 3 nodes on 127.0.0.1, one process, one loop thread each; "
             "scratch {}\n", c.dir);

  std::map<std::string, std::map<std::string, std::vector<Sample>>> samples;
  for (unsigned round = 1; round <= c.repeat; ++round) {
    for (const std::string& workload : c.workloads) {
      for (const Kind& kind : kinds) {
        samples[workload][kind.name].push_back(Measure(c, kind, workload, round));
        std::error_code ec;
        if (!c.keep) {
          std::filesystem::remove_all(fmt::format("{}/{}-{}-{}", c.dir, kind.name, workload, round),
                                      ec);
        }
      }
    }
  }
  if (!c.workloads.empty() && !kinds.empty()) PrintTables(c, samples);

  if (!install_kinds.empty()) {
    const uint64_t mib = std::max<uint64_t>(1, c.install_bytes >> 20);
    std::vector<double> disk;
    std::map<std::string, std::vector<InstallSample>> installs;
    RssGuard guard(c.max_rss_gib, c.keep ? std::string() : c.dir);
    for (unsigned round = 1; round <= c.repeat; ++round) {
      disk.push_back(SequentialWriteRate(c.dir, mib));
      fmt::print("disk sequential_write round={} mib={} mb_per_s={:.0f}\n", round, mib,
                 disk.back());
      for (const Kind& kind : install_kinds) {
        installs[kind.name].push_back(MeasureInstall(c, kind, round));
        std::error_code ec;
        if (!c.keep) {
          std::filesystem::remove_all(fmt::format("{}/install-{}-{}", c.dir, kind.name, round),
                                      ec);
        }
      }
    }
    const double disk_mbps = Median(disk);
    fmt::print("\nsnapshot install on a restarted follower ({} MiB loaded; median of {} run(s))\n",
               mib, c.repeat);
    fmt::print("  disk sequential write ({} MiB, 1 MiB pwrites + fdatasync): {:.0f} MB/s\n", mib,
               disk_mbps);
    fmt::print("  install: from the leader's first message to the restarted follower until its "
               "last applied index is the leader's\n  (restart adds the follower's start and "
               "raft_uv's reconnect delay, up to 1 s; restore is the part in fsm->restore)\n");
    fmt::print("  (snap MiB: the raft snapshot, a manifest; state MiB: the follower's installed\n"
               "  database, the bytes the install streamed and wrote; MB/s: state / install s)\n");
    fmt::print("  {:<14} {:>9} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>8} {:>7}\n", "config",
               "snap MiB", "state MiB", "load s", "snap s", "restart s", "install s",
               "restore s", "MB/s", "x disk");
    for (const Kind& kind : install_kinds) {
      std::vector<double> bytes, state, load, snap, restart, install, restore, rate;
      for (const InstallSample& s : installs[kind.name]) {
        bytes.push_back(static_cast<double>(s.snapshot_bytes));
        state.push_back(static_cast<double>(s.state_bytes));
        load.push_back(s.load_s);
        snap.push_back(s.snapshot_s);
        restart.push_back(s.restart_s);
        install.push_back(s.install_s);
        restore.push_back(s.restore_s);
        rate.push_back(static_cast<double>(s.state_bytes) / 1e6 / s.install_s);
      }
      fmt::print(
          "  {:<14} {:>9.1f} {:>9.1f} {:>7.2f} {:>7.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>8.1f} "
          "{:>7.2f}\n",
          kind.name, Median(bytes) / 1048576.0, Median(state) / 1048576.0, Median(load),
          Median(snap), Median(restart), Median(install), Median(restore), Median(rate),
          Median(rate) / disk_mbps);
      fmt::print("median install config={} snapshot_bytes={:.0f} state_bytes={:.0f} "
                 "install_s={:.3f} install_mb_per_s={:.1f} disk_mb_per_s={:.0f}\n",
                 kind.name, Median(bytes), Median(state), Median(install), Median(rate),
                 disk_mbps);
    }
  }
  if (!c.keep) {
    std::error_code ec;
    std::filesystem::remove_all(c.dir, ec);
  }
  return 0;
}
