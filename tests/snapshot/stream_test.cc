// Snapshot streams for every registered engine kind: round trips, every
// chunk boundary, flipped bits and truncation rejected with the frame
// named, atomic install over an existing database.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "core/checksum.h"
#include "core/coding.h"
#include "io/fault_file_system.h"

#include "snapshot/install.h"
#include "snapshot/stream_reader.h"
#include "snapshot/stream_writer.h"
#include "tests/snapshot/snapshot_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::snapshot::testing {
namespace {

// The stream as a string, and where each frame starts (one sink call each).
struct Captured {
  std::string bytes;
  std::vector<size_t> frame_starts;
  StreamInfo info;
};

Captured Capture(Engine* db, const Snapshot& snap, size_t chunk_bytes) {
  Captured c;
  StreamOptions options;
  options.chunk_bytes = chunk_bytes;
  Status s = WriteSnapshotStream(
      db, snap, options,
      [&](std::string_view bytes) {
        c.frame_starts.push_back(c.bytes.size());
        c.bytes.append(bytes);
        return Status::Ok();
      },
      &c.info);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return c;
}

ByteSource StringSource(std::string_view data, size_t piece_bytes_max = SIZE_MAX) {
  auto pos = std::make_shared<size_t>(0);
  return [data, pos, piece_bytes_max](char* buf, size_t n, size_t* bytes_read) {
    const size_t take = std::min({n, data.size() - *pos, piece_bytes_max});
    std::memcpy(buf, data.data() + *pos, take);
    *pos += take;
    *bytes_read = take;
    return Status::Ok();
  };
}

// "header", "chunk N" or "trailer": the frame holding byte `offset`.
std::string FrameName(const Captured& c, size_t offset) {
  size_t frame = 0;
  while (frame + 1 < c.frame_starts.size() && c.frame_starts[frame + 1] <= offset) ++frame;
  if (frame == 0) return "header";
  if (frame + 1 == c.frame_starts.size()) return "trailer";
  return fmt::format("chunk {}", frame - 1);
}

// An engine whose iterators do not carry versions (Iterator::version() is
// nullopt), as an engine without that support: the writer must fall back to
// GetVersioned and still ship every version.
class VersionlessIterator final : public Iterator {
 public:
  explicit VersionlessIterator(std::unique_ptr<Iterator> base) : base_(std::move(base)) {}
  bool Valid() const override { return base_->Valid(); }
  void SeekToFirst() override { base_->SeekToFirst(); }
  void Seek(std::string_view target) override { base_->Seek(target); }
  void Next() override { base_->Next(); }
  void SeekToLast() override { base_->SeekToLast(); }
  void Prev() override { base_->Prev(); }
  std::string_view key() const override { return base_->key(); }
  std::string_view value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }

 private:
  std::unique_ptr<Iterator> base_;
};

class VersionlessEngine final : public Engine {
 public:
  explicit VersionlessEngine(Engine* base) : base_(base) {}
  std::string_view kind() const override { return base_->kind(); }
  Status Put(const WriteOptions& o, std::string_view k, std::string_view v) override {
    return base_->Put(o, k, v);
  }
  Status Delete(const WriteOptions& o, std::string_view k) override { return base_->Delete(o, k); }
  Status Write(const WriteOptions& o, const WriteBatch& b) override { return base_->Write(o, b); }
  Status Get(const ReadOptions& o, std::string_view k, std::string* v) override {
    return base_->Get(o, k, v);
  }
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& o) override {
    return std::make_unique<VersionlessIterator>(base_->NewIterator(o));
  }
  std::unique_ptr<Snapshot> GetSnapshot() override { return base_->GetSnapshot(); }
  Status PutIfNewer(const WriteOptions& o, std::string_view k, uint64_t version,
                    std::string_view v, bool* applied) override {
    return base_->PutIfNewer(o, k, version, v, applied);
  }
  Status GetVersioned(const ReadOptions& o, std::string_view k, std::string* v,
                      uint64_t* version) override {
    ++versioned_gets;
    return base_->GetVersioned(o, k, v, version);
  }
  EngineStats Stats() const override { return base_->Stats(); }

  uint64_t versioned_gets = 0;

 private:
  Engine* const base_;
};

