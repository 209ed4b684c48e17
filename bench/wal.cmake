# strata_wal_bench: wal::Log sync appends against a plain pwrite+fdatasync
# loop and RocksDB sync writes; recovery speed against the disk's sequential
# read rate; segment preparation modes.
add_executable(strata_wal_bench ${CMAKE_CURRENT_LIST_DIR}/wal_bench.cc)
target_link_libraries(strata_wal_bench PRIVATE strata_wal fmt::fmt Threads::Threads)
target_compile_definitions(strata_wal_bench PRIVATE
  STRATA_BENCH_DEFAULT_DIR="${CMAKE_BINARY_DIR}/bench-scratch/wal")
if(RocksDB_FOUND)
  target_link_libraries(strata_wal_bench PRIVATE RocksDB::rocksdb)
  target_compile_definitions(strata_wal_bench PRIVATE STRATA_HAVE_ROCKSDB=1)
else()
  message(STATUS "strata: strata_wal_bench without the RocksDB comparison")
endif()
