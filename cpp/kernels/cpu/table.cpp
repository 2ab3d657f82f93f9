// Assembles this ISA's kernel table from the kernel files of this folder.
#include "kernels/cpu/kernels.h"

namespace kerasette::cpu::KS_ISA {

void fill_gemm(CpuKernels& t);          // gemm_kernels.cpp
void fill_gemm_small(CpuKernels& t);    // gemm_small.cpp
void fill_conv_direct(CpuKernels& t);   // conv_direct.cpp
void fill_elementwise(CpuKernels& t);   // elementwise.cpp
void fill_optimizers(CpuKernels& t);    // optimizer_updates.cpp
void fill_pack_gather(CpuKernels& t);   // pack_gather.cpp
void fill_pooling(CpuKernels& t);       // pooling.cpp
void fill_winograd(CpuKernels& t);      // winograd.cpp

const CpuKernels& table() {
  static const CpuKernels kernels = [] {
    CpuKernels t{};
    t.name = KS_ISA_NAME;
    fill_gemm(t);
    fill_gemm_small(t);
    fill_conv_direct(t);
    fill_elementwise(t);
    fill_optimizers(t);
    fill_pack_gather(t);
    fill_pooling(t);
    fill_winograd(t);
    return t;
  }();
  return kernels;
}

}  // namespace kerasette::cpu::KS_ISA
