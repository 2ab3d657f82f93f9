// Which CPU kernel table the engine uses: chosen once at start from CPUID (best supported ISA),
// overridable by the KERASETTE_ISA environment variable or set_cpu_isa() (tests use it to run
// every variant the processor supports).
#pragma once
#include <string>
#include <vector>

#include "kernels/cpu/kernels.h"

namespace kerasette {

const CpuKernels& cpu_kernels();
std::string cpu_isa();
std::vector<std::string> supported_cpu_isas();  // best last
void set_cpu_isa(const std::string& name);     // ValueError for unknown or unsupported names

}  // namespace kerasette