// The state an install replaces: `keys` puts into a database at `dir`
// (its WAL where `options` says).
void WriteOldState(const Options& options, const std::string& dir, int keys) {
  std::unique_ptr<Engine> old;
  ASSERT_TRUE(strata::Open(options, dir, &old).ok());
  for (int i = 0; i < keys; ++i) {
    ASSERT_TRUE(old->Put(WriteOptions{}, fmt::format("old{}", i), "x").ok());
  }
}

class StreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Engine> OpenDb(const std::string& name) {
    std::unique_ptr<Engine> db;
    Status s = strata::Open(SmallOptions(GetParam()), dir_.Join(name), &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return db;
  }

  Status Install(std::string_view stream, const std::string& name, size_t piece = SIZE_MAX,
                 InstallPath path = InstallPath::kFastest) {
    InstallInfo info;
    return InstallSnapshot(StringSource(stream, piece), dir_.Join(name),
                           SmallOptions(GetParam()), &info, path);
  }

  std::vector<std::string> Names() {
    std::vector<std::string> names;
    EXPECT_TRUE(io::DefaultFileSystem()->ListDir(dir_.path(), &names).ok());
    std::sort(names.begin(), names.end());
    return names;
  }

  ::strata::testing::ScratchDir dir_;
};

TEST_P(StreamTest, RoundTripAsOfTheSnapshot) {
  const uint64_t seed = ::strata::testing::TestSeed(21);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::unique_ptr<Engine> db = OpenDb("src");
  std::mt19937_64 rng(seed);
  RandomWrites(db.get(), rng, 4000, 1500);
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  RandomWrites(db.get(), rng, 1000, 1500);  // not in the stream
  const State expected = ReadState(db.get(), snap.get());
  ASSERT_FALSE(expected.empty());
  const Captured c = Capture(db.get(), *snap, 4096);
  EXPECT_EQ(c.info.entry_count, expected.size());
  EXPECT_EQ(c.info.sequence, snap->sequence());
  EXPECT_EQ(c.info.engine_kind, GetParam());
  EXPECT_GT(c.info.chunk_count, 5u);
  StreamInfo verified;
  ASSERT_TRUE(VerifySnapshotStream(StringSource(c.bytes, 777), &verified).ok());
  EXPECT_EQ(verified.stream_bytes, c.bytes.size());
  EXPECT_EQ(verified.entry_count, expected.size());
  ASSERT_TRUE(Install(c.bytes, "dst", 1000).ok());
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("dst")), expected);
  ASSERT_TRUE(Install(c.bytes, "generic", 1000, InstallPath::kGeneric).ok());
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("generic")), expected);
  EXPECT_EQ(Names(), (std::vector<std::string>{"dst", "generic", "src"}));
  // The installed database takes writes after the snapshot's sequence.
  Options o = SmallOptions(GetParam());
  std::unique_ptr<Engine> dst;
  ASSERT_TRUE(strata::Open(o, dir_.Join("dst"), &dst).ok());
  ASSERT_TRUE(dst->Put(WriteOptions{}, Key(0), "after").ok());
  std::unique_ptr<Snapshot> after = dst->GetSnapshot();
  EXPECT_GT(after->sequence(), c.info.sequence);  // the bulk paths continue the numbering
  State updated = expected;
  updated[Key(0)] = {0, "after"};
  EXPECT_EQ(ReadState(dst.get()), updated);
  // ... compacts (the bulk-loaded shape is a valid tree) and reopens.
  Status compacted = dst->CompactAll();
  EXPECT_TRUE(compacted.ok() || compacted.IsNotSupported()) << compacted.ToString();
  after.reset();
  dst.reset();
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("dst")), updated);
}

TEST_P(StreamTest, VersionsTravelWhereIteratorsDoNotCarryThem) {
  std::unique_ptr<Engine> db = OpenDb("src");
  std::mt19937_64 rng(6);
  RandomWrites(db.get(), rng, 600, 200);
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  RandomWrites(db.get(), rng, 300, 200);  // newer versions the stream must not pick up
  VersionlessEngine versionless(db.get());
  const Captured plain = Capture(db.get(), *snap, 256);
  const Captured fallback = Capture(&versionless, *snap, 256);
  EXPECT_EQ(versionless.versioned_gets, fallback.info.entry_count);
  EXPECT_EQ(fallback.bytes, plain.bytes);
  ASSERT_TRUE(Install(fallback.bytes, "dst").ok());
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("dst")), ReadState(db.get(), snap.get()));
}

