# Every dependency comes from Debian's archive (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)

# Optional peers and replication; missing ones are skipped with a message.
find_package(RocksDB CONFIG QUIET)
find_package(leveldb CONFIG QUIET)
pkg_check_modules(LMDB QUIET IMPORTED_TARGET lmdb)
pkg_check_modules(RAFT QUIET IMPORTED_TARGET raft)
pkg_check_modules(LIBUV QUIET IMPORTED_TARGET libuv)
foreach(peer RocksDB leveldb LMDB RAFT)
  if(NOT ${peer}_FOUND)
    message(STATUS "strata: ${peer} not found; the parts that need it are skipped")
  endif()
endforeach()
