// Growable segments (FORMAT.md, version 3): segment files start at one chunk
// and grow by chunks as records reach the end of their allocation; the
// writer rolls over at segment_target_bytes; released segments are recycled
// up to recycled_segments_max. Tiny sizes drive growth, rollover, release
// and reuse hundreds of times; truncation stays detectable.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "core/checksum.h"
#include "core/coding.h"
#include "io/fault_file_system.h"
#include "tests/testing/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal {
namespace {

using testing::Payload;
using testing::ReplayAll;
using testing::SegmentPath;

LogOptions GrowOptions(SegmentPreparation prep) {
  LogOptions options;
  options.segment_bytes = 256 * kKiB;
  options.segment_chunk_bytes = 4 * kKiB;
  options.segment_target_bytes = 64 * kKiB;
  options.recycled_segments_max = 1;
  options.preparation = prep;
  return options;
}

struct DirStats {
  uint64_t bytes = 0;
  uint64_t segments = 0;
  uint64_t free = 0;
  uint64_t largest = 0;
};

DirStats StatDir(const std::string& dir) {
  DirStats out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    uint64_t seq = 0;
    const FileKind kind = ParseFileName(e.path().filename().string(), &seq);
    // (A .tmp file may be renamed by the preparer meanwhile.)
    if (kind == FileKind::kOther || kind == FileKind::kTemp) continue;
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(e.path(), ec);
    if (ec) continue;
    out.bytes += size;
    out.largest = std::max(out.largest, size);
    if (kind == FileKind::kSegment) out.segments++;
    if (kind == FileKind::kFree) out.free++;
  }
  return out;
}

// A model comparison over many rounds: random record sizes (some larger than
// the target, one up to most of a segment), random syncs and releases, and
// reopens; every record comes back, files stay within their limits, and the
// rare paths ran many times.
TEST(WalGrowth, GrowRollReleaseReuseMatchesModel) {
  const uint64_t seed = strata::testing::TestSeed(15);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  for (auto prep : {SegmentPreparation::kRecycle, SegmentPreparation::kRecycleElseFallocate,
                    SegmentPreparation::kFallocate}) {
    SCOPED_TRACE(fmt::format("prep {}", static_cast<int>(prep)));
    std::mt19937_64 rng(seed);
    strata::testing::ScratchDir dir;
    const LogOptions options = GrowOptions(prep);
    std::map<uint64_t, std::string> model;
    uint64_t released_below = 1;
    LogStats total;
    for (int round = 0; round < 8; ++round) {
      std::unique_ptr<Log> log;
      Status s = Log::Open(options, dir.path(), &log);
      ASSERT_TRUE(s.ok()) << s.ToString();
      const testing::Records got = ReplayAll(log.get(), released_below);
      ASSERT_EQ(got.size(), static_cast<size_t>(std::distance(
                                model.lower_bound(released_below), model.end())));
      for (const auto& [lsn, payload] : got) ASSERT_EQ(model.at(lsn), payload) << lsn;
      for (int i = 0; i < 400; ++i) {
        const uint64_t r = rng() % 100;
        const size_t bytes = r < 2 ? 100 * kKiB + rng() % (100 * kKiB)
                                   : (r < 10 ? 4 * kKiB + rng() % (8 * kKiB) : rng() % 700);
        const std::string p = Payload(rng(), bytes);
        auto lsn = log->Append(p, rng() % 4 == 0);
        ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
        model[*lsn] = p;
        if (rng() % 40 == 0) {
          const uint64_t below = *lsn - rng() % 50;
          ASSERT_TRUE(log->ReleaseBefore(below).ok());
          released_below = std::max(released_below, log->ReleaseBoundary(below));
          model.erase(model.begin(), model.lower_bound(released_below));
        }
        const DirStats d = StatDir(dir.path());
        ASSERT_LE(d.largest, options.segment_bytes);
        ASSERT_LE(d.free, options.recycled_segments_max);
      }
      const LogStats st = log->stats();
      total.segment_growths += st.segment_growths;
      total.segments_prepared += st.segments_prepared;
      total.segments_recycled += st.segments_recycled;
      total.segments_released += st.segments_released;
    }
    EXPECT_GT(total.segment_growths, 200u);
    EXPECT_GT(total.segments_prepared, 50u);
    EXPECT_GT(total.segments_released, 30u);
    if (Recycles(prep)) {
      EXPECT_GT(total.segments_recycled, 10u);
    }
  }
}

