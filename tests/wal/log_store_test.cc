// LogStoreHost / LogStore against an in-memory model: random appends (with
// conflicting-tail overwrites), suffix truncations, prefix compactions,
// resets, hard states and reopens across many groups, fixed seeds.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "core/coding.h"
#include "io/fault_file_system.h"
#include "strata/log_store.h"
#include "tests/testing/gate_file_system.h"
#include "tests/testing/test_util.h"
#include "wal/limits.h"
#include "wal/log.h"
#include "wal/log_store.h"
#include "wal/log_store_record.h"

namespace strata::wal {
namespace {

LogStoreHostOptions SmallHostOptions() {
  LogStoreHostOptions options;
  options.segment_bytes = kSegmentBytesMin;
  return options;
}

// Appends entries [from, to] of 1000 bytes at `term`, one per call, and
// compacts to 10 below every hundredth: whole segments become releasable.
void AppendCompactingEveryHundred(LogStore* log, uint64_t from, uint64_t to, uint64_t term) {
  const std::string data(1000, 'd');
  for (uint64_t i = from; i <= to; ++i) {
    const std::vector<LogEntry> one = {LogEntry{i, term, data}};
    ASSERT_TRUE(log->Append(one, false).ok());
    if (i % 100 == 0) {
      ASSERT_TRUE(log->CompactPrefix(i - 10).ok());
    }
  }
}

// The model of one group's log.
struct ModelLog {
  uint64_t first = 1;
  uint64_t prev_term = 0;
  std::vector<LogEntry> entries;  // entries[k].index == first + k
  HardState hard;
  LogConfiguration configuration;
  uint64_t last() const { return first + entries.size() - 1; }
};

std::string Data(std::mt19937_64& rng, uint64_t index) {
  std::string d = fmt::format("e{}:", index);
  d.append(rng() % 200, static_cast<char>('a' + rng() % 26));
  return d;
}

void ExpectSame(LogStore* store, const ModelLog& model, uint64_t group) {
  SCOPED_TRACE(fmt::format("group {}", group));
  ASSERT_EQ(store->FirstIndex(), model.first);
  ASSERT_EQ(store->LastIndex(), model.last());
  EXPECT_EQ(store->GetHardState(), model.hard);
  auto t = store->Term(model.first - 1);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, model.prev_term);
  EXPECT_EQ(store->GetSnapshotMeta(),
            (SnapshotMeta{model.first - 1, model.prev_term, model.configuration}));
  std::vector<LogEntry> got;
  ASSERT_TRUE(store->Entries(model.first, model.last() + 1, UINT64_MAX, &got).ok());
  ASSERT_EQ(got.size(), model.entries.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].index, model.entries[k].index);
    ASSERT_EQ(got[k].term, model.entries[k].term);
    ASSERT_EQ(got[k].data, model.entries[k].data);
    ASSERT_EQ(got[k].type, model.entries[k].type);
  }
}

TEST(LogStore, RandomOpsMatchModelAcrossReopens) {
  for (uint64_t default_seed : {1, 2, 3}) {
    const uint64_t seed = strata::testing::TestSeed(default_seed);
    SCOPED_TRACE(fmt::format("seed={}", seed));
    std::mt19937_64 rng(seed);
    strata::testing::ScratchDir dir;
    std::unique_ptr<LogStoreHost> host;
    ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
    constexpr uint64_t kGroups = 5;
    std::map<uint64_t, ModelLog> models;
    for (int op = 0; op < 1500; ++op) {
      const uint64_t group = 1 + rng() % kGroups;
      ModelLog& m = models[group];
      LogStore* store = host->Group(group);
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 55) {  // append, sometimes overwriting a conflicting tail
        uint64_t from = m.last() + 1;
        if (rng() % 5 == 0 && !m.entries.empty()) from = m.first + rng() % m.entries.size();
        const uint64_t term = m.hard.term + 1 + rng() % 3;
        std::vector<LogEntry> batch;
        // Mostly commands; now and then a batch with barriers and
        // configuration changes (written in the typed record kind).
        const bool typed = rng() % 4 == 0;
        for (uint64_t k = 0, n = 1 + rng() % 8; k < n; ++k) {
          const auto type = typed ? static_cast<LogEntryType>(1 + rng() % 3)
                                  : LogEntryType::kCommand;
          batch.push_back(LogEntry{from + k, term, Data(rng, from + k), type});
        }
        ASSERT_TRUE(store->Append(batch, rng() % 16 == 0).ok());
        m.entries.resize(from - m.first);
        m.entries.insert(m.entries.end(), batch.begin(), batch.end());
      } else if (kind < 65) {
        const uint64_t at = m.first + rng() % (m.entries.size() + 1);
        ASSERT_TRUE(store->TruncateSuffix(at).ok());
        m.entries.resize(at - m.first);
      } else if (kind < 80) {
        if (m.entries.empty()) continue;
        const uint64_t upto = m.first + rng() % m.entries.size();
        if (rng() % 3 == 0) {  // a snapshot with its configuration
          m.configuration = LogConfiguration{upto, fmt::format("conf of {} at {}", group, upto)};
          ASSERT_TRUE(store->CompactPrefix(upto, m.configuration).ok());
        } else {
          ASSERT_TRUE(store->CompactPrefix(upto).ok());
        }
        m.prev_term = m.entries[upto - m.first].term;
        m.entries.erase(m.entries.begin(), m.entries.begin() + (upto + 1 - m.first));
        m.first = upto + 1;
      } else if (kind < 84) {
        const uint64_t last = m.last() + rng() % 20;
        const uint64_t term = m.hard.term + 1;
        if (rng() % 2 == 0) {
          m.configuration = LogConfiguration{last, std::string(rng() % 300, 'c')};
          ASSERT_TRUE(store->Reset(last, term, m.configuration).ok());
        } else {
          ASSERT_TRUE(store->Reset(last, term).ok());
        }
        m.entries.clear();
        m.first = last + 1;
        m.prev_term = term;
      } else if (kind < 94) {
        HardState hs{m.hard.term + rng() % 2, rng() % 5, m.hard.commit + rng() % 3};
        ASSERT_TRUE(store->SetHardState(hs).ok());
        m.hard = hs;
      } else if (kind < 97) {
        ASSERT_TRUE(host->Sync().ok());
        host.reset();
        ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
        for (const auto& [g, model] : models) ExpectSame(host->Group(g), model, g);
      } else {
        ExpectSame(store, m, group);
      }
      if (std::getenv("LOGSTORE_DEBUG")) {
        ExpectSame(host->Group(group), m, group);
        if (::testing::Test::HasFailure()) {
          fprintf(stderr, "op %d kind %d\n", op, kind);
          return;
        }
      }
      if (::testing::Test::HasFatalFailure()) return;
    }
    host.reset();
    ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
    for (const auto& [g, model] : models) ExpectSame(host->Group(g), model, g);
  }
}

