#include "io/file_system.h"

#include <string>

namespace strata::io {

Status RandomAccessFile::ReadBatch(std::span<ReadRequest> requests) const {
  Status first;
  for (ReadRequest& req : requests) {
    req.status = Read(req.offset, req.length, req.buffer, &req.bytes_read);
    if (!req.status.ok() && first.ok()) first = req.status;
  }
  return first;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status ReadFileToString(FileSystem* fs, const std::string& path, std::string* data) {
  std::unique_ptr<RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(path, FileOptions{}, &file));
  STRATA_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  data->assign(size, '\0');
  size_t bytes_read = 0;
  STRATA_RETURN_IF_ERROR(file->Read(0, size, data->data(), &bytes_read));
  data->resize(bytes_read);
  return Status::Ok();
}

Status WriteFileAtomically(FileSystem* fs, const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(tmp, FileOptions{}, &file));
  STRATA_RETURN_IF_ERROR(file->Append(data));
  STRATA_RETURN_IF_ERROR(file->Sync());
  STRATA_RETURN_IF_ERROR(file->Close());
  STRATA_RETURN_IF_ERROR(fs->Rename(tmp, path));
  return fs->SyncDir(DirName(path));
}

}  // namespace strata::io
