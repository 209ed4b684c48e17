// Payloads of the WAL records a LogStoreHost writes (FORMAT.md, "Log store
// records"). Pure encoding with bounds checks; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/log_store.h"
#include "strata/status.h"

namespace strata::wal {

// On-disk kinds (first payload byte). 0 is never valid; never renumbered.
enum class StoreRecordKind : uint8_t {
  kEntries = 1,   // group, first index, entries (overwrites from first index on)
  kTruncate = 2,  // group, index: drop entries >= index
  kMeta = 3,      // group metadata: compaction point and hard state
  kTypedEntries = 4,  // as kEntries, each entry with its LogEntryType
  kConfiguredMeta = 5,  // as kMeta, with the snapshot's configuration
  // Same layout as kEntries / kTypedEntries: copies of live entries written
  // at the head of the log so that their old segments can go. Never drops an
  // entry (no overwrite semantics); see GroupLog::ApplyRewrite.
  kRewrite = 6,
  kTypedRewrite = 7,
};

// Entry indexes stay below this (appends refuse more; a record naming more
// is Corruption), far from overflow of index + count and last_index + 1.
inline constexpr uint64_t kLogIndexMax = uint64_t{1} << 62;

// The complete metadata of a group: rewritten whenever any part changes, so
// the newest kMeta record alone defines it.
struct GroupMeta {
  uint64_t group = 0;
  bool reset = false;        // a snapshot install: drop every entry
  uint64_t first_index = 1;  // FirstIndex()
  uint64_t prev_term = 0;    // term of first_index - 1
  HardState hard;
  LogConfiguration configuration;  // of the snapshot covering entries < first_index
};

// An entry decoded in place: data points into the payload.
struct EntryView {
  uint64_t index = 0;
  uint64_t term = 0;
  LogEntryType type = LogEntryType::kCommand;
  uint32_t data_offset = 0;  // offset of data in the record payload
  std::string_view data;
};

// A decoded record. For kEntries and kTypedEntries (decoded as kEntries) and
// kRewrite and kTypedRewrite (decoded as kRewrite), `entries` holds every
// entry; kConfiguredMeta decodes as kMeta.
struct StoreRecord {
  StoreRecordKind kind = StoreRecordKind::kEntries;
  uint64_t group = 0;
  uint64_t index = 0;  // kEntries, kRewrite: first index; kTruncate: the index
  std::vector<EntryView> entries;
  GroupMeta meta;
};

// kEntries when every entry is a command (the format before entry types),
// else kTypedEntries. REQUIRES: every type is a LogEntryType.
void EncodeEntries(uint64_t group, std::span<const LogEntry> entries, std::string* out,
                   std::vector<uint32_t>* data_offsets);
bool IsLogEntryType(LogEntryType type);
// kRewrite when every entry is a command, else kTypedRewrite (so that one
// entry's rewrite is never larger than the record it came from).
// REQUIRES: entries non-empty and consecutive, every type a LogEntryType.
void EncodeRewrite(uint64_t group, std::span<const LogEntry> entries, std::string* out,
                   std::vector<uint32_t>* data_offsets);
void EncodeTruncate(uint64_t group, uint64_t index, std::string* out);
// kMeta without a configuration (the format before configurations), else
// kConfiguredMeta.
void EncodeMeta(const GroupMeta& meta, std::string* out);
// Corruption (naming `where`) when the payload does not parse.
Status DecodeStoreRecord(std::string_view payload, std::string_view where, StoreRecord* record);

// Decodes only the entry at `data_offset`'s record bounds check (for reads).
Status SliceEntryData(std::string_view payload, uint32_t data_offset, uint32_t data_bytes,
                      std::string_view where, std::string_view* data);

}  // namespace strata::wal
