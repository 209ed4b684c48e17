// LogStoreIo (replica/log_store_io.h) driven through its raft_io methods, as
// libraft's core calls them, without a raft instance: load, bootstrap, term
// and vote, appends with in-order callbacks, truncations, snapshot put/get,
// close and reload; an install interrupted between its snapshot file and the
// log reset; damaged and crafted snapshot files; and a seeded model of
// random operations with a power cut (FaultFileSystem) after each round.
#include "replica/log_store_io.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "io/fault_file_system.h"
#include "io/file_system.h"
#include "strata/limits.h"
#include "strata/log_store.h"
#include "tests/testing/killing_file_system.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

constexpr uint64_t kGroup = 7;

struct Entry {
  uint64_t term = 0;
  unsigned short type = RAFT_COMMAND;
  std::string data;
  bool operator==(const Entry&) const = default;
};

struct Loaded {
  int rv = -1;
  std::string errmsg;
  uint64_t term = 0;
  uint64_t vote = 0;
  bool has_snapshot = false;
  RaftSnapshotFile snapshot;  // group unset
  uint64_t start_index = 0;
  std::vector<Entry> entries;
};

struct Servers {
  std::vector<RaftSnapshotFile::Server> list;
  raft_configuration Make() const {
    raft_configuration conf;
    raft_configuration_init(&conf);
    for (const auto& s : list) raft_configuration_add(&conf, s.id, s.address.c_str(), s.role);
    return conf;
  }
};

const Servers kThree{{{1, RAFT_VOTER, "127.0.0.1:9001"},
                      {2, RAFT_VOTER, "127.0.0.1:9002"},
                      {3, RAFT_STANDBY, "127.0.0.1:9003"}}};

// One LogStoreIo on its own loop, LogStoreHost and directories under `dir`.
class Harness {
 public:
  Harness(std::string dir, std::shared_ptr<io::FileSystem> fs)
      : dir_(std::move(dir)), fs_(std::move(fs)) {}
  ~Harness() {
    if (io_) Close();
  }

  ::testing::AssertionResult Open() {
    uv_loop_init(&loop_);
    raft_uv_tcp_init(&transport_, &loop_);
    LogStoreHostOptions host_options;
    host_options.file_system = fs_;
    host_options.segment_bytes = 64 * kKiB;
    Status s = OpenLogStoreHost(host_options, dir_ + "/log", &host_);
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    LogStoreIoOptions options;
    options.host = host_.get();
    options.group = kGroup;
    options.snapshot_dir = dir_ + "/snap";
    options.scratch_dir = dir_ + "/scratch";
    options.file_system = fs_;
    options.append_chunk_bytes = 4 * kKiB;  // big appends split into several records
    s = LogStoreIo::Create(&loop_, &transport_, options, &io_);
    if (!s.ok()) return ::testing::AssertionFailure() << s.ToString();
    const int rv = raw()->init(raw(), 1, "127.0.0.1:9001");
    if (rv != 0) return ::testing::AssertionFailure() << "init: " << raw()->errmsg;
    return ::testing::AssertionSuccess();
  }

  raft_io* raw() { return io_->io(); }
  LogStoreIo* io() { return io_.get(); }
  LogStoreHost* host() { return host_.get(); }
  std::string snapshot_dir() const { return dir_ + "/snap"; }

  // Close as raft does (pending requests complete first), then the host.
  void Close() {
    bool closed = false;
    raw()->data = &closed;
    raw()->close(raw(), [](raft_io* io) { *static_cast<bool*>(io->data) = true; });
    RunUntil([&] { return closed; });
    io_.reset();
    raft_uv_tcp_close(&transport_);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    host_.reset();
  }

