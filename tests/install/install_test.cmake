cmake_minimum_required(VERSION 3.25)
# Installs the build into a temporary prefix, checks the layout, builds the SDK example plugin
# out of tree with find_package(bitnet-sdk), and has the installed `bitnet` load it.
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, GENERATOR.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")

foreach(f bin/bitnet lib/libbitnet.so lib/bitnet/plugins/bitnet-cpu-generic.so
          include/bitnet/abi.h include/bitnet/backend.h include/bitnet/tokenizer_source.h
          include/bitnet/sdk/plugin.hpp lib/cmake/bitnet-sdk/bitnet-sdkConfig.cmake
          lib/cmake/bitnet-sdk/BitnetPlugin.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install layout: ${prefix}/${f} is missing")
  endif()
endforeach()
file(GLOB stray "${prefix}/lib/bitnet/plugins/*test*")
if(stray)
  message(FATAL_ERROR "test plugins were installed: ${stray}")
endif()

run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/sdk/examples/scale-backend" -B "${WORK_DIR}/example"
    -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/example")

run(${CMAKE_COMMAND} -E env "BITNET_PLUGIN_PATH=${WORK_DIR}/example" BITNET_LOG=warn
    "${prefix}/bin/bitnet" plugins --json)
string(JSON n LENGTH "${out}" plugins)
math(EXPR last "${n} - 1")
set(found "")
foreach(i RANGE ${last})
  string(JSON name GET "${out}" plugins ${i} name)
  string(JSON status GET "${out}" plugins ${i} status)
  string(JSON path GET "${out}" plugins ${i} path)
  # A plugin may decline this machine (score 0: the cuda plugin without a GPU); any other
  # refusal means the install is broken.
  string(JSON reason ERROR_VARIABLE no_reason GET "${out}" plugins ${i} reason)
  if(NOT status STREQUAL "loaded" AND NOT reason MATCHES "^score 0 on this machine")
    message(FATAL_ERROR "plugin ${name} was not loaded: ${out}")
  endif()
  list(APPEND found "${name}")
  if(name STREQUAL "cpu-generic" AND NOT path MATCHES "^${prefix}/lib/bitnet/plugins/")
    message(FATAL_ERROR "installed bitnet used cpu-generic from ${path}, not the install")
  endif()
endforeach()
if(NOT "example-scale" IN_LIST found OR NOT "cpu-generic" IN_LIST found)
  message(FATAL_ERROR "expected example-scale and cpu-generic, found: ${found}")
endif()
message(STATUS "install layout and out-of-tree SDK plugin: ok (${found})")