// Entry types: a batch of commands keeps the record kind of before entry
// types (1), a batch with any other type uses kind 4; both decode with their
// types. An unknown type is InvalidArgument on append (nothing written) and
// Corruption in a record.
TEST(LogStore, EntryTypesRoundTripAndUnknownOnesAreRefused) {
  std::string payload;
  std::vector<uint32_t> offsets;
  const std::vector<LogEntry> commands = {LogEntry{5, 2, "a"}, LogEntry{6, 2, "b"}};
  EncodeEntries(9, commands, &payload, &offsets);
  EXPECT_EQ(payload[0], static_cast<char>(StoreRecordKind::kEntries));
  const std::vector<LogEntry> mixed = {LogEntry{5, 2, "a"},
                                       LogEntry{6, 2, "", LogEntryType::kBarrier},
                                       LogEntry{7, 3, "conf", LogEntryType::kConfigChange}};
  EncodeEntries(9, mixed, &payload, &offsets);
  ASSERT_EQ(payload[0], static_cast<char>(StoreRecordKind::kTypedEntries));
  StoreRecord record;
  ASSERT_TRUE(DecodeStoreRecord(payload, "test", &record).ok());
  ASSERT_EQ(record.entries.size(), 3u);
  EXPECT_EQ(record.entries[0].type, LogEntryType::kCommand);
  EXPECT_EQ(record.entries[1].type, LogEntryType::kBarrier);
  EXPECT_EQ(record.entries[2].type, LogEntryType::kConfigChange);
  EXPECT_EQ(record.entries[2].data, "conf");
  // The first entry's type byte follows kind, group, index and count.
  std::string bad = payload;
  bad[4] = 9;
  Status s = DecodeStoreRecord(bad, "test", &record);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("entry 5: unknown type 9"), std::string::npos) << s.ToString();

  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  LogStore* log = host->Group(1);
  ASSERT_TRUE(log->Append(std::vector<LogEntry>{LogEntry{1, 1, "x"}}, true).ok());
  std::vector<LogEntry> unknown = {LogEntry{2, 1, "y", static_cast<LogEntryType>(0)}};
  EXPECT_TRUE(log->Append(unknown, true).IsInvalidArgument());
  EXPECT_EQ(log->LastIndex(), 1u);
  const std::vector<LogEntry> barrier = {LogEntry{2, 1, "", LogEntryType::kBarrier}};
  ASSERT_TRUE(log->Append(barrier, true).ok());
  host.reset();
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  LogEntry e;
  ASSERT_TRUE(host->Group(1)->Entry(2, &e).ok());
  EXPECT_EQ(e.type, LogEntryType::kBarrier);
  ASSERT_TRUE(host->Group(1)->Entry(1, &e).ok());
  EXPECT_EQ(e.type, LogEntryType::kCommand);
}

// The snapshot's configuration travels with Reset (synced) and CompactPrefix
// in the same record; compactions that store none keep it, also when their
// meta records are rewritten at the head of the log before a release; a
// power cut after a sync keeps it; a truncated one is Corruption.
TEST(LogStore, SnapshotConfigurationIsStoredWithResetAndCompaction) {
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  LogStoreHostOptions options = SmallHostOptions();
  options.file_system = fs;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  LogStore* log = host->Group(3);
  const LogConfiguration installed{40, "three voters: 1 2 3"};
  ASSERT_TRUE(log->Reset(40, 6, installed).ok());
  host.reset();
  ASSERT_TRUE(fs->DropUnsyncedData().ok());  // Reset is durable when it returns
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  log = host->Group(3);
  EXPECT_EQ(log->GetSnapshotMeta(), (SnapshotMeta{40, 6, installed}));
  ASSERT_NO_FATAL_FAILURE(AppendCompactingEveryHundred(log, 41, 640, 7));
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  ASSERT_GT(impl->log()->stats().segments_released, 3u);  // meta rewritten at the head
  EXPECT_EQ(log->GetSnapshotMeta(), (SnapshotMeta{590, 7, installed}));
  const LogConfiguration grown{600, "four voters: 1 2 3 4"};
  ASSERT_TRUE(log->CompactPrefix(620, grown).ok());
  ASSERT_TRUE(host->Sync().ok());
  host.reset();
  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  EXPECT_EQ(host->Group(3)->GetSnapshotMeta(), (SnapshotMeta{620, 7, grown}));
  EXPECT_EQ(host->Group(3)->LastIndex(), 640u);

  GroupMeta meta;
  meta.group = 3;
  meta.first_index = 5;
  meta.configuration = grown;
  std::string payload;
  EncodeMeta(meta, &payload);
  ASSERT_EQ(payload[0], static_cast<char>(StoreRecordKind::kConfiguredMeta));
  StoreRecord record;
  ASSERT_TRUE(DecodeStoreRecord(payload, "test", &record).ok());
  EXPECT_EQ(record.meta.configuration, grown);
  Status s = DecodeStoreRecord(payload.substr(0, payload.size() - 1), "test", &record);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  meta.configuration = LogConfiguration{};
  EncodeMeta(meta, &payload);
  EXPECT_EQ(payload[0], static_cast<char>(StoreRecordKind::kMeta));  // as before configurations
}

