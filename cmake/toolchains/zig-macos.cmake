# Cross-compiles for macOS with zig's clang and its bundled macOS SDK headers and libSystem stubs
# (the `ziglang` package on PyPI), so a Linux machine can prove that the project builds for Macs.
#   cmake -S . -B build/macos-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/zig-macos.cmake \
#         -DPLE_ZIG_TARGET=aarch64-macos          # or x86_64-macos
# Linking the Python extension needs a macOS libpython, which no Linux machine has; only the core,
# the native tests and the object files of the extension are built this way.
set(CMAKE_SYSTEM_NAME Darwin)

if(NOT PLE_ZIG_TARGET)
  set(PLE_ZIG_TARGET "$ENV{PLE_ZIG_TARGET}")
endif()
if(PLE_ZIG_TARGET MATCHES "^aarch64-macos")
  set(CMAKE_SYSTEM_PROCESSOR arm64)
  set(CMAKE_OSX_ARCHITECTURES arm64 CACHE STRING "" FORCE)
elseif(PLE_ZIG_TARGET MATCHES "^x86_64-macos")
  set(CMAKE_SYSTEM_PROCESSOR x86_64)
  set(CMAKE_OSX_ARCHITECTURES x86_64 CACHE STRING "" FORCE)
else()
  message(FATAL_ERROR "PLE_ZIG_TARGET must be aarch64-macos or x86_64-macos, not '${PLE_ZIG_TARGET}'")
endif()
# try_compile projects re-read this file: hand them the target.
set(ENV{PLE_ZIG_TARGET} "${PLE_ZIG_TARGET}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PLE_ZIG_TARGET)

if(NOT PLE_ZIG)
  find_program(_ple_python NAMES python3 python REQUIRED)
  execute_process(COMMAND "${_ple_python}" -c "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))"
    OUTPUT_VARIABLE PLE_ZIG OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _ple_rc)
  if(NOT _ple_rc EQUAL 0 OR NOT EXISTS "${PLE_ZIG}")
    message(FATAL_ERROR "zig not found: pip install ziglang")
  endif()
  set(PLE_ZIG "${PLE_ZIG}" CACHE FILEPATH "zig executable")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PLE_ZIG)

# A compiler given as a list: the executable, then its mandatory arguments.
set(CMAKE_C_COMPILER "${PLE_ZIG}" cc -target ${PLE_ZIG_TARGET})
set(CMAKE_CXX_COMPILER "${PLE_ZIG}" c++ -target ${PLE_ZIG_TARGET})
# zig's clang takes -march as a CPU name; the same features spelled as zig's -mcpu.
set(PLE_ARM_DOTPROD_FLAGS "-mcpu=generic+dotprod")
set(PLE_ARM_I8MM_FLAGS "-mcpu=generic+dotprod+i8mm")
# zig's archiver and no ranlib of the host's (which cannot read Mach-O objects).
set(CMAKE_AR "${CMAKE_CURRENT_LIST_DIR}/zig-ar.sh" CACHE FILEPATH "" FORCE)
set(CMAKE_RANLIB "${CMAKE_CURRENT_LIST_DIR}/zig-ranlib.sh" CACHE FILEPATH "" FORCE)

# Nothing of the host's: headers and libraries come from zig's macOS SDK stubs.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
