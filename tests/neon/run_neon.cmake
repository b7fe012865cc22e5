# neon.build: configures and builds tests/neon for arm64 with the cross toolchain, in WORK_DIR.
# Run with cmake -P; SOURCE_DIR (the repository), WORK_DIR and GENERATOR are required. An
# incremental build when WORK_DIR already holds one.
foreach(var SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT ${var})
    message(FATAL_ERROR "run_neon.cmake needs -D${var}=...")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/neon -B ${WORK_DIR} -G ${GENERATOR}
          -DCMAKE_BUILD_TYPE=Release
          -DCMAKE_TOOLCHAIN_FILE=${SOURCE_DIR}/cmake/aarch64-linux-gnu.cmake
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the arm64 test build in ${WORK_DIR} failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR} -j 2 RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building cpu-neon, cpu-generic and the harness for arm64 failed (${rc})")
endif()
