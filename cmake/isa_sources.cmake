# Per-ISA kernel files: each compiled with its own flags so that no wider instruction can leak
# into code that runs before (or without) the run-time CPU check. Nothing here uses -march=native.
# Only the thin per-ISA .cpp files are compiled: on both architectures they instantiate their
# family's header of templates (csrc/kernels/<arch>/<family>_<arch>.h) with their ISA's policy,
# all with internal linkage, so each instantiation carries its own file's flags.
set(PLE_X86 OFF)
set(PLE_ARM OFF)
set(_ple_target_cpu "${CMAKE_SYSTEM_PROCESSOR}")
# macOS builds for the architectures they are asked for, not the host's (cibuildwheel cross-builds
# arm64 wheels on x86_64 runners). A universal2 build gets no SIMD files: one flag set cannot
# serve both slices.
if(APPLE AND CMAKE_OSX_ARCHITECTURES)
  set(_ple_target_cpu "${CMAKE_OSX_ARCHITECTURES}")
endif()
if(_ple_target_cpu MATCHES "^(x86_64|AMD64|amd64)$")
  set(PLE_X86 ON)
elseif(_ple_target_cpu MATCHES "^(aarch64|arm64|ARM64)$")
  set(PLE_ARM ON)
endif()

function(ple_add_isa_sources glob_pattern flags define)
  file(GLOB _srcs CONFIGURE_DEPENDS ${glob_pattern})
  if(_srcs)
    target_sources(ple_core PRIVATE ${_srcs})
    set_source_files_properties(${_srcs} PROPERTIES COMPILE_OPTIONS "${flags}")
    target_compile_definitions(ple_core PRIVATE ${define}=1)
  endif()
endfunction()

# x86 kernels fuse multiply-adds only where they say so (_mm*_fmadd_ps): -ffp-contract=off keeps
# the compiler from fusing the separate multiplies and adds that must match a __ref twin.
set(PLE_AVX2_FLAGS "-mavx2;-mfma;-mf16c;-ffp-contract=off")
set(PLE_AVX512_FLAGS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-ffp-contract=off")
if(PLE_X86 AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  ple_add_isa_sources("${PROJECT_SOURCE_DIR}/csrc/kernels/x86/*_avx2.cpp" "${PLE_AVX2_FLAGS}" PLE_BUILT_AVX2)
  ple_add_isa_sources("${PROJECT_SOURCE_DIR}/csrc/kernels/x86/*_avx512.cpp" "${PLE_AVX512_FLAGS}" PLE_BUILT_AVX512)
endif()

# Feature detection runs before any check, so it is built at the baseline and never joins LTO
# (where it could be merged with code built for wider ISAs).
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set_source_files_properties("${PROJECT_SOURCE_DIR}/csrc/kernels/cpu_features.cpp" PROPERTIES COMPILE_OPTIONS "-fno-lto")
endif()
# AArch64: NEON is the baseline (no flag); dotprod and i8mm files get -march flags that gcc and
# (Apple) clang both accept. -ffp-contract=off as for x86: gcc's arm_neon.h writes vmulq/vaddq as
# plain vector * and +, which it would otherwise fuse into fmla where a kernel must not.
# zig's clang reads -march as a CPU name, so its toolchain file spells these two with -mcpu.
if(NOT DEFINED PLE_ARM_DOTPROD_FLAGS)
  set(PLE_ARM_DOTPROD_FLAGS "-march=armv8.2-a+dotprod")
endif()
if(NOT DEFINED PLE_ARM_I8MM_FLAGS)
  set(PLE_ARM_I8MM_FLAGS "-march=armv8.2-a+dotprod+i8mm")
endif()
if(PLE_ARM AND CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  ple_add_isa_sources("${PROJECT_SOURCE_DIR}/csrc/kernels/arm/*_neon.cpp" "-ffp-contract=off" PLE_BUILT_NEON)
  ple_add_isa_sources("${PROJECT_SOURCE_DIR}/csrc/kernels/arm/*_dotprod.cpp"
    "${PLE_ARM_DOTPROD_FLAGS};-ffp-contract=off" PLE_BUILT_DOTPROD)
  ple_add_isa_sources("${PROJECT_SOURCE_DIR}/csrc/kernels/arm/*_i8mm.cpp"
    "${PLE_ARM_I8MM_FLAGS};-ffp-contract=off" PLE_BUILT_I8MM)
endif()

# The scalar twins are the specification, and the weight quantizers write model files: no
# contraction of a*b+c into FMA, so every platform computes them bit for bit the same.
file(GLOB PLE_REF_SOURCES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/csrc/kernels/ref/*.cpp"
  "${PROJECT_SOURCE_DIR}/csrc/quant/weight_quantizers.cpp")
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  set_source_files_properties(${PLE_REF_SOURCES} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
endif()