// Checksum-valid records that leave a huge index gap (entries at 1, then
// at 2^40; a compaction point far below the first entry) are Corruption
// naming the record, not a replay that materialises 2^40 placeholders.
TEST(LogStore, ReplayRefusesAHugeIndexGap) {
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant);
    strata::testing::ScratchDir dir;
    {
      LogOptions lo;
      lo.segment_bytes = kSegmentBytesMin;
      std::unique_ptr<Log> log;
      ASSERT_TRUE(Log::Open(lo, dir.path(), &log).ok());
      std::vector<LogEntry> first = {LogEntry{variant == 0 ? 1 : uint64_t{1} << 40, 1, "a"}};
      std::string payload;
      std::vector<uint32_t> offsets;
      EncodeEntries(7, first, &payload, &offsets);
      ASSERT_TRUE(log->Append(payload, true).ok());
      payload.clear();
      if (variant == 0) {
        std::vector<LogEntry> far = {LogEntry{uint64_t{1} << 40, 1, "b"}};
        EncodeEntries(7, far, &payload, &offsets);
      } else {
        GroupMeta meta;
        meta.group = 7;
        meta.first_index = 1;
        EncodeMeta(meta, &payload);
      }
      ASSERT_TRUE(log->Append(payload, true).ok());
    }
    std::unique_ptr<LogStoreHost> host;
    const Status s = OpenLogStoreHost(SmallHostOptions(), dir.path(), &host);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find("missing entries"), std::string::npos) << s.ToString();
  }
}

TEST(LogStore, InvalidArgumentsLoseNothing) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  LogStore* log = host->Group(7);
  EXPECT_EQ(log->FirstIndex(), 1u);
  EXPECT_EQ(log->LastIndex(), 0u);
  std::vector<LogEntry> batch;
  for (uint64_t i = 1; i <= 10; ++i) batch.push_back(LogEntry{i, 1, fmt::format("v{}", i)});
  ASSERT_TRUE(log->Append(batch, true).ok());
  ASSERT_TRUE(log->CompactPrefix(3).ok());
  LogEntry e;
  const std::vector<LogEntry> gap = {LogEntry{12, 1, "x"}};
  EXPECT_TRUE(log->Append(gap, true).IsInvalidArgument());
  const std::vector<LogEntry> below = {LogEntry{3, 1, "x"}};
  EXPECT_TRUE(log->Append(below, true).IsInvalidArgument());
  const std::vector<LogEntry> holes = {LogEntry{11, 1, "x"}, LogEntry{13, 1, "y"}};
  EXPECT_TRUE(log->Append(holes, true).IsInvalidArgument());
  EXPECT_TRUE(log->TruncateSuffix(3).IsInvalidArgument());
  EXPECT_TRUE(log->TruncateSuffix(12).IsInvalidArgument());
  EXPECT_TRUE(log->CompactPrefix(11).IsInvalidArgument());
  EXPECT_TRUE(log->Entry(3, &e).IsInvalidArgument());
  EXPECT_TRUE(log->Entry(11, &e).IsInvalidArgument());
  std::vector<LogEntry> got;
  EXPECT_TRUE(log->Entries(2, 5, 100, &got).IsInvalidArgument());
  EXPECT_TRUE(log->Entries(4, 12, 100, &got).IsInvalidArgument());
  EXPECT_TRUE(log->Term(2).status().IsInvalidArgument());
  EXPECT_TRUE(log->Term(11).status().IsInvalidArgument());
  EXPECT_TRUE(log->Reset(UINT64_MAX, 1).IsInvalidArgument());
  EXPECT_EQ(*log->Term(3), 1u);  // the compaction point answers
  EXPECT_TRUE(log->TruncateSuffix(11).ok());  // nothing to drop
  EXPECT_TRUE(log->CompactPrefix(2).ok());    // already compacted
  // Nothing was lost, also after a reopen.
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(log->FirstIndex(), 4u);
    EXPECT_EQ(log->LastIndex(), 10u);
    ASSERT_TRUE(log->Entry(10, &e).ok());
    EXPECT_EQ(e.data, "v10");
    host.reset();
    ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
    log = host->Group(7);
  }
  // max_bytes: stops early but returns at least one entry.
  ASSERT_TRUE(log->Entries(4, 11, 0, &got).ok());
  EXPECT_EQ(got.size(), 1u);
  ASSERT_TRUE(log->Entries(4, 11, 5, &got).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(host->GroupIds(), std::vector<uint64_t>{7});
}

// Compacting every group's prefix deletes whole segments; an idle group's
// hard state survives because it is rewritten before its segment goes.
TEST(LogStore, CompactionReleasesSegmentsAndKeepsIdleHardState) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  ASSERT_TRUE(host->Group(99)->SetHardState(HardState{5, 2, 0}).ok());
  LogStore* busy = host->Group(1);
  ASSERT_NO_FATAL_FAILURE(AppendCompactingEveryHundred(busy, 1, 600, 3));
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  EXPECT_LE(impl->log()->segment_count(), 3u);
  EXPECT_GT(impl->log()->stats().segments_released, 5u);
  host.reset();
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  EXPECT_EQ(host->Group(99)->GetHardState(), (HardState{5, 2, 0}));
  EXPECT_EQ(host->Group(1)->FirstIndex(), 591u);
  EXPECT_EQ(*host->Group(1)->Term(590), 3u);
  EXPECT_EQ(host->Group(1)->LastIndex(), 600u);
}

// A lagging follower's read of old entries waits on the disk without the
// group's lock: the leader's appends, a truncation and a compaction go on
// meanwhile, and the segment the read needs is kept until it is done.
TEST(LogStore, ASlowReadOfOldEntriesBlocksNoAppend) {
  strata::testing::ScratchDir dir;
  auto gate = std::make_shared<strata::testing::GateFileSystem>(io::DefaultFileSystem());
  LogStoreHostOptions options = SmallHostOptions();
  options.file_system = gate;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  LogStore* log = host->Group(1);
  const std::string data(1000, 'd');
  for (uint64_t i = 1; i <= 20; ++i) {
    const std::vector<LogEntry> one = {LogEntry{i, 3, fmt::format("{}:{}", i, data)}};
    ASSERT_TRUE(log->Append(one, false).ok());
  }
  const uint64_t first_segment = impl->log()->stats().segments_released;
  gate->ArmRead();
  auto reader = std::async(std::launch::async, [&] {
    std::vector<LogEntry> entries;
    Status s = log->Entries(1, 6, UINT64_MAX, &entries);
    return std::make_pair(s, entries);
  });
  gate->WaitUntilBlocked();
  // The read waits on the disk. Appends enough to roll several segments,
  // then a compaction past the entries being read: all return meanwhile.
  auto writer = std::async(std::launch::async, [&] {
    for (uint64_t i = 21; i <= 300; ++i) {
      const std::vector<LogEntry> one = {LogEntry{i, 3, data}};
      STRATA_RETURN_IF_ERROR(log->Append(one, false));
    }
    return log->CompactPrefix(290);
  });
  const bool returned = writer.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  if (!returned) gate->Open();  // let it finish, then fail
  ASSERT_TRUE(returned) << "an append waited for the blocked read";
  const Status written = writer.get();
  ASSERT_TRUE(written.ok()) << written.ToString();
  // The read's segment was kept (nothing released below it).
  EXPECT_EQ(impl->log()->stats().segments_released, first_segment);
  gate->Open();
  auto [s, entries] = reader.get();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(entries.size(), 5u);
  for (uint64_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(entries[i - 1].index, i);
    EXPECT_EQ(entries[i - 1].data, fmt::format("{}:{}", i, data));
  }
  // Unpinned: the next compaction releases what the read kept.
  ASSERT_TRUE(log->CompactPrefix(295).ok());
  EXPECT_GT(impl->log()->stats().segments_released, first_segment);
  EXPECT_EQ(log->FirstIndex(), 296u);
}

