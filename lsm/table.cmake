# SSTable half of the LSM module: blocks, bloom filter, table builder/reader,
# block cache, merging iterator. lsm/db.cmake (memtable, versions, compaction,
# engine) builds on it.
strata_library(strata_lsm_table
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/block.cc
    ${CMAKE_CURRENT_LIST_DIR}/block_builder.cc
    ${CMAKE_CURRENT_LIST_DIR}/block_cache.cc
    ${CMAKE_CURRENT_LIST_DIR}/bloom.cc
    ${CMAKE_CURRENT_LIST_DIR}/format.cc
    ${CMAKE_CURRENT_LIST_DIR}/lz4_block.cc
    ${CMAKE_CURRENT_LIST_DIR}/merging_iterator.cc
    ${CMAKE_CURRENT_LIST_DIR}/range_del.cc
    ${CMAKE_CURRENT_LIST_DIR}/table.cc
    ${CMAKE_CURRENT_LIST_DIR}/table_builder.cc
    ${CMAKE_CURRENT_LIST_DIR}/table_iterator.cc
    ${CMAKE_CURRENT_LIST_DIR}/table_properties.cc
  LIBS strata_io PkgConfig::ZSTD PkgConfig::LZ4)
# The strata umbrella library (and so the `strata` tool) links it. Appended in
# this scope first so that db.cmake's own append keeps it.
list(APPEND STRATA_ENGINE_LIBRARIES strata_lsm_table)
set(STRATA_ENGINE_LIBRARIES ${STRATA_ENGINE_LIBRARIES} PARENT_SCOPE)