TEST_P(StreamTest, AsFileRoundTrip) {
  std::unique_ptr<Engine> db = OpenDb("src");
  std::mt19937_64 rng(4);
  RandomWrites(db.get(), rng, 500, 200);
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  auto fs = io::DefaultFileSystem();
  StreamInfo info;
  ASSERT_TRUE(WriteSnapshotFile(db.get(), *snap, StreamOptions{}, fs.get(), dir_.Join("s.snap"),
                                &info).ok());
  EXPECT_EQ(*fs->FileSize(dir_.Join("s.snap")), info.stream_bytes);
  std::unique_ptr<io::SequentialFile> in;
  ASSERT_TRUE(fs->NewSequentialFile(dir_.Join("s.snap"), io::FileOptions{}, &in).ok());
  InstallInfo installed;
  ASSERT_TRUE(InstallSnapshot(FileByteSource(in.get()), dir_.Join("dst"),
                              SmallOptions(GetParam()), &installed).ok());
  EXPECT_FALSE(installed.replaced_existing);
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("dst")), ReadState(db.get(), snap.get()));
}

// Small states with every chunk size from one entry per chunk to one chunk
// for all: each boundary position is exercised, and the empty state too.
TEST_P(StreamTest, EveryChunkBoundary) {
  for (int keys = 0; keys <= 9; ++keys) {
    std::unique_ptr<Engine> db = OpenDb(fmt::format("src{}", keys));
    for (int i = 0; i < keys; ++i) {
      bool applied = false;
      Status s = i % 3 == 2 ? db->PutIfNewer(WriteOptions{}, Key(i), 10 + i,
                                             std::string(i, 'v'), &applied)
                            : db->Put(WriteOptions{}, Key(i), std::string(i * 3, 'w'));
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    std::unique_ptr<Snapshot> snap = db->GetSnapshot();
    const State expected = ReadState(db.get(), snap.get());
    const Captured all = Capture(db.get(), *snap, kChunkBytesMax);
    uint64_t previous_chunk_count = UINT64_MAX;
    for (size_t chunk_bytes = 1; chunk_bytes <= all.info.payload_bytes + 1; ++chunk_bytes) {
      SCOPED_TRACE(fmt::format("keys={} chunk_bytes={}", keys, chunk_bytes));
      const Captured c = Capture(db.get(), *snap, chunk_bytes);
      EXPECT_EQ(c.info.entry_count, static_cast<uint64_t>(keys));
      EXPECT_EQ(c.info.payload_bytes, all.info.payload_bytes);
      if (chunk_bytes == 1) {
        EXPECT_EQ(c.info.chunk_count, static_cast<uint64_t>(keys));
      }
      if (chunk_bytes > all.info.payload_bytes) {
        EXPECT_EQ(c.info.chunk_count, keys > 0 ? 1u : 0u);
      }
      ASSERT_TRUE(VerifySnapshotStream(StringSource(c.bytes, chunk_bytes), nullptr).ok());
      // Install each distinct chunking once (an install opens a database).
      if (c.info.chunk_count == previous_chunk_count) continue;
      previous_chunk_count = c.info.chunk_count;
      const std::string name = fmt::format("dst{}-{}", keys, chunk_bytes);
      const InstallPath path = chunk_bytes % 2 ? InstallPath::kFastest : InstallPath::kGeneric;
      Status s = Install(c.bytes, name, 1 + chunk_bytes % 7, path);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join(name)), expected);
    }
  }
}

TEST_P(StreamTest, FlippedBitAnywhereIsRejectedWithTheFrameNamed) {
  std::unique_ptr<Engine> db = OpenDb("src");
  for (int i = 0; i < 12; ++i) {
    bool applied = false;
    ASSERT_TRUE(db->PutIfNewer(WriteOptions{}, Key(i), i + 1, fmt::format("val{}", i),
                               &applied).ok());
  }
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  const Captured c = Capture(db.get(), *snap, 40);
  ASSERT_GE(c.info.chunk_count, 3u);
  for (size_t offset = 0; offset < c.bytes.size(); ++offset) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = c.bytes;
      bad[offset] = static_cast<char>(bad[offset] ^ (1 << bit));
      Status s = VerifySnapshotStream(StringSource(bad), nullptr);
      ASSERT_TRUE(s.IsCorruption()) << "offset " << offset << " bit " << bit << ": "
                                    << s.ToString();
      const std::string frame = FrameName(c, offset);
      EXPECT_NE(s.message().find(frame), std::string::npos)
          << "offset " << offset << " bit " << bit << ": " << s.ToString();
    }
  }
}

