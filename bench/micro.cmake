# Google Benchmark micro-benchmarks (libbenchmark-dev): block seek, bloom
# probe, XXH3, varint coding, memtable (skiplist) insert/lookup/scan. Run: build/release/bench/strata_micro_bench
find_package(benchmark CONFIG QUIET)
if(NOT benchmark_FOUND)
  message(STATUS "strata: Google Benchmark not found; strata_micro_bench is skipped")
  return()
endif()
file(GLOB STRATA_MICRO_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/micro/*.cc)
add_executable(strata_micro_bench ${STRATA_MICRO_SOURCES})
target_link_libraries(strata_micro_bench PRIVATE strata_lsm strata_lsm_table fmt::fmt benchmark::benchmark_main)
