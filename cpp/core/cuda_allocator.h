// The CUDA device, its memory and the host staging buffers, behind plain C++ declarations (no CUDA
// headers here, so any engine file may include this). Everything is defined only in builds with
// KERASETTE_WITH_CUDA.
//
// Memory comes from a caching allocator: freed blocks go back to a free list of their size class
// (512 B, then powers of two up to 1 MiB, then multiples of 2 MiB) and are handed out again before
// cudaMalloc is asked, so a training loop whose buffers have the same sizes every step stops
// calling cudaMalloc after its first step. All work runs on one stream, so a block freed on the
// host can be reused at once: later kernels are ordered after the ones still reading it. When
// cudaMalloc fails the cache is released and the call retried once; then OutOfMemoryError
// ("CUDA out of memory: asked for X MiB, Y MiB free ...") is thrown.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

namespace kerasette::cuda {

// Devices visible to this process (CUDA_VISIBLE_DEVICES applies); 0 when there is no driver or no
// device. Never throws.
int device_count();
void set_current_device(int index);  // ValueError for an index out of range
int current_device();

struct DeviceInfo {
  std::string name;
  size_t total_bytes = 0, free_bytes = 0;
  int major = 0, minor = 0, multiprocessors = 0;
};
DeviceInfo device_info(int index);

void synchronize();  // waits for the engine's stream; throws on a pending kernel error

// Device memory of at least `bytes` from the caching allocator; freed back to it when the last
// reference goes.
std::shared_ptr<void> device_alloc(size_t bytes);
void empty_cache();        // returns cached free blocks to the driver
size_t cached_bytes();     // held in free lists
size_t allocated_bytes();  // handed out and not yet freed
size_t cuda_malloc_calls();  // how many times the allocator asked cudaMalloc (tests, benchmarks)

// Copies `bytes` between any two pointers (host or device, unified addressing). Copies with a
// host end are synchronous; device-to-device copies are ordered on the stream.
void copy(void* dst, const void* src, size_t bytes);
void memset_zero(void* dst, size_t bytes);  // stream-ordered
// Device to device, stream-ordered: `rows` rows of `width` bytes, dst rows dst_pitch bytes apart
// and src rows src_pitch apart (the blocks of a Concatenate).
void copy_rows(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
               size_t rows);

// A pinned host buffer for batches: fill it, then send it to the device asynchronously. get()
// waits for the previous send out of this buffer to finish before handing it out again.
class HostStaging {
 public:
  HostStaging() = default;
  HostStaging(const HostStaging&) = delete;
  HostStaging& operator=(const HostStaging&) = delete;
  ~HostStaging();
  float* get(size_t count);
  void send(float* device_dst, size_t count);  // cudaMemcpyAsync of get()'s first `count` floats

 private:
  float* host_ = nullptr;
  size_t capacity_ = 0;
  void* event_ = nullptr;  // cudaEvent_t
  bool pending_ = false;
};

}  // namespace kerasette::cuda