TEST_P(StreamTest, TruncatedOrExtendedStreamIsRejected) {
  std::unique_ptr<Engine> db = OpenDb("src");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(db->Put(WriteOptions{}, Key(i), "value").ok());
  std::unique_ptr<Snapshot> snap = db->GetSnapshot();
  const Captured c = Capture(db.get(), *snap, 64);
  for (size_t length = 0; length < c.bytes.size(); ++length) {
    Status s = VerifySnapshotStream(StringSource(std::string_view(c.bytes).substr(0, length)),
                                    nullptr);
    ASSERT_TRUE(s.IsCorruption()) << "length " << length << ": " << s.ToString();
    // A cut at a frame boundary names the frame that is missing.
    EXPECT_NE(s.message().find(FrameName(c, length)), std::string::npos)
        << "length " << length << ": " << s.ToString();
  }
  Status s = VerifySnapshotStream(StringSource(c.bytes + "x"), nullptr);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("trailer"), std::string::npos) << s.ToString();
}

TEST_P(StreamTest, InstallReplacesAnExistingDatabaseAndLeavesNothingBehind) {
  std::unique_ptr<Engine> src = OpenDb("src");
  std::mt19937_64 rng(8);
  RandomWrites(src.get(), rng, 800, 300);
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 1024);
  {
    std::unique_ptr<Engine> old = OpenDb("node");
    ASSERT_TRUE(old->Put(WriteOptions{}, "old-only", "x").ok());
    // Open: the swap must not happen under it.
    InstallInfo info;
    Status s = InstallSnapshot(StringSource(c.bytes), dir_.Join("node"),
                               SmallOptions(GetParam()), &info);
    if (GetParam() == "lsm") {
      EXPECT_TRUE(s.IsBusy()) << s.ToString();
    }
    if (!s.ok()) {
      EXPECT_EQ(Names(), (std::vector<std::string>{"node", "src"}));
    }
  }
  ASSERT_TRUE(Install(c.bytes, "node").ok());
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("node")), ReadState(src.get(), snap.get()));
  EXPECT_EQ(Names(), (std::vector<std::string>{"node", "src"}));
}

