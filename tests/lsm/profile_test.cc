// The LSM engine and its stored disk profile (io/disk_detect.h): detected
// once, stored in PROFILE, used by later opens; a bad PROFILE fails the open
// and is left as it is.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include "io/device_model.h"
#include "io/disk_detect.h"
#include "lsm/block_cache.h"
#include "lsm/db_impl.h"
#include "tests/lsm/lsm_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::lsm {
namespace {

// Auto detection, with STRATA_PROFILE unset for the test.
class LsmProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("STRATA_PROFILE")) saved_ = v;
    ::unsetenv("STRATA_PROFILE");
  }
  void TearDown() override {
    if (!saved_.empty()) ::setenv("STRATA_PROFILE", saved_.c_str(), 1);
  }
  static Options AutoOptions() {
    Options o = testing::TinyOptions();
    o.profile = DiskProfile::kAuto;
    o.compaction_style = CompactionStyle::kProfileDefault;
    return o;
  }
  std::string saved_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(LsmProfileTest, DetectedOnceStoredAndUsedByLaterOpens) {
  strata::testing::ScratchDir dir;
  const std::string db_path = dir.Join("db");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(AutoOptions(), db_path, &db).ok());
  ASSERT_TRUE(db->Put({}, "k", "v").ok());
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  const std::string profile_path = db_path + "/PROFILE";
  ResolvedDiskProfile stored;
  ASSERT_TRUE(io::DecodeProfileFile(ReadAll(profile_path), profile_path, &stored).ok());

  // A stored hdd decision (as a probe of a loop device might make) is what
  // the next auto open uses: hdd's size-tiered compaction.
  ResolvedDiskProfile hdd = stored;
  hdd.profile = DiskProfile::kHdd;
  hdd.source = "detected";
  hdd.reason = "auto: test decision";
  std::ofstream(profile_path, std::ios::trunc | std::ios::binary) << io::EncodeProfileFile(hdd);
  ASSERT_TRUE(Open(AutoOptions(), db_path, &db).ok());
  auto* impl = static_cast<DBImpl*>(db.get());
  EXPECT_EQ(impl->compaction_style(), CompactionStyle::kSizeTiered);
  EXPECT_NE(impl->profile_description().find("hdd (stored): auto: test decision"),
            std::string::npos)
      << impl->profile_description();
  EXPECT_EQ(testing::Property(db->Stats(), "lsm.profile.hdd"), 1u);
  EXPECT_EQ(testing::GetOrStatus(db.get(), "k"), "v");
  ASSERT_TRUE(db->Close().ok());
  db.reset();

  // An explicit profile wins over the stored one and does not replace it.
  Options ssd = AutoOptions();
  ssd.profile = DiskProfile::kSsd;
  ASSERT_TRUE(Open(ssd, db_path, &db).ok());
  EXPECT_EQ(static_cast<DBImpl*>(db.get())->compaction_style(), CompactionStyle::kLeveled);
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  EXPECT_EQ(ReadAll(profile_path), io::EncodeProfileFile(hdd));
}

