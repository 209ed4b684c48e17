# strata_delete_range_bench: one DeleteRange over half the keys against
# deleting them one by one, for every engine kind (issue 11's DeleteRange bar).
add_executable(strata_delete_range_bench ${CMAKE_CURRENT_LIST_DIR}/delete_range_bench.cc)
target_link_libraries(strata_delete_range_bench PRIVATE strata fmt::fmt)
target_compile_definitions(strata_delete_range_bench PRIVATE
  STRATA_BENCH_DEFAULT_DIR="${CMAKE_BINARY_DIR}/bench-scratch/delete_range")
