#include "wal/log_store_record.h"

#include <fmt/core.h>

#include <algorithm>

#include "core/coding.h"

namespace strata::wal {

bool IsLogEntryType(LogEntryType type) {
  return type == LogEntryType::kCommand || type == LogEntryType::kBarrier ||
         type == LogEntryType::kConfigChange;
}

namespace {

// The layout kinds 1, 4, 6 and 7 share; `typed_kind` when any entry is not a
// command, else `plain_kind`.
void EncodeEntryList(StoreRecordKind plain_kind, StoreRecordKind typed_kind, uint64_t group,
                     std::span<const LogEntry> entries, std::string* out,
                     std::vector<uint32_t>* data_offsets) {
  const bool typed = std::any_of(entries.begin(), entries.end(), [](const LogEntry& e) {
    return e.type != LogEntryType::kCommand;
  });
  out->clear();
  out->push_back(static_cast<char>(typed ? typed_kind : plain_kind));
  PutVarint64(out, group);
  PutVarint64(out, entries.empty() ? 0 : entries.front().index);
  PutVarint64(out, entries.size());
  data_offsets->clear();
  for (const LogEntry& e : entries) {
    if (typed) out->push_back(static_cast<char>(e.type));
    PutVarint64(out, e.term);
    PutVarint64(out, e.data.size());
    data_offsets->push_back(static_cast<uint32_t>(out->size()));
    out->append(e.data);
  }
}

}  // namespace

void EncodeEntries(uint64_t group, std::span<const LogEntry> entries, std::string* out,
                   std::vector<uint32_t>* data_offsets) {
  EncodeEntryList(StoreRecordKind::kEntries, StoreRecordKind::kTypedEntries, group, entries, out,
                  data_offsets);
}

void EncodeRewrite(uint64_t group, std::span<const LogEntry> entries, std::string* out,
                   std::vector<uint32_t>* data_offsets) {
  EncodeEntryList(StoreRecordKind::kRewrite, StoreRecordKind::kTypedRewrite, group, entries, out,
                  data_offsets);
}

void EncodeTruncate(uint64_t group, uint64_t index, std::string* out) {
  out->clear();
  out->push_back(static_cast<char>(StoreRecordKind::kTruncate));
  PutVarint64(out, group);
  PutVarint64(out, index);
}

void EncodeMeta(const GroupMeta& meta, std::string* out) {
  const bool configured = meta.configuration != LogConfiguration{};
  out->clear();
  out->push_back(
      static_cast<char>(configured ? StoreRecordKind::kConfiguredMeta : StoreRecordKind::kMeta));
  PutVarint64(out, meta.group);
  out->push_back(meta.reset ? 1 : 0);
  PutVarint64(out, meta.first_index);
  PutVarint64(out, meta.prev_term);
  PutVarint64(out, meta.hard.term);
  PutVarint64(out, meta.hard.vote);
  PutVarint64(out, meta.hard.commit);
  if (configured) {
    PutVarint64(out, meta.configuration.index);
    PutVarint64(out, meta.configuration.data.size());
    out->append(meta.configuration.data);
  }
}

Status DecodeStoreRecord(std::string_view payload, std::string_view where, StoreRecord* record) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(fmt::format("{}: log store record: {}", where, why));
  };
  const std::string_view all = payload;
  if (payload.empty()) return bad("empty");
  const uint8_t kind = static_cast<uint8_t>(payload[0]);
  payload.remove_prefix(1);
  record->entries.clear();
  if (!GetVarint64(&payload, &record->group)) return bad("truncated group id");
  switch (kind) {
    case static_cast<uint8_t>(StoreRecordKind::kEntries):
    case static_cast<uint8_t>(StoreRecordKind::kTypedEntries):
    case static_cast<uint8_t>(StoreRecordKind::kRewrite):
    case static_cast<uint8_t>(StoreRecordKind::kTypedRewrite): {
      const bool typed = kind == static_cast<uint8_t>(StoreRecordKind::kTypedEntries) ||
                         kind == static_cast<uint8_t>(StoreRecordKind::kTypedRewrite);
      const bool rewrite = kind == static_cast<uint8_t>(StoreRecordKind::kRewrite) ||
                           kind == static_cast<uint8_t>(StoreRecordKind::kTypedRewrite);
      record->kind = rewrite ? StoreRecordKind::kRewrite : StoreRecordKind::kEntries;
      uint64_t count = 0;
      if (!GetVarint64(&payload, &record->index) || !GetVarint64(&payload, &count)) {
        return bad("truncated entries header");
      }
      if (count > payload.size()) return bad("entry count exceeds the record");
      if (count > 0 && record->index == 0) return bad("entry index 0");
      // Appends refuse such indexes, so no writer made this record; and
      // index + count must not wrap.
      if (count > 0 && record->index >= kLogIndexMax) {
        return bad(fmt::format("entry index {} beyond 2^62", record->index));
      }
      if (rewrite && count == 0) return bad("rewrite of no entries");
      for (uint64_t i = 0; i < count; ++i) {
        EntryView e;
        e.index = record->index + i;
        if (typed) {
          if (payload.empty()) return bad(fmt::format("entry {} truncated", e.index));
          e.type = static_cast<LogEntryType>(payload[0]);
          if (!IsLogEntryType(e.type)) {
            return bad(fmt::format("entry {}: unknown type {}", e.index,
                                   static_cast<uint8_t>(payload[0])));
          }
          payload.remove_prefix(1);
        }
        uint64_t bytes = 0;
        if (!GetVarint64(&payload, &e.term) || !GetVarint64(&payload, &bytes) ||
            bytes > payload.size()) {
          return bad(fmt::format("entry {} truncated", e.index));
        }
        e.data_offset = static_cast<uint32_t>(payload.data() - all.data());
        e.data = payload.substr(0, bytes);
        payload.remove_prefix(bytes);
        record->entries.push_back(e);
      }
      break;
    }
    case static_cast<uint8_t>(StoreRecordKind::kTruncate):
      record->kind = StoreRecordKind::kTruncate;
      if (!GetVarint64(&payload, &record->index)) return bad("truncated index");
      break;
    case static_cast<uint8_t>(StoreRecordKind::kMeta):
    case static_cast<uint8_t>(StoreRecordKind::kConfiguredMeta): {
      record->kind = StoreRecordKind::kMeta;
      GroupMeta& m = record->meta;
      m = GroupMeta{};
      m.group = record->group;
      if (payload.empty() || static_cast<uint8_t>(payload[0]) > 1) return bad("bad meta flags");
      m.reset = payload[0] == 1;
      payload.remove_prefix(1);
      if (!GetVarint64(&payload, &m.first_index) || !GetVarint64(&payload, &m.prev_term) ||
          !GetVarint64(&payload, &m.hard.term) || !GetVarint64(&payload, &m.hard.vote) ||
          !GetVarint64(&payload, &m.hard.commit)) {
        return bad("truncated meta");
      }
      if (m.first_index == 0) return bad("first index 0");
      if (kind == static_cast<uint8_t>(StoreRecordKind::kConfiguredMeta)) {
        uint64_t bytes = 0;
        if (!GetVarint64(&payload, &m.configuration.index) || !GetVarint64(&payload, &bytes) ||
            bytes > payload.size()) {
          return bad("truncated configuration");
        }
        m.configuration.data.assign(payload.substr(0, bytes));
        payload.remove_prefix(bytes);
        if (m.configuration == LogConfiguration{}) return bad("empty configuration in kind 5");
      }
      break;
    }
    default:
      // Kinds are only ever added; a newer writer's kind reads as this.
      return bad(fmt::format("unknown kind {} (written by a newer version?)", kind));
  }
  if (!payload.empty()) return bad(fmt::format("{} trailing bytes", payload.size()));
  return Status::Ok();
}

Status SliceEntryData(std::string_view payload, uint32_t data_offset, uint32_t data_bytes,
                      std::string_view where, std::string_view* data) {
  if (uint64_t{data_offset} + data_bytes > payload.size()) {
    return Status::Corruption(fmt::format("{}: log store entry runs past its record", where));
  }
  *data = payload.substr(data_offset, data_bytes);
  return Status::Ok();
}

}  // namespace strata::wal
