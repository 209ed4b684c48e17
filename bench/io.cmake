# strata_io_bench: the io layer against fio (io_uring engine) on the same files.
add_executable(strata_io_bench ${CMAKE_CURRENT_LIST_DIR}/io_bench.cc)
target_link_libraries(strata_io_bench PRIVATE strata_io fmt::fmt)
target_compile_definitions(strata_io_bench PRIVATE
  STRATA_BENCH_DEFAULT_DIR="${CMAKE_BINARY_DIR}/bench-scratch/io")
