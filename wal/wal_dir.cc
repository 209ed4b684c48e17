#include "wal/wal_dir.h"

#include <fmt/core.h>

#include <filesystem>

#include "wal/log.h"

namespace strata::wal {

namespace {

std::string Absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Status ResolveWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& option,
                     std::string* wal_dir) {
  const std::string default_dir = io::JoinPath(db_dir, "wal");
  const std::string record_path = io::JoinPath(db_dir, kWalDirFileName);
  std::string recorded;
  if (fs->FileExists(record_path)) {
    STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs, record_path, &recorded));
    if (recorded.empty() || recorded.back() != '\n' || recorded.front() != '/') {
      return Status::Corruption(
          fmt::format("{} @ 0: expected one line holding an absolute path", record_path));
    }
    recorded.pop_back();
  }
  if (option.empty()) {
    *wal_dir = recorded.empty() ? default_dir : recorded;
    return Status::Ok();
  }
  const std::string wanted = Absolute(option);
  if (!recorded.empty()) {
    if (recorded != wanted) {
      return Status::InvalidArgument(fmt::format(
          "wal_dir {}: the WAL of {} lives in {} ({}); open with that wal_dir (or none)", wanted,
          db_dir, recorded, record_path));
    }
    *wal_dir = recorded;
    return Status::Ok();
  }
  if (wanted == Absolute(default_dir)) {
    *wal_dir = default_dir;
    return Status::Ok();
  }
  bool default_has_segments = false;
  if (fs->FileExists(default_dir)) {
    STRATA_RETURN_IF_ERROR(HasSegmentFile(fs, default_dir, &default_has_segments));
  }
  if (default_has_segments) {
    return Status::InvalidArgument(fmt::format(
        "wal_dir {}: {} holds this database's WAL; moving a WAL is not supported", wanted,
        default_dir));
  }
  // A legitimate WAL directory is recorded (WALDIR) before its first
  // segment is written: segments without the record belong to another
  // database (or to the state a snapshot install replaced) and replaying
  // them here would apply foreign records.
  bool wanted_has_segments = false;
  if (fs->FileExists(wanted)) STRATA_RETURN_IF_ERROR(HasSegmentFile(fs, wanted, &wanted_has_segments));
  if (wanted_has_segments) {
    return Status::InvalidArgument(fmt::format(
        "wal_dir {} holds WAL segments, but {} does not record it ({}): the WAL of another "
        "database? Empty it or pick another directory",
        wanted, db_dir, record_path));
  }
  *wal_dir = wanted;
  return Status::Ok();
}

Status PrepareWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir) {
  if (wal_dir == io::JoinPath(db_dir, "wal")) return Status::Ok();
  const std::string record_path = io::JoinPath(db_dir, kWalDirFileName);
  // Created and made durable like the database directory, then recorded.
  STRATA_RETURN_IF_ERROR(fs->CreateDir(wal_dir));
  STRATA_RETURN_IF_ERROR(fs->SyncDir(io::DirName(wal_dir)));
  STRATA_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  if (fs->FileExists(record_path)) return Status::Ok();
  return io::WriteFileAtomically(fs, record_path, wal_dir + "\n");
}

}  // namespace strata::wal