// A node whose WAL lives in its own directory (Options::wal_dir) keeps it
// there across an install: the replaced state's segments in that directory
// go, the new state writes its WAL there, and both opening with the option
// and opening without it (WALDIR) find the installed state and what was
// written after it. The install finds the directory in its options, or
// in the WALDIR of the database it replaces.
TEST_P(StreamTest, InstallKeepsTheNodesWalDirectory) {
  for (const InstallPath path : {InstallPath::kFastest, InstallPath::kGeneric}) {
    for (const auto& [replace, option_at_install] :
         {std::pair{true, true}, std::pair{true, false}, std::pair{false, true}}) {
      SCOPED_TRACE(fmt::format("path {} replace {} wal_dir at install {}",
                               static_cast<int>(path), replace, option_at_install));
      ::strata::testing::ScratchDir scratch;
      std::unique_ptr<Engine> src;
      ASSERT_TRUE(strata::Open(SmallOptions(GetParam()), scratch.Join("src"), &src).ok());
      std::mt19937_64 rng(30);
      RandomWrites(src.get(), rng, 600, 200);
      std::unique_ptr<Snapshot> snap = src->GetSnapshot();
      const Captured c = Capture(src.get(), *snap, 1024);
      Options node_options = SmallOptions(GetParam());
      node_options.wal_dir = scratch.Join("waldisk");
      if (replace) {
        ASSERT_NO_FATAL_FAILURE(WriteOldState(node_options, scratch.Join("node"), 300));
      }
      InstallInfo info;
      Options install_options = node_options;
      if (!option_at_install) install_options.wal_dir.clear();
      Status s = InstallSnapshot(StringSource(c.bytes), scratch.Join("node"), install_options,
                                 &info, path);
      ASSERT_TRUE(s.ok()) << s.ToString();
      const State expected = ReadState(src.get(), snap.get());
      if (GetParam() == "lsm") {
        // A read-only open before the handover reads the installed state
        // (its own WAL) and changes nothing.
        Options ro = node_options;
        ro.read_only = true;
        std::unique_ptr<Engine> db;
        s = strata::Open(ro, scratch.Join("node"), &db);
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_EQ(ReadState(db.get()), expected);
        EXPECT_TRUE(io::DefaultFileSystem()->FileExists(scratch.Join("node/WALDIR.install")));
      }
      {
        // The handover alone, nothing written: the fresh WAL must be there
        // for the next open.
        std::unique_ptr<Engine> db;
        ASSERT_TRUE(strata::Open(node_options, scratch.Join("node"), &db).ok());
        ASSERT_TRUE(db->Close().ok());
      }
      for (const bool with_option : {true, false, true}) {
        SCOPED_TRACE(fmt::format("open with wal_dir {}", with_option));
        Options o = node_options;
        if (!with_option) o.wal_dir.clear();
        std::unique_ptr<Engine> db;
        s = strata::Open(o, scratch.Join("node"), &db);
        ASSERT_TRUE(s.ok()) << s.ToString();
        State state = ReadState(db.get());
        state.erase("after-install");
        EXPECT_EQ(state, expected);
        ASSERT_TRUE(db->Put(WriteOptions{}, "after-install", "y").ok());
      }
      // The WAL is in waldisk: the new write was logged there.
      std::vector<std::string> names;
      ASSERT_TRUE(io::DefaultFileSystem()->ListDir(scratch.Join("waldisk"), &names).ok());
      EXPECT_TRUE(std::any_of(names.begin(), names.end(),
                              [](const std::string& n) { return n.ends_with(".wal"); }));
      EXPECT_FALSE(io::DefaultFileSystem()->FileExists(scratch.Join("node/WALDIR.install")));
    }
  }
}

// The first open after an install hands the WAL directory over. A power
// cut at any of its file operations (every one fails from there on, then
// unsynced data is dropped) leaves a node that opens on the installed state,
// finishing the handover, and keeps what it then acknowledges with sync.
TEST_P(StreamTest, WalHandoverSurvivesAPowerCutAtEveryStep) {
  std::unique_ptr<Engine> src = OpenDb("src");
  std::mt19937_64 rng(32);
  RandomWrites(src.get(), rng, 400, 150);
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 1024);
  const State expected = ReadState(src.get(), snap.get());
  // Over a database whose WAL lived in waldisk (its segments there go), and
  // over none (waldisk starts empty, and a repeated handover must accept
  // the fresh WAL its interrupted first try left there).
  for (const auto& [path, replace] :
       {std::pair{InstallPath::kFastest, true}, std::pair{InstallPath::kGeneric, true},
        std::pair{InstallPath::kGeneric, false}}) {
    bool completed = false;
    uint64_t nth = 1;
    for (; !completed; ++nth) {
      SCOPED_TRACE(fmt::format("path {}, replace {}, failing from operation {}",
                               static_cast<int>(path), replace, nth));
      ASSERT_LT(nth, 2000u) << "the handover never completed";
      ::strata::testing::ScratchDir scratch;
      Options options = SmallOptions(GetParam());
      options.wal_dir = scratch.Join("waldisk");
      if (replace) {
        ASSERT_NO_FATAL_FAILURE(WriteOldState(options, scratch.Join("node"), 200));
      }
      InstallInfo info;
      ASSERT_TRUE(
          InstallSnapshot(StringSource(c.bytes), scratch.Join("node"), options, &info, path).ok());
      auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
      options.file_system = fault;
      io::ErrorInjection from_nth;
      from_nth.nth = nth;
      from_nth.fail_count = io::kFailForever;
      fault->InjectError(from_nth);
      std::unique_ptr<Engine> db;
      Status s = strata::Open(options, scratch.Join("node"), &db);
      completed = s.ok() && fault->stats().injected_errors == 0;
      db.reset();  // every call fails from here on: the power goes
      io::CrashOptions crash;
      crash.keep_random_unsynced_prefix = nth % 2 == 1;
      crash.seed = nth;
      ASSERT_TRUE(fault->DropUnsyncedData(crash).ok());
      fault->ClearFaults();
      s = strata::Open(options, scratch.Join("node"), &db);
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(ReadState(db.get()), expected);
      WriteOptions sync;
      sync.sync = true;
      ASSERT_TRUE(db->Put(sync, "after-install", "y").ok());
      db.reset();
      ASSERT_TRUE(fault->DropUnsyncedData().ok());
      options.wal_dir.clear();  // WALDIR finds it
      ASSERT_TRUE(strata::Open(options, scratch.Join("node"), &db).ok());
      std::string value;
      ASSERT_TRUE(db->Get(ReadOptions{}, "after-install", &value).ok());
      EXPECT_FALSE(fault->FileExists(scratch.Join("node/WALDIR.install")));
    }
    EXPECT_GT(nth, 10u) << "the handover took too few file operations to test anything";
  }
}