  void RunUntil(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "raft_io request never completed";
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (!done()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  Loaded Load() {
    Loaded out;
    raft_term term = 0;
    raft_id vote = 0;
    raft_snapshot* snap = nullptr;
    raft_index start = 0;
    raft_entry* entries = nullptr;
    size_t n = 0;
    out.rv = raw()->load(raw(), &term, &vote, &snap, &start, &entries, &n);
    if (out.rv != 0) {
      out.errmsg = raw()->errmsg;
      return out;
    }
    out.term = term;
    out.vote = vote;
    out.start_index = start;
    if (snap != nullptr) {
      out.has_snapshot = true;
      out.snapshot = FromRaft(*snap);
      FreeSnapshot(snap);
    }
    for (size_t k = 0; k < n; ++k) {
      out.entries.push_back(
          Entry{entries[k].term, entries[k].type,
                std::string(static_cast<const char*>(entries[k].buf.base), entries[k].buf.len)});
      raft_free(entries[k].batch);
    }
    raft_free(entries);
    return out;
  }

  // Appends; returns the status the callback reported (after running the loop).
  struct PendingAppend {
    raft_io_append req{};
    std::vector<std::string> data;
    std::vector<raft_entry> entries;
    int status = -1;
    bool done = false;
    std::vector<int>* order = nullptr;
    int id = 0;
  };
  PendingAppend* AppendAsync(const std::vector<Entry>& entries, std::vector<int>* order = nullptr,
                             int id = 0) {
    auto p = std::make_unique<PendingAppend>();
    p->order = order;
    p->id = id;
    for (const Entry& e : entries) p->data.push_back(e.data);
    for (size_t k = 0; k < entries.size(); ++k) {
      raft_entry r{};
      r.term = entries[k].term;
      r.type = entries[k].type;
      r.buf.base = p->data[k].data();
      r.buf.len = p->data[k].size();
      p->entries.push_back(r);
    }
    p->req.data = p.get();
    const int rv =
        raw()->append(raw(), &p->req, p->entries.data(), static_cast<unsigned>(p->entries.size()),
                      [](raft_io_append* req, int status) {
                        auto* p = static_cast<PendingAppend*>(req->data);
                        p->status = status;
                        p->done = true;
                        if (p->order != nullptr) p->order->push_back(p->id);
                      });
    EXPECT_EQ(rv, 0) << raw()->errmsg;
    pending_.push_back(std::move(p));
    return pending_.back().get();
  }
  int Append(const std::vector<Entry>& entries) {
    PendingAppend* p = AppendAsync(entries);
    RunUntil([p] { return p->done; });
    return p->status;
  }

  int SnapshotPut(unsigned trailing, const RaftSnapshotFile& file, const Servers& servers) {
    raft_snapshot snap{};
    snap.index = file.index;
    snap.term = file.term;
    snap.configuration = servers.Make();
    snap.configuration_index = file.configuration_index;
    // Two buffers: the file holds them concatenated.
    std::string a = file.data.substr(0, file.data.size() / 2);
    std::string b = file.data.substr(file.data.size() / 2);
    raft_buffer bufs[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    snap.bufs = bufs;
    snap.n_bufs = 2;
    struct Done {
      raft_io_snapshot_put req{};
      int status = -1;
      bool done = false;
    } d;
    d.req.data = &d;
    const int rv = raw()->snapshot_put(raw(), trailing, &d.req, &snap,
                                       [](raft_io_snapshot_put* req, int status) {
                                         auto* d = static_cast<Done*>(req->data);
                                         d->status = status;
                                         d->done = true;
                                       });
    EXPECT_EQ(rv, 0);
    RunUntil([&] { return d.done; });
    raft_configuration_close(&snap.configuration);
    return d.status;
  }

  int SnapshotGet(RaftSnapshotFile* file) {
    struct Done {
      raft_io_snapshot_get req{};
      int status = -1;
      bool done = false;
      RaftSnapshotFile file;
    } d;
    d.req.data = &d;
    const int rv = raw()->snapshot_get(raw(), &d.req,
                                       [](raft_io_snapshot_get* req, raft_snapshot* s, int status) {
                                         auto* d = static_cast<Done*>(req->data);
                                         d->status = status;
                                         d->done = true;
                                         if (s != nullptr) {
                                           d->file = FromRaft(*s);
                                           FreeSnapshot(s);
                                         }
                                       });
    EXPECT_EQ(rv, 0);
    RunUntil([&] { return d.done; });
    *file = d.file;
    return d.status;
  }

  static RaftSnapshotFile FromRaft(const raft_snapshot& s) {
    RaftSnapshotFile f;
    f.index = s.index;
    f.term = s.term;
    f.configuration_index = s.configuration_index;
    for (unsigned k = 0; k < s.configuration.n; ++k) {
      const raft_server& server = s.configuration.servers[k];
      f.servers.push_back({server.id, static_cast<uint8_t>(server.role), server.address});
    }
    for (unsigned k = 0; k < s.n_bufs; ++k) {
      f.data.append(static_cast<const char*>(s.bufs[k].base), s.bufs[k].len);
    }
    return f;
  }
  static void FreeSnapshot(raft_snapshot* s) {
    raft_configuration_close(&s->configuration);
    for (unsigned k = 0; k < s->n_bufs; ++k) raft_free(s->bufs[k].base);
    raft_free(s->bufs);
    raft_free(s);
  }

 private:
  std::string dir_;
  std::shared_ptr<io::FileSystem> fs_;
  uv_loop_t loop_{};
  raft_uv_transport transport_{};
  std::unique_ptr<LogStoreHost> host_;
  std::unique_ptr<LogStoreIo> io_;
  std::vector<std::unique_ptr<PendingAppend>> pending_;
};

std::vector<Entry> Commands(uint64_t term, int n, const std::string& tag) {
  std::vector<Entry> out;
  for (int k = 0; k < n; ++k) {
    out.push_back(
        Entry{term, RAFT_COMMAND, fmt::format("{}-{}-{}", tag, k, std::string(k % 40, 'x'))});
  }
  return out;
}

RaftSnapshotFile Snapshot(uint64_t index, uint64_t term, std::string data) {
  RaftSnapshotFile f;
  f.index = index;
  f.term = term;
  f.configuration_index = 1;
  f.servers = kThree.list;
  f.data = std::move(data);
  return f;
}

// A fresh log bootstraps once; term, vote, appended entries of every type (a
// truncation in between) read back after a close, and append callbacks fire
// in submission order.
TEST(LogStoreIoTest, BootstrapAppendTruncateAndReload) {
  strata::testing::ScratchDir dir;
  std::vector<Entry> expected;
  {
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    Loaded fresh = h.Load();
    ASSERT_EQ(fresh.rv, 0) << fresh.errmsg;
    EXPECT_EQ(fresh.term, 0u);
    EXPECT_FALSE(fresh.has_snapshot);
    EXPECT_EQ(fresh.start_index, 1u);
    EXPECT_TRUE(fresh.entries.empty());

    raft_configuration conf = kThree.Make();
    ASSERT_EQ(h.raw()->bootstrap(h.raw(), &conf), 0) << h.raw()->errmsg;
    EXPECT_EQ(h.raw()->bootstrap(h.raw(), &conf), RAFT_CANTBOOTSTRAP);
    raft_buffer encoded{};
    ASSERT_EQ(raft_configuration_encode(&conf, &encoded), 0);
    expected.push_back(
        Entry{1, RAFT_CHANGE, std::string(static_cast<char*>(encoded.base), encoded.len)});
    raft_free(encoded.base);
    raft_configuration_close(&conf);

    ASSERT_EQ(h.raw()->set_term(h.raw(), 3), 0);
    ASSERT_EQ(h.raw()->set_vote(h.raw(), 2), 0);

    // Twenty appends in flight at once; callbacks in order.
    std::vector<int> order;
    std::vector<Harness::PendingAppend*> pending;
    for (int k = 0; k < 20; ++k) {
      std::vector<Entry> batch = Commands(3, 1 + k % 4, fmt::format("a{}", k));
      if (k == 7) batch.push_back(Entry{3, RAFT_BARRIER, std::string(8, '\0')});
      // One big append that is split into several records (4 KiB chunks).
      if (k == 9) batch.push_back(Entry{3, RAFT_COMMAND, std::string(20000, 'B')});
      expected.insert(expected.end(), batch.begin(), batch.end());
      pending.push_back(h.AppendAsync(batch, &order, k));
    }
    h.RunUntil([&] { return order.size() == 20; });
    for (int k = 0; k < 20; ++k) {
      EXPECT_EQ(order[k], k);
      EXPECT_EQ(pending[k]->status, 0);
    }
    // Truncate the last 5 entries (takes effect before the next append).
    ASSERT_EQ(h.raw()->truncate(h.raw(), expected.size() - 4), 0);
    expected.resize(expected.size() - 5);
    std::vector<Entry> tail = Commands(3, 3, "after-truncate");
    ASSERT_EQ(h.Append(tail), 0);
    expected.insert(expected.end(), tail.begin(), tail.end());
    EXPECT_EQ(h.io()->stats().truncations, 1u);
    h.Close();
  }
  Harness h(dir.path(), io::DefaultFileSystem());
  ASSERT_TRUE(h.Open());
  Loaded l = h.Load();
  ASSERT_EQ(l.rv, 0) << l.errmsg;
  EXPECT_EQ(l.term, 3u);
  EXPECT_EQ(l.vote, 2u);
  EXPECT_FALSE(l.has_snapshot);
  EXPECT_EQ(l.start_index, 1u);
  EXPECT_EQ(l.entries, expected);
  raft_configuration conf = kThree.Make();
  EXPECT_EQ(h.raw()->bootstrap(h.raw(), &conf), RAFT_CANTBOOTSTRAP);
  raft_configuration_close(&conf);
  // set_term clears the vote.
  ASSERT_EQ(h.raw()->set_term(h.raw(), 5), 0);
  h.Close();
  Harness again(dir.path(), io::DefaultFileSystem());
  ASSERT_TRUE(again.Open());
  l = again.Load();
  EXPECT_EQ(l.term, 5u);
  EXPECT_EQ(l.vote, 0u);
}

// A taken snapshot (trailing > 0) keeps `trailing` entries behind it; an
// installed one (trailing == 0) drops the log and the next append follows
// it; snapshot_get returns the newest; only the newest file stays.
TEST(LogStoreIoTest, SnapshotsCompactAndInstallsReset) {
  strata::testing::ScratchDir dir;
  std::vector<Entry> log;
  {
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    ASSERT_EQ(h.Load().rv, 0);
    ASSERT_EQ(h.raw()->set_term(h.raw(), 2), 0);
    log = Commands(2, 50, "e");
    ASSERT_EQ(h.Append(log), 0);
    RaftSnapshotFile get;
    EXPECT_EQ(h.SnapshotGet(&get), RAFT_NOTFOUND);
    ASSERT_EQ(h.SnapshotPut(10, Snapshot(40, 2, "state at 40"), kThree), 0);
    ASSERT_EQ(h.SnapshotGet(&get), 0);
    EXPECT_EQ(get.index, 40u);
    EXPECT_EQ(get.data, "state at 40");
    EXPECT_EQ(get.servers, kThree.list);
    h.Close();
  }
  {
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    Loaded l = h.Load();
    ASSERT_EQ(l.rv, 0) << l.errmsg;
    ASSERT_TRUE(l.has_snapshot);
    EXPECT_EQ(l.snapshot.index, 40u);
    EXPECT_EQ(l.snapshot.term, 2u);
    EXPECT_EQ(l.snapshot.data, "state at 40");
    EXPECT_EQ(l.snapshot.servers, kThree.list);
    EXPECT_EQ(l.start_index, 31u);  // 10 trailing entries behind 40
    EXPECT_EQ(l.entries, std::vector<Entry>(log.begin() + 30, log.end()));
    EXPECT_EQ(h.host()->Group(kGroup)->FirstIndex(), 31u);

    // An install far ahead: the log restarts after it.
    ASSERT_EQ(h.SnapshotPut(0, Snapshot(100, 7, std::string(5000, 'S')), kThree), 0);
    ASSERT_EQ(h.Append({Entry{7, RAFT_COMMAND, "one-o-one"}}), 0);
    h.Close();
  }
  Harness h(dir.path(), io::DefaultFileSystem());
  ASSERT_TRUE(h.Open());
  Loaded l = h.Load();
  ASSERT_EQ(l.rv, 0) << l.errmsg;
  EXPECT_EQ(l.snapshot.index, 100u);
  EXPECT_EQ(l.snapshot.data, std::string(5000, 'S'));
  EXPECT_EQ(l.start_index, 101u);
  EXPECT_EQ(l.entries, (std::vector<Entry>{Entry{7, RAFT_COMMAND, "one-o-one"}}));
  EXPECT_EQ(l.term, 7u);  // at least the snapshot's term
  std::vector<std::string> names;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(h.snapshot_dir(), &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{RaftSnapshotFileName(100)});
}

// An install that wrote its snapshot file and crashed before the log reset:
// load finishes it. A snapshot file whose last entry the log holds with the
// same term is a plain snapshot: the log stays.
TEST(LogStoreIoTest, LoadFinishesAnInterruptedInstall) {
  for (const char* variant : {"ahead", "term-mismatch", "held"}) {
    SCOPED_TRACE(variant);
    strata::testing::ScratchDir dir;
    std::vector<Entry> log = Commands(3, 20, "e");
    {
      Harness h(dir.path(), io::DefaultFileSystem());
      ASSERT_TRUE(h.Open());
      ASSERT_EQ(h.Load().rv, 0);
      ASSERT_EQ(h.raw()->set_term(h.raw(), 3), 0);
      ASSERT_EQ(h.Append(log), 0);
      h.Close();
    }
    const std::string v = variant;
    RaftSnapshotFile file = v == "ahead"           ? Snapshot(60, 5, "installed")
                            : v == "term-mismatch" ? Snapshot(15, 4, "installed")
                                                   : Snapshot(15, 3, "taken");
    file.group = kGroup;
    std::filesystem::create_directories(dir.Join("snap"));
    ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem().get(),
                                        dir.Join("snap/" + RaftSnapshotFileName(file.index)),
                                        EncodeRaftSnapshotFile(file))
                    .ok());
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    Loaded l = h.Load();
    ASSERT_EQ(l.rv, 0) << l.errmsg;
    ASSERT_TRUE(l.has_snapshot);
    EXPECT_EQ(l.snapshot.index, file.index);
    if (v == "held") {
      EXPECT_EQ(l.start_index, 1u);
      EXPECT_EQ(l.entries, log);
      EXPECT_EQ(h.io()->stats().interrupted_installs_finished, 0u);
    } else {
      EXPECT_EQ(l.start_index, file.index + 1);
      EXPECT_TRUE(l.entries.empty());
      EXPECT_EQ(h.io()->stats().interrupted_installs_finished, 1u);
      EXPECT_EQ(h.host()->Group(kGroup)->FirstIndex(), file.index + 1);
      // The next append follows the snapshot.
      ASSERT_EQ(h.Append({Entry{6, RAFT_COMMAND, "next"}}), 0);
      EXPECT_EQ(h.host()->Group(kGroup)->LastIndex(), file.index + 1);
    }
  }
}

// A damaged newest snapshot file, or a log compacted past every snapshot, is
// RAFT_CORRUPT and changes nothing: the files and the log stay as they were.
TEST(LogStoreIoTest, DamagedStateIsCorruptAndChangesNothing) {
  strata::testing::ScratchDir dir;
  {
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    ASSERT_EQ(h.Load().rv, 0);
    ASSERT_EQ(h.raw()->set_term(h.raw(), 2), 0);
    ASSERT_EQ(h.Append(Commands(2, 30, "e")), 0);
    ASSERT_EQ(h.SnapshotPut(5, Snapshot(20, 2, "s20"), kThree), 0);
    h.Close();
  }
  const std::string newest = dir.Join("snap/" + RaftSnapshotFileName(20));
  std::string bytes;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), newest, &bytes).ok());
  std::string damaged = bytes;
  damaged[60] ^= 0x10;
  ASSERT_TRUE(io::WriteFileAtomically(io::DefaultFileSystem().get(), newest, damaged).ok());
  {
    Harness h(dir.path(), io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    Loaded l = h.Load();
    EXPECT_EQ(l.rv, RAFT_CORRUPT);
    EXPECT_NE(l.errmsg.find("checksum mismatch"), std::string::npos) << l.errmsg;
    EXPECT_NE(l.errmsg.find(RaftSnapshotFileName(20)), std::string::npos) << l.errmsg;
    EXPECT_EQ(h.host()->Group(kGroup)->FirstIndex(), 16u);
    EXPECT_EQ(h.host()->Group(kGroup)->LastIndex(), 30u);
  }
  std::string after;
  ASSERT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), newest, &after).ok());
  EXPECT_EQ(after, damaged);

  // Without any snapshot file, a log that starts past index 1 lost what a
  // snapshot should have covered.
  std::filesystem::remove(newest);
  Harness h(dir.path(), io::DefaultFileSystem());
  ASSERT_TRUE(h.Open());
  Loaded l = h.Load();
  EXPECT_EQ(l.rv, RAFT_CORRUPT);
  EXPECT_NE(l.errmsg.find("holds no raft snapshot"), std::string::npos) << l.errmsg;
  EXPECT_EQ(h.host()->Group(kGroup)->FirstIndex(), 16u);
}

