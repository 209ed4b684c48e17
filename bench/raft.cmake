# strata_raft_bench: a 3-node libraft cluster in one process on loopback
# (issue 12): commit throughput and latency with an in-memory state machine,
# strata engines on stock raft_uv and on LogStoreIo; snapshot install time
# against the disk's sequential write rate, measured in the same run.
if(TARGET strata_replica)
  add_executable(strata_raft_bench ${CMAKE_CURRENT_LIST_DIR}/raft_bench.cc)
  target_link_libraries(strata_raft_bench PRIVATE strata_replica strata fmt::fmt Threads::Threads)
  target_compile_definitions(strata_raft_bench PRIVATE
    STRATA_BENCH_DEFAULT_DIR="${CMAKE_BINARY_DIR}/bench-scratch/raft")
endif()