// A segment file is one chunk past its header when it gets its name, and
// grows only as far as its records need.
TEST(WalGrowth, SegmentFilesGrowWithTheirRecords) {
  strata::testing::ScratchDir dir;
  LogOptions options = GrowOptions(SegmentPreparation::kZeroFill);
  options.segment_target_bytes = 0;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
  const std::string seg = SegmentPath(dir.path(), 1);
  EXPECT_EQ(std::filesystem::file_size(seg), kSegmentHeaderBytes + options.segment_chunk_bytes);
  uint64_t end = kSegmentHeaderBytes;
  for (int i = 0; i < 100; ++i) {
    auto loc = log->AppendWithLocation(Payload(i, 1000), /*sync=*/i % 10 == 0);
    ASSERT_TRUE(loc.ok());
    ASSERT_EQ(loc->segment_seq, 1u);
    end = loc->offset + RecordBytes(loc->payload_bytes);
    const uint64_t size = std::filesystem::file_size(seg);
    EXPECT_GE(size, end + kSealRecordBytes);
    EXPECT_LE(size, end + kGrowRecordBytes + kSealRecordBytes + options.segment_chunk_bytes);
  }
  EXPECT_GT(log->stats().segment_growths, 20u);
  log.reset();
  ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
  EXPECT_EQ(ReplayAll(log.get()).size(), 100u);
}