// Every truncation of a valid file, and crafted files whose checksum is
// right but whose contents are not, are Corruption.
TEST(LogStoreIoTest, SnapshotFileDecoderValidatesEverything) {
  RaftSnapshotFile file = Snapshot(40, 3, "data bytes");
  file.group = kGroup;
  const std::string good = EncodeRaftSnapshotFile(file);
  RaftSnapshotFile decoded;
  ASSERT_TRUE(DecodeRaftSnapshotFile(good, "f", &decoded).ok());
  EXPECT_EQ(decoded, file);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_TRUE(DecodeRaftSnapshotFile(good.substr(0, n), "f", &decoded).IsCorruption()) << n;
  }
  // Re-encodes with a field changed after encoding, checksum fixed up.
  auto crafted = [&](const std::function<void(std::string*)>& edit) {
    std::string bytes = good.substr(0, good.size() - 8);
    edit(&bytes);
    PutFixed64(&bytes, Checksum64(bytes));
    return bytes;
  };
  const std::vector<std::pair<const char*, std::function<void(std::string*)>>> cases = {
      {"bad magic", [](std::string* b) { (*b)[0] = 'X'; }},
      {"unknown version", [](std::string* b) { EncodeFixed32(b->data() + 4, 9); }},
      {"index or term is zero", [](std::string* b) { EncodeFixed64(b->data() + 16, 0); }},
      {"configuration index", [](std::string* b) { EncodeFixed64(b->data() + 32, 41); }},
      {"servers in the configuration", [](std::string* b) { EncodeFixed32(b->data() + 40, 0); }},
      {"truncated server", [](std::string* b) { EncodeFixed32(b->data() + 40, 4); }},
      {"overruns the file", [](std::string* b) { EncodeFixed64(b->data() + 44, 1u << 20); }},
      {"stray bytes", [](std::string* b) { EncodeFixed64(b->data() + 44, 2); }},
      {"server id 0", [](std::string* b) { EncodeFixed64(b->data() + 52, 0); }},
      {"has role", [](std::string* b) { (*b)[60] = 9; }},
      {"listed twice",
       [](std::string* b) { std::memcpy(b->data() + 52 + 8 + 1 + 1 + 14, b->data() + 52, 8); }},
      {"bad address", [](std::string* b) { (*b)[62] = '\0'; }},
  };
  for (const auto& [why, edit] : cases) {
    Status s = DecodeRaftSnapshotFile(crafted(edit), "f", &decoded);
    EXPECT_TRUE(s.IsCorruption()) << why << ": " << s.ToString();
    EXPECT_NE(s.ToString().find(why), std::string::npos) << why << ": " << s.ToString();
  }
}

