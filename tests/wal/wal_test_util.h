// Helpers shared by the WAL tests: small-segment options, replay into a vector,
// raw segment file edits.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "io/file_system.h"
#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal::testing {

inline LogOptions SmallOptions(SegmentPreparation prep = SegmentPreparation::kZeroFill) {
  LogOptions options;
  options.segment_bytes = kSegmentBytesMin;  // 64 KiB: rollovers in milliseconds
  options.segment_chunk_bytes = 8 * kKiB;    // and a growth every few records
  options.preparation = prep;
  return options;
}

using Records = std::vector<std::pair<uint64_t, std::string>>;

inline Records ReplayAll(Log* log, uint64_t from_lsn = 1) {
  Records out;
  Status s = log->Replay(from_lsn, [&](uint64_t lsn, std::string_view payload) {
    out.emplace_back(lsn, std::string(payload));
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

inline std::string Payload(uint64_t i, size_t bytes = 100) {
  std::string p = "record-" + std::to_string(i) + ":";
  while (p.size() < bytes) p.push_back(static_cast<char>('a' + (p.size() + i) % 26));
  p.resize(bytes);
  return p;
}

inline std::string ReadFile(const std::string& path) {
  std::string data;
  EXPECT_TRUE(io::ReadFileToString(io::DefaultFileSystem().get(), path, &data).ok());
  return data;
}

inline void WriteFileAt(const std::string& path, uint64_t offset, std::string_view bytes) {
  std::unique_ptr<io::WritableFile> file;
  ASSERT_TRUE(io::DefaultFileSystem()->ReopenWritableFile(path, io::FileOptions{}, &file).ok());
  ASSERT_TRUE(file->WriteAt(offset, bytes).ok());
  ASSERT_TRUE(file->Sync().ok());
}

inline void FlipBit(const std::string& path, uint64_t offset, int bit) {
  std::string data = ReadFile(path);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ (1 << bit));
  WriteFileAt(path, offset, std::string_view(data).substr(offset, 1));
}

inline std::string SegmentPath(const std::string& dir, uint64_t seq) {
  return io::JoinPath(dir, SegmentFileName(seq));
}

}  // namespace strata::wal::testing
