// Tensor: a float32, contiguous, 64-byte aligned array with a shape and a device.
// Storage is shared (copies of a Tensor alias the same memory); a Tensor may also view memory
// owned elsewhere (a numpy array), kept alive through `owner`.
// A CUDA tensor (builds with KERASETTE_WITH_CUDA only) holds device memory from the caching
// allocator (core/cuda_allocator.h); data() is then a device pointer. fill, copy_from and clone
// work on either device; copy_to_host/copy_from_host move data across.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kerasette {

using Shape = std::vector<int64_t>;

enum class Device : int { CPU = 0, CUDA = 1 };

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "(2, 3)" as Python prints a tuple

constexpr size_t kTensorAlignment = 64;

// How many tensor buffers have been allocated so far (tests check that steady-state training
// steps allocate none).
int64_t tensor_allocation_count();

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, Device device = Device::CPU);  // uninitialized
  static Tensor zeros(Shape shape, Device device = Device::CPU);
  static Tensor full(Shape shape, float value, Device device = Device::CPU);
  // A view of external memory; `owner` keeps it alive (may be null when the caller guarantees it).
  static Tensor view(float* data, Shape shape, std::shared_ptr<void> owner,
                     Device device = Device::CPU);

  float* data() { return data_; }
  const float* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + ndim() : i]; }
  int64_t numel() const { return numel_; }
  Device device() const { return device_; }
  bool defined() const { return data_ != nullptr; }
  bool borrowed() const { return borrowed_; }

  // Changes the shape; reallocates only when the new size exceeds the capacity, so buffers reused
  // across steps stop allocating after the first step. A borrowed tensor (a view or a reshape of
  // another's memory) always gets storage of its own here, so it never writes through the alias.
  void resize(const Shape& shape);
  // The same, on `device`: storage on another device is replaced (contents not kept).
  void resize(const Shape& shape, Device device);
  // Same data, other shape (sizes must match); the result is borrowed.
  Tensor reshaped(const Shape& shape) const;
  void fill(float value);
  void copy_from(const Tensor& other);  // sizes must match; devices may differ
  Tensor clone() const;
  Tensor to(Device device) const;  // a copy on `device` (this tensor itself when already there)
  void copy_to_host(float* dst) const;        // numel() floats
  void copy_from_host(const float* src);      // numel() floats

 private:
  std::shared_ptr<void> storage_;
  float* data_ = nullptr;
  Shape shape_;
  int64_t numel_ = 0;
  int64_t capacity_ = 0;
  Device device_ = Device::CPU;
  bool borrowed_ = false;
};

}  // namespace kerasette
