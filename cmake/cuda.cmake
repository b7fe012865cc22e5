# Finds the CUDA Toolkit: BITNET_CUDA=AUTO uses it when nvcc is present (PATH or
# /usr/local/cuda), ON requires it, OFF ignores it. Sets BITNET_HAVE_CUDA.
set(BITNET_HAVE_CUDA OFF)
if(NOT BITNET_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "BITNET_CUDA is '${BITNET_CUDA}'; use AUTO, ON or OFF")
endif()
if(NOT BITNET_CUDA STREQUAL "OFF")
  # check_language(CUDA) test-compiles with CUDACXX; setting CMAKE_CUDA_COMPILER instead would
  # skip that test and accept a broken toolkit.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(BITNET_HAVE_CUDA ON)
    message(STATUS "bitnet: CUDA compiler ${CMAKE_CUDA_COMPILER}")
    enable_language(CUDA)
    # CMake 3.25 does not know that nvcc 12+ speaks C++20, which the project's targets ask for.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION -std=c++20)
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION -std=c++20)
      set(CMAKE_CUDA20_COMPILE_FEATURES cuda_std_20)
      list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    endif()
  elseif(BITNET_CUDA STREQUAL "ON")
    message(FATAL_ERROR "BITNET_CUDA=ON but no working nvcc was found in PATH or "
                        "/usr/local/cuda/bin; install the CUDA Toolkit, set CUDACXX, or "
                        "configure with -DBITNET_CUDA=AUTO")
  else()
    message(STATUS "bitnet: no CUDA compiler found; GPU support is not built")
  endif()
endif()
