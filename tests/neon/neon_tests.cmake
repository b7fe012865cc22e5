# The `neon` tests, included by tests/CMakeLists.txt. With Debian's g++-aarch64-linux-gnu and
# qemu-user: neon.build cross-builds tests/neon (cpu-generic, cpu-neon and the harness) at test
# time, then the harness runs under qemu-aarch64 on two emulated CPUs, one with the dot-product
# extension (max) and one without (Cortex-A57), so both int8 kernel paths are checked. Without
# them, neon.unavailable reports itself skipped and says what to install.
find_program(BITNET_AARCH64_CXX aarch64-linux-gnu-g++)
find_program(BITNET_QEMU_AARCH64 qemu-aarch64)
set(BITNET_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "arm64 libraries for qemu -L")

if(BITNET_AARCH64_CXX AND BITNET_QEMU_AARCH64)
  set(neon_dir ${CMAKE_CURRENT_BINARY_DIR}/neon)
  add_test(NAME neon.build
    COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DWORK_DIR=${neon_dir}
            -DGENERATOR=${CMAKE_GENERATOR} -P ${CMAKE_CURRENT_LIST_DIR}/run_neon.cmake)
  set_tests_properties(neon.build PROPERTIES LABELS neon FIXTURES_SETUP neon_build TIMEOUT 900)
  foreach(cpu max cortex-a57)
    if(cpu STREQUAL "max")
      set(path sdot)
      set(sdot 1)
    else()
      set(path plain)
      set(sdot 0)
    endif()
    foreach(suite ops model)
      add_test(NAME neon.${suite}_${path}
        COMMAND ${BITNET_QEMU_AARCH64} -L ${BITNET_AARCH64_SYSROOT} -cpu ${cpu}
                ${neon_dir}/neon_conformance --run_test=${suite})
      # The op tests run the plugins' parallel paths on three threads; the model tests stay on
      # one, since every parallel_for spawns its threads and qemu makes that slow.
      if(suite STREQUAL "ops")
        set(threads 3)
      else()
        set(threads 1)
      endif()
      set_tests_properties(neon.${suite}_${path} PROPERTIES LABELS neon
        FIXTURES_REQUIRED neon_build TIMEOUT 600
        ENVIRONMENT "NEON_EXPECT_SDOT=${sdot};NEON_THREADS=${threads}")
    endforeach()
  endforeach()
else()
  set(missing "")
  if(NOT BITNET_AARCH64_CXX)
    list(APPEND missing aarch64-linux-gnu-g++)
  endif()
  if(NOT BITNET_QEMU_AARCH64)
    list(APPEND missing qemu-aarch64)
  endif()
  list(JOIN missing " and " missing)
  add_test(NAME neon.unavailable COMMAND ${CMAKE_COMMAND} -E echo
    "SKIPPED: the neon tests need ${missing}, not found on PATH; tools/install-deps.sh installs them (Debian's g++-aarch64-linux-gnu and qemu-user)")
  set_tests_properties(neon.unavailable PROPERTIES LABELS neon SKIP_REGULAR_EXPRESSION "SKIPPED")
endif()

# On any other CPU the cpu-neon built here is the stub: it must be listed, scored 0, and say why.
if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  add_test(NAME neon.scores_zero_off_arm64 COMMAND bitnet_cli plugins)
  set_tests_properties(neon.scores_zero_off_arm64 PROPERTIES LABELS neon
    PASS_REGULAR_EXPRESSION "cpu-neon  backend[^\n]*rejected: score 0 on this machine: [^\n]*run only on arm64")
endif()
