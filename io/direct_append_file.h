// DirectAppendFile: an append-only WritableFile over an O_DIRECT file, for
// large sequential writes that should not fill the page cache (table files
// written by flushes and compactions on the hdd profile, docs/PROFILES.md).
//
// Appends gather in one AlignedBuffer of `buffer_bytes` (rounded up to
// kDirectIoAlignment) and reach the file as whole aligned writes. Sync,
// SyncAll and Close also write the unaligned tail, zero-padded to the next
// 4 KiB, then truncate the file back to its logical size, so the file holds
// exactly the appended bytes; the tail stays in the buffer and is written
// again (whole block) by the next flush of the buffer. WriteAt,
// WriteAtAndSync and Truncate are NotSupported (append only).
//
// Thread safety: one user at a time, as every WritableFile.
#pragma once

#include <memory>
#include <string>

#include "io/file_system.h"

namespace strata::io {

// Creates or truncates `path` with O_DIRECT. Where the file system refuses
// O_DIRECT (tmpfs), the file is opened buffered instead and *direct is false.
Status NewDirectAppendFile(FileSystem* fs, const std::string& path, size_t buffer_bytes,
                           std::unique_ptr<WritableFile>* file, bool* direct);

// The same append buffer over a buffered (page cache) file: appends reach
// the file as writes of `buffer_bytes`, and Sync, SyncAll and Close write
// the rest as it is (no padding, nothing written twice). Table files of the
// ssd profile: one write system call per MiB instead of one per block, and
// the device gets large requests whatever the kernel's writeback does.
Status NewBufferedAppendFile(FileSystem* fs, const std::string& path, size_t buffer_bytes,
                             std::unique_ptr<WritableFile>* file);

}  // namespace strata::io