// Asynchronous appends: one thread appends without waiting while another
// waits for the tickets in order. Every entry whose wait returned survives a
// power cut, what survives is a prefix, and the appender ran ahead of the
// syncs (it did not wait for them). A truncation between appends is ordered
// with them.
TEST(LogStore, AsyncAppendsAreDurableInTicketOrderAcrossAPowerCut) {
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  LogStoreHostOptions options = SmallHostOptions();
  options.file_system = fs;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  LogStore* log = host->Group(7);
  constexpr uint64_t kEntries = 2000;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<uint64_t, uint64_t>> tickets;  // (index, ticket)
  bool done = false;
  std::atomic<uint64_t> appended{0}, durable{0}, max_ahead{0};
  std::thread waiter([&] {
    while (true) {
      std::pair<uint64_t, uint64_t> next;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done || !tickets.empty(); });
        if (tickets.empty()) return;
        next = tickets.front();
        tickets.pop_front();
      }
      ASSERT_TRUE(log->WaitDurable(next.second).ok());
      durable.store(next.first);
    }
  });
  uint64_t previous_ticket = 0;
  for (uint64_t i = 1; i <= kEntries; ++i) {
    const std::vector<LogEntry> one = {LogEntry{i, 2, fmt::format("entry {}", i)}};
    Result<uint64_t> ticket = log->AppendAsync(one);
    ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
    ASSERT_GT(*ticket, previous_ticket);
    previous_ticket = *ticket;
    appended.store(i);
    max_ahead.store(std::max(max_ahead.load(), i - durable.load()));
    {
      std::lock_guard lock(mu);
      tickets.emplace_back(i, *ticket);
    }
    cv.notify_one();
  }
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_one();
  waiter.join();
  EXPECT_GT(max_ahead.load(), 1u) << "the appender never ran ahead of a sync";
  EXPECT_EQ(durable.load(), kEntries);
  // A truncation between asynchronous appends: the tail replaced, in order.
  std::vector<LogEntry> tail;
  for (uint64_t i = kEntries + 1; i <= kEntries + 10; ++i) {
    tail.push_back(LogEntry{i, 2, fmt::format("entry {}", i)});
  }
  ASSERT_TRUE(log->AppendAsync(tail).ok());
  ASSERT_TRUE(log->TruncateSuffix(kEntries + 6).ok());
  const std::vector<LogEntry> replacement = {LogEntry{kEntries + 6, 3, "replaced"}};
  Result<uint64_t> last = log->AppendAsync(replacement);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(log->WaitDurable(*last).ok());
  // Unsynced extra entries may be lost; the waited ones may not.
  const std::vector<LogEntry> extra = {LogEntry{kEntries + 7, 3, "unsynced"}};
  ASSERT_TRUE(log->AppendAsync(extra).ok());
  host.reset();
  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  log = host->Group(7);
  ASSERT_GE(log->LastIndex(), kEntries + 6);
  std::vector<LogEntry> entries;
  ASSERT_TRUE(log->Entries(1, kEntries + 7, UINT64_MAX, &entries).ok());
  for (uint64_t i = 1; i <= kEntries + 5; ++i) {
    ASSERT_EQ(entries[i - 1].data, fmt::format("entry {}", i)) << i;
  }
  EXPECT_EQ(entries[kEntries + 5].data, "replaced");
  EXPECT_EQ(*log->Term(kEntries + 6), 3u);
  // An empty append's ticket covers everything before it.
  Result<uint64_t> now = log->AppendAsync({});
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(log->WaitDurable(*now).ok());
}

// Issue 9, item 1: CompactPrefix wrote its meta record unsynced and the
// release that followed dropped the segment holding the last synced hard
// state; a power cut then lost the term, the vote and the compaction point.
TEST(LogStore, PowerCutAfterCompactionKeepsSyncedHardState) {
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  LogStoreHostOptions options = SmallHostOptions();
  options.file_system = fs;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  LogStore* log = host->Group(1);
  ASSERT_TRUE(log->SetHardState(HardState{5, 2, 0}).ok());
  const std::string data(1000, 'd');
  for (uint64_t i = 1; i <= 600; ++i) {
    const std::vector<LogEntry> one = {LogEntry{i, 3, data}};
    ASSERT_TRUE(log->Append(one, /*sync=*/false).ok());
  }
  ASSERT_TRUE(host->Sync().ok());
  ASSERT_TRUE(log->CompactPrefix(590).ok());
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  ASSERT_GT(impl->log()->stats().segments_released, 0u);  // the release ran
  host.reset();
  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  Status s = OpenLogStoreHost(options, dir.path(), &host);
  ASSERT_TRUE(s.ok()) << s.ToString();
  log = host->Group(1);
  EXPECT_EQ(log->GetHardState(), (HardState{5, 2, 0}));
  EXPECT_EQ(log->FirstIndex(), 591u);
  auto prev_term = log->Term(590);
  ASSERT_TRUE(prev_term.ok()) << prev_term.status().ToString();
  EXPECT_EQ(*prev_term, 3u);
  EXPECT_EQ(log->LastIndex(), 600u);
}

