// DefaultFileSystem(): the posix implementation until the io_uring one lands.
#include <memory>

#include "io/file_system.h"
#include "io/posix_file_system.h"

namespace strata::io {

std::shared_ptr<FileSystem> DefaultFileSystem() {
  static const std::shared_ptr<FileSystem> fs = std::make_shared<PosixFileSystem>();
  return fs;
}

}  // namespace strata::io
