# CTest's fuzz.gguf_reader: builds the fuzz target with clang, writes a seed corpus of random
# models of every architecture with the project's writer, and fuzzes for FUZZ_SECONDS.
# Inputs: SOURCE_DIR, WORK_DIR, CLANGXX, GENERATOR, RANDOM_MODEL, FUZZ_SECONDS.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()

set(build ${WORK_DIR}/build)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/fuzz -B ${build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo)
run(${CMAKE_COMMAND} --build ${build})

# Seeds stay small (one layer, narrow) so that mutations are cheap; they still carry every
# part of a real file: tokenizer arrays, hyperparameters, tensors of several types.
set(seeds ${WORK_DIR}/seeds)
file(REMOVE_RECURSE ${seeds})
file(MAKE_DIRECTORY ${seeds})
set(small --layers 1 --embd 32 --heads 2 --kv-heads 1 --ff 64)
foreach(arch llama bitnet-b1.58 qwen2 phi3)
  run(${RANDOM_MODEL} --arch ${arch} ${small} --embedding F16 --out ${seeds}/${arch}.gguf)
  run(${RANDOM_MODEL} --arch ${arch} ${small} --weights Q8_0 --embedding BF16 --untied
      --no-tokenizer --out ${seeds}/${arch}-q8.gguf)
endforeach()
run(${RANDOM_MODEL} --arch bitnet-b1.58 --layers 1 --embd 128 --heads 2 --kv-heads 1 --ff 128
    --weights I2_S --embedding F16 --no-tokenizer --out ${seeds}/bitnet-i2s.gguf)

# New inputs go to a fresh corpus folder; findings (crash-*, leak-*, timeout-*) to artifacts/.
set(corpus ${WORK_DIR}/corpus)
set(artifacts ${WORK_DIR}/artifacts)
file(REMOVE_RECURSE ${corpus} ${artifacts})
file(MAKE_DIRECTORY ${corpus} ${artifacts})
execute_process(
  COMMAND ${build}/gguf_reader_fuzz -max_total_time=${FUZZ_SECONDS} -timeout=10
          -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${artifacts}/
          ${corpus} ${seeds}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${out}")
string(REGEX MATCH "DONE +cov: [0-9]+ ft: [0-9]+ corp: [0-9]+" done "${out}")
message(STATUS "fuzzing: ${runs}; ${done}")
if(NOT rc EQUAL 0)
  file(GLOB findings ${artifacts}/*)
  message(FATAL_ERROR "the fuzzer found a problem (exit ${rc}); inputs: ${findings}\n${out}")
endif()
