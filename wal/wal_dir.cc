#include "wal/wal_dir.h"

#include <fmt/core.h>

#include <filesystem>
#include <string_view>
#include <vector>

#include "wal/format.h"
#include "wal/log.h"

namespace strata::wal {

namespace {

constexpr std::string_view kReplaces = "replaces";
constexpr std::string_view kNew = "new";

std::string Absolute(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// WALDIR: one line, an absolute path ("" when the file is absent).
Status ReadWalDirFile(io::FileSystem* fs, const std::string& db_dir, std::string* recorded) {
  recorded->clear();
  const std::string record_path = io::JoinPath(db_dir, kWalDirFileName);
  if (!fs->FileExists(record_path)) return Status::Ok();
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs, record_path, recorded));
  if (recorded->empty() || recorded->back() != '\n' || recorded->front() != '/' ||
      recorded->find('\n') != recorded->size() - 1) {
    return Status::Corruption(
        fmt::format("{} @ 0: expected one line holding an absolute path", record_path));
  }
  recorded->pop_back();
  return Status::Ok();
}

// WALDIR.install: an absolute path, then "replaces" or "new", one per line.
Status ReadHandover(io::FileSystem* fs, const std::string& db_dir, std::string* wal_dir,
                    WalHandover* handover) {
  *handover = WalHandover{};
  wal_dir->clear();
  const std::string path = io::JoinPath(db_dir, kWalHandoverFileName);
  if (!fs->FileExists(path)) return Status::Ok();
  std::string text;
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs, path, &text));
  const size_t first = text.find('\n');
  const std::string_view mode =
      first == std::string::npos ? std::string_view() : std::string_view(text).substr(first + 1);
  if (first == std::string::npos || first == 0 || text.front() != '/' ||
      (mode != std::string(kReplaces) + "\n" && mode != std::string(kNew) + "\n")) {
    return Status::Corruption(fmt::format(
        "{} @ 0: expected an absolute path, then '{}' or '{}', one per line", path, kReplaces,
        kNew));
  }
  *wal_dir = text.substr(0, first);
  handover->pending = true;
  handover->replaces = mode.starts_with(kReplaces);
  return Status::Ok();
}

// Whether `dir` holds a WAL file of any kind: a segment, a segment being
// prepared or a free one (a log would replay the first, delete the second
// and recycle the third).
Status HasWalFile(io::FileSystem* fs, const std::string& dir, bool* any) {
  *any = false;
  if (!fs->FileExists(dir)) return Status::Ok();
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs->ListDir(dir, &names));
  for (const std::string& name : names) {
    uint64_t seq = 0;
    if (ParseFileName(name, &seq) != FileKind::kOther) *any = true;
  }
  return Status::Ok();
}

// Removes every WAL file (segments, temps, free segments) of `dir`, synced.
Status RemoveWalFiles(io::FileSystem* fs, const std::string& dir) {
  if (!fs->FileExists(dir)) return Status::Ok();
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs->ListDir(dir, &names));
  bool removed = false;
  for (const std::string& name : names) {
    uint64_t seq = 0;
    if (ParseFileName(name, &seq) == FileKind::kOther) continue;
    STRATA_RETURN_IF_ERROR(fs->RemoveFile(io::JoinPath(dir, name)));
    removed = true;
  }
  return removed ? fs->SyncDir(dir) : Status::Ok();
}

}  // namespace

std::string AbsoluteWalDir(const std::string& path) { return Absolute(path); }

