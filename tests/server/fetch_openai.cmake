# Test fixture: the official `openai` npm client, installed once into CACHE_DIR and kept across
# builds, for tests/integration/server_openai_test.cpp. When npm or its registry cannot be
# reached this prints a notice and succeeds: the client tests then report themselves skipped.
# Inputs: CACHE_DIR, VERSION.
set(package ${CACHE_DIR}/node_modules/openai/package.json)
if(EXISTS ${package})
  file(READ ${package} manifest)
  string(JSON have GET "${manifest}" version)
  if(have STREQUAL VERSION)
    return()
  endif()
endif()
find_program(NPM npm)
if(NOT NPM)
  message(STATUS "NOTICE: npm is not installed; the openai client tests will be skipped "
                 "(apt-get install npm)")
  return()
endif()
file(MAKE_DIRECTORY ${CACHE_DIR})
execute_process(COMMAND ${NPM} install --prefix ${CACHE_DIR} --no-audit --no-fund
                        --no-package-lock openai@${VERSION}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out TIMEOUT 300)
if(NOT rc EQUAL 0)
  message(STATUS "NOTICE: npm could not install openai@${VERSION} (is the npm registry "
                 "reachable?); the openai client tests will be skipped:\n${out}")
  return()
endif()
message(STATUS "installed openai@${VERSION} into ${CACHE_DIR}")
