# ple_kernel_tests_avx512emu: the kernel tests (test_kernels_isa.cpp) linked against the kernels
# only, with each csrc/kernels/x86/*_avx512.cpp compiled through a wrapper that defines
# PLE_SIMDE_AVX512: x86_intrin.h then maps the AVX-512 intrinsics to SIMDe's portable versions
# and the file builds with the AVX2 flags. dispatch.cpp gets PLE_EMULATED_AVX512, which makes the
# "avx512" table usable on any AVX2 CPU. Never part of a shipped build.
if(NOT PLE_X86)
  message(FATAL_ERROR "PYLLAMA_EDGE_EMULATE_AVX512 needs an x86-64 build")
endif()
find_path(PLE_SIMDE_INCLUDE_DIR simde/x86/avx512.h REQUIRED)

file(GLOB _ple_emu_avx512 CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/csrc/kernels/x86/*_avx512.cpp")
set(_ple_emu_wrappers "")
foreach(_src IN LISTS _ple_emu_avx512)
  get_filename_component(_name "${_src}" NAME_WE)
  set(_wrapper "${CMAKE_CURRENT_BINARY_DIR}/avx512emu/${_name}_emu.cpp")
  file(CONFIGURE OUTPUT "${_wrapper}" CONTENT "#define PLE_SIMDE_AVX512 1\n#include \"${_src}\"\n")
  list(APPEND _ple_emu_wrappers "${_wrapper}")
endforeach()
# -Wno-psabi: SIMDe passes its 512-bit vector types by value, which gcc flags without AVX-512.
set_source_files_properties(${_ple_emu_wrappers} PROPERTIES COMPILE_OPTIONS "${PLE_AVX2_FLAGS};-Wno-psabi")

file(GLOB _ple_emu_sources CONFIGURE_DEPENDS
  "${PROJECT_SOURCE_DIR}/csrc/kernels/*.cpp" "${PROJECT_SOURCE_DIR}/csrc/kernels/ref/*.cpp"
  "${PROJECT_SOURCE_DIR}/csrc/kernels/x86/*_avx2.cpp" "${PROJECT_SOURCE_DIR}/csrc/quant/*.cpp")
add_executable(ple_kernel_tests_avx512emu ${_ple_emu_sources} ${_ple_emu_wrappers}
  "${PROJECT_SOURCE_DIR}/tests/native/main.cpp" "${PROJECT_SOURCE_DIR}/tests/native/test_kernels_isa.cpp")
target_include_directories(ple_kernel_tests_avx512emu PRIVATE csrc "${PLE_SIMDE_INCLUDE_DIR}")
target_compile_definitions(ple_kernel_tests_avx512emu PRIVATE PLE_BUILT_AVX2=1 PLE_BUILT_AVX512=1 PLE_EMULATED_AVX512=1)
target_link_libraries(ple_kernel_tests_avx512emu PRIVATE ple_warnings)
add_test(NAME ple_kernel_tests_avx512emu COMMAND ple_kernel_tests_avx512emu kernels_isa)