Status ResolveWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& option,
                     std::string* wal_dir, WalHandover* handover) {
  const std::string default_dir = io::JoinPath(db_dir, "wal");
  const std::string record_path = io::JoinPath(db_dir, kWalDirFileName);
  std::string handover_dir;
  STRATA_RETURN_IF_ERROR(ReadHandover(fs, db_dir, &handover_dir, handover));
  if (handover->pending) {
    if (!option.empty() && Absolute(option) != handover_dir) {
      return Status::InvalidArgument(fmt::format(
          "wal_dir {}: the WAL of {} moves to {} ({}); open with that wal_dir (or none)",
          Absolute(option), db_dir, handover_dir, io::JoinPath(db_dir, kWalHandoverFileName)));
    }
    bool has_segments = false;
    if (!handover->replaces) {
      // WALDIR naming the directory already: an earlier open of this
      // handover wrote it after it found no WAL file there, so whatever is
      // there now is that open's own fresh WAL (it had written no record).
      std::string recorded;
      STRATA_RETURN_IF_ERROR(ReadWalDirFile(fs, db_dir, &recorded));
      if (recorded == handover_dir) {
        handover->replaces = true;
      } else {
        STRATA_RETURN_IF_ERROR(HasWalFile(fs, handover_dir, &has_segments));
      }
    }
    if (has_segments) {
      return Status::InvalidArgument(fmt::format(
          "wal_dir {} holds WAL segments that are not the replaced database's ({} was installed "
          "over no database using that directory): the WAL of another database? Empty it or "
          "pick another directory",
          handover_dir, db_dir));
    }
    *wal_dir = handover_dir;
    return Status::Ok();
  }
  std::string recorded;
  STRATA_RETURN_IF_ERROR(ReadWalDirFile(fs, db_dir, &recorded));
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
  STRATA_RETURN_IF_ERROR(HasWalFile(fs, wanted, &wanted_has_segments));
  if (wanted_has_segments) {
    return Status::InvalidArgument(fmt::format(
        "wal_dir {} holds WAL files, but {} does not record it ({}): the WAL of another "
        "database? Empty it or pick another directory",
        wanted, db_dir, record_path));
  }
  *wal_dir = wanted;
  return Status::Ok();
}

Status PrepareWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir,
                     const WalHandover& handover) {
  if (wal_dir == io::JoinPath(db_dir, "wal")) return Status::Ok();
  const std::string record_path = io::JoinPath(db_dir, kWalDirFileName);
  // Created and made durable like the database directory, then recorded.
  STRATA_RETURN_IF_ERROR(fs->CreateDir(wal_dir));
  STRATA_RETURN_IF_ERROR(fs->SyncDir(io::DirName(wal_dir)));
  STRATA_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  if (handover.pending) {
    // WALDIR.install proves both: the replaced state's segments are garbage
    // since the switch, and the installed state's own WAL holds nothing its
    // tables (or checkpoint) lack.
    if (handover.replaces) STRATA_RETURN_IF_ERROR(RemoveWalFiles(fs, wal_dir));
    STRATA_RETURN_IF_ERROR(RemoveWalFiles(fs, io::JoinPath(db_dir, "wal")));
    return io::WriteFileAtomically(fs, record_path, wal_dir + "\n");
  }
  if (fs->FileExists(record_path)) return Status::Ok();
  return io::WriteFileAtomically(fs, record_path, wal_dir + "\n");
}

Status FinishWalHandover(io::FileSystem* fs, const std::string& db_dir) {
  STRATA_RETURN_IF_ERROR(fs->RemoveFile(io::JoinPath(db_dir, kWalHandoverFileName)));
  return fs->SyncDir(db_dir);
}

Status RecordedWalDir(io::FileSystem* fs, const std::string& db_dir, std::string* wal_dir,
                      bool* proven) {
  WalHandover handover;
  STRATA_RETURN_IF_ERROR(ReadHandover(fs, db_dir, wal_dir, &handover));
  if (handover.pending) {
    // As ResolveWalDir: a WALDIR naming the directory proves that what is
    // there is this database's own (its interrupted handover's fresh WAL).
    std::string recorded;
    STRATA_RETURN_IF_ERROR(ReadWalDirFile(fs, db_dir, &recorded));
    *proven = handover.replaces || recorded == *wal_dir;
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(ReadWalDirFile(fs, db_dir, wal_dir));
  *proven = !wal_dir->empty();
  return Status::Ok();
}

Status WriteWalHandover(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir,
                        bool replaces) {
  return io::WriteFileAtomically(
      fs, io::JoinPath(db_dir, kWalHandoverFileName),
      fmt::format("{}\n{}\n", Absolute(wal_dir), replaces ? kReplaces : kNew));
}

}  // namespace strata::wal