// An install killed (SIGKILL, in a child process) before each file system
// operation it performs, from opening the log to removing the old snapshot:
// the reload finds the old state or the complete new one, never a mix.
TEST(LogStoreIoTest, SigkillDuringAnInstallKeepsTheOldOrTheNewState) {
  strata::testing::ScratchDir dir;
  const std::vector<Entry> log = Commands(2, 30, "e");
  const RaftSnapshotFile installed = Snapshot(100, 5, std::string(20000, 'N'));
  int old_states = 0;
  int new_states = 0;
  for (uint64_t kill_at = 1;; ++kill_at) {
    SCOPED_TRACE(fmt::format("kill before operation {}", kill_at));
    const std::string node = dir.Join(fmt::format("node{}", kill_at));
    std::filesystem::create_directories(node);
    {
      Harness h(node, io::DefaultFileSystem());
      ASSERT_TRUE(h.Open());
      ASSERT_EQ(h.Load().rv, 0);
      ASSERT_EQ(h.raw()->set_term(h.raw(), 2), 0);
      ASSERT_EQ(h.Append(log), 0);
      ASSERT_EQ(h.SnapshotPut(5, Snapshot(20, 2, "old"), kThree), 0);
    }
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      strata::testing::KillSwitch kill(kill_at);
      auto fs =
          std::make_shared<strata::testing::KillingFileSystem>(io::DefaultFileSystem(), &kill);
      Harness h(node, fs);
      bool ok = static_cast<bool>(h.Open()) && h.Load().rv == 0 &&
                h.SnapshotPut(0, installed, kThree) == 0;
      h.Close();
      ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    ASSERT_TRUE(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << status;

    Harness h(node, io::DefaultFileSystem());
    ASSERT_TRUE(h.Open());
    Loaded l = h.Load();
    ASSERT_EQ(l.rv, 0) << l.errmsg;
    ASSERT_TRUE(l.has_snapshot);
    if (l.snapshot.index == 20) {
      ++old_states;
      EXPECT_TRUE(killed);
      EXPECT_EQ(l.snapshot.data, "old");
      EXPECT_EQ(l.start_index, 16u);
      EXPECT_EQ(l.entries, std::vector<Entry>(log.begin() + 15, log.end()));
    } else {
      ++new_states;
      EXPECT_EQ(l.snapshot, installed);
      EXPECT_EQ(l.start_index, 101u);
      EXPECT_TRUE(l.entries.empty());
    }
    if (!killed) break;
    ASSERT_LT(kill_at, 500u) << "the install never finished";
  }
  RecordProperty("old_states", old_states);
  RecordProperty("new_states", new_states);
  EXPECT_GT(old_states, 0);
  EXPECT_GT(new_states, 1);  // killed after the file, and the clean run
}

// A seeded model: rounds of random appends, truncations, term/vote changes,
// taken and installed snapshots; after each round the io is closed, the
// file system loses everything unsynced (a power cut) and the reloaded state
// must be exactly what the model acknowledged. Taken snapshots compact the
// log without a sync, so after a cut the log may start earlier than the
// model: those extra entries must match what the model held there.
TEST(LogStoreIoTest, PowerCutsKeepEveryAcknowledgedChange) {
  const uint64_t seed = strata::testing::TestSeed(12);
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());

  struct Model {
    uint64_t term = 0, vote = 0;
    bool has_snapshot = false;
    RaftSnapshotFile snapshot;
    uint64_t first = 1;                 // first live index
    std::map<uint64_t, Entry> entries;  // [first, last]
    std::map<uint64_t, Entry> ever;     // what each index last held (for compacted extras)
  } m;
  uint64_t next_tag = 0;
  int rounds_with_extras = 0;
  for (int round = 0; round < 60; ++round) {
    SCOPED_TRACE(fmt::format("seed {} round {}", seed, round));
    Harness h(dir.path(), fs);
    ASSERT_TRUE(h.Open());
    Loaded l = h.Load();
    ASSERT_EQ(l.rv, 0) << l.errmsg;
    // Check the reload against the model.
    EXPECT_EQ(l.term, m.term);
    EXPECT_EQ(l.vote, m.vote);
    ASSERT_EQ(l.has_snapshot, m.has_snapshot);
    if (m.has_snapshot) {
      EXPECT_EQ(l.snapshot, m.snapshot);
    }
    const uint64_t last = m.first + m.entries.size() - 1;
    ASSERT_LE(l.start_index, m.first);
    ASSERT_EQ(l.start_index + l.entries.size() - 1, last);
    if (l.start_index < m.first) ++rounds_with_extras;
    for (size_t k = 0; k < l.entries.size(); ++k) {
      const uint64_t index = l.start_index + k;
      const Entry& want = index >= m.first ? m.entries[index] : m.ever[index];
      ASSERT_EQ(l.entries[k], want) << "index " << index;
    }
    if (round == 0) {
      raft_configuration conf = kThree.Make();
      ASSERT_EQ(h.raw()->bootstrap(h.raw(), &conf), 0);
      raft_buffer encoded{};
      ASSERT_EQ(raft_configuration_encode(&conf, &encoded), 0);
      m.entries[1] =
          Entry{1, RAFT_CHANGE, std::string(static_cast<char*>(encoded.base), encoded.len)};
      m.ever[1] = m.entries[1];
      raft_free(encoded.base);
      raft_configuration_close(&conf);
      m.term = 1;
    }
    const int ops = 5 + static_cast<int>(rng() % 20);
    for (int op = 0; op < ops; ++op) {
      const uint64_t cur_last = m.first + m.entries.size() - 1;
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 55) {
        // Several appends in flight.
        const int n = 1 + static_cast<int>(rng() % 3);
        std::vector<Harness::PendingAppend*> pending;
        uint64_t index = cur_last + 1;
        for (int a = 0; a < n; ++a) {
          std::vector<Entry> batch;
          const int count = 1 + static_cast<int>(rng() % 6);
          for (int c = 0; c < count; ++c) {
            Entry e{m.term,
                    rng() % 10 == 0 ? static_cast<unsigned short>(RAFT_BARRIER)
                                    : static_cast<unsigned short>(RAFT_COMMAND),
                    fmt::format("t{}-{}", next_tag++, std::string(rng() % 3000, 'v'))};
            m.entries[index] = e;
            m.ever[index] = e;
            ++index;
            batch.push_back(std::move(e));
          }
          pending.push_back(h.AppendAsync(batch));
        }
        h.RunUntil([&] { return pending.back()->done; });
        for (auto* p : pending) ASSERT_EQ(p->status, 0);
      } else if (kind < 65 && cur_last > m.first + 2 &&
                 (!m.has_snapshot || cur_last > m.snapshot.index + 2)) {
        // Raft truncates only uncommitted entries: above the last snapshot.
        const uint64_t at = cur_last - rng() % 3;
        ASSERT_EQ(h.raw()->truncate(h.raw(), at), 0);
        m.entries.erase(m.entries.find(at), m.entries.end());
        // A truncation is acknowledged by the next append's callback.
        Entry e{m.term, RAFT_COMMAND, fmt::format("t{}", next_tag++)};
        m.entries[at] = e;
        m.ever[at] = e;
        ASSERT_EQ(h.Append({e}), 0);
      } else if (kind < 75) {
        m.term += 1 + rng() % 2;
        m.vote = 0;
        ASSERT_EQ(h.raw()->set_term(h.raw(), m.term), 0);
        if (rng() % 2 == 0) {
          m.vote = 1 + rng() % 3;
          ASSERT_EQ(h.raw()->set_vote(h.raw(), m.vote), 0);
        }
      } else if (kind < 92 && cur_last >= m.first) {
        // Take a snapshot at a random live index, keep some trailing entries.
        const uint64_t at = m.first + rng() % (cur_last - m.first + 1);
        if (m.has_snapshot && at <= m.snapshot.index) continue;
        const unsigned trailing = 1 + static_cast<unsigned>(rng() % 8);
        RaftSnapshotFile s = Snapshot(at, m.entries[at].term, fmt::format("snap@{}", at));
        ASSERT_EQ(h.SnapshotPut(trailing, s, kThree), 0);
        m.has_snapshot = true;
        m.snapshot = s;
        if (at > trailing && at - trailing >= m.first) {
          m.entries.erase(m.entries.begin(), m.entries.find(at - trailing + 1));
          m.first = at - trailing + 1;
        }
      } else {
        // Install a snapshot ahead of the log.
        const uint64_t at = cur_last + 1 + rng() % 20;
        const uint64_t term = std::max<uint64_t>(m.term, 1);
        RaftSnapshotFile s = Snapshot(at, term, std::string(rng() % 10000, 'I'));
        ASSERT_EQ(h.SnapshotPut(0, s, kThree), 0);
        m.has_snapshot = true;
        m.snapshot = s;
        m.entries.clear();
        m.first = at + 1;
        m.term = std::max(m.term, term);
      }
    }
    h.Close();
    ASSERT_TRUE(fs->DropUnsyncedData().ok());
  }
  // Some cut must have lost an unsynced compaction (seeds 1-8 and 12 see 1-6
  // such rounds), or the lenient path above went untested.
  RecordProperty("rounds_with_extras", rounds_with_extras);
  EXPECT_GT(rounds_with_extras, 0);
}

}  // namespace
}  // namespace strata::replica