// Many groups committing at once share fdatasyncs.
TEST(LogStore, ConcurrentGroupsShareSyncs) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  constexpr int kThreads = 16;
  constexpr uint64_t kPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      LogStore* log = host->Group(1000 + t);
      for (uint64_t i = 1; i <= kPerThread; ++i) {
        const std::vector<LogEntry> one = {LogEntry{i, 1, fmt::format("g{}i{}", t, i)}};
        ASSERT_TRUE(log->Append(one, /*sync=*/true).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  EXPECT_LT(impl->log()->stats().syncs, kThreads * kPerThread);
  host.reset();
  ASSERT_TRUE(OpenLogStoreHost(SmallHostOptions(), dir.path(), &host).ok());
  for (int t = 0; t < kThreads; ++t) {
    LogEntry e;
    ASSERT_TRUE(host->Group(1000 + t)->Entry(kPerThread, &e).ok());
    EXPECT_EQ(e.data, fmt::format("g{}i{}", t, kPerThread));
  }
}

// ------------------------------------------------ cold groups (rewrites)

LogStoreHostOptions RewriteHostOptions(uint32_t lag) {
  LogStoreHostOptions options = SmallHostOptions();
  options.rewrite_lag_segments = lag;
  return options;
}

// "" when `store` holds exactly `model`, else what differs.
std::string Diff(LogStore* store, const ModelLog& model) {
  if (store->FirstIndex() != model.first || store->LastIndex() != model.last()) {
    return fmt::format("[{}, {}] instead of [{}, {}]", store->FirstIndex(), store->LastIndex(),
                       model.first, model.last());
  }
  if (store->GetHardState() != model.hard) return "hard state";
  if (store->GetSnapshotMeta() !=
      (SnapshotMeta{model.first - 1, model.prev_term, model.configuration})) {
    return "snapshot meta";
  }
  std::vector<LogEntry> got;
  Status s = store->Entries(model.first, model.last() + 1, UINT64_MAX, &got);
  if (!s.ok()) return s.ToString();
  for (size_t k = 0; k < got.size(); ++k) {
    const LogEntry& want = model.entries[k];
    if (got[k].index != want.index || got[k].term != want.term || got[k].data != want.data ||
        got[k].type != want.type) {
      return fmt::format("entry {}", want.index);
    }
  }
  return "";
}

// Issue 12: an idle group with a few entries, another group writing dozens
// of segments' worth and compacting. Without rewrites the idle group pins
// every segment; with them the log stays a few segments long, and the idle
// group's entries read back the same before and after a reopen.
TEST(LogStoreRewrite, AnIdleGroupDoesNotPinTheLog) {
  for (uint32_t lag : {0u, 2u, 4u}) {
    SCOPED_TRACE(fmt::format("rewrite_lag_segments={}", lag));
    strata::testing::ScratchDir dir;
    std::unique_ptr<LogStoreHost> host;
    ASSERT_TRUE(OpenLogStoreHost(RewriteHostOptions(lag), dir.path(), &host).ok());
    ModelLog idle;
    idle.hard = HardState{4, 2, 7};
    // ~22 KB: more than one rewrite record (a quarter segment each).
    for (uint64_t i = 1; i <= 24; ++i) {
      const auto type = i % 5 == 0 ? LogEntryType::kConfigChange : LogEntryType::kCommand;
      idle.entries.push_back(
          LogEntry{i, 1 + i / 6, fmt::format("idle {} {}", i, std::string(900, 'i')), type});
    }
    ASSERT_TRUE(host->Group(5)->Append(idle.entries, true).ok());
    ASSERT_TRUE(host->Group(5)->SetHardState(idle.hard).ok());
    LogStore* busy = host->Group(1);
    const std::string data(1000, 'd');
    uint64_t max_segments = 0;
    for (uint64_t i = 1; i <= 3000; ++i) {
      const std::vector<LogEntry> one = {LogEntry{i, 3, data}};
      ASSERT_TRUE(busy->Append(one, false).ok());
      if (i % 50 == 0) {
        ASSERT_TRUE(busy->CompactPrefix(i - 10).ok());
        max_segments = std::max(max_segments, host->Stats().segments);
      }
    }
    const LogStoreHostStats stats = host->Stats();
    if (lag == 0) {
      EXPECT_GT(max_segments, 40u);  // the idle group pins the whole log
      EXPECT_EQ(stats.pinning_group, 5u);
      EXPECT_EQ(stats.rewrite_records, 0u);
    } else {
      // lag segments behind the head, a few for the busy group's tail, the
      // head and the released segments kept for reuse are not counted.
      EXPECT_LE(max_segments, lag + 3u);
      EXPECT_GT(stats.rewrite_records, 3u);
      EXPECT_GE(stats.rewritten_entries, stats.rewrite_records);
      EXPECT_LT(stats.pinning_lag_segments, uint64_t{lag} + 1);
    }
    fmt::print("rewrite_lag_segments {}: at most {} segments, {} rewrite records\n", lag,
               max_segments, stats.rewrite_records);
    EXPECT_EQ(Diff(host->Group(5), idle), "");
    host.reset();
    ASSERT_TRUE(OpenLogStoreHost(RewriteHostOptions(lag), dir.path(), &host).ok());
    EXPECT_EQ(Diff(host->Group(5), idle), "");
    EXPECT_EQ(host->Group(1)->LastIndex(), 3000u);
    EXPECT_EQ(host->Group(1)->FirstIndex(), 2991u);
  }
}

// The stats name the group whose oldest entry keeps the oldest segment, and
// how far behind the head it lies.
TEST(LogStoreRewrite, StatsNameThePinningGroup) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(RewriteHostOptions(0), dir.path(), &host).ok());
  EXPECT_FALSE(host->Stats().has_pinning_group);
  ASSERT_TRUE(host->Group(8)->Append(std::vector<LogEntry>{LogEntry{1, 1, "old"}}, true).ok());
  ASSERT_NO_FATAL_FAILURE(AppendCompactingEveryHundred(host->Group(1), 1, 300, 2));
  ASSERT_TRUE(host->Group(9)->Append(std::vector<LogEntry>{LogEntry{1, 1, "new"}}, true).ok());
  auto* impl = static_cast<LogStoreHostImpl*>(host.get());
  LogStoreHostStats stats = host->Stats();
  ASSERT_TRUE(stats.has_pinning_group);
  EXPECT_EQ(stats.pinning_group, 8u);
  EXPECT_EQ(stats.pinning_lag_segments, impl->log()->head_segment_seq() - 1);
  EXPECT_GE(stats.pinning_lag_segments, 3u);
  EXPECT_EQ(stats.segments, impl->log()->segment_count());
  // Group 8 lets go of its entry: group 1's oldest live entry is next.
  ASSERT_TRUE(host->Group(8)->CompactPrefix(1).ok());
  stats = host->Stats();
  EXPECT_EQ(stats.pinning_group, 1u);
  EXPECT_LE(stats.pinning_lag_segments, 1u);
}