// An install over a node whose own handover was interrupted after it
// recorded WALDIR and made its fresh WAL (WALDIR.install still there): the
// fresh WAL is that node's, so the new install replaces it.
TEST_P(StreamTest, InstallOverAnInterruptedHandoverReplacesItsWal) {
  std::unique_ptr<Engine> src = OpenDb("src");
  std::mt19937_64 rng(33);
  RandomWrites(src.get(), rng, 300, 100);
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 1024);
  const State expected = ReadState(src.get(), snap.get());
  bool found = false;
  for (uint64_t nth = 1; nth < 2000 && !found; ++nth) {
    ::strata::testing::ScratchDir scratch;
    Options options = SmallOptions(GetParam());
    options.wal_dir = scratch.Join("waldisk");
    InstallInfo info;
    ASSERT_TRUE(InstallSnapshot(StringSource(c.bytes), scratch.Join("node"), options, &info,
                                InstallPath::kGeneric)
                    .ok());
    auto fault = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
    Options faulty = options;
    faulty.file_system = fault;
    io::ErrorInjection from_nth;
    from_nth.nth = nth;
    from_nth.fail_count = io::kFailForever;
    fault->InjectError(from_nth);
    std::unique_ptr<Engine> db;
    const bool opened = strata::Open(faulty, scratch.Join("node"), &db).ok();
    db.reset();
    ASSERT_TRUE(fault->DropUnsyncedData().ok());
    if (opened) break;  // past the handover: no interrupted state at any step
    auto fs = io::DefaultFileSystem();
    std::vector<std::string> names;
    if (!fs->FileExists(scratch.Join("node/WALDIR.install")) ||
        !fs->FileExists(scratch.Join("node/WALDIR")) ||
        !fs->ListDir(scratch.Join("waldisk"), &names).ok() ||
        std::none_of(names.begin(), names.end(),
                     [](const std::string& n) { return n.ends_with(".wal"); })) {
      continue;
    }
    found = true;
    SCOPED_TRACE(fmt::format("interrupted at operation {}", nth));
    Status s = InstallSnapshot(StringSource(c.bytes), scratch.Join("node"), options, &info,
                               InstallPath::kGeneric);
    ASSERT_TRUE(s.ok()) << s.ToString();
    s = strata::Open(options, scratch.Join("node"), &db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(ReadState(db.get()), expected);
  }
  EXPECT_TRUE(found) << "no power cut left WALDIR, WALDIR.install and a fresh segment together";
}

// With wal_dir naming a directory that holds another database's segments,
// an install over no database refuses at the first open, as any open does,
// and the segments stay.
TEST_P(StreamTest, InstallNeverDeletesForeignSegmentsInTheWalDirectory) {
  std::unique_ptr<Engine> src = OpenDb("src");
  std::mt19937_64 rng(31);
  RandomWrites(src.get(), rng, 200, 100);
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 1024);
  Options other = SmallOptions(GetParam());
  other.wal_dir = dir_.Join("shared-wal");
  {
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(strata::Open(other, dir_.Join("other"), &db).ok());
    ASSERT_TRUE(db->Put(WriteOptions{}, "other", "z").ok());
  }
  std::vector<std::string> before;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(dir_.Join("shared-wal"), &before).ok());
  InstallInfo info;
  ASSERT_TRUE(InstallSnapshot(StringSource(c.bytes), dir_.Join("node"), other, &info).ok());
  std::unique_ptr<Engine> db;
  Status s = strata::Open(other, dir_.Join("node"), &db);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  std::vector<std::string> after;
  ASSERT_TRUE(io::DefaultFileSystem()->ListDir(dir_.Join("shared-wal"), &after).ok());
  std::sort(before.begin(), before.end());
  std::sort(after.begin(), after.end());
  EXPECT_EQ(after, before);
  db.reset();
  ASSERT_TRUE(strata::Open(other, dir_.Join("other"), &db).ok());
  std::string value;
  ASSERT_TRUE(db->Get(ReadOptions{}, "other", &value).ok());
}

