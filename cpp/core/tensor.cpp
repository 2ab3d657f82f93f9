#include "core/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"
#ifdef KERASETTE_WITH_CUDA
#include "core/cuda_allocator.h"
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace kerasette {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) {
  std::string out = "(";
  // A negative size is the batch placeholder (-1) that messages put in front: Python's None.
  for (size_t i = 0; i < s.size(); ++i)
    out += (i ? ", " : "") + (s[i] < 0 ? std::string("None") : std::to_string(s[i]));
  return out + (s.size() == 1 ? ",)" : ")");
}

static std::atomic<int64_t> g_allocations{0};

int64_t tensor_allocation_count() { return g_allocations.load(); }

static std::shared_ptr<void> allocate_aligned(int64_t count) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  size_t bytes = static_cast<size_t>(count > 0 ? count : 1) * sizeof(float);
  bytes = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, bytes);
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

static std::shared_ptr<void> allocate_on(Device device, int64_t count) {
  if (device == Device::CPU) return allocate_aligned(count);
#ifdef KERASETTE_WITH_CUDA
  return cuda::device_alloc(static_cast<size_t>(count > 0 ? count : 1) * sizeof(float));
#else
  fail("Tensor: this build has no CUDA device (build with -DKERASETTE_CUDA=ON)");
#endif
}

Tensor::Tensor(Shape shape, Device device) : shape_(std::move(shape)), device_(device) {
  for (int64_t d : shape_) KS_CHECK(d >= 0, "Tensor: negative dimension in shape ", shape_str(shape_));
  numel_ = shape_numel(shape_);
  storage_ = allocate_on(device, numel_);
  data_ = static_cast<float*>(storage_.get());
  capacity_ = numel_;
}

Tensor Tensor::zeros(Shape shape, Device device) {
  Tensor t(std::move(shape), device);
  t.fill(0.0f);
  return t;
}

Tensor Tensor::full(Shape shape, float value, Device device) {
  Tensor t(std::move(shape), device);
  t.fill(value);
  return t;
}

Tensor Tensor::view(float* data, Shape shape, std::shared_ptr<void> owner, Device device) {
  Tensor t;
  t.device_ = device;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_);
  t.capacity_ = t.numel_;
  t.data_ = data;
  t.storage_ = std::move(owner);
  t.borrowed_ = true;
  return t;
}

void Tensor::resize(const Shape& shape) {
  int64_t n = shape_numel(shape);
  if (n > capacity_ || !data_ || borrowed_) {
    storage_ = allocate_on(device_, n);
    data_ = static_cast<float*>(storage_.get());
    capacity_ = n;
    borrowed_ = false;
  }
  shape_ = shape;
  numel_ = n;
}

void Tensor::resize(const Shape& shape, Device device) {
  if (device != device_) {
    storage_.reset();
    data_ = nullptr;
    capacity_ = 0;
    device_ = device;
  }
  resize(shape);
}

Tensor Tensor::reshaped(const Shape& shape) const {
  KS_CHECK(shape_numel(shape) == numel_, "reshape: cannot view ", shape_str(shape_), " as ",
           shape_str(shape));
  Tensor t = *this;
  t.shape_ = shape;
  t.borrowed_ = true;
  return t;
}

void Tensor::fill(float value) {
#ifdef KERASETTE_WITH_CUDA
  if (device_ == Device::CUDA) return cuda::fill(data_, numel_, value);
#endif
  for (int64_t i = 0; i < numel_; ++i) data_[i] = value;
}

void Tensor::copy_from(const Tensor& other) {
  KS_CHECK(other.numel_ == numel_, "copy: size mismatch ", shape_str(shape_), " vs ",
           shape_str(other.shape_));
#ifdef KERASETTE_WITH_CUDA
  if (device_ == Device::CUDA || other.device_ == Device::CUDA)
    return cuda::copy(data_, other.data_, sizeof(float) * numel_);
#endif
  if (numel_) std::memcpy(data_, other.data_, sizeof(float) * numel_);
}

Tensor Tensor::clone() const {
  Tensor t(shape_, device_);
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor t(shape_, device);
  t.copy_from(*this);
  return t;
}

void Tensor::copy_to_host(float* dst) const {
#ifdef KERASETTE_WITH_CUDA
  if (device_ == Device::CUDA) return cuda::copy(dst, data_, sizeof(float) * numel_);
#endif
  if (numel_) std::memcpy(dst, data_, sizeof(float) * numel_);
}

void Tensor::copy_from_host(const float* src) {
#ifdef KERASETTE_WITH_CUDA
  if (device_ == Device::CUDA) return cuda::copy(data_, src, sizeof(float) * numel_);
#endif
  if (numel_) std::memcpy(data_, src, sizeof(float) * numel_);
}

}  // namespace kerasette
