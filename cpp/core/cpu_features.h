// What the processor and the OS support, read once from CPUID/XGETBV.
#pragma once
#include <string>

namespace kerasette {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3 with OS-enabled YMM state
  bool avx512 = false;    // AVX-512 F/BW/DQ/VL with OS-enabled ZMM and opmask state
};

const CpuFeatures& cpu_features();

}  // namespace kerasette
