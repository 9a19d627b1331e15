# cuda_arch.cmake: the CUDA targets when the user names none (-DCMAKE_CUDA_ARCHITECTURES=... or the
# CUDAARCHS environment variable). Included after check_language(CUDA), before enable_language(CUDA).
#  - A GPU present (nvidia-smi reports its compute capability): code for that GPU only, as CMake's
#    `native` does, except that Hopper (9.0) gets sm_90a: `native` means plain sm_90, which leaves
#    out the arch-specific instructions (wgmma, setmaxnreg) of the Hopper kernels.
#  - No GPU (CI, a build machine) or one this nvcc cannot target: SASS for each GPU family from
#    sm_80 up that this nvcc supports, 80 (A100), 86 (A10, A40, RTX 30), 89 (L4, L40S, RTX 40) and
#    90a (H100, H200), plus compute_90 PTX, which the driver JIT-compiles on any newer GPU
#    (Blackwell): 90a PTX would not do, arch-specific code runs on its own architecture only.
# The engine picks its code path at run time from what the driver loaded (src/engine/code_path.h).

function(rl_nvcc_sm_list out)
  execute_process(COMMAND ${CMAKE_CUDA_COMPILER} --list-gpu-code OUTPUT_VARIABLE codes RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    set(codes "sm_80 sm_86 sm_89 sm_90") # an nvcc older than --list-gpu-code: assume CUDA 12's set
  endif()
  string(REGEX MATCHALL "sm_[0-9]+" sms "${codes}")
  string(REPLACE "sm_" "" sms "${sms}")
  set(${out} "${sms}" PARENT_SCOPE)
endfunction()

function(rl_default_cuda_archs out why)
  rl_nvcc_sm_list(supported)
  find_program(RL_NVIDIA_SMI nvidia-smi)
  set(present "")
  if(RL_NVIDIA_SMI)
    execute_process(COMMAND ${RL_NVIDIA_SMI} --query-gpu=compute_cap --format=csv,noheader
                    OUTPUT_VARIABLE caps RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0)
      string(REGEX MATCHALL "[0-9]+\\.[0-9]+" caps "${caps}")
      foreach(c ${caps})
        string(REPLACE "." "" a "${c}")
        list(APPEND present ${a})
      endforeach()
      list(REMOVE_DUPLICATES present)
    endif()
  endif()
  set(archs "")
  set(ok ON)
  foreach(a ${present})
    if(NOT a IN_LIST supported OR a LESS 80)
      set(ok OFF)
    elseif(a EQUAL 90)
      list(APPEND archs 90a)
    else()
      list(APPEND archs ${a})
    endif()
  endforeach()
  if(present AND ok)
    set(${why} "the GPU present (compute capability ${present})" PARENT_SCOPE)
    set(${out} "${archs}" PARENT_SCOPE)
    return()
  endif()
  set(archs "")
  foreach(a 80 86 89)
    if(a IN_LIST supported)
      list(APPEND archs ${a}-real)
    endif()
  endforeach()
  if(90 IN_LIST supported)
    list(APPEND archs 90a-real 90-virtual)
  endif()
  if(present)
    set(${why} "a fat binary: this nvcc cannot target the GPU present (compute capability ${present})" PARENT_SCOPE)
  else()
    set(${why} "a fat binary: no GPU found" PARENT_SCOPE)
  endif()
  set(${out} "${archs}" PARENT_SCOPE)
endfunction()

if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  rl_default_cuda_archs(_rl_archs _rl_why)
  set(CMAKE_CUDA_ARCHITECTURES "${_rl_archs}" CACHE STRING
      "CUDA targets (default: the GPU present, else sm_80, 86, 89, 90a + compute_90 PTX)")
  message(STATUS "ridgeline: CUDA targets ${_rl_archs}: ${_rl_why}")
endif()
