# The LSM engine ("db layer"): memtable, versions and manifest, compaction,
# the engine itself. Tables (strata_lsm_table) come from table.cmake.
strata_library(strata_lsm
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/arena.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/memtable.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/memtable_filter.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/version_edit.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/manifest.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/version_set.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/table_cache.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/compaction_picker.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/compaction_job.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/wal_payload.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/info_log.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/db_iter.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/db_impl.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/db_read.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/super_version.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/bulk_load.cc
  LIBS strata_lsm_table strata_wal strata_batch strata_core strata_io fmt::fmt Threads::Threads)
set(STRATA_ENGINE_LIBRARIES ${STRATA_ENGINE_LIBRARIES} strata_lsm strata_lsm_table PARENT_SCOPE)
target_sources(strata_lsm PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/scrub.cc)