// Writes raw log store payloads as records of a fresh log in `dir`.
void WriteRecords(const std::string& dir, const std::vector<std::string>& payloads) {
  LogOptions lo;
  lo.segment_bytes = kSegmentBytesMin;
  std::unique_ptr<Log> log;
  ASSERT_TRUE(Log::Open(lo, dir, &log).ok());
  for (const std::string& p : payloads) ASSERT_TRUE(log->Append(p, true).ok());
}

std::string Rewrite(uint64_t group, const std::vector<LogEntry>& entries) {
  std::string payload;
  std::vector<uint32_t> offsets;
  EncodeRewrite(group, entries, &payload, &offsets);
  return payload;
}

std::string EntriesPayload(uint64_t group, const std::vector<LogEntry>& entries) {
  std::string payload;
  std::vector<uint32_t> offsets;
  EncodeEntries(group, entries, &payload, &offsets);
  return payload;
}

std::vector<LogEntry> EntryRun(uint64_t from, uint64_t to, uint64_t term, std::string_view tag) {
  std::vector<LogEntry> entries;
  for (uint64_t i = from; i <= to; ++i) entries.push_back(LogEntry{i, term, fmt::format("{}{}", tag, i)});
  return entries;
}

// Crafted rewrite records: each bad byte layout is Corruption naming the
// record; entries whose term differs from the ones replay holds are
// skipped; entries replay has not seen stand for entries whose earlier
// records were released (before, after or around what it holds), and a gap
// they leave is Corruption at the end of replay, never a crash.
TEST(LogStoreRewrite, CraftedRewriteRecordsAreDecodedAndReplayedAsDocumented) {
  // Layout: kind 6, group, first index, count, per entry term, bytes, data.
  const std::string good = Rewrite(7, EntryRun(3, 4, 2, "x"));
  ASSERT_EQ(good[0], static_cast<char>(StoreRecordKind::kRewrite));
  StoreRecord record;
  ASSERT_TRUE(DecodeStoreRecord(good, "t", &record).ok());
  EXPECT_EQ(record.kind, StoreRecordKind::kRewrite);
  ASSERT_EQ(record.entries.size(), 2u);
  EXPECT_EQ(record.entries[1].data, "x4");
  std::vector<LogEntry> typed = EntryRun(3, 4, 2, "x");
  typed[1].type = LogEntryType::kBarrier;
  const std::string good_typed = Rewrite(7, typed);
  ASSERT_EQ(good_typed[0], static_cast<char>(StoreRecordKind::kTypedRewrite));
  ASSERT_TRUE(DecodeStoreRecord(good_typed, "t", &record).ok());
  EXPECT_EQ(record.entries[1].type, LogEntryType::kBarrier);
  struct Bad {
    std::string payload;
    std::string why;
  };
  std::string count_zero = good.substr(0, 3) + std::string(1, '\0');
  std::string long_data = good;
  long_data[5] = 50;  // the first entry's data_bytes (after kind, group, index, count, term)
  std::string bad_type = good_typed;
  bad_type[4] = 0;  // the first entry's type
  std::string index_zero = good;
  index_zero[2] = 0;
  std::string huge_index = good.substr(0, 2);
  PutVarint64(&huge_index, kLogIndexMax);
  huge_index += good.substr(3);
  const std::vector<Bad> bads = {
      {count_zero, "rewrite of no entries"},
      {long_data, "entry 3 truncated"},
      {bad_type, "entry 3: unknown type 0"},
      {index_zero, "entry index 0"},
      {huge_index, "beyond 2^62"},
      {good + "z", "1 trailing bytes"},
      {good.substr(0, good.size() - 1), "entry 4 truncated"},
      {std::string(1, '\x08') + good.substr(1), "unknown kind 8"},
  };
  for (const Bad& bad : bads) {
    SCOPED_TRACE(bad.why);
    Status s = DecodeStoreRecord(bad.payload, "t", &record);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(bad.why), std::string::npos) << s.ToString();
    // Open refuses such a log and names the record.
    strata::testing::ScratchDir dir;
    ASSERT_NO_FATAL_FAILURE(WriteRecords(dir.path(), {EntriesPayload(7, EntryRun(1, 5, 1, "a")), bad.payload}));
    std::unique_ptr<LogStoreHost> host;
    s = OpenLogStoreHost(SmallHostOptions(), dir.path(), &host);
    ASSERT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find(bad.why), std::string::npos) << s.ToString();
    EXPECT_NE(s.message().find("lsn 2"), std::string::npos) << s.ToString();
  }

  struct Replay {
    std::string name;
    std::vector<std::string> payloads;
    std::string corruption;  // "" = opens
    ModelLog want;           // of group 7, when it opens
  };
  std::vector<LogEntry> mixed = EntryRun(1, 5, 1, "a");
  mixed[2] = LogEntry{3, 1, "x3"};  // same term: the rewrite's copy is taken
  ModelLog relocated;
  relocated.entries = mixed;
  relocated.entries.push_back(LogEntry{6, 1, "x6"});
  ModelLog around;  // entries 61..100 held; a rewrite of 1..60, then one of 101..102
  around.entries = EntryRun(1, 60, 1, "r");
  for (const LogEntry& e : EntryRun(61, 100, 1, "a")) around.entries.push_back(e);
  for (const LogEntry& e : EntryRun(101, 102, 1, "r")) around.entries.push_back(e);
  ModelLog compacted;
  compacted.first = 3;
  compacted.prev_term = 1;
  compacted.entries = EntryRun(3, 4, 1, "r");
  GroupMeta meta;
  meta.group = 7;
  meta.first_index = 3;
  meta.prev_term = 1;
  std::string meta_payload;
  EncodeMeta(meta, &meta_payload);
  std::vector<LogEntry> other_term = {LogEntry{3, 1, "x3"}, LogEntry{4, 9, "x4"},
                                      LogEntry{5, 1, "a5"}, LogEntry{6, 1, "x6"}};
  const std::vector<Replay> replays = {
      // 3 relocated, 4 kept (term 9 differs from the 1 replay holds), 6 taken.
      {"terms", {EntriesPayload(7, EntryRun(1, 5, 1, "a")), Rewrite(7, other_term)}, "", relocated},
      {"around",
       {EntriesPayload(7, EntryRun(61, 100, 1, "a")), Rewrite(7, EntryRun(1, 60, 1, "r")),
        Rewrite(7, EntryRun(101, 102, 1, "r"))},
       "",
       around},
      // Only rewrite records (every earlier one released), then the meta
      // record a release rewrote at the head: the compaction applies.
      {"only rewrites", {Rewrite(7, EntryRun(1, 2, 1, "r")), Rewrite(7, EntryRun(3, 4, 1, "r")), meta_payload}, "", compacted},
      {"gap after", {EntriesPayload(7, EntryRun(1, 5, 1, "a")), Rewrite(7, EntryRun(8, 9, 1, "r"))}, "entry 6 is missing", {}},
      {"gap before", {EntriesPayload(7, EntryRun(10, 12, 1, "a")), Rewrite(7, EntryRun(1, 2, 1, "r"))}, "entry 3 is missing", {}},
      {"huge gap",
       {EntriesPayload(7, EntryRun(1, 5, 1, "a")), Rewrite(7, EntryRun(uint64_t{1} << 40, (uint64_t{1} << 40) + 1, 1, "r"))},
       "missing entries",
       {}},
  };
  for (const Replay& r : replays) {
    SCOPED_TRACE(r.name);
    strata::testing::ScratchDir dir;
    ASSERT_NO_FATAL_FAILURE(WriteRecords(dir.path(), r.payloads));
    std::unique_ptr<LogStoreHost> host;
    Status s = OpenLogStoreHost(SmallHostOptions(), dir.path(), &host);
    if (!r.corruption.empty()) {
      ASSERT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.message().find(r.corruption), std::string::npos) << s.ToString();
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Diff(host->Group(7), r.want), "");
  }
}

