# strata_snapshot_bench: checkpoints and snapshot streams against the disk's
# sequential write rate, measured in the same run.
add_executable(strata_snapshot_bench ${CMAKE_CURRENT_LIST_DIR}/snapshot_bench.cc)
target_link_libraries(strata_snapshot_bench PRIVATE strata strata_snapshot fmt::fmt Threads::Threads)
target_compile_definitions(strata_snapshot_bench PRIVATE
  STRATA_BENCH_DEFAULT_DIR="${CMAKE_BINARY_DIR}/bench-scratch/snapshot")
