// Helpers for the SSTable tests: build a table file from entries, open it.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "lsm/block_cache.h"
#include "lsm/dbformat.h"
#include "lsm/table.h"
#include "lsm/table_builder.h"

namespace strata::lsm::testing {

// Orders internal keys as the tables do.
struct InternalKeyLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return CompareInternalKeys(a, b) < 0;
  }
};
using Model = std::map<std::string, std::string, InternalKeyLess>;

inline std::string IKey(std::string_view user_key, SequenceNumber seq,
                        ValueType type = ValueType::kValue) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, type);
  return k;
}

// Writes `entries` (in order) to `path` and syncs it.
inline Status BuildTable(const std::string& path, const TableOptions& options, const Model& entries,
                         TableProperties* props = nullptr) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(path, io::FileOptions{}, &file));
  TableBuilder builder(options, file.get());
  for (const auto& [k, v] : entries) STRATA_RETURN_IF_ERROR(builder.Add(k, v));
  STRATA_RETURN_IF_ERROR(builder.Finish());
  if (builder.file_bytes() != file->size()) return Status::Corruption("file_bytes() mismatch");
  if (props != nullptr) *props = builder.properties();
  STRATA_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

inline Status OpenTable(const std::string& path, const TableOptions& options,
                        uint64_t file_number, BlockCache* cache, std::unique_ptr<Table>* table) {
  auto fs = io::DefaultFileSystem();
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, io::FileOptions{}, &file));
  STRATA_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  return Table::Open(options, std::move(file), size, file_number, cache, table);
}

// Random user keys of 1..24 bytes over a small alphabet (so prefixes are
// shared), each with 1..3 versions, some of them deletions.
inline Model RandomEntries(uint64_t seed, int user_key_count, size_t value_bytes_max = 64) {
  std::mt19937_64 rng(seed);
  Model model;
  SequenceNumber seq = 1;
  while (static_cast<int>(model.size()) < user_key_count) {
    std::string user_key(1 + rng() % 24, 'a');
    for (char& c : user_key) c = static_cast<char>('a' + rng() % 6);
    const int versions = 1 + static_cast<int>(rng() % 3);
    for (int v = 0; v < versions; ++v) {
      const bool deletion = rng() % 8 == 0;
      std::string value;
      if (!deletion) {
        value.resize(rng() % (value_bytes_max + 1));
        for (char& c : value) c = static_cast<char>('A' + rng() % 26);
      }
      model[IKey(user_key, seq++, deletion ? ValueType::kDeletion : ValueType::kValue)] = value;
    }
  }
  return model;
}

}  // namespace strata::lsm::testing