// Power cuts at many points while cold groups' entries are being rewritten
// (a random prefix of what was not synced survives; now and then a write,
// sync, rename or removal fails first, mid-rewrite or mid-release): after
// each cut every group is exactly as after some call at or after the last
// one acknowledged durable, so every synced entry, term and vote is there.
// With a lag of 4, entries one segment old stay where they are while older
// ones move ahead of them (the group's pin is then not its first entry).
class LogStoreRewriteCuts : public ::testing::TestWithParam<uint32_t> {};

TEST_P(LogStoreRewriteCuts, PowerCutsDuringRewritesKeepWhatWasAcknowledged) {
  const uint64_t seed = strata::testing::TestSeed(12);
  SCOPED_TRACE(fmt::format("seed={} lag={}", seed, GetParam()));
  std::mt19937_64 rng(seed);
  strata::testing::ScratchDir dir;
  auto fs = std::make_shared<io::FaultFileSystem>(io::DefaultFileSystem());
  LogStoreHostOptions options = RewriteHostOptions(GetParam());
  options.file_system = fs;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(options, dir.path(), &host).ok());
  using State = std::map<uint64_t, ModelLog>;
  State model = {{1, {}}, {2, {}}, {3, {}}};
  constexpr int kCuts = 300;
  uint64_t rewrite_records = 0, failed_calls = 0, later_than_acknowledged = 0;
  for (int cut = 0; cut < kCuts; ++cut) {
    SCOPED_TRACE(fmt::format("cut {}", cut));
    std::vector<State> candidates = {model};  // [0]: what was acknowledged durable
    if (rng() % 4 == 0) {
      const io::FaultOpMask ops = io::Mask(io::FaultOp::kWrite) | io::Mask(io::FaultOp::kSync) |
                                  io::Mask(io::FaultOp::kRename) | io::Mask(io::FaultOp::kRemove) |
                                  io::Mask(io::FaultOp::kSyncDir);
      fs->InjectError(io::ErrorInjection{ops, "", 1 + rng() % 80, io::kFailForever});
    }
    for (int op = 0, ops = 10 + static_cast<int>(rng() % 40); op < ops; ++op) {
      const int r = static_cast<int>(rng() % 100);
      const uint64_t group = r < 70 ? 1 : 2 + rng() % 2;
      State next = model;
      ModelLog& m = next[group];
      LogStore* store = host->Group(group);
      bool synced = false;
      Status s;
      if (group == 1) {  // busy: 1.5 KB entries, compacting to its last 5 past 30
        if (m.entries.size() > 30) {
          const uint64_t upto = m.last() - 5;
          s = store->CompactPrefix(upto);
          m.prev_term = m.entries[upto - m.first].term;
          m.entries.erase(m.entries.begin(), m.entries.begin() + (upto + 1 - m.first));
          m.first = upto + 1;
        } else {
          std::vector<LogEntry> batch;
          for (uint64_t k = 0, n = 1 + rng() % 3; k < n; ++k) {
            batch.push_back(LogEntry{m.last() + 1 + k, 2, Data(rng, m.last() + 1 + k) + std::string(1500, 'b')});
          }
          synced = rng() % 4 == 0;
          s = store->Append(batch, synced);
          m.entries.insert(m.entries.end(), batch.begin(), batch.end());
        }
      } else {  // cold: rare changes of every kind, at most ~25 KB live
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 4 && m.entries.size() < 24) {  // append, sometimes over a conflicting tail
          uint64_t from = m.last() + 1;
          if (rng() % 3 == 0 && !m.entries.empty()) from = m.first + rng() % m.entries.size();
          std::vector<LogEntry> batch;
          for (uint64_t k = 0, n = 1 + rng() % 6; k < n; ++k) {
            const auto type = rng() % 4 == 0 ? LogEntryType::kBarrier : LogEntryType::kCommand;
            batch.push_back(LogEntry{from + k, m.hard.term + 1, Data(rng, from + k) + std::string(700, 'c'), type});
          }
          synced = rng() % 2 == 0;
          s = store->Append(batch, synced);
          m.entries.resize(from - m.first);
          m.entries.insert(m.entries.end(), batch.begin(), batch.end());
        } else if (kind < 5 && !m.entries.empty()) {
          const uint64_t at = m.first + rng() % m.entries.size();
          synced = true;
          s = store->TruncateSuffix(at);
          m.entries.resize(at - m.first);
        } else if (kind < 7 && !m.entries.empty()) {
          const uint64_t upto = m.first + rng() % std::min<size_t>(m.entries.size(), 4);
          s = store->CompactPrefix(upto);
          m.prev_term = m.entries[upto - m.first].term;
          m.entries.erase(m.entries.begin(), m.entries.begin() + (upto + 1 - m.first));
          m.first = upto + 1;
        } else if (kind < 8 && rng() % 4 == 0) {
          const uint64_t last = m.last() + rng() % 5;
          synced = true;
          s = store->Reset(last, m.hard.term + 1);
          m.entries.clear();
          m.first = last + 1;
          m.prev_term = m.hard.term + 1;
        } else {
          const HardState hs{m.hard.term + 1, rng() % 3, m.hard.commit + 1};
          synced = true;
          s = store->SetHardState(hs);
          m.hard = hs;
        }
      }
      if (!s.ok()) {  // the call may or may not have happened
        ++failed_calls;
        candidates.push_back(next);
        break;
      }
      model = next;
      if (synced) candidates = {model};
      else candidates.push_back(model);
    }
    rewrite_records += host->Stats().rewrite_records;
    host.reset();
    fs->ClearFaults();
    io::CrashOptions crash;
    crash.keep_random_unsynced_prefix = true;
    crash.seed = rng();
    ASSERT_TRUE(fs->DropUnsyncedData(crash).ok());
    Status s = OpenLogStoreHost(options, dir.path(), &host);
    ASSERT_TRUE(s.ok()) << s.ToString();
    size_t found = candidates.size();
    for (size_t k = candidates.size(); k-- > 0 && found == candidates.size();) {
      bool same = true;
      for (const auto& [g, m] : candidates[k]) same = same && Diff(host->Group(g), m).empty();
      if (same) found = k;
    }
    if (found == candidates.size()) {
      for (const auto& [g, m] : candidates[0]) {
        ADD_FAILURE() << "group " << g << " vs acknowledged: " << Diff(host->Group(g), m);
      }
      return;
    }
    if (found > 0) ++later_than_acknowledged;
    model = candidates[found];
  }
  fmt::print("lag {}: {} cuts, {} rewrite records, {} failed calls, {} recoveries past the last sync\n",
             GetParam(), kCuts, rewrite_records, failed_calls, later_than_acknowledged);
  EXPECT_GT(rewrite_records, 60u);
  EXPECT_GT(failed_calls, 10u);
  host.reset();
}

