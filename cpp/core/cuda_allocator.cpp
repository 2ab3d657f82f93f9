#include "core/cuda_allocator.h"

#ifdef KERASETTE_WITH_CUDA
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <vector>

#include "core/error.h"

namespace kerasette::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e));
  }
}

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

size_t size_class(size_t bytes) {
  if (bytes <= 512) return 512;
  if (bytes <= (size_t{1} << 20)) {
    size_t c = 512;
    while (c < bytes) c <<= 1;
    return c;
  }
  const size_t step = size_t{2} << 20;
  return (bytes + step - 1) / step * step;
}

class CachingAllocator {
 public:
  void* allocate(size_t bytes, size_t* cls_out) {
    const size_t cls = size_class(bytes);
    *cls_out = cls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= cls;
        allocated_ += cls;
        return p;
      }
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, cls);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_all();
      e = cudaMalloc(&p, cls);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      if (e == cudaErrorMemoryAllocation)
        throw OutOfMemoryError(str_cat("CUDA out of memory: asked for ", mib(bytes), " MiB, ",
                                       mib(free_b), " MiB free of ", mib(total_b),
                                       " MiB on the device (kerasette holds ", mib(allocated_),
                                       " MiB). Use a smaller batch_size or model."));
      check(e, "cudaMalloc");
    }
    std::lock_guard<std::mutex> lock(mu_);
    allocated_ += cls;
    ++malloc_calls_;
    return p;
  }
  void release(void* p, size_t cls) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[cls].push_back(p);
    cached_ += cls;
    allocated_ -= cls;
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mu_);
    cudaDeviceSynchronize();
    for (auto& kv : free_)
      for (void* p : kv.second) cudaFree(p);
    free_.clear();
    cached_ = 0;
  }
  size_t cached() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }
  size_t allocated() {
    std::lock_guard<std::mutex> lock(mu_);
    return allocated_;
  }
  size_t malloc_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return malloc_calls_;
  }

 private:
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0, allocated_ = 0, malloc_calls_ = 0;
};

// Never destroyed: tensors freed during interpreter shutdown still find it.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

}  // namespace

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

void set_current_device(int index) {
  const int n = device_count();
  KS_CHECK(index >= 0 && index < n, "CUDA device ", index, " does not exist: ", n,
           " device(s) visible");
  check(cudaSetDevice(index), "cudaSetDevice");
}

int current_device() {
  int d = 0;
  check(cudaGetDevice(&d), "cudaGetDevice");
  return d;
}

DeviceInfo device_info(int index) {
  const int n = device_count();
  KS_CHECK(index >= 0 && index < n, "CUDA device ", index, " does not exist: ", n,
           " device(s) visible");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.name = prop.name;
  info.total_bytes = prop.totalGlobalMem;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  int cur = 0;
  cudaGetDevice(&cur);
  if (cur == index) {
    size_t f = 0, t = 0;
    if (cudaMemGetInfo(&f, &t) == cudaSuccess) info.free_bytes = f;
    cudaGetLastError();
  }
  return info;
}

void synchronize() { check(cudaDeviceSynchronize(), "a kernel (cudaDeviceSynchronize)"); }

std::shared_ptr<void> device_alloc(size_t bytes) {
  size_t cls = 0;
  void* p = allocator().allocate(bytes, &cls);
  return std::shared_ptr<void>(p, [cls](void* q) { allocator().release(q, cls); });
}

void empty_cache() { allocator().release_all(); }
size_t cached_bytes() { return allocator().cached(); }
size_t allocated_bytes() { return allocator().allocated(); }
size_t cuda_malloc_calls() { return allocator().malloc_calls(); }

void copy(void* dst, const void* src, size_t bytes) {
  if (!bytes || dst == src) return;
  cudaPointerAttributes ad{}, as{};
  check(cudaPointerGetAttributes(&ad, dst), "cudaPointerGetAttributes");
  check(cudaPointerGetAttributes(&as, src), "cudaPointerGetAttributes");
  const bool dev_dst = ad.type == cudaMemoryTypeDevice, dev_src = as.type == cudaMemoryTypeDevice;
  if (dev_dst && dev_src)
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0), "cudaMemcpyAsync");
  else
    check(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy");
}

void copy_rows(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
               size_t rows) {
  if (!width || !rows) return;
  check(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, 0),
        "cudaMemcpy2DAsync");
}

void memset_zero(void* dst, size_t bytes) {
  if (bytes) check(cudaMemsetAsync(dst, 0, bytes, 0), "cudaMemsetAsync");
}

HostStaging::~HostStaging() {
  if (event_) {
    cudaEventSynchronize(static_cast<cudaEvent_t>(event_));
    cudaEventDestroy(static_cast<cudaEvent_t>(event_));
  }
  if (host_) cudaFreeHost(host_);
}

float* HostStaging::get(size_t count) {
  if (pending_) {
    check(cudaEventSynchronize(static_cast<cudaEvent_t>(event_)), "cudaEventSynchronize");
    pending_ = false;
  }
  if (count > capacity_) {
    if (host_) check(cudaFreeHost(host_), "cudaFreeHost");
    host_ = nullptr;
    capacity_ = 0;
    void* p = nullptr;
    check(cudaMallocHost(&p, count * sizeof(float)), "cudaMallocHost");
    host_ = static_cast<float*>(p);
    capacity_ = count;
  }
  if (!event_) {
    cudaEvent_t e;
    check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
    event_ = e;
  }
  return host_;
}

void HostStaging::send(float* device_dst, size_t count) {
  if (!count) return;
  check(cudaMemcpyAsync(device_dst, host_, count * sizeof(float), cudaMemcpyHostToDevice, 0),
        "cudaMemcpyAsync (batch)");
  check(cudaEventRecord(static_cast<cudaEvent_t>(event_), 0), "cudaEventRecord");
  pending_ = true;
}

}  // namespace kerasette::cuda
#endif  // KERASETTE_WITH_CUDA