TEST_F(LsmProfileTest, BadStoredProfileFailsTheOpenAndIsKept) {
  strata::testing::ScratchDir dir;
  const std::string db_path = dir.Join("db");
  std::unique_ptr<Engine> db;
  ASSERT_TRUE(Open(AutoOptions(), db_path, &db).ok());
  ASSERT_TRUE(db->Close().ok());
  db.reset();
  const std::string profile_path = db_path + "/PROFILE";
  std::string bytes = ReadAll(profile_path);
  ASSERT_FALSE(bytes.empty());
  bytes[bytes.find("profile ") + 8] ^= 0x20;  // ssd -> Ssd / hdd -> Hdd
  std::ofstream(profile_path, std::ios::trunc | std::ios::binary) << bytes;
  for (const bool read_only : {false, true}) {
    Options o = AutoOptions();
    o.read_only = read_only;
    const Status s = Open(o, db_path, &db);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find(profile_path + " @ "), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(ReadAll(profile_path), bytes);
  // An override opens it (PROFILE is not read), and leaves it alone.
  Options hdd = AutoOptions();
  hdd.profile = DiskProfile::kHdd;
  ASSERT_TRUE(Open(hdd, db_path, &db).ok());
  ASSERT_TRUE(db->Close().ok());
  EXPECT_EQ(ReadAll(profile_path), bytes);
}

// Forwards to the default file system and records, per table file created,
// whether it was asked for O_DIRECT.
class RecordingFileSystem final : public io::FileSystem {
 public:
  RecordingFileSystem() : base_(io::DefaultFileSystem()) {}
  std::pair<int, int> TablesDirectAndBuffered() {
    std::lock_guard lock(mu_);
    return {direct_, buffered_};
  }

  Status NewWritableFile(const std::string& path, const io::FileOptions& options,
                         std::unique_ptr<io::WritableFile>* file) override {
    if (path.ends_with(".sst")) {
      std::lock_guard lock(mu_);
      ++(options.direct ? direct_ : buffered_);
    }
    return base_->NewWritableFile(path, options, file);
  }
  Status ReopenWritableFile(const std::string& path, const io::FileOptions& options,
                            std::unique_ptr<io::WritableFile>* file) override {
    return base_->ReopenWritableFile(path, options, file);
  }
  Status NewRandomAccessFile(const std::string& path, const io::FileOptions& options,
                             std::unique_ptr<io::RandomAccessFile>* file) override {
    return base_->NewRandomAccessFile(path, options, file);
  }
  Status NewSequentialFile(const std::string& path, const io::FileOptions& options,
                           std::unique_ptr<io::SequentialFile>* file) override {
    return base_->NewSequentialFile(path, options, file);
  }
  Status CreateDir(const std::string& path) override { return base_->CreateDir(path); }
  Status ListDir(const std::string& path, std::vector<std::string>* names) override {
    return base_->ListDir(path, names);
  }
  Status SyncDir(const std::string& path) override { return base_->SyncDir(path); }
  Status RemoveDir(const std::string& path) override { return base_->RemoveDir(path); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status LinkFile(const std::string& from, const std::string& to) override {
    return base_->LinkFile(from, to);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status Lock(const std::string& path, std::unique_ptr<io::FileLock>* lock) override {
    return base_->Lock(path, lock);
  }
  std::string_view name() const override { return "recording"; }

 private:
  std::shared_ptr<io::FileSystem> base_;
  std::mutex mu_;
  int direct_ = 0;
  int buffered_ = 0;
};

// Options::use_direct_io: unset follows the profile (hdd: flush and
// compaction outputs with O_DIRECT); set, it wins. The tables read back.
TEST_F(LsmProfileTest, DirectIoForTablesFollowsTheProfileUnlessSet) {
  struct Case {
    DiskProfile profile;
    std::optional<bool> use_direct_io;
    bool direct;
  };
  const Case cases[] = {{DiskProfile::kHdd, std::nullopt, true},
                        {DiskProfile::kSsd, std::nullopt, false},
                        {DiskProfile::kSsd, true, true},
                        {DiskProfile::kHdd, false, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("{} use_direct_io={}", DiskProfileName(c.profile),
                             c.use_direct_io ? (*c.use_direct_io ? "true" : "false") : "unset"));
    strata::testing::ScratchDir dir;
    auto fs = std::make_shared<RecordingFileSystem>();
    Options o = testing::TinyOptions();
    o.profile = c.profile;
    o.use_direct_io = c.use_direct_io;
    o.file_system = fs;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(db->Put({}, fmt::format("key{:06}", i * 7919 % 3000), std::string(100, 'v')).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
    ASSERT_TRUE(db->CompactAll().ok());
    ASSERT_TRUE(db->Close().ok());
    db.reset();
    const auto [direct, buffered] = fs->TablesDirectAndBuffered();
    EXPECT_GT(c.direct ? direct : buffered, 1);
    EXPECT_EQ(c.direct ? buffered : direct, 0);
    ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
    for (int i = 0; i < 3000; i += 97) {
      EXPECT_EQ(testing::GetOrStatus(db.get(), fmt::format("key{:06}", i)), std::string(100, 'v'));
    }
    ASSERT_TRUE(db->Close().ok());
  }
}


// A small cache keeps slices of at least 512 KiB and 8 blocks: with the hdd
// profile's 64 KiB blocks, 16 shards of 1 MiB (64 KiB slices) cached nothing.
TEST(BlockCacheShardsTest, SmallCachesUseFewerShards) {
  EXPECT_EQ(BlockCacheShardBitsFor(64 << 20, 4096, 4), 4);
  EXPECT_EQ(BlockCacheShardBitsFor(64 << 20, 64 << 10, 4), 4);
  EXPECT_EQ(BlockCacheShardBitsFor(1 << 20, 4096, 4), 1);
  EXPECT_EQ(BlockCacheShardBitsFor(1 << 20, 64 << 10, 4), 0);
  EXPECT_EQ(BlockCacheShardBitsFor(32 << 10, 4096, 8), 0);
  EXPECT_EQ(BlockCacheShardBitsFor(64 << 20, 4096, 0), 0);
  // The slice that results always holds 8 blocks (or it is the whole cache).
  for (size_t cache : {size_t{1} << 20, size_t{8} << 20, size_t{256} << 20}) {
    for (size_t block : {size_t{4096}, size_t{65536}}) {
      const int bits = BlockCacheShardBitsFor(cache, block, kBlockCacheShardBitsMax);
      EXPECT_TRUE(bits == 0 || (cache >> bits) >= 8 * block) << cache << " " << block;
    }
  }
}


// The hdd profile reads compaction inputs 2 MiB ahead from the first block:
// on the (unpaced) device model the same compaction of the same tables (same
// block size and compaction style; only the profile differs) issues a read
// per input table (of ~128 blocks) instead of one per doubling read-ahead.
TEST(CompactionReadaheadTest, HddProfileReadsEachInputInOneRequest) {
  uint64_t reads[2] = {0, 0};
  uint64_t bytes[2] = {0, 0};
  int i = 0;
  for (DiskProfile profile : {DiskProfile::kHdd, DiskProfile::kSsd}) {
    SCOPED_TRACE(DiskProfileName(profile));
    strata::testing::ScratchDir dir;
    auto fs = std::make_shared<io::DeviceModelFileSystem>(io::DefaultFileSystem(),
                                                          io::DeviceModelConfig::Hdd());
    Options o = testing::TinyOptions();
    o.profile = profile;
    o.l0_compaction_trigger = 100;  // only CompactAll compacts
    o.compression = Compression::kNone;  // ~2.3 MB of input to read
    o.memtable_bytes = 1 << 20;          // tables of ~512 KiB: 128 blocks each
    o.file_system = fs;
    std::unique_ptr<Engine> db;
    ASSERT_TRUE(Open(o, dir.Join("db"), &db).ok());
    for (int k = 0; k < 20000; ++k) {
      ASSERT_TRUE(db->Put({}, fmt::format("key{:06}", k * 7919 % 20000), std::string(100, 'v')).ok());
    }
    ASSERT_TRUE(db->Flush().ok());
    fs->ResetStats();
    ASSERT_TRUE(db->CompactAll().ok());
    reads[i] = fs->stats().read_requests;
    bytes[i] = fs->stats().bytes_read;
    ASSERT_TRUE(db->Close().ok());
    i++;
  }
  ASSERT_GT(bytes[0], 2000u * 1024);  // the inputs were read
  // (Both also read the outputs' footer, index and filter when they open.)
  EXPECT_GT(reads[1], 2 * reads[0]) << "hdd " << reads[0] << " ssd " << reads[1];
}

}  // namespace
}  // namespace strata::lsm