INSTANTIATE_TEST_SUITE_P(Lags, LogStoreRewriteCuts, ::testing::Values(2u, 4u));

// Rewrites race with the cold group's own calls and reads: a rewrite reads
// the entries without the group's locks, so the group may truncate,
// overwrite or compact meanwhile (only entries still where they were read
// move), and a read may hold old locations while they move (their segment
// stays until it is done).
TEST(LogStoreRewrite, RewritesRaceWithTheGroupsOwnCallsAndReads) {
  strata::testing::ScratchDir dir;
  std::unique_ptr<LogStoreHost> host;
  ASSERT_TRUE(OpenLogStoreHost(RewriteHostOptions(2), dir.path(), &host).ok());
  std::atomic<bool> done{false};
  ModelLog cold;  // the cold thread's
  std::thread cold_thread([&] {
    std::mt19937_64 rng(strata::testing::TestSeed(5));
    LogStore* store = host->Group(2);
    for (int op = 0; op < 600 && !::testing::Test::HasFailure(); ++op) {
      const int kind = static_cast<int>(rng() % 10);
      if (kind < 4 && cold.entries.size() < 24) {
        uint64_t from = cold.last() + 1;
        if (rng() % 3 == 0 && !cold.entries.empty()) from = cold.first + rng() % cold.entries.size();
        std::vector<LogEntry> batch;
        for (uint64_t k = 0, n = 1 + rng() % 4; k < n; ++k) {
          batch.push_back(LogEntry{from + k, 1 + rng() % 3, Data(rng, from + k) + std::string(700, 'c')});
        }
        EXPECT_TRUE(store->Append(batch, false).ok());
        cold.entries.resize(from - cold.first);
        cold.entries.insert(cold.entries.end(), batch.begin(), batch.end());
      } else if (kind < 5 && !cold.entries.empty()) {
        const uint64_t at = cold.first + rng() % cold.entries.size();
        EXPECT_TRUE(store->TruncateSuffix(at).ok());
        cold.entries.resize(at - cold.first);
      } else if (kind < 6 && !cold.entries.empty()) {
        const uint64_t upto = cold.first + rng() % std::min<size_t>(cold.entries.size(), 3);
        EXPECT_TRUE(store->CompactPrefix(upto).ok());
        cold.prev_term = cold.entries[upto - cold.first].term;
        cold.entries.erase(cold.entries.begin(), cold.entries.begin() + (upto + 1 - cold.first));
        cold.first = upto + 1;
      } else {
        EXPECT_EQ(Diff(store, cold), "") << "op " << op;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
    }
    done = true;
  });
  LogStore* busy = host->Group(1);
  const std::string data(1000, 'd');
  uint64_t i = 0;
  while (!done) {
    ++i;
    const std::vector<LogEntry> one = {LogEntry{i, 3, data}};
    ASSERT_TRUE(busy->Append(one, false).ok());
    if (i % 20 == 0) {
      ASSERT_TRUE(busy->CompactPrefix(i - 10).ok());
    }
  }
  cold_thread.join();
  const LogStoreHostStats stats = host->Stats();
  fmt::print("{} busy entries, {} rewrite records, {} segments\n", i, stats.rewrite_records,
             stats.segments);
  EXPECT_GT(stats.rewrite_records, 20u);
  EXPECT_EQ(Diff(host->Group(2), cold), "");
  host.reset();
  ASSERT_TRUE(OpenLogStoreHost(RewriteHostOptions(2), dir.path(), &host).ok());
  EXPECT_EQ(Diff(host->Group(2), cold), "");
}

}  // namespace
}  // namespace strata::wal
