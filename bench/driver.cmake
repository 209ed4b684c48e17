# `strata bench`: the side-by-side benchmark driver (bench/driver/*) as the
# library strata_bench_driver, linked into the strata CLI. Peers are compiled
# in only when cmake/StrataDeps.cmake found them; a missing one is skipped at
# run time with a message.
set(STRATA_BENCH_DRIVER_DIR ${CMAKE_CURRENT_LIST_DIR}/driver)
set(strata_bench_driver_sources
  ${STRATA_BENCH_DRIVER_DIR}/adapter.cc
  ${STRATA_BENCH_DRIVER_DIR}/adapter_strata.cc
  ${STRATA_BENCH_DRIVER_DIR}/flags.cc
  ${STRATA_BENCH_DRIVER_DIR}/generators.cc
  ${STRATA_BENCH_DRIVER_DIR}/harness.cc
  ${STRATA_BENCH_DRIVER_DIR}/histogram.cc
  ${STRATA_BENCH_DRIVER_DIR}/matrix.cc
  ${STRATA_BENCH_DRIVER_DIR}/metrics.cc
  ${STRATA_BENCH_DRIVER_DIR}/output.cc
  ${STRATA_BENCH_DRIVER_DIR}/plot.cc
  ${STRATA_BENCH_DRIVER_DIR}/results.cc
  ${STRATA_BENCH_DRIVER_DIR}/runner.cc
  ${STRATA_BENCH_DRIVER_DIR}/workloads.cc
  ${STRATA_BENCH_DRIVER_DIR}/ycsb.cc)
set(strata_bench_driver_libs strata fmt::fmt Threads::Threads)
set(strata_bench_driver_defs "")
if(RocksDB_FOUND)
  list(APPEND strata_bench_driver_sources ${STRATA_BENCH_DRIVER_DIR}/adapter_rocksdb.cc)
  list(APPEND strata_bench_driver_libs RocksDB::rocksdb)
  list(APPEND strata_bench_driver_defs STRATA_BENCH_HAVE_ROCKSDB)
endif()
if(leveldb_FOUND)
  list(APPEND strata_bench_driver_sources ${STRATA_BENCH_DRIVER_DIR}/adapter_leveldb.cc)
  list(APPEND strata_bench_driver_libs leveldb::leveldb)
  list(APPEND strata_bench_driver_defs STRATA_BENCH_HAVE_LEVELDB)
endif()
if(LMDB_FOUND)
  list(APPEND strata_bench_driver_sources ${STRATA_BENCH_DRIVER_DIR}/adapter_lmdb.cc)
  list(APPEND strata_bench_driver_libs PkgConfig::LMDB)
  list(APPEND strata_bench_driver_defs STRATA_BENCH_HAVE_LMDB)
endif()

# Bench code follows the library rule: no exceptions (the flag parser
# reports errors as Status too).
add_library(strata_bench_driver STATIC ${strata_bench_driver_sources})
target_link_libraries(strata_bench_driver PUBLIC strata_flags ${strata_bench_driver_libs})
target_compile_options(strata_bench_driver PRIVATE -fno-exceptions)
target_compile_definitions(strata_bench_driver PRIVATE ${strata_bench_driver_defs})

target_link_libraries(strata_cli PRIVATE strata_bench_driver)
target_compile_definitions(strata_cli PRIVATE STRATA_HAVE_BENCH_DRIVER=1)
