#include "ops/dispatch.h"

#include <atomic>
#include <cstdlib>

#include "core/cpu_features.h"
#include "core/error.h"

namespace kerasette {

static const CpuKernels* table_for(const std::string& name) {
  const CpuFeatures& f = cpu_features();
  if (name == "generic") return &cpu::generic::table();
#if defined(KS_HAVE_AVX2)
  if (name == "avx2" && f.avx2_fma) return &cpu::avx2::table();
#endif
#if defined(KS_HAVE_AVX512)
  if (name == "avx512" && f.avx512) return &cpu::avx512::table();
#endif
  (void)f;
  return nullptr;
}

std::vector<std::string> supported_cpu_isas() {
  std::vector<std::string> out;
  for (const char* name : {"generic", "avx2", "avx512"})
    if (table_for(name)) out.push_back(name);
  return out;
}

static std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

static const CpuKernels* initial_table() {
  if (const char* env = std::getenv("KERASETTE_ISA"); env && *env) {
    if (const CpuKernels* t = table_for(env)) return t;
    // An impossible request should not crash an import; fall through to the best supported.
  }
  return table_for(supported_cpu_isas().back());
}

static std::atomic<const CpuKernels*> g_table{nullptr};

const CpuKernels& cpu_kernels() {
  const CpuKernels* t = g_table.load(std::memory_order_acquire);
  if (!t) {
    t = initial_table();
    g_table.store(t, std::memory_order_release);
  }
  return *t;
}

std::string cpu_isa() { return cpu_kernels().name; }

void set_cpu_isa(const std::string& name) {
  const CpuKernels* t = table_for(name);
  KS_CHECK(t, "Unknown or unsupported CPU ISA '", name, "'. This processor supports: ",
           join(supported_cpu_isas()), ".");
  g_table.store(t, std::memory_order_release);
}

}  // namespace kerasette