TEST_P(StreamTest, CorruptStreamLeavesTheOldStateAndNoStaging) {
  std::unique_ptr<Engine> src = OpenDb("src");
  std::mt19937_64 rng(12);
  RandomWrites(src.get(), rng, 800, 300);
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 512);
  {
    std::unique_ptr<Engine> old = OpenDb("node");
    ASSERT_TRUE(old->Put(WriteOptions{}, "old-only", "x").ok());
  }
  const State old_state = OpenAndReadState(GetParam(), dir_.Join("node"));
  std::string bad = c.bytes;
  bad[bad.size() - 40] ^= 0x10;  // in the last chunk: everything before it was applied
  for (InstallPath path : {InstallPath::kFastest, InstallPath::kGeneric}) {
    Status s = Install(bad, "node", SIZE_MAX, path);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("node")), old_state);
    EXPECT_EQ(Names(), (std::vector<std::string>{"node", "src"}));
    s = Install(std::string_view(c.bytes).substr(0, c.bytes.size() - 1), "node", SIZE_MAX, path);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("node")), old_state);
    EXPECT_EQ(Names(), (std::vector<std::string>{"node", "src"}));
  }
}

TEST_P(StreamTest, UnknownEngineKindIsRejectedBeforeAnythingIsWritten) {
  std::unique_ptr<Engine> src = OpenDb("src");
  ASSERT_TRUE(src->Put(WriteOptions{}, "k", "v").ok());
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  Captured c = Capture(src.get(), *snap, 64);
  // Rewrite the kind to as many 'z's (same length) and fix the checksum.
  const size_t kind_at = kHeaderFixedBytes;
  const size_t kind_bytes = GetParam().size();
  ASSERT_EQ(c.bytes.substr(kind_at, kind_bytes), GetParam());
  c.bytes.replace(kind_at, kind_bytes, std::string(kind_bytes, 'z'));
  const std::string header = c.bytes.substr(0, kind_at + kind_bytes);
  std::string sum;
  PutFixed64(&sum, Checksum64(header));
  c.bytes.replace(kind_at + kind_bytes, 8, sum);
  Status s = Install(c.bytes, "node");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(Names(), (std::vector<std::string>{"src"}));
}

TEST_P(StreamTest, NeverReplacesADirectoryThatIsNoDatabase) {
  std::unique_ptr<Engine> src = OpenDb("src");
  ASSERT_TRUE(src->Put(WriteOptions{}, "k", "v").ok());
  std::unique_ptr<Snapshot> snap = src->GetSnapshot();
  const Captured c = Capture(src.get(), *snap, 64);
  auto fs = io::DefaultFileSystem();
  ASSERT_TRUE(fs->CreateDir(dir_.Join("photos")).ok());
  ASSERT_TRUE(io::WriteFileAtomically(fs.get(), dir_.Join("photos/cat.jpg"), "meow").ok());
  Status s = Install(c.bytes, "photos");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_TRUE(fs->FileExists(dir_.Join("photos/cat.jpg")));
  EXPECT_EQ(Names(), (std::vector<std::string>{"photos", "src"}));
  ASSERT_TRUE(fs->CreateDir(dir_.Join("empty")).ok());
  ASSERT_TRUE(Install(c.bytes, "empty").ok());  // an empty directory may be replaced
  EXPECT_EQ(OpenAndReadState(GetParam(), dir_.Join("empty")), ReadState(src.get(), snap.get()));
}

INSTANTIATE_TEST_SUITE_P(Kinds, StreamTest, ::testing::ValuesIn(RegisteredEngineKinds()),
                         KindName);

}  // namespace
}  // namespace strata::snapshot::testing