// Truncating a grown segment file anywhere below its durable size loses
// records (or could have), and strict Open says so; the grow records carry
// the size forward as the header did for full-size segments.
TEST(WalGrowth, TruncatedGrownSegmentIsCorruption) {
  strata::testing::ScratchDir dir;
  LogOptions options = GrowOptions(SegmentPreparation::kZeroFill);
  options.segment_target_bytes = 0;
  std::vector<RecordLocation> where;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    for (int i = 0; i < 150; ++i) {
      auto loc = log->AppendWithLocation(Payload(i, 700), /*sync=*/true);
      ASSERT_TRUE(loc.ok());
      ASSERT_EQ(loc->segment_seq, 1u);
      where.push_back(*loc);
    }
  }
  const std::string seg = SegmentPath(dir.path(), 1);
  const std::string copy = dir.Join("copy");
  std::filesystem::copy_file(seg, copy);
  const uint64_t size = std::filesystem::file_size(seg);
  const uint64_t end = where.back().offset + RecordBytes(where.back().payload_bytes);
  ASSERT_GT(size, 8 * options.segment_chunk_bytes);  // it grew many times
  // Every record boundary and every chunk boundary, and points inside records.
  std::vector<uint64_t> cuts;
  for (const RecordLocation& w : where) {
    cuts.push_back(w.offset);
    cuts.push_back(w.offset + 33);
  }
  for (uint64_t at = kSegmentHeaderBytes; at < size; at += options.segment_chunk_bytes) {
    cuts.push_back(at);
  }
  cuts.push_back(end);
  cuts.push_back(size - kDirectBlockBytes);
  int checked = 0;
  for (uint64_t cut : cuts) {
    if (cut >= size || cut <= kSegmentHeaderBytes) continue;
    SCOPED_TRACE(fmt::format("cut at {} of {}", cut, size));
    std::filesystem::copy_file(copy, seg, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(seg, cut);
    std::unique_ptr<Log> log;
    Status s = Log::Open(options, dir.path(), &log);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
    ++checked;
  }
  EXPECT_GT(checked, 250);
  // Point-in-time keeps the records before a cut and continues.
  std::filesystem::copy_file(copy, seg, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(seg, where[100].offset);
  options.recovery = WalRecoveryMode::kPointInTime;
  std::unique_ptr<Log> log;
  RecoveryReport report;
  ASSERT_TRUE(Log::Open(options, dir.path(), &log, &report).ok());
  EXPECT_TRUE(report.point_in_time_cut);
  EXPECT_EQ(log->next_lsn(), where[100].lsn);
  ASSERT_TRUE(log->Append("after", true).ok());
  log.reset();
  options.recovery = WalRecoveryMode::kStrict;
  ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
  EXPECT_EQ(ReplayAll(log.get()).size(), 101u);
}

// Power cuts at random points of a log that grows every few records: only
// unsynced records go, strict Open never fails, and a cut between a growth's
// allocation and its grow record leaves a file bigger than declared, which
// is fine.
TEST(WalGrowth, PowerCutsDuringGrowthOpenCleanly) {
  const uint64_t seed = strata::testing::TestSeed(151);
  SCOPED_TRACE(fmt::format("seed={}", seed));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  for (auto prep : {SegmentPreparation::kRecycle, SegmentPreparation::kRecycleElseFallocate}) {
    LogOptions options = GrowOptions(prep);
    options.file_system = fs;
    const std::string path = dir.Join(fmt::format("log{}", static_cast<int>(prep)));
    std::map<uint64_t, std::string> model;
    uint64_t durable = 0;
    uint64_t released_below = 1;
    uint64_t growths = 0;
    for (int round = 0; round < 60; ++round) {
      SCOPED_TRACE(fmt::format("prep {} round {}", static_cast<int>(prep), round));
      std::unique_ptr<Log> log;
      Status s = Log::Open(options, path, &log);
      ASSERT_TRUE(s.ok()) << s.ToString();
      uint64_t last = 0;
      s = log->Replay(released_below, [&](uint64_t lsn, std::string_view payload) -> Status {
        if (model.count(lsn) == 0 || model[lsn] != payload) {
          return Status::Corruption(fmt::format("lsn {}: unexpected payload", lsn));
        }
        last = lsn;
        return Status::Ok();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_GE(last, durable);
      model.erase(model.upper_bound(last), model.end());
      // Cut after a random number of appends: often right around a growth.
      std::map<uint64_t, RecordLocation> where;
      for (uint64_t i = 0, n = 1 + rng() % 40; i < n; ++i) {
        const std::string p = Payload(rng(), rng() % 3 == 0 ? 3000 + rng() % 6000 : rng() % 500);
        const bool sync = rng() % 3 == 0;
        auto loc = log->AppendWithLocation(p, sync);
        ASSERT_TRUE(loc.ok()) << loc.status().ToString();
        model[loc->lsn] = p;
        where[loc->lsn] = *loc;
        if (sync) durable = loc->lsn;
        if (rng() % 30 == 0 && durable > 10) {
          ASSERT_TRUE(log->ReleaseBefore(durable - 10).ok());
          released_below = std::max(released_below, log->ReleaseBoundary(durable - 10));
        }
      }
      growths += log->stats().segment_growths;
      // A disk may persist pages of unsynced writes without the metadata of
      // the file (its size) that no fdatasync committed: put back a
      // sector-aligned prefix of the newest segment's unsynced bytes, but
      // only inside the size that survived. A grow record among them must
      // not declare more than that (the writer syncs each growth first).
      const RecordLocation newest = where.rbegin()->second;
      std::string unsynced;
      uint64_t from = kSegmentHeaderBytes;
      if (newest.lsn > durable) {
        auto d = where.find(durable);
        if (d != where.end() && d->second.segment_seq == newest.segment_seq) {
          from = d->second.offset + RecordBytes(d->second.payload_bytes);
        }
        unsynced.resize(newest.offset + RecordBytes(newest.payload_bytes) - from);
        std::unique_ptr<io::RandomAccessFile> f;
        ASSERT_TRUE(fs->base()
                        ->NewRandomAccessFile(io::JoinPath(path, SegmentFileName(newest.segment_seq)),
                                              {}, &f)
                        .ok());
        size_t got = 0;
        ASSERT_TRUE(f->Read(from, unsynced.size(), unsynced.data(), &got).ok());
        ASSERT_EQ(got, unsynced.size());
      }
      ASSERT_TRUE(fs->DropUnsyncedData().ok());
      log.reset();
      const std::string seg = io::JoinPath(path, SegmentFileName(newest.segment_seq));
      if (!unsynced.empty() && std::filesystem::exists(seg)) {
        const uint64_t size = std::filesystem::file_size(seg);
        uint64_t keep = (rng() % (unsynced.size() + 1)) / 512 * 512;
        keep = from >= size ? 0 : std::min(keep, size - from);
        std::unique_ptr<io::WritableFile> f;
        ASSERT_TRUE(fs->base()->ReopenWritableFile(seg, {}, &f).ok());
        ASSERT_TRUE(f->WriteAt(from, std::string_view(unsynced).substr(0, keep)).ok());
        ASSERT_TRUE(f->Sync().ok());
      }
    }
    EXPECT_GT(growths, 60u);
  }
}

// An old (version 2) full-size segment is continued without growth records;
// new segments after it are version 3 and grow.
TEST(WalGrowth, FullSizeSegmentsOfVersion2AreContinued) {
  strata::testing::ScratchDir dir;
  LogOptions options = GrowOptions(SegmentPreparation::kZeroFill);
  options.segment_chunk_bytes = options.segment_bytes;  // full size: as version 2 wrote them
  options.segment_target_bytes = 0;
  {
    std::unique_ptr<Log> log;
    ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->Append(Payload(i, 500), true).ok());
    EXPECT_EQ(log->stats().segment_growths, 0u);
  }
  // Rewrite the header as version 2 (no allocated field, checksum at 32).
  const std::string seg = SegmentPath(dir.path(), 1);
  std::string header = testing::ReadFile(seg).substr(0, 48);
  EncodeFixed32(header.data() + 8, 2);
  EncodeFixed64(header.data() + 32, Checksum64(header.data(), 32));
  EncodeFixed64(header.data() + 40, 0);
  testing::WriteFileAt(seg, 0, header);
  options = GrowOptions(SegmentPreparation::kZeroFill);
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
  EXPECT_EQ(ReplayAll(log.get()).size(), 20u);
  for (int i = 20; i < 700; ++i) ASSERT_TRUE(log->Append(Payload(i, 500), i % 7 == 0).ok());
  EXPECT_GT(log->stats().segment_growths, 0u);
  EXPECT_GT(log->segment_count(), 1u);
  log.reset();
  ASSERT_TRUE(Log::Open(options, dir.path(), &log).ok());
  EXPECT_EQ(ReplayAll(log.get()).size(), 700u);
  // A version 2 segment cut short is still caught by its header.
  log.reset();
  std::filesystem::resize_file(seg, options.segment_bytes - kDirectBlockBytes);
  Status s = Log::Open(options, dir.path(), &log);
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace strata::wal
